// kafkajs's producer over a cluster, the same workload as bench/cluster_produce.ts: 1 KiB
// records, 100 per send() to one partition, partitions round robin over a 6-partition topic,
// 12 sends in flight, acks 1 or -1, no compression. CPU per record is the process's user +
// system time, warm-up included, over every record sent.
// Usage: node bench/kafkajs_cluster_produce.mjs --bootstrap H:P[,H:P] --acks 1|-1 --rf N [--seconds S]
import { createRequire } from "node:module";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");

const a = parseArgs(process.argv.slice(2));
const ACKS = Number(a.acks ?? 1);
const TOPIC = a.topic ?? `bench-cluster-acks${ACKS === -1 ? "all" : ACKS}`;
const PARTITIONS = 6;
const RECORDS_PER_BATCH = 100;
const RECORD_BYTES = 1024;
const INFLIGHT = 12;

const kafka = new Kafka({
  clientId: "bench-cluster-kafkajs",
  brokers: a.bootstrap.split(","),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: Number(a.rf ?? 1) }],
  waitForLeaders: true,
});
await admin.disconnect();

const producer = kafka.producer({ maxInFlightRequests: INFLIGHT, allowAutoTopicCreation: false });
await producer.connect();
const value = Buffer.alloc(RECORD_BYTES, 120);
let next = 0;
let sent = 0;
const send = async () => {
  const partition = next++ % PARTITIONS;
  await producer.send({
    topic: TOPIC,
    acks: ACKS,
    compression: CompressionTypes.None,
    messages: Array.from({ length: RECORDS_PER_BATCH }, () => ({ value, partition })),
  });
  sent++;
};
const cpu0 = process.cpuUsage();
const result = await closedLoop({ send, inflight: INFLIGHT, seconds: Number(a.seconds ?? 5) });
const cpu = process.cpuUsage(cpu0);
await producer.disconnect();
const recordsSent = result.requests * RECORDS_PER_BATCH;
console.log(JSON.stringify({
  client: "kafkajs",
  runtime: "node",
  acks: ACKS,
  requests: result.requests,
  seconds: result.seconds,
  recordsPerSec: Math.round(recordsSent / result.seconds),
  mbPerSec: round((recordsSent * RECORD_BYTES) / result.seconds / 1e6),
  p50Us: result.p50Us,
  p99Us: result.p99Us,
  latencyOf: "request (100 records)",
  cpuUsPerRecord: round((cpu.user + cpu.system) / (sent * RECORDS_PER_BATCH)),
}));
