import assert from "node:assert/strict";
import fc from "fast-check";
import { Codecs } from "../../protocol/compression/codec.ts";
import kafkajsBatch from "kafkajs/src/protocol/recordBatch/v0/index.js";
import kafkajsRecord from "kafkajs/src/protocol/recordBatch/record/v0/index.js";
import { test } from "../harness.ts";
import { DecodeError } from "../../framing/errors.ts";
import { ConfigError } from "../../transport/errors.ts";
import { crc32c } from "../../protocol/crc32c.ts";
import {
  CorruptRecordBatchError,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordInput,
  UnsupportedCompressionError,
} from "../../protocol/record_batch.ts";

// kafkajs's own RecordBatch encoder, an independent implementation to compare bytes with.
const kafkajsRecordBatch = kafkajsBatch.RecordBatch as (
  options: Record<string, unknown>,
) => Promise<{ buffer: Uint8Array }>;

const utf8 = new TextEncoder();
const T0 = 1_700_000_000_000;

const records: RecordInput[] = [
  {
    key: utf8.encode("user-1"),
    value: utf8.encode("hello"),
    headers: [
      { key: "trace-id", value: utf8.encode("abc") },
      { key: "größe ✓ 🚀", value: null },
      { key: "", value: new Uint8Array(0) },
      { key: "\uFEFFbom-first", value: null },
    ],
  },
  { key: null, value: null },
  { value: utf8.encode("no key, earlier timestamp"), timestamp: T0 - 5_000 },
  { key: new Uint8Array(200).fill(7), value: new Uint8Array(300).fill(9), timestamp: T0 + 1 },
];

/** Rewrites the attributes of an encoded batch and fixes its CRC, as a broker would write it. */
function withAttributes(batch: Uint8Array, attributes: number): Uint8Array {
  const copy = batch.slice();
  const view = new DataView(copy.buffer);
  view.setInt16(21, attributes);
  view.setUint32(17, crc32c(copy, 21));
  return copy;
}

test("RecordBatch round trips records with headers, null keys and values", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, baseOffset: 100n, records });
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.baseOffset, 100n);
  assert.equal(batch.lastOffsetDelta, 3);
  assert.equal(batch.baseTimestamp, T0);
  assert.equal(batch.maxTimestamp, T0 + 1);
  assert.equal(batch.timestampType, "CreateTime");
  assert.equal(batch.isTransactional, false);
  assert.equal(batch.isControl, false);
  assert.equal(batch.producerId, -1n);
  assert.equal(batch.producerEpoch, -1);
  assert.equal(batch.baseSequence, -1);
  assert.equal(batch.partitionLeaderEpoch, -1);
  assert.deepEqual(
    batch.records.map((r) => [r.offset, r.timestamp]),
    [[100n, T0], [101n, T0], [102n, T0 - 5_000], [103n, T0 + 1]],
  );
  for (let i = 0; i < records.length; i++) {
    assert.deepEqual(batch.records[i].key, records[i].key ?? null);
    assert.deepEqual(batch.records[i].value, records[i].value);
    assert.deepEqual(batch.records[i].headers, records[i].headers ?? []);
  }
});

test("RecordBatch keeps idempotent and transactional fields", () => {
  const bytes = encodeRecordBatch({
    timestamp: T0,
    records: [{ value: null }],
    producerId: 4000n,
    producerEpoch: 3,
    baseSequence: 17,
    partitionLeaderEpoch: 9,
    isTransactional: true,
  });
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.producerId, 4000n);
  assert.equal(batch.producerEpoch, 3);
  assert.equal(batch.baseSequence, 17);
  assert.equal(batch.partitionLeaderEpoch, 9);
  assert.equal(batch.isTransactional, true);
  assert.equal(batch.attributes, 0x10);
});

test("RecordBatch encoding is byte-identical to kafkajs's", async () => {
  const kafkajsRecords = [
    kafkajsRecord({
      offsetDelta: 0,
      timestampDelta: 0,
      key: Buffer.from("k"),
      value: Buffer.from("v"),
      headers: { a: Buffer.from("1"), "ключ": Buffer.from("2") },
    }),
    kafkajsRecord({ offsetDelta: 1, timestampDelta: 250, key: null, value: Buffer.from("x") }),
  ];
  const theirs = await kafkajsRecordBatch({
    firstTimestamp: T0,
    maxTimestamp: T0 + 250,
    partitionLeaderEpoch: -1,
    lastOffsetDelta: 1,
    producerEpoch: -1,
    firstSequence: -1,
    records: kafkajsRecords,
  });
  const ours = encodeRecordBatch({
    timestamp: T0,
    records: [
      {
        key: utf8.encode("k"),
        value: utf8.encode("v"),
        headers: [{ key: "a", value: utf8.encode("1") }, { key: "ключ", value: utf8.encode("2") }],
      },
      { key: null, value: utf8.encode("x"), timestamp: T0 + 250 },
    ],
  });
  assert.deepEqual(ours, new Uint8Array(theirs.buffer));
});

test("RecordBatch decoding detects a CRC mismatch", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, baseOffset: 7n, records });
  for (const at of [17, 25, bytes.length - 1]) {
    const damaged = bytes.slice();
    damaged[at] ^= 0x01;
    assert.throws(() => decodeRecordBatch(damaged), (e) => {
      assert.ok(e instanceof CorruptRecordBatchError);
      assert.equal(e.baseOffset, 7n);
      assert.equal(e.code, 2);
      assert.equal(e.retriable, true);
      assert.match(e.message, /offset 7 failed its CRC-32C check/);
      return true;
    });
  }
});

test("RecordBatch decoding names the codec the Codecs passed lack", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, records });
  const codecs = ["gzip", "snappy", "lz4", "zstd", "unknown(5)"];
  codecs.forEach((codec, i) => {
    assert.throws(
      () => decodeRecordBatches(withAttributes(bytes, i + 1), { codecs: new Codecs([]) }),
      (e) => e instanceof UnsupportedCompressionError && e.codec === codec,
    );
  });
});

test("RecordBatch with LogAppendTime gives every record the broker's time", () => {
  const bytes = withAttributes(encodeRecordBatch({ timestamp: T0, records }), 0x08);
  const batch = decodeRecordBatch(bytes);
  assert.equal(batch.timestampType, "LogAppendTime");
  assert.deepEqual(batch.records.map((r) => r.timestamp), [T0 + 1, T0 + 1, T0 + 1, T0 + 1]);
});

test("RecordBatch truncated anywhere gives a DecodeError", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, records });
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(() => decodeRecordBatch(bytes.subarray(0, n)), DecodeError, `${n} bytes`);
  }
  assert.throws(
    () => decodeRecordBatch(new Uint8Array([...bytes, 0])),
    (e) => e instanceof DecodeError && /1 bytes after the batch/.test(e.message),
  );
});

test("decodeRecordBatches() reads consecutive batches and drops a partial last one", () => {
  const a = encodeRecordBatch({ timestamp: T0, baseOffset: 0n, records: records.slice(0, 2) });
  const b = encodeRecordBatch({ timestamp: T0, baseOffset: 2n, records: records.slice(2) });
  const both = new Uint8Array([...a, ...b]);
  assert.deepEqual(decodeRecordBatches(both).map((x) => x.baseOffset), [0n, 2n]);
  for (const cut of [a.length + 1, a.length + 11, a.length + 12, both.length - 1]) {
    assert.deepEqual(decodeRecordBatches(both.subarray(0, cut)).map((x) => x.baseOffset), [0n]);
  }
  assert.deepEqual(decodeRecordBatches(new Uint8Array(0)), []);
});

test("RecordBatch decoding rejects old message formats and impossible lengths", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, records });
  const magic1 = bytes.slice();
  magic1[16] = 1;
  assert.throws(
    () => decodeRecordBatches(magic1),
    (e) => e instanceof DecodeError && e.field === "magic" && /v1/.test(e.message),
  );
  const short = bytes.slice();
  new DataView(short.buffer).setInt32(8, 10);
  assert.throws(
    () => decodeRecordBatches(short),
    (e) => e instanceof DecodeError && e.field === "batch_length",
  );
});

test("encodeRecordBatch() refuses empty batches", () => {
  assert.throws(() => encodeRecordBatch({ timestamp: T0, records: [] }), ConfigError);
});

test("encodeRecordBatch() gives records without a timestamp the clock's time, read once", () => {
  let reads = 0;
  const now = () => {
    reads++;
    return T0 + 500;
  };
  const bytes = encodeRecordBatch({
    records: [{ value: null, timestamp: T0 }, { value: null }, { value: null }],
  }, { now });
  assert.equal(reads, 1);
  assert.deepEqual(decodeRecordBatch(bytes).records.map((r) => r.timestamp), [
    T0,
    T0 + 500,
    T0 + 500,
  ]);
  // With every record timed, or a batch default, the clock is not read.
  encodeRecordBatch({ records: [{ value: null, timestamp: T0 }] }, { now });
  encodeRecordBatch({ timestamp: T0, records: [{ value: null }] }, { now });
  assert.equal(reads, 1);
  assert.throws(
    () => encodeRecordBatch({ records: [{ value: null }] }, { now: () => 1.5 }),
    (e) => e instanceof ConfigError && /clock's time/.test(e.message),
  );
  // Without a clock, Date.now.
  const before = Date.now();
  const ts = decodeRecordBatch(encodeRecordBatch({ records: [{ value: null }] })).records[0]
    .timestamp;
  assert.ok(ts >= before && ts <= Date.now());
});

const headerArb = fc.record({
  key: fc.string({ maxLength: 12, unit: "binary" }),
  value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
});
const recordArb = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
  headers: fc.array(headerArb, { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

test("RecordBatch round trips arbitrary records (property)", () => {
  fc.assert(
    fc.property(fc.array(recordArb, { minLength: 1, maxLength: 20 }), (input) => {
      const batch = decodeRecordBatch(encodeRecordBatch({ records: input, baseOffset: 5n }));
      assert.equal(batch.records.length, input.length);
      assert.equal(batch.maxTimestamp, Math.max(...input.map((r) => r.timestamp)));
      input.forEach((rec, i) => {
        const out = batch.records[i];
        assert.equal(out.offset, 5n + BigInt(i));
        assert.equal(out.timestamp, rec.timestamp);
        assert.deepEqual(out.key, rec.key);
        assert.deepEqual(out.value, rec.value);
        // Lone surrogates become U+FFFD, as TextEncoder writes them.
        const keys = rec.headers.map((h) => new TextDecoder().decode(utf8.encode(h.key)));
        assert.deepEqual(out.headers.map((h) => h.key), keys);
        assert.deepEqual(out.headers.map((h) => h.value), rec.headers.map((h) => h.value));
      });
    }),
    { numRuns: 200 },
  );
});

test("RecordBatch decoding of damaged bytes with a valid CRC throws only DecodeError", () => {
  const bytes = encodeRecordBatch({ timestamp: T0, records });
  fc.assert(
    fc.property(fc.nat(bytes.length - 62), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const damaged = bytes.slice();
      damaged[61 + i] ^= x;
      new DataView(damaged.buffer).setUint32(17, crc32c(damaged, 21));
      try {
        decodeRecordBatch(damaged);
      } catch (e) {
        assert.ok(e instanceof DecodeError, `unexpected ${(e as Error).name}: ${e}`);
      }
    }),
    { numRuns: 500 },
  );
});

test("encodeRecordBatch() refuses timestamps that are not whole milliseconds, naming them", () => {
  for (const ts of [1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    assert.throws(
      () => encodeRecordBatch({ timestamp: ts, records: [{ value: null }] }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith("The batch's timestamp must be a whole number of milliseconds") &&
        e.message.includes(`got ${ts}`),
      `batch timestamp ${ts}`,
    );
  }
  assert.throws(
    () =>
      encodeRecordBatch({
        timestamp: T0,
        records: [{ value: null }, { value: null, timestamp: T0 + 0.25 }],
      }),
    (e) => e instanceof ConfigError && e.message.startsWith("Record 1's timestamp must be"),
  );
});

test("encodeRecordBatch() refuses baseOffset and producerId given as numbers, naming them", () => {
  const cases: [string, unknown, string][] = [
    ["baseOffset", 5, "got a number (5)"],
    ["baseOffset", 2n ** 63n, "got 9223372036854775808n"],
    ["producerId", -1, "got a number (-1)"],
    ["producerId", -(2n ** 63n) - 1n, "got -9223372036854775809n"],
  ];
  for (const [field, value, got] of cases) {
    assert.throws(
      () => encodeRecordBatch({ timestamp: T0, records, [field]: value }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith(`Record batch ${field} must be a bigint from -2^63 to 2^63-1`) &&
        e.message.endsWith(got),
      `${field} ${String(value)}`,
    );
  }
  for (const [field, value] of [["producerEpoch", 40_000], ["baseSequence", 1.5]] as const) {
    assert.throws(
      () => encodeRecordBatch({ timestamp: T0, records, [field]: value }),
      (e) => e instanceof ConfigError && e.message.startsWith(`Record batch ${field} must be`),
      field,
    );
  }
  const limits = { baseOffset: 2n ** 63n - 1n, producerId: -(2n ** 63n), producerEpoch: 32767 };
  const batch = decodeRecordBatch(encodeRecordBatch({ timestamp: T0, records, ...limits }));
  assert.equal(batch.baseOffset, limits.baseOffset);
  assert.equal(batch.producerId, limits.producerId);
});

/** A magic 0 or 1 message-set entry (null key, value "x"), as brokers before 0.11 wrote. */
function oldMessage(magic: 0 | 1): Uint8Array {
  const body = [
    ...[0, 0, 0, 0], // crc (not checked: the magic byte is reason enough to stop)
    magic,
    0, // attributes
    ...(magic === 1 ? [0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0] : []), // timestamp (v1 only)
    ...[0xff, 0xff, 0xff, 0xff], // null key
    ...[0, 0, 0, 1, 0x78], // value "x"
  ];
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setBigInt64(0, 7n);
  view.setInt32(8, body.length);
  out.set(body, 12);
  return out;
}

test("RecordBatch decoding names a short old message-set entry as magic 0 or 1", () => {
  for (const magic of [0, 1] as const) {
    const bytes = oldMessage(magic);
    assert.ok(bytes.length - 12 < 49, "shorter than a v2 batch header");
    for (const decode of [decodeRecordBatches, decodeRecordBatch]) {
      assert.throws(
        () => decode(bytes),
        (e) =>
          e instanceof DecodeError && e.field === "magic" && e.offset === 16 &&
          e.message.includes(`old message format v${magic} (magic ${magic}`) &&
          e.message.includes("does not read") && e.message.includes("offset 7"),
        `magic ${magic}`,
      );
    }
  }
  // Without a recognisable magic byte the length itself is what is wrong.
  const garbage = oldMessage(0);
  garbage[16] = 9;
  assert.throws(
    () => decodeRecordBatches(garbage),
    (e) => e instanceof DecodeError && e.field === "batch_length" && /minimum 49/.test(e.message),
  );
});
