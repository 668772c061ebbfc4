/**
 * Encoding of RecordBatch v2 for Produce: the records are sized in one pass and written in a
 * second into one exactly sized buffer; with a codec, the records section is then compressed
 * and the batch rewritten around it.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";
import { type Codec, CompressionError } from "./compression/codec.ts";
import { crc32c } from "./crc32c.ts";
import {
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_AT,
  CRC_AT,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC_AT,
} from "./record_batch_layout.ts";
import type {
  EncodeRecordBatchOptions,
  RecordBatchInput,
  RecordHeader,
} from "./record_batch_model.ts";
import { checkInt, show } from "./validate.ts";

const utf8Encoder = new TextEncoder();
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** Zigzag encoding of a signed 32-bit integer, as an unsigned 32-bit integer. */
function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

/** Zigzag encoding of a signed 64-bit integer held in a number (exact below 2^52). */
function zigzag64(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function uvarintSize(u: number): number {
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function putUvarint(buf: Uint8Array, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u = u < 0x100000000 ? u >>> 7 : Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

/** The UTF-8 length of `s` as `TextEncoder` writes it (lone surrogates become U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The size of a nullable byte field: varint length (-1 for null) and the bytes. */
function bytesFieldSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : uvarintSize(zigzag32(b.length)) + b.length;
}

function putBytesField(buf: Uint8Array, pos: number, b: Uint8Array | null | undefined): number {
  if (b == null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  pos = putUvarint(buf, pos, zigzag32(b.length));
  buf.set(b, pos);
  return pos + b.length;
}

// Record body sizes computed in the sizing pass and reused by the writing pass; module-level
// so that encoding a batch allocates only the output buffer.
let bodySizes = new Int32Array(64);

/**
 * The timestamp of records that carry none: the batch's, else the clock's (read once, and only
 * when some record needs it).
 */
function defaultTimestamp(batch: RecordBatchInput, now: (() => number) | undefined): number {
  if (batch.timestamp !== undefined) return batch.timestamp;
  for (const rec of batch.records) if (rec.timestamp === undefined) return (now ?? Date.now)();
  return 0;
}

/**
 * Checks a timestamp before it meets `BigInt()` (which throws a bare RangeError on fractions,
 * NaN and infinities) or the varint deltas (which would encode garbage).
 */
function checkTimestamp(ts: number, field: string): void {
  if (Number.isSafeInteger(ts)) return;
  throw new ConfigError(
    `${field} must be a whole number of milliseconds since the epoch (e.g. Date.now(), not ` +
      `performance.now()), got ${show(ts)}`,
  );
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Checks an int64 batch field: `setBigInt64` throws a bare TypeError on a number. */
function checkInt64(value: bigint | undefined, field: string, example: string): void {
  if (value === undefined) return;
  if (typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX) return;
  throw new ConfigError(
    `Record batch ${field} must be a bigint from -2^63 to 2^63-1 (e.g. ${example}), got ` +
      (typeof value === "bigint" ? `${value}n` : `a ${typeof value} (${String(value)})`),
  );
}

/** Checks an int16/int32 batch field, which `DataView` would otherwise wrap silently. */
function checkIntField(value: number | undefined, field: string, bits: 16 | 32): void {
  if (value === undefined) return;
  const max = 2 ** (bits - 1) - 1;
  checkInt(value, `Record batch ${field}`, -max - 1, max, "(-1 when unused)");
}

/** Checks the batch-level fields of {@link RecordBatchInput} that are written as they are. */
function checkBatchFields(batch: RecordBatchInput): void {
  checkInt64(batch.baseOffset, "baseOffset", "0n");
  checkInt64(batch.producerId, "producerId", "-1n, or the id from InitProducerId");
  checkIntField(batch.partitionLeaderEpoch, "partitionLeaderEpoch", 32);
  checkIntField(batch.producerEpoch, "producerEpoch", 16);
  checkIntField(batch.baseSequence, "baseSequence", 32);
}

/** The largest uncompressed batch written into {@link plainScratch} rather than its own buffer. */
const PLAIN_SCRATCH_MAX = 4 * 1024 * 1024;

/**
 * Where the synchronous encoder writes a batch it is about to compress: the uncompressed
 * bytes live only until the codec returns, and a fresh zeroed buffer for them on every batch
 * cost a third of an lz4 batch's encoding CPU on Deno.
 */
let plainScratch = new Uint8Array(0);

/**
 * Writes a whole uncompressed batch into one exactly sized buffer: a sizing pass, then a
 * writing pass that allocates nothing else. With `scratch`, the buffer is a view of
 * {@link plainScratch} (when it fits), valid until the next call.
 */
function encodePlain(
  batch: RecordBatchInput,
  now: (() => number) | undefined,
  withCrc: boolean,
  scratch = false,
): Uint8Array {
  const records = batch.records;
  const count = records.length;
  if (count === 0) {
    throw new ConfigError("A record batch needs at least one record: pass a non-empty `records`");
  }
  checkBatchFields(batch);
  if (bodySizes.length < count) bodySizes = new Int32Array(Math.max(count, bodySizes.length * 2));
  const fallback = defaultTimestamp(batch, now);
  const baseTimestamp = records[0].timestamp ?? fallback;
  let maxTimestamp = baseTimestamp;
  let size = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const rec = records[i];
    const ts = rec.timestamp ?? fallback;
    if (!Number.isSafeInteger(ts)) {
      checkTimestamp(
        ts,
        rec.timestamp !== undefined
          ? `Record ${i}'s timestamp`
          : batch.timestamp !== undefined
          ? "The batch's timestamp"
          : "The clock's time (the `now` option)",
      );
    }
    if (ts > maxTimestamp) maxTimestamp = ts;
    let body = 1 + uvarintSize(zigzag64(ts - baseTimestamp)) + uvarintSize(zigzag32(i)) +
      bytesFieldSize(rec.key) + bytesFieldSize(rec.value);
    const headers = rec.headers ?? NO_HEADERS;
    body += uvarintSize(zigzag32(headers.length));
    for (const h of headers) {
      const keyLength = utf8Length(h.key);
      body += uvarintSize(zigzag32(keyLength)) + keyLength + bytesFieldSize(h.value);
    }
    bodySizes[i] = body;
    size += uvarintSize(zigzag32(body)) + body;
  }

  let buf: Uint8Array;
  if (scratch && size <= PLAIN_SCRATCH_MAX) {
    if (plainScratch.length < size) plainScratch = new Uint8Array(size);
    buf = plainScratch.subarray(0, size);
  } else {
    buf = new Uint8Array(size);
  }
  // Every byte but the CRC is written below; the CRC is written here or by withRecords.
  const view = new DataView(buf.buffer, 0, size);
  view.setBigInt64(0, batch.baseOffset ?? 0n);
  view.setInt32(8, size - LOG_OVERHEAD);
  view.setInt32(12, batch.partitionLeaderEpoch ?? -1);
  buf[MAGIC_AT] = 2;
  view.setInt16(ATTRIBUTES_AT, batch.isTransactional ? ATTR_TRANSACTIONAL : 0);
  view.setInt32(23, count - 1);
  view.setBigInt64(27, BigInt(baseTimestamp));
  view.setBigInt64(35, BigInt(maxTimestamp));
  view.setBigInt64(43, batch.producerId ?? -1n);
  view.setInt16(51, batch.producerEpoch ?? -1);
  view.setInt32(53, batch.baseSequence ?? -1);
  view.setInt32(57, count);

  let pos = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const rec = records[i];
    pos = putUvarint(buf, pos, zigzag32(bodySizes[i]));
    buf[pos++] = 0; // record attributes: unused
    pos = putUvarint(buf, pos, zigzag64((rec.timestamp ?? fallback) - baseTimestamp));
    pos = putUvarint(buf, pos, zigzag32(i));
    pos = putBytesField(buf, pos, rec.key);
    pos = putBytesField(buf, pos, rec.value);
    const headers = rec.headers ?? NO_HEADERS;
    pos = putUvarint(buf, pos, zigzag32(headers.length));
    for (const h of headers) {
      const key = h.key;
      const keyLength = utf8Length(key);
      pos = putUvarint(buf, pos, zigzag32(keyLength));
      if (keyLength === key.length) {
        for (let k = 0; k < keyLength; k++) buf[pos + k] = key.charCodeAt(k);
      } else {
        utf8Encoder.encodeInto(key, buf.subarray(pos, pos + keyLength));
      }
      pos += keyLength;
      pos = putBytesField(buf, pos, h.value);
    }
  }
  if (withCrc) view.setUint32(CRC_AT, crc32c(buf, ATTRIBUTES_AT, size));
  return buf;
}

/**
 * The batch `plain` (uncompressed, no CRC yet) with its records replaced by `compressed`.
 */
function withRecords(plain: Uint8Array, compressed: Uint8Array, codecId: number): Uint8Array {
  const size = HEADER_SIZE + compressed.length;
  const out = new Uint8Array(size);
  out.set(plain.subarray(0, HEADER_SIZE));
  out.set(compressed, HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setInt32(8, size - LOG_OVERHEAD);
  view.setInt16(ATTRIBUTES_AT, view.getInt16(ATTRIBUTES_AT) | codecId);
  view.setUint32(CRC_AT, crc32c(out, ATTRIBUTES_AT, size));
  return out;
}

function compressionFailed(codec: Codec, cause: unknown): CompressionError {
  if (cause instanceof CompressionError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new CompressionError(codec.name, "malformed", `compression failed: ${message}`, { cause });
}

/**
 * Encodes a RecordBatch v2, compressed with `options.compression` when given, into one buffer,
 * CRC included. Records without a timestamp take the batch's, else the clock's.
 *
 * @param batch The records and batch fields.
 * @param options The codec (one that compresses synchronously, such as snappy or lz4) and the
 *   wall clock.
 * @returns The batch bytes, ready to be the `records` of a Produce partition.
 * @throws {ConfigError} With no records, a timestamp that is not a whole number of
 *   milliseconds, `baseOffset`/`producerId` that are not int64 bigints, an epoch or sequence
 *   outside its integer type, or a codec that compresses asynchronously (use
 *   {@link encodeRecordBatchAsync}).
 * @throws {CompressionError} When the codec fails.
 */
export function encodeRecordBatch(
  batch: RecordBatchInput,
  options: EncodeRecordBatchOptions = {},
): Uint8Array {
  const codec = options.compression;
  if (codec === undefined) return encodePlain(batch, options.now, true);
  // The codec runs synchronously and withRecords copies what it returns before this returns,
  // so the uncompressed bytes can live in the scratch buffer.
  const plain = encodePlain(batch, options.now, false, true);
  let compressed: Uint8Array | Promise<Uint8Array>;
  try {
    compressed = codec.compress(plain.subarray(HEADER_SIZE));
  } catch (cause) {
    throw compressionFailed(codec, cause);
  }
  if (!(compressed instanceof Uint8Array)) {
    Promise.resolve(compressed).catch(() => {});
    throw new ConfigError(
      `The ${codec.name} codec compresses asynchronously: encode with encodeRecordBatchAsync()`,
    );
  }
  return withRecords(plain, compressed, codec.id);
}

/**
 * Encodes a RecordBatch v2 like {@link encodeRecordBatch}, with any codec, synchronous or not
 * (gzip through the platform's `CompressionStream` is asynchronous).
 *
 * @param batch The records and batch fields.
 * @param options The codec and the wall clock.
 * @returns The batch bytes.
 * @throws {ConfigError} On the invalid fields {@link encodeRecordBatch} refuses.
 * @throws {CompressionError} When the codec fails.
 */
export async function encodeRecordBatchAsync(
  batch: RecordBatchInput,
  options: EncodeRecordBatchOptions = {},
): Promise<Uint8Array> {
  const codec = options.compression;
  if (codec === undefined) return encodePlain(batch, options.now, true);
  const plain = encodePlain(batch, options.now, false);
  let compressed: Uint8Array;
  try {
    compressed = await codec.compress(plain.subarray(HEADER_SIZE));
  } catch (cause) {
    throw compressionFailed(codec, cause);
  }
  return withRecords(plain, compressed, codec.id);
}
