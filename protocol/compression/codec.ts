/**
 * The compression codec interface of record batches, the error every codec throws on bad
 * input, and {@link Codecs}, the immutable set of codecs a decode or encode call uses.
 *
 * A codec is identified by the Kafka id in the low three bits of a batch's attributes (1 gzip,
 * 2 snappy, 3 lz4, 4 zstd). Its `compress` and `decompress` may return a value or a promise:
 * snappy, lz4 and zstd here are synchronous, gzip (the platform's `DecompressionStream`) is
 * not. There is no process-wide registry: each call takes the {@link Codecs} to use, so two
 * libraries in one process can each plug their own (say, Node's zlib) without affecting the
 * other.
 *
 * @example
 * ```ts
 * import { Codecs, type Codec } from "./codec.ts";
 * const identity: Codec = {
 *   name: "snappy",
 *   id: 2,
 *   compress: (data) => data,
 *   decompress: (data) => data,
 * };
 * const codecs = new Codecs([identity]);
 * codecs.byId(2)?.name; // "snappy"
 * ```
 *
 * @module
 */

import { ConfigError } from "../../transport/errors.ts";

export { CompressionError, type CompressionFailure } from "./errors.ts";

/** The name of a compression codec, as in the topic config `compression.type`. */
export type CodecName = "gzip" | "snappy" | "lz4" | "zstd";

/** The Kafka id of each codec: the value of the attributes' low three bits. */
export const CODEC_IDS: Readonly<Record<CodecName, number>> = Object.freeze({
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
});

/** The codec names by Kafka id (index 0, no compression, has none). */
const NAMES_BY_ID: readonly (CodecName | undefined)[] = [
  undefined,
  "gzip",
  "snappy",
  "lz4",
  "zstd",
];

/**
 * The name of a codec id, for messages.
 *
 * @param id The attributes' low three bits.
 * @returns E.g. "lz4", "none" for 0, or "unknown(7)".
 */
export function codecNameOf(id: number): string {
  if (id === 0) return "none";
  return NAMES_BY_ID[id] ?? `unknown(${id})`;
}

/**
 * A compression codec for record batches. Implement it to plug in another implementation
 * (a native zlib, a wasm zstd encoder) and pass it in a {@link Codecs}.
 */
export interface Codec {
  /** The codec's name. */
  readonly name: CodecName;
  /** Its Kafka id, the attributes' low three bits: 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  readonly id: number;
  /**
   * Compresses the records section of a batch into the format Kafka expects for this codec
   * (gzip member, xerial or raw snappy, LZ4 frame, zstd frame).
   *
   * @param data The uncompressed records.
   * @returns The compressed bytes, or a promise of them.
   */
  compress(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * Decompresses the records section of a batch, refusing to produce more than
   * `maxOutputBytes` bytes (a decompression bomb stops there, before it is allocated).
   *
   * @param data The compressed bytes.
   * @param maxOutputBytes The most bytes the output may have.
   * @returns The decompressed bytes, or a promise of them.
   * @throws {CompressionError} On malformed, truncated or oversized data; any other error is
   *   wrapped into one by the record batch decoder.
   */
  decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array | Promise<Uint8Array>;
}

/**
 * An immutable set of codecs, one per Kafka id, passed to the record batch decoder and
 * encoder. Build one per connection or per call; {@link Codecs.with} returns a copy with one
 * codec replaced.
 */
export class Codecs {
  readonly #byId: readonly (Codec | undefined)[];

  /**
   * Builds the set.
   *
   * @param codecs The codecs; a later one replaces an earlier one with the same id.
   * @throws {ConfigError} When a codec's id is not 1–4 or does not match its name.
   */
  constructor(codecs: Iterable<Codec>) {
    const byId: (Codec | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
    for (const codec of codecs) {
      const expected = CODEC_IDS[codec.name];
      if (expected === undefined || codec.id !== expected) {
        throw new ConfigError(
          `Codec ${JSON.stringify(codec.name)} has id ${codec.id}: Kafka's ids are gzip 1, ` +
            "snappy 2, lz4 3, zstd 4, and a codec's name must match its id",
        );
      }
      byId[codec.id] = codec;
    }
    this.#byId = Object.freeze(byId);
  }

  /**
   * The codec for a Kafka id.
   *
   * @param id The attributes' low three bits.
   * @returns The codec, or `undefined` when the set has none for it.
   */
  byId(id: number): Codec | undefined {
    return this.#byId[id];
  }

  /**
   * The codec of a name.
   *
   * @param name The codec's name.
   * @returns The codec, or `undefined` when the set has none of that name.
   */
  byName(name: CodecName): Codec | undefined {
    return this.#byId[CODEC_IDS[name]];
  }

  /**
   * A copy of this set with `codec` added or replacing the one with its id.
   *
   * @param codec The codec to plug in.
   * @returns The new set; this one is unchanged.
   */
  with(codec: Codec): Codecs {
    return new Codecs([...this.#byId.filter((c): c is Codec => c !== undefined), codec]);
  }

  /**
   * The codecs in the set, by id.
   *
   * @returns A new array.
   */
  list(): Codec[] {
    return this.#byId.filter((c): c is Codec => c !== undefined);
  }
}
