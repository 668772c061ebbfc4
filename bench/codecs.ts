/**
 * Codec speed: compress and decompress MB/s (of uncompressed bytes) of each codec written
 * here against the pure-JS packages other Kafka clients use (snappyjs, lz4js, fflate, fzstd),
 * on the same data, side by side in one process; for gzip also `node:zlib`, which a user can
 * plug in as a codec on the runtimes that have it. The data is a record batch's records
 * section: JSON-like records of 1 KiB each, 128 of them (128 KiB), and 1 024 of them (1 MiB).
 *
 * Run on each runtime:
 *   deno run -A bench/codecs.ts
 *   bun bench/codecs.ts
 *   node bench/codecs.ts        (Node 24, which strips the types)
 * Prints a Markdown table; `ROUNDS` (default 5), `MS_PER_ROUND` (default 150) and `WARMUP_MS`
 * (default 500) tune it.
 * The figure is the median round.
 *
 * @module
 */

import { compress as wasmZstdCompress, init as initWasmZstd } from "@bokuweb/zstd-wasm";
import { gunzipSync, gzipSync } from "fflate";
import { decompress as fzstdDecompress } from "fzstd";
import lz4js from "lz4js";
import snappyjs from "snappyjs";
import process from "node:process";
import { gunzipSync as zlibGunzip, gzipSync as zlibGzip } from "node:zlib";
import { gzipCodec } from "../protocol/compression/gzip.ts";
import { lz4Codec } from "../protocol/compression/lz4.ts";
import { snappyCodec } from "../protocol/compression/snappy.ts";
import { zstdDecompress } from "../protocol/compression/zstd_decompress.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MS_PER_ROUND = Number(process.env.MS_PER_ROUND ?? 150);
/** CPU ms each function runs before measuring: JavaScriptCore's top tier needs about this. */
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500);

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Deno
  ? `Deno ${g.Deno.version.deno}`
  : g.Bun
  ? `Bun ${g.Bun.version}`
  : `Node ${process.versions.node}`;

const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
];
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"];

/**
 * JSON-like records of 1 KiB, as a producer would batch them: repeated field names and a
 * small vocabulary, with ids, timestamps and hashes that differ per record.
 */
function records(count: number): Uint8Array {
  const enc = new TextEncoder();
  const out = new Uint8Array(count * 1024);
  let x = 12345;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  for (let i = 0; i < count; i++) {
    const fields: Record<string, unknown> = {
      id: 1_000_000 + i,
      ts: 1_700_000_000_000 + i * 13 + (rnd() % 13),
      user: {
        id: rnd() % 100_000,
        name: `${WORDS[rnd() % 9]}-${rnd() % 5000}`,
        country: ["DE", "FR", "US", "JP"][rnd() % 4],
      },
      event: ["click", "view", "purchase", "scroll", "search"][rnd() % 5],
      path: `/catalog/${WORDS[rnd() % 9]}/item/${rnd() % 10_000}`,
      agent: AGENTS[rnd() % 3],
      session: rnd().toString(16).padStart(8, "0") + rnd().toString(16).padStart(8, "0"),
      price: (rnd() % 100_000) / 100,
      tags: WORDS.slice(rnd() % 5, 5 + (rnd() % 4)),
    };
    for (let k = 0; JSON.stringify(fields).length < 1024; k++) {
      fields[`attr_${WORDS[k % 9]}_${k}`] = k % 3 === 0 ? WORDS[rnd() % 9] : rnd() % 10_000;
    }
    out.set(enc.encode(JSON.stringify(fields).slice(0, 1024)), i * 1024);
  }
  return out;
}

/** Process CPU time in ms (user + system), which other processes on the machine do not inflate. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * MB/s of `bytes` per call for each function, by process CPU time: rounds of about
 * MS_PER_ROUND each, the functions taking turns round by round; the median round of each.
 */
async function measure(bytes: number, fns: (() => unknown)[]): Promise<number[]> {
  // Warm up, so the JIT has compiled the hot loops.
  for (const fn of fns) {
    const warm = cpuMs();
    while (cpuMs() - warm < WARMUP_MS) await fn();
  }
  const rates: number[][] = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let f = 0; f < fns.length; f++) {
      const fn = fns[f];
      let n = 0;
      const start = cpuMs();
      let elapsed = 0;
      do {
        await fn();
        n++;
        elapsed = cpuMs() - start;
      } while (elapsed < MS_PER_ROUND);
      rates[f].push((bytes * n) / (elapsed / 1000) / 1e6);
    }
  }
  return rates.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
    throw new Error(`${what}: round trip differs`);
  }
}

interface Impl {
  name: string;
  compress: (d: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  decompress: (c: Uint8Array, size: number) => Uint8Array | Promise<Uint8Array>;
}

await initWasmZstd();
const gzip = gzipCodec();
const snappy = snappyCodec({ framing: "raw" });
const lz4 = lz4Codec();

const groups: [string, Impl[]][] = [
  ["gzip", [
    { name: "ours (CompressionStream)", compress: gzip.compress, decompress: gzip.decompress },
    { name: "fflate", compress: (d) => gzipSync(d), decompress: (c) => gunzipSync(c) },
    {
      // What a user can plug in as a Codec where node:zlib exists (Node, Deno, Bun; not Workers).
      name: "node:zlib sync (as a plugged-in Codec)",
      compress: (d) => zlibGzip(d),
      decompress: (c) => zlibGunzip(c),
    },
  ]],
  ["snappy", [
    { name: "ours", compress: snappy.compress, decompress: snappy.decompress },
    {
      name: "snappyjs",
      compress: (d) => snappyjs.compress(d),
      decompress: (c) => snappyjs.uncompress(c),
    },
  ]],
  ["lz4", [
    { name: "ours", compress: lz4.compress, decompress: lz4.decompress },
    {
      name: "lz4js",
      compress: (d) => lz4js.compress(d),
      decompress: (c) => lz4js.decompress(c),
    },
  ]],
  ["zstd", [
    {
      name: "ours (decoder; level 3 wasm encoder)",
      compress: (d) => wasmZstdCompress(d, 3),
      decompress: (c, size) => zstdDecompress(c, size),
    },
    {
      name: "fzstd (decoder only)",
      compress: (d) => wasmZstdCompress(d, 3),
      decompress: (c) => fzstdDecompress(c),
    },
  ]],
];

console.log(
  `\n${runtime}, MB/s of uncompressed bytes per CPU second (median of ${ROUNDS} rounds)\n`,
);
console.log("| codec | data | implementation | ratio | compress MB/s | decompress MB/s |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const count of [128, 1024]) {
  const data = records(count);
  const label = count === 128 ? "128 KiB" : "1 MiB";
  for (const [codec, impls] of groups) {
    const packed = await Promise.all(impls.map((impl) => impl.compress(data)));
    for (let i = 0; i < impls.length; i++) {
      same(await impls[i].decompress(packed[i], data.length), data, `${codec} ${impls[i].name}`);
    }
    const c = codec === "zstd"
      ? impls.map(() => NaN)
      : await measure(data.length, impls.map((impl) => () => impl.compress(data)));
    const d = await measure(
      data.length,
      impls.map((impl, i) => () => impl.decompress(packed[i], data.length)),
    );
    impls.forEach((impl, i) => {
      const ratio = (data.length / packed[i].length).toFixed(2);
      const cText = Number.isNaN(c[i]) ? "(wasm)" : c[i].toFixed(0);
      console.log(
        `| ${codec} | ${label} | ${impl.name} | ${ratio} | ${cText} | ${d[i].toFixed(0)} |`,
      );
    });
  }
}
