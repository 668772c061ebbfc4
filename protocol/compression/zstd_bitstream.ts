/**
 * The bit-level primitives the zstd decoder's parts share: reading a field of a backward
 * bitstream (FSE and Huffman streams are read from their last byte towards their first), and
 * the error for malformed data.
 *
 * Positions are bit indexes from the start of the buffer; a backward stream is read by
 * lowering the position and taking the bits above it.
 *
 * @module
 */

import { CompressionError } from "./errors.ts";

/**
 * The error for zstd data that breaks the format.
 *
 * @param detail What exactly was wrong.
 * @returns The error to throw.
 */
export function malformed(detail: string): CompressionError {
  return new CompressionError("zstd", "malformed", detail);
}

/**
 * Reads `n` bits (0 to 25) starting at bit `at`, little-endian. Reads the four bytes from
 * `at >>> 3`, so the buffer must extend three bytes past the last bit read (callers pad the
 * final block); a negative `at` (an over-read of corrupt data) reads as zeros, which the
 * caller then reports.
 *
 * @param buf The bytes.
 * @param at The bit index of the field's lowest bit.
 * @param n The field's width in bits.
 * @returns The field's value.
 */
export function bitsAt(buf: Uint8Array, at: number, n: number): number {
  const i = at >>> 3;
  const word = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
  return (word >>> (at & 7)) & ((1 << n) - 1);
}

/**
 * The start position of a backward bitstream ending at byte `end`: the bit below the final
 * 1-bit that marks where the stream ends.
 *
 * @param buf The bytes.
 * @param start The stream's first byte.
 * @param end The stream's end (exclusive).
 * @param what The stream's name, for the error.
 * @returns The bit index to read down from.
 * @throws {CompressionError} When the stream is empty or its last byte is zero.
 */
export function backwardStart(buf: Uint8Array, start: number, end: number, what: string): number {
  if (end <= start) throw malformed(`${what} is empty`);
  const last = buf[end - 1];
  if (last === 0) throw malformed(`${what} does not end with its end-of-stream bit`);
  return (end - 1) * 8 + 31 - Math.clz32(last);
}
