/**
 * Replies no Kafka broker sends: frames too short to hold a correlation id, and a frame the
 * broker sends during legacy SASL when no token was asked for.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import type { StateChange } from "../../broker/state.ts";
import { FramingError } from "../../framing/errors.ts";
import { plain } from "../../sasl/mod.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import type { Connector } from "../../transport/conn.ts";
import { wrapConn } from "../fixtures/wrapped_conn.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { apiVersionsOk, ScriptedServer } from "./scripted_server.ts";
import { settleLog } from "./observe.ts";

for (const body of [[], [0], [0, 0, 7]]) {
  test(`a reply frame of ${body.length} bytes (under a correlation id) fails the connection`, async () => {
    const short = new Uint8Array([0, 0, 0, body.length, ...body]);
    const server = new ScriptedServer((req) => req.apiKey === 18 ? [apiVersionsOk(req)] : [short]);
    const log = settleLog();
    const conn = new BrokerConnection({
      host: "h",
      port: 1,
      connector: server.connector,
      hooks: log.hooks,
    });
    await conn.connect();
    const changes: StateChange[] = [];
    conn.onStateChange((c) => changes.push(c));
    // Both written in one batch; the first reply is the short frame.
    const [a, b] = [conn.send(Echo, 1), conn.send(Echo, 2)].map((p) =>
      p.then(() => null, (e) => e)
    );
    const error = await a;
    assert.ok(error instanceof FramingError, String(error));
    assert.equal(error.retriable, false);
    assert.equal(error.size, body.length);
    assert.match(error.message, new RegExp(`Invalid \\w+ size ${body.length} \\(`));
    assert.match(error.message, /does not speak the Kafka protocol/);
    assert.equal(await b, error, "the other in-flight request fails with it");
    assert.equal(conn.state, "DOWN");
    assert.equal(changes[0].from, "UP");
    assert.equal(log.count(Echo.key), 2);
    assert.equal(conn.stats().unknownReplies, 0, "not read as a reply to someone");
    await conn.close();
    await server.close();
  });
}

test("a 2-byte ApiVersions reply fails the connection attempt with FramingError", async () => {
  const server = new ScriptedServer(() => [new Uint8Array([0, 0, 0, 2, 0, 0])]);
  const conn = new BrokerConnection({ host: "h", port: 1, connector: server.connector });
  const queued = conn.send(Echo, 1).then(() => null, (e) => e);
  const error = await conn.connect().then(() => null, (e) => e);
  assert.ok(error instanceof FramingError, String(error));
  assert.match(error.message, /size 2/);
  assert.match(error.message, /in state APIVERSION_QUERY\)$/);
  assert.equal(await queued, error, "a non-retriable failure fails queued requests too");
  await conn.close();
  await server.close();
});

test("legacy SASL: a frame the client did not ask for fails authentication", async () => {
  const users = { alice: "alice-secret" };
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, legacy: true },
  });
  serveEcho(broker);
  // After the broker's reply to the PLAIN token (the third frame read), a stray frame follows
  // in the same read, before the client has sent anything else.
  const stray = new Uint8Array([0, 0, 0, 6, 0, 0, 0, 9, 1, 2]);
  const connector: Connector = async (options) => {
    const inner = await broker.connector(options);
    let frames = 0;
    return wrapConn(inner, {
      read: async () => {
        const chunk = await inner.read();
        if (chunk === null || ++frames !== 3) return chunk;
        const joined = new Uint8Array(chunk.length + stray.length);
        joined.set(chunk);
        joined.set(stray, chunk.length);
        return joined;
      },
    });
  };
  const log = settleLog();
  await using conn = connectionTo(broker, {
    connector,
    hooks: log.hooks,
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  const queued = conn.send(Echo, 1).then(() => null, (e) => e);
  const error = await conn.connect().then(() => null, (e) => e);
  assert.ok(error instanceof AuthenticationError, String(error));
  assert.equal(error.retriable, false);
  assert.match(error.message, /unexpected frame during legacy SASL/);
  assert.match(error.message, /in state AUTH_LEGACY\)$/);
  assert.equal(await queued, error);
  assert.equal(log.count(Echo.key), 1);
  assert.deepEqual(changes.map((c) => c.to).slice(-2), ["AUTH_LEGACY", "DOWN"]);
  assert.equal(conn.stats().connects, 0, "never UP");
});
