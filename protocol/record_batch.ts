/**
 * RecordBatch v2 (magic 2), the on-disk and on-wire format of Kafka records since 0.11:
 * encoding for Produce and decoding of the `records` bytes of Fetch, uncompressed or
 * compressed with gzip, snappy, lz4 or zstd (attributes bits 0–2).
 *
 * Layout: a 61-byte header (base offset, length, leader epoch, magic, CRC-32C, attributes,
 * last offset delta, base and max timestamps, producer id/epoch, base sequence, record count),
 * then the records, each a varint length followed by attributes, timestamp and offset deltas,
 * key, value and headers. The CRC covers everything from the attributes to the end; in a
 * compressed batch the records section is the codec's output.
 *
 * The synchronous functions handle uncompressed batches and synchronous codecs (snappy, lz4,
 * zstd decoding); the `Async` ones take any codec, gzip included. Codecs come from the
 * {@link Codecs} passed per call ({@link defaultCodecs} when omitted). A CRC mismatch raises
 * {@link CorruptRecordBatchError} (unless decoded with `checkCrc: false`); bad compressed data a {@link CompressionError} naming the
 * codec and the batch's base offset. {@link decodeRecordValues} decodes only values and offset
 * deltas, for consumers that need no keys, timestamps or headers (less allocation per record).
 *
 * @example
 * ```ts
 * import { decodeRecordBatch, encodeRecordBatch } from "./record_batch.ts";
 * import { lz4Codec } from "./compression/lz4.ts";
 * const bytes = encodeRecordBatch(
 *   { records: [{ key: null, value: new TextEncoder().encode("hello") }] },
 *   { compression: lz4Codec() },
 * );
 * decodeRecordBatch(bytes).records[0].offset; // 0n
 * ```
 *
 * @module
 */

export * from "./record_batch_model.ts";
export { encodeRecordBatch, encodeRecordBatchAsync } from "./record_batch_encode.ts";
export {
  decodeRecordBatch,
  decodeRecordBatchAsync,
  decodeRecordBatches,
  decodeRecordBatchesAsync,
} from "./record_batch_decode.ts";
export {
  decodeRecordValues,
  decodeRecordValuesAsync,
  type RecordBatchValues,
} from "./record_values_decode.ts";
