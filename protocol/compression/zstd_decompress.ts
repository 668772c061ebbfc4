/**
 * A zstd decoder written from the format specification (RFC 8878): one or more concatenated
 * frames, skippable frames skipped, raw, RLE and compressed blocks, content checksums
 * verified. Frames that need a dictionary are refused with a {@link CompressionError}.
 *
 * The data is walked once by block headers before decoding, which gives an upper bound on
 * the output (exact when every frame declares its content size, within one block per frame
 * otherwise), so the output is allocated once, never beyond `maxOutputBytes`, and a
 * decompression bomb is refused before anything of its size exists.
 *
 * @example
 * ```ts
 * import { zstdDecompress } from "./zstd_decompress.ts";
 * // A frame holding "hi" in one raw block.
 * const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x02, 0x11, 0x00, 0x00, 0x68, 0x69]);
 * new TextDecoder().decode(zstdDecompress(frame, 1 << 20)); // "hi"
 * ```
 *
 * @module
 */

import { ConfigError } from "../../transport/errors.ts";
import { CompressionError } from "./errors.ts";
import { xxhash64Low32 } from "./xxhash64.ts";
import { malformed } from "./zstd_bitstream.ts";
import { decodeLiterals, Literals } from "./zstd_literals.ts";
import { decodeSequences, SequenceState } from "./zstd_sequences.ts";

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50; // the low four bits are free
const MAX_BLOCK = 128 * 1024;
// The largest output allowed whatever the limit: Kafka sizes are int32, and typed arrays of
// more than 2^31 bytes are not allocatable on every runtime.
const MAX_OUTPUT = 2 ** 31 - 1;
// Bytes the bit readers may read past a block's end.
const PADDING = 8;

/** A frame header as parsed. */
class FrameHeader {
  /** The header's size, from the magic number to the first block. */
  size = 0;
  /** The declared content size, or -1 when absent. */
  contentSize = -1;
  /** The largest block content the frame may have. */
  blockMax = 0;
  /** Whether a 4-byte content checksum follows the last block. */
  checksum = false;
}

/** What the decoder keeps between blocks and calls: reused, as the decoder is synchronous. */
class Decoder {
  readonly header = new FrameHeader();
  readonly literals = new Literals();
  readonly sequences = new SequenceState();
  readonly padded = new Uint8Array(MAX_BLOCK + PADDING);
  /** Where frames of unknown size that fit one block are decoded before an exact copy. */
  readonly small = new Uint8Array(MAX_BLOCK);
  /** Set by the scan: whether every frame declares its content size. */
  exact = false;
}

let decoder: Decoder | null = null;

function truncated(detail: string): CompressionError {
  return new CompressionError("zstd", "truncated", detail);
}

function u32(src: Uint8Array, i: number): number {
  return (src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)) >>> 0;
}

/** Parses the frame header after the magic number at `pos - 4`; throws on what it refuses. */
function readHeader(src: Uint8Array, pos: number, into: FrameHeader): void {
  if (pos >= src.length) throw truncated("the data ends inside a frame header");
  const descriptor = src[pos];
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const didFlag = descriptor & 3;
  if (descriptor & 8) throw malformed("a frame header's reserved bit is set");
  const didSize = didFlag === 3 ? 4 : didFlag;
  const fcsSize = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  const size = 4 + 1 + (1 - singleSegment) + didSize + fcsSize;
  if (pos - 4 + size > src.length) throw truncated("the data ends inside a frame header");
  let p = pos + 1;
  let windowSize = 0;
  if (singleSegment === 0) {
    const w = src[p++];
    const windowLog = 10 + (w >> 3);
    windowSize = 2 ** windowLog + 2 ** (windowLog - 3) * (w & 7);
  }
  let dictionary = 0;
  for (let i = 0; i < didSize; i++) dictionary += src[p++] * 2 ** (8 * i);
  if (dictionary !== 0) {
    throw new CompressionError(
      "zstd",
      "unsupported",
      `the frame needs dictionary ${dictionary}, and dictionaries are not supported`,
    );
  }
  let contentSize = -1;
  if (fcsSize === 1) contentSize = src[p];
  else if (fcsSize === 2) contentSize = (src[p] | (src[p + 1] << 8)) + 256;
  else if (fcsSize === 4) contentSize = u32(src, p);
  else if (fcsSize === 8) contentSize = u32(src, p) + u32(src, p + 4) * 2 ** 32;
  if (singleSegment === 1) windowSize = contentSize;
  into.size = size;
  into.contentSize = contentSize;
  into.blockMax = Math.min(windowSize, MAX_BLOCK);
  into.checksum = (descriptor & 4) !== 0;
}

/**
 * Walks every frame by its block headers, checking the structure, and returns an upper bound
 * of the decompressed size (exact for frames with a content size).
 */
function scan(src: Uint8Array, d: Decoder): number {
  if (src.length === 0) throw truncated("the data is empty, not a zstd frame");
  const header = d.header;
  d.exact = true;
  let pos = 0;
  let bound = 0;
  while (pos < src.length) {
    if (pos + 4 > src.length) throw truncated("the data ends inside a frame's magic number");
    const magic = u32(src, pos);
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      if (pos + 8 > src.length) throw truncated("the data ends inside a skippable frame header");
      pos += 8 + u32(src, pos + 4);
      if (pos > src.length) throw truncated("the data ends inside a skippable frame");
      continue;
    }
    if (magic !== MAGIC) {
      throw malformed(
        `bad magic number 0x${
          magic.toString(16).padStart(8, "0")
        } at byte ${pos}, not a zstd frame`,
      );
    }
    readHeader(src, pos + 4, header);
    pos += header.size;
    let frameBound = 0;
    for (;;) {
      if (pos + 3 > src.length) throw truncated("the data ends inside a block header");
      const bh = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16);
      const type = (bh >> 1) & 3;
      const size = bh >>> 3;
      pos += 3;
      if (type === 3) throw malformed("a block has the reserved block type");
      if (size > header.blockMax) {
        throw malformed(`a block of ${size} bytes is larger than the frame's ${header.blockMax}`);
      }
      pos += type === 1 ? 1 : size;
      if (pos > src.length) throw truncated("the data ends inside a block");
      frameBound += type === 2 ? header.blockMax : size;
      if (bh & 1) break;
    }
    if (header.checksum) {
      pos += 4;
      if (pos > src.length) throw truncated("the data ends inside a frame's content checksum");
    }
    if (header.contentSize >= 0) {
      if (header.contentSize > frameBound) {
        throw malformed(
          `a frame declares ${header.contentSize} bytes but its blocks hold at most ${frameBound}`,
        );
      }
      frameBound = header.contentSize;
    } else {
      d.exact = false;
    }
    bound += frameBound;
  }
  return bound;
}

function overDeclared(header: FrameHeader): CompressionError {
  return malformed(`a frame decompresses to more than the ${header.contentSize} bytes it declares`);
}

function sizeLimit(limit: number, what: string): CompressionError {
  return new CompressionError(
    "zstd",
    "size-limit",
    `${what} more than the limit of ${limit} bytes`,
  );
}

/**
 * Decompresses one or more concatenated zstd frames (skippable frames are skipped).
 *
 * @param src The compressed bytes.
 * @param maxOutputBytes The most bytes the output may have; the decoder never allocates more.
 * @returns The decompressed bytes (a view of a buffer that may be larger by less than a block).
 * @throws {CompressionError} `truncated` when the data ends early, `malformed` for a bad magic
 *   number, corrupt tables or streams, or a back-reference before the frame, `checksum` when
 *   a content checksum does not match, `size-limit` when the output would pass
 *   `maxOutputBytes`, `unsupported` for a frame that needs a dictionary.
 */
export function zstdDecompress(src: Uint8Array, maxOutputBytes: number): Uint8Array {
  if (!(maxOutputBytes >= 0)) {
    throw new ConfigError(`maxOutputBytes must be a number of bytes, not ${maxOutputBytes}`);
  }
  const d = decoder ??= new Decoder();
  const bound = scan(src, d);
  const limit = Math.min(Math.floor(maxOutputBytes), MAX_OUTPUT);
  if (bound > limit && d.exact) {
    throw sizeLimit(limit, `the frames declare ${bound} bytes,`);
  }
  const capacity = Math.min(bound, limit);
  // A frame of unknown size bounded by a single block (128 KiB) usually holds much less: it
  // is decoded into a reused buffer and copied out at its size, which costs less than
  // allocating (and zeroing) the whole bound every call.
  const small = !d.exact && capacity <= MAX_BLOCK;
  let out: Uint8Array;
  try {
    out = small ? d.small.subarray(0, capacity) : new Uint8Array(capacity);
  } catch (cause) {
    throw new CompressionError("zstd", "size-limit", `cannot allocate ${capacity} bytes`, {
      cause,
    });
  }
  try {
    const end = decodeFrames(src, d, out, limit);
    if (small) return out.slice(0, end);
    return end === out.length ? out : out.subarray(0, end);
  } finally {
    // Raw literals are views of `src`: let it go.
    d.literals.buf = d.literals.scratch;
  }
}

/** Decodes the frames scanned before into `out`; returns the output's length. */
function decodeFrames(src: Uint8Array, d: Decoder, out: Uint8Array, limit: number): number {
  const header = d.header;
  const capacity = out.length;
  const outView = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let op = 0;
  let pos = 0;
  while (pos < src.length) {
    const magic = u32(src, pos);
    if (magic !== MAGIC) {
      pos += 8 + u32(src, pos + 4);
      continue;
    }
    readHeader(src, pos + 4, header);
    pos += header.size;
    const frameStart = op;
    const { blockMax } = header;
    const frameEnd = header.contentSize >= 0 ? frameStart + header.contentSize : Infinity;
    d.sequences.reset();
    d.literals.huffman.maxBits = 0;
    for (;;) {
      const bh = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16);
      const type = (bh >> 1) & 3;
      const size = bh >>> 3;
      pos += 3;
      if (type === 0) {
        if (op + size > frameEnd) throw overDeclared(header);
        if (op + size > capacity) throw sizeLimit(limit, "the data decompresses to");
        out.set(src.subarray(pos, pos + size), op);
        op += size;
        pos += size;
      } else if (type === 1) {
        if (op + size > frameEnd) throw overDeclared(header);
        if (op + size > capacity) throw sizeLimit(limit, "the data decompresses to");
        out.fill(src[pos], op, op + size);
        op += size;
        pos += 1;
      } else {
        let blk: Uint8Array;
        if (pos + size + PADDING <= src.length) {
          blk = src.subarray(pos, pos + size + PADDING);
        } else {
          // The last block: copied so the bit readers' look-ahead stays in bounds.
          d.padded.set(src.subarray(pos, pos + size));
          d.padded.fill(0, size, size + PADDING);
          blk = d.padded;
        }
        const blockEnd = Math.min(capacity, op + blockMax, frameEnd);
        const literalsSize = decodeLiterals(blk, size, d.literals);
        const end = decodeSequences(
          blk,
          literalsSize,
          size,
          d.sequences,
          d.literals,
          out,
          outView,
          op,
          frameStart,
          blockEnd,
        );
        if (end < 0) {
          // Whichever end was nearest was passed. The capacity is only nearer than a block's
          // maximum when the limit made it so.
          if (blockEnd === frameEnd) throw overDeclared(header);
          if (blockEnd === op + blockMax) {
            throw malformed(`a block decompresses to more than the frame's ${blockMax} bytes`);
          }
          throw sizeLimit(limit, "the data decompresses to");
        }
        op = end;
        pos += size;
      }
      if (bh & 1) break;
    }
    if (header.contentSize >= 0 && op - frameStart !== header.contentSize) {
      throw malformed(
        `a frame declares ${header.contentSize} bytes but decompresses to ${op - frameStart}`,
      );
    }
    if (header.checksum) {
      const expected = u32(src, pos);
      const actual = xxhash64Low32(out, frameStart, op);
      if (expected !== actual) {
        throw new CompressionError(
          "zstd",
          "checksum",
          `content checksum 0x${actual.toString(16)} does not match the frame's 0x${
            expected.toString(16)
          }`,
        );
      }
      pos += 4;
    }
  }
  return op;
}
