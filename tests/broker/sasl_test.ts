import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import { plain, scramSha256 } from "../../sasl/mod.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { ConnectionClosedError } from "../../transport/errors.ts";
import type { Connector } from "../../transport/conn.ts";
import { wrapConn } from "../fixtures/wrapped_conn.ts";
import type { StateChange } from "../../broker/state.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { settleLog } from "./observe.ts";
import { FakeClock, settle, SettlingFakeClock } from "../fixtures/fake_clock.ts";

const users = { alice: "alice-secret" };

test("SASL PLAIN: ApiVersions, SaslHandshake v1, SaslAuthenticate, then UP", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  assert.equal(await conn.send(Echo, 4), 4);
  assert.deepEqual(changes.map((c) => c.to), [
    "TRY_CONNECT",
    "CONNECT",
    "APIVERSION_QUERY",
    "AUTH_HANDSHAKE",
    "AUTH_REQ",
    "UP",
  ]);
  assert.deepEqual(
    broker.requests.map((r) => [r.apiKey, r.apiVersion]),
    [[18, 3], [17, 1], [36, 2], [Echo.key, 2]],
  );
});

test("SASL SCRAM-SHA-256 authenticates in two round trips", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["SCRAM-SHA-256"], users } });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    sasl: scramSha256({ username: "alice", password: "alice-secret" }),
  });
  assert.equal(await conn.send(Echo, 9), 9);
  assert.equal(broker.requests.filter((r) => r.apiKey === 36).length, 2);
});

test("wrong credentials fail with the broker's message and do not reconnect in a storm", async () => {
  const clock = new SettlingFakeClock();
  await using broker = await MockBroker.start({ clock, sasl: { mechanisms: ["PLAIN"], users } });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    clock,
    sasl: plain({ username: "alice", password: "wrong" }),
  });
  const queued = conn.send(Echo, 1).then(() => null, (e) => e);
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.equal(err.retriable, false);
  assert.equal(err.code, 58);
  assert.match(
    err.message,
    /SASL PLAIN authentication failed: SASL_AUTHENTICATION_FAILED \(58\): /,
  );
  assert.match(err.message, /\(after \d+ ms in state AUTH_REQ\)$/);
  assert.equal(await queued, err, "queued requests fail with the authentication error");
  const seen = broker.requests.length;
  await clock.advance(60_000); // far past any backoff
  assert.equal(broker.requests.length, seen, "no reconnect without new work");
  assert.equal(conn.stats().connects + conn.stats().disconnects, 1, "one attempt in all");
  assert.equal(conn.state, "DOWN");
});

test("a mechanism the broker does not enable fails listing the enabled ones", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["SCRAM-SHA-256"], users } });
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.match(err.message, /UNSUPPORTED_SASL_MECHANISM \(33\).*\[SCRAM-SHA-256\]/);
});

test("legacy SASL: SaslHandshake v0 then raw token frames (AUTH_LEGACY)", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, legacy: true },
  });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  assert.equal(await conn.send(Echo, 6), 6);
  assert.deepEqual(changes.map((c) => c.to).slice(2), [
    "APIVERSION_QUERY",
    "AUTH_HANDSHAKE",
    "AUTH_LEGACY",
    "UP",
  ]);
  assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]).slice(0, 2), [[18, 3], [
    17,
    0,
  ]]);
});

test("legacy SASL: a broker hanging up on the token is an authentication failure, not retried", async () => {
  const clock = new SettlingFakeClock();
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["PLAIN"], users, legacy: true },
  });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    clock,
    sasl: plain({ username: "alice", password: "wrong" }),
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  const err = await conn.send(Echo, 6).then(() => null, (e) => e);
  assert.ok(err instanceof AuthenticationError, String(err));
  assert.equal(err.retriable, false);
  assert.match(
    err.message,
    /closed the connection during legacy .*credentials \(after \d+ ms in state AUTH_LEGACY\)$/,
  );
  assert.deepEqual(changes.map((c) => c.to).slice(-2), ["AUTH_LEGACY", "DOWN"]);
  const count = changes.length;
  await clock.advance(60_000); // far past any backoff
  assert.equal(changes.length, count, "no redial for the failed request");
  assert.equal(changes.at(-1)?.to, "DOWN");
});

test("a broker that requires SASL closing right after UP gets the SASL hint", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  serveEcho(broker);
  await using conn = connectionTo(broker);
  const err = await conn.send(Echo, 1).then(() => null, (e) => e);
  assert.ok(err instanceof ConnectionClosedError, String(err));
  assert.match(
    err.message,
    /broker might require SASL authentication \(after \d+ ms in state UP\)$/,
  );
  assert.equal(err.hint, "sasl-required");
});

test("a broker closing during SaslAuthenticate gets the credentials hint", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  // ApiVersions, SaslHandshake, then SaslAuthenticate: closed instead of answered.
  broker.faults.closeOnRequest(3);
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  const err = await conn.connect().then(() => null, (e) => e);
  assert.ok(err instanceof ConnectionClosedError, String(err));
  assert.match(
    err.message,
    /check the SASL mechanism and credentials \(after \d+ ms in state AUTH_REQ\)$/,
  );
  assert.equal(err.hint, "sasl-credentials");
});

test("re-authentication under load: every request answered once, no reconnect", async () => {
  // Fires due timers synchronously; the loop below lets async work run between steps.
  const clock = new FakeClock(1000);
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["SCRAM-SHA-256"], users, sessionLifetimeMs: 300 },
  });
  serveEcho(broker, (v) => v % 3, clock);
  const log = settleLog();
  await using conn = connectionTo(broker, {
    clock,
    hooks: log.hooks,
    sasl: scramSha256({ username: "alice", password: "alice-secret" }),
  });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  await conn.connect();
  let next = 0;
  let stop = false;
  const answers = new Map<number, number>();
  // Eight concurrent senders, each with a request outstanding whenever a re-authentication
  // (due 270 fake ms after each UP) starts, until two have completed.
  const senders = Promise.all(Array.from({ length: 8 }, async () => {
    while (!stop) {
      const v = next++;
      const got = await conn.send(Echo, v);
      assert.equal(got, v);
      answers.set(v, (answers.get(v) ?? 0) + 1);
    }
  }));
  const reauthenticated = () => changes.filter((c) => c.reason === "re-authenticated").length;
  for (let i = 0; i < 20_000 && reauthenticated() < 2; i++) {
    clock.advance(1);
    await settle(1);
  }
  assert.equal(reauthenticated(), 2, "two re-authentications within 20 000 fake ms");
  stop = true;
  for (let i = 0; i < 1000 && answers.size < next; i++) {
    clock.advance(1);
    await settle(1);
  }
  await senders;
  assert.ok(next > 100, `only ${next} requests`);
  assert.equal(log.count(Echo.key), next, "each request settled once");
  assert.equal(log.failed(Echo.key), 0);
  assert.equal(broker.requests.filter((r) => r.apiKey === Echo.key).length, next, "none resent");
  const reauths = changes.filter((c) => c.to === "REAUTH").length;
  assert.equal(reauths, 2, `${reauths} re-authentications`);
  const stats = conn.stats();
  assert.equal(stats.connects, 1);
  assert.equal(stats.disconnects, 0);
  // REAUTH → AUTH_HANDSHAKE → AUTH_REQ → UP, each time.
  const i = changes.findIndex((c) => c.to === "REAUTH");
  assert.deepEqual(changes.slice(i, i + 4).map((c) => c.to), [
    "REAUTH",
    "AUTH_HANDSHAKE",
    "AUTH_REQ",
    "UP",
  ]);
});

test("legacy SASL: a close after the broker's last token is an ordinary loss, retried", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users, legacy: true },
  });
  serveEcho(broker);
  // The first connection ends right after the broker's reply to the PLAIN token (success).
  let dials = 0;
  const connector: Connector = async (options) => {
    const inner = await broker.connector(options);
    const cutAfterAuth = dials++ === 0;
    let frames = 0;
    return wrapConn(inner, {
      read: async () => {
        const chunk = await inner.read();
        // ApiVersions, SaslHandshake v0, then the (empty) token reply: end the stream there.
        if (cutAfterAuth && chunk !== null && ++frames === 3) {
          queueMicrotask(() => inner.close());
        }
        return chunk;
      },
    });
  };
  await using conn = connectionTo(broker, {
    connector,
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  assert.equal(await conn.send(Echo, 5), 5);
  assert.equal(dials, 2, "the lost connection was redialled, not failed as a refusal");
});
