/**
 * FSE (finite state entropy) tables of zstd: reading a table description (a normalized
 * distribution), spreading it into a decoding table, and the sequence tables that also carry
 * each code's baseline and extra-bit count (RFC 8878, sections 4.1 and 3.1.1.3.2.1).
 *
 * @module
 */

import { bitsAt, malformed } from "./zstd_bitstream.ts";

/** The largest accuracy log any zstd FSE table may have (literal and match lengths: 9). */
const MAX_LOG = 9;

/** A normalized distribution as read from a table description. */
export class Distribution {
  /** Each symbol's probability; -1 means "less than 1". */
  readonly norm: Int16Array = new Int16Array(256);
  /** The table's accuracy log. */
  log = 0;
  /** The number of symbols described (the last one is the highest present). */
  count = 0;
}

/** A decoding table: for each state, the symbol and how to reach the next state. */
export class FseTable {
  /** The accuracy log: the table has `1 << log` states. */
  log = 0;
  /** The symbol of each state. */
  readonly symbol: Uint8Array = new Uint8Array(1 << MAX_LOG);
  /** The number of bits to read for the next state. */
  readonly nbBits: Uint8Array = new Uint8Array(1 << MAX_LOG);
  /** What those bits are added to. */
  readonly base: Uint16Array = new Uint16Array(1 << MAX_LOG);
}

/**
 * Reads a table description (forward, little-endian bits).
 *
 * @param buf The bytes.
 * @param start Where the description starts.
 * @param end Where the data it may use ends; `buf` must extend three bytes past it.
 * @param maxSymbol The largest symbol this kind of table may have.
 * @param maxLog The largest accuracy log this kind of table may have.
 * @param into Receives the distribution.
 * @returns The number of bytes the description takes.
 * @throws {CompressionError} When the description is malformed or runs past `end`.
 */
export function readDistribution(
  buf: Uint8Array,
  start: number,
  end: number,
  maxSymbol: number,
  maxLog: number,
  into: Distribution,
): number {
  if (start >= end) throw malformed("an FSE table description is missing");
  const norm = into.norm;
  let pos = start * 8;
  const log = bitsAt(buf, pos, 4) + 5;
  pos += 4;
  if (log > maxLog) throw malformed(`an FSE table has accuracy log ${log}, above ${maxLog}`);
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  let symbol = 0;
  const limit = end * 8;
  while (remaining > 1 && symbol <= maxSymbol && pos <= limit) {
    // Values below `small` fit in one bit fewer (RFC 8878, 4.1.1).
    const small = 2 * threshold - 1 - remaining;
    const word = bitsAt(buf, pos, nbBits);
    let value: number;
    if ((word & (threshold - 1)) < small) {
      value = word & (threshold - 1);
      pos += nbBits - 1;
    } else {
      value = word;
      if (value >= threshold) value -= small;
      pos += nbBits;
    }
    const probability = value - 1;
    remaining -= probability < 0 ? 1 : probability;
    norm[symbol++] = probability;
    if (remaining <= 1) break;
    if (probability === 0) {
      let repeat: number;
      do {
        repeat = bitsAt(buf, pos, 2);
        pos += 2;
        if (symbol + repeat > maxSymbol + 1) {
          throw malformed("an FSE table description lists symbols past the largest one");
        }
        for (let i = 0; i < repeat; i++) norm[symbol++] = 0;
      } while (repeat === 3 && pos <= limit);
    }
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  const used = (pos + 7 >> 3) - start;
  if (pos > limit) throw malformed("an FSE table description runs past its section");
  if (remaining !== 1) {
    throw malformed("an FSE table description's probabilities do not add up to its size");
  }
  into.log = log;
  into.count = symbol;
  return used;
}

/**
 * Spreads a distribution into a decoding table (RFC 8878, 4.1.1).
 *
 * @param dist The distribution.
 * @param table Receives the table.
 * @throws {CompressionError} When the distribution cannot fill the table.
 */
export function buildTable(dist: Distribution, table: FseTable): void {
  const { norm, log, count } = dist;
  const size = 1 << log;
  const mask = size - 1;
  const symbols = table.symbol;
  const next = nextScratch;
  let high = size - 1;
  for (let s = 0; s < count; s++) {
    if (norm[s] === -1) {
      symbols[high--] = s;
      next[s] = 1;
    } else {
      next[s] = norm[s];
    }
  }
  const step = (size >> 1) + (size >> 3) + 3;
  let position = 0;
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < norm[s]; i++) {
      symbols[position] = s;
      do position = (position + step) & mask; while (position > high);
    }
  }
  if (position !== 0) throw malformed("an FSE table's distribution does not fill the table");
  const nbBits = table.nbBits, base = table.base;
  for (let state = 0; state < size; state++) {
    const x = next[symbols[state]]++;
    const bits = log - (31 - Math.clz32(x));
    nbBits[state] = bits;
    base[state] = (x << bits) - size;
  }
  table.log = log;
}

const nextScratch = new Uint16Array(256);

/**
 * A sequence decoding table: per state, the next-state rule plus the code's baseline and
 * extra bits, so decoding a field needs no second lookup.
 */
export class SeqTable {
  /** The accuracy log. */
  log = 0;
  /** Per state: state bits | extra bits << 8 | next-state base << 16. */
  readonly info: Int32Array = new Int32Array(1 << MAX_LOG);
  /** Per state: the code's baseline (for offsets, 2^code; code 31 is handled by its reader). */
  readonly value: Int32Array = new Int32Array(1 << MAX_LOG);
}

/** The three kinds of sequence fields. */
export type SeqKind = "literal lengths" | "offsets" | "match lengths";

// Baselines and extra bits of literal length codes 0-35 and match length codes 0-52
// (RFC 8878, 3.1.1.3.2.1.1).
// deno-fmt-ignore
const LL_BASE = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64,
  128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];
// deno-fmt-ignore
const LL_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11,
  12, 13, 14, 15, 16,
];
// deno-fmt-ignore
const ML_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
  29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051,
  4099, 8195, 16387, 32771, 65539,
];
// deno-fmt-ignore
const ML_BITS = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];

/** The largest code of each kind: literal lengths 35, offsets 31, match lengths 52. */
export const MAX_CODE: Readonly<Record<SeqKind, number>> = {
  "literal lengths": 35,
  "offsets": 31,
  "match lengths": 52,
};

/** The largest accuracy log of each kind's FSE table. */
export const MAX_SEQ_LOG: Readonly<Record<SeqKind, number>> = {
  "literal lengths": 9,
  "offsets": 8,
  "match lengths": 9,
};

function codeValue(kind: SeqKind, code: number): number {
  if (kind === "literal lengths") return LL_BASE[code];
  if (kind === "match lengths") return ML_BASE[code];
  return 1 << code;
}

function codeBits(kind: SeqKind, code: number): number {
  if (kind === "literal lengths") return LL_BITS[code];
  if (kind === "match lengths") return ML_BITS[code];
  return code;
}

/**
 * Turns a decoding table of codes into a sequence table.
 *
 * @param kind Which field the codes are of.
 * @param table The decoding table.
 * @param into Receives the sequence table.
 * @throws {CompressionError} When a state's code is above the kind's largest.
 */
export function toSeqTable(kind: SeqKind, table: FseTable, into: SeqTable): void {
  const size = 1 << table.log;
  const max = MAX_CODE[kind];
  for (let state = 0; state < size; state++) {
    const code = table.symbol[state];
    if (code > max) throw malformed(`${kind} code ${code} is above ${max}`);
    into.info[state] = table.nbBits[state] | (codeBits(kind, code) << 8) |
      (table.base[state] << 16);
    into.value[state] = codeValue(kind, code);
  }
  into.log = table.log;
}

/**
 * Makes the one-state table of RLE mode: every sequence uses `code`.
 *
 * @param kind Which field the code is of.
 * @param code The code.
 * @param into Receives the table.
 * @throws {CompressionError} When the code is above the kind's largest.
 */
export function rleSeqTable(kind: SeqKind, code: number, into: SeqTable): void {
  const max = MAX_CODE[kind];
  if (code > max) throw malformed(`${kind} code ${code} is above ${max}`);
  into.info[0] = codeBits(kind, code) << 8;
  into.value[0] = codeValue(kind, code);
  into.log = 0;
}

function predefined(kind: SeqKind, log: number, probabilities: number[]): SeqTable {
  const dist = new Distribution();
  dist.norm.set(probabilities);
  dist.log = log;
  dist.count = probabilities.length;
  const table = new FseTable();
  buildTable(dist, table);
  const seq = new SeqTable();
  toSeqTable(kind, table, seq);
  return seq;
}

// deno-fmt-ignore
/** The predefined literal length table (RFC 8878, 3.1.1.3.2.2.1). */
export const PREDEFINED_LL: SeqTable = predefined("literal lengths", 6, [
  4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
  -1, -1, -1, -1,
]);

// deno-fmt-ignore
/** The predefined match length table (RFC 8878, 3.1.1.3.2.2.2). */
export const PREDEFINED_ML: SeqTable = predefined("match lengths", 6, [
  1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
]);

// deno-fmt-ignore
/** The predefined offset table (RFC 8878, 3.1.1.3.2.2.3). */
export const PREDEFINED_OF: SeqTable = predefined("offsets", 5, [
  1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1,
]);
