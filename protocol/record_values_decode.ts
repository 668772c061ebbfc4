/**
 * The values-only form of the record batch decoders, for consumers that need each record's
 * value and offset but not its key, timestamp or headers. Per record it makes one view (the
 * value) and stores one offset delta in an `Int32Array`: no record object, no header array and
 * no bigint offset, which is most of {@link decodeRecordBatches}'s allocation. Batches are
 * checked exactly as there (magic, CRC-32C unless `checkCrc: false`, record count, lengths),
 * compressed ones decompressed with the same codecs.
 *
 * @example
 * ```ts
 * import { decodeRecordValues, encodeRecordBatch } from "./record_batch.ts";
 * const bytes = encodeRecordBatch({
 *   baseOffset: 40n,
 *   records: [{ value: new TextEncoder().encode("a") }, { value: null }],
 * });
 * for (const batch of decodeRecordValues(bytes)) {
 *   for (let i = 0; i < batch.values.length; i++) {
 *     const offset = batch.baseOffset + BigInt(batch.offsetDeltas[i]); // 40n, 41n
 *     const value = batch.values[i]; // Uint8Array [0x61], then null
 *   }
 * }
 * ```
 *
 * @module
 */

import { DecodeError } from "../framing/errors.ts";
import {
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_AT,
} from "./record_batch_layout.ts";
import { decodeAll, decodeAllAsync, decompressionOf, recordCount } from "./record_batch_decode.ts";
import type { DecodeRecordBatchOptions, RecordBatch } from "./record_batch_model.ts";

/** A decoded batch's header fields and its records' values and offset deltas. */
export interface RecordBatchValues extends Omit<RecordBatch, "records"> {
  /**
   * Each record's offset minus `baseOffset`, in order. Usually 0, 1, 2…, but compaction
   * leaves gaps, so read the offset from here rather than from the index.
   */
  offsetDeltas: Int32Array;
  /** Each record's value (a view into the fetched or decompressed bytes), or `null`. */
  values: (Uint8Array | null)[];
}

const NO_OPTIONS: DecodeRecordBatchOptions = Object.freeze({});

/** Finds the end of the varint at `bytes[at]`, checking it fits in 5 bytes before `end`. */
function varintEnd(bytes: Uint8Array, at: number, end: number, field: string): number {
  for (let i = 0; i < 5; i++) {
    if (at + i >= end) throw new DecodeError(field, at, "varint runs past the end");
    if (bytes[at + i] < 0x80) return at + i + 1;
  }
  throw new DecodeError(field, at, "varint longer than 5 bytes");
}

/** The zigzag varint of at most 5 bytes ending before `after`, starting at `at`. */
function zigzag(bytes: Uint8Array, at: number, after: number): number {
  let u = 0;
  let scale = 1;
  for (let p = at; p < after; p++) {
    u += (bytes[p] & 0x7f) * scale;
    scale *= 128;
  }
  if (u > 0xffffffff) throw new DecodeError("varint", at, "varint exceeds 32 bits");
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Skips the zigzag varlong at `at`, returning the position after it. */
function varlongEnd(bytes: Uint8Array, at: number, end: number, field: string): number {
  for (let i = 0; i < 10; i++) {
    if (at + i >= end) throw new DecodeError(field, at, "varlong runs past the end");
    if (bytes[at + i] < 0x80) return at + i + 1;
  }
  throw new DecodeError(field, at, "varlong too long");
}

/** Decodes the checked batch at `start` whose records are `records[from..to)`. */
function decodeValues(
  view: DataView,
  start: number,
  records: Uint8Array,
  from: number,
  to: number,
): RecordBatchValues {
  const attributes = view.getInt16(start + ATTRIBUTES_AT);
  const count = recordCount(view, start, to - from);
  const offsetDeltas = new Int32Array(count);
  const values = new Array<Uint8Array | null>(count);
  let pos = from;
  for (let i = 0; i < count; i++) {
    const at = pos;
    let next = varintEnd(records, pos, to, "record.length");
    const length = zigzag(records, pos, next);
    if (length < 0 || length > to - next) {
      throw new DecodeError("record.length", at, `length ${length} outside the ${to - next} left`);
    }
    const end = next + length;
    // The attributes byte, then the timestamp delta, which this form does not read.
    pos = varlongEnd(records, next + 1, end, "record.timestamp_delta");
    next = varintEnd(records, pos, end, "record.offset_delta");
    offsetDeltas[i] = zigzag(records, pos, next);
    pos = next;
    next = varintEnd(records, pos, end, "record.key");
    const keyLength = zigzag(records, pos, next);
    if (keyLength < -1 || keyLength > end - next) {
      throw new DecodeError("record.key", pos, `length ${keyLength} outside the record`);
    }
    pos = next + (keyLength > 0 ? keyLength : 0);
    next = varintEnd(records, pos, end, "record.value");
    const valueLength = zigzag(records, pos, next);
    if (valueLength < -1 || valueLength > end - next) {
      throw new DecodeError("record.value", pos, `length ${valueLength} outside the record`);
    }
    values[i] = valueLength === -1 ? null : records.subarray(next, next + valueLength);
    // The headers fill the rest of the record's length; this form skips them unread.
    if (next + (valueLength > 0 ? valueLength : 0) >= end) {
      throw new DecodeError("record.headers", at, "record ends before its header count");
    }
    pos = end;
  }
  if (pos !== to) {
    throw new DecodeError("records", pos, `${to - pos} bytes after the last record`);
  }
  const isLogAppendTime = (attributes & ATTR_LOG_APPEND_TIME) !== 0;
  return {
    baseOffset: view.getBigInt64(start),
    partitionLeaderEpoch: view.getInt32(start + 12),
    attributes,
    timestampType: isLogAppendTime ? "LogAppendTime" : "CreateTime",
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta: view.getInt32(start + 23),
    baseTimestamp: Number(view.getBigInt64(start + 27)),
    maxTimestamp: Number(view.getBigInt64(start + 35)),
    producerId: view.getBigInt64(start + 43),
    producerEpoch: view.getInt16(start + 51),
    baseSequence: view.getInt32(start + 53),
    offsetDeltas,
    values,
  };
}

/**
 * Decodes every complete batch in a Fetch partition's `records` bytes, as
 * {@link decodeRecordBatches} does, into values and offset deltas only. Keys, timestamps and
 * headers are skipped: header bytes are not checked beyond lying inside their record's
 * length, so a batch whose headers are malformed decodes here but not in
 * {@link decodeRecordBatches}.
 *
 * @param bytes The `records` bytes.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batches, in order; empty when the bytes hold no complete batch.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or over the
 *   size limit, naming the codec and the batch's base offset.
 * @throws {UnsupportedCompressionError} On a batch whose codec is not in `options.codecs`, or
 *   decompresses only asynchronously (use {@link decodeRecordValuesAsync}).
 * @throws {DecodeError} On a malformed batch or a message format older than v2.
 */
export function decodeRecordValues(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): RecordBatchValues[] {
  return decodeAll(bytes, decompressionOf(options), decodeValues);
}

/**
 * Decodes like {@link decodeRecordValues}, with any codec, synchronous or not (gzip).
 *
 * @param bytes The `records` bytes.
 * @param options The codecs, the decompressed size limit and whether to check CRCs.
 * @returns The batches, in order.
 * @throws {CorruptRecordBatchError} On a CRC mismatch (unless `options.checkCrc` is `false`).
 * @throws {CompressionError} On compressed records that are corrupt, truncated or too large.
 * @throws {UnsupportedCompressionError} On a batch whose codec is not in `options.codecs`.
 * @throws {DecodeError} On a malformed batch or a message format older than v2.
 */
export async function decodeRecordValuesAsync(
  bytes: Uint8Array,
  options: DecodeRecordBatchOptions = NO_OPTIONS,
): Promise<RecordBatchValues[]> {
  return await decodeAllAsync(bytes, decompressionOf(options), decodeValues);
}
