/**
 * Consume throughput from one pre-filled partition of the real broker, the loop a user writes:
 * `send(Fetch)` from the next offset, decode the partition's records, count the record values,
 * repeat until `--records` records were read. 1 MiB per partition and 50 MiB per response
 * (librdkafka's `fetch.message.max.bytes` and `fetch.max.bytes` defaults). Prints one JSON
 * line with MB/s of record values and client CPU time per record (process CPU, user + system,
 * from the first reply to the last).
 *
 * - `--decode records` (default) decodes with `decodeRecordBatches` (a record object with a
 *   bigint offset, key, value, timestamp and headers each); `--decode values` with
 *   `decodeRecordValues` (values and offset deltas only).
 * - `--check-crc false` turns the CRC-32C check off (it is on by default).
 * - `--pipeline true` keeps the next Fetch in flight while the records of the last one are
 *   decoded, as librdkafka does: the next offset is read from the batch headers (base offset
 *   and last offset delta of the last complete batch) before decoding anything.
 *
 * Usage: `deno run -A bench/consume.ts --host H --port P --topic T --records N
 * [--decode records|values] [--check-crc true|false] [--pipeline true|false]`
 * (or the same with `bun`). Fill the topic first with `bench/fill_topic.ts`.
 *
 * @module
 */

import process from "node:process";
import { BrokerConnection } from "../broker/connection.ts";
import { Fetch, type FetchResponse } from "../protocol/fetch.ts";
import { decodeRecordBatches, decodeRecordValues } from "../protocol/record_batch.ts";
import { connectorFor, runtime, topicId } from "./lib/runtime.ts";
import { parseArgs, round } from "./lib/latency.mjs";

const a = parseArgs(process.argv.slice(2));
const topic = a.topic ?? "bench-consume";
const want = Number(a.records ?? 1_000_000);
const decode = a.decode ?? "records";
const checkCrc = (a["check-crc"] ?? "true") !== "false";
const pipeline = (a.pipeline ?? "false") === "true";
if (decode !== "records" && decode !== "values") throw new Error("--decode records|values");

const broker = new BrokerConnection({
  host: a.host ?? "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench-consume",
});

const id = await topicId(broker, topic);
const options = { checkCrc };

function fetch(from: bigint): Promise<FetchResponse> {
  return broker.send(Fetch, {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    topics: [{
      topic,
      topicId: id,
      partitions: [{ partition: 0, fetchOffset: from, partitionMaxBytes: 1_048_576 }],
    }],
  });
}

/** The offset after the last complete batch in `bytes`, from the batch headers alone. */
function nextOffset(bytes: Uint8Array, from: bigint): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let next = from;
  for (let at = 0; at + 61 <= bytes.length;) {
    const end = at + 12 + view.getInt32(at + 8);
    if (end > bytes.length) break;
    next = view.getBigInt64(at) + BigInt(view.getInt32(at + 23)) + 1n;
    at = end;
  }
  return next;
}

let offset = 0n;
let records = 0;
let bytes = 0;
let fetches = 0;
let t0 = 0;
let cpu0 = process.cpuUsage();
const deadline = performance.now() + Number(a.timeout ?? 120) * 1000;
let pending = fetch(offset);
while (records < want && performance.now() < deadline) {
  const res = await pending;
  if (fetches++ === 0) {
    t0 = performance.now();
    cpu0 = process.cpuUsage();
  }
  const part = res.responses[0].partitions[0];
  if (part.errorCode !== 0) throw new Error(`Fetch ${topic}-0 failed with code ${part.errorCode}`);
  const data = part.records ?? new Uint8Array(0);
  const from = offset;
  offset = nextOffset(data, offset);
  if (pipeline) pending = fetch(offset);
  if (decode === "values") {
    for (const batch of decodeRecordValues(data, options)) {
      // A batch fetched again from its middle: skip the records before `from`.
      const skip = Number(from - batch.baseOffset);
      const deltas = batch.offsetDeltas;
      const values = batch.values;
      for (let i = 0; i < values.length; i++) {
        if (deltas[i] < skip) continue;
        records++;
        bytes += values[i]?.length ?? 0;
      }
    }
  } else {
    for (const batch of decodeRecordBatches(data, options)) {
      for (const r of batch.records) {
        if (r.offset < from) continue;
        records++;
        bytes += r.value?.length ?? 0;
      }
    }
  }
  if (!pipeline) pending = fetch(offset);
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// The fetch still in flight is answered before the connection closes.
await pending.catch(() => {});
await broker.close();
if (records < want) throw new Error(`only ${records} of ${want} records before the timeout`);
console.log(JSON.stringify({
  client: "ours",
  runtime,
  topic,
  decode,
  checkCrcs: checkCrc,
  pipeline,
  records,
  fetches,
  seconds: round(seconds),
  recordsPerSec: Math.round(records / seconds),
  mbPerSec: round(bytes / seconds / 1e6),
  cpuUsPerRecord: Math.round((cpu.user + cpu.system) / records * 100) / 100,
}));
