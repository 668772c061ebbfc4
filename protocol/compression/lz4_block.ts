/**
 * LZ4 blocks: sequences of a token (literal and match length nibbles), the literals, a
 * two-byte little-endian offset and extra match length bytes. The compressor matches 4-byte
 * sequences through a hash table over each block of at most 64 KiB, so every offset fits the
 * two bytes and blocks are independent, as Kafka's Java codec writes them.
 *
 * @module
 */

const HASH_BITS = 13;
const HASH_SHIFT = 32 - HASH_BITS;
/** The format's rule: the last five bytes of a block are literals. */
const LAST_LITERALS = 5;
/** The format's rule: no match starts within the last twelve bytes of a block. */
const MF_LIMIT = 12;

/**
 * The most bytes an LZ4 block of `n` input bytes can take.
 *
 * @param n The uncompressed length.
 * @returns The bound.
 */
export function lz4BlockBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/**
 * Decodes one LZ4 block `src[pos..end)` into `out` from `op`. Matches may reach back to
 * `out[0]`, so blocks linked to earlier ones decode too.
 *
 * @param src The compressed bytes.
 * @param pos Where the block starts.
 * @param end Where it ends.
 * @param out The output buffer.
 * @param op Where this block's output starts.
 * @param outEnd The most output the block may write, exclusive.
 * @returns The position after the block's output; -1 when it would pass `outEnd`; -2 when the
 *   block is cut short; -3 when a match reaches before the start of the output.
 */
export function lz4DecodeBlock(
  src: Uint8Array,
  pos: number,
  end: number,
  out: Uint8Array,
  op: number,
  outEnd: number,
): number {
  for (;;) {
    if (pos >= end) return -2;
    const token = src[pos++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (pos >= end) return -2;
        b = src[pos++];
        lit += b;
      } while (b === 255);
    }
    if (lit > end - pos) return -2;
    if (lit > outEnd - op) return -1;
    if (lit < 16) {
      for (let k = 0; k < lit; k++) out[op + k] = src[pos + k];
    } else {
      out.set(src.subarray(pos, pos + lit), op);
    }
    pos += lit;
    op += lit;
    // The last sequence has literals only.
    if (pos === end) return op;
    if (pos + 2 > end) return -2;
    const offset = src[pos] | (src[pos + 1] << 8);
    pos += 2;
    let len = (token & 15) + 4;
    if (len === 19) {
      let b: number;
      do {
        if (pos >= end) return -2;
        b = src[pos++];
        len += b;
      } while (b === 255);
    }
    if (offset === 0 || offset > op) return -3;
    if (len > outEnd - op) return -1;
    let from = op - offset;
    if (offset >= len && len > 32) {
      out.copyWithin(op, from, from + len);
      op += len;
    } else {
      // Overlapping matches repeat the last `offset` bytes; a byte loop does that by itself.
      const stop = op + len;
      while (op < stop) out[op++] = out[from++];
    }
  }
}

// The compressor's hash table, reused across calls (compression is synchronous).
const table = new Uint16Array(1 << HASH_BITS);

function hash(x: number): number {
  return Math.imul(x, 0x9e3779b1) >>> HASH_SHIFT;
}

function putLength(out: Uint8Array, op: number, n: number): number {
  while (n >= 255) {
    out[op++] = 255;
    n -= 255;
  }
  out[op++] = n;
  return op;
}

function putLiterals(
  out: Uint8Array,
  op: number,
  src: Uint8Array,
  from: number,
  to: number,
  matchNibble: number,
): number {
  const lit = to - from;
  if (lit >= 15) {
    out[op++] = 0xf0 | matchNibble;
    op = putLength(out, op, lit - 15);
  } else {
    out[op++] = (lit << 4) | matchNibble;
  }
  if (lit < 16) {
    for (let k = 0; k < lit; k++) out[op + k] = src[from + k];
  } else {
    out.set(src.subarray(from, to), op);
  }
  return op + lit;
}

/**
 * Compresses `src[start..end)` (at most 64 KiB) into one independent LZ4 block at `out[op..]`,
 * which must have {@link lz4BlockBound} bytes free.
 *
 * @param src The input.
 * @param start Where the input starts.
 * @param end Where it ends; `end - start` at most 65536.
 * @param out The output buffer.
 * @param op Where to write.
 * @returns The position after the block.
 */
export function lz4CompressBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
): number {
  let anchor = start;
  if (end - start > MF_LIMIT) {
    // Unaligned little-endian 32-bit reads: one load each where the engine compiles them so,
    // where four byte loads and shifts would take a dozen operations.
    const d = new DataView(src.buffer, src.byteOffset, src.byteLength);
    table.fill(0);
    const mfLimit = end - MF_LIMIT;
    const matchLimit = end - LAST_LITERALS;
    let ip = start + 1;
    // Steps grow the longer no match is found, so incompressible data passes quickly.
    let attempts = 1 << 6;
    while (ip <= mfLimit) {
      let seq = d.getInt32(ip, true);
      let h = hash(seq);
      let ref = start + table[h];
      table[h] = ip - start;
      if (ref >= ip || d.getInt32(ref, true) !== seq) {
        ip += attempts++ >>> 6;
        continue;
      }
      attempts = 1 << 6;
      // Take in equal bytes before the match that the literals would otherwise hold.
      while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
        ip--;
        ref--;
      }
      for (;;) {
        let a = ip + 4;
        let b = ref + 4;
        // Four bytes at a time, then the last few one by one.
        while (a + 4 <= matchLimit && d.getInt32(a, true) === d.getInt32(b, true)) {
          a += 4;
          b += 4;
        }
        while (a < matchLimit && src[a] === src[b]) {
          a++;
          b++;
        }
        const extra = a - ip - 4;
        op = putLiterals(out, op, src, anchor, ip, extra >= 15 ? 15 : extra);
        const offset = ip - ref;
        out[op++] = offset;
        out[op++] = offset >>> 8;
        if (extra >= 15) op = putLength(out, op, extra - 15);
        ip = a;
        anchor = ip;
        if (ip > mfLimit) break;
        table[hash(d.getInt32(ip - 2, true))] = ip - 2 - start;
        // A match right here continues without literals.
        seq = d.getInt32(ip, true);
        h = hash(seq);
        ref = start + table[h];
        table[h] = ip - start;
        if (ref >= ip || d.getInt32(ref, true) !== seq) break;
      }
      ip++;
    }
  }
  return putLiterals(out, op, src, anchor, end, 0);
}
