import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import { BrokerClosedError } from "../../broker/errors.ts";
import { ConnectionClosedError, type KafkaTransportError } from "../../transport/errors.ts";
import type { BrokerConnection } from "../../broker/connection.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { settleLog, waitFor } from "./observe.ts";
import { FakeClock, settle, SettlingFakeClock, track } from "../fixtures/fake_clock.ts";

/**
 * Sends `n` requests and counts how their promises settle. A promise settles once whatever the
 * connection does, so a double settlement shows only in the connection's own report (the
 * `onRequest` hook, see {@link settleLog}), which the tests compare with these totals.
 */
function flood(conn: BrokerConnection, n: number, from = 0) {
  const outcome = { resolved: 0, rejected: 0, errors: [] as unknown[] };
  const all = Array.from({ length: n }, (_, i) =>
    conn.send(Echo, from + i).then(() => {
      outcome.resolved++;
    }, (e) => {
      outcome.rejected++;
      outcome.errors.push(e);
    }));
  return { outcome, done: Promise.all(all) };
}

test("immediate close fails hundreds of pending requests exactly once", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const log = settleLog();
  const conn = connectionTo(broker, { hooks: log.hooks });
  await conn.connect();
  const { outcome, done } = flood(conn, 500);
  await waitFor(() => conn.stats().inFlight === 500, "500 requests in flight");
  const more = flood(conn, 100, 500); // still queued when the close comes
  await conn.close({ graceful: false });
  await done;
  await more.done;
  assert.equal(outcome.rejected, 500);
  assert.equal(more.outcome.rejected, 100);
  assert.ok(outcome.errors.every((e) => e instanceof BrokerClosedError));
  assert.equal((outcome.errors[0] as KafkaTransportError).retriable, false);
  assert.equal(log.count(Echo.key), 600, "each request settled once");
  assert.equal(log.failed(Echo.key), 600);
  assert.equal(conn.state, "DOWN");
  await assert.rejects(conn.send(Echo, 1), BrokerClosedError);
  await assert.rejects(conn.connect(), BrokerClosedError);
  assert.equal(conn.close(), conn.close(), "idempotent");
});

test("graceful close lets pending requests finish", async () => {
  // Fires the 300 reply timers at once; the connection's own timers are far off.
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  serveEcho(broker, () => 10, clock);
  const log = settleLog();
  const conn = connectionTo(broker, { clock, hooks: log.hooks });
  const { outcome, done } = flood(conn, 300);
  const closed = track(conn.close({ graceful: true, deadlineMs: 5000 }));
  const echoes = () => broker.requests.filter((r) => r.apiKey === Echo.key).length;
  await waitFor(() => echoes() === 300, "the 300 requests at the broker");
  clock.advance(9);
  await settle();
  assert.equal(closed.settled, false, "the close waits for the replies");
  assert.equal(outcome.resolved, 0);
  clock.advance(1);
  await done;
  await waitFor(() => closed.settled, "the close");
  assert.equal(closed.settled, true);
  assert.equal(outcome.resolved, 300);
  assert.equal(log.count(Echo.key), 300);
  assert.ok(log.events.every((e) => e.error === undefined));
  assert.equal(broker.connections, 0);
});

test("graceful close fails what is left at the deadline", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const clock = new SettlingFakeClock();
  const log = settleLog();
  const conn = connectionTo(broker, { clock, hooks: log.hooks });
  await conn.connect();
  const { outcome, done } = flood(conn, 200);
  const closed = track(conn.close({ deadlineMs: 50 }));
  await clock.advance(49);
  assert.equal(closed.settled, false, "no close before the deadline");
  assert.equal(outcome.rejected, 0);
  await clock.advance(1);
  await done;
  assert.equal(closed.settled, true);
  assert.equal(outcome.rejected, 200);
  assert.ok(outcome.errors.every((e) => e instanceof BrokerClosedError));
  assert.equal(log.count(Echo.key), 200, "each request settled once");
});

test("a dropped connection fails hundreds of in-flight requests exactly once", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const log = settleLog();
  await using conn = connectionTo(broker, { hooks: log.hooks });
  await conn.connect();
  const { outcome, done } = flood(conn, 400);
  await waitFor(() => conn.stats().inFlight === 400, "400 requests in flight");
  broker.down();
  await done;
  assert.equal(outcome.rejected, 400);
  assert.equal(log.count(Echo.key), 400, "each request settled once");
  assert.ok(outcome.errors.every((e) => e instanceof ConnectionClosedError));
  assert.equal(conn.stats().inFlight, 0);
  assert.equal(conn.state, "DOWN");
});

test("close() before any request goes INIT → DOWN without dialling; later calls are refused", async () => {
  await using broker = await MockBroker.start();
  const conn = connectionTo(broker);
  const changes: string[] = [];
  conn.onStateChange((c) => changes.push(`${c.from}->${c.to}`));
  await conn.close();
  assert.deepEqual(changes, ["INIT->DOWN"]);
  assert.equal(broker.requests.length, 0);
  assert.equal(conn.stats().connects, 0);
  const error = await conn.send(Echo, 1).catch((e) => e);
  assert.ok(error instanceof BrokerClosedError, String(error));
  assert.equal(error.retriable, false);
});
