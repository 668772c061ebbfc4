// kafkajs's consumer against the real broker, the same workload as bench/consume.ts: reads
// partition 0 of a pre-filled topic from the beginning until --records records arrived
// (eachBatch, counting values; a fresh consumer group per run, since kafkajs consumes only
// through a group). 1 MiB per partition (maxBytesPerPartition), kafkajs's defaults otherwise.
// Prints MB/s of record values and client CPU per record from the first batch to the last.
// kafkajs has gzip built in and no lz4 or zstd: its plugins for those (kafkajs-lz4,
// @kafkajs/zstd) wrap native addons, so here the pure-JS decoders lz4js and fzstd are plugged
// in through kafkajs's CompressionCodecs, decompress only (nothing is produced here).
// Usage: node bench/kafkajs_consume.mjs --host H --port P --topic T --records N
import { createRequire } from "node:module";
import { parseArgs, round } from "./lib/latency.mjs";

const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionCodecs, CompressionTypes } = require("kafkajs");
const lz4js = require("lz4js");
const fzstd = require("fzstd");

/** A kafkajs codec that only decompresses, with `decompress` from a pure-JS package. */
const decompressOnly = (name, decompress) => () => ({
  compress: () => Promise.reject(new Error(`${name}: this benchmark only consumes`)),
  decompress: (buffer) => Promise.resolve(Buffer.from(decompress(buffer))),
});
CompressionCodecs[CompressionTypes.LZ4] = decompressOnly("lz4", (b) => lz4js.decompress(b));
CompressionCodecs[CompressionTypes.ZSTD] = decompressOnly("zstd", (b) => fzstd.decompress(b));

const a = parseArgs(process.argv.slice(2));
const topic = a.topic ?? "bench-consume";
const want = Number(a.records ?? 1_000_000);
const kafka = new Kafka({
  clientId: "bench-consume-kafkajs",
  brokers: [`${a.host ?? "127.0.0.1"}:${a.port}`],
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({
  groupId: `bench-consume-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  maxBytesPerPartition: 1_048_576,
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let records = 0;
let bytes = 0;
let t0 = 0;
let cpu0 = process.cpuUsage();
let finish;
const finished = new Promise((resolve) => (finish = resolve));
const timer = setTimeout(() => finish(), Number(a.timeout ?? 120) * 1000);
await consumer.run({
  autoCommit: false,
  eachBatch: ({ batch }) => {
    if (t0 === 0) {
      t0 = performance.now();
      cpu0 = process.cpuUsage();
    }
    for (const m of batch.messages) {
      records++;
      bytes += m.value?.length ?? 0;
    }
    if (records >= want) finish();
    return Promise.resolve();
  },
});
await finished;
clearTimeout(timer);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await consumer.disconnect();
if (records < want) {
  console.error(`only ${records} of ${want} records before the timeout`);
  process.exit(1);
}
console.log(JSON.stringify({
  client: "kafkajs",
  runtime: a.runtime ?? "node",
  topic,
  decode: "eachBatch",
  checkCrcs: false,
  records,
  seconds: round(seconds),
  recordsPerSec: Math.round(records / seconds),
  mbPerSec: round(bytes / seconds / 1e6),
  cpuUsPerRecord: Math.round(((cpu.user + cpu.system) / records) * 100) / 100,
}));
