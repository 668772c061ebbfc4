/**
 * Produce throughput through a `Cluster` (ours): 1 KiB records, batches of 100 to one partition
 * per request, partitions taken round robin over a 6-partition topic, 12 requests in flight
 * (2 per partition), acks 1 or -1, no compression. Each request is routed to the partition's
 * leader. Reports MB/s of record values, per-request latency, and client CPU per record (user +
 * system of the whole process, warm-up included, over every record sent).
 *
 * Usage: `deno run -A bench/cluster_produce.ts --bootstrap H:P[,H:P] --acks 1|-1 --rf N
 * [--seconds S] [--topic T]`, or the same with `bun`.
 *
 * @module
 */

import process from "node:process";
import { Cluster } from "../cluster/cluster.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { Produce, type ProduceRequest } from "../protocol/produce.ts";
import { encodeRecordBatch, type RecordInput } from "../protocol/record_batch.ts";
import type { Connector } from "../transport/conn.ts";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" = g.Bun ? "bun" : "deno";
const a = parseArgs(g.Deno ? g.Deno.args : g.process.argv.slice(2));
const ACKS = Number(a.acks ?? 1);
const TOPIC = a.topic ?? `bench-cluster-acks${ACKS === -1 ? "all" : ACKS}`;
const PARTITIONS = 6;
const RECORDS_PER_BATCH = 100;
const RECORD_BYTES = 1024;
const INFLIGHT = 12;

const adapter = runtime === "bun"
  ? await import("../transport/bun.ts").then((m) => ({
    connector: m.bunConnector as Connector,
    resolve: m.bunResolve,
  }))
  : await import("../transport/deno.ts").then((m) => ({
    connector: m.denoConnector as Connector,
    resolve: m.denoResolve,
  }));

const cluster = new Cluster({
  bootstrap: a.bootstrap,
  connector: adapter.connector,
  resolve: adapter.resolve,
  connection: { clientId: "bench-cluster-produce" },
});
const created = await cluster.send(CreateTopics, {
  topics: [{ name: TOPIC, numPartitions: PARTITIONS, replicationFactor: Number(a.rf ?? 1) }],
  timeoutMs: 15_000,
}, { route: { kind: "controller" } });
const createError = created.response.topics[0]?.errorCode ?? 0;
// 36 TOPIC_ALREADY_EXISTS: a previous run made it.
if (createError !== 0 && createError !== 36) {
  throw new Error(`CreateTopics ${TOPIC} failed with error code ${createError}`);
}

const value = new Uint8Array(RECORD_BYTES).fill(120);
const records: RecordInput[] = Array.from({ length: RECORDS_PER_BATCH }, () => ({ value }));

function produceRequest(partition: number): ProduceRequest {
  return {
    acks: ACKS,
    timeoutMs: 30_000,
    topicData: [{
      name: TOPIC,
      partitionData: [{
        index: partition,
        records: encodeRecordBatch({ timestamp: Date.now(), records }),
      }],
    }],
  };
}

let next = 0;
let errors = 0;
let sent = 0;
async function produceOnce(): Promise<void> {
  const partition = next++ % PARTITIONS;
  const reply = await cluster.send(Produce, produceRequest(partition), {
    route: { kind: "leader", topic: TOPIC, partition },
  });
  sent++;
  if (reply.response.responses[0].partitionResponses[0].errorCode !== 0) errors++;
}

// A new topic's leaders take a moment to be known: wait until each partition takes a produce.
for (let p = 0; p < PARTITIONS; p++) {
  for (let attempt = 0;; attempt++) {
    const reply = await cluster.send(Produce, produceRequest(p), {
      route: { kind: "leader", topic: TOPIC, partition: p },
    });
    const code = reply.response.responses[0].partitionResponses[0].errorCode;
    if (code === 0) break;
    if (attempt === 100) throw new Error(`Produce to ${TOPIC}-${p} keeps failing (${code})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cpu0 = process.cpuUsage();
const result = await closedLoop({
  send: produceOnce,
  inflight: INFLIGHT,
  seconds: Number(a.seconds ?? 5),
});
const cpu = process.cpuUsage(cpu0);
await cluster.close();
const recordsSent = result.requests * RECORDS_PER_BATCH;
console.log(JSON.stringify({
  client: "ours (Cluster)",
  runtime,
  acks: ACKS,
  requests: result.requests,
  seconds: result.seconds,
  recordsPerSec: Math.round(recordsSent / result.seconds),
  mbPerSec: round((recordsSent * RECORD_BYTES) / result.seconds / 1e6),
  p50Us: result.p50Us,
  p99Us: result.p99Us,
  latencyOf: "request (100 records)",
  cpuUsPerRecord: round((cpu.user + cpu.system) / (sent * RECORDS_PER_BATCH)),
  errors,
}));
