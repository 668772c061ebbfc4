/**
 * Raw snappy blocks: a varint of the uncompressed length, then literals and back-references
 * (copies with 1-, 2- or 4-byte offsets). The compressor matches 4-byte sequences through a
 * hash table over 64 KiB windows, as the format's reference encoder does, so every offset fits
 * two bytes.
 *
 * @module
 */

import { CompressionError } from "./codec.ts";

const BLOCK = 65536;
const HASH_BITS = 14;
const HASH_SHIFT = 32 - HASH_BITS;
/** Inputs shorter than this are written as one literal: too short for a match to pay. */
const MIN_MATCH_INPUT = 17;
/** No match starts closer than this to the end of a block, so 4-byte loads stay inside it. */
const INPUT_MARGIN = 15;

function fail(failure: "truncated" | "malformed" | "size-limit", detail: string): never {
  throw new CompressionError("snappy", failure, detail);
}

/**
 * Reads the uncompressed length that starts a raw snappy block.
 *
 * @param src The compressed bytes.
 * @param pos Where the block starts.
 * @param end Where the block ends.
 * @returns The length and the position after its varint.
 * @throws {CompressionError} When the varint is cut short or longer than 32 bits.
 */
export function snappyLength(src: Uint8Array, pos: number, end: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) fail("truncated", "the uncompressed length is cut short");
    const b = src[pos++];
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (result > 0xffffffff) break;
      return [result, pos];
    }
    scale *= 128;
  }
  return fail("malformed", "the uncompressed length is not a 32-bit varint");
}

/**
 * Decodes the elements of a raw snappy block (after its length varint) into
 * `out[outPos..outEnd)`, which they must fill exactly.
 *
 * @param src The compressed bytes.
 * @param pos Where the elements start.
 * @param end Where the block ends.
 * @param out The output buffer.
 * @param outPos Where this block's output starts; back-references may not reach before it.
 * @param outEnd Where this block's output ends.
 * @throws {CompressionError} On a truncated element, an offset before the block's output, or
 *   output that does not come out at the length the block declared.
 *
 * Elements are not checked against `outEnd` one by one: the hot loop runs without that test,
 * and a block that overruns is refused at the end. Its excess bytes are lost past the end of
 * `out` (typed arrays drop such writes) or land where the next xerial chunk's output goes,
 * which that chunk overwrites in full before reading any of it. Literals are bounded by the
 * input and copies by 64 bytes, so an overrun costs at most 64 times the input's length.
 */
export function snappyDecodeInto(
  src: Uint8Array,
  pos: number,
  end: number,
  out: Uint8Array,
  outPos: number,
  outEnd: number,
): void {
  const outStart = outPos;
  while (pos < end) {
    const tag = src[pos++];
    const kind = tag & 3;
    if (kind !== 0) {
      let len: number;
      let offset: number;
      if (kind === 1) {
        if (pos >= end) fail("truncated", "a copy's offset is cut short");
        len = 4 + ((tag >>> 2) & 7);
        offset = ((tag >>> 5) << 8) | src[pos++];
      } else if (kind === 2) {
        if (pos + 2 > end) fail("truncated", "a copy's offset is cut short");
        len = 1 + (tag >>> 2);
        offset = src[pos] | (src[pos + 1] << 8);
        pos += 2;
      } else {
        if (pos + 4 > end) fail("truncated", "a copy's offset is cut short");
        len = 1 + (tag >>> 2);
        offset = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24);
        pos += 4;
      }
      // Copies are at most 64 bytes: a byte loop beats copyWithin's call, and repeats the last
      // `offset` bytes by itself when the copy overlaps its source.
      const from = outPos - offset;
      if (offset <= 0 || from < outStart) {
        fail("malformed", `a copy reaches ${offset} bytes back, before the start of the output`);
      }
      for (let k = 0; k < len; k++) out[outPos + k] = out[from + k];
      outPos += len;
      continue;
    }
    let len = tag >>> 2;
    if (len >= 60) {
      const extra = len - 59;
      if (pos + extra > end) fail("truncated", "a literal's length is cut short");
      len = src[pos];
      if (extra > 1) len |= src[pos + 1] << 8;
      if (extra > 2) len |= src[pos + 2] << 16;
      // Kept an int32 (a negative value is refused below), so the JIT never widens `len`.
      if (extra > 3) len |= src[pos + 3] << 24;
      pos += extra;
    }
    len += 1;
    if (len <= 0 || len > end - pos) {
      fail("truncated", `a literal of ${len} bytes runs past the data`);
    }
    if (len < 64) {
      for (let k = 0; k < len; k++) out[outPos + k] = src[pos + k];
    } else {
      out.set(src.subarray(pos, pos + len), outPos);
    }
    pos += len;
    outPos += len;
  }
  if (outPos > outEnd) {
    fail("malformed", "the literals and copies run past the declared length");
  }
  if (outPos !== outEnd) {
    fail("truncated", `the data ends after ${outPos - outStart} of ${outEnd - outStart} bytes`);
  }
}

/**
 * The most bytes a raw snappy block of `n` input bytes can take.
 *
 * @param n The uncompressed length.
 * @returns The bound.
 */
export function snappyMaxLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

// The compressor's hash table, reused across calls (compression is synchronous).
const table = new Uint16Array(1 << HASH_BITS);

function load32(d: Uint8Array, i: number): number {
  return d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
}

function putLiteral(
  out: Uint8Array,
  op: number,
  src: Uint8Array,
  from: number,
  to: number,
): number {
  const n = to - from - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = n;
    out[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    out[op++] = 62 << 2;
    out[op++] = n;
    out[op++] = n >>> 8;
    out[op++] = n >>> 16;
  } else {
    out[op++] = 63 << 2;
    out[op++] = n;
    out[op++] = n >>> 8;
    out[op++] = n >>> 16;
    out[op++] = n >>> 24;
  }
  const len = n + 1;
  if (len < 16) {
    for (let k = 0; k < len; k++) out[op + k] = src[from + k];
  } else {
    out.set(src.subarray(from, to), op);
  }
  return op + len;
}

function putCopy(out: Uint8Array, op: number, offset: number, len: number): number {
  while (len >= 68) {
    out[op++] = (63 << 2) | 2;
    out[op++] = offset;
    out[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    out[op++] = (59 << 2) | 2;
    out[op++] = offset;
    out[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    out[op++] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1;
    out[op++] = offset;
  } else {
    out[op++] = ((len - 1) << 2) | 2;
    out[op++] = offset;
    out[op++] = offset >>> 8;
  }
  return op;
}

/** Compresses one window of at most 64 KiB; returns the new output position. */
function compressWindow(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  let nextEmit = start;
  if (end - start >= MIN_MATCH_INPUT) {
    table.fill(0);
    const ipLimit = end - INPUT_MARGIN;
    let ip = start + 1;
    // Steps grow the longer no match is found, so incompressible data passes quickly.
    let skip = 32;
    while (ip <= ipLimit) {
      let h = Math.imul(load32(src, ip), 0x1e35a7bd) >>> HASH_SHIFT;
      let candidate = start + table[h];
      table[h] = ip - start;
      if (load32(src, ip) !== load32(src, candidate)) {
        ip += skip++ >>> 5;
        continue;
      }
      skip = 32;
      op = putLiteral(out, op, src, nextEmit, ip);
      // Emit copies as long as the next position matches too.
      for (;;) {
        const base = ip;
        let a = ip + 4;
        let b = candidate + 4;
        while (a < end && src[a] === src[b]) {
          a++;
          b++;
        }
        ip = a;
        op = putCopy(out, op, base - candidate, ip - base);
        nextEmit = ip;
        if (ip >= ipLimit) break;
        table[Math.imul(load32(src, ip - 1), 0x1e35a7bd) >>> HASH_SHIFT] = ip - 1 - start;
        h = Math.imul(load32(src, ip), 0x1e35a7bd) >>> HASH_SHIFT;
        candidate = start + table[h];
        table[h] = ip - start;
        if (load32(src, ip) !== load32(src, candidate)) break;
      }
      ip++;
    }
  }
  if (nextEmit < end) op = putLiteral(out, op, src, nextEmit, end);
  return op;
}

/**
 * Compresses `src[start..end)` into one raw snappy block (length varint included) at
 * `out[op..]`, which must have {@link snappyMaxLength} bytes free.
 *
 * @param src The input.
 * @param start Where the input starts.
 * @param end Where it ends.
 * @param out The output buffer.
 * @param op Where to write.
 * @returns The position after the block.
 */
export function snappyCompressInto(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  let n = end - start;
  while (n >= 0x80) {
    out[op++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[op++] = n;
  for (let s = start; s < end; s += BLOCK) {
    op = compressWindow(src, s, Math.min(s + BLOCK, end), out, op);
  }
  return op;
}
