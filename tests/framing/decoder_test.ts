import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import { FrameDecoder } from "../../framing/decoder.ts";
import { FramingError } from "../../framing/errors.ts";
import { ConfigError, KafkaTransportError } from "../../transport/errors.ts";

/** Prefixes each body with its int32 big-endian size and concatenates them. */
function encodeFrames(bodies: readonly Uint8Array[]): Uint8Array {
  const total = bodies.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of bodies) {
    view.setInt32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Calls next() until it returns null. */
function drain(decoder: FrameDecoder): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
  return out;
}

/** A body of `n` bytes with a recognisable pattern. */
function body(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Asserts that calling `fn` throws a FramingError whose message contains every `parts`. */
function throwsFraming(fn: () => unknown, ...parts: string[]): FramingError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FramingError, `expected FramingError, got ${error}`);
    assert.ok(error instanceof KafkaTransportError);
    assert.equal(error.retriable, false);
    for (const p of parts) assert.ok(error.message.includes(p), `"${error.message}" lacks "${p}"`);
    return error;
  }
  assert.fail("expected a FramingError, nothing was thrown");
}

test("FrameDecoder returns frames inside one chunk as views of it", () => {
  const bodies = [body(10, 1), body(1, 2), body(300, 3)];
  const chunk = encodeFrames(bodies);
  const d = new FrameDecoder();
  d.push(chunk);
  assert.equal(d.buffered, chunk.length);
  const frames = drain(d);
  assert.deepEqual(frames, bodies);
  let at = 0;
  for (const f of frames) {
    assert.equal(f.buffer, chunk.buffer);
    assert.equal(f.byteOffset, at + 4);
    at += 4 + f.length;
  }
  assert.equal(d.buffered, 0);
  assert.equal(d.next(), null);
});

test("FrameDecoder returns views of a chunk that is itself a subarray", () => {
  const backing = new Uint8Array(100);
  const chunk = backing.subarray(7, 7 + 4 + 5);
  chunk.set(encodeFrames([body(5, 9)]));
  const d = new FrameDecoder();
  d.push(chunk);
  const f = d.next();
  assert.deepEqual(f, body(5, 9));
  assert.equal(f!.buffer, backing.buffer);
  assert.equal(f!.byteOffset, 11);
});

test("FrameDecoder handles 1-byte chunks, copying each frame once into an exact buffer", () => {
  const bodies = [body(3, 1), body(0), body(17, 2), body(1, 3)];
  const bytes = encodeFrames(bodies);
  const d = new FrameDecoder();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) {
    d.push(bytes.slice(i, i + 1));
    frames.push(...drain(d));
  }
  assert.deepEqual(frames, bodies);
  for (const f of frames) {
    assert.equal(f.byteOffset, 0);
    assert.equal(f.buffer.byteLength, f.length);
  }
  assert.equal(d.buffered, 0);
});

test("FrameDecoder handles a size prefix split at every position", () => {
  const payload = body(20, 5);
  const bytes = encodeFrames([payload]);
  const splits = [[1], [2], [3], [1, 2], [1, 3], [2, 3], [1, 2, 3]];
  for (const cuts of splits) {
    const d = new FrameDecoder();
    let from = 0;
    for (const cut of cuts) {
      d.push(bytes.slice(from, cut));
      assert.equal(d.next(), null, `cuts ${cuts}`);
      from = cut;
    }
    // The body lies inside the last chunk, so it comes back as a view of it.
    const last = bytes.slice(from);
    d.push(last);
    const f = d.next();
    assert.deepEqual(f, payload);
    assert.equal(f!.buffer, last.buffer, `cuts ${cuts}`);
    assert.equal(d.buffered, 0);
  }
});

test("FrameDecoder copies the pieces of a spanning frame as they arrive", () => {
  const size = 1 << 20;
  const payload = body(size, 7);
  const bytes = encodeFrames([payload, body(2, 8)]);
  const d = new FrameDecoder();
  const a = bytes.slice(0, 1000);
  const b = bytes.slice(1000, 600_000);
  const c = bytes.slice(600_000);
  d.push(a);
  assert.equal(d.next(), null);
  assert.equal(d.pendingFrameSize, size);
  d.push(b);
  // The decoder copied b's bytes on push: the caller breaking the ownership contract after
  // that cannot change the frame, which shows nothing is copied again at the end.
  b.fill(0);
  assert.equal(d.next(), null);
  d.push(c);
  assert.equal(d.buffered, c.length + 600_000);
  const f = d.next();
  assert.deepEqual(f, payload);
  assert.equal(f!.buffer.byteLength, size);
  assert.equal(d.pendingFrameSize, -1);
  // The trailing frame lies inside the last chunk after the assembled one: a view of it.
  const tail = d.next();
  assert.deepEqual(tail, body(2, 8));
  assert.equal(tail!.buffer, c.buffer);
  assert.equal(d.next(), null);
  assert.equal(d.buffered, 0);
});

test("FrameDecoder keeps order when chunks are pushed after an assembled frame completes", () => {
  const bodies = [body(10, 1), body(3, 2), body(4, 3)];
  const bytes = encodeFrames(bodies);
  const d = new FrameDecoder();
  d.push(bytes.slice(0, 8));
  assert.equal(d.next(), null);
  d.push(bytes.slice(8, 20)); // completes frame 1 and starts frame 2
  d.push(bytes.slice(20)); // pushed before frame 1 is taken
  assert.deepEqual(drain(d), bodies);
  assert.equal(d.buffered, 0);
});

test("FrameDecoder drains a long queue of chunks pushed without next()", () => {
  const bodies = Array.from({ length: 2000 }, (_, i) => body(i % 13, i));
  const bytes = encodeFrames(bodies);
  const d = new FrameDecoder();
  for (let at = 0; at < bytes.length; at += 7) d.push(bytes.slice(at, at + 7));
  assert.equal(d.buffered, bytes.length);
  assert.deepEqual(drain(d), bodies);
  assert.equal(d.buffered, 0);
});

test("FrameDecoder returns zero-length frames", () => {
  const bodies = [body(0), body(0), body(2, 1), body(0)];
  const bytes = encodeFrames(bodies);
  const whole = new FrameDecoder();
  whole.push(bytes);
  const frames = drain(whole);
  assert.deepEqual(frames, bodies);
  assert.equal(frames[0].buffer, bytes.buffer);

  const split = new FrameDecoder();
  const got: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) {
    split.push(bytes.slice(i, i + 1));
    got.push(...drain(split));
  }
  assert.deepEqual(got, bodies);
});

test("FrameDecoder ignores empty chunks", () => {
  const d = new FrameDecoder();
  d.push(new Uint8Array(0));
  assert.equal(d.next(), null);
  const bytes = encodeFrames([body(6, 1)]);
  d.push(bytes.slice(0, 5));
  d.push(new Uint8Array(0));
  assert.equal(d.next(), null);
  d.push(new Uint8Array(0));
  d.push(bytes.slice(5));
  assert.deepEqual(d.next(), body(6, 1));
});

test("FrameDecoder gives the same frames for any split of the stream (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.array(fc.boolean(), { maxLength: 40 }),
      (bodies, rawCuts, drainAfter) => {
        const bytes = encodeFrames(bodies);
        const cuts = [...new Set(rawCuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, bytes.length];
        const pieces: Uint8Array[] = [];
        const pieceStart: number[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) {
          if (bounds[i] === bounds[i + 1] && i + 2 < bounds.length) continue;
          pieces.push(bytes.slice(bounds[i], bounds[i + 1]));
          pieceStart.push(bounds[i]);
        }
        const d = new FrameDecoder();
        const frames: Uint8Array[] = [];
        let pushed = 0;
        let taken = 0;
        pieces.forEach((p, i) => {
          d.push(p);
          pushed += p.length;
          if (drainAfter[i] ?? true) frames.push(...drain(d));
          taken = frames.reduce((n, f) => n + 4 + f.length, 0);
          assert.equal(d.buffered, pushed - taken);
        });
        frames.push(...drain(d));
        assert.deepEqual(frames, bodies);
        assert.equal(d.buffered, 0);

        // A frame inside one piece is a view of it; a body spanning pieces is an exact-size
        // copy. A body inside one piece whose size prefix was in an earlier one may be either,
        // depending on whether next() ran between the two pushes.
        let at = 0;
        for (const f of frames) {
          const frameStart = at;
          const start = at + 4;
          at = start + f.length;
          if (f.length === 0) continue;
          const first = pieceStart.findLastIndex((s) => s <= start);
          const bodyInside = at <= pieceStart[first] + pieces[first].length;
          const isView = f.buffer === pieces[first].buffer;
          const isCopy = f.byteOffset === 0 && f.buffer.byteLength === f.length && !isView;
          if (bodyInside && frameStart >= pieceStart[first]) assert.ok(isView, "view expected");
          else if (bodyInside) assert.ok(isView || isCopy, "view or exact copy expected");
          else assert.ok(isCopy, "exact-size copy expected");
          if (isView) assert.equal(f.byteOffset, start - pieceStart[first]);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("FrameDecoder does not allocate an announced frame before its bytes arrive", () => {
  const size = 90_000_000;
  const d = new FrameDecoder();
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setInt32(0, size);
  d.push(prefix);
  assert.equal(d.next(), null);
  assert.equal(d.pendingFrameSize, size);
  assert.ok(d.pendingFrameCapacity <= 64 * 1024, `${d.pendingFrameCapacity} bytes held`);
  // As bytes arrive the buffer grows with them, never beyond 32 times what was received.
  let received = 0;
  for (const n of [1, 10_000, 100_000, 1_000_000]) {
    d.push(new Uint8Array(n).fill(n & 0xff));
    received += n;
    assert.equal(d.next(), null);
    const held = d.pendingFrameCapacity;
    assert.ok(held >= received, `${held} < ${received}`);
    assert.ok(held <= Math.max(64 * 1024, 32 * received), `${held} held for ${received}`);
  }
});

test("FrameDecoder grows a large frame's buffer as chunks arrive and returns an exact copy", () => {
  const size = (1 << 20) + 123;
  const payload = body(size, 4);
  const bytes = encodeFrames([payload, body(3, 5)]);
  for (const chunkSize of [1000, 64 * 1024, 300_000]) {
    const d = new FrameDecoder();
    const frames: Uint8Array[] = [];
    const capacities: number[] = [];
    for (let at = 0; at < bytes.length; at += chunkSize) {
      d.push(bytes.slice(at, at + chunkSize));
      frames.push(...drain(d));
      if (d.pendingFrameSize === size) capacities.push(d.pendingFrameCapacity);
    }
    assert.deepEqual(frames, [payload, body(3, 5)], `chunks of ${chunkSize}`);
    assert.equal(frames[0].buffer.byteLength, size, "exact-size buffer");
    assert.equal(d.pendingFrameCapacity, 0);
    assert.equal(d.buffered, 0);
    // 64 KiB, then the full size once 1/32 is in: at most two sizes for a 1 MiB frame.
    assert.ok(new Set(capacities).size <= 2, `buffer sizes ${[...new Set(capacities)]}`);
    if (chunkSize - 4 < size / 32) {
      assert.ok(capacities[0] < size, `first buffer ${capacities[0]} is the whole frame`);
    } else assert.equal(capacities[0], size, "1/32 arrived with the prefix: exact at once");
  }
});

test("FrameDecoder still returns a large frame inside one chunk as a view", () => {
  const payload = body(1 << 20, 6);
  const chunk = encodeFrames([payload]);
  const d = new FrameDecoder();
  d.push(chunk);
  const f = d.next();
  assert.equal(f!.buffer, chunk.buffer);
  assert.equal(f!.byteOffset, 4);
  assert.deepEqual(f, payload);
  assert.equal(d.pendingFrameCapacity, 0);
});

test("FrameDecoder rejects a frame larger than maxFrameSize and stays failed", () => {
  const d = new FrameDecoder({ maxFrameSize: 1000 });
  d.push(encodeFrames([body(1000)]));
  assert.equal(d.next()!.length, 1000);
  d.push(encodeFrames([body(1001)]));
  const error = throwsFraming(
    () => d.next(),
    "Invalid frame size 1001 (allowed 0..1000)",
    "increase maxFrameSize (receive.message.max.bytes)",
  );
  assert.equal(error.size, 1001);
  assert.equal(d.error, error);
  assert.throws(() => d.next(), (e) => e === error);
  assert.throws(() => d.push(new Uint8Array(4)), (e) => e === error);
});

test("FrameDecoder's default limit is 100 000 000 bytes, checked before allocating", () => {
  const d = new FrameDecoder();
  d.push(new Uint8Array([0x05, 0xf5, 0xe1, 0x01])); // 100 000 001
  throwsFraming(() => d.next(), "Invalid frame size 100000001 (allowed 0..100000000)");
});

test("FrameDecoder rejects negative sizes and sizes below minFrameSize", () => {
  const negative = new FrameDecoder();
  negative.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  const error = throwsFraming(() => negative.next(), "Invalid frame size -1 (allowed 0..");
  assert.equal(error.size, -1);
  assert.equal(error.peer, null);

  const small = new FrameDecoder({ minFrameSize: 4 });
  small.push(new Uint8Array([0, 0, 0, 3, 1, 2, 3]));
  throwsFraming(() => small.next(), "Invalid frame size 3 (allowed 4..100000000)", "corrupt");

  const split = new FrameDecoder({ minFrameSize: 4 });
  split.push(new Uint8Array([0, 0]));
  assert.equal(split.next(), null);
  split.push(new Uint8Array([0, 2]));
  throwsFraming(() => split.next(), "Invalid frame size 2");
});

test("FrameDecoder recognises an HTTP reply", () => {
  const http = new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n");
  const d = new FrameDecoder();
  d.push(http);
  const error = throwsFraming(
    () => d.next(),
    "peer is not a Kafka listener: looks like HTTP (",
  );
  assert.equal(error.size, 0x48545450);
  assert.equal(error.peer, "http");

  const bytewise = new FrameDecoder();
  bytewise.push(http.slice(0, 1));
  assert.equal(bytewise.next(), null);
  bytewise.push(http.slice(1, 2));
  bytewise.push(http.slice(2, 4));
  assert.equal(throwsFraming(() => bytewise.next(), "looks like HTTP").peer, "http");
});

test("FrameDecoder recognises TLS alert and handshake records", () => {
  const records = [
    [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46], // alert, TLS 1.2, protocol_version
    [0x16, 0x03, 0x01, 0x02, 0x00, 0x01], // ClientHello record
    [0x16, 0x03, 0x03, 0x00, 0x7a, 0x02], // ServerHello record
  ];
  for (const record of records) {
    const d = new FrameDecoder();
    d.push(new Uint8Array(record));
    const error = throwsFraming(
      () => d.next(),
      "peer is not a Kafka listener: looks like TLS — TLS on a plaintext connection? " +
        "Enable TLS for this listener",
    );
    assert.equal(error.peer, "tls");
  }
  // 0x16 0x03 followed by a byte that is no TLS length is just a bad size.
  const other = new FrameDecoder();
  other.push(new Uint8Array([0x16, 0x03, 0x90, 0x00]));
  const error = throwsFraming(() => other.next(), "Invalid frame size");
  assert.ok(!error.message.includes("TLS"));
  assert.equal(error.peer, null);
});

test("FrameDecoder never sniffs protocols in sizes that are within the limit", () => {
  const size = 0x16030100;
  const d = new FrameDecoder({ maxFrameSize: size, minFrameSize: size });
  d.push(new Uint8Array([0x16, 0x03, 0x01, 0x00]));
  // Accepted: the buffer for it is allocated and it waits for the body.
  assert.equal(d.next(), null);
  assert.equal(d.pendingFrameSize, size);
});

test("FrameDecoder rejects impossible options with ConfigError", () => {
  for (
    const options of [
      { maxFrameSize: -1 },
      { maxFrameSize: 1.5 },
      { maxFrameSize: 2 ** 31 },
      { minFrameSize: Number.NaN },
      { minFrameSize: 10, maxFrameSize: 9 },
    ]
  ) {
    assert.throws(() => new FrameDecoder(options), ConfigError, JSON.stringify(options));
  }
});

test("FrameDecoder only ever throws FramingError on garbage (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
      fc.integer({ min: 0, max: 64 }),
      fc.integer({ min: 0, max: 4096 }),
      (garbage, sizes, min, extra) => {
        const d = new FrameDecoder({ minFrameSize: min, maxFrameSize: min + extra });
        let at = 0;
        let failure: unknown = null;
        for (let i = 0; at < garbage.length && failure === null; i++) {
          const n = sizes[i % sizes.length];
          try {
            d.push(garbage.subarray(at, at + n));
            for (let f = d.next(); f !== null; f = d.next()) {
              assert.ok(f.length >= min && f.length <= min + extra);
            }
          } catch (error) {
            failure = error;
          }
          at += n;
        }
        if (failure === null) return;
        assert.ok(failure instanceof FramingError, `unexpected ${failure}`);
        // The field says what the message says.
        const named = /looks like (HTTP|TLS)/.exec(failure.message)?.[1].toLowerCase() ?? null;
        assert.equal(failure.peer, named);
        assert.throws(() => d.next(), (e) => e === failure);
      },
    ),
    { numRuns: 500 },
  );
});

test("FrameDecoder.nextFrame gives each frame as offsets into the chunk it lies in", () => {
  const d = new FrameDecoder({ minFrameSize: 0 });
  // Two frames in one chunk, then one split across two chunks.
  const chunk = new Uint8Array([0, 0, 0, 2, 7, 8, 0, 0, 0, 1, 9, 0, 0, 0, 3, 1]);
  d.push(chunk);
  assert.ok(d.nextFrame());
  assert.equal(d.frameBuffer, chunk);
  assert.deepEqual([d.frameStart, d.frameEnd], [4, 6]);
  assert.ok(d.nextFrame());
  assert.equal(d.frameBuffer, chunk);
  assert.deepEqual([d.frameStart, d.frameEnd], [10, 11]);
  assert.equal(d.nextFrame(), false);
  assert.equal(d.frameBuffer.length, 0, "no chunk is held once every frame is out");
  d.push(new Uint8Array([2, 3]));
  assert.ok(d.nextFrame());
  const { frameBuffer, frameStart, frameEnd } = d;
  assert.deepEqual([...frameBuffer.subarray(frameStart, frameEnd)], [1, 2, 3]);
  assert.equal(d.nextFrame(), false);
  assert.equal(d.buffered, 0);
});
