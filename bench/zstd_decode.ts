/**
 * Decompression speed of the zstd decoder against fzstd (the pure-JS decoder peers use), side
 * by side on the same frames in one process: the two alternate round by round and the median
 * round counts. Rounds are timed in process CPU time (user + system), so other processes on a
 * shared machine do not count; MB/s is of decompressed bytes per CPU second, and µs/record the
 * CPU time per 1 KiB record.
 *
 * Run: `bash bench/zstd.sh` (makes the input with the zstd CLI, then runs this on Deno and
 * Bun): `deno run -A bench/zstd_decode.ts DIR` or `bun bench/zstd_decode.ts DIR`.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { cpuUsage } from "node:process";
import { decompress as fzstd } from "fzstd";
import { zstdDecompress } from "../protocol/compression/zstd_decompress.ts";

const CASES =
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.ZSTD_CASES
    ?.split(",") ??
    ["16k-l3", "64k-l3", "256k-l3", "1m-l1", "1m-l3", "1m-l19", "1m-l3-checksum", "16m-l3"];
const ROUNDS = 15;
const LIMIT = 64 << 20;

function frames(path: string): Uint8Array[] {
  const all = new Uint8Array(readFileSync(path));
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at < all.length;) {
    const n = view.getUint32(at, true);
    out.push(all.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const dir = (globalThis as { process?: { argv: string[] } }).process?.argv.at(-1) ?? ".";
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
console.log(`# ${runtime}`);
console.log(
  "case\tframes\tin_bytes\tout_bytes\tours_MBps\tfzstd_MBps\tratio\tours_us_per_record\t" +
    "fzstd_us_per_record",
);
for (const name of CASES) {
  const input = frames(`${dir}/${name}.bin`);
  const inBytes = input.reduce((n, f) => n + f.length, 0);
  let outBytes = 0;
  for (const f of input) {
    const a = zstdDecompress(f, LIMIT);
    const b = fzstd(f);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      throw new Error(`${name}: the decoders disagree`);
    }
    outBytes += a.length;
  }
  const decoders = [
    (f: Uint8Array) => zstdDecompress(f, LIMIT),
    (f: Uint8Array) => fzstd(f),
  ];
  const times: number[][] = [[], []];
  // Each round decodes at least 16 MiB so short frames are timed over many calls.
  const repeat = Math.max(1, Math.ceil((16 << 20) / outBytes));
  for (let round = 0; round < ROUNDS + 2; round++) {
    for (let d = 0; d < 2; d++) {
      const decode = decoders[(d + round) & 1];
      const start = cpuUsage();
      for (let r = 0; r < repeat; r++) for (const f of input) decode(f);
      const used = cpuUsage(start);
      // The first two rounds warm up the JIT.
      if (round >= 2) times[(d + round) & 1].push((used.user + used.system) / 1000);
    }
  }
  const mbps = times.map((t) => (outBytes * repeat) / (median(t) * 1000));
  const usPerRecord = times.map((t) => (median(t) * 1000) / ((outBytes * repeat) / 1024));
  console.log(
    [name, input.length, inBytes, outBytes, mbps[0].toFixed(0), mbps[1].toFixed(0)].join("\t") +
      `\t${(mbps[0] / mbps[1]).toFixed(2)}\t${usPerRecord[0].toFixed(2)}\t` +
      usPerRecord[1].toFixed(2),
  );
}
