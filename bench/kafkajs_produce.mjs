// kafkajs's producer against the real broker, the same workload as bench/produce.ts: topic
// bench-produce, batches of 100 records of 1 KiB (one send() each), acks=1, no compression,
// 5 sends in flight (maxInFlightRequests 5).
// Usage: node bench/kafkajs_produce.mjs --host H --port P [--seconds S] [--runtime NAME]
import { createRequire } from "node:module";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

const require = createRequire(import.meta.url);
const { Kafka, CompressionTypes, logLevel } = require("kafkajs");

const a = parseArgs(process.argv.slice(2));
const TOPIC = a.topic ?? "bench-produce";
const RECORDS_PER_BATCH = 100;
const RECORD_BYTES = 1024;
const INFLIGHT = 5;

const kafka = new Kafka({
  clientId: "bench-produce-kafkajs",
  brokers: [`${a.host ?? "127.0.0.1"}:${a.port}`],
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }] });
await admin.disconnect();

const producer = kafka.producer({ maxInFlightRequests: INFLIGHT, allowAutoTopicCreation: false });
await producer.connect();
const value = Buffer.alloc(RECORD_BYTES, 120);
const messages = Array.from({ length: RECORDS_PER_BATCH }, () => ({ value }));
const send = () =>
  producer.send({ topic: TOPIC, acks: 1, compression: CompressionTypes.None, messages });
const result = await closedLoop({ send, inflight: INFLIGHT, seconds: Number(a.seconds ?? 5) });
await producer.disconnect();
const recordsSent = result.requests * RECORDS_PER_BATCH;
console.log(JSON.stringify({
  client: "kafkajs",
  runtime: a.runtime ?? "node",
  requests: result.requests,
  seconds: result.seconds,
  recordsPerSec: Math.round(recordsSent / result.seconds),
  mbPerSec: round((recordsSent * RECORD_BYTES) / result.seconds / 1e6),
  p50Us: result.p50Us,
  p99Us: result.p99Us,
  cpuUsPerRecord: round(result.cpuUs / recordsSent),
  latencyOf: "request (100 records)",
  errors: 0,
}));
