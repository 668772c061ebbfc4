import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import { BrokerClosedError } from "../../broker/errors.ts";
import { ConnectionClosedError, type KafkaTransportError } from "../../transport/errors.ts";
import type { RequestEvent } from "../../broker/options.ts";
import type { BrokerConnection } from "../../broker/connection.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";

/** Sends `n` requests and counts how each settles; fails the test on a double settle. */
function flood(conn: BrokerConnection, n: number) {
  const outcome = { resolved: 0, rejected: 0, errors: [] as unknown[] };
  const all = Array.from({ length: n }, (_, i) => {
    let settled = false;
    const once = () => {
      assert.equal(settled, false, "settled twice");
      settled = true;
    };
    return conn.send(Echo, i).then(() => {
      once();
      outcome.resolved++;
    }, (e) => {
      once();
      outcome.rejected++;
      outcome.errors.push(e);
    });
  });
  return { outcome, done: Promise.all(all) };
}

test("immediate close fails hundreds of pending requests exactly once", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const events: RequestEvent[] = [];
  const conn = connectionTo(broker, { hooks: { onRequest: (e) => events.push(e) } });
  await conn.connect();
  const { outcome, done } = flood(conn, 500);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(conn.stats().inFlight, 500);
  const more = flood(conn, 100); // still queued when the close comes
  await conn.close({ graceful: false });
  await done;
  await more.done;
  assert.equal(outcome.rejected, 500);
  assert.equal(more.outcome.rejected, 100);
  assert.ok(outcome.errors.every((e) => e instanceof BrokerClosedError));
  assert.equal((outcome.errors[0] as KafkaTransportError).retriable, false);
  assert.equal(events.filter((e) => e.apiKey === Echo.key).length, 600);
  assert.equal(conn.state, "DOWN");
  await assert.rejects(conn.send(Echo, 1), BrokerClosedError);
  await assert.rejects(conn.connect(), BrokerClosedError);
  assert.equal(conn.close(), conn.close(), "idempotent");
});

test("graceful close lets pending requests finish", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker, () => 10);
  const conn = connectionTo(broker);
  const { outcome, done } = flood(conn, 300);
  await conn.close({ graceful: true, deadlineMs: 5000 });
  await done;
  assert.equal(outcome.resolved, 300);
  assert.equal(broker.connections, 0);
});

test("graceful close fails what is left at the deadline", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const conn = connectionTo(broker);
  await conn.connect();
  const { outcome, done } = flood(conn, 200);
  const started = performance.now();
  await conn.close({ deadlineMs: 50 });
  assert.ok(performance.now() - started >= 45);
  await done;
  assert.equal(outcome.rejected, 200);
  assert.ok(outcome.errors.every((e) => e instanceof BrokerClosedError));
});

test("a dropped connection fails hundreds of in-flight requests exactly once", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  await using conn = connectionTo(broker);
  await conn.connect();
  const { outcome, done } = flood(conn, 400);
  await new Promise((r) => setTimeout(r, 5));
  broker.down();
  await done;
  assert.equal(outcome.rejected, 400);
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
