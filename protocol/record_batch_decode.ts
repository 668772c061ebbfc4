/**
 * Decoding of RecordBatch v2 from the `records` bytes of Fetch: header and CRC-32C checks,
 * decompression of compressed batches through the {@link Codecs} passed (synchronous codecs in
 * the synchronous decoders, any in the asynchronous ones), then the records, whose keys,
 * values and header values are views into the fetched or decompressed bytes.
 *
 * @module
 */

import { DecodeError } from "../framing/errors.ts";
import { Reader } from "../framing/reader.ts";
import { type Codec, codecNameOf, type Codecs, CompressionError } from "./compression/codec.ts";
import { defaultCodecs } from "./compression/defaults.ts";
import { crc32c } from "./crc32c.ts";
import {
  ATTR_COMPRESSION,
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_AT,
  CRC_AT,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC_AT,
} from "./record_batch_layout.ts";
import {
  CorruptRecordBatchError,
  type DecodeRecordBatchOptions,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  type KafkaRecord,
  type RecordBatch,
  type RecordHeader,
  UnsupportedCompressionError,
} from "./record_batch_model.ts";
import { checkInt } from "./validate.ts";

// ignoreBOM keeps a leading U+FEFF in a header key: it is data there, not a byte-order mark.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);
const NO_OPTIONS: DecodeRecordBatchOptions = Object.freeze({});

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
 * Checks the magic byte and, when `checkCrc`, the CRC of the batch `bytes[start..end)`.
 *
 * @returns The codec id of the attributes' low three bits.
 */
function checkBatch(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  checkCrc: boolean,
): number {
  const magic = view.getInt8(start + MAGIC_AT);
  if (magic !== 2) throw magicError(magic, start + MAGIC_AT, view.getBigInt64(start));
  if (!checkCrc) return view.getInt16(start + ATTRIBUTES_AT) & ATTR_COMPRESSION;
  const stored = view.getUint32(start + CRC_AT);
  const computed = crc32c(bytes, start + ATTRIBUTES_AT, end);
  if (stored !== computed) {
    throw new CorruptRecordBatchError(view.getBigInt64(start), stored, computed);
  }
  return view.getInt16(start + ATTRIBUTES_AT) & ATTR_COMPRESSION;
}

/**
 * What turns a checked batch into its decoded form: given the batch header at `start` of
 * `view`, and its records as `records[from..to)` (the batch's own bytes when uncompressed,
 * the decompressed ones otherwise).
 */
export type BatchBody<T> = (
  view: DataView,
  start: number,
  records: Uint8Array,
  from: number,
  to: number,
) => T;

/** The record count of the batch at `start`, checked against the `bytes` its records take. */
export function recordCount(view: DataView, start: number, bytes: number): number {
  const countAt = start + 57;
  const count = view.getInt32(countAt);
  // Each record takes at least 7 bytes; a larger count is corrupt.
  if (count < 0 || count > bytes / 7) {
    throw new DecodeError("record_count", countAt, `impossible record count ${count}`);
  }
  return count;
}

/**
 * Decodes the checked batch at `start` whose records are `records[from..to)` into a
 * {@link RecordBatch}.
 */
function decodeChecked(
  view: DataView,
  start: number,
  records: Uint8Array,
  from: number,
  to: number,
): RecordBatch {
  const baseOffset = view.getBigInt64(start);
  const attributes = view.getInt16(start + ATTRIBUTES_AT);
  const baseTimestamp = Number(view.getBigInt64(start + 27));
  const maxTimestamp = Number(view.getBigInt64(start + 35));
  const isLogAppendTime = (attributes & ATTR_LOG_APPEND_TIME) !== 0;
  const count = recordCount(view, start, to - from);
  const r = new Reader(records, from, to);
  const list = new Array<KafkaRecord>(count);
  // With LogAppendTime the broker's time, stored as maxTimestamp, applies to every record.
  const logAppendTime = isLogAppendTime ? maxTimestamp : -1;
  for (let i = 0; i < count; i++) {
    list[i] = readRecord(records, r, baseOffset, baseTimestamp, logAppendTime);
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
    records: list,
  };
}

/** The decompression settings of one decode call, checked once. */
export interface Decompression {
  codecs: Codecs;
  max: number;
  checkCrc: boolean;
}

/** @returns The settings of `options`, checked. */
export function decompressionOf(options: DecodeRecordBatchOptions): Decompression {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  if (max !== DEFAULT_MAX_DECOMPRESSED_BYTES) {
    checkInt(max, "maxDecompressedBytes", 0, Number.MAX_SAFE_INTEGER, "(bytes)");
  }
  return { codecs: options.codecs ?? defaultCodecs, max, checkCrc: options.checkCrc !== false };
}

function codecFor(d: Decompression, id: number, baseOffset: bigint): Codec {
  const codec = d.codecs.byId(id);
  if (codec === undefined) throw new UnsupportedCompressionError(codecNameOf(id), baseOffset);
  return codec;
}

/** A codec's failure as a {@link CompressionError} naming the batch. */
function decompressionFailed(codec: Codec, baseOffset: bigint, cause: unknown): CompressionError {
  if (cause instanceof CompressionError) {
    return new CompressionError(cause.codec, cause.failure, cause.detail, { baseOffset, cause });
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return new CompressionError(codec.name, "malformed", message, { baseOffset, cause });
}

/** Refuses output over the limit, in case a plugged-in codec does not enforce it itself. */
function checkOutput(codec: Codec, out: Uint8Array, max: number, baseOffset: bigint): Uint8Array {
  if (out.length <= max) return out;
  throw new CompressionError(
    codec.name,
    "size-limit",
    `the records decompress to ${out.length} bytes, over the limit of ${max}`,
    { baseOffset },
  );
}

/** Decodes the batch `bytes[start..end)`, decompressing it synchronously when compressed. */
export function decodeSync<T>(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  d: Decompression,
  body: BatchBody<T>,
): T {
  const id = checkBatch(bytes, view, start, end, d.checkCrc);
  if (id === 0) return body(view, start, bytes, start + HEADER_SIZE, end);
  const baseOffset = view.getBigInt64(start);
  const codec = codecFor(d, id, baseOffset);
  let out: Uint8Array | Promise<Uint8Array>;
  try {
    out = codec.decompress(bytes.subarray(start + HEADER_SIZE, end), d.max);
  } catch (cause) {
    throw decompressionFailed(codec, baseOffset, cause);
  }
  if (!(out instanceof Uint8Array)) {
    Promise.resolve(out).catch(() => {});
    throw new UnsupportedCompressionError(
      codec.name,
      baseOffset,
      `the ${codec.name} codec decompresses asynchronously; decode with ` +
        "decodeRecordBatchesAsync() or decodeRecordBatchAsync()",
    );
  }
  checkOutput(codec, out, d.max, baseOffset);
  return body(view, start, out, 0, out.length);
}

/** Decodes the batch `bytes[start..end)`, awaiting its codec when compressed. */
async function decodeAsync<T>(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  d: Decompression,
  id: number,
  body: BatchBody<T>,
): Promise<T> {
  const baseOffset = view.getBigInt64(start);
  const codec = codecFor(d, id, baseOffset);
  let out: Uint8Array;
  try {
    out = await codec.decompress(bytes.subarray(start + HEADER_SIZE, end), d.max);
  } catch (cause) {
    throw decompressionFailed(codec, baseOffset, cause);
  }
  checkOutput(codec, out, d.max, baseOffset);
  return body(view, start, out, 0, out.length);
}

/**
 * Decodes every complete batch of a Fetch partition's `records` bytes with `body`, waiting
 * for asynchronous codecs; uncompressed batches are decoded without waiting.
 */
export async function decodeAllAsync<T>(
  bytes: Uint8Array,
  d: Decompression,
  body: BatchBody<T>,
): Promise<T[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: T[] = [];
  let start = 0;
  for (;;) {
    const end = batchEnd(bytes, view, start);
    if (end < 0) return batches;
    const id = checkBatch(bytes, view, start, end, d.checkCrc);
    batches.push(
      id === 0
        ? body(view, start, bytes, start + HEADER_SIZE, end)
        : await decodeAsync(bytes, view, start, end, d, id, body),
    );
    start = end;
  }
}

/** Decodes every complete batch of a Fetch partition's `records` bytes with `body`. */
export function decodeAll<T>(bytes: Uint8Array, d: Decompression, body: BatchBody<T>): T[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: T[] = [];
  let start = 0;
  for (;;) {
    const end = batchEnd(bytes, view, start);
    if (end < 0) return batches;
    batches.push(decodeSync(bytes, view, start, end, d, body));
    start = end;
  }
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

/** The end of the one batch that must fill `bytes`. */
function wholeBatchEnd(bytes: Uint8Array, view: DataView): number {
  const end = batchEnd(bytes, view, 0);
  if (end < 0) {
    const need = bytes.length < LOG_OVERHEAD ? LOG_OVERHEAD : LOG_OVERHEAD + view.getInt32(8);
    throw new DecodeError("record_batch", 0, `truncated: needs ${need} bytes, has ${bytes.length}`);
  }
  if (end !== bytes.length) {
    throw new DecodeError("record_batch", end, `${bytes.length - end} bytes after the batch`);
  }
  return end;
}

/**
 * Decodes every complete batch in a Fetch partition's `records` bytes. A partial batch at the
 * end is ignored, since brokers cut the response at the fetch size limit mid-batch; fetch again
 * from the offset after the last record returned.
 *
 * Compressed batches are decompressed with the synchronous codecs of `options.codecs`
 * (snappy, lz4, zstd by default); gzip needs {@link decodeRecordBatchesAsync}.
 *
 * @param bytes The `records` bytes.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batches, in order; empty when the bytes hold no complete batch.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or over the
 *   size limit, naming the codec and the batch's base offset.
 * @throws {UnsupportedCompressionError} On a batch whose codec is not in `options.codecs`, or
 *   decompresses only asynchronously.
 * @throws {DecodeError} On a malformed batch or a message format older than v2.
 */
export function decodeRecordBatches(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): RecordBatch[] {
  return decodeAll(bytes, decompressionOf(options), decodeChecked);
}

/**
 * Decodes exactly one batch that fills `bytes`.
 *
 * @param bytes One whole batch, e.g. what {@link encodeRecordBatch} returned.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batch.
 * @throws {DecodeError} When `bytes` is truncated, has extra bytes, or is malformed.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or too large.
 * @throws {UnsupportedCompressionError} On a codec not in `options.codecs`, or an
 *   asynchronous one.
 */
export function decodeRecordBatch(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): RecordBatch {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = wholeBatchEnd(bytes, view);
  return decodeSync(bytes, view, 0, end, decompressionOf(options), decodeChecked);
}

/**
 * Decodes every complete batch like {@link decodeRecordBatches}, with any codec, synchronous
 * or not (gzip through the platform's `DecompressionStream` is asynchronous). Uncompressed
 * batches are decoded exactly as by {@link decodeRecordBatches}, without waiting.
 *
 * @param bytes The `records` bytes.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batches, in order.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or too large.
 * @throws {UnsupportedCompressionError} On a batch whose codec is not in `options.codecs`.
 * @throws {DecodeError} On a malformed batch or a message format older than v2.
 */
export async function decodeRecordBatchesAsync(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): Promise<RecordBatch[]> {
  return await decodeAllAsync(bytes, decompressionOf(options), decodeChecked);
}

/**
 * Decodes exactly one batch that fills `bytes`, with any codec, synchronous or not.
 *
 * @param bytes One whole batch, e.g. what {@link encodeRecordBatchAsync} returned.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batch.
 * @throws {DecodeError} When `bytes` is truncated, has extra bytes, or is malformed.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or too large.
 * @throws {UnsupportedCompressionError} On a codec not in `options.codecs`.
 */
export function decodeRecordBatchAsync(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): Promise<RecordBatch> {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = wholeBatchEnd(bytes, view);
    const d = decompressionOf(options);
    const id = checkBatch(bytes, view, 0, end, d.checkCrc);
    if (id === 0) {
      return Promise.resolve(decodeChecked(view, 0, bytes, HEADER_SIZE, end));
    }
    return decodeAsync(bytes, view, 0, end, d, id, decodeChecked);
  } catch (error) {
    return Promise.reject(error);
  }
}
