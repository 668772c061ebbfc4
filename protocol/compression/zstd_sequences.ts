/**
 * The sequences section of a zstd compressed block and its execution: the three FSE tables
 * (predefined, RLE, compressed or repeated), the backward bitstream of (literal length,
 * offset, match length) triples, repeat offsets, and the copies that rebuild the block's
 * content (RFC 8878, 3.1.1.3.2 and 3.1.1.4).
 *
 * Sequences are executed as they are decoded, straight into the output, so no sequence list
 * is ever materialized.
 *
 * @module
 */

import { backwardStart, bitsAt, malformed } from "./zstd_bitstream.ts";
import {
  buildTable,
  Distribution,
  FseTable,
  MAX_CODE,
  MAX_SEQ_LOG,
  PREDEFINED_LL,
  PREDEFINED_ML,
  PREDEFINED_OF,
  readDistribution,
  rleSeqTable,
  type SeqKind,
  SeqTable,
  toSeqTable,
} from "./zstd_fse.ts";
import type { Literals } from "./zstd_literals.ts";

/** What sequence decoding carries from block to block within a frame. */
export class SequenceState {
  /** The three repeat offsets, most recent first. */
  rep1 = 1;
  /** The second most recent offset. */
  rep2 = 4;
  /** The third most recent offset. */
  rep3 = 8;
  /** The literal length table of the last block with sequences, for repeat mode. */
  ll: SeqTable | null = null;
  /** The offset table of the last block with sequences. */
  of: SeqTable | null = null;
  /** The match length table of the last block with sequences. */
  ml: SeqTable | null = null;
  /** Storage for tables read from the data, one per kind. */
  readonly llOwn: SeqTable = new SeqTable();
  /** Storage for offset tables read from the data. */
  readonly ofOwn: SeqTable = new SeqTable();
  /** Storage for match length tables read from the data. */
  readonly mlOwn: SeqTable = new SeqTable();

  /** Starts a new frame: initial repeat offsets, no tables to repeat. */
  reset(): void {
    this.rep1 = 1;
    this.rep2 = 4;
    this.rep3 = 8;
    this.ll = this.of = this.ml = null;
  }
}

const dist = new Distribution();
const fse = new FseTable();
// Set by readTable: where the next table description (or the bitstream) starts.
let cursor = 0;

function readTable(
  kind: SeqKind,
  mode: number,
  blk: Uint8Array,
  size: number,
  previous: SeqTable | null,
  own: SeqTable,
  predefinedTable: SeqTable,
): SeqTable {
  if (mode === 0) return predefinedTable;
  if (mode === 1) {
    if (cursor >= size) throw malformed(`the RLE ${kind} code is missing`);
    rleSeqTable(kind, blk[cursor++], own);
    return own;
  }
  if (mode === 2) {
    cursor += readDistribution(blk, cursor, size, MAX_CODE[kind], MAX_SEQ_LOG[kind], dist);
    buildTable(dist, fse);
    toSeqTable(kind, fse, own);
    return own;
  }
  if (previous === null) throw malformed(`repeat mode for ${kind} with no earlier table`);
  return previous;
}

/**
 * Decodes the sequences section `blk[start..size)` and executes it, writing the block's
 * content to `out` from `op`.
 *
 * @param blk The block (extending eight bytes past `size`).
 * @param start Where the sequences section starts (after the literals).
 * @param size The block's size.
 * @param state The tables and repeat offsets carried between blocks; updated.
 * @param lit The block's literals.
 * @param out The output.
 * @param outView `out` as a DataView.
 * @param op Where the block's content starts in `out`.
 * @param frameStart Where the frame's content starts in `out`: no match reaches before it.
 * @param outEnd How far the block may write.
 * @returns The end of the block's content in `out`, or -1 when it would pass `outEnd`.
 * @throws {CompressionError} When the section is malformed.
 */
export function decodeSequences(
  blk: Uint8Array,
  start: number,
  size: number,
  state: SequenceState,
  lit: Literals,
  out: Uint8Array,
  outView: DataView,
  op: number,
  frameStart: number,
  outEnd: number,
): number {
  if (start >= size) throw malformed("a compressed block has no sequences section");
  const b0 = blk[start];
  let count: number;
  if (b0 < 128) {
    count = b0;
    cursor = start + 1;
  } else if (b0 < 255) {
    count = ((b0 - 128) << 8) + blk[start + 1];
    cursor = start + 2;
  } else {
    count = blk[start + 1] + (blk[start + 2] << 8) + 0x7f00;
    cursor = start + 3;
  }
  const litBuf = lit.buf, litView = lit.view;
  const outLength = out.length;
  let litPos = lit.start;
  const litEnd = lit.end;
  if (count === 0) {
    if (cursor !== size) throw malformed("a block without sequences has bytes after its count");
    return copyLiterals(litBuf, litPos, litEnd, out, op, outEnd);
  }
  if (cursor >= size) throw malformed("the sequences section ends before its modes");
  const modes = blk[cursor++];
  if ((modes & 3) !== 0) throw malformed("the sequence modes' reserved bits are set");
  const ll = readTable(
    "literal lengths",
    modes >> 6,
    blk,
    size,
    state.ll,
    state.llOwn,
    PREDEFINED_LL,
  );
  const of = readTable(
    "offsets",
    (modes >> 4) & 3,
    blk,
    size,
    state.of,
    state.ofOwn,
    PREDEFINED_OF,
  );
  const ml = readTable(
    "match lengths",
    (modes >> 2) & 3,
    blk,
    size,
    state.ml,
    state.mlOwn,
    PREDEFINED_ML,
  );
  state.ll = ll;
  state.of = of;
  state.ml = ml;

  const floor = cursor * 8;
  let pos = backwardStart(blk, cursor, size, "the sequences bitstream");
  const llInfo = ll.info, llValue = ll.value;
  const ofInfo = of.info, ofValue = of.value;
  const mlInfo = ml.info, mlValue = ml.value;
  pos -= ll.log;
  let llState = bitsAt(blk, pos, ll.log);
  pos -= of.log;
  let ofState = bitsAt(blk, pos, of.log);
  pos -= ml.log;
  let mlState = bitsAt(blk, pos, ml.log);
  let rep1 = state.rep1, rep2 = state.rep2, rep3 = state.rep3;

  for (let i = count; i > 0; i--) {
    const llI = llInfo[llState], ofI = ofInfo[ofState], mlI = mlInfo[mlState];
    // Fields are read offset, match length, literal length (RFC 8878, 3.1.1.3.2.1.2): the
    // three are one read when together they fit bitsAt, as they mostly do.
    const ofBits = (ofI >> 8) & 255, mlBits = (mlI >> 8) & 255, llBits = (llI >> 8) & 255;
    const extra = ofBits + mlBits + llBits;
    let offsetValue: number, matchLength: number, literalLength: number;
    if (extra <= 25) {
      pos -= extra;
      const v = bitsAt(blk, pos, extra);
      literalLength = llValue[llState] + (v & ((1 << llBits) - 1));
      matchLength = mlValue[mlState] + ((v >>> llBits) & ((1 << mlBits) - 1));
      offsetValue = ofValue[ofState] + (v >>> (llBits + mlBits));
    } else {
      if (ofBits <= 24) {
        pos -= ofBits;
        offsetValue = ofValue[ofState] + bitsAt(blk, pos, ofBits);
      } else {
        // More than bitsAt reads at once: the top 24 bits, then the rest.
        const lowBits = ofBits - 24;
        pos -= 24;
        const high = bitsAt(blk, pos, 24);
        pos -= lowBits;
        offsetValue = 2 ** ofBits + high * 2 ** lowBits + bitsAt(blk, pos, lowBits);
      }
      pos -= mlBits;
      matchLength = mlValue[mlState] + bitsAt(blk, pos, mlBits);
      pos -= llBits;
      literalLength = llValue[llState] + bitsAt(blk, pos, llBits);
    }

    let offset: number;
    if (offsetValue > 3) {
      offset = offsetValue - 3;
      rep3 = rep2;
      rep2 = rep1;
      rep1 = offset;
    } else {
      // With no literals the repeat codes shift by one (RFC 8878, 3.1.1.5).
      const which = literalLength === 0 ? offsetValue : offsetValue - 1;
      if (which === 0) {
        offset = rep1;
      } else if (which === 1) {
        offset = rep2;
        rep2 = rep1;
        rep1 = offset;
      } else if (which === 2) {
        offset = rep3;
        rep3 = rep2;
        rep2 = rep1;
        rep1 = offset;
      } else {
        offset = rep1 - 1;
        rep3 = rep2;
        rep2 = rep1;
        rep1 = offset;
      }
    }

    if (i > 1) {
      // States are updated literal length, match length, offset: one read of at most 26 bits,
      // split when it is the rare 26.
      const nl = llI & 255, nm = mlI & 255, no = ofI & 255;
      const total = nl + nm + no;
      if (total <= 25) {
        pos -= total;
        const v = bitsAt(blk, pos, total);
        ofState = (ofI >>> 16) + (v & ((1 << no) - 1));
        mlState = (mlI >>> 16) + ((v >>> no) & ((1 << nm) - 1));
        llState = (llI >>> 16) + (v >>> (no + nm));
      } else {
        pos -= nl;
        llState = (llI >>> 16) + bitsAt(blk, pos, nl);
        pos -= nm;
        mlState = (mlI >>> 16) + bitsAt(blk, pos, nm);
        pos -= no;
        ofState = (ofI >>> 16) + bitsAt(blk, pos, no);
      }
    }

    if (op + literalLength + matchLength > outEnd) return -1;
    if (literalLength > litEnd - litPos) {
      throw malformed("a sequence uses more literals than the block has");
    }
    // Short copies go 8 bytes at a time and may write up to 7 bytes past their end, which
    // the next copy overwrites; reads stay inside the padded literals.
    if (literalLength <= 32 && op + literalLength + 8 <= outLength) {
      for (let k = 0; k < literalLength; k += 8) {
        outView.setInt32(op + k, litView.getInt32(litPos + k, true), true);
        outView.setInt32(op + k + 4, litView.getInt32(litPos + k + 4, true), true);
      }
    } else if (literalLength <= 16) {
      for (let k = 0; k < literalLength; k++) out[op + k] = litBuf[litPos + k];
    } else {
      out.set(litBuf.subarray(litPos, litPos + literalLength), op);
    }
    op += literalLength;
    litPos += literalLength;

    if (offset > op - frameStart || offset <= 0) {
      throw malformed(
        `a match reaches ${offset} bytes back, before the start of the frame (frames that ` +
          "need a dictionary are not supported)",
      );
    }
    let from = op - offset;
    if (offset >= 8 && matchLength <= 64 && op + matchLength + 8 <= outLength) {
      // 8 bytes at a time: with the source at least 8 bytes back, every chunk read is final.
      for (let k = 0; k < matchLength; k += 8) {
        outView.setInt32(op + k, outView.getInt32(from + k, true), true);
        outView.setInt32(op + k + 4, outView.getInt32(from + k + 4, true), true);
      }
      op += matchLength;
    } else if (offset < matchLength || matchLength <= 32) {
      // Overlapping copies repeat what they have just written, so they go byte by byte.
      for (const stop = op + matchLength; op < stop;) out[op++] = out[from++];
    } else {
      out.copyWithin(op, from, from + matchLength);
      op += matchLength;
    }
  }
  if (pos !== floor) throw malformed("the sequences bitstream is not consumed exactly");
  state.rep1 = rep1;
  state.rep2 = rep2;
  state.rep3 = rep3;
  return copyLiterals(litBuf, litPos, litEnd, out, op, outEnd);
}

/** Copies the literals left after the last sequence; returns the new end, or -1 for no room. */
function copyLiterals(
  litBuf: Uint8Array,
  litPos: number,
  litEnd: number,
  out: Uint8Array,
  op: number,
  outEnd: number,
): number {
  const n = litEnd - litPos;
  if (op + n > outEnd) return -1;
  out.set(litBuf.subarray(litPos, litEnd), op);
  return op + n;
}
