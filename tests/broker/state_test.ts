import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import type { StateChange } from "../../broker/state.ts";
import type { RequestEvent } from "../../broker/options.ts";
import { FramingError } from "../../framing/errors.ts";
import { ConfigError, ConnectionClosedError } from "../../transport/errors.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { apiVersionsOk, ScriptedServer } from "./scripted_server.ts";
import { SettlingFakeClock as FakeClock } from "../fixtures/fake_clock.ts";
import { wrapConn } from "../fixtures/wrapped_conn.ts";

test("state changes report from, to, reason, time spent and when", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  const clock = new FakeClock();
  const hooked: StateChange[] = [];
  await using conn = connectionTo(broker, {
    clock,
    hooks: { onStateChange: (c) => hooked.push(c) },
  });
  const changes: StateChange[] = [];
  const off = conn.onStateChange((c) => changes.push(c));
  conn.onStateChange(() => {
    throw new Error("a broken listener must not break the connection");
  });
  await clock.advance(250);
  await conn.connect();
  assert.deepEqual(changes.map((c) => [c.from, c.to]), [
    ["INIT", "TRY_CONNECT"],
    ["TRY_CONNECT", "CONNECT"],
    ["CONNECT", "APIVERSION_QUERY"],
    ["APIVERSION_QUERY", "UP"],
  ]);
  assert.equal(changes[0].elapsedMs, 250);
  assert.equal(changes[0].at, 1250);
  assert.equal(changes[0].reason, "connect() called");
  assert.match(changes[1].reason, /dialling mock-broker-1:9092/);
  assert.deepEqual(hooked, changes);
  off();
  await conn.close();
  assert.equal(changes.length, 4, "unsubscribed");
  assert.deepEqual(hooked.at(-1)!.to, "DOWN");
  assert.equal(hooked.at(-1)!.reason, "closed");
});

test("with TLS configured the dial is reported as CONNECT then SSL_HANDSHAKE", async () => {
  const server = new ScriptedServer((req) => [apiVersionsOk(req)]);
  const seen: unknown[] = [];
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    // Memory links cannot encrypt: record the TLS options, dial plain and report it secure
    // (the connection refuses a connection that is not, before sending anything).
    connector: async (o) => {
      seen.push(o.tls);
      return { ...wrapConn(await server.connector({ ...o, tls: undefined }), {}), secure: true };
    },
    tls: { serverName: "kafka.example" },
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  await conn.connect();
  assert.deepEqual(changes.map((c) => c.to), [
    "TRY_CONNECT",
    "CONNECT",
    "SSL_HANDSHAKE",
    "APIVERSION_QUERY",
    "UP",
  ]);
  assert.deepEqual(seen, [{ serverName: "kafka.example" }]);
  await conn.close();
  await server.close();
});

test("a connection closed during APIVERSION_QUERY carries the security protocol hint", async () => {
  await using broker = await MockBroker.start();
  broker.faults.closeOnRequest(1);
  await using conn = connectionTo(broker);
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof ConnectionClosedError, String(err));
  assert.match(
    err.message,
    /incorrect security protocol \(TLS listener\?\) or broker version < 0\.10 \(after \d+ ms in state APIVERSION_QUERY\)$/,
  );
  assert.equal(err.hint, "security-protocol");
});

test("an HTTP reply is a FramingError that fails queued requests too", async () => {
  await using broker = await MockBroker.start();
  broker.faults.httpReply();
  await using conn = connectionTo(broker);
  const queued = conn.send(Echo, 1).then(() => null, (e) => e);
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof FramingError, String(err));
  assert.match(err.message, /not a Kafka listener: looks like HTTP/);
  assert.equal(err.peer, "http");
  assert.match(err.message, /\(after \d+ ms in state APIVERSION_QUERY\)$/);
  assert.equal(await queued, err);
});

test("garbage in a reply's size prefix fails the connection with FramingError", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  await using conn = connectionTo(broker);
  await conn.connect();
  broker.faults.garbage();
  const err = await conn.send(Echo, 1).then(() => null, (e) => e);
  assert.ok(err instanceof FramingError, String(err));
  assert.equal(err.peer, null);
  assert.equal(conn.state, "DOWN");
});

test("hooks see every byte and request; a throwing hook changes nothing", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  let bytesIn = 0;
  let bytesOut = 0;
  // Collected here and checked after: what the hook throws, assertions included, is swallowed.
  const events: RequestEvent[] = [];
  await using conn = connectionTo(broker, {
    hooks: {
      onBytes: (dir, n) => {
        if (dir === "in") bytesIn += n;
        else bytesOut += n;
        throw new Error("ignored");
      },
      onRequest: (e) => {
        events.push(e);
        throw new Error("ignored");
      },
    },
  });
  for (let i = 0; i < 10; i++) assert.equal(await conn.send(Echo, i), i);
  const stats = conn.stats();
  assert.equal(stats.bytesIn, bytesIn);
  assert.equal(stats.bytesOut, bytesOut);
  // ApiVersions, then the ten echoes, each with the bytes it moved.
  assert.deepEqual(events.map((e) => e.apiKey), [18, ...Array(10).fill(Echo.key)]);
  for (const e of events) {
    assert.ok(e.bytesOut > 0 && e.bytesIn > 0, JSON.stringify(e));
    assert.ok(e.correlationId >= 0 && e.repliedAt >= e.writtenAt, JSON.stringify(e));
    assert.equal(e.error, undefined);
  }
  assert.equal(
    events.reduce((n, e) => n + e.bytesIn, 0),
    bytesIn,
    "reply frames account for every byte read",
  );
});

test("invalid options are refused with a ConfigError naming the option", () => {
  const base = { host: "h", port: 9092, connector: () => Promise.reject(new Error("unused")) };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ port: 0 }, /option port/],
    [{ host: "" }, /option host/],
    [{ connector: undefined }, /option connector is required/],
    [{ requestTimeoutMs: -1 }, /option requestTimeoutMs/],
    [{ maxInFlight: 0 }, /option maxInFlight/],
    [{ maxQueued: 0 }, /option maxQueued/],
    [{ reconnectBackoffMs: 500, reconnectBackoffMaxMs: 100 }, /option reconnectBackoffMaxMs/],
    [{ connectionsMaxIdleMs: 1.5 }, /option connectionsMaxIdleMs/],
    [{ maxFrameSize: 2 }, /option maxFrameSize/],
    [{ noDelay: "yes" }, /option noDelay/],
    [{ clientSoftwareName: "+++" }, /clientSoftwareName/],
    [{ tls: "yes" }, /option tls must be an object/],
    [{ tls: { cert: "PEM" } }, /tls.cert and tls.key go together/],
    [{ clock: { now: () => 0, setTimeout: () => 0 } }, /option clock/],
  ];
  for (const [override, message] of cases) {
    assert.throws(
      () => new BrokerConnection({ ...base, ...override } as never),
      (e) => e instanceof ConfigError && message.test(e.message),
      JSON.stringify(override),
    );
  }
});
