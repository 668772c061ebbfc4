/**
 * The parts of a broker connection on their own: the pipeline over one socket with a stub
 * connection, queue admission, the deadline timer, re-authentication scheduling, idle reaping,
 * the in-flight table, state events and version choice.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { FakeClock, settle } from "../fixtures/fake_clock.ts";
import { FrameDecoder } from "../../framing/decoder.ts";
import { DecodeError } from "../../framing/errors.ts";
import { Writer } from "../../framing/writer.ts";
import type { Reader } from "../../framing/reader.ts";
import { memoryPair } from "../../transport/memory.ts";
import { AbortError, type KafkaTransportError } from "../../transport/errors.ts";
import { QueueAdmission } from "../../broker/admission.ts";
import { DeadlineTimer } from "../../broker/deadline.ts";
import { IdleReaper } from "../../broker/idle.ts";
import { InFlightTable } from "../../broker/in_flight.ts";
import { type RequestEvent, resolveOptions } from "../../broker/options.ts";
import { type Pending, rawPending, sendPending, track } from "../../broker/pending.ts";
import { Pipeline, type PipelineHost } from "../../broker/pipeline.ts";
import { REAUTH_AT, reauthDelay, ReauthSchedule } from "../../broker/reauth.ts";
import { BrokerSocket } from "../../broker/socket.ts";
import { StateEvents } from "../../broker/state_events.ts";
import type { StateChange } from "../../broker/state.ts";
import { Counters } from "../../broker/stats.ts";
import { TurnClock } from "../../broker/turn_clock.ts";
import { BrokerVersions } from "../../broker/versions.ts";
import { UnsupportedVersionError } from "../../broker/errors.ts";
import { Echo } from "./echo_api.ts";

/** A reply frame body: correlation id then an int32 value (response header v0). */
function reply(correlationId: number, value: number): Uint8Array {
  return new Writer(8).int32(correlationId).int32(value).finish().slice();
}

const decodeInt = (r: Reader): unknown => r.int32();

/**
 * Delivers a reply body as the socket does: in place, here 3 bytes into a buffer with bytes of
 * other frames around it, so decoding must keep to the frame's range.
 */
function replyTo(pipeline: Pipeline, body: Uint8Array, now: number): boolean {
  const buf = new Uint8Array(body.length + 6).fill(0xee);
  buf.set(body, 3);
  return pipeline.reply(buf, 3, 3 + body.length, now);
}

/** A pipeline over one in-memory socket, with a stub connection that records what it is told. */
function rig(
  options: { maxInFlight?: number; up?: boolean; onRequest?: (e: RequestEvent) => void } = {},
) {
  const clock = new FakeClock(1000);
  const o = resolveOptions({
    host: "h",
    port: 1,
    connector: () => Promise.reject(new Error("not used")),
    clock,
    clientId: "t",
    maxInFlight: options.maxInFlight ?? 100,
    hooks: { onRequest: options.onRequest },
  });
  const told = { versionOf: 0, teardown: [] as KafkaTransportError[], wanted: 0 };
  const host: PipelineHost = {
    isUp: () => options.up ?? true,
    where: () => " (here)",
    versionOf: () => {
      told.versionOf++;
      return 1;
    },
    queuedTimeout: () => ({ reason: "stubbed", cause: null }),
    wantConnection: () => void told.wanted++,
    teardown: (e) => void told.teardown.push(e),
    writeFailed: () => {},
  };
  const counters = new Counters();
  const pipeline = new Pipeline(o, host, counters, new TurnClock(clock));
  const { client, server } = memoryPair();
  const socket = new BrokerSocket(
    {
      reply: (buf, start, end, now) => pipeline.reply(buf, start, end, now),
      received: () => clock.now(),
      chunkDone: () => pipeline.schedulePump(),
      readEnded: () => {},
    },
    clock,
    1000,
  );
  assert.equal(socket.open(client), true);
  pipeline.attach(socket);
  const request = (value: number, timeoutMs = 5000): Promise<unknown> =>
    track(
      rawPending(
        {
          apiKey: Echo.key,
          apiVersion: 0,
          flexible: false,
          encodeBody: (w) => w.int32(value),
          decodeBody: decodeInt,
        },
        "Echo",
        true,
        { timeoutMs, now: clock.now(), signal: undefined },
      ),
      (p: Pending) => pipeline.enqueue(p),
    );
  /** Reads the request frames the pipeline wrote, as [correlation id, value] pairs. */
  const written = async (): Promise<[number, number][]> => {
    const decoder = new FrameDecoder();
    const chunk = await server.read();
    decoder.push(chunk!);
    const out: [number, number][] = [];
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
      // Header v1: key, version, correlation id, client id "t" (2 + 1 bytes), then the body.
      out.push([view.getInt32(4), view.getInt32(11)]);
    }
    return out;
  };
  return { clock, pipeline, counters, told, socket, server, request, written };
}

test("Pipeline writes a burst in one batch and matches replies out of order", async () => {
  const { pipeline, counters, request, written } = rig();
  const results = [request(10), request(11), request(12)];
  await settle(1);
  const frames = await written();
  assert.deepEqual(frames.map(([, v]) => v), [10, 11, 12]);
  assert.equal(counters.writes, 1);
  assert.equal(counters.sent, 3);
  assert.equal(pipeline.inFlight, 3);
  for (const [id, v] of [...frames].reverse()) replyTo(pipeline, reply(id, v * 2), 0);
  assert.deepEqual(await Promise.all(results), [20, 22, 24]);
  assert.equal(pipeline.inFlight, 0);
});

test("Pipeline: a reply body that fails to decode names the byte within its frame", async () => {
  const { pipeline, request, written } = rig();
  const result = request(7);
  await settle(1);
  const [[id]] = await written();
  // The correlation id alone: the int32 the codec reads is missing, at byte 4 of the frame,
  // though the frame lies 3 bytes into the buffer it is decoded in.
  replyTo(pipeline, new Writer(4).int32(id).finish().slice(), 0);
  await assert.rejects(result, (e: unknown) => {
    assert.ok(e instanceof DecodeError);
    assert.equal(e.offset, 4);
    assert.match(e.message, /at byte 4: needs 4 bytes, only 0 left/);
    return true;
  });
  assert.equal(pipeline.inFlight, 0);
});

test("Pipeline settles each request exactly once with its own reply", async () => {
  const { pipeline, counters, written, clock } = rig();
  const values: unknown[] = [];
  let settlements = 0;
  const ps: Pending[] = [];
  for (const v of [1, 2, 3]) {
    const p = rawPending(
      { apiKey: Echo.key, apiVersion: 0, flexible: false, encodeBody: (w) => w.int32(v) },
      "Echo",
      true,
      { timeoutMs: 5000, now: clock.now(), signal: undefined },
    );
    p.decodeBody = decodeInt;
    ps.push(p);
    void track(p, (q) => pipeline.enqueue(q)).then((x) => values.push(x));
  }
  for (const p of ps) {
    const resolve = p.resolve;
    p.resolve = (x) => {
      settlements++;
      resolve(x);
    };
  }
  await settle(1);
  const frames = await written();
  for (const [id, v] of frames) replyTo(pipeline, reply(id, v * 10), clock.now());
  // A second reply with the same id is unknown now, and settles nothing again.
  replyTo(pipeline, reply(frames[0][0], 99), clock.now());
  await settle(1);
  assert.deepEqual(values, [10, 20, 30]);
  assert.equal(settlements, 3);
  assert.equal(counters.replied, 3);
  assert.equal(counters.unknownReplies, 1);
  assert.equal(pipeline.outstanding, 0);
});

test("Pipeline tells the hook when each request was queued, written and answered", async () => {
  const events: RequestEvent[] = [];
  const { pipeline, request, written, clock } = rig({ onRequest: (e) => events.push(e) });
  const result = request(3);
  await settle(1);
  const [[id]] = await written();
  await settle(1);
  clock.advance(7);
  await Promise.resolve();
  replyTo(pipeline, reply(id, 4), clock.now());
  assert.equal(await result, 4);
  assert.equal(events.length, 1);
  const e = events[0];
  assert.deepEqual(
    [e.correlationId, e.queuedAt, e.writtenAt, e.repliedAt, e.bytesIn, e.error],
    [id, 1000, 1000, 1007, 12, undefined],
  );
  assert.equal(e.bytesOut, 4 + 10 + 1 + 4);
});

test("Pipeline: a send() gets its version once, when written", async () => {
  const { pipeline, told, clock, written } = rig();
  const api = { ...Echo, encodeRequest: (w: Writer, v: number) => void w.int32(v) };
  const p = sendPending(api as never, 5, true, {
    timeoutMs: 5000,
    now: clock.now(),
    signal: undefined,
  });
  const result = track(p, (q) => pipeline.enqueue(q));
  assert.equal(told.versionOf, 0, "not chosen when queued");
  await settle(1);
  assert.equal(told.versionOf, 1);
  assert.equal(p.apiVersion, 1);
  const [[id]] = await written();
  replyTo(pipeline, reply(id, 5), clock.now());
  assert.equal(await result, 5);
  assert.equal(told.versionOf, 1, "not chosen again");
});

test("Pipeline: an expired in-flight request frees its slot; its late reply is discarded", async () => {
  const { pipeline, counters, told, request, written, clock } = rig({ maxInFlight: 1 });
  const first = request(1, 100).then(() => "ok", (e) => e);
  const second = request(2, 5000);
  await settle(1);
  const [[id]] = await written();
  clock.advance(100);
  assert.equal((await first).name, "RequestTimeoutError");
  assert.equal(told.teardown.length, 1, "socketMaxFails 1 asks for a new socket");
  replyTo(pipeline, reply(id, 1), clock.now());
  assert.equal(counters.discardedReplies, 1);
  pipeline.detach(told.teardown[0]);
  pipeline.failQueued(told.teardown[0]);
  await assert.rejects(second, (e: Error) => e === told.teardown[0]);
});

test("Pipeline: ordinary requests wait while not UP and ask for a connection", async () => {
  const { pipeline, told, request } = rig({ up: false });
  const p = request(1).catch((e) => e);
  await settle(1);
  assert.equal(told.wanted, 1);
  assert.equal(pipeline.queued, 1);
  assert.equal(pipeline.inFlight, 0);
  const error = new AbortError("stop");
  pipeline.failQueued(error);
  assert.equal(await p, error);
});

test("QueueAdmission wakes waiters in order and reserves their slots", async () => {
  const a = new QueueAdmission(1);
  assert.equal(a.mustWait(0), false);
  assert.equal(a.mustWait(1), true);
  const order: string[] = [];
  const abort = new AbortController();
  const w1 = a.wait(undefined, () => new AbortError("x")).then(() => order.push("w1"));
  const w2 = a.wait(abort.signal, () => new AbortError("aborted")).catch((e) => e.message);
  const w3 = a.wait(undefined, () => new AbortError("x")).then(() => order.push("w3"));
  abort.abort();
  assert.equal(await w2, "aborted");
  a.wake(0);
  await w1;
  assert.equal(a.mustWait(0), true, "the woken waiter holds the slot");
  a.claim();
  a.wake(1);
  assert.equal(a.mustWait(0), true, "w3 still waits: the queue is full");
  a.wake(0);
  await w3;
  assert.deepEqual(order, ["w1", "w3"]);
  a.claim();
  assert.equal(a.mustWait(0), false);
});

test("QueueAdmission.rejectAll() fails everyone in line", async () => {
  const a = new QueueAdmission(1);
  const w = a.wait(undefined, () => new AbortError("x")).catch((e) => e.message);
  a.rejectAll(() => new AbortError("closed"));
  assert.equal(await w, "closed");
  assert.equal(a.mustWait(0), false);
});

test("DeadlineTimer keeps one timer for the earliest deadline", () => {
  const clock = new FakeClock(0);
  let fired = 0;
  const t = new DeadlineTimer(clock, () => fired++);
  t.arm(100);
  t.arm(200);
  assert.equal(clock.pending, 1);
  t.arm(50);
  assert.deepEqual(clock.delays, [50]);
  clock.advance(50);
  assert.equal(fired, 1);
  assert.equal(t.armed, false);
  t.arm(80);
  t.disarm();
  clock.advance(100);
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0);
});

test("ReauthSchedule fires at 90% of the lifetime and can be cancelled", () => {
  const clock = new FakeClock(0);
  const started: number[] = [];
  const r = new ReauthSchedule(clock);
  assert.equal(REAUTH_AT, 0.9);
  assert.equal(reauthDelay(1000), 900);
  r.arm(1000, (ms) => started.push(ms));
  clock.advance(899);
  assert.equal(started.length, 0);
  clock.advance(1);
  assert.deepEqual(started, [1000]);
  r.arm(0, () => started.push(-1));
  assert.equal(clock.pending, 0, "no lifetime, no re-authentication");
  r.arm(500, () => started.push(-1));
  r.cancel();
  clock.advance(1000);
  assert.deepEqual(started, [1000]);
});

test("IdleReaper reaps only once idle for the limit, and waits while busy", () => {
  const clock = new FakeClock(0);
  let busy = false;
  let last = 0;
  const reaped: number[] = [];
  const reaper = new IdleReaper(clock, () => 0, 1000, {
    busy: () => busy,
    lastActivity: () => last,
    reap: (ms) => reaped.push(ms),
  });
  reaper.start();
  clock.advance(600);
  last = 600;
  clock.advance(400);
  assert.deepEqual(reaped, [], "activity at 600 moved the deadline");
  busy = true;
  clock.advance(2000);
  assert.deepEqual(reaped, []);
  busy = false;
  clock.advance(1000);
  assert.equal(reaped.length, 1);
  assert.ok(reaped[0] >= 1000);
  reaper.stop();
  assert.equal(clock.pending, 0);
});

test("InFlightTable: ids count up and wrap at 2^31; released requests become orphans", () => {
  const t = new InFlightTable();
  const p = { correlationId: -1, expectResponse: true } as Pending;
  t.add(p);
  assert.equal(p.correlationId, 0);
  assert.equal(t.nextId, 1);
  assert.equal(t.release(p), true);
  assert.equal(t.size, 0);
  assert.equal(t.claimOrphan(0), true);
  assert.equal(t.claimOrphan(0), false);
  assert.equal(t.release(p), false);
  for (let i = 1; i < 3; i++) t.add({ correlationId: -1, expectResponse: true } as Pending);
  assert.equal(t.clear().length, 2);
  assert.equal(t.size, 0);
});

test("InFlightTable: more requests than ring slots overflow and still match, oldest first", () => {
  const t = new InFlightTable();
  const ps: Pending[] = [];
  for (let i = 0; i < 1030; i++) {
    const p = { correlationId: -1, expectResponse: true } as Pending;
    t.add(p);
    ps.push(p);
  }
  assert.equal(t.size, 1030);
  assert.deepEqual(t.values().map((p) => p.correlationId), ps.map((p) => p.correlationId));
  // Free the oldest few, add more: the ring wraps and the order stays oldest first.
  for (let i = 0; i < 10; i++) assert.equal(t.take(i), ps[i]);
  const later = { correlationId: -1, expectResponse: true } as Pending;
  t.add(later);
  assert.equal(later.correlationId, 1030);
  assert.deepEqual(t.values().map((p) => p.correlationId).slice(0, 3), [10, 11, 12]);
  for (let i = 1029; i >= 10; i--) assert.equal(t.take(i), ps[i], `id ${i}`);
  assert.equal(t.take(1030), later);
  assert.equal(t.size, 0);
  assert.equal(t.take(5), undefined);
});

test("StateEvents tells every listener a change before the next, even one a listener causes", () => {
  const events = new StateEvents();
  const a: string[] = [];
  const b: string[] = [];
  const hook: string[] = [];
  const change = (to: "DOWN" | "TRY_CONNECT"): StateChange => ({
    from: "UP",
    to,
    reason: "",
    elapsedMs: 0,
    at: 0,
  });
  events.on((c) => {
    a.push(c.to);
    if (c.to === "DOWN") events.emit(change("TRY_CONNECT"), (h) => hook.push(h.to));
    throw new Error("ignored");
  });
  const off = events.on((c) => b.push(c.to));
  events.emit(change("DOWN"), (h) => hook.push(h.to));
  assert.deepEqual(a, ["DOWN", "TRY_CONNECT"]);
  assert.deepEqual(b, ["DOWN", "TRY_CONNECT"]);
  assert.deepEqual(hook, ["DOWN", "TRY_CONNECT"]);
  off();
  events.emit(change("DOWN"), undefined);
  assert.deepEqual(b, ["DOWN", "TRY_CONNECT"]);
});

test("TurnClock reads the clock once per microtask checkpoint", async () => {
  const clock = new FakeClock(5);
  const turn = new TurnClock(clock);
  assert.equal(turn.now(), 5);
  clock.advance(10);
  assert.equal(turn.now(), 5, "same checkpoint");
  await Promise.resolve();
  assert.equal(turn.now(), 15);
});

test("BrokerVersions picks the highest common version, once per codec and reply", () => {
  const v = new BrokerVersions();
  assert.throws(() => v.select(Echo), /before the broker's ApiVersions reply/);
  v.update([{ apiKey: Echo.key, minVersion: 0, maxVersion: 1 }]);
  assert.equal(v.versionOf(Echo), 1);
  assert.deepEqual(v.ranges?.get(Echo.key), { min: 0, max: 1 });
  v.update([{ apiKey: Echo.key, minVersion: 0, maxVersion: 5 }]);
  assert.equal(v.versionOf(Echo), 2, "a new reply is looked at again");
  v.update([]);
  assert.throws(() => v.versionOf(Echo), UnsupportedVersionError);
});
