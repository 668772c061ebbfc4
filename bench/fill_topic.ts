/**
 * Fills one partition of the real broker for the consume benchmark: `--records` records of
 * 1 KiB JSON-like values (so that compressing topics have something realistic to work on), in
 * batches of 500, 5 requests in flight, acks=1. Creates the topic first with the given
 * `--compression` (the topic's `compression.type`: the broker recompresses uncompressed
 * batches itself). Does nothing when the partition already holds enough records.
 *
 * Usage: `deno run -A bench/fill_topic.ts --host H --port P --topic T --records N
 * [--compression none|gzip|snappy|lz4|zstd]`
 *
 * @module
 */

import process from "node:process";
import { BrokerConnection } from "../broker/connection.ts";
import { Produce } from "../protocol/produce.ts";
import { encodeRecordBatch, type RecordInput } from "../protocol/record_batch.ts";
import { connectorFor, ensureTopic, highWatermark, topicId } from "./lib/runtime.ts";
import { parseArgs } from "./lib/latency.mjs";

const a = parseArgs(process.argv.slice(2));
const topic = a.topic ?? "bench-consume";
const want = Number(a.records ?? 1_000_000);
const PER_BATCH = 500;
const INFLIGHT = 5;

const broker = new BrokerConnection({
  host: a.host ?? "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench-fill",
  maxInFlight: INFLIGHT,
});
// A topic of "producer" keeps what the producer sent (uncompressed here).
const compression = a.compression ?? "none";
await ensureTopic(broker, topic, 1, {
  "compression.type": compression === "none" ? "producer" : compression,
});
const have = await highWatermark(broker, topic, await topicId(broker, topic));

/** A 1 KiB JSON-like record: field names repeat, values vary, as in real event streams. */
function jsonRecord(i: number): Uint8Array {
  const head = `{"id":${i},"user":"user-${i % 977}","event":"page_view","path":"/items/${
    i % 5003
  }","ts":${1_700_000_000_000 + i},"tags":["a","b","c"],"payload":"`;
  const pad = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(32);
  return new TextEncoder().encode((head + pad).slice(0, 1022) + '"}');
}

let sent = Number(have);
const started = performance.now();
async function worker(): Promise<void> {
  while (sent < want) {
    const from = sent;
    const n = Math.min(PER_BATCH, want - from);
    sent += n;
    const records: RecordInput[] = Array.from({ length: n }, (_, k) => ({
      value: jsonRecord(from + k),
    }));
    const res = await broker.send(Produce, {
      acks: 1,
      timeoutMs: 30_000,
      topicData: [{
        name: topic,
        partitionData: [{
          index: 0,
          records: encodeRecordBatch({ timestamp: Date.now(), records }),
        }],
      }],
    });
    const code = res.responses[0].partitionResponses[0].errorCode;
    if (code !== 0) throw new Error(`Produce to ${topic} failed with code ${code}`);
  }
}
await Promise.all(Array.from({ length: INFLIGHT }, worker));
await broker.close();
console.log(JSON.stringify({
  topic,
  compression,
  records: want,
  added: Math.max(0, want - Number(have)),
  seconds: Math.round(performance.now() - started) / 1000,
}));
