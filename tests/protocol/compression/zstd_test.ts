import assert from "node:assert/strict";
import { compress as wasmZstdCompress } from "@bokuweb/zstd-wasm";
import fc from "fast-check";
import { decompress as fzstdDecompress } from "fzstd";
import { test } from "../../harness.ts";
import { assertSameBytes, concatBytes } from "../../fixtures/bytes.ts";
import "../../fixtures/wasm_zstd.ts";
import { CompressionError } from "../../../protocol/compression/errors.ts";
import { ConfigError } from "../../../transport/errors.ts";
import { xxhash64Hex, xxhash64Low32 } from "../../../protocol/compression/xxhash64.ts";
import { zstdDecompress } from "../../../protocol/compression/zstd_decompress.ts";
import { readVector, sha256Hex, VECTORS } from "./zstd_vectors.ts";

const MiB = 1 << 20;

// The reference library compiled to wasm (a dev dependency) makes frames of generated data; the
// fixture instantiates it, once per process.
const ascii = (s: string) => new TextEncoder().encode(s);

/** Runs `fn`, which must throw a CompressionError of `failure`; returns it. */
function rejects(fn: () => unknown, failure: CompressionError["failure"]): CompressionError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CompressionError, `expected a CompressionError, got ${e}`);
    assert.equal(e.failure, failure, e.message);
    assert.equal(e.codec, "zstd");
    return e;
  }
  assert.fail(`expected a ${failure} CompressionError`);
}

/** A frame header with no content size, the given window byte and no checksum. */
function streamHeader(windowByte: number): number[] {
  return [0x28, 0xb5, 0x2f, 0xfd, 0x00, windowByte];
}

test("xxhash64 matches the published XXH64 values", () => {
  assert.equal(xxhash64Hex(new Uint8Array(0)), "ef46db3751d8e999");
  assert.equal(xxhash64Hex(ascii("a")), "d24ec4f1a98c6e5b");
  assert.equal(xxhash64Hex(ascii("abc")), "44bc2cf5ad770999");
  assert.equal(xxhash64Hex(ascii("message digest")), "066ed728fceeb3be");
  assert.equal(xxhash64Hex(ascii("abcdefghijklmnopqrstuvwxyz0123456789")), "64f23ecf1609b766");
  assert.equal(xxhash64Hex(ascii("Nobody inspects the spammish repetition")), "fbcea83c8a378bf1");
  const data = ascii("..abc..");
  assert.equal(xxhash64Low32(data, 2, 5), 0xad770999);
  // Long enough for the 32-byte stripes, from aligned and unaligned starts.
  const text = ascii("..Nobody inspects the spammish repetition, nobody at all..");
  const expected = ["799c029a6445a602", "3e3a8d402e7fbd18", "3ffbbec34b88fe81", "d713ff5d2129188d"];
  for (let start = 0; start < 4; start++) {
    assert.equal(xxhash64Hex(text, start, start + 50), expected[start], `start ${start}`);
    assert.equal(xxhash64Hex(text.slice(start, start + 50)), expected[start], `copy ${start}`);
  }
  assert.equal(
    xxhash64Hex(ascii("Nobody inspects the spammish repetition"), 0, 39),
    "fbcea83c8a378bf1",
  );
});

test("zstdDecompress() decodes every zstd CLI vector to its recorded size and SHA-256", async () => {
  assert.ok(VECTORS.length >= 19);
  for (const v of VECTORS) {
    const out = zstdDecompress(readVector(v.file), 64 * MiB);
    assert.equal(out.length, v.size, v.file);
    assert.equal(await sha256Hex(out), v.sha256, v.file);
  }
});

test("zstdDecompress() agrees byte for byte with fzstd on every vector", () => {
  for (const v of VECTORS) {
    const src = readVector(v.file);
    assertSameBytes(zstdDecompress(src, 64 * MiB), fzstdDecompress(src), v.file);
  }
});

test("zstdDecompress() decodes the module example", () => {
  const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x02, 0x11, 0x00, 0x00, 0x68, 0x69]);
  assert.equal(new TextDecoder().decode(zstdDecompress(frame, MiB)), "hi");
});

test("zstdDecompress() decodes compressed blocks of literals only (raw and RLE)", () => {
  // Block 1: raw literals "hello", no sequences. Block 2: 3 RLE literals "!", no sequences.
  const frame = new Uint8Array([
    ...streamHeader(0),
    (7 << 3) | 4,
    0,
    0,
    5 << 3,
    ...ascii("hello"),
    0,
    (3 << 3) | 5,
    0,
    0,
    (3 << 3) | 1,
    0x21,
    0,
  ]);
  assert.equal(new TextDecoder().decode(zstdDecompress(frame, MiB)), "hello!!!");
  // Bytes after a zero sequence count are malformed.
  const extra = frame.slice();
  extra[6] = (8 << 3) | 4;
  const withExtra = concatBytes([extra.subarray(0, 15), new Uint8Array([0]), extra.subarray(15)]);
  rejects(() => zstdDecompress(withExtra, MiB), "malformed");
});

test("zstdDecompress() carries no Huffman or FSE table from an earlier frame or call", () => {
  // Treeless literals (one stream, 1 literal, 1 byte) in a frame's first block.
  const treeless = new Uint8Array([...streamHeader(0), (5 << 3) | 5, 0, 0, 0x13, 0x40, 0, 0x80, 0]);
  // Repeat mode for all three sequence tables in a frame's first block.
  const repeat = new Uint8Array([...streamHeader(0), (4 << 3) | 5, 0, 0, 0, 1, 0xfc, 0x80]);
  const warm = readVector("json1k-19.zst");
  for (const [frame, what] of [[treeless, /treeless/], [repeat, /repeat mode/]] as const) {
    zstdDecompress(warm, MiB);
    assert.match(rejects(() => zstdDecompress(frame, MiB), "malformed").message, what);
    const both = concatBytes([warm, frame]);
    assert.match(rejects(() => zstdDecompress(both, MiB), "malformed").message, what);
  }
});

test("zstdDecompress() results never share memory with later calls", () => {
  // Frames of unknown size under one block are decoded in a reused buffer: results are copies.
  const small = readVector("json1k-3-nocheck-nosize.zst");
  const first = zstdDecompress(small, MiB);
  const expected = first.slice();
  const second = zstdDecompress(small, MiB);
  second.fill(0);
  zstdDecompress(readVector("one-nosize.zst"), MiB);
  assertSameBytes(first, expected, "first result");
  assert.notEqual(first.buffer, second.buffer);
});

test("zstdDecompress() concatenates frames and skips skippable frames", () => {
  const a = readVector("json1k-3.zst");
  const b = readVector("one-nosize.zst");
  const c = readVector("mixed1m-3-nocheck-nosize.zst");
  const skippable = new Uint8Array([0x53, 0x2a, 0x4d, 0x18, 5, 0, 0, 0, 1, 2, 3, 4, 5]);
  const out = zstdDecompress(concatBytes([a, skippable, b, c, skippable]), 64 * MiB);
  const expected = concatBytes([
    zstdDecompress(a, MiB),
    zstdDecompress(b, MiB),
    zstdDecompress(c, 2 * MiB),
  ]);
  assertSameBytes(out, expected, "concatenated frames");
  assert.equal(zstdDecompress(skippable, MiB).length, 0);
});

test("zstdDecompress() refuses frames that need a dictionary, saying so", () => {
  const withId = rejects(() => zstdDecompress(readVector("json1k-dict.zst"), MiB), "unsupported");
  assert.match(withId.message, /needs dictionary \d+/);
  const raw = rejects(() => zstdDecompress(readVector("json1k-rawdict.zst"), MiB), "malformed");
  assert.match(raw.message, /dictionary/);
});

test("zstdDecompress() reports bad magic, empty and truncated data", () => {
  assert.match(rejects(() => zstdDecompress(ascii("not zstd"), MiB), "malformed").message, /magic/);
  rejects(() => zstdDecompress(new Uint8Array(0), MiB), "truncated");
  const frame = readVector("json1k-3.zst");
  for (let n = 1; n < frame.length; n++) {
    rejects(() => zstdDecompress(frame.subarray(0, n), MiB), "truncated");
  }
  const big = readVector("mixed1m-19.zst");
  for (let n = 1; n < big.length; n += 997) {
    rejects(() => zstdDecompress(big.subarray(0, n), 2 * MiB), "truncated");
  }
});

test("zstdDecompress() verifies the content checksum", () => {
  for (const file of ["json1k-3.zst", "mixed1m-3.zst", "empty.zst"]) {
    const frame = readVector(file).slice();
    frame[frame.length - 1] ^= 0x40;
    assert.match(rejects(() => zstdDecompress(frame, 2 * MiB), "checksum").message, /checksum/);
  }
});

test("zstdDecompress() checks the declared content size", () => {
  // json1k-3 declares 1024 bytes in two bytes (value - 256) after the descriptor 0x60.
  const frame = readVector("json1k-3.zst").slice();
  assert.equal(frame[4] & 0xe0, 0x60);
  assert.equal(frame[5] | (frame[6] << 8), 1024 - 256);
  const shorter = frame.slice();
  shorter[5] = 0xff; // 1023 - 256 = 0x02ff
  shorter[6] = 0x02;
  assert.match(rejects(() => zstdDecompress(shorter, MiB), "malformed").message, /1023 bytes/);
  frame[5] -= 1; // 0x03ff + 256 = 1279
  assert.match(rejects(() => zstdDecompress(frame, MiB), "malformed").message, /declares 1279/);
  // With the limit at the declared size: still malformed, not over the limit.
  assert.match(rejects(() => zstdDecompress(shorter, 1023), "malformed").message, /declares/);
});

test("zstdDecompress() stops at maxOutputBytes, with or without a declared size", () => {
  const declared = readVector("mixed1m-3.zst");
  const streamed = readVector("mixed1m-3-nocheck-nosize.zst");
  for (const src of [declared, streamed]) {
    assert.equal(zstdDecompress(src, MiB).length, MiB);
    const err = rejects(() => zstdDecompress(src, MiB - 1), "size-limit");
    assert.match(err.message, new RegExp(`limit of ${MiB - 1} bytes`));
    rejects(() => zstdDecompress(src, 0), "size-limit");
  }
  assert.equal(zstdDecompress(readVector("empty.zst"), 0).length, 0);
  assert.equal(zstdDecompress(declared, Infinity).length, MiB);
  for (const bad of [NaN, -1]) {
    assert.throws(() => zstdDecompress(declared, bad), (e) => e instanceof ConfigError);
  }
});

test("zstdDecompress() refuses a decompression bomb at the limit", () => {
  // 4096 RLE blocks of 128 KiB: 512 MiB from 16 KiB, no declared size.
  const blocks: number[] = [];
  for (let i = 0; i < 4096; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === 4095 ? 1 : 0);
    blocks.push(header & 0xff, (header >> 8) & 0xff, header >> 16, 0x41);
  }
  const bomb = new Uint8Array([...streamHeader(7 << 3), ...blocks]);
  const started = performance.now();
  rejects(() => zstdDecompress(bomb, 4 * MiB), "size-limit");
  assert.ok(performance.now() - started < 2000, "refused quickly");
  // A frame declaring 2^40 bytes is refused before any block is looked at.
  const huge = new Uint8Array([
    0x28,
    0xb5,
    0x2f,
    0xfd,
    0xe0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    0x41,
  ]);
  rejects(() => zstdDecompress(huge, 4 * MiB), "malformed");
});

test("zstdDecompress() rejects reserved bits and block types", () => {
  const reservedBit = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x28, 0x00, 0x01, 0x00, 0x00]);
  assert.match(rejects(() => zstdDecompress(reservedBit, MiB), "malformed").message, /reserved/);
  const reservedType = new Uint8Array([...streamHeader(0), 0x07, 0x00, 0x00]);
  assert.match(rejects(() => zstdDecompress(reservedType, MiB), "malformed").message, /reserved/);
  // A 2 KiB raw block in a frame whose window is 1 KiB.
  const tooBig = new Uint8Array([...streamHeader(0), 0x01, 0x40, 0x00, ...new Uint8Array(2048)]);
  rejects(() => zstdDecompress(tooBig, MiB), "malformed");
});

// Small and mid-sized vectors covering every block and literals type, for the fuzzers.
const FUZZ_FILES = [
  "json1k-1.zst",
  "json1k-3.zst",
  "json1k-19.zst",
  "json1k-3-nocheck-nosize.zst",
  "one.zst",
  "repetitive-3.zst",
  "repetitive-19-nocheck.zst",
];
const FUZZ = FUZZ_FILES.map(readVector);

/** Decodes, accepting a result or a CompressionError and nothing else. */
function decodesOrRejects(src: Uint8Array, limit: number): void {
  try {
    const out = zstdDecompress(src, limit);
    assert.ok(out.length <= limit);
  } catch (e) {
    if (!(e instanceof CompressionError)) throw e;
  }
}

test("zstdDecompress(): corrupted frames only ever throw CompressionError", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: FUZZ.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.option(fc.nat()),
      (which, edits, cut) => {
        const src = FUZZ[which].slice();
        for (const [at, value] of edits) src[at % src.length] = value;
        const end = cut === null ? src.length : cut % (src.length + 1);
        decodesOrRejects(src.subarray(0, end), MiB);
      },
    ),
    { numRuns: 1500 },
  );
});

test("zstdDecompress(): corrupted compressed blocks only ever throw CompressionError", () => {
  // Edits past the frame header, where the entropy tables and bitstreams are.
  const mixed = readVector("mixed1m-19.zst");
  const json = readVector("json1k-19.zst");
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (big, flips) => {
        const src = (big ? mixed : json).slice();
        for (const [at, bit] of flips) src[9 + (at % (src.length - 9))] ^= 1 << bit;
        decodesOrRejects(src, 2 * MiB);
      },
    ),
    { numRuns: 300 },
  );
});

test("zstdDecompress(): random bytes behind a frame header only ever throw CompressionError", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ minLength: 0, maxLength: 600 }),
      (descriptor, body) => {
        const src = concatBytes([new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, descriptor]), body]);
        decodesOrRejects(src, MiB);
        // The same bytes as a compressed block.
        const n = body.length;
        const block = new Uint8Array([...streamHeader(0x30), (n << 3) | 5, n >> 5, n >> 13]);
        decodesOrRejects(concatBytes([block, body]), MiB);
      },
    ),
    { numRuns: 2000 },
  );
});

test("zstdDecompress(): any limit either returns everything or refuses with size-limit", () => {
  const src = readVector("json1k-3-nocheck-nosize.zst");
  const full = zstdDecompress(src, MiB);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 * full.length }), (limit) => {
      if (limit >= full.length) {
        assertSameBytes(zstdDecompress(src, limit), full, `limit ${limit}`);
      } else {
        rejects(() => zstdDecompress(src, limit), "size-limit");
      }
    }),
    { numRuns: 300 },
  );
});

/** Compressible data of up to a few hundred KiB: words, runs, random bytes and repeats. */
const generatedData = fc
  .array(
    fc.oneof(
      fc.constantFrom("offset", "partition", '{"key":', "value", " ", "\n", "kafka-wire").map(
        (w): [number, number, number] => [0, w.length, w.charCodeAt(0)],
      ),
      fc.tuple(fc.constant(1), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 255 })),
      fc.tuple(fc.constant(2), fc.integer({ min: 1, max: 500 }), fc.nat()),
      fc.tuple(fc.constant(3), fc.integer({ min: 3, max: 2000 }), fc.nat()),
    ),
    { maxLength: 300 },
  )
  .map((parts) => {
    const out: number[] = [];
    for (const [kind, n, x] of parts) {
      if (kind === 0) {
        for (let i = 0; i < n; i++) out.push((x + i * 7) & 0x7f);
      } else if (kind === 1) {
        for (let i = 0; i < n; i++) out.push(x);
      } else if (kind === 2) {
        let seed = x;
        for (let i = 0; i < n; i++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          out.push(seed >>> 24);
        }
      } else if (out.length > 0) {
        const from = x % out.length;
        for (let i = 0; i < n; i++) out.push(out[from + (i % (out.length - from))]);
      }
    }
    return new Uint8Array(out);
  });

test("zstdDecompress() round-trips generated data through the reference encoder at any level", () => {
  fc.assert(
    fc.property(
      generatedData,
      fc.constantFrom(-5, 1, 2, 3, 5, 9, 12, 16, 19),
      (data, level) => {
        // The highest levels are slow to compress; they get the smaller inputs.
        if (level > 12 && data.length > 64 * 1024) return;
        const frame = wasmZstdCompress(data, level);
        assertSameBytes(zstdDecompress(frame, data.length), data, `level ${level}`);
        assertSameBytes(fzstdDecompress(frame), data, `fzstd, level ${level}`);
      },
    ),
    { numRuns: 150 },
  );
});
