/**
 * Re-authentication when it goes wrong: the connection lost while REAUTH waits for in-flight
 * replies, and a broker that refuses the new session. Every request settles exactly once.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { plain } from "../../sasl/mod.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { ConnectionClosedError } from "../../transport/errors.ts";
import type { BrokerConnection } from "../../broker/connection.ts";
import type { BrokerState, StateChange } from "../../broker/state.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";

const users = { alice: "alice-secret", bob: "bob-secret" };

/** A promise's outcome, readable without awaiting it. */
function settleOnce<T>(promise: Promise<T>) {
  const seen = { value: undefined as T | undefined, error: undefined as unknown, count: 0 };
  const done = promise.then(
    (v) => {
      seen.count++;
      seen.value = v;
    },
    (e) => {
      seen.count++;
      seen.error = e;
    },
  );
  return { seen, done };
}

/**
 * Waits (real time, bounded) until the connection has entered `state`.
 *
 * @param changes The recorded state changes.
 * @param state The state to wait for.
 */
async function until(changes: StateChange[], state: BrokerState): Promise<void> {
  for (let i = 0; i < 200 && !changes.some((c) => c.to === state); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(changes.some((c) => c.to === state), `never reached ${state}`);
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

test("a connection lost during REAUTH fails the in-flight request; held requests go out on the next connection", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  // Value 1 is answered late, so it is still in flight when re-authentication starts at 180 ms.
  serveEcho(broker, (v) => (v === 1 ? 1_000 : 0));
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const changes = record(conn);
  await conn.connect();
  const slow = settleOnce(conn.send(Echo, 1));
  await until(changes, "REAUTH");
  const held = settleOnce(conn.send(Echo, 2));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.seen.count, 0, "a request sent during REAUTH went out before it ended");

  broker.down();
  await broker.up();
  await Promise.all([slow.done, held.done]);

  assert.ok(slow.seen.error instanceof ConnectionClosedError, String(slow.seen.error));
  assert.equal(slow.seen.error.retriable, true);
  assert.match(slow.seen.error.message, /in state REAUTH\)$/);
  assert.equal(held.seen.value, 2, String(held.seen.error));
  assert.equal(slow.seen.count + held.seen.count, 2);
  const i = changes.findIndex((c) => c.to === "REAUTH");
  assert.deepEqual(changes.slice(i, i + 2).map((c) => `${c.from}->${c.to}`), [
    "UP->REAUTH",
    "REAUTH->DOWN",
  ]);
  assert.equal(conn.stats().connects, 2);
});

test("a refused re-authentication retries once on a fresh connection, which may authenticate", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  serveEcho(broker);
  // The provider answers bob from the second authentication on: Kafka refuses a principal
  // change on a live connection (SASL_AUTHENTICATION_FAILED) but accepts bob on a new one.
  let asked = 0;
  await using conn = connectionTo(broker, {
    sasl: plain(async () => {
      const username = asked++ === 0 ? "alice" : "bob";
      // Slow on re-authentication, so that a request is sent while it is under way.
      if (asked === 2) await new Promise((r) => setTimeout(r, 50));
      return { username, password: users[username] };
    }),
  });
  const changes = record(conn);
  assert.equal(await conn.send(Echo, 7), 7);
  await until(changes, "REAUTH");
  const held = settleOnce(conn.send(Echo, 8));
  await held.done;

  assert.equal(held.seen.value, 8, String(held.seen.error));
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
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, sessionLifetimeMs: 200 },
  });
  serveEcho(broker);
  let asked = 0;
  await using conn = connectionTo(broker, {
    sasl: plain(async () => {
      // The secret "rotates" to a wrong one after the first authentication.
      if (asked++ === 1) await new Promise((r) => setTimeout(r, 50));
      return { username: "alice", password: asked === 1 ? users.alice : "rotated-wrong" };
    }),
  });
  const changes = record(conn);
  assert.equal(await conn.send(Echo, 1), 1);
  await until(changes, "REAUTH");
  const held = settleOnce(conn.send(Echo, 2));
  await held.done;

  assert.ok(held.seen.error instanceof AuthenticationError, String(held.seen.error));
  assert.equal(held.seen.error.code, 58);
  assert.equal(held.seen.error.retriable, false);
  assert.equal(held.seen.count, 1);
  await new Promise((r) => setTimeout(r, 300));
  const dials = changes.filter((c) => c.to === "CONNECT").length;
  assert.equal(dials, 2, "one fresh connection, no redial storm");
  assert.equal(changes.at(-1)?.to, "DOWN");
  assert.equal(conn.stats().disconnects, 2);
});
