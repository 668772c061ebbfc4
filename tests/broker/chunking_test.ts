/**
 * The whole connection (setup, SASL, pipelining, large frames, loss) over the in-memory link
 * cutting the bytes into single bytes or random pieces in both directions, as a real socket
 * may: every frame boundary lands mid-read somewhere.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import type { ApiSpec } from "../../protocol/api.ts";
import { Writer } from "../../framing/writer.ts";
import { plain, scramSha256 } from "../../sasl/mod.ts";
import type { MemoryConnectorOptions } from "../../transport/memory.ts";
import { ConnectionClosedError } from "../../transport/errors.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { settleLog, waitFor } from "./observe.ts";

/** A made-up API whose reply repeats the request's bytes: key 1002, version 0 only. */
const Blob: ApiSpec<Uint8Array, Uint8Array> = {
  key: 1002,
  name: "Blob",
  minVersion: 0,
  maxVersion: 0,
  firstFlexibleVersion: 99,
  encodeRequest(w, value) {
    w.bytes(value);
  },
  decodeResponse(r) {
    return r.bytes("blob");
  },
};

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

/** `n` bytes with a pattern that shows misplaced bytes. */
function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

const users = { alice: "alice-secret" };

const links: [string, MemoryConnectorOptions, number][] = [
  ["1-byte chunks", { chunking: "byte" }, 20_000],
  ["random chunks (seed 1)", { chunking: "random", random: seeded(1) }, 300_000],
  ["random chunks (seed 2)", { chunking: "random", random: seeded(2) }, 300_000],
];

for (const [name, memory, blobSize] of links) {
  test(`over ${name}: SCRAM, 200 pipelined requests and a ${blobSize}-byte frame each way`, async () => {
    await using broker = await MockBroker.start({
      memory,
      outOfOrder: true,
      sasl: { mechanisms: ["SCRAM-SHA-256"], users },
    });
    serveEcho(broker);
    broker.handle(Blob, (req) => new Writer(blobSize + 8).bytes(req.body.bytes()).finish().slice());
    const log = settleLog();
    await using conn = connectionTo(broker, {
      hooks: log.hooks,
      sasl: scramSha256({ username: "alice", password: "alice-secret" }),
    });
    const blob = pattern(blobSize, 3);
    const echoes = Array.from({ length: 200 }, (_, i) => conn.send(Echo, i));
    const big = conn.send(Blob, blob);
    assert.deepEqual(await Promise.all(echoes), Array.from({ length: 200 }, (_, i) => i));
    assert.deepEqual(await big, blob);
    const stats = conn.stats();
    assert.equal(stats.connects, 1);
    assert.equal(stats.disconnects, 0);
    assert.equal(stats.unknownReplies, 0);
    assert.equal(log.count(Echo.key) + log.count(Blob.key), 201);
    assert.ok(log.events.every((e) => e.error === undefined));
    assert.ok(stats.bytesIn > blobSize, "the big reply was counted");
  });
}

test("over 1-byte chunks: legacy SASL token frames and a loss mid-reply", async () => {
  await using broker = await MockBroker.start({
    memory: { chunking: "byte" },
    sasl: { mechanisms: ["PLAIN"], users, legacy: true },
  });
  serveEcho(broker);
  await using conn = connectionTo(broker, {
    sasl: plain({ username: "alice", password: "alice-secret" }),
  });
  assert.equal(await conn.send(Echo, 6), 6);
  // Half a reply, then nothing: the connection loss fails the request mid-frame.
  broker.faults.partialThenStall(Echo.key);
  const before = conn.stats().bytesIn;
  const stalled = conn.send(Echo, 7).then(() => null, (e) => e);
  // Part of the reply frame arrives, one byte per read.
  await waitFor(() => conn.stats().bytesIn > before, "part of the reply");
  broker.down();
  const error = await stalled;
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.match(error.message, /in state UP\)$/);
  await broker.up();
  assert.equal(await conn.send(Echo, 8), 8, "a fresh connection authenticates again");
  assert.equal(conn.stats().connects, 2);
});
