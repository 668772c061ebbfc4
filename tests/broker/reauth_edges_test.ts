/**
 * Re-authentication when it goes wrong: the connection lost while REAUTH waits for in-flight
 * replies, and a broker that refuses the new session. Every request settles exactly once, as
 * the connection's `onRequest` reports count it. Broker and connection share one fake clock.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { plain } from "../../sasl/mod.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { ConnectionClosedError } from "../../transport/errors.ts";
import type { BrokerConnection } from "../../broker/connection.ts";
import type { StateChange } from "../../broker/state.ts";
import { SettlingFakeClock } from "../fixtures/fake_clock.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { advanceUntil, settleLog } from "./observe.ts";

const users = { alice: "alice-secret", bob: "bob-secret" };

/** A promise's outcome, readable without awaiting it. */
function outcome<T>(promise: Promise<T>) {
  const seen = { value: undefined as T | undefined, error: undefined as unknown, done: false };
  promise.then(
    (v) => {
      seen.done = true;
      seen.value = v;
    },
    (e) => {
      seen.done = true;
      seen.error = e;
    },
  );
  return seen;
}

/**
 * Records the state changes of a connection.
 *
 * @param conn The connection.
 * @returns The list the changes are appended to.
 */
function record(conn: BrokerConnection): StateChange[] {
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  return changes;
}

/** Whether the connection has entered `state` at some point. */
const reached = (changes: StateChange[], state: string) => () =>
  changes.some((c) => c.to === state);

test("a connection lost during REAUTH fails the in-flight request; held requests go out on the next connection", async () => {
  const clock = new SettlingFakeClock();
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  // Value 1 is answered late, so it is still in flight when re-authentication starts at 180 ms.
  serveEcho(broker, (v) => (v === 1 ? 1_000 : 0), clock);
  const log = settleLog();
  await using conn = connectionTo(broker, {
    clock,
    hooks: log.hooks,
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const changes = record(conn);
  await conn.connect();
  const slow = outcome(conn.send(Echo, 1));
  await advanceUntil(clock, reached(changes, "REAUTH"), "REAUTH");
  const held = outcome(conn.send(Echo, 2));
  await clock.advance(20);
  assert.equal(held.done, false, "a request sent during REAUTH went out before it ended");
  assert.equal(broker.requests.filter((r) => r.apiKey === Echo.key).length, 1);

  broker.down();
  await broker.up();
  await advanceUntil(clock, () => slow.done && held.done, "both requests to settle");

  assert.ok(slow.error instanceof ConnectionClosedError, String(slow.error));
  assert.equal(slow.error.retriable, true);
  assert.match(slow.error.message, /in state REAUTH\)$/);
  assert.equal(held.value, 2, String(held.error));
  assert.equal(log.count(Echo.key), 2, "each request settled once");
  const i = changes.findIndex((c) => c.to === "REAUTH");
  assert.deepEqual(changes.slice(i, i + 2).map((c) => `${c.from}->${c.to}`), [
    "UP->REAUTH",
    "REAUTH->DOWN",
  ]);
  assert.equal(conn.stats().connects, 2);
});

test("a refused re-authentication retries once on a fresh connection, which may authenticate", async () => {
  const clock = new SettlingFakeClock();
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  serveEcho(broker);
  // The provider answers bob from the second authentication on: Kafka refuses a principal
  // change on a live connection (SASL_AUTHENTICATION_FAILED) but accepts bob on a new one.
  let asked = 0;
  const log = settleLog();
  await using conn = connectionTo(broker, {
    clock,
    hooks: log.hooks,
    sasl: plain(async () => {
      const username = asked++ === 0 ? "alice" : "bob";
      // Slow on re-authentication, so that a request is sent while it is under way.
      if (asked === 2) await new Promise<void>((r) => clock.setTimeout(r, 50));
      return { username, password: users[username] };
    }),
  });
  const changes = record(conn);
  assert.equal(await conn.send(Echo, 7), 7);
  await advanceUntil(clock, reached(changes, "REAUTH"), "REAUTH");
  const held = outcome(conn.send(Echo, 8));
  await advanceUntil(clock, () => held.done, "the held request");

  assert.equal(held.value, 8, String(held.error));
  assert.equal(log.count(Echo.key), 2, "each request settled once");
  const i = changes.findIndex((c) => c.to === "REAUTH");
  assert.deepEqual(changes.slice(i, i + 5).map((c) => c.to), [
    "REAUTH",
    "AUTH_HANDSHAKE",
    "AUTH_REQ",
    "DOWN",
    "TRY_CONNECT",
  ]);
  assert.match(changes[i + 3].reason, /Cannot change principals/, "the broker's message");
  assert.equal(conn.state, "UP");
  assert.equal(conn.stats().connects, 2);
});

test("a refused re-authentication whose fresh connection is refused too fails the held requests", async () => {
  const clock = new SettlingFakeClock();
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  serveEcho(broker);
  let asked = 0;
  const log = settleLog();
  await using conn = connectionTo(broker, {
    clock,
    hooks: log.hooks,
    sasl: plain(async () => {
      // The secret "rotates" to a wrong one after the first authentication.
      if (asked++ === 1) await new Promise<void>((r) => clock.setTimeout(r, 50));
      return { username: "alice", password: asked === 1 ? users.alice : "rotated-wrong" };
    }),
  });
  const changes = record(conn);
  assert.equal(await conn.send(Echo, 1), 1);
  await advanceUntil(clock, reached(changes, "REAUTH"), "REAUTH");
  const held = outcome(conn.send(Echo, 2));
  await advanceUntil(clock, () => held.done, "the held request");

  assert.ok(held.error instanceof AuthenticationError, String(held.error));
  assert.equal(held.error.code, 58);
  assert.equal(held.error.retriable, false);
  assert.equal(log.count(Echo.key), 2, "each request settled once");
  assert.equal(log.failed(Echo.key), 1);
  // Well past any backoff: a refusal must not turn into redials.
  await clock.advance(60_000);
  const dials = changes.filter((c) => c.to === "CONNECT").length;
  assert.equal(dials, 2, "one fresh connection, no redial storm");
  assert.equal(changes.at(-1)?.to, "DOWN");
  assert.equal(conn.stats().disconnects, 2);
});
