import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import { ConnectionRefusedError } from "../../transport/errors.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { Echo, serveEcho } from "./echo_api.ts";
import { waitForSocket } from "./observe.ts";

test("over real loopback TCP: pipelined requests, broker restart, reconnect", async () => {
  await using broker = await MockBroker.start({ listen: adapter.listen, outOfOrder: true });
  serveEcho(broker, (v) => v % 4);
  await using conn = new BrokerConnection({
    host: broker.host,
    port: broker.port,
    connector: adapter.connector,
    reconnectBackoffMs: 10,
    reconnectBackoffMaxMs: 50,
  });
  const n = 2000;
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => conn.send(Echo, i)));
  assert.deepEqual(replies, Array.from({ length: n }, (_, i) => i));
  assert.ok(conn.stats().writes < n / 4, `${conn.stats().writes} writes`);
  broker.down();
  // Real sockets take real time: wait for the events, with bounds far above what they take.
  await waitForSocket(() => conn.state === "DOWN", "the connection to see the broker go");
  const queued = Promise.all([1, 2, 3].map((v) => conn.send(Echo, v)));
  await waitForSocket(
    () => conn.stats().lastError instanceof ConnectionRefusedError,
    "a redial to be refused while the broker is down",
  );
  assert.equal(conn.stats().connects, 1);
  await broker.up();
  assert.deepEqual(await queued, [1, 2, 3]);
  assert.equal(conn.stats().connects, 2);
});

test("over real loopback TCP: a closed port is refused with the state suffix", async () => {
  await using broker = await MockBroker.start({ listen: adapter.listen });
  const port = broker.port;
  await broker.close();
  await using conn = new BrokerConnection({
    host: "127.0.0.1",
    port,
    connector: adapter.connector,
  });
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof ConnectionRefusedError, String(err));
  assert.match(err.message, /\(after \d+ ms in state CONNECT\)$/);
});
