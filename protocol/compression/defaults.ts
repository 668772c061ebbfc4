/**
 * The codecs the record batch decoder and encoder use unless given others: every codec
 * written here, in one immutable {@link Codecs} (sharing it is safe: nobody can change it).
 *
 * @module
 */

import { Codecs } from "./codec.ts";
import { gzipCodec } from "./gzip.ts";
import { lz4Codec } from "./lz4.ts";
import { snappyCodec } from "./snappy.ts";
import { zstdCodec } from "./zstd.ts";

/**
 * gzip (asynchronous, the platform's streams), snappy (xerial framing when compressing), lz4
 * and zstd (decompression only; plug an encoder in with `zstdCodec({ compress })`), all
 * without dependencies. Extend it with {@link Codecs.with}.
 */
export const defaultCodecs: Codecs = new Codecs([
  gzipCodec(),
  snappyCodec(),
  lz4Codec(),
  zstdCodec(),
]);
