// kafkajs's connection layer (its Connection class, no cluster logic above it) sending
// ApiVersions v0 round trips to the responder. Runs on Node and Bun (and Deno where kafkajs loads).
// Usage: <runtime> bench/kafkajs_client.mjs --port P --inflight N --seconds S --runtime NAME
import { createRequire } from "node:module";
import { closedLoop, parseArgs } from "./lib/latency.mjs";

const require = createRequire(import.meta.url);
const Connection = require("kafkajs/src/network/connection");
const socketFactory = require("kafkajs/src/network/socketFactory");
const { createLogger, LEVELS } = require("kafkajs/src/loggers");
const apiVersions = require("kafkajs/src/protocol/requests/apiVersions");

const a = parseArgs(process.argv.slice(2));
const inflight = Number(a.inflight);
const connection = new Connection({
  host: "127.0.0.1",
  port: Number(a.port),
  logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} }),
  socketFactory: socketFactory(),
  requestTimeout: 30000,
  connectionTimeout: 5000,
  maxInFlightRequests: inflight,
  clientId: "bench",
});
await connection.connect();
const { request, response } = apiVersions.protocol({ version: 0 })();
const result = await closedLoop({
  send: () => connection.send({ request, response }),
  inflight,
  seconds: Number(a.seconds),
});
await connection.disconnect();
console.log(
  JSON.stringify({ client: "kafkajs", runtime: a.runtime ?? "node", inflight, ...result }),
);
