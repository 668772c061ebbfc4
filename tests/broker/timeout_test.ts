import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import { ConnectionSetupTimeoutError, RequestTimeoutError } from "../../broker/errors.ts";
import { ConnectionRefusedError, TimeoutError } from "../../transport/errors.ts";
import type { StateChange } from "../../broker/state.ts";
import { connectionTo, Echo } from "./echo_api.ts";
import { apiVersionsOk, echoReply, ScriptedServer } from "./scripted_server.ts";
import { settle, SettlingFakeClock as FakeClock } from "../fixtures/fake_clock.ts";

/** Records how a promise settled, without leaving it unhandled. */
function track<T>(p: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const t: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (value) => Object.assign(t, { done: true, value }),
    (error) => Object.assign(t, { done: true, error }),
  );
  return t;
}

test("an unanswered request times out at its deadline and tears the connection down", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 500 });
  await conn.connect();
  const t = track(conn.send(Echo, 1));
  await clock.advance(499);
  assert.equal(t.done, false);
  await clock.advance(1);
  assert.ok(t.error instanceof RequestTimeoutError, String(t.error));
  assert.match(
    t.error.message,
    /^Request Echo v2 \(correlation id 1\) timed out after 500 ms \(after 500 ms in state UP\)$/,
  );
  assert.equal(t.error.retriable, true);
  assert.equal(conn.state, "DOWN");
  const stats = conn.stats();
  assert.equal(stats.requestsTimedOut, 1);
  assert.match(stats.lastError!.message, /1 request\(s\) timed out: disconnecting/);
});

test("with socketMaxFails 3 the connection survives two timeouts", async () => {
  await using broker = await MockBroker.start();
  const clock = new FakeClock();
  let answer = false;
  broker.handle(Echo, (req) => {
    const v = req.body.int32();
    return answer || v === 99 ? new Uint8Array([0, 0, 0, v]) : NO_REPLY;
  });
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 100, socketMaxFails: 3 });
  await conn.connect();
  const a = track(conn.send(Echo, 1));
  const b = track(conn.send(Echo, 2));
  await clock.advance(100);
  assert.ok(a.error instanceof RequestTimeoutError && b.error instanceof RequestTimeoutError);
  assert.equal(conn.state, "UP");
  answer = true;
  assert.equal(await conn.send(Echo, 3), 3);
  assert.equal(conn.stats().requestsTimedOut, 2);
});

test("a request still queued when its timeout expires fails as timed out in queue", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 1000 });
  const t = track(conn.request({
    apiKey: Echo.key,
    apiVersion: 0,
    flexible: false,
    encodeBody: (w) => w.int32(1),
    decodeBody: (r) => r.int32(),
  }));
  await clock.advance(999);
  assert.equal(t.done, false);
  assert.equal(conn.stats().queued, 1);
  await clock.advance(1);
  assert.ok(t.error instanceof RequestTimeoutError);
  assert.equal(t.error.inQueue, true);
  assert.equal(t.error.correlationId, -1);
  assert.match(t.error.message, /timed out in queue after 1000 ms without being sent/);
  // What to fix is why the connection is down: the refused dial, as message and cause.
  assert.ok(t.error.cause instanceof ConnectionRefusedError, String(t.error.cause));
  assert.match(
    t.error.message,
    /the connection is not up; its last attempt failed: .*refused.*\(after \d+ ms in state TRY_CONNECT\)$/,
  );
  assert.equal(conn.stats().queued, 0);
});

test("a partly written request that times out tears down without corrupting the next stream", async () => {
  const server = new ScriptedServer(
    (req) => [req.apiKey === 18 ? apiVersionsOk(req) : echoReply(req)],
    { bufferLimit: 64 },
  );
  const clock = new FakeClock();
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: server.connector,
    clock,
    requestTimeoutMs: 1000,
  });
  await conn.connect();
  server.links[0].faults.stall("toServer");
  const big = track(conn.request({
    apiKey: Echo.key,
    apiVersion: 0,
    flexible: false,
    encodeBody: (w) => w.int32(7).raw(new Uint8Array(4096)),
    decodeBody: (r) => r.int32(),
  }));
  await settle();
  assert.equal(server.links[0].faults.pendingBytes("toServer") > 64, true);
  await clock.advance(1000);
  assert.ok(big.error instanceof RequestTimeoutError);
  assert.ok(conn.stats().lastError instanceof TimeoutError);
  assert.match(conn.stats().lastError!.message, /timed out while partly written: disconnecting/);
  assert.equal(conn.state, "DOWN");
  // The next request goes out on a new connection whose stream is clean.
  const next = track(conn.send(Echo, 5));
  await clock.advance(1000);
  assert.equal(next.value, 5);
  assert.equal(server.links.length, 2);
  const second = server.requests.filter((r) => r.connIndex === 1);
  assert.deepEqual(second.map((r) => [r.apiKey, r.correlationId]), [[18, 2], [Echo.key, 3]]);
  await conn.close();
  await server.close();
});

test("connection setup times out against a broker that accepts but never answers", async () => {
  const server = new ScriptedServer(() => []);
  const clock = new FakeClock();
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: server.connector,
    clock,
    connectionSetupTimeoutMs: 6000,
    apiVersionRequestTimeoutMs: 60_000,
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  const t = track(conn.connect());
  await clock.advance(5999);
  assert.equal(t.done, false);
  await clock.advance(1);
  assert.ok(t.error instanceof ConnectionSetupTimeoutError, String(t.error));
  assert.equal(t.error.state, "APIVERSION_QUERY");
  assert.match(
    t.error.message,
    /^Connection setup timed out in state APIVERSION_QUERY.*\(after 6000 ms in state APIVERSION_QUERY\)$/,
  );
  assert.deepEqual(changes.map((c) => c.to), [
    "TRY_CONNECT",
    "CONNECT",
    "APIVERSION_QUERY",
    "DOWN",
  ]);
  assert.equal(changes[3].elapsedMs, 6000);
  await conn.close();
  await server.close();
});

test("connection setup times out while the connector is still dialling", async () => {
  const clock = new FakeClock();
  const server = new ScriptedServer(() => [], { clock, connectDelayMs: 60_000 });
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: server.connector,
    clock,
    connectionSetupTimeoutMs: 6000,
  });
  const t = track(conn.connect());
  await clock.advance(6000);
  assert.ok(t.error instanceof ConnectionSetupTimeoutError, String(t.error));
  assert.equal(t.error.state, "CONNECT");
  assert.equal(server.links.length, 0, "the dial was aborted");
  await clock.advance(60_000);
  assert.equal(server.links.length, 0);
  await conn.close();
  await server.close();
});

test("ApiVersions has its own shorter timeout and the hint about old brokers", async () => {
  const server = new ScriptedServer(() => []);
  const clock = new FakeClock();
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: server.connector,
    clock,
    apiVersionRequestTimeoutMs: 2000,
  });
  const t = track(conn.connect());
  await clock.advance(2000);
  assert.ok(t.error instanceof TimeoutError, String(t.error));
  assert.match(
    String((t.error as Error).message),
    /ApiVersions v3 got no reply within 2000 ms: the broker may be older than 0.10/,
  );
  await conn.close();
  await server.close();
});

test("queued requests expire each at its own deadline, whatever order their timeouts come in", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 1000 });
  const send = (value: number, timeoutMs?: number) =>
    track(conn.send(Echo, value, timeoutMs === undefined ? {} : { timeoutMs }));
  // Default timeouts queued 100 ms apart (deadlines rising), then a shorter one behind them
  // (out of order), then default ones again.
  const t0 = clock.now();
  const first = send(1);
  await clock.advance(100);
  const second = send(2);
  const short = send(3, 300);
  const last = send(4);
  const expiredAt = new Map<number, number>();
  const all = [first, second, short, last];
  for (let t = 100; t < 1200; t += 50) {
    await clock.advance(50);
    all.forEach((r, i) => {
      if (r.done && !expiredAt.has(i)) expiredAt.set(i, clock.now() - t0);
    });
  }
  assert.deepEqual([...expiredAt.entries()].sort((a, b) => a[0] - b[0]), [
    [0, 1000],
    [1, 1100],
    [2, 400],
    [3, 1100],
  ]);
  for (const r of all) assert.ok(r.error instanceof RequestTimeoutError, String(r.error));
  assert.equal(conn.stats().queued, 0);
  assert.equal(conn.stats().requestsTimedOut, 4);
});

test("a timeout that tears the connection down leaves no request timer behind", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 3000 });
  await conn.connect();
  // A times out first and tears the connection down; B, in flight too, fails with it.
  const a = track(conn.send(Echo, 1, { timeoutMs: 100 }));
  const b = track(conn.send(Echo, 2));
  await clock.advance(100);
  assert.ok(a.error instanceof RequestTimeoutError, String(a.error));
  assert.ok(b.error instanceof TimeoutError, String(b.error));
  assert.equal(conn.state, "DOWN");
  assert.equal(clock.pending, 0, `timers left: ${clock.delays}`);
});
