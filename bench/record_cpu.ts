/**
 * CPU cost per 1 KiB record of the record batch code alone, without a socket: decoding 1 MiB of
 * fetched batches (500 records each, as bench/fill_topic.ts writes them) with
 * `decodeRecordBatches` and `decodeRecordValues`, CRC-32C on and off; the CRC alone; encoding a
 * produce batch of 100 records uncompressed and with lz4 (constant values, as bench/produce.ts
 * sends them); and the lz4 compressor alone on JSON-like records. Process CPU time (user +
 * system) per record, the median of 5 timed rounds after a warm-up; one JSON line per figure.
 *
 * Usage: `deno run -A bench/record_cpu.ts` or `bun bench/record_cpu.ts`.
 *
 * @module
 */

import process from "node:process";
import { lz4Codec } from "../protocol/compression/lz4.ts";
import { crc32c } from "../protocol/crc32c.ts";
import {
  decodeRecordBatches,
  decodeRecordValues,
  encodeRecordBatch,
  type RecordInput,
} from "../protocol/record_batch.ts";
import { runtime } from "./lib/runtime.ts";

const utf8 = new TextEncoder();
const pad = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(32);
/** A 1 KiB JSON-like value, as bench/fill_topic.ts writes. */
function jsonValue(i: number): Uint8Array {
  const head = `{"id":${i},"user":"user-${i % 977}","event":"page_view","path":"/items/${
    i % 5003
  }","ts":${1_700_000_000_000 + i},"tags":["a","b","c"],"payload":"`;
  return utf8.encode((head + pad).slice(0, 1022) + '"}');
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const fetched = concat([0, 500].map((base) =>
  encodeRecordBatch({
    timestamp: 1_700_000_000_000,
    baseOffset: BigInt(base),
    records: Array.from({ length: 500 }, (_, k) => ({ value: jsonValue(base + k) })),
  })
));
const flat = new Uint8Array(1024).fill(120);
const produced: RecordInput[] = Array.from({ length: 100 }, () => ({ value: flat }));
const lz4 = lz4Codec();
const json100 = concat(Array.from({ length: 100 }, (_, i) => jsonValue(i)));
const plainBatch = encodeRecordBatch({ timestamp: 1, records: produced });

let sink = 0;
/** Times `f` (which handles `records` records a call) and prints CPU ns per record. */
function measure(name: string, records: number, f: () => number): void {
  const calls = Math.max(20, Math.round(2_000_000 / records / 20));
  for (let i = 0; i < calls; i++) sink += f();
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) sink += f();
    const cpu = process.cpuUsage(cpu0);
    rounds.push((cpu.user + cpu.system) * 1000 / (calls * records));
  }
  rounds.sort((a, b) => a - b);
  console.log(JSON.stringify({
    runtime,
    name,
    cpuNsPerRecord: Math.round(rounds[2]),
    range: [Math.round(rounds[0]), Math.round(rounds[4])],
  }));
}

const noCrc = { checkCrc: false };
measure("decodeRecordBatches, CRC on", 1000, () => decodeRecordBatches(fetched).length);
measure("decodeRecordBatches, CRC off", 1000, () => decodeRecordBatches(fetched, noCrc).length);
measure("decodeRecordValues, CRC on", 1000, () => decodeRecordValues(fetched).length);
measure("decodeRecordValues, CRC off", 1000, () => decodeRecordValues(fetched, noCrc).length);
measure("CRC-32C alone", 1000, () => crc32c(fetched, 0, fetched.length));
measure("encodeRecordBatch, uncompressed", 100, () => {
  return encodeRecordBatch({ timestamp: 1, records: produced }).length;
});
measure("encodeRecordBatch, lz4", 100, () => {
  return encodeRecordBatch({ timestamp: 1, records: produced }, { compression: lz4 }).length;
});
measure("lz4 compress alone, constant values", 100, () => {
  return (lz4.compress(plainBatch.subarray(61)) as Uint8Array).length;
});
measure("lz4 compress alone, JSON-like values", 100, () => {
  return (lz4.compress(json100) as Uint8Array).length;
});
if (sink === 0) throw new Error("nothing measured");
