import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";

test("BrokerConnection connects lazily and answers a request", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  await using conn = connectionTo(broker);
  assert.equal(conn.state, "INIT");
  assert.equal(await conn.send(Echo, 42), 42);
  assert.equal(conn.state, "UP");
  assert.equal(conn.apiVersions?.get(Echo.key)?.max, 2);
  assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]), [[18, 3], [1000, 2]]);
});
