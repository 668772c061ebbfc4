/**
 * Huffman coding of zstd literals: reading a tree description (direct or FSE-compressed
 * weights) into a lookup table, and decoding one or four backward streams with it
 * (RFC 8878, section 4.2).
 *
 * @module
 */

import { backwardStart, bitsAt, malformed } from "./zstd_bitstream.ts";
import { buildTable, Distribution, FseTable, readDistribution } from "./zstd_fse.ts";

/** The longest Huffman code zstd allows. */
const MAX_BITS = 11;

/** A Huffman decoding table indexed by the next `maxBits` bits of a stream. */
export class HuffmanTable {
  /** The longest code's length; 0 while no table has been read in this frame. */
  maxBits = 0;
  /** Per index: the symbol | its code length << 8. */
  readonly entries: Uint16Array = new Uint16Array(1 << MAX_BITS);
}

const weights = new Uint8Array(256);
const weightDist = new Distribution();
const weightTable = new FseTable();
const rankStart = new Int32Array(MAX_BITS + 2);

/**
 * Reads a Huffman tree description into `table`.
 *
 * @param buf The bytes (extending three bytes past `end`).
 * @param start Where the description starts.
 * @param end Where the literals section ends; the description must fit before it.
 * @param table Receives the table.
 * @returns The number of bytes the description takes.
 * @throws {CompressionError} When the description is malformed.
 */
export function readHuffmanTree(
  buf: Uint8Array,
  start: number,
  end: number,
  table: HuffmanTable,
): number {
  const header = buf[start];
  let count: number;
  let size: number;
  if (header < 128) {
    size = header;
    if (start + 1 + size > end) throw malformed("the Huffman weights run past the literals");
    count = readFseWeights(buf, start + 1, start + 1 + size);
  } else {
    count = header - 127;
    size = (count + 1) >> 1;
    if (start + 1 + size > end) throw malformed("the Huffman weights run past the literals");
    for (let i = 0; i < count; i += 2) {
      const b = buf[start + 1 + (i >> 1)];
      weights[i] = b >> 4;
      weights[i + 1] = b & 15;
    }
  }
  buildHuffmanTable(count, table);
  return 1 + size;
}

/** Decodes FSE-compressed weights from `buf[start..end)`; returns how many. */
function readFseWeights(buf: Uint8Array, start: number, end: number): number {
  const used = readDistribution(buf, start, end, 12, 6, weightDist);
  buildTable(weightDist, weightTable);
  const streamStart = start + used;
  const floor = streamStart * 8;
  let pos = backwardStart(buf, streamStart, end, "the Huffman weights stream");
  const { log, symbol, nbBits, base } = weightTable;
  pos -= log;
  let s1 = bitsAt(buf, pos, log);
  pos -= log;
  let s2 = bitsAt(buf, pos, log);
  if (pos < floor) throw malformed("the Huffman weights stream is too short");
  // Two interleaved states; the stream ends when an update would read past its start, and
  // then the other state's symbol is the last one (RFC 8878, 4.2.1.2).
  let n = 0;
  for (;;) {
    if (n > 253) throw malformed("the Huffman weights stream has more than 255 weights");
    weights[n++] = symbol[s1];
    pos -= nbBits[s1];
    if (pos < floor) {
      weights[n++] = symbol[s2];
      break;
    }
    s1 = base[s1] + bitsAt(buf, pos, nbBits[s1]);
    weights[n++] = symbol[s2];
    pos -= nbBits[s2];
    if (pos < floor) {
      weights[n++] = symbol[s1];
      break;
    }
    s2 = base[s2] + bitsAt(buf, pos, nbBits[s2]);
  }
  return n;
}

/** Builds `table` from the first `count` entries of `weights` plus the implied last one. */
function buildHuffmanTable(count: number, table: HuffmanTable): void {
  if (count > 255) throw malformed("a Huffman tree lists more than 256 symbols");
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const w = weights[i];
    if (w > MAX_BITS) throw malformed(`a Huffman weight of ${w} is above ${MAX_BITS}`);
    if (w !== 0) sum += 1 << (w - 1);
  }
  if (sum === 0) throw malformed("a Huffman tree has fewer than two symbols");
  const maxBits = 32 - Math.clz32(sum);
  if (maxBits > MAX_BITS) throw malformed(`a Huffman tree is deeper than ${MAX_BITS} bits`);
  const rest = (1 << maxBits) - sum;
  if ((rest & (rest - 1)) !== 0) {
    throw malformed("a Huffman tree's weights do not complete to a power of two");
  }
  weights[count] = 32 - Math.clz32(rest);
  const symbols = count + 1;
  rankStart.fill(0);
  for (let s = 0; s < symbols; s++) rankStart[weights[s]]++;
  if (rankStart[1] === 0) throw malformed("a Huffman tree has no symbol of weight 1");
  // Codes are handed out from the lowest weight up: each symbol of weight w takes 2^(w-1)
  // consecutive entries.
  let next = 0;
  for (let w = 1; w <= maxBits; w++) {
    const n = rankStart[w];
    rankStart[w] = next;
    next += n << (w - 1);
  }
  const entries = table.entries;
  for (let s = 0; s < symbols; s++) {
    const w = weights[s];
    if (w === 0) continue;
    const from = rankStart[w];
    const to = from + (1 << (w - 1));
    entries.fill(s | ((maxBits + 1 - w) << 8), from, to);
    rankStart[w] = to;
  }
  table.maxBits = maxBits;
}

/**
 * Decodes `count` literals from one Huffman stream `buf[start..end)` into `out` at `at`.
 *
 * @param table The Huffman table.
 * @param buf The bytes (extending three bytes past `end`).
 * @param start The stream's first byte.
 * @param end The stream's end.
 * @param out Receives the literals.
 * @param at Where in `out` they go.
 * @param count How many literals the stream holds.
 * @throws {CompressionError} When the stream is not consumed exactly.
 */
export function decodeHuffman1(
  table: HuffmanTable,
  buf: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
  count: number,
): void {
  const entries = table.entries;
  const maxBits = table.maxBits;
  let pos = backwardStart(buf, start, end, "a Huffman literals stream");
  for (let o = at, last = at + count; o < last; o++) {
    const e = entries[bitsAt(buf, pos - maxBits, maxBits)];
    out[o] = e;
    pos -= e >> 8;
  }
  if (pos !== start * 8) throw malformed("a Huffman literals stream is not consumed exactly");
}

/**
 * Decodes `count` literals from four Huffman streams in `buf[start..end)` (a six-byte jump
 * table, then the streams) into `out` from 0, the four streams interleaved.
 *
 * @param table The Huffman table.
 * @param buf The bytes (extending three bytes past `end`).
 * @param start Where the jump table starts.
 * @param end Where the last stream ends.
 * @param out Receives the literals.
 * @param count How many literals the four streams hold together.
 * @throws {CompressionError} When the jump table or a stream is malformed.
 */
export function decodeHuffman4(
  table: HuffmanTable,
  buf: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  count: number,
): void {
  if (end - start < 10) throw malformed("four Huffman streams need at least 10 bytes");
  const size1 = buf[start] | (buf[start + 1] << 8);
  const size2 = buf[start + 2] | (buf[start + 3] << 8);
  const size3 = buf[start + 4] | (buf[start + 5] << 8);
  const b1 = start + 6, b2 = b1 + size1, b3 = b2 + size2, b4 = b3 + size3;
  if (b4 >= end) throw malformed("a Huffman jump table points past the literals");
  const quarter = (count + 3) >> 2;
  const lastCount = count - 3 * quarter;
  if (lastCount < 0) throw malformed(`${count} literals cannot be split into four streams`);
  const entries = table.entries;
  const maxBits = table.maxBits;
  let p1 = backwardStart(buf, b1, b2, "a Huffman literals stream");
  let p2 = backwardStart(buf, b2, b3, "a Huffman literals stream");
  let p3 = backwardStart(buf, b3, b4, "a Huffman literals stream");
  let p4 = backwardStart(buf, b4, end, "a Huffman literals stream");
  let o1 = 0, o2 = quarter, o3 = 2 * quarter, o4 = 3 * quarter;
  for (const stop = lastCount; o1 < stop; o1++, o2++, o3++, o4++) {
    const e1 = entries[bitsAt(buf, p1 - maxBits, maxBits)];
    const e2 = entries[bitsAt(buf, p2 - maxBits, maxBits)];
    const e3 = entries[bitsAt(buf, p3 - maxBits, maxBits)];
    const e4 = entries[bitsAt(buf, p4 - maxBits, maxBits)];
    out[o1] = e1;
    out[o2] = e2;
    out[o3] = e3;
    out[o4] = e4;
    p1 -= e1 >> 8;
    p2 -= e2 >> 8;
    p3 -= e3 >> 8;
    p4 -= e4 >> 8;
  }
  for (; o1 < quarter; o1++, o2++, o3++) {
    const e1 = entries[bitsAt(buf, p1 - maxBits, maxBits)];
    const e2 = entries[bitsAt(buf, p2 - maxBits, maxBits)];
    const e3 = entries[bitsAt(buf, p3 - maxBits, maxBits)];
    out[o1] = e1;
    out[o2] = e2;
    out[o3] = e3;
    p1 -= e1 >> 8;
    p2 -= e2 >> 8;
    p3 -= e3 >> 8;
  }
  if (p1 !== b1 * 8 || p2 !== b2 * 8 || p3 !== b3 * 8 || p4 !== b4 * 8) {
    throw malformed("a Huffman literals stream is not consumed exactly");
  }
}
