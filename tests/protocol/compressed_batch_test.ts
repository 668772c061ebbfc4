/**
 * Compressed record batches: every codec through encodeRecordBatch(Async) and
 * decodeRecordBatch(es)(Async), zstd compressed by a wasm build of the reference library
 * plugged in through zstdCodec({ compress }), typed errors naming the codec and the batch's
 * base offset, the decompressed size limit, and fast-check round trips and corruption.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { DecodeError } from "../../framing/errors.ts";
import { type Codec, Codecs, CompressionError } from "../../protocol/compression/codec.ts";
import { defaultCodecs } from "../../protocol/compression/defaults.ts";
import { gzipCodec } from "../../protocol/compression/gzip.ts";
import { lz4Codec } from "../../protocol/compression/lz4.ts";
import { snappyCodec } from "../../protocol/compression/snappy.ts";
import { crc32c } from "../../protocol/crc32c.ts";
import {
  CorruptRecordBatchError,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  decodeRecordBatches,
  decodeRecordBatchesAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type KafkaRecord,
  type RecordInput,
  UnsupportedCompressionError,
} from "../../protocol/record_batch.ts";
import { ConfigError } from "../../transport/errors.ts";
import { wasmZstd } from "../fixtures/wasm_zstd.ts";
import { test } from "../harness.ts";

/** zstd with an encoder plugged in: the reference library compiled to wasm, from npm. */
const zstd = wasmZstd;
const codecs = defaultCodecs.with(zstd);

const CODECS: readonly Codec[] = [
  gzipCodec(),
  snappyCodec(),
  snappyCodec({ framing: "raw" }),
  lz4Codec(),
  zstd,
];
const T0 = 1_700_000_000_000;
const enc = new TextEncoder();

function makeRecords(n: number): RecordInput[] {
  const out: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: i % 5 === 0 ? null : enc.encode(`key-${i}`),
      value: i % 7 === 0 ? null : enc.encode(JSON.stringify({ i, name: `user-${i}`, ok: i % 2 })),
      headers: i % 3 === 0 ? [] : [{ key: "h", value: enc.encode(`v${i}`) }],
      timestamp: T0 + i,
    });
  }
  return out;
}

function plainRecords(records: readonly KafkaRecord[]) {
  return records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key && [...r.key],
    value: r.value && [...r.value],
    headers: r.headers.map((h) => ({ key: h.key, value: h.value && [...h.value] })),
  }));
}

/** Rewrites the batch's CRC after a change, so that only the compressed data is wrong. */
function fixCrc(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch, 21, batch.length));
  return batch;
}

const records = makeRecords(40);
const reference = plainRecords(decodeRecordBatch(encodeRecordBatch({ records })).records);

test("every codec: encodeRecordBatchAsync then decodeRecordBatchAsync gives the records back", async () => {
  for (const codec of CODECS) {
    const bytes = await encodeRecordBatchAsync({ records, baseOffset: 100n }, {
      compression: codec,
    });
    assert.equal(new DataView(bytes.buffer).getInt16(21) & 7, codec.id, codec.name);
    const batch = await decodeRecordBatchAsync(bytes, { codecs });
    assert.equal(batch.baseOffset, 100n);
    assert.equal(batch.lastOffsetDelta, 39);
    assert.deepEqual(
      plainRecords(batch.records).map((r) => ({ ...r, offset: r.offset - 100n })),
      reference,
    );
    assert.ok(bytes.length < encodeRecordBatch({ records }).length, `${codec.name} shrinks`);
  }
});

test("synchronous codecs work with the synchronous encoder and decoder", () => {
  for (const codec of [snappyCodec(), lz4Codec(), zstd]) {
    const bytes = encodeRecordBatch({ records }, { compression: codec });
    assert.deepEqual(plainRecords(decodeRecordBatch(bytes, { codecs }).records), reference);
    // The default codecs decode all three without being told.
    assert.deepEqual(plainRecords(decodeRecordBatches(bytes)[0].records), reference);
  }
});

test("gzip from the synchronous functions: a typed error pointing at the Async ones", async () => {
  assert.throws(
    () => encodeRecordBatch({ records }, { compression: gzipCodec() }),
    (e) => e instanceof ConfigError && /encodeRecordBatchAsync/.test(e.message),
  );
  const bytes = await encodeRecordBatchAsync({ records, baseOffset: 9n }, {
    compression: gzipCodec(),
  });
  assert.throws(() => decodeRecordBatch(bytes), (e) => {
    assert.ok(e instanceof UnsupportedCompressionError);
    assert.equal(e.codec, "gzip");
    assert.equal(e.baseOffset, 9n);
    assert.match(e.message, /decodeRecordBatchesAsync/);
    return true;
  });
});

test("decodeRecordBatchesAsync reads mixed uncompressed and compressed batches in order", async () => {
  const parts: Uint8Array[] = [encodeRecordBatch({ records, baseOffset: 0n })];
  let base = 40n;
  for (const codec of CODECS) {
    parts.push(await encodeRecordBatchAsync({ records, baseOffset: base }, { compression: codec }));
    base += 40n;
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  // A partial batch at the end is left for the next fetch, as without compression.
  const batches = await decodeRecordBatchesAsync(all.subarray(0, all.length - 3), { codecs });
  assert.deepEqual(batches.map((b) => b.baseOffset), [0n, 40n, 80n, 120n, 160n]);
  const offsets = batches.flatMap((b) => b.records.map((r) => r.offset));
  assert.deepEqual(offsets, Array.from({ length: 200 }, (_, i) => BigInt(i)));
});

test("a corrupt compressed batch names the codec, the base offset and what was wrong", async () => {
  const bytes = encodeRecordBatch({ records, baseOffset: 4242n }, { compression: lz4Codec() });
  const damaged = fixCrc(bytes.slice(0, bytes.length - 3));
  new DataView(damaged.buffer).setInt32(8, damaged.length - 12);
  fixCrc(damaged);
  for (const decode of [decodeRecordBatch, decodeRecordBatchAsync]) {
    await assert.rejects(async () => await decode(damaged), (e) => {
      assert.ok(e instanceof CompressionError);
      assert.equal(e.codec, "lz4");
      assert.equal(e.baseOffset, 4242n);
      assert.equal(e.failure, "truncated");
      assert.equal(e.code, 2);
      assert.match(e.message, /^Record batch at offset 4242: lz4 truncated: /);
      return true;
    });
  }
  // The CRC is checked before any decompression.
  const flipped = bytes.slice();
  flipped[bytes.length - 10] ^= 1;
  assert.throws(() => decodeRecordBatch(flipped), CorruptRecordBatchError);
});

test("maxDecompressedBytes refuses a bomb batch for every codec and accepts it when raised", async () => {
  const big = [{ value: new Uint8Array(2 << 20), timestamp: T0 }];
  for (const codec of CODECS) {
    const bytes = await encodeRecordBatchAsync({ records: big, baseOffset: 5n }, {
      compression: codec,
    });
    assert.ok(bytes.length < 200_000, `${codec.name}: ${bytes.length}`);
    await assert.rejects(
      () => decodeRecordBatchAsync(bytes, { codecs, maxDecompressedBytes: 1 << 20 }),
      (e) =>
        e instanceof CompressionError && e.failure === "size-limit" && e.baseOffset === 5n &&
        e.codec === codec.name,
    );
    const batch = await decodeRecordBatchAsync(bytes, { codecs, maxDecompressedBytes: 3 << 20 });
    assert.equal(batch.records[0].value?.length, 2 << 20);
  }
  assert.throws(
    () => decodeRecordBatches(new Uint8Array(0), { maxDecompressedBytes: -1 }),
    ConfigError,
  );
});

test("a plugged-in codec is held to the limit and its plain errors are typed", async () => {
  const bytes = encodeRecordBatch({ records, baseOffset: 3n }, { compression: lz4Codec() });
  const greedy: Codec = {
    name: "lz4",
    id: 3,
    compress: (d) => d,
    decompress: () => new Uint8Array(1000),
  };
  assert.throws(
    () => decodeRecordBatch(bytes, { codecs: new Codecs([greedy]), maxDecompressedBytes: 999 }),
    (e) => e instanceof CompressionError && e.failure === "size-limit" && e.baseOffset === 3n,
  );
  const broken: Codec = {
    name: "lz4",
    id: 3,
    compress: () => {
      throw new RangeError("out of wasm memory");
    },
    decompress: () => Promise.reject(new TypeError("native codec exploded")),
  };
  await assert.rejects(
    () => decodeRecordBatchAsync(bytes, { codecs: new Codecs([broken]) }),
    (e) =>
      e instanceof CompressionError && e.failure === "malformed" && e.baseOffset === 3n &&
      /native codec exploded/.test(e.message) && e.cause instanceof TypeError,
  );
  assert.throws(
    () => encodeRecordBatch({ records }, { compression: broken }),
    (e) => e instanceof CompressionError && /out of wasm memory/.test(e.message),
  );
});

test("a batch zstd-compressed by the wasm encoder decodes with the default codecs", () => {
  const plain = new Uint8Array(
    readFileSync(new URL("./compression_vectors/plain.bin", import.meta.url)),
  );
  const bytes = encodeRecordBatch({ records: [{ value: plain, timestamp: T0 }] }, {
    compression: zstd,
  });
  assert.deepEqual([...decodeRecordBatch(bytes).records[0].value!], [...plain]);
});

test("a native gzip (node:zlib, synchronous) plugged in for one call, as docs/compression.md shows", async () => {
  const nodeGzip: Codec = {
    name: "gzip",
    id: 1,
    compress: (data) => gzipSync(data),
    decompress: (data, maxOutputBytes) => {
      try {
        return gunzipSync(data, { maxOutputLength: Math.max(1, maxOutputBytes) });
      } catch (cause) {
        const tooLarge = (cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
        throw new CompressionError("gzip", tooLarge ? "size-limit" : "malformed", String(cause), {
          cause,
        });
      }
    },
  };
  const mine = defaultCodecs.with(nodeGzip);
  // Synchronous now, both ways, and interchangeable with the platform-stream gzip.
  const bytes = encodeRecordBatch({ records }, { compression: nodeGzip });
  assert.deepEqual(plainRecords(decodeRecordBatch(bytes, { codecs: mine }).records), reference);
  assert.deepEqual(plainRecords((await decodeRecordBatchAsync(bytes)).records), reference);
  const ours = await encodeRecordBatchAsync({ records }, { compression: gzipCodec() });
  assert.deepEqual(plainRecords(decodeRecordBatch(ours, { codecs: mine }).records), reference);
  // The default set is untouched: gzip there is still the asynchronous one.
  assert.throws(() => decodeRecordBatch(bytes), UnsupportedCompressionError);
  assert.throws(
    () => decodeRecordBatch(bytes, { codecs: mine, maxDecompressedBytes: 100 }),
    (e) => e instanceof CompressionError && e.failure === "size-limit" && e.baseOffset === 0n,
  );
});

const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 30 }), { nil: null }),
  value: fc.option(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.string({ maxLength: 200 }).map((s) => enc.encode(s.repeat(3))),
    ),
    { nil: null },
  ),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 8 }),
      value: fc.option(fc.uint8Array({ maxLength: 10 }), { nil: null }),
    }),
    { maxLength: 2 },
  ),
  timestamp: fc.integer({ min: T0 - 1000, max: T0 + 1000 }),
});

test("any records, any codec: round trip (fast-check)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(recordArb, { minLength: 1, maxLength: 30 }),
      fc.constantFrom(...CODECS),
      async (recs, codec) => {
        const bytes = await encodeRecordBatchAsync({ records: recs }, { compression: codec });
        const want = plainRecords(decodeRecordBatch(encodeRecordBatch({ records: recs })).records);
        const got = plainRecords((await decodeRecordBatchAsync(bytes, { codecs })).records);
        assert.deepEqual(got, want);
      },
    ),
    { numRuns: 150 },
  );
});

test("random corruption of a compressed batch only throws typed errors (fast-check)", async () => {
  const encoded = await Promise.all(
    CODECS.map((c) => encodeRecordBatchAsync({ records, baseOffset: 77n }, { compression: c })),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.nat(CODECS.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      async (which, flips) => {
        const damaged = encoded[which].slice();
        for (const [at, xor] of flips) damaged[61 + (at % (damaged.length - 61))] ^= xor;
        try {
          await decodeRecordBatchAsync(fixCrc(damaged), { codecs });
        } catch (e) {
          assert.ok(e instanceof CompressionError || e instanceof DecodeError, String(e));
          if (e instanceof CompressionError) assert.equal(e.baseOffset, 77n);
        }
      },
    ),
    { numRuns: 300 },
  );
});
