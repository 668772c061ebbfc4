/**
 * The zstd codec of record batches (Kafka id 4). Decompression is the decoder written here
 * ({@link zstdDecompress}, synchronous, pure TypeScript, so it runs on Workers too where no
 * wasm may be compiled at run time). Compression has no encoder here: pass one, such as a wasm
 * build of the reference library, as `compress`; without it `compress` throws a
 * {@link CompressionError} saying so.
 *
 * @example
 * ```ts
 * import { zstdCodec } from "./zstd.ts";
 * const zstd = zstdCodec();
 * // A frame holding "hi" in one raw block.
 * const frame = new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x02, 0x11, 0x00, 0x00, 0x68, 0x69]);
 * zstd.decompress(frame, 1 << 20).length; // 2
 * ```
 *
 * @module
 */

import type { Codec } from "./codec.ts";
import { CompressionError } from "./errors.ts";
import { zstdDecompress } from "./zstd_decompress.ts";

/** Options of {@link zstdCodec}. */
export interface ZstdOptions {
  /**
   * A zstd encoder: takes the records, returns one or more standard zstd frames (or a promise
   * of them). None by default: this module has only a decoder.
   */
  compress?: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

/** The zstd codec: decompression synchronous and written here, compression plugged in. */
export interface ZstdCodec extends Codec {
  /**
   * Decompresses one or more zstd frames with the decoder written here.
   *
   * @param data The frames.
   * @param maxOutputBytes The most bytes the output may have.
   * @returns The decompressed bytes.
   * @throws {CompressionError} On truncated or malformed frames, a checksum mismatch, a
   *   dictionary, or output over the limit.
   */
  decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array;
}

function noEncoder(): never {
  throw new CompressionError(
    "zstd",
    "unsupported",
    "this module decodes zstd but has no encoder: pass one as zstdCodec({ compress }) (e.g. a " +
      "wasm build of the reference zstd library) and put that codec in the Codecs you encode with",
  );
}

/**
 * Makes the zstd codec.
 *
 * @param options The encoder to compress with, if any.
 * @returns The codec.
 */
export function zstdCodec(options: ZstdOptions = {}): ZstdCodec {
  return {
    name: "zstd",
    id: 4,
    compress: options.compress ?? noEncoder,
    decompress: zstdDecompress,
  };
}
