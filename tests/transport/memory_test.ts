import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import type { Conn } from "../../transport/conn.ts";
import {
  AbortError,
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  KafkaTransportError,
  TimeoutError,
} from "../../transport/errors.ts";
import { memoryConnector, memoryPair } from "../../transport/memory.ts";
import { concatBytes } from "../fixtures/bytes.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";

/** A deterministic random source (mulberry32) so failures reproduce. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads until `total` bytes arrived, returning the chunks as read. */
async function readChunks(conn: Conn, total: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < total) {
    const chunk = await conn.read();
    assert.ok(chunk !== null, `stream ended after ${got} of ${total} bytes`);
    assert.ok(chunk.length > 0, "read() returned an empty chunk");
    chunks.push(chunk);
    got += chunk.length;
  }
  assert.equal(got, total);
  return chunks;
}

test("memoryPair() delivers each write as one chunk, in order, both ways", async () => {
  const { client, server } = memoryPair();
  await client.write(new Uint8Array([1, 2, 3]));
  await client.write(new Uint8Array([4]));
  assert.deepEqual(await server.read(), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await server.read(), new Uint8Array([4]));
  await server.write(new Uint8Array([9, 8]));
  assert.deepEqual(await client.read(), new Uint8Array([9, 8]));
  client.close();
  server.close();
});

test("memoryPair() copies written bytes, so the writer may reuse its buffer", async () => {
  const { client, server } = memoryPair();
  const buffer = new Uint8Array([1, 2, 3]);
  await client.write(buffer);
  buffer.fill(0);
  assert.deepEqual(await server.read(), new Uint8Array([1, 2, 3]));
  client.close();
  server.close();
});

test("memoryPair() with byte chunking returns one byte per read", async () => {
  const { client, server } = memoryPair({ chunking: "byte" });
  const frame = new Uint8Array([0, 0, 0, 3, 10, 11, 12]);
  await client.write(frame);
  const chunks = await readChunks(server, frame.length);
  assert.equal(chunks.length, frame.length);
  assert.ok(chunks.every((c) => c.length === 1));
  assert.deepEqual(concatBytes(chunks), frame);
  client.close();
  server.close();
});

test("memoryPair() with random chunking splits and merges writes but keeps every byte in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 20 }),
      fc.integer(),
      async (writes, seed) => {
        const { client, server } = memoryPair({ chunking: "random", random: seeded(seed) });
        for (const w of writes) await client.write(w);
        const expected = concatBytes(writes);
        const chunks = await readChunks(server, expected.length);
        assert.deepEqual(concatBytes(chunks), expected);
        client.close();
        server.close();
      },
    ),
    { numRuns: 100 },
  );
});

test("memoryPair() random chunking really merges consecutive writes", async () => {
  // Random numbers close to 1 ask for (almost) everything that is ready.
  const { client, server } = memoryPair({ chunking: "random", random: () => 0.999 });
  await client.write(new Uint8Array([1, 2]));
  await client.write(new Uint8Array([3, 4, 5]));
  assert.deepEqual(await server.read(), new Uint8Array([1, 2, 3, 4, 5]));
  client.close();
  server.close();
});

test("MemoryFaults.chunking can change mid-stream", async () => {
  const { client, server, faults } = memoryPair();
  await client.write(new Uint8Array([1, 2, 3, 4]));
  faults.chunking = "byte";
  assert.deepEqual(await server.read(), new Uint8Array([1]));
  faults.chunking = "whole";
  assert.deepEqual(await server.read(), new Uint8Array([2, 3, 4]));
  assert.throws(() => (faults.chunking = "lines" as "whole"), ConfigError);
  client.close();
  server.close();
});

test("MemoryFaults.stall() piles bytes up until resume()", async () => {
  const { client, server, faults } = memoryPair();
  faults.stall();
  await client.write(new Uint8Array([1, 2, 3]));
  const pending = server.read();
  const state = track(pending);
  await settle();
  assert.equal(state.settled, false, "a read completed during a stall");
  assert.equal(faults.pendingBytes("toServer"), 3);
  faults.resume();
  assert.deepEqual(await pending, new Uint8Array([1, 2, 3]));
  assert.equal(faults.pendingBytes("toServer"), 0);
  client.close();
  server.close();
});

test("MemoryFaults.stall() can hold one direction only", async () => {
  const { client, server, faults } = memoryPair();
  faults.stall("toClient");
  await client.write(new Uint8Array([1]));
  assert.deepEqual(await server.read(), new Uint8Array([1]));
  await server.write(new Uint8Array([2]));
  const reply = client.read();
  const state = track(reply);
  await settle();
  assert.equal(state.settled, false);
  faults.resume("toClient");
  assert.deepEqual(await reply, new Uint8Array([2]));
  client.close();
  server.close();
});

test("MemoryFaults.cut() fails pending and later reads and writes mid-frame on both ends", async () => {
  const { client, server, faults } = memoryPair();
  // Half of a 10-byte frame arrives, then the link is cut.
  await client.write(new Uint8Array([0, 0, 0, 10, 1, 2]));
  assert.deepEqual(await server.read(), new Uint8Array([0, 0, 0, 10, 1, 2]));
  await server.write(new Uint8Array([7]));
  const pendingServerRead = server.read();
  faults.cut();
  await assert.rejects(pendingServerRead, ConnectionClosedError);
  // Bytes already queued towards the client are lost too.
  await assert.rejects(client.read(), ConnectionClosedError);
  await assert.rejects(server.read(), ConnectionClosedError);
  await assert.rejects(client.write(new Uint8Array([1])), ConnectionClosedError);
  const [clientReason, serverReason] = await Promise.all([client.closed, server.closed]);
  assert.ok(clientReason instanceof ConnectionClosedError);
  assert.ok(serverReason instanceof ConnectionClosedError);
  assert.match(clientReason.message, /cut/);
});

test("memoryPair() delays each chunk on the injected clock", async () => {
  const clock = new FakeClock();
  const { client, server, faults } = memoryPair({ delayMs: 100, clock });
  await client.write(new Uint8Array([1]));
  const read = server.read();
  const state = track(read);
  clock.advance(99);
  await settle();
  assert.equal(state.settled, false, "delivered before the delay elapsed");
  clock.advance(1);
  assert.deepEqual(await read, new Uint8Array([1]));
  // Chunks written later keep their own delay; a changed delay applies to new writes.
  faults.delayMs = 0;
  await client.write(new Uint8Array([2]));
  assert.deepEqual(await server.read(), new Uint8Array([2]));
  assert.equal(clock.pending, 0, "a timer was left behind");
  client.close();
  server.close();
});

test("memoryPair() clears its delay timer when closed or cut", async () => {
  const clock = new FakeClock();
  const { client, server, faults } = memoryPair({ delayMs: 50, clock });
  await client.write(new Uint8Array([1]));
  const read = server.read();
  assert.equal(clock.pending, 1);
  faults.cut();
  await assert.rejects(read, ConnectionClosedError);
  assert.equal(clock.pending, 0);
});

test("close() lets the peer read what was written, then null; closed settles", async () => {
  const { client, server } = memoryPair();
  await client.write(new Uint8Array([5, 6]));
  client.close();
  assert.equal(await client.closed, undefined);
  assert.equal(await client.read(), null);
  await assert.rejects(client.write(new Uint8Array([1])), ConnectionClosedError);
  assert.deepEqual(await server.read(), new Uint8Array([5, 6]));
  assert.equal(await server.read(), null);
  assert.equal(await server.closed, undefined);
  // Idempotent.
  client.close();
  server.close();
});

test("writing to a closed peer rejects with ConnectionClosedError and ends the writer", async () => {
  const { client, server } = memoryPair();
  server.close();
  const error = await client.write(new Uint8Array([1])).catch((e) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(await client.closed, error);
});

test("memoryPair() bufferLimit holds writes until the reader drains (backpressure)", async () => {
  const { client, server, faults } = memoryPair({ bufferLimit: 10 });
  await client.write(new Uint8Array(10));
  const big = client.write(new Uint8Array(15).fill(1));
  const state = track(big);
  await settle();
  assert.equal(state.settled, false, "write resolved beyond the buffer limit");
  assert.equal(faults.pendingBytes("toServer"), 25);
  assert.equal((await server.read())!.length, 10);
  await settle();
  assert.equal(state.settled, false, "15 bytes still exceed the limit of 10");
  faults.chunking = "byte";
  for (let i = 0; i < 5; i++) await server.read();
  await big;
  client.close();
  server.close();
});

test("memoryPair() rejects invalid options with ConfigError", () => {
  assert.throws(() => memoryPair({ delayMs: -1 }), ConfigError);
  assert.throws(() => memoryPair({ bufferLimit: 0 }), ConfigError);
  assert.throws(() => memoryPair({ chunking: "none" as "whole" }), ConfigError);
});

test("memoryConnector() hands each dial's server end to accept()", async () => {
  const servers: Conn[] = [];
  const connector = memoryConnector((server) => servers.push(server));
  const a = await connector({ host: "broker-1", port: 9092 });
  const b = await connector({ host: "broker-1", port: 9092 });
  assert.equal(servers.length, 2);
  await a.write(new Uint8Array([1]));
  assert.deepEqual(await servers[0].read(), new Uint8Array([1]));
  servers[0].close(new KafkaTransportError("gone"));
  assert.equal(await a.read(), null);
  const error = await a.write(new Uint8Array([2])).catch((e) => e);
  assert.match(error.message, /broker-1:9092/, "the client end is named for the dialled address");
  for (const conn of [a, b, ...servers]) conn.close();
});

test("memoryConnector() times out during connectDelayMs without calling accept()", async () => {
  const clock = new FakeClock();
  let accepted = 0;
  const connector = memoryConnector(() => accepted++, { clock, connectDelayMs: 1000 });
  const dial = connector({ host: "b", port: 1, timeoutMs: 500 });
  const result = dial.catch((e) => e);
  clock.advance(500);
  const error = await result;
  assert.ok(error instanceof TimeoutError);
  assert.match(error.message, /b:1 timed out after 500 ms/);
  assert.equal(clock.pending, 0, "connect delay timer left behind");
  assert.equal(accepted, 0);
});

test("memoryConnector() connects once connectDelayMs elapsed", async () => {
  const clock = new FakeClock();
  const connector = memoryConnector((server) => server.close(), { clock, connectDelayMs: 20 });
  const dial = connector({ host: "b", port: 1, timeoutMs: 500 });
  clock.advance(20);
  const conn = await dial;
  assert.equal(await conn.read(), null);
  assert.equal(clock.pending, 0);
});

test("memoryConnector() rejects with AbortError when the signal aborts", async () => {
  const clock = new FakeClock();
  const connector = memoryConnector(() => {}, { clock, connectDelayMs: 1000 });
  const controller = new AbortController();
  const dial = connector({ host: "b", port: 1, signal: controller.signal });
  controller.abort();
  await assert.rejects(dial, AbortError);
  assert.equal(clock.pending, 0);
  await assert.rejects(connector({ host: "b", port: 1, signal: controller.signal }), AbortError);
});

test("memoryConnector() turns a throwing acceptor into ConnectionRefusedError", async () => {
  const connector = memoryConnector(() => {
    throw new Error("broker down");
  });
  const error = await connector({ host: "b", port: 1 }).catch((e) => e);
  assert.ok(error instanceof ConnectionRefusedError);
  assert.match(error.message, /broker down/);
});

test("memoryConnector() refuses TLS and bad options with ConfigError", async () => {
  const connector = memoryConnector(() => {});
  await assert.rejects(connector({ host: "b", port: 1, tls: {} }), ConfigError);
  await assert.rejects(connector({ host: "b", port: 0 }), ConfigError);
  await assert.rejects(connector({ host: "", port: 1 }), ConfigError);
});

test("memoryPair() keeps order when the backlog never drains (queue compaction)", async () => {
  const { client, server } = memoryPair();
  const seen: number[] = [];
  let next = 0;
  for (; next < 100; next++) await client.write(new Uint8Array([next & 0xff]));
  for (let i = 0; i < 500; i++) {
    await client.write(new Uint8Array([next++ & 0xff]));
    seen.push((await server.read())![0]);
  }
  client.close();
  for (let chunk = await server.read(); chunk !== null; chunk = await server.read()) {
    seen.push(chunk[0]);
  }
  assert.deepEqual(seen, Array.from({ length: next }, (_, i) => i & 0xff));
});
