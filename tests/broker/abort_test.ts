/**
 * Abort signals and `close()` against waits that hold no request yet: `connect(signal)` before
 * and during connection setup, and a request waiting for room in a full queue.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { BrokerClosedError } from "../../broker/errors.ts";
import type { StateChange } from "../../broker/state.ts";
import { Writer } from "../../framing/writer.ts";
import { AbortError } from "../../transport/errors.ts";
import { FakeClock, track } from "../fixtures/fake_clock.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { settleLog, waitFor } from "./observe.ts";

test("connect(signal) with an aborted signal rejects at once and dials nothing", async () => {
  await using broker = await MockBroker.start();
  await using conn = connectionTo(broker);
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  const reason = new Error("gave up before starting");
  const error = await conn.connect(AbortSignal.abort(reason)).then(() => null, (e) => e);
  assert.ok(error instanceof AbortError, String(error));
  assert.equal(error.retriable, false);
  assert.equal(error.cause, reason);
  assert.match(error.message, /^connect\(\) aborted/);
  assert.equal(conn.state, "INIT");
  assert.deepEqual(changes, []);
  assert.equal(conn.stats().connects, 0);
  assert.equal(broker.requests.length, 0);
});

test("connect(signal) aborted during setup stops waiting; the attempt goes on for queued work", async () => {
  // The broker holds its ApiVersions reply until this clock moves.
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  serveEcho(broker);
  broker.faults.delay(100, 18);
  await using conn = connectionTo(broker);
  const ac = new AbortController();
  const waiting = conn.connect(ac.signal).then(() => null, (e) => e);
  const other = track(conn.connect());
  await waitFor(() => broker.requests.length === 1, "the ApiVersions request at the broker");
  assert.equal(conn.state, "APIVERSION_QUERY");
  const queued = conn.send(Echo, 4);
  ac.abort(new Error("caller's deadline"));
  const error = await waiting;
  assert.ok(error instanceof AbortError, String(error));
  assert.match(error.message, /^connect\(\) aborted \(after \d+ ms in state APIVERSION_QUERY\)$/);
  assert.equal(conn.state, "APIVERSION_QUERY", "the abort does not end the attempt");
  assert.equal(other.settled, false);
  clock.advance(100);
  assert.equal(await queued, 4);
  await waitFor(() => other.settled, "the other connect()");
  assert.equal(conn.state, "UP");
  assert.equal(conn.stats().connects, 1);
});

test("a request waiting for queue room can be aborted; it is never queued or sent", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  const served: number[] = [];
  broker.handle(Echo, (req) => {
    const value = req.body.int32("value");
    served.push(value);
    return new Writer(4).int32(value).finish().slice();
  });
  broker.faults.delay(100, 18); // the queue cannot drain before ApiVersions is answered
  const log = settleLog();
  await using conn = connectionTo(broker, { maxQueued: 1, hooks: log.hooks });
  const first = conn.send(Echo, 1);
  const ac = new AbortController();
  const waiting = conn.send(Echo, 2, { signal: ac.signal }).then(() => null, (e) => e);
  const third = conn.send(Echo, 3); // waits behind the aborted one
  assert.equal(conn.stats().queued, 1);
  ac.abort();
  const error = await waiting;
  assert.ok(error instanceof AbortError, String(error));
  assert.match(error.message, /^a request waiting for queue room aborted/);
  await waitFor(() => broker.requests.length === 1, "the ApiVersions request at the broker");
  clock.advance(100);
  assert.deepEqual(await Promise.all([first, third]), [1, 3]);
  assert.deepEqual(served, [1, 3], "value 2 never reached the broker");
  assert.equal(log.count(Echo.key), 2, "the aborted wait was never a request");
});

test("close() ends a wait for queue room with BrokerClosedError", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  serveEcho(broker);
  broker.faults.delay(100, 18);
  await using conn = connectionTo(broker, { maxQueued: 1 });
  const first = conn.send(Echo, 1).then(() => null, (e) => e);
  const waiting = conn.send(Echo, 2).then(() => null, (e) => e);
  const closed = conn.close({ graceful: false });
  const error = await waiting;
  assert.ok(error instanceof BrokerClosedError, String(error));
  assert.equal(error.retriable, false);
  assert.match(error.message, /before a request waiting for queue room completed/);
  assert.ok((await first) instanceof BrokerClosedError);
  await closed;
  assert.equal(broker.requests.filter((r) => r.apiKey === Echo.key).length, 0);
});
