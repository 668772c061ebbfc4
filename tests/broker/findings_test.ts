/**
 * The review findings of the connection split (issue 9, findings 1–7) and the TLS seam check,
 * each as a test that failed before its fix.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import { BrokerClosedError, QueueFullError, RequestTimeoutError } from "../../broker/errors.ts";
import type { StateChange } from "../../broker/state.ts";
import { Writer } from "../../framing/writer.ts";
import { ApiVersions } from "../../protocol/api_versions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { plain } from "../../sasl/mod.ts";
import type { Connector } from "../../transport/conn.ts";
import {
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
} from "../../transport/errors.ts";
import { settle, SettlingFakeClock } from "../fixtures/fake_clock.ts";
import { wrapConn } from "../fixtures/wrapped_conn.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";

/** Records how a promise settled, without leaving it unhandled. */
function track<T>(p: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const t: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (value) => Object.assign(t, { done: true, value }),
    (error) => Object.assign(t, { done: true, error }),
  );
  return t;
}

/** How many "(after N ms in state X)" suffixes a message carries. */
function suffixes(message: string): number {
  return message.match(/\(after \d+ ms in state [A-Z_]+\)/g)?.length ?? 0;
}

test("finding 1: a non-retriable error from read() keeps its class and is not redialled", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  let failNextRead = false;
  let dials = 0;
  const connector: Connector = async (options) => {
    dials++;
    const inner = await broker.connector(options);
    return wrapConn(inner, {
      read: async () => {
        const chunk = await inner.read();
        if (!failNextRead) return chunk;
        failNextRead = false;
        // What the Workers adapter rejects with for a socket used from another request.
        throw new ConfigError("socket belongs to another request");
      },
    });
  };
  await using conn = connectionTo(broker, { connector, maxInFlight: 1 });
  assert.equal(await conn.send(Echo, 1), 1);
  failNextRead = true;
  const inFlight = track(conn.send(Echo, 2));
  const queued = track(conn.send(Echo, 3));
  for (let i = 0; i < 50 && !(inFlight.done && queued.done); i++) await settle(1);
  assert.ok(inFlight.error instanceof ConfigError, String(inFlight.error));
  assert.match(inFlight.error.message, /^socket belongs to another request \(after \d+ ms/);
  // Not retriable, so the queued request fails with it instead of dialling again.
  assert.equal(queued.error, inFlight.error);
  assert.equal(dials, 1);
  assert.equal(conn.state, "DOWN");
});

test("finding 2: draining for re-authentication is bounded by the requests' timeouts, not the setup timeout", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users: { alice: "alice-secret" }, sessionLifetimeMs: 10_000 },
  });
  let release: (() => void) | null = null;
  broker.handle(Echo, (req) => {
    const value = req.body.int32("value");
    const reply = new Writer(8).int32(value).finish().slice();
    // Value 1 is a long poll: answered only when the test says so.
    if (value !== 1) return reply;
    return new Promise((resolve) => (release = () => resolve(reply)));
  });
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, {
    clock,
    sasl: plain({ username: "alice", password: "alice-secret" }),
    connectionSetupTimeoutMs: 1000,
    requestTimeoutMs: 60_000,
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  await conn.connect();
  const poll = track(conn.send(Echo, 1, { timeoutMs: 30_000 }));
  await clock.advance(9000);
  assert.equal(conn.state, "REAUTH");
  // Five times the setup timeout while the long poll is still in flight.
  await clock.advance(5000);
  assert.equal(conn.state, "REAUTH", changes.map((c) => `${c.to}: ${c.reason}`).join("\n"));
  release!();
  for (let i = 0; i < 50 && !poll.done; i++) await settle(1);
  await clock.advance(0);
  assert.equal(poll.value, 1, String(poll.error));
  assert.equal(conn.state, "UP");
  assert.equal(conn.stats().connects, 1);
  assert.equal(await conn.send(Echo, 2), 2);
});

test("finding 3: a DOWN listener sees a finished transition, and sees it before TRY_CONNECT", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  // A non-retriable failure of the first connection only.
  broker.faults.error(ApiVersions.key, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 1);
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, { clock });
  const seenByFirst: string[] = [];
  const seenBySecond: string[] = [];
  const atDown: { queued: number; inFlight: number }[] = [];
  const fromListener: { done: boolean; value?: number; error?: unknown }[] = [];
  conn.onStateChange((c) => {
    seenByFirst.push(c.to);
    if (c.to !== "DOWN" || fromListener.length > 0) return;
    const { queued, inFlight } = conn.stats();
    atDown.push({ queued, inFlight });
    fromListener.push(track(conn.send(Echo, 5)));
  });
  conn.onStateChange((c) => seenBySecond.push(c.to));
  const before = track(conn.send(Echo, 4));
  for (let i = 0; i < 100 && !before.done; i++) await settle(1);
  // The reconnect backoff, on the fake clock.
  await clock.advance(1000);
  for (let i = 0; i < 100 && !(fromListener[0]?.done ?? false); i++) await settle(1);
  // The queued request was failed before the listeners were told.
  assert.ok(before.error instanceof Error && before.error.name === "KafkaProtocolError");
  assert.deepEqual(atDown, [{ queued: 0, inFlight: 0 }]);
  // The request sent from the DOWN listener went out on the next connection.
  assert.equal(fromListener[0].value, 5, String(fromListener[0].error));
  const expected = ["TRY_CONNECT", "CONNECT", "APIVERSION_QUERY", "DOWN", "TRY_CONNECT"];
  assert.deepEqual(seenByFirst.slice(0, 5), expected);
  assert.deepEqual(seenBySecond.slice(0, 5), expected);
});

test("finding 4: a queue-room waiter that was woken keeps its slot against synchronous callers", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, { clock, maxQueued: 1 });
  const abort = new AbortController();
  const first = track(conn.send(Echo, 1, { signal: abort.signal }));
  const waiting = track(conn.send(Echo, 2));
  abort.abort();
  // A synchronous caller right after the slot was freed: the waiter woken for it comes first.
  const late = track(conn.send(Echo, 3, { wait: false }));
  await settle();
  assert.ok(first.error instanceof Error && first.error.name === "AbortError");
  assert.ok(late.error instanceof QueueFullError, String(late.error ?? "accepted"));
  assert.equal(waiting.done, false);
  assert.equal(conn.stats().queued, 1);
  await conn.close({ graceful: false });
  await settle();
  assert.ok(waiting.error instanceof BrokerClosedError, String(waiting.error));
});

test("finding 5: a request that times out in the queue of a full pipeline says so", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, { clock, maxInFlight: 1, socketMaxFails: 0 });
  await conn.connect();
  const unanswered = track(conn.send(Echo, 1, { timeoutMs: 10_000 }));
  const queued = track(conn.send(Echo, 2, { timeoutMs: 1000 }));
  await clock.advance(1000);
  assert.equal(unanswered.done, false);
  assert.ok(queued.error instanceof RequestTimeoutError, String(queued.error));
  assert.equal(queued.error.inQueue, true);
  assert.match(
    queued.error.message,
    /timed out in queue after 1000 ms without being sent: the connection is UP but all 1 in-flight slot\(s\) \(maxInFlight\) were taken/,
  );
  assert.doesNotMatch(queued.error.message, /not ready|reachable/);
  assert.equal(conn.state, "UP");
  await conn.close({ graceful: false });
});

test("finding 6: an error from below gets the connection's context on a copy; the original is untouched", async () => {
  const original = new ConnectionRefusedError("refused by the test's connector");
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: () => Promise.reject(original),
  });
  const first = await conn.connect().then(() => null, (e) => e);
  assert.equal(original.message, "refused by the test's connector");
  assert.ok(first instanceof ConnectionRefusedError, String(first));
  assert.notEqual(first, original);
  assert.equal(first.cause, original);
  assert.equal(first.retriable, true);
  assert.match(
    first.message,
    /^refused by the test's connector \(after \d+ ms in state CONNECT\)$/,
  );
  await conn.close();
});

test("finding 6: a message that already reads like a suffix still gets the connection's own", async () => {
  const foreign = new ConnectionRefusedError("proxy refused (after 5 ms in state UP)");
  const conn = new BrokerConnection({
    host: "h",
    port: 1,
    connector: () => Promise.reject(foreign),
  });
  const error = await conn.connect().then(() => null, (e) => e);
  assert.ok(error instanceof ConnectionRefusedError, String(error));
  assert.match(
    error.message,
    /^proxy refused \(after 5 ms in state UP\) \(after \d+ ms in state CONNECT\)$/,
  );
  assert.equal(foreign.message, "proxy refused (after 5 ms in state UP)");
  await conn.close();
});

test("finding 7: a queued request timed out after failed attempts reads one suffix", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 1000 });
  const t = track(conn.send(Echo, 1));
  await clock.advance(1000);
  assert.ok(t.error instanceof RequestTimeoutError, String(t.error));
  assert.equal(suffixes(t.error.message), 1, t.error.message);
  assert.match(
    t.error.message,
    /its last attempt failed: .*refused.*\(after \d+ ms in state \w+\)$/,
  );
  // The cause keeps its own context.
  assert.ok(t.error.cause instanceof ConnectionRefusedError);
  assert.equal(suffixes(t.error.cause.message), 1);
});

test("with tls configured, a connector returning a plaintext Conn fails with ConfigError before anything is sent", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users: { alice: "alice-secret" } },
  });
  let writes = 0;
  // A custom connector that ignores the tls option.
  const plaintextConnector: Connector = async (options) => {
    const inner = await broker.connector({ ...options, tls: undefined });
    return wrapConn(inner, {
      write: (bytes) => {
        writes++;
        return inner.write(bytes);
      },
    });
  };
  await using conn = new BrokerConnection({
    host: broker.host,
    port: broker.port,
    connector: plaintextConnector,
    tls: {},
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const error = await conn.connect().then(() => null, (e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(
    error.message,
    /tls is set, but connector plaintextConnector returned a connection that is not secure/,
  );
  assert.equal(writes, 0);
  assert.equal(broker.requests.length, 0);
  assert.equal(conn.stats().requestsSent, 0);
  // Not retriable: a queued request fails with it rather than dialling in a loop.
  const queued = await conn.send(Echo, 1).then(() => null, (e) => e);
  assert.ok(queued instanceof ConfigError, String(queued));
  assert.ok(!(queued instanceof ConnectionClosedError));
});
