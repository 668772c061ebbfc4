/**
 * The lz4 codec of record batches (Kafka id 3): the LZ4 frame format (magic 0x184D2204, a
 * frame descriptor checked by xxHash32, blocks, an end mark and an optional content checksum).
 *
 * Decoding reads every frame Kafka clients write: independent or linked blocks, any block
 * maximum size, with or without the content size, block checksums and content checksum (each
 * checked when present). Encoding writes what Kafka's Java client writes: version 1,
 * independent 64 KiB blocks, no checksums beyond the descriptor's; a block that does not
 * shrink is stored uncompressed.
 *
 * @example
 * ```ts
 * import { lz4Codec } from "./lz4.ts";
 * const lz4 = lz4Codec();
 * const data = new TextEncoder().encode("abcabcabcabcabcabcabcabc");
 * lz4.decompress(lz4.compress(data), 1 << 20).length; // 24
 * ```
 *
 * @module
 */

import { type Codec, CompressionError, type CompressionFailure } from "./codec.ts";
import { lz4BlockBound, lz4CompressBlock, lz4DecodeBlock } from "./lz4_block.ts";
import { xxhash32 } from "./xxhash32.ts";

const MAGIC = 0x184d2204;
const BLOCK = 65536;
/** FLG: version 01, independent blocks; BD: 64 KiB maximum block size. */
const FLG_WRITTEN = 0x60;
const BD_WRITTEN = 0x40;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;

/** The lz4 codec: synchronous, written here, no dependencies. */
export interface Lz4Codec extends Codec {
  /**
   * Compresses into one LZ4 frame.
   *
   * @param data The uncompressed bytes.
   * @returns The frame.
   */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Decompresses one LZ4 frame.
   *
   * @param data The frame.
   * @param maxOutputBytes The most bytes the output may have.
   * @returns The decompressed bytes.
   * @throws {CompressionError} On a truncated or malformed frame, a checksum mismatch, a
   *   preset dictionary, or output over the limit.
   */
  decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array;
}

function fail(failure: CompressionFailure, detail: string): never {
  throw new CompressionError("lz4", failure, detail);
}

function readLe32(d: Uint8Array, i: number): number {
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0;
}

function writeLe32(d: Uint8Array, i: number, v: number): void {
  d[i] = v;
  d[i + 1] = v >>> 8;
  d[i + 2] = v >>> 16;
  d[i + 3] = v >>> 24;
}

function grow(out: Uint8Array, used: number, need: number, max: number): Uint8Array {
  const size = Math.min(max, Math.max(need, out.length * 2));
  const next = new Uint8Array(size);
  next.set(out.subarray(0, used));
  return next;
}

/**
 * Decompresses one LZ4 frame.
 *
 * @param src The frame.
 * @param max The most bytes the output may have.
 * @returns The output.
 */
function decompressFrame(src: Uint8Array, max: number): Uint8Array {
  const end = src.length;
  if (end < 7) fail("truncated", `the frame header needs 7 bytes, the data has ${end}`);
  const magic = readLe32(src, 0);
  if (magic !== MAGIC) {
    fail("malformed", `bad frame magic 0x${magic.toString(16)} (expected 0x184d2204)`);
  }
  const flg = src[4];
  const bd = src[5];
  if (flg >>> 6 !== 1) fail("unsupported", `frame version ${flg >>> 6} (only version 1 exists)`);
  if (flg & 0x02 || bd & 0x8f) fail("malformed", "reserved bits set in the frame descriptor");
  if (flg & FLG_DICT_ID) fail("unsupported", "the frame needs a preset dictionary");
  const blockSizeId = (bd >>> 4) & 7;
  if (blockSizeId < 4) fail("malformed", `block maximum size id ${blockSizeId} (must be 4-7)`);
  const blockMax = 1 << (8 + 2 * blockSizeId);
  let pos = 6;
  let contentSize = -1;
  if (flg & FLG_CONTENT_SIZE) {
    if (end < 15) fail("truncated", "the frame header's content size is cut short");
    contentSize = readLe32(src, 6) + readLe32(src, 10) * 0x100000000;
    if (contentSize > max) {
      fail("size-limit", `the frame holds ${contentSize} bytes, over the limit of ${max}`);
    }
    pos = 14;
  }
  const hc = (xxhash32(src, 4, pos) >>> 8) & 0xff;
  if (src[pos] !== hc) {
    fail(
      "checksum",
      `frame descriptor checksum 0x${src[pos].toString(16)}, computed 0x${hc.toString(16)}`,
    );
  }
  pos++;
  const blockChecksum = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  let out: Uint8Array = new Uint8Array(
    contentSize >= 0 ? contentSize : Math.min(max, Math.max(BLOCK, (end - pos) * 4)),
  );
  let op = 0;
  for (let block = 0;; block++) {
    if (pos + 4 > end) fail("truncated", `block ${block}'s size is cut short (no end mark)`);
    const word = readLe32(src, pos);
    pos += 4;
    if (word === 0) break;
    const stored = word >= 0x80000000;
    const size = word & 0x7fffffff;
    if (size > blockMax) {
      fail("malformed", `block ${block} of ${size} bytes exceeds the frame's ${blockMax}`);
    }
    if (size > end - pos) {
      fail("truncated", `block ${block} of ${size} bytes runs past the ${end - pos} left`);
    }
    if (blockChecksum) {
      if (pos + size + 4 > end) fail("truncated", `block ${block}'s checksum is cut short`);
      const want = readLe32(src, pos + size);
      const got = xxhash32(src, pos, pos + size);
      if (want !== got) {
        fail(
          "checksum",
          `block ${block} checksum 0x${want.toString(16)}, computed 0x${got.toString(16)}`,
        );
      }
    }
    // Room for a whole block, up to the limit: the block decoder then never runs out.
    const room = stored ? size : blockMax;
    if (contentSize < 0 && out.length - op < room && out.length < max) {
      out = grow(out, op, op + room, max);
    }
    if (stored) {
      if (size > out.length - op) overLimit(max, contentSize);
      out.set(src.subarray(pos, pos + size), op);
      op += size;
    } else {
      const next = lz4DecodeBlock(src, pos, pos + size, out, op, out.length);
      if (next === -1) {
        if (contentSize < 0 && out.length - op >= blockMax) {
          fail("malformed", `block ${block} decodes past ${blockMax} bytes`);
        }
        overLimit(max, contentSize);
      }
      if (next === -2) fail("truncated", `block ${block} ends inside a sequence`);
      if (next === -3) {
        fail("malformed", `block ${block} has a match before the start of the output`);
      }
      if (next - op > blockMax) fail("malformed", `block ${block} decodes past ${blockMax} bytes`);
      op = next;
    }
    pos += size + (blockChecksum ? 4 : 0);
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (pos + 4 > end) fail("truncated", "the content checksum is cut short");
    const want = readLe32(src, pos);
    const got = xxhash32(out, 0, op);
    if (want !== got) {
      fail("checksum", `content checksum 0x${want.toString(16)}, computed 0x${got.toString(16)}`);
    }
    pos += 4;
  }
  if (pos !== end) fail("malformed", `${end - pos} bytes after the end of the frame`);
  if (contentSize >= 0 && op !== contentSize) {
    fail("malformed", `the frame declares ${contentSize} bytes but holds ${op}`);
  }
  return op === out.length ? out : out.subarray(0, op);
}

function overLimit(max: number, contentSize: number): never {
  if (contentSize >= 0) {
    fail("malformed", `the blocks hold more than the ${contentSize} bytes the frame declares`);
  }
  return fail("size-limit", `the frame decompresses to more than the limit of ${max} bytes`);
}

/**
 * The most bytes of worst-case output kept in {@link scratch} between calls; larger inputs get
 * a buffer of their own.
 */
const SCRATCH_MAX = 4 * 1024 * 1024;

/**
 * The worst-case output buffer, reused across calls (compression is synchronous): a fresh
 * zeroed buffer of the bound's size for every batch, most of it unused on compressible data,
 * cost about as much CPU as the compression itself on Deno.
 */
let scratch = new Uint8Array(0);

function compressFrame(src: Uint8Array): Uint8Array {
  const n = src.length;
  const blocks = Math.ceil(n / BLOCK);
  const bound = 7 + blocks * 4 + lz4BlockBound(n) + blocks * 16 + 4;
  if (scratch.length < bound && bound <= SCRATCH_MAX) scratch = new Uint8Array(bound);
  const out = bound <= SCRATCH_MAX ? scratch : new Uint8Array(bound);
  writeLe32(out, 0, MAGIC);
  out[4] = FLG_WRITTEN;
  out[5] = BD_WRITTEN;
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff;
  let op = 7;
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(s + BLOCK, n);
    const next = lz4CompressBlock(src, s, e, out, op + 4);
    const size = next - op - 4;
    if (size < e - s) {
      writeLe32(out, op, size);
      op = next;
    } else {
      writeLe32(out, op, (e - s) | 0x80000000);
      out.set(src.subarray(s, e), op + 4);
      op += 4 + e - s;
    }
  }
  writeLe32(out, op, 0);
  // A copy of exactly the frame's size: the caller owns it, the scratch buffer stays here.
  return out === scratch ? out.slice(0, op + 4) : out.subarray(0, op + 4);
}

/**
 * Makes the lz4 codec.
 *
 * @returns The codec.
 */
export function lz4Codec(): Lz4Codec {
  return { name: "lz4", id: 3, compress: compressFrame, decompress: decompressFrame };
}
