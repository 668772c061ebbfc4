/**
 * The snappy codec of record batches (Kafka id 2). Decodes both forms found in Kafka: the
 * xerial framing the Java client and broker write (magic `\x82SNAPPY\0`, version, compatible
 * version, then chunks of [int32 big-endian length][raw snappy block]) and a bare raw snappy
 * block (librdkafka's and most other clients' form). Encodes xerial by default, as the Java
 * client does; both the Java decoder (which detects xerial by its magic and otherwise reads raw
 * snappy) and librdkafka read either form.
 *
 * @example
 * ```ts
 * import { snappyCodec } from "./snappy.ts";
 * const snappy = snappyCodec();
 * const data = new TextEncoder().encode("abcabcabcabcabcabcabcabc");
 * const packed = snappy.compress(data);
 * snappy.decompress(packed, 1 << 20).length; // 24
 * ```
 *
 * @module
 */

import { type Codec, CompressionError } from "./codec.ts";
import {
  snappyCompressInto,
  snappyDecodeInto,
  snappyLength,
  snappyMaxLength,
} from "./snappy_block.ts";

/** The xerial stream magic: 0x82 "SNAPPY" 0x00. */
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
/** Magic, version and compatible version. */
const XERIAL_HEADER = 16;
/** Input bytes per xerial chunk when encoding (snappy-java's own block is 32 KiB). */
const XERIAL_CHUNK = 65536;

/** Options of {@link snappyCodec}. */
export interface SnappyOptions {
  /**
   * The form `compress` writes: `"xerial"` (the Java client's framing; the default) or
   * `"raw"` (one bare snappy block, as librdkafka writes). Decoding reads both regardless.
   */
  framing?: "xerial" | "raw";
}

/** The snappy codec: synchronous, written here, no dependencies. */
export interface SnappyCodec extends Codec {
  /**
   * Compresses into the configured framing.
   *
   * @param data The uncompressed bytes.
   * @returns The compressed bytes.
   */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Decompresses xerial-framed or raw snappy.
   *
   * @param data The compressed bytes.
   * @param maxOutputBytes The most bytes the output may have.
   * @returns The decompressed bytes.
   * @throws {CompressionError} On truncated or malformed data, or output over the limit.
   */
  decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array;
}

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_MAGIC.length) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

function overLimit(total: number, max: number): never {
  throw new CompressionError(
    "snappy",
    "size-limit",
    `the data decompresses to ${total} bytes, over the limit of ${max}`,
  );
}

function readInt32(d: Uint8Array, i: number): number {
  return ((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) >>> 0;
}

/**
 * Decompresses one bare raw snappy block.
 *
 * @param data The block.
 * @param max The most bytes the output may have.
 * @returns The output.
 */
function decompressRaw(data: Uint8Array, max: number): Uint8Array {
  const [length, pos] = snappyLength(data, 0, data.length);
  if (length > max) overLimit(length, max);
  const out = new Uint8Array(length);
  snappyDecodeInto(data, pos, data.length, out, 0, length);
  return out;
}

/**
 * Decompresses a xerial stream: a first pass reads each chunk's declared length, so the output
 * is allocated once and the limit is checked before any of it is.
 *
 * @param data The stream.
 * @param max The most bytes the output may have.
 * @returns The output.
 */
function decompressXerial(data: Uint8Array, max: number): Uint8Array {
  const end = data.length;
  if (end < XERIAL_HEADER) {
    throw new CompressionError("snappy", "truncated", "the xerial header is cut short");
  }
  let total = 0;
  for (let pos = XERIAL_HEADER; pos < end;) {
    if (pos + 4 > end) {
      throw new CompressionError("snappy", "truncated", "a xerial chunk length is cut short");
    }
    const size = readInt32(data, pos);
    pos += 4;
    if (size > end - pos) {
      throw new CompressionError(
        "snappy",
        "truncated",
        `a xerial chunk of ${size} bytes runs past the ${end - pos} left`,
      );
    }
    total += snappyLength(data, pos, pos + size)[0];
    if (total > max) overLimit(total, max);
    pos += size;
  }
  const out = new Uint8Array(total);
  let outPos = 0;
  for (let pos = XERIAL_HEADER; pos < end;) {
    const size = readInt32(data, pos);
    pos += 4;
    const [length, at] = snappyLength(data, pos, pos + size);
    snappyDecodeInto(data, at, pos + size, out, outPos, outPos + length);
    outPos += length;
    pos += size;
  }
  return out;
}

function compressRaw(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(snappyMaxLength(data.length));
  return out.subarray(0, snappyCompressInto(data, 0, data.length, out, 0));
}

function compressXerial(data: Uint8Array): Uint8Array {
  const chunks = Math.max(1, Math.ceil(data.length / XERIAL_CHUNK));
  const out = new Uint8Array(
    XERIAL_HEADER + chunks * 4 + snappyMaxLength(data.length) + chunks * 8,
  );
  out.set(XERIAL_MAGIC, 0);
  // Version 1, compatible with version 1: what snappy-java writes and reads.
  out[11] = 1;
  out[15] = 1;
  let op = XERIAL_HEADER;
  for (let s = 0; s < data.length; s += XERIAL_CHUNK) {
    const at = op;
    op = snappyCompressInto(data, s, Math.min(s + XERIAL_CHUNK, data.length), out, at + 4);
    const size = op - at - 4;
    out[at] = size >>> 24;
    out[at + 1] = size >>> 16;
    out[at + 2] = size >>> 8;
    out[at + 3] = size;
  }
  return out.subarray(0, op);
}

/**
 * Makes the snappy codec.
 *
 * @param options The framing `compress` writes.
 * @returns The codec.
 */
export function snappyCodec(options: SnappyOptions = {}): SnappyCodec {
  const raw = options.framing === "raw";
  return {
    name: "snappy",
    id: 2,
    compress: raw ? compressRaw : compressXerial,
    decompress: (data, max) =>
      isXerial(data) ? decompressXerial(data, max) : decompressRaw(data, max),
  };
}
