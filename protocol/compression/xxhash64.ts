/**
 * XXH64 (seed 0 by default), the content checksum of zstd frames, computed with 32-bit halves
 * so it needs neither BigInt nor allocation.
 *
 * @example
 * ```ts
 * import { xxhash64Low32 } from "./xxhash64.ts";
 * xxhash64Low32(new Uint8Array(0)); // 0x51d8e999, the low half of 0xef46db3751d8e999
 * ```
 *
 * @module
 */

// The five 64-bit primes of XXH64, as high and low 32-bit halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

// Every 64-bit operation below returns its low half and leaves the high half here, so the hot
// loop keeps its state in plain int32 locals.
let hi = 0;

/**
 * The high 32 bits of the 64-bit product of two 32-bit values taken as unsigned. The double
 * product is within 2^12 of the exact one; subtracting the exact low half and scaling leaves
 * the high half within 2^-19 of an integer, so rounding gives it exactly.
 */
function mulHigh32(a: number, b: number): number {
  const ua = a >>> 0, ub = b >>> 0;
  return Math.round((ua * ub - (Math.imul(a, b) >>> 0)) * 2.3283064365386963e-10) | 0;
}

/** (ah:al) * (bh:bl) mod 2^64; returns the low half, sets `hi`. */
function mul(ah: number, al: number, bh: number, bl: number): number {
  hi = (mulHigh32(al, bl) + Math.imul(ah, bl) + Math.imul(al, bh)) | 0;
  return Math.imul(al, bl);
}

/** (ah:al) + (bh:bl) mod 2^64; returns the low half, sets `hi`. */
function add(ah: number, al: number, bh: number, bl: number): number {
  const lo = (al >>> 0) + (bl >>> 0);
  hi = (ah + bh + (lo > 0xffffffff ? 1 : 0)) | 0;
  return lo | 0;
}

/** Rotates (h:l) left by `n` bits, 0 < n < 32; returns the low half, sets `hi`. */
function rotl(h: number, l: number, n: number): number {
  hi = (h << n) | (l >>> (32 - n));
  return (l << n) | (h >>> (32 - n));
}

/** XXH64's round: rotl(acc + lane * P2, 31) * P1; returns the low half, sets `hi`. */
function round(accH: number, accL: number, laneH: number, laneL: number): number {
  let l = mul(laneH, laneL, P2H, P2L);
  l = add(accH, accL, hi, l);
  l = rotl(hi, l, 31);
  return mul(hi, l, P1H, P1L);
}

/** XXH64's merge of one accumulator into the hash: (h ^ round(0, acc)) * P1 + P4. */
function merge(hH: number, hL: number, accH: number, accL: number): number {
  const l = round(0, 0, accH, accL);
  const m = mul(hH ^ hi, hL ^ l, P1H, P1L);
  return add(hi, m, P4H, P4L);
}

/** Little-endian 32-bit read. */
function u32(d: Uint8Array, i: number): number {
  return d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
}

/**
 * Computes the low 32 bits of XXH64 with seed 0 over `data[start..end)`, the part a zstd frame's
 * content checksum stores.
 *
 * @param data The bytes.
 * @param start Where to start; 0 when omitted.
 * @param end Where to stop (exclusive); the end of `data` when omitted.
 * @returns The low 32 bits of the hash, unsigned.
 */
export function xxhash64Low32(data: Uint8Array, start = 0, end: number = data.length): number {
  xxhash64(data, start, end);
  return xxLow >>> 0;
}

/**
 * Computes XXH64 with seed 0 over `data[start..end)` as a 16-digit hexadecimal string, for
 * checks against published values.
 *
 * @param data The bytes.
 * @param start Where to start; 0 when omitted.
 * @param end Where to stop (exclusive); the end of `data` when omitted.
 * @returns The hash, e.g. "ef46db3751d8e999" for no bytes.
 */
export function xxhash64Hex(data: Uint8Array, start = 0, end: number = data.length): string {
  xxhash64(data, start, end);
  const h = (xxHigh >>> 0).toString(16).padStart(8, "0");
  return h + (xxLow >>> 0).toString(16).padStart(8, "0");
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** `data[start..start+n)` (n a multiple of 4) as int32 words. */
function wordsOf(data: Uint8Array, start: number, n: number): Int32Array {
  const at = data.byteOffset + start;
  if (littleEndian && (at & 3) === 0) return new Int32Array(data.buffer, at, n >> 2);
  const copy = data.slice(start, start + n);
  if (!littleEndian) {
    for (let i = 0; i < n; i += 4) {
      const a = copy[i], b = copy[i + 1];
      copy[i] = copy[i + 3];
      copy[i + 1] = copy[i + 2];
      copy[i + 2] = b;
      copy[i + 3] = a;
    }
  }
  return new Int32Array(copy.buffer, 0, n >> 2);
}

let xxHigh = 0;
let xxLow = 0;

/** Computes XXH64 (seed 0) of `data[start..end)` into `xxHigh`:`xxLow`. */
function xxhash64(data: Uint8Array, start: number, end: number): void {
  const length = end - start;
  let i = start;
  let hH: number, hL: number;
  if (length >= 32) {
    // Seed 0: v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1.
    let v1L = add(P1H, P1L, P2H, P2L), v1H = hi;
    let v2H = P2H | 0, v2L = P2L | 0;
    let v3H = 0, v3L = 0;
    let v4L = add(~P1H, ~P1L, 0, 1), v4H = hi;
    // The round is written out for each lane so the state stays in locals.
    let lL: number, lH: number, mL: number, mH: number, sum: number, rH: number, rL: number;
    // Stripes are read as int32 words: a view when the bytes are 4-byte aligned (and the
    // platform little-endian, as every JS engine's is in practice), else an aligned copy.
    const stripes = (length >>> 5) << 5;
    const words = wordsOf(data, start, stripes);
    for (let w = 0, limit = stripes >> 2; w < limit; w += 8) {
      // v1 = rotl(v1 + lane * P2, 31) * P1
      lL = words[w + 0];
      lH = words[w + 1];
      mL = Math.imul(lL, P2L);
      mH = (mulHigh32(lL, P2L) + Math.imul(lH, P2L) + Math.imul(lL, P2H)) | 0;
      sum = (v1L >>> 0) + (mL >>> 0);
      v1H = (v1H + mH + (sum > 0xffffffff ? 1 : 0)) | 0;
      v1L = sum | 0;
      rH = (v1H << 31) | (v1L >>> 1);
      rL = (v1L << 31) | (v1H >>> 1);
      v1L = Math.imul(rL, P1L);
      v1H = (mulHigh32(rL, P1L) + Math.imul(rH, P1L) + Math.imul(rL, P1H)) | 0;
      // v2 = rotl(v2 + lane * P2, 31) * P1
      lL = words[w + 2];
      lH = words[w + 3];
      mL = Math.imul(lL, P2L);
      mH = (mulHigh32(lL, P2L) + Math.imul(lH, P2L) + Math.imul(lL, P2H)) | 0;
      sum = (v2L >>> 0) + (mL >>> 0);
      v2H = (v2H + mH + (sum > 0xffffffff ? 1 : 0)) | 0;
      v2L = sum | 0;
      rH = (v2H << 31) | (v2L >>> 1);
      rL = (v2L << 31) | (v2H >>> 1);
      v2L = Math.imul(rL, P1L);
      v2H = (mulHigh32(rL, P1L) + Math.imul(rH, P1L) + Math.imul(rL, P1H)) | 0;
      // v3 = rotl(v3 + lane * P2, 31) * P1
      lL = words[w + 4];
      lH = words[w + 5];
      mL = Math.imul(lL, P2L);
      mH = (mulHigh32(lL, P2L) + Math.imul(lH, P2L) + Math.imul(lL, P2H)) | 0;
      sum = (v3L >>> 0) + (mL >>> 0);
      v3H = (v3H + mH + (sum > 0xffffffff ? 1 : 0)) | 0;
      v3L = sum | 0;
      rH = (v3H << 31) | (v3L >>> 1);
      rL = (v3L << 31) | (v3H >>> 1);
      v3L = Math.imul(rL, P1L);
      v3H = (mulHigh32(rL, P1L) + Math.imul(rH, P1L) + Math.imul(rL, P1H)) | 0;
      // v4 = rotl(v4 + lane * P2, 31) * P1
      lL = words[w + 6];
      lH = words[w + 7];
      mL = Math.imul(lL, P2L);
      mH = (mulHigh32(lL, P2L) + Math.imul(lH, P2L) + Math.imul(lL, P2H)) | 0;
      sum = (v4L >>> 0) + (mL >>> 0);
      v4H = (v4H + mH + (sum > 0xffffffff ? 1 : 0)) | 0;
      v4L = sum | 0;
      rH = (v4H << 31) | (v4L >>> 1);
      rL = (v4L << 31) | (v4H >>> 1);
      v4L = Math.imul(rL, P1L);
      v4H = (mulHigh32(rL, P1L) + Math.imul(rH, P1L) + Math.imul(rL, P1H)) | 0;
    }
    i += stripes;
    hL = rotl(v1H, v1L, 1);
    hH = hi;
    rL = rotl(v2H, v2L, 7);
    hL = add(hH, hL, hi, rL);
    hH = hi;
    rL = rotl(v3H, v3L, 12);
    hL = add(hH, hL, hi, rL);
    hH = hi;
    rL = rotl(v4H, v4L, 18);
    hL = add(hH, hL, hi, rL);
    hH = hi;
    hL = merge(hH, hL, v1H, v1L);
    hH = hi;
    hL = merge(hH, hL, v2H, v2L);
    hH = hi;
    hL = merge(hH, hL, v3H, v3L);
    hH = hi;
    hL = merge(hH, hL, v4H, v4L);
    hH = hi;
  } else {
    hH = P5H | 0;
    hL = P5L | 0;
  }
  hL = add(hH, hL, Math.floor(length / 0x100000000), length >>> 0);
  hH = hi;
  for (; i + 8 <= end; i += 8) {
    const kL = round(0, 0, u32(data, i + 4), u32(data, i));
    hL = rotl(hH ^ hi, hL ^ kL, 27);
    hL = mul(hi, hL, P1H, P1L);
    hL = add(hi, hL, P4H, P4L);
    hH = hi;
  }
  if (i + 4 <= end) {
    const kL = mul(0, u32(data, i), P1H, P1L);
    hL = rotl(hH ^ hi, hL ^ kL, 23);
    hL = mul(hi, hL, P2H, P2L);
    hL = add(hi, hL, P3H, P3L);
    hH = hi;
    i += 4;
  }
  for (; i < end; i++) {
    const kL = mul(0, data[i], P5H, P5L);
    hL = rotl(hH ^ hi, hL ^ kL, 11);
    hL = mul(hi, hL, P1H, P1L);
    hH = hi;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hL ^= hH >>> 1;
  hL = mul(hH, hL, P2H, P2L);
  hH = hi;
  hL ^= (hL >>> 29) | (hH << 3);
  hH ^= hH >>> 29;
  hL = mul(hH, hL, P3H, P3L);
  hH = hi;
  hL ^= hH;
  xxHigh = hH;
  xxLow = hL;
}
