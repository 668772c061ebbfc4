/**
 * Consume throughput from one pre-filled partition of the real broker, the plain loop a user
 * writes today: `send(Fetch)` from the next offset, `decodeRecordBatches` on the partition's
 * records, count the record values, repeat until `--records` records were read. One Fetch in
 * flight (no prefetch), 1 MiB per partition and 50 MiB per response (librdkafka's
 * `fetch.message.max.bytes` and `fetch.max.bytes` defaults), CRC-32C checked on every batch.
 * Prints one JSON line with MB/s of record values and client CPU time per record (process CPU,
 * user + system, from the first reply to the last).
 *
 * Usage: `deno run -A bench/consume.ts --host H --port P --topic T --records N`
 * (or the same with `bun`). Fill the topic first with `bench/fill_topic.ts`.
 *
 * @module
 */

import process from "node:process";
import { BrokerConnection } from "../broker/connection.ts";
import { Fetch } from "../protocol/fetch.ts";
import { decodeRecordBatches } from "../protocol/record_batch.ts";
import { connectorFor, runtime, topicId } from "./lib/runtime.ts";
import { parseArgs, round } from "./lib/latency.mjs";

const a = parseArgs(process.argv.slice(2));
const topic = a.topic ?? "bench-consume";
const want = Number(a.records ?? 1_000_000);

const broker = new BrokerConnection({
  host: a.host ?? "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench-consume",
});

const id = await topicId(broker, topic);
let offset = 0n;
let records = 0;
let bytes = 0;
let fetches = 0;
let t0 = 0;
let cpu0 = process.cpuUsage();
const deadline = performance.now() + Number(a.timeout ?? 120) * 1000;
while (records < want && performance.now() < deadline) {
  const res = await broker.send(Fetch, {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    topics: [{
      topic,
      topicId: id,
      partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1_048_576 }],
    }],
  });
  if (fetches++ === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  const part = res.responses[0].partitions[0];
  if (part.errorCode !== 0) throw new Error(`Fetch ${topic}-0 failed with code ${part.errorCode}`);
  if (!part.records) continue;
  for (const batch of decodeRecordBatches(part.records)) {
    for (const r of batch.records) {
      if (r.offset < offset) continue; // a batch fetched again from its middle
      records++;
      bytes += r.value?.length ?? 0;
    }
    offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
  }
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await broker.close();
if (records < want) throw new Error(`only ${records} of ${want} records before the timeout`);
console.log(JSON.stringify({
  client: "ours",
  runtime,
  checkCrcs: true,
  records,
  fetches,
  seconds: round(seconds),
  recordsPerSec: Math.round(records / seconds),
  mbPerSec: round(bytes / seconds / 1e6),
  cpuUsPerRecord: round((cpu.user + cpu.system) / records * 100) / 100,
}));
