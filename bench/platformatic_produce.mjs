// @platformatic/kafka's producer against the real broker, the same workload as bench/produce.ts:
// topic bench-produce, batches of 100 records of 1 KiB (one send() each), acks=1 (LEADER, not
// the acks=0 of its own benchmark), not idempotent, no compression, 5 sends in flight
// (maxInflights 5). Needs Node 22.18+ or 24.6+.
// Usage: node bench/platformatic_produce.mjs --host H --port P [--seconds S]
import { Admin, ProduceAcks, Producer } from "@platformatic/kafka";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

const a = parseArgs(process.argv.slice(2));
const TOPIC = a.topic ?? "bench-produce";
const RECORDS_PER_BATCH = 100;
const RECORD_BYTES = 1024;
const INFLIGHT = 5;
const bootstrapBrokers = [`${a.host ?? "127.0.0.1"}:${a.port}`];

const admin = new Admin({ clientId: "bench-produce-platformatic-admin", bootstrapBrokers });
try {
  await admin.createTopics({ topics: [TOPIC], partitions: 1, replicas: 1 });
} catch (error) {
  // A previous run (or another client's) made it: TOPIC_ALREADY_EXISTS.
  if (!/already exists/i.test(JSON.stringify(error, Object.getOwnPropertyNames(error)))) {
    throw error;
  }
}
await admin.close();

const producer = new Producer({
  clientId: "bench-produce-platformatic",
  bootstrapBrokers,
  maxInflights: INFLIGHT,
  acks: ProduceAcks.LEADER,
  idempotent: false,
  autocreateTopics: false,
});
const value = Buffer.alloc(RECORD_BYTES, 120);
const messages = Array.from({ length: RECORDS_PER_BATCH }, () => ({ topic: TOPIC, value }));
const send = () => producer.send({ messages, acks: ProduceAcks.LEADER });
// The first send also fetches metadata and opens the connection: not measured.
await send();
const result = await closedLoop({ send, inflight: INFLIGHT, seconds: Number(a.seconds ?? 5) });
await producer.close();
const recordsSent = result.requests * RECORDS_PER_BATCH;
console.log(JSON.stringify({
  client: "platformatic",
  runtime: "node",
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
