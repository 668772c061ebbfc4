/**
 * The codecs on their own: reference vectors made by other implementations (see
 * compression_vectors/README.md), hand-made edge cases, every failure a typed
 * CompressionError, decompression bombs stopped at the limit, and fast-check round trips and
 * random corruption.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { type Codec, Codecs, CompressionError } from "../../protocol/compression/codec.ts";
import { gzipCodec } from "../../protocol/compression/gzip.ts";
import { lz4Codec } from "../../protocol/compression/lz4.ts";
import { snappyCodec } from "../../protocol/compression/snappy.ts";
import { xxhash32 } from "../../protocol/compression/xxhash32.ts";
import { zstdCodec } from "../../protocol/compression/zstd.ts";
import { ConfigError } from "../../transport/errors.ts";
import { assertSameBytes } from "../fixtures/bytes.ts";
import { test } from "../harness.ts";

const vector = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./compression_vectors/${name}`, import.meta.url)));
const plain = vector("plain.bin");
const MiB = 1 << 20;
const enc = new TextEncoder();

const snappy = snappyCodec();
const snappyRaw = snappyCodec({ framing: "raw" });
const lz4 = lz4Codec();
const gzip = gzipCodec();
const CODECS: readonly [string, Codec][] = [
  ["gzip", gzip],
  ["snappy (xerial)", snappy],
  ["snappy (raw)", snappyRaw],
  ["lz4", lz4],
];

/** Asserts that `fn` fails with a CompressionError of `codec` and `failure`. */
async function rejectsWith(
  fn: () => unknown,
  codec: string,
  failure: CompressionError["failure"],
  detail?: RegExp,
): Promise<void> {
  await assert.rejects(async () => await fn(), (e) => {
    assert.ok(e instanceof CompressionError, `expected a CompressionError, got ${e}`);
    assert.equal(e.codec, codec);
    assert.equal(e.failure, failure, e.message);
    if (detail) assert.match(e.detail, detail);
    return true;
  });
}

test("xxhash32 matches the reference library", () => {
  const cases: [string, number][] = [
    ["", 0x02cc5d05],
    ["a", 0x550d7456],
    ["abc", 0x32d153ff],
    ["0123456789abcdef", 0xc2c45b69],
    ["Nobody inspects the spammish repetition", 0xe2293b2f],
  ];
  for (const [s, want] of cases) assert.equal(xxhash32(enc.encode(s)), want, s);
  const padded = enc.encode("xxabcxx");
  assert.equal(xxhash32(padded, 2, 5), 0x32d153ff);
});

test("snappy decodes python-snappy's raw block and a hand-framed xerial stream", () => {
  assertSameBytes(snappy.decompress(vector("raw.snappy"), MiB), plain, "raw");
  assertSameBytes(snappy.decompress(vector("xerial.snappy"), MiB), plain, "xerial");
});

test("lz4 decodes python lz4's frames: linked blocks, checksums, HC level, 4 MiB blocks", () => {
  for (const name of ["linked_size.lz4", "checksums.lz4", "level9.lz4"]) {
    assertSameBytes(lz4.decompress(vector(name), MiB), plain, name);
  }
});

test("gzip decodes Python's gzip", async () => {
  assertSameBytes(await gzip.decompress(vector("python.gz"), MiB), plain, "gzip");
});

test("zstd decodes python zstandard's frame; without an encoder it says how to plug one", async () => {
  const zstd = zstdCodec();
  assertSameBytes(zstd.decompress(vector("frame.zst"), MiB), plain, "zstd");
  await rejectsWith(
    () => zstd.compress(plain),
    "zstd",
    "unsupported",
    /zstdCodec\(\{ compress \}\)/,
  );
  const plugged = zstdCodec({ compress: (d) => d });
  assert.equal(plugged.compress(plain), plain);
});

test("snappy hand-made blocks: overlapping 1-byte-offset copy and a 4-byte-offset copy", () => {
  const run = new Uint8Array([0x0a, 0x00, 0x61, 0x15, 0x01]);
  assert.equal(new TextDecoder().decode(snappy.decompress(run, 100)), "aaaaaaaaaa");
  const far = new Uint8Array([0x06, 0x04, 0x61, 0x62, 0x0f, 0x02, 0x00, 0x00, 0x00]);
  assert.equal(new TextDecoder().decode(snappy.decompress(far, 100)), "ababab");
  // A literal with a two-byte length (tag 61).
  const long = new Uint8Array(300).fill(7);
  const lit = new Uint8Array([0xac, 0x02, 61 << 2, 0x2b, 0x01, ...long]);
  assertSameBytes(snappy.decompress(lit, 1000), long, "long literal");
});

test("snappy refuses bad blocks with typed errors", async () => {
  // Offset 0, and an offset before the start of the output.
  await rejectsWith(
    () => snappy.decompress(new Uint8Array([0x05, 0x11, 0x00]), 100),
    "snappy",
    "malformed",
  );
  await rejectsWith(
    () => snappy.decompress(new Uint8Array([0x05, 0x11, 0x01]), 100),
    "snappy",
    "malformed",
  );
  // Declares 10 bytes, holds 1.
  await rejectsWith(
    () => snappy.decompress(new Uint8Array([0x0a, 0x00, 0x61]), 100),
    "snappy",
    "truncated",
  );
  // A literal longer than the data.
  await rejectsWith(
    () => snappy.decompress(new Uint8Array([0x03, 0x08, 0x61]), 100),
    "snappy",
    "truncated",
  );
  // A length varint of more than 32 bits.
  await rejectsWith(
    () => snappy.decompress(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 100),
    "snappy",
    "malformed",
  );
  // A xerial chunk length past the end.
  const x = vector("xerial.snappy").slice(0, 40);
  await rejectsWith(() => snappy.decompress(x, MiB), "snappy", "truncated");
});

test("snappy refuses a declared size over the limit before allocating it", async () => {
  // 4 GiB declared in five bytes.
  const bomb = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61]);
  await rejectsWith(() => snappy.decompress(bomb, MiB), "snappy", "size-limit", /4294967295/);
  const zeros = snappy.compress(new Uint8Array(4 * MiB));
  assert.ok(zeros.length < 300_000);
  await rejectsWith(() => snappy.decompress(zeros, MiB), "snappy", "size-limit");
  assert.equal(snappy.decompress(zeros, 4 * MiB).length, 4 * MiB);
});

test("lz4 refuses bad frames with typed errors naming what was wrong", async () => {
  const frame = lz4.compress(plain);
  const bad = (at: number, xor: number) => {
    const b = frame.slice();
    b[at] ^= xor;
    return b;
  };
  await rejectsWith(() => lz4.decompress(bad(0, 1), MiB), "lz4", "malformed", /magic/);
  await rejectsWith(() => lz4.decompress(bad(6, 1), MiB), "lz4", "checksum", /descriptor/);
  await rejectsWith(() => lz4.decompress(bad(4, 0x01), MiB), "lz4", "unsupported", /dictionary/);
  await rejectsWith(() => lz4.decompress(frame.subarray(0, 5), MiB), "lz4", "truncated");
  await rejectsWith(
    () => lz4.decompress(frame.subarray(0, frame.length - 1), MiB),
    "lz4",
    "truncated",
  );
  await rejectsWith(() => lz4.decompress(frame.subarray(0, 20), MiB), "lz4", "truncated");
  const trailing = new Uint8Array([...frame, 0]);
  await rejectsWith(() => lz4.decompress(trailing, MiB), "lz4", "malformed", /after the end/);
  // python's frame with block and content checksums, damaged in a literal.
  const sums = vector("checksums.lz4");
  const damaged = sums.slice();
  damaged[40] ^= 0x20;
  await rejectsWith(() => lz4.decompress(damaged, MiB), "lz4", "checksum", /block 0/);
});

test("lz4 checks the content checksum and the declared content size", async () => {
  const sums = vector("checksums.lz4");
  const wrongSum = sums.slice();
  wrongSum[wrongSum.length - 1] ^= 1;
  await rejectsWith(() => lz4.decompress(wrongSum, MiB), "lz4", "checksum", /content/);
  // linked_size.lz4 declares 5355 bytes: a limit below that refuses it from the header.
  await rejectsWith(
    () => lz4.decompress(vector("linked_size.lz4"), 5000),
    "lz4",
    "size-limit",
    /5355/,
  );
});

test("lz4 stops a bomb without a content size at the limit", async () => {
  const zeros = lz4.compress(new Uint8Array(8 * MiB));
  assert.ok(zeros.length < 64 * 1024, `8 MiB of zeros took ${zeros.length} bytes`);
  await rejectsWith(() => lz4.decompress(zeros, MiB), "lz4", "size-limit");
  assert.equal(lz4.decompress(zeros, 8 * MiB).length, 8 * MiB);
});

test("lz4 stores incompressible blocks uncompressed and reads them back", () => {
  const noise = new Uint8Array(100_000);
  let x = 1;
  for (let i = 0; i < noise.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    noise[i] = x >>> 24;
  }
  const frame = lz4.compress(noise);
  assert.ok(frame.length <= noise.length + 7 + 2 * 4 + 4);
  assert.ok((frame[10] & 0x80) !== 0, "first block stored uncompressed");
  assertSameBytes(lz4.decompress(frame, MiB), noise, "noise");
});

test("lz4 writes the frame Kafka's Java codec writes: version 1, independent 64 KiB blocks", () => {
  const frame = lz4.compress(plain);
  assert.deepEqual([...frame.subarray(0, 6)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
  assert.equal(frame[6], (xxhash32(frame, 4, 6) >>> 8) & 0xff);
});

test("snappy writes xerial framing by default and raw on request", () => {
  const x = snappy.compress(plain);
  assert.deepEqual([...x.subarray(0, 16)], [
    0x82,
    0x53,
    0x4e,
    0x41,
    0x50,
    0x50,
    0x59,
    0x00,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    1,
  ]);
  const raw = snappyRaw.compress(plain);
  assert.equal(raw[0] | ((raw[1] & 0x7f) << 7), plain.length);
  assert.ok(raw.length < plain.length / 2, `ratio ${raw.length}/${plain.length}`);
});

test("gzip stops a bomb at the limit and types runtime failures", async () => {
  const zeros = await gzip.compress(new Uint8Array(8 * MiB));
  await rejectsWith(() => gzip.decompress(zeros, MiB), "gzip", "size-limit");
  const g = vector("python.gz");
  await rejectsWith(() => gzip.decompress(g.subarray(0, 10), MiB), "gzip", "truncated");
  const badMagic = g.slice();
  badMagic[0] = 0;
  await rejectsWith(() => gzip.decompress(badMagic, MiB), "gzip", "malformed", /magic/);
  // A damaged CRC-32 in the trailer and a cut stream: each runtime's zlib words these
  // differently, but both are CompressionErrors of gzip.
  const badCrc = g.slice();
  badCrc[g.length - 6] ^= 1;
  for (const broken of [badCrc, g.subarray(0, g.length - 3)]) {
    await assert.rejects(
      () => gzip.decompress(broken, MiB),
      (e) => e instanceof CompressionError && e.codec === "gzip",
    );
  }
});

test("gzip with a lying size field is refused, not trusted", async () => {
  const g = vector("python.gz").slice();
  g[g.length - 4] ^= 0x10;
  await assert.rejects(
    () => gzip.decompress(g, MiB),
    (e) => e instanceof CompressionError && e.codec === "gzip",
  );
});

test("Codecs: one per id, names must match ids, with() copies", () => {
  const codecs = new Codecs([gzip, snappy, lz4]);
  assert.equal(codecs.byId(3), lz4);
  assert.equal(codecs.byName("snappy"), snappy);
  assert.equal(codecs.byId(4), undefined);
  const raw = codecs.with(snappyRaw);
  assert.equal(raw.byId(2), snappyRaw);
  assert.equal(codecs.byId(2), snappy, "the original is unchanged");
  assert.deepEqual(raw.list().map((c) => c.id), [1, 2, 3]);
  assert.throws(() => new Codecs([{ ...lz4, id: 4 }]), ConfigError);
});

const dataArb = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  // Repetitive data, so that matches and overlapping copies are exercised.
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3000 }))
    .map(([unit, n]) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = unit[i % unit.length];
      return out;
    }),
);

test("every codec round-trips any bytes (fast-check)", async () => {
  for (const [name, codec] of CODECS) {
    await fc.assert(
      fc.asyncProperty(dataArb, async (data) => {
        const packed = await codec.compress(data);
        assertSameBytes(await codec.decompress(packed, data.length), data, name);
      }),
      { numRuns: name === "gzip" ? 60 : 300 },
    );
  }
});

test("every codec round-trips data across 64 KiB block boundaries", async () => {
  const big = new Uint8Array(300_000);
  for (let i = 0; i < big.length; i++) big[i] = plain[(i * 7) % plain.length] ^ (i >>> 16);
  for (const [name, codec] of CODECS) {
    assertSameBytes(await codec.decompress(await codec.compress(big), big.length), big, name);
  }
});

test("damaged compressed data only ever throws CompressionError (fast-check)", async () => {
  for (const [name, codec] of CODECS) {
    const packed = await codec.compress(plain);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(packed.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(packed.length),
        async (flips, cut) => {
          const damaged = packed.slice(0, Math.max(cut, packed.length - 8));
          for (const [at, xor] of flips) if (at < damaged.length) damaged[at] ^= xor;
          try {
            const out = await codec.decompress(damaged, plain.length * 2);
            assert.ok(out.length <= plain.length * 2);
          } catch (e) {
            assert.ok(e instanceof CompressionError, `${name}: ${e}`);
            assert.equal(e.baseOffset, null);
          }
        },
      ),
      { numRuns: name === "gzip" ? 60 : 400 },
    );
  }
});
