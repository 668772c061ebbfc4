/**
 * The types of RecordBatch v2 shared by the encoder and the decoder: records and batches as
 * given and as decoded, the options of both directions, and the errors a batch can raise.
 *
 * @module
 */

import { KafkaTransportError } from "../transport/errors.ts";
import type { Codec, CodecName, Codecs } from "./compression/codec.ts";
import { ErrorCode } from "./errors.ts";

/** The compression codecs of the attributes' low three bits, by name. */
export type CompressionCodec = "none" | CodecName;

/**
 * The default most bytes one compressed batch may decompress to (64 MiB): far above any
 * batch a broker accepts by default (`message.max.bytes` is 1 MiB compressed), low enough
 * that a decompression bomb cannot exhaust memory.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES: number = 64 * 1024 * 1024;

/** Options of the record batch decoders. */
export interface DecodeRecordBatchOptions {
  /**
   * The codecs for compressed batches; {@link defaultCodecs} (gzip, snappy, lz4, zstd) when
   * omitted. The synchronous decoders need codecs that decompress synchronously (gzip does
   * not: use the `Async` decoders for it).
   */
  codecs?: Codecs;
  /**
   * The most bytes one compressed batch may decompress to; larger batches are refused with a
   * {@link CompressionError} before the excess is allocated. Default
   * {@link DEFAULT_MAX_DECOMPRESSED_BYTES}.
   */
  maxDecompressedBytes?: number;
  /**
   * Whether to check each batch's CRC-32C (over the attributes to the end of the batch)
   * against the stored one, throwing {@link CorruptRecordBatchError} on a mismatch. Default
   * `true`, as the Java consumer's `check.crcs`; `false` skips the check (librdkafka's
   * default), about four fifths of the decoder's time on uncompressed 1 KiB records, for
   * consumers that trust TCP's and the broker's own checks. Compressed batches are still
   * checked by their codec's framing where it has checksums (lz4's, zstd's).
   */
  checkCrc?: boolean;
}

/** Options of the record batch encoders. */
export interface EncodeRecordBatchOptions {
  /**
   * The codec to compress the records with; uncompressed when omitted. The synchronous
   * encoder needs one that compresses synchronously (snappy, lz4).
   */
  compression?: Codec;
  /**
   * The wall clock (ms since the epoch) that gives records without a timestamp theirs, when
   * the batch has no `timestamp` either; `Date.now` when omitted. Read at most once a batch.
   */
  now?: () => number;
}

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

/**
 * A record batch is compressed with a codec the decoder has none for, or whose codec cannot be
 * used in the way asked (an asynchronous codec from a synchronous decoder).
 */
export class UnsupportedCompressionError extends KafkaTransportError {
  /** The codec, e.g. "zstd" (or "unknown(7)" for an id that has none). */
  readonly codec: string;
  /** The base offset of the batch, or `null` when encoding. */
  readonly baseOffset: bigint | null;

  /**
   * Builds the error naming the codec.
   *
   * @param codec The codec named by the batch attributes.
   * @param baseOffset The batch's base offset, or `null` when encoding.
   * @param reason What is missing and what to do, ending the message; by default that the
   *   codecs passed have none for it.
   */
  constructor(codec: string, baseOffset: bigint | null, reason?: string) {
    const where = baseOffset === null ? "Record batch" : `Record batch at offset ${baseOffset}`;
    super(
      `${where} is compressed with ${codec}: ` +
        (reason ??
          "the Codecs passed to the decoder have no codec for it; add one with Codecs.with()"),
    );
    this.name = "UnsupportedCompressionError";
    this.codec = codec;
    this.baseOffset = baseOffset;
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
