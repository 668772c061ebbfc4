import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { FrameDecoder } from "../../framing/decoder.ts";
import { FramingError } from "../../framing/errors.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ConfigError } from "../../transport/errors.ts";
import { MockBroker } from "../../testing/mod.ts";
import { dial } from "./dial.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";
import { within } from "./raw_client.ts";

/** An ApiVersions v0 request: no body, reply with header v0. */
function apiVersions(correlationId: number) {
  return { apiKey: 18, apiVersion: 0, correlationId };
}

/** A Metadata v4 request for every topic. */
function metadata(correlationId: number) {
  return {
    apiKey: 3,
    apiVersion: 4,
    correlationId,
    body: (w: { int32(v: number): unknown; boolean(v: boolean): unknown }) => {
      w.int32(-1);
      w.boolean(false);
    },
  };
}

function correlationIdOf(frame: Uint8Array | null): number {
  assert.ok(frame !== null, "expected a reply, the broker closed the connection");
  return new DataView(frame.buffer, frame.byteOffset).getInt32(0);
}

/**
 * Whether `promise` is still pending once the in-memory connections have moved everything they
 * can: only the fake clock can release what a delay holds, so no real wait is needed.
 *
 * @param promise What to watch.
 * @returns `true` when it has not settled.
 */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  const state = track(promise);
  await settle();
  return !state.settled;
}

test("MockBroker faults.delay holds a reply and the replies behind it, in request order", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  broker.faults.delay(100, 3);
  const client = await dial(broker);
  try {
    await client.send(metadata(1), apiVersions(2));
    const first = client.frame();
    assert.ok(await stillPending(first), "nothing is sent before the delay passes");
    clock.advance(99);
    assert.ok(await stillPending(first), "still nothing 1 ms before the delay passes");
    clock.advance(1);
    assert.equal(correlationIdOf(await first), 1);
    assert.equal(correlationIdOf(await client.frame()), 2);
    assert.equal(clock.pending, 0);
  } finally {
    client.close();
  }
});

test("MockBroker with outOfOrder sends each reply as soon as it is ready", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock, outOfOrder: true });
  broker.faults.delay(50);
  broker.faults.delay(100, 3);
  const client = await dial(broker);
  try {
    await client.send(metadata(1), apiVersions(2), apiVersions(3));
    const first = client.frame();
    assert.ok(await stillPending(first));
    clock.advance(50);
    assert.equal(correlationIdOf(await first), 2);
    assert.equal(correlationIdOf(await client.frame()), 3);
    clock.advance(50);
    assert.equal(correlationIdOf(await client.frame()), 1);
  } finally {
    client.close();
  }
});

test("MockBroker faults.clear removes delays; pending delay timers end with the broker", async () => {
  const clock = new FakeClock();
  const broker = await MockBroker.start({ clock });
  broker.faults.delay(1_000);
  const client = await dial(broker);
  try {
    await client.send(apiVersions(1));
    // The delay timer starts once the broker has read the request.
    for (let turn = 0; turn < 100 && clock.pending === 0; turn++) await settle(1);
    assert.equal(clock.pending, 1);
    broker.faults.clear();
    await client.send(apiVersions(2));
    assert.ok(await stillPending(client.frame()), "the second reply waits behind the first");
  } finally {
    client.close();
    await broker.close();
  }
  assert.equal(clock.pending, 0, "closing cancels delay timers");
});

test("MockBroker faults.error accepts only the APIs it encodes", async () => {
  await using broker = await MockBroker.start();
  assert.throws(() => broker.faults.error(0, ErrorCode.NOT_LEADER_OR_FOLLOWER), ConfigError);
  assert.throws(() => broker.faults.error(3, 0), ConfigError);
  assert.throws(() => broker.faults.error(3, 5, 0), ConfigError);
  assert.throws(() => broker.faults.delay(-1), ConfigError);
  assert.throws(() => broker.faults.closeOnRequest(0), ConfigError);
});

test("MockBroker faults.closeOnRequest drops the connection at the Nth request", async () => {
  await using broker = await MockBroker.start();
  broker.faults.closeOnRequest(3);
  const a = await dial(broker);
  const b = await dial(broker);
  try {
    await a.send(apiVersions(1));
    assert.equal(correlationIdOf(await a.frame()), 1);
    await b.send(apiVersions(1));
    assert.equal(correlationIdOf(await b.frame()), 1);
    await a.send(apiVersions(2));
    await a.expectClosed("the third request from now closes its connection");
    await b.send(apiVersions(2));
    assert.equal(correlationIdOf(await b.frame()), 2, "the fault fires once");
    assert.equal(broker.requests.length, 4, "the request that triggered the close is logged");
    assert.equal(broker.connections, 1);
  } finally {
    a.close();
    b.close();
  }
});

test("MockBroker faults.partialThenStall writes half a reply frame, then nothing", async () => {
  await using broker = await MockBroker.start();
  broker.faults.partialThenStall(3);
  const client = await dial(broker);
  try {
    await client.send(apiVersions(1));
    assert.equal(correlationIdOf(await client.frame()), 1, "replies to other APIs go out");
    await client.send(metadata(2), apiVersions(3));
    const received: Uint8Array[] = [];
    const decoder = new FrameDecoder();
    const readSome = async () => {
      const chunk = await within(client.conn.read(), "the first half of the Metadata reply");
      assert.ok(chunk !== null);
      received.push(chunk);
      decoder.push(chunk);
    };
    await readSome();
    assert.equal(decoder.next(), null, "the frame is incomplete");
    const half = received.reduce((n, c) => n + c.length, 0);
    assert.ok(half > 4, "more than the size prefix arrived");
    assert.equal(half, Math.floor((decoder.pendingFrameSize + 4) / 2));
    assert.ok(await stillPending(client.conn.read()), "nothing more is written");
    assert.equal(broker.connections, 1, "the connection stays open, stalled");
  } finally {
    client.close();
  }
});

test("MockBroker faults.garbage replaces the next reply with bytes no frame guard accepts", async () => {
  await using broker = await MockBroker.start();
  broker.faults.garbage();
  const client = await dial(broker);
  try {
    await client.send(apiVersions(1));
    const chunk = await within(client.conn.read(), "the garbage reply");
    assert.ok(chunk !== null);
    assert.deepEqual([...chunk.subarray(0, 4)], [0xde, 0xad, 0xbe, 0xef]);
    const decoder = new FrameDecoder();
    decoder.push(chunk);
    assert.throws(() => decoder.next(), FramingError);
  } finally {
    client.close();
  }
});

test("MockBroker faults.garbage sends given bytes and keeps the connection", async () => {
  await using broker = await MockBroker.start();
  broker.faults.garbage(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 99]));
  const client = await dial(broker);
  try {
    await client.send(apiVersions(1), apiVersions(2));
    assert.equal(
      correlationIdOf(await client.frame()),
      99,
      "a frame with the wrong correlation id",
    );
    assert.equal(correlationIdOf(await client.frame()), 2);
  } finally {
    client.close();
  }
});

test("MockBroker faults.httpReply answers like an HTTP server, then closes", async () => {
  await using broker = await MockBroker.start();
  broker.faults.httpReply();
  const client = await dial(broker);
  try {
    await client.send(apiVersions(1));
    const bytes = await client.untilClosed();
    assert.match(new TextDecoder().decode(bytes), /^HTTP\/1\.1 400 Bad Request\r\n/);
    const decoder = new FrameDecoder();
    decoder.push(bytes);
    assert.throws(
      () => decoder.next(),
      (e: unknown) => e instanceof FramingError && /HTTP/.test(e.message),
    );
  } finally {
    client.close();
  }
});
