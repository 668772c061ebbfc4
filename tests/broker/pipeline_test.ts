import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import { QueueFullError } from "../../broker/errors.ts";
import { DecodeError } from "../../framing/errors.ts";
import { Writer } from "../../framing/writer.ts";
import { Produce, type ProduceRequest } from "../../protocol/produce.ts";
import { AbortError, ConfigError, KafkaTransportError } from "../../transport/errors.ts";
import type { Connector } from "../../transport/conn.ts";
import { wrapConn } from "../fixtures/wrapped_conn.ts";
import { FakeClock, settle, SettlingFakeClock } from "../fixtures/fake_clock.ts";
import { waitFor } from "./observe.ts";
import type { RequestEvent } from "../../broker/options.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { apiVersionsOk, echoReply, replyFrame, ScriptedServer } from "./scripted_server.ts";

/** Deterministic pseudo-random numbers (mulberry32) so failures reproduce. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("10 000 pipelined requests with random reply delays each get their own reply", async () => {
  await using broker = await MockBroker.start({ outOfOrder: true });
  const random = seeded(7);
  serveEcho(broker, () => (random() < 0.5 ? 0 : Math.floor(random() * 5)));
  const events: RequestEvent[] = [];
  await using conn = connectionTo(broker, { hooks: { onRequest: (e) => events.push(e) } });
  const n = 10_000;
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => conn.send(Echo, i)));
  for (let i = 0; i < n; i++) assert.equal(replies[i], i);
  const stats = conn.stats();
  assert.equal(stats.requestsReplied, n + 1); // + ApiVersions
  assert.equal(stats.unknownReplies, 0);
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.queued, 0);
  // Coalescing: far fewer writes than requests.
  assert.ok(stats.writes < n / 10, `${stats.writes} writes for ${n} requests`);
  assert.ok(
    stats.rtt.samples > 0 && stats.rtt.max >= stats.rtt.p99 && stats.rtt.p99 >= stats.rtt.min,
  );
  const ids = new Set(events.map((e) => e.correlationId));
  assert.equal(ids.size, n + 1, "every correlation id is distinct");
  assert.ok(events.every((e) => e.error === undefined && e.repliedAt >= e.writtenAt));
});

test("a reply with an unknown correlation id is dropped and counted", async () => {
  const server = new ScriptedServer((req) => {
    if (req.apiKey === 18) return [apiVersionsOk(req)];
    return [replyFrame(123_456, (w) => w.int32(-1)), echoReply(req)];
  });
  const conn = new BrokerConnection({ host: "h", port: 1, connector: server.connector });
  assert.equal(await conn.send(Echo, 5), 5);
  assert.equal(conn.stats().unknownReplies, 1);
  assert.equal(conn.state, "UP");
  await conn.close();
  await server.close();
});

test("a reply body that fails to decode fails only its request", async () => {
  const server = new ScriptedServer((req) => {
    if (req.apiKey === 18) return [apiVersionsOk(req)];
    if (req.body.int32() === 1) return [replyFrame(req.correlationId, () => {}, true)];
    return [replyFrame(req.correlationId, (w) => w.int32(2), true)];
  });
  const conn = new BrokerConnection({ host: "h", port: 1, connector: server.connector });
  const [bad, good] = await Promise.allSettled([conn.send(Echo, 1), conn.send(Echo, 2)]);
  assert.equal(bad.status, "rejected");
  assert.ok((bad as PromiseRejectedResult).reason instanceof DecodeError);
  assert.deepEqual(good, { status: "fulfilled", value: 2 });
  assert.equal(conn.state, "UP");
  assert.equal(conn.stats().connects, 1);
  await conn.close();
  await server.close();
});

test("abort before the write removes the request from the queue", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  broker.faults.delay(30, 18);
  await using conn = connectionTo(broker);
  const ac = new AbortController();
  const pending = conn.send(Echo, 1, { signal: ac.signal });
  const queued = conn.request({
    apiKey: Echo.key,
    apiVersion: 0,
    flexible: false,
    encodeBody: (w) => w.int32(9),
    decodeBody: (r) => r.int32(),
    signal: ac.signal,
  });
  assert.equal(conn.stats().queued, 2);
  ac.abort();
  await assert.rejects(queued, AbortError);
  await assert.rejects(pending, AbortError);
  assert.equal(conn.stats().queued, 0);
  assert.equal(await conn.send(Echo, 3), 3);
  assert.deepEqual(broker.requests.filter((r) => r.apiKey === Echo.key).length, 1);
  assert.equal(conn.stats().discardedReplies, 0);
});

test("abort after the write settles at once and discards the late reply", async () => {
  await using broker = await MockBroker.start();
  // Value 1 is answered when the test moves this clock, after the abort.
  const replies = new FakeClock();
  serveEcho(broker, (v) => (v === 1 ? 40 : 0), replies);
  await using conn = connectionTo(broker);
  await conn.connect();
  const ac = new AbortController();
  const pending = conn.send(Echo, 1, { signal: ac.signal });
  await waitFor(() => broker.requests.some((r) => r.apiKey === Echo.key), "value 1 at the broker");
  assert.equal(conn.stats().inFlight, 1);
  ac.abort(new Error("user gave up"));
  const err = await pending.then(() => null, (e) => e);
  assert.ok(err instanceof AbortError);
  assert.match(err.message, /after it was sent; its reply will be discarded/);
  replies.advance(40);
  // The next request is answered after the late reply (in-order broker), which is discarded.
  assert.equal(await conn.send(Echo, 2), 2);
  const stats = conn.stats();
  assert.equal(stats.discardedReplies, 1);
  assert.equal(stats.unknownReplies, 0);
});

test("expectResponse false resolves once written", async () => {
  await using broker = await MockBroker.start();
  broker.handle(Echo, () => NO_REPLY);
  await using conn = connectionTo(broker);
  const value = await conn.send(Echo, 1, { expectResponse: false });
  assert.equal(value, undefined);
  assert.equal(conn.stats().inFlight, 0);
});

test("maxQueued rejects with QueueFullError for { wait: false } and otherwise waits", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  await using conn = connectionTo(broker, { maxQueued: 2 });
  await conn.connect();
  const a = conn.send(Echo, 1);
  const b = conn.send(Echo, 2);
  // Queued synchronously; the write happens in a microtask.
  assert.equal(conn.stats().queued, 2);
  await assert.rejects(conn.send(Echo, 3, { wait: false }), QueueFullError);
  const c = conn.send(Echo, 4);
  assert.deepEqual(await Promise.all([a, b, c]), [1, 2, 4]);
});

test("maxInFlight bounds the requests awaiting replies", async () => {
  await using broker = await MockBroker.start();
  let conn: BrokerConnection | null = null;
  let maxSeen = 0;
  broker.handle(Echo, async (req) => {
    maxSeen = Math.max(maxSeen, conn!.stats().inFlight);
    await settle(1); // lets the next requests arrive before this one is answered
    const v = req.body.int32();
    return new Uint8Array([v >>> 24, v >>> 16, v >>> 8, v]);
  });
  conn = connectionTo(broker, { maxInFlight: 3 });
  const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => conn!.send(Echo, i)));
  assert.deepEqual(replies, Array.from({ length: 50 }, (_, i) => i));
  assert.equal(maxSeen, 3);
  await conn.close();
});

test("a request whose body fails to encode fails alone; its batch-mates are answered", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  await using conn = connectionTo(broker);
  await conn.connect();
  const broken = conn.request({
    apiKey: Echo.key,
    apiVersion: 0,
    flexible: false,
    encodeBody: (w) => {
      w.int32(1);
      throw new RangeError("no such field");
    },
    decodeBody: (r) => r.int32("echo"),
  });
  // Queued in the same tick, so all three are encoded into one batch.
  const [before, after] = [conn.send(Echo, 7), conn.send(Echo, 8)];
  await assert.rejects(broken, (e: Error) => {
    assert.ok(e instanceof ConfigError, `typed error, got ${e}`);
    assert.equal(e.retriable, false);
    assert.ok(e.cause instanceof RangeError);
    assert.match(
      e.message,
      /^Encoding Unknown\(1000\) v0 request failed: no such field — check the encodeBody of request\(\)/,
    );
    return true;
  });
  assert.equal(await before, 7);
  assert.equal(await after, 8);
  assert.equal(conn.state, "UP");
  const stats = conn.stats();
  assert.equal(stats.queued, 0);
  assert.equal(stats.inFlight, 0);
});

test("a request settled before its reply frees its in-flight slot at once", async () => {
  await using broker = await MockBroker.start();
  // Value 1 is never answered: with maxInFlight 1 it would hold the only slot for good.
  broker.handle(Echo, (req) => {
    const value = req.body.int32("value");
    return value === 1 ? NO_REPLY : new Writer(4).int32(value).finish().slice();
  });
  await using conn = connectionTo(broker, { maxInFlight: 1 });
  await conn.connect();
  const ac = new AbortController();
  const stuck = conn.send(Echo, 1, { signal: ac.signal }).catch((e) => e);
  const next = conn.send(Echo, 2);
  await waitFor(() => conn.stats().inFlight === 1, "value 1 in flight");
  assert.deepEqual([conn.stats().inFlight, conn.stats().queued], [1, 1]);
  ac.abort();
  assert.ok((await stuck) instanceof AbortError);
  assert.equal(await next, 2);
  assert.equal(conn.stats().inFlight, 0);
});

test("no request timer outlives the connection once nothing has a deadline", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  const clock = new SettlingFakeClock();
  await using conn = connectionTo(broker, { clock, requestTimeoutMs: 60_000 });
  const idle = clock.pending;
  assert.equal(await conn.send(Echo, 3), 3);
  // While connected the timer may stay armed (the socket keeps the process alive anyway);
  // once the connection is gone with nothing queued, nothing may keep it alive.
  broker.down();
  for (let i = 0; i < 100 && conn.state !== "DOWN"; i++) await settle();
  assert.equal(conn.state, "DOWN");
  assert.equal(clock.pending, idle, `timers left: ${clock.delays}`);
});

test("a Conn whose write throws synchronously fails the connection with a typed error", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  let throwOnWrite = false;
  // A user's own Conn that breaks the contract: it throws instead of rejecting.
  const connector: Connector = async (options) => {
    const inner = await broker.connector(options);
    return wrapConn(inner, {
      write: (bytes) => {
        if (throwOnWrite) throw new TypeError("socket is gone");
        return inner.write(bytes);
      },
    });
  };
  await using conn = connectionTo(broker, { connector });
  assert.equal(await conn.send(Echo, 1), 1);
  throwOnWrite = true;
  const error = await conn.send(Echo, 2).catch((e) => e);
  assert.ok(error instanceof KafkaTransportError, String(error));
  assert.match(error.message, /Writing to the broker: socket is gone/);
  assert.equal(conn.state, "DOWN");
});

test("send() with a request value its codec cannot even look at rejects, never throws", async () => {
  await using broker = await MockBroker.start();
  await using conn = connectionTo(broker);
  const call = () => conn.send(Produce, undefined as unknown as ProduceRequest);
  let result: Promise<unknown> | undefined;
  assert.doesNotThrow(() => void (result = call().catch((e) => e)));
  const error = await result;
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /^Preparing a Produce request failed: .* check the request value/);
});
