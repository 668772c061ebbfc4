/**
 * RecordBatch v2 (magic 2), the on-disk and on-wire format of Kafka records since 0.11:
 * encoding of uncompressed batches for Produce, and decoding of the `records` bytes of Fetch.
 *
 * Layout: a 61-byte header (base offset, length, leader epoch, magic, CRC-32C, attributes,
 * last offset delta, base and max timestamps, producer id/epoch, base sequence, record count),
 * then the records, each a varint length followed by attributes, timestamp and offset deltas,
 * key, value and headers. The CRC covers everything from the attributes to the end.
 *
 * Compressed batches are recognised and rejected with {@link UnsupportedCompressionError}
 * naming the codec; a CRC mismatch raises {@link CorruptRecordBatchError}.
 *
 * @example
 * ```ts
 * import { decodeRecordBatch, encodeRecordBatch } from "./record_batch.ts";
 * const bytes = encodeRecordBatch({
 *   timestamp: Date.now(),
 *   records: [{ key: null, value: new TextEncoder().encode("hello") }],
 * });
 * decodeRecordBatch(bytes).records[0].offset; // 0n
 * ```
 *
 * @module
 */

import { DecodeError } from "../framing/errors.ts";
import { Reader } from "../framing/reader.ts";
import { ConfigError, KafkaTransportError } from "../transport/errors.ts";
import { crc32c } from "./crc32c.ts";
import { ErrorCode } from "./errors.ts";
import { checkInt, show } from "./validate.ts";

/** The compression codecs of the attributes' low three bits, by id. */
export type CompressionCodec = "none" | "gzip" | "snappy" | "lz4" | "zstd";

const CODECS: readonly CompressionCodec[] = ["none", "gzip", "snappy", "lz4", "zstd"];

/** The size of the batch header, up to and including the record count. */
const HEADER_SIZE = 61;
/** Base offset and batch length: the part of the header not counted in the batch length. */
const LOG_OVERHEAD = 12;
// Offsets of header fields from the start of the batch.
const MAGIC_AT = 16;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;

const ATTR_COMPRESSION = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

/** A record header: a string key and a nullable value. */
export interface RecordHeader {
  /** The header key. */
  key: string;
  /** The header value, or `null`. */
  value: Uint8Array | null;
}

/** A record to encode. */
export interface RecordInput {
  /** The key, or `null`/omitted for none. */
  key?: Uint8Array | null;
  /** The value, or `null` (a tombstone on compacted topics). */
  value: Uint8Array | null;
  /** Headers, in order; none when omitted. */
  headers?: readonly RecordHeader[];
  /** The record's CreateTime in ms since the epoch; the batch's `timestamp` when omitted. */
  timestamp?: number;
}

/** A batch to encode. */
export interface RecordBatchInput {
  /** The records, at least one; their offsets are 0, 1, 2… relative to `baseOffset`. */
  records: readonly RecordInput[];
  /** CreateTime (ms since the epoch) of records that carry none, e.g. `Date.now()`. */
  timestamp?: number;
  /** The base offset; 0 for produce (the broker assigns offsets). */
  baseOffset?: bigint;
  /** The partition leader epoch; -1 for produce. */
  partitionLeaderEpoch?: number;
  /** The idempotent producer id; -1 when not idempotent. */
  producerId?: bigint;
  /** The producer epoch; -1 when not idempotent. */
  producerEpoch?: number;
  /** The sequence number of the first record; -1 when not idempotent. */
  baseSequence?: number;
  /** Whether the batch is part of a transaction; `false` when omitted. */
  isTransactional?: boolean;
}

/** A decoded record. Key, value and header values are views into the fetched bytes. */
export interface KafkaRecord {
  /** The record's offset in its partition. */
  offset: bigint;
  /** Its timestamp in ms since the epoch (CreateTime, or the broker's LogAppendTime). */
  timestamp: number;
  /** The key, or `null`. */
  key: Uint8Array | null;
  /** The value, or `null`. */
  value: Uint8Array | null;
  /** The headers, in order. */
  headers: readonly RecordHeader[];
}

/** A decoded batch. */
export interface RecordBatch {
  /** The offset of the first record. */
  baseOffset: bigint;
  /** The leader epoch of the partition when the batch was appended. */
  partitionLeaderEpoch: number;
  /** The raw attributes bit field. */
  attributes: number;
  /** Whether the timestamps are CreateTime or the broker's LogAppendTime. */
  timestampType: "CreateTime" | "LogAppendTime";
  /** Whether the batch is part of a transaction. */
  isTransactional: boolean;
  /** Whether the batch holds control records (transaction markers). */
  isControl: boolean;
  /** The offset delta of the last record. */
  lastOffsetDelta: number;
  /** The timestamp the record deltas are relative to. */
  baseTimestamp: number;
  /** The largest timestamp in the batch. */
  maxTimestamp: number;
  /** The producer id, -1 when not idempotent. */
  producerId: bigint;
  /** The producer epoch, -1 when not idempotent. */
  producerEpoch: number;
  /** The sequence number of the first record, -1 when not idempotent. */
  baseSequence: number;
  /** The records. */
  records: KafkaRecord[];
}

/** A record batch is compressed with a codec this transport does not decode. */
export class UnsupportedCompressionError extends KafkaTransportError {
  /** The codec, e.g. "zstd" (or "unknown(7)" for an id that has none). */
  readonly codec: string;

  /**
   * Builds the error naming the codec.
   *
   * @param codec The codec named by the batch attributes.
   * @param baseOffset The batch's base offset, for the message.
   */
  constructor(codec: string, baseOffset: bigint) {
    super(
      `Record batch at offset ${baseOffset} is compressed with ${codec}; only uncompressed ` +
        "batches can be decoded here: produce with compression.type=none, or decompress the " +
        "records with a codec library before decoding",
    );
    this.name = "UnsupportedCompressionError";
    this.codec = codec;
  }
}

/** A record batch's stored CRC-32C does not match its contents. */
export class CorruptRecordBatchError extends KafkaTransportError {
  /** The base offset of the corrupt batch. */
  readonly baseOffset: bigint;

  /**
   * Builds the error with both checksums in the message.
   *
   * @param baseOffset The batch's base offset.
   * @param stored The CRC found in the batch header.
   * @param computed The CRC of the bytes received.
   */
  constructor(baseOffset: bigint, stored: number, computed: number) {
    super(
      `Record batch at offset ${baseOffset} failed its CRC-32C check (stored 0x${hex(stored)}, ` +
        `computed 0x${hex(computed)}): the bytes were damaged in transit or on the broker; ` +
        "fetch again from this offset",
      { code: ErrorCode.CORRUPT_MESSAGE, retriable: true },
    );
    this.name = "CorruptRecordBatchError";
    this.baseOffset = baseOffset;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, "0");
}

const utf8Encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in a header key: it is data there, not a byte-order mark.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
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

function recordTimestamp(batch: RecordBatchInput, index: number): number {
  const ts = batch.records[index].timestamp ?? batch.timestamp;
  if (ts === undefined) {
    throw new ConfigError(
      `Record ${index} has no timestamp and the batch has no default: set the batch's ` +
        "`timestamp` (e.g. Date.now()) or each record's",
    );
  }
  return ts;
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

/**
 * Encodes an uncompressed RecordBatch v2 into one exactly sized buffer, CRC included.
 *
 * @param batch The records and batch fields.
 * @returns The batch bytes, ready to be the `records` of a Produce partition.
 * @throws {ConfigError} With no records, a record without a timestamp and no default, a
 *   timestamp that is not a whole number of milliseconds, `baseOffset`/`producerId` that are
 *   not int64 bigints, or an epoch or sequence outside its integer type.
 */
export function encodeRecordBatch(batch: RecordBatchInput): Uint8Array {
  const records = batch.records;
  const count = records.length;
  if (count === 0) {
    throw new ConfigError("A record batch needs at least one record: pass a non-empty `records`");
  }
  checkBatchFields(batch);
  if (bodySizes.length < count) bodySizes = new Int32Array(Math.max(count, bodySizes.length * 2));
  const baseTimestamp = recordTimestamp(batch, 0);
  let maxTimestamp = baseTimestamp;
  let size = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const rec = records[i];
    const ts = recordTimestamp(batch, i);
    if (!Number.isSafeInteger(ts)) {
      checkTimestamp(
        ts,
        rec.timestamp === undefined ? "The batch's timestamp" : `Record ${i}'s timestamp`,
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

  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
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
    pos = putUvarint(buf, pos, zigzag64(recordTimestamp(batch, i) - baseTimestamp));
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
  view.setUint32(CRC_AT, crc32c(buf, ATTRIBUTES_AT, size));
  return buf;
}

/** Reads a zigzag varlong into a number (exact below 2^53, plenty for timestamp deltas). */
function readVarlongNumber(bytes: Uint8Array, r: Reader, field: string): number {
  const start = r.offset;
  const avail = Math.min(10, r.remaining);
  let result = 0;
  let scale = 1;
  for (let i = 0; i < avail; i++) {
    const b = bytes[start + i];
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      r.skip(i + 1, field);
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    scale *= 128;
  }
  throw new DecodeError(
    field,
    start,
    avail < 10 ? "varlong runs past the end" : "varlong too long",
  );
}

function readBytesField(r: Reader, field: string): Uint8Array | null {
  const at = r.offset;
  const n = r.varint(field);
  if (n === -1) return null;
  if (n < -1) throw new DecodeError(field, at, `negative length ${n}`);
  return r.raw(n, field);
}

function readHeader(r: Reader): RecordHeader {
  const at = r.offset;
  const keyBytes = readBytesField(r, "header.key");
  if (keyBytes === null) throw new DecodeError("header.key", at, "null header key");
  let key: string;
  try {
    key = utf8Decoder.decode(keyBytes);
  } catch (cause) {
    throw new DecodeError("header.key", at, `invalid UTF-8 (${(cause as Error).message})`);
  }
  return { key, value: readBytesField(r, "header.value") };
}

function readRecord(
  bytes: Uint8Array,
  r: Reader,
  baseOffset: bigint,
  baseTimestamp: number,
  logAppendTime: number,
): KafkaRecord {
  const at = r.offset;
  const length = r.varint("record.length");
  if (length < 0 || length > r.remaining) {
    throw new DecodeError("record.length", at, `length ${length} outside the ${r.remaining} left`);
  }
  const end = r.offset + length;
  r.skip(1, "record.attributes");
  const timestampDelta = readVarlongNumber(bytes, r, "record.timestamp_delta");
  const offsetDelta = r.varint("record.offset_delta");
  const key = readBytesField(r, "record.key");
  const value = readBytesField(r, "record.value");
  const hat = r.offset;
  const headerCount = r.varint("record.headers");
  if (headerCount < 0 || headerCount > end - r.offset) {
    throw new DecodeError("record.headers", hat, `impossible header count ${headerCount}`);
  }
  let headers = NO_HEADERS;
  if (headerCount > 0) {
    const list = new Array<RecordHeader>(headerCount);
    for (let i = 0; i < headerCount; i++) list[i] = readHeader(r);
    headers = list;
  }
  if (r.offset !== end) {
    throw new DecodeError(
      "record",
      at,
      `length ${length} does not match its ${r.offset - at} bytes`,
    );
  }
  return {
    offset: baseOffset + BigInt(offsetDelta),
    timestamp: logAppendTime >= 0 ? logAppendTime : baseTimestamp + timestampDelta,
    key,
    value,
    headers,
  };
}

/**
 * Decodes the batch at `start`, which the caller has checked lies wholly within `bytes`.
 */
function decodeAt(bytes: Uint8Array, view: DataView, start: number, end: number): RecordBatch {
  const baseOffset = view.getBigInt64(start);
  const magic = view.getInt8(start + MAGIC_AT);
  if (magic !== 2) throw magicError(magic, start + MAGIC_AT, baseOffset);
  const stored = view.getUint32(start + CRC_AT);
  const computed = crc32c(bytes, start + ATTRIBUTES_AT, end);
  if (stored !== computed) throw new CorruptRecordBatchError(baseOffset, stored, computed);
  const attributes = view.getInt16(start + ATTRIBUTES_AT);
  const codec = attributes & ATTR_COMPRESSION;
  if (codec !== 0) {
    throw new UnsupportedCompressionError(CODECS[codec] ?? `unknown(${codec})`, baseOffset);
  }
  const baseTimestamp = Number(view.getBigInt64(start + 27));
  const maxTimestamp = Number(view.getBigInt64(start + 35));
  const isLogAppendTime = (attributes & ATTR_LOG_APPEND_TIME) !== 0;
  const countAt = start + 57;
  const count = view.getInt32(countAt);
  // Each record takes at least 7 bytes; a larger count is corrupt.
  if (count < 0 || count > (end - start - HEADER_SIZE) / 7) {
    throw new DecodeError("record_count", countAt, `impossible record count ${count}`);
  }
  const r = new Reader(bytes, start + HEADER_SIZE, end);
  const records = new Array<KafkaRecord>(count);
  // With LogAppendTime the broker's time, stored as maxTimestamp, applies to every record.
  const logAppendTime = isLogAppendTime ? maxTimestamp : -1;
  for (let i = 0; i < count; i++) {
    records[i] = readRecord(bytes, r, baseOffset, baseTimestamp, logAppendTime);
  }
  if (r.remaining !== 0) {
    throw new DecodeError("records", r.offset, `${r.remaining} bytes after the last record`);
  }
  return {
    baseOffset,
    partitionLeaderEpoch: view.getInt32(start + 12),
    attributes,
    timestampType: isLogAppendTime ? "LogAppendTime" : "CreateTime",
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta: view.getInt32(start + 23),
    baseTimestamp,
    maxTimestamp,
    producerId: view.getBigInt64(start + 43),
    producerEpoch: view.getInt16(start + 51),
    baseSequence: view.getInt32(start + 53),
    records,
  };
}

/**
 * The error for a batch whose magic byte is not 2: old message sets (magic 0 and 1, from
 * before Kafka 0.11) are named as such, anything else is unknown.
 */
function magicError(magic: number, at: number, baseOffset: bigint): DecodeError {
  const detail = magic === 0 || magic === 1
    ? `old message format v${magic} (magic ${magic}) at offset ${baseOffset}, which this ` +
      "decoder does not read: it reads only RecordBatch v2 (magic 2), which brokers write " +
      "since Kafka 0.11; these records were stored in the pre-0.11 format"
    : `unknown message format (magic ${magic}) at offset ${baseOffset}: only RecordBatch v2 ` +
      "(magic 2) is supported, which every broker since Kafka 0.11 writes";
  return new DecodeError("magic", at, detail);
}

/** The end of the batch at `start`, or -1 when `bytes` holds only part of it. */
function batchEnd(bytes: Uint8Array, view: DataView, start: number): number {
  if (bytes.length - start < LOG_OVERHEAD) return -1;
  const length = view.getInt32(start + 8);
  if (length < HEADER_SIZE - LOG_OVERHEAD) {
    // An old message-set entry (magic 0 or 1) can be shorter than a v2 header: say so rather
    // than just reporting the length.
    if (bytes.length - start > MAGIC_AT) {
      const magic = view.getInt8(start + MAGIC_AT);
      if (magic === 0 || magic === 1) {
        throw magicError(magic, start + MAGIC_AT, view.getBigInt64(start));
      }
    }
    throw new DecodeError("batch_length", start + 8, `batch length ${length} below the minimum 49`);
  }
  const end = start + LOG_OVERHEAD + length;
  return end <= bytes.length ? end : -1;
}

/**
 * Decodes every complete batch in a Fetch partition's `records` bytes. A partial batch at the
 * end is ignored, since brokers cut the response at the fetch size limit mid-batch; fetch again
 * from the offset after the last record returned.
 *
 * @param bytes The `records` bytes.
 * @returns The batches, in order; empty when the bytes hold no complete batch.
 * @throws {CorruptRecordBatchError} On a CRC mismatch.
 * @throws {UnsupportedCompressionError} On a compressed batch.
 * @throws {DecodeError} On a malformed batch or a message format older than v2.
 */
export function decodeRecordBatches(bytes: Uint8Array): RecordBatch[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: RecordBatch[] = [];
  let start = 0;
  for (;;) {
    const end = batchEnd(bytes, view, start);
    if (end < 0) return batches;
    batches.push(decodeAt(bytes, view, start, end));
    start = end;
  }
}

/**
 * Decodes exactly one batch that fills `bytes`.
 *
 * @param bytes One whole batch, e.g. what {@link encodeRecordBatch} returned.
 * @returns The batch.
 * @throws {DecodeError} When `bytes` is truncated, has extra bytes, or is malformed.
 * @throws {CorruptRecordBatchError} On a CRC mismatch.
 * @throws {UnsupportedCompressionError} On a compressed batch.
 */
export function decodeRecordBatch(bytes: Uint8Array): RecordBatch {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = batchEnd(bytes, view, 0);
  if (end < 0) {
    const need = bytes.length < LOG_OVERHEAD ? LOG_OVERHEAD : LOG_OVERHEAD + view.getInt32(8);
    throw new DecodeError("record_batch", 0, `truncated: needs ${need} bytes, has ${bytes.length}`);
  }
  if (end !== bytes.length) {
    throw new DecodeError("record_batch", end, `${bytes.length - end} bytes after the batch`);
  }
  return decodeAt(bytes, view, 0, end);
}
