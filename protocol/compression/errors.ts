/**
 * {@link CompressionError}, the error every compression codec throws on data it cannot
 * decompress (or compress), naming the codec and what was wrong.
 *
 * @example
 * ```ts
 * import { CompressionError } from "./errors.ts";
 * const err = new CompressionError("zstd", "truncated", "frame header ends after 3 bytes");
 * err.codec; // "zstd"
 * err.failure; // "truncated"
 * ```
 *
 * @module
 */

import { KafkaTransportError } from "../../transport/errors.ts";

/** What was wrong with compressed data. */
export type CompressionFailure =
  /** The data ends before the format says it does. */
  | "truncated"
  /** A checksum inside the compressed format does not match. */
  | "checksum"
  /** The data would decompress to more than the configured limit. */
  | "size-limit"
  /** The data is not valid for the format (bad magic, bad length, bad back-reference). */
  | "malformed"
  /** The data uses a feature of the format this codec does not implement. */
  | "unsupported";

/** Options of a {@link CompressionError}. */
export interface CompressionErrorOptions {
  /** The base offset of the batch whose records failed; `null` (the default) outside a batch. */
  baseOffset?: bigint | null;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Compressed data could not be decompressed (or data could not be compressed). Raised by the
 * codecs themselves without a batch offset, and again by the record batch decoder with the
 * base offset of the batch it was decoding. Never retriable: the same bytes fail again.
 */
export class CompressionError extends KafkaTransportError {
  /** The codec that failed, e.g. "zstd". */
  readonly codec: string;
  /** What kind of problem it is. */
  readonly failure: CompressionFailure;
  /** The base offset of the batch whose records failed, or `null` outside a batch. */
  readonly baseOffset: bigint | null;
  /** What the codec said, without the batch context. */
  readonly detail: string;

  /**
   * Creates the error.
   *
   * @param codec The codec's name.
   * @param failure What kind of problem it is.
   * @param detail What exactly was wrong, e.g. "block 3 runs past the end of the data".
   * @param options The batch's base offset and the underlying error.
   */
  constructor(
    codec: string,
    failure: CompressionFailure,
    detail: string,
    options: CompressionErrorOptions = {},
  ) {
    const baseOffset = options.baseOffset ?? null;
    const where = baseOffset === null ? "" : `Record batch at offset ${baseOffset}: `;
    super(`${where}${codec} ${failure}: ${detail}`, {
      cause: options.cause,
      // CORRUPT_MESSAGE is Kafka's code for a batch whose contents are invalid.
      code: failure === "size-limit" || failure === "unsupported" ? undefined : 2,
      retriable: false,
    });
    this.name = "CompressionError";
    this.codec = codec;
    this.failure = failure;
    this.baseOffset = baseOffset;
    this.detail = detail;
  }
}
