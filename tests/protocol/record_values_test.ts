/**
 * The `checkCrc` option of every record batch decoder, and the values-only decoders
 * (decodeRecordValues and its Async form) against decodeRecordBatches on the same bytes.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { DecodeError } from "../../framing/errors.ts";
import { CompressionError } from "../../protocol/compression/codec.ts";
import { gzipCodec } from "../../protocol/compression/gzip.ts";
import { lz4Codec } from "../../protocol/compression/lz4.ts";
import { snappyCodec } from "../../protocol/compression/snappy.ts";
import {
  CorruptRecordBatchError,
  decodeRecordBatch,
  decodeRecordBatchAsync,
  decodeRecordBatches,
  decodeRecordBatchesAsync,
  decodeRecordValues,
  decodeRecordValuesAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type RecordBatch,
  type RecordBatchValues,
  type RecordInput,
  UnsupportedCompressionError,
} from "../../protocol/record_batch.ts";
import { test } from "../harness.ts";

const utf8 = new TextEncoder();
const T0 = 1_700_000_000_000;
const records: RecordInput[] = [
  {
    key: utf8.encode("k1"),
    value: utf8.encode("first"),
    headers: [{ key: "h", value: utf8.encode("x") }, { key: "n", value: null }],
  },
  { value: null },
  { key: new Uint8Array(300).fill(1), value: new Uint8Array(500).fill(2), timestamp: T0 + 9 },
  { value: new Uint8Array(0) },
];

/** `bytes` with one bit flipped in the CRC-covered records section, structure intact. */
function damaged(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 20] ^= 0x10; // inside the third record's 500-byte value
  return out;
}

/** Two batches back to back, the second one with a damaged CRC. */
function twoBatches(): Uint8Array {
  const a = encodeRecordBatch({ timestamp: T0, baseOffset: 10n, records });
  const b = damaged(encodeRecordBatch({ timestamp: T0, baseOffset: 14n, records }));
  const all = new Uint8Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  return all;
}

function header(b: RecordBatch | RecordBatchValues): Record<string, unknown> {
  const { records: _r, offsetDeltas: _o, values: _v, ...rest } = b as
    & RecordBatch
    & RecordBatchValues;
  return rest;
}

test("checkCrc (default true): a corrupt CRC is caught by every decoder", async () => {
  const bad = damaged(encodeRecordBatch({ timestamp: T0, baseOffset: 5n, records }));
  const corrupt = (e: unknown) => e instanceof CorruptRecordBatchError && e.baseOffset === 5n;
  assert.throws(() => decodeRecordBatch(bad), corrupt);
  assert.throws(() => decodeRecordBatch(bad, { checkCrc: true }), corrupt);
  assert.throws(() => decodeRecordBatches(bad), corrupt);
  assert.throws(() => decodeRecordValues(bad), corrupt);
  await assert.rejects(decodeRecordBatchAsync(bad), corrupt);
  await assert.rejects(decodeRecordBatchesAsync(bad), corrupt);
  await assert.rejects(decodeRecordValuesAsync(bad), corrupt);
  assert.throws(() => decodeRecordBatches(twoBatches()), (e: unknown) => {
    return e instanceof CorruptRecordBatchError && e.baseOffset === 14n;
  });
});

test("checkCrc: false ignores a corrupt CRC and decodes exactly what checking would", async () => {
  const good = encodeRecordBatch({ timestamp: T0, baseOffset: 5n, records });
  const bad = good.slice();
  bad[17] ^= 0xff; // the stored CRC itself
  const off = { checkCrc: false };
  assert.deepEqual(decodeRecordBatch(bad, off), decodeRecordBatch(good));
  assert.deepEqual(decodeRecordBatches(bad, off), decodeRecordBatches(good));
  assert.deepEqual(await decodeRecordBatchAsync(bad, off), decodeRecordBatch(good));
  assert.deepEqual(await decodeRecordBatchesAsync(bad, off), decodeRecordBatches(good));
  assert.deepEqual(decodeRecordValues(bad, off), decodeRecordValues(good));
  assert.equal(decodeRecordBatches(twoBatches(), off).length, 2);
  // A damaged records section with the check off: the bytes decode as they are (the flipped
  // bit lands in the last record's value), other checks still apply.
  const values = decodeRecordValues(damaged(good), off)[0].values;
  assert.notDeepEqual(values[2], new Uint8Array(500).fill(2));
  const cut = good.slice(0, good.length - 1);
  assert.throws(() => decodeRecordBatch(cut, off), DecodeError);
  const magic = good.slice();
  magic[16] = 1;
  assert.throws(() => decodeRecordBatches(magic, off), DecodeError);
});

test("checkCrc: false on a compressed batch: the codec's own checks still apply", async () => {
  const lz4 = encodeRecordBatch({ timestamp: T0, records }, { compression: lz4Codec() });
  const bad = lz4.slice();
  bad[17] ^= 0xff;
  assert.deepEqual(decodeRecordBatch(bad, { checkCrc: false }), decodeRecordBatch(lz4));
  const gz = await encodeRecordBatchAsync({ timestamp: T0, records }, { compression: gzipCodec() });
  const gzBad = gz.slice();
  gzBad[gzBad.length - 2] ^= 0xff; // the gzip trailer's length
  await assert.rejects(decodeRecordBatchAsync(gzBad, { checkCrc: false }), CompressionError);
});

test("decodeRecordValues gives the values, offsets and header fields of decodeRecordBatches", async () => {
  const all = twoBatches();
  all.set(encodeRecordBatch({ timestamp: T0, baseOffset: 14n, records }), all.length / 2);
  const full = decodeRecordBatches(all);
  const lean = decodeRecordValues(all);
  assert.equal(lean.length, 2);
  for (let b = 0; b < full.length; b++) {
    assert.deepEqual(header(lean[b]), header(full[b]));
    assert.deepEqual(lean[b].values, full[b].records.map((r) => r.value));
    assert.deepEqual(
      Array.from(lean[b].offsetDeltas, (d) => lean[b].baseOffset + BigInt(d)),
      full[b].records.map((r) => r.offset),
    );
  }
  assert.equal(lean[0].values[1], null);
  assert.deepEqual(await decodeRecordValuesAsync(all), lean);
  // A partial batch at the end is left for the next fetch, as by decodeRecordBatches.
  assert.equal(decodeRecordValues(all.subarray(0, all.length - 1)).length, 1);
});

test("decodeRecordValues decodes compressed batches with the same codecs", async () => {
  const snappy = encodeRecordBatch({ timestamp: T0, records }, { compression: snappyCodec() });
  assert.deepEqual(
    decodeRecordValues(snappy)[0].values,
    records.map((r) => r.value),
  );
  const gz = await encodeRecordBatchAsync({ timestamp: T0, records }, { compression: gzipCodec() });
  assert.throws(() => decodeRecordValues(gz), UnsupportedCompressionError);
  assert.deepEqual((await decodeRecordValuesAsync(gz))[0].values, records.map((r) => r.value));
});

test("decodeRecordValues keeps offset gaps (a compacted batch)", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, baseOffset: 100n, records });
  assert.deepEqual(Array.from(decodeRecordValues(bytes)[0].offsetDeltas), [0, 1, 2, 3]);
  // The second record's offset delta 1 (zigzag 2) rewritten to 3 (zigzag 6), same length, as
  // a gap; the CRC no longer matches, so the check is off.
  const at = findOffsetDelta(bytes, 1);
  assert.equal(bytes[at], 2);
  const gapped = bytes.slice();
  gapped[at] = 6;
  assert.deepEqual(
    Array.from(decodeRecordValues(gapped, { checkCrc: false })[0].offsetDeltas),
    [0, 3, 2, 3],
  );
});

/** The position of record `n`'s offset delta in an uncompressed batch of `records`. */
function findOffsetDelta(bytes: Uint8Array, n: number): number {
  let pos = 61;
  for (let i = 0; i < n; i++) {
    let len = 0;
    let scale = 1;
    let b: number;
    do {
      b = bytes[pos++];
      len += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    pos += len / 2;
  }
  while (bytes[pos] >= 0x80) pos++; // length
  pos += 2; // its last byte, the attributes
  while (bytes[pos] >= 0x80) pos++; // timestamp delta
  return pos + 1;
}

test("decodeRecordValues: malformed records give DecodeError, never a wrong value (fast-check)", () => {
  const good = encodeRecordBatch({ timestamp: T0, records });
  fc.assert(
    fc.property(
      fc.integer({ min: 61, max: good.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      (at, flip) => {
        const bad = good.slice();
        bad[at] ^= flip;
        try {
          const lean = decodeRecordValues(bad, { checkCrc: false });
          for (const batch of lean) {
            for (const v of batch.values) if (v) assert.ok(v.byteOffset + v.length <= bad.length);
          }
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      },
    ),
    { numRuns: 300 },
  );
});
