/**
 * The literals section of a zstd compressed block: raw, RLE, Huffman-compressed with a new
 * tree, or treeless (the previous block's tree), in one or four streams (RFC 8878, 3.1.1.3.1).
 *
 * @module
 */

import { malformed } from "./zstd_bitstream.ts";
import { decodeHuffman1, decodeHuffman4, HuffmanTable, readHuffmanTree } from "./zstd_huffman.ts";

/** The most literals one block may hold: the largest block size. */
export const MAX_LITERALS = 128 * 1024;

/** Where a block's decoded literals are, and the Huffman table carried between blocks. */
export class Literals {
  /** The buffer holding them: the block itself for raw literals, else `scratch`. */
  buf: Uint8Array;
  /** The first literal's index in `buf`. */
  start = 0;
  /** The end of the literals in `buf`. */
  end = 0;
  /** `buf` as a DataView, for the sequence executor's 8-byte copies. */
  view: DataView;
  /**
   * The buffer RLE and Huffman literals are decoded into; 8 bytes longer than the most literals,
   * as `buf` always extends 8 bytes past `end` (blocks are padded too).
   */
  readonly scratch: Uint8Array = new Uint8Array(MAX_LITERALS + 8);
  /** `scratch` as a DataView. */
  readonly scratchView: DataView = new DataView(this.scratch.buffer);
  /** The last Huffman table of the frame, for treeless literals. */
  readonly huffman: HuffmanTable = new HuffmanTable();

  constructor() {
    this.buf = this.scratch;
    this.view = this.scratchView;
  }

  /** Points at the literals decoded into `scratch`. */
  useScratch(count: number): void {
    this.buf = this.scratch;
    this.view = this.scratchView;
    this.start = 0;
    this.end = count;
  }
}

/**
 * Decodes the literals section at the start of a block.
 *
 * @param blk The block (extending eight bytes past `size`).
 * @param size The block's size.
 * @param into Receives where the literals are; its Huffman table is used and updated.
 * @returns The size of the literals section.
 * @throws {CompressionError} When the section is malformed.
 */
export function decodeLiterals(blk: Uint8Array, size: number, into: Literals): number {
  const b0 = blk[0];
  const type = b0 & 3;
  const format = (b0 >> 2) & 3;
  if (type < 2) {
    let header: number, count: number;
    if ((format & 1) === 0) {
      header = 1;
      count = b0 >> 3;
    } else if (format === 1) {
      header = 2;
      count = (b0 >> 4) | (blk[1] << 4);
    } else {
      header = 3;
      count = (b0 >> 4) | (blk[1] << 4) | (blk[2] << 12);
    }
    if (count > MAX_LITERALS) throw malformed(`a block has ${count} literals, above 128 KiB`);
    if (type === 0) {
      if (header + count > size) throw malformed("the raw literals run past their block");
      into.buf = blk;
      into.view = new DataView(blk.buffer, blk.byteOffset, blk.byteLength);
      into.start = header;
      into.end = header + count;
      return header + count;
    }
    if (header + 1 > size) throw malformed("the RLE literals run past their block");
    into.scratch.fill(blk[header], 0, count);
    into.useScratch(count);
    return header + 1;
  }
  let header: number, count: number, compressed: number;
  if (format < 2) {
    header = 3;
    count = (b0 >> 4) | ((blk[1] & 63) << 4);
    compressed = (blk[1] >> 6) | (blk[2] << 2);
  } else if (format === 2) {
    header = 4;
    count = (b0 >> 4) | (blk[1] << 4) | ((blk[2] & 3) << 12);
    compressed = (blk[2] >> 2) | (blk[3] << 6);
  } else {
    header = 5;
    count = (b0 >> 4) | (blk[1] << 4) | ((blk[2] & 63) << 12);
    compressed = (blk[2] >> 6) | (blk[3] << 2) | (blk[4] << 10);
  }
  const end = header + compressed;
  if (end > size) throw malformed("the compressed literals run past their block");
  if (count > MAX_LITERALS) throw malformed(`a block has ${count} literals, above 128 KiB`);
  let streams = header;
  if (type === 2) {
    streams += readHuffmanTree(blk, header, end, into.huffman);
  } else if (into.huffman.maxBits === 0) {
    throw malformed("treeless literals come before any Huffman tree in the frame");
  }
  if (format === 0) {
    decodeHuffman1(into.huffman, blk, streams, end, into.scratch, 0, count);
  } else {
    decodeHuffman4(into.huffman, blk, streams, end, into.scratch, count);
  }
  into.useScratch(count);
  return end;
}
