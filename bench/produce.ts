/**
 * Produce throughput against the real broker with our connection: topic `bench-produce`
 * (1 partition, created with CreateTopics through the same connection), batches of 100 records
 * of 1 KiB, acks=1, 5 requests in flight, each batch encoded (and compressed, with
 * `--compression lz4` or `snappy`) per request: the client's real work. Reports MB/s of record
 * values, the per-request latency and client CPU time per record (process CPU / records).
 *
 * Usage: `deno run -A bench/produce.ts --host H --port P [--seconds S]
 * [--compression none|lz4|snappy]`, or the same with `bun` or `node`.
 *
 * @module
 */

import { BrokerConnection } from "../broker/connection.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { Produce, type ProduceRequest } from "../protocol/produce.ts";
import type { Codec } from "../protocol/compression/codec.ts";
import { lz4Codec } from "../protocol/compression/lz4.ts";
import { snappyCodec } from "../protocol/compression/snappy.ts";
import { encodeRecordBatch, type RecordInput } from "../protocol/record_batch.ts";
import type { Connector } from "../transport/conn.ts";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const a = parseArgs(g.Deno ? g.Deno.args : g.process.argv.slice(2));
const TOPIC = a.topic ?? "bench-produce";
const RECORDS_PER_BATCH = 100;
const RECORD_BYTES = 1024;
const INFLIGHT = 5;
const COMPRESSION = a.compression ?? "none";
const CODECS: Record<string, Codec | undefined> = {
  none: undefined,
  lz4: lz4Codec(),
  snappy: snappyCodec(),
};
if (!(COMPRESSION in CODECS)) throw new Error("--compression none|lz4|snappy");
const encodeOptions = { compression: CODECS[COMPRESSION] };

async function connectorFor(): Promise<Connector> {
  if (runtime === "bun") return (await import("../transport/bun.ts")).bunConnector;
  if (runtime === "node") return (await import("../transport/node.ts")).nodeConnector;
  return (await import("../transport/deno.ts")).denoConnector;
}

const broker = new BrokerConnection({
  host: a.host ?? "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench-produce",
  maxInFlight: INFLIGHT,
});
const created = await broker.send(CreateTopics, {
  topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1 }],
  timeoutMs: 15_000,
});
const createError = created.topics[0]?.errorCode ?? 0;
// 36 TOPIC_ALREADY_EXISTS: a previous run made it.
if (createError !== 0 && createError !== 36) {
  throw new Error(`CreateTopics ${TOPIC} failed with error code ${createError}`);
}

const value = new Uint8Array(RECORD_BYTES).fill(120);
const records: RecordInput[] = Array.from({ length: RECORDS_PER_BATCH }, () => ({ value }));

function produceRequest(): ProduceRequest {
  return {
    acks: 1,
    timeoutMs: 30_000,
    topicData: [{
      name: TOPIC,
      partitionData: [{
        index: 0,
        records: encodeRecordBatch({ timestamp: Date.now(), records }, encodeOptions),
      }],
    }],
  };
}

let errors = 0;
async function produceOnce(): Promise<void> {
  const res = await broker.send(Produce, produceRequest());
  if (res.responses[0].partitionResponses[0].errorCode !== 0) errors++;
}

// A new topic's leader takes a moment to be known: wait until a produce succeeds.
for (let attempt = 0;; attempt++) {
  const res = await broker.send(Produce, produceRequest());
  const code = res.responses[0].partitionResponses[0].errorCode;
  if (code === 0) break;
  if (attempt === 100) throw new Error(`Produce to ${TOPIC} keeps failing with code ${code}`);
  await new Promise((r) => setTimeout(r, 100));
}

const result = await closedLoop({
  send: produceOnce,
  inflight: INFLIGHT,
  seconds: Number(a.seconds ?? 5),
});
await broker.close();
const recordsSent = result.requests * RECORDS_PER_BATCH;
console.log(JSON.stringify({
  client: "ours",
  runtime,
  compression: COMPRESSION,
  requests: result.requests,
  seconds: result.seconds,
  recordsPerSec: Math.round(recordsSent / result.seconds),
  mbPerSec: round((recordsSent * RECORD_BYTES) / result.seconds / 1e6),
  p50Us: result.p50Us,
  p99Us: result.p99Us,
  cpuUsPerRecord: round(result.cpuUs / recordsSent),
  latencyOf: "request (100 records)",
  errors,
}));
