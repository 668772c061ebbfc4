import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { ApiVersions } from "../../protocol/api_versions.ts";
import { KafkaProtocolError } from "../../protocol/errors.ts";
import { UnsupportedVersionError } from "../../broker/errors.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { apiVersionsOk, replyFrame, ScriptedServer } from "./scripted_server.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import type { StateChange } from "../../broker/state.ts";
import { FakeClock } from "../fixtures/fake_clock.ts";

test("ApiVersions downgrades to the broker's max when it supports only v0..v2", async () => {
  await using broker = await MockBroker.start({ apiVersions: { 18: [0, 2] } });
  serveEcho(broker);
  // A clock that never moves: the fallback must come from the broker's answer, not a timeout.
  await using conn = connectionTo(broker, { clock: new FakeClock() });
  await conn.connect();
  assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]), [[18, 3], [18, 2]]);
  assert.equal(conn.apiVersions?.get(18)?.max, 2);
  assert.equal(await conn.send(Echo, 7), 7);
});

test("ApiVersions falls back to v0 for a broker that only understands v0", async () => {
  await using broker = await MockBroker.start({ apiVersions: "v0-only" });
  await using conn = connectionTo(broker);
  await conn.connect();
  assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]), [[18, 3], [18, 0]]);
  assert.equal(conn.state, "UP");
});

test("ApiVersions retries at v0 after INVALID_REQUEST", async () => {
  await using broker = await MockBroker.start();
  broker.faults.error(18, 42, 1);
  await using conn = connectionTo(broker);
  await conn.connect();
  assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]), [[18, 3], [18, 0]]);
});

test("ApiVersions UNSUPPORTED_VERSION without a list falls back to v0", async () => {
  const server = new ScriptedServer((req) => {
    if (req.apiVersion > 0) {
      return [replyFrame(req.correlationId, (w) => w.int16(35).int32(0))];
    }
    return [apiVersionsOk(req)];
  });
  const conn = new BrokerConnection({ host: "h", port: 1, connector: server.connector });
  await conn.connect();
  assert.deepEqual(server.requests.map((r) => r.apiVersion), [3, 0]);
  await conn.close();
  await server.close();
});

test("ApiVersions with another error fails the connection with a KafkaProtocolError", async () => {
  await using broker = await MockBroker.start();
  broker.faults.error(18, 31, 1); // CLUSTER_AUTHORIZATION_FAILED
  await using conn = connectionTo(broker);
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.match(err.message, /\(after \d+ ms in state APIVERSION_QUERY\)$/);
  assert.deepEqual(changes.map((c) => c.to), [
    "TRY_CONNECT",
    "CONNECT",
    "APIVERSION_QUERY",
    "DOWN",
  ]);
  assert.equal(conn.stats().lastError, err);
});

test("send() refuses an API the broker does not support, without writing anything", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  await using conn = connectionTo(broker);
  await conn.connect();
  const before = broker.requests.length;
  const sentBefore = conn.stats().requestsSent;
  const tooNew = { ...Echo, minVersion: 5, maxVersion: 7 };
  const err = await conn.send(tooNew, 1).then(() => null, (e) => e);
  assert.ok(err instanceof UnsupportedVersionError);
  assert.deepEqual(err.brokerRange, { min: 0, max: 2 });
  assert.deepEqual(err.clientRange, { min: 5, max: 7 });
  const unknown = { ...Echo, key: 1001, name: "Nope" };
  const err2 = await conn.send(unknown, 1).then(() => null, (e) => e);
  assert.ok(err2 instanceof UnsupportedVersionError);
  assert.equal(err2.brokerRange, null);
  assert.equal(broker.requests.length, before);
  assert.equal(conn.stats().requestsSent, sentBefore);
  assert.equal(conn.selectVersion(Echo), 2);
  assert.equal(conn.selectVersion(ApiVersions), 4);
});

test("ApiVersions v3 carries the sanitised client software name and version", async () => {
  const seen: (string | null)[] = [];
  const server = new ScriptedServer((req) => {
    if (req.apiKey === 18 && req.apiVersion === 3) {
      seen.push(req.body.compactString(), req.body.compactString());
    }
    return [apiVersionsOk(req)];
  });
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: server.connector,
    clientSoftwareName: "my app",
    clientSoftwareVersion: "1.2.3-beta+1",
  });
  await conn.connect();
  assert.equal(server.requests.length, 1);
  assert.deepEqual(seen, ["my-app", "1.2.3-beta-1"]);
  await conn.close();
  await server.close();
});
