import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { ConnectionClosedError, ConnectionRefusedError } from "../../transport/errors.ts";
import type { StateChange } from "../../broker/state.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { SettlingFakeClock as FakeClock, track } from "../fixtures/fake_clock.ts";
import { advanceUntil, waitFor } from "./observe.ts";

test("requests queued while the broker is down are sent after it comes back", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  const clock = new FakeClock();
  await using conn = connectionTo(broker, {
    clock,
    reconnectBackoffMs: 5,
    reconnectBackoffMaxMs: 20,
  });
  assert.equal(await conn.send(Echo, 0), 0);
  broker.down();
  await waitFor(() => conn.state !== "UP", "the connection to see the broker go");
  const pending = Array.from({ length: 20 }, (_, i) => conn.send(Echo, i + 1));
  const all = track(Promise.all(pending));
  // 60 fake ms of refused redials (backoff 5 ms doubling to 20 ms).
  await clock.advance(60);
  assert.equal(conn.stats().queued, 20);
  assert.ok(conn.stats().lastError instanceof ConnectionRefusedError);
  assert.ok(conn.stats().disconnects >= 3, `${conn.stats().disconnects} attempts`);
  await broker.up();
  await advanceUntil(clock, () => all.settled, "the queued requests", 5, 100);
  const replies = await Promise.all(pending);
  assert.deepEqual(replies, Array.from({ length: 20 }, (_, i) => i + 1));
  const stats = conn.stats();
  assert.equal(stats.connects, 2);
  assert.ok(stats.disconnects >= 2);
  assert.equal(conn.state, "UP");
});

test("in-flight requests fail when the connection drops; queued ones survive it", async () => {
  await using broker = await MockBroker.start();
  // Value 1 is answered only when this clock moves, which it never does.
  serveEcho(broker, (v) => (v === 1 ? 1000 : 0), new FakeClock());
  await using conn = connectionTo(broker, { reconnectBackoffMs: 1, maxInFlight: 1 });
  await conn.connect();
  const inFlight = conn.send(Echo, 1);
  const queued = conn.send(Echo, 2);
  await waitFor(() => broker.requests.length === 2, "ApiVersions and value 1 at the broker");
  assert.equal(conn.stats().inFlight, 1);
  assert.equal(conn.stats().queued, 1);
  broker.down();
  await broker.up();
  const err = await inFlight.then(() => null, (e) => e);
  assert.ok(err instanceof ConnectionClosedError, String(err));
  assert.match(err.message, /closed by the broker.*\(after \d+ ms in state UP\)$/);
  assert.equal(await queued, 2);
});

test("reconnect attempts follow the backoff: 100 ms doubling, jitter 0.75..1.5", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  broker.down();
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock, random: () => 0.5, requestTimeoutMs: 5000 });
  const dials: number[] = [];
  conn.onStateChange((c: StateChange) => {
    if (c.to === "CONNECT") dials.push(c.at - 1000);
  });
  const pending = conn.send(Echo, 1);
  await clock.advance(3000);
  // Delays: floor(100×1.125)=112, floor(200×1.125)=225, 450, 900, then 1800 (> 3000 total).
  assert.deepEqual(dials, [0, 112, 337, 787, 1687]);
  assert.equal(conn.state, "TRY_CONNECT");
  await broker.up();
  await clock.advance(1800);
  assert.equal(dials.length, 6);
  assert.equal(dials[5], 3487);
  assert.equal(conn.state, "UP");
  assert.equal(await pending, 1);
});

test("a failed connect() does not reconnect when nothing is queued", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const clock = new FakeClock();
  await using conn = connectionTo(broker, { clock });
  await assert.rejects(conn.connect(), ConnectionRefusedError);
  await clock.advance(60_000);
  assert.equal(conn.state, "DOWN");
  assert.equal(conn.stats().disconnects, 1);
});
