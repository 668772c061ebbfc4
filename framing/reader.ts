/**
 * Bounds-checked decoder for the Kafka protocol primitive types. Every read that would run
 * past the end, or meets an impossible length, throws a {@link DecodeError} naming the field.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";

// ignoreBOM keeps a leading U+FEFF in the text: it is data, not a byte-order mark, in Kafka.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads Kafka primitive values from a byte array, front to back. Each method takes the name of
 * the field being read so that a failure says which one.
 *
 * @example
 * ```ts
 * import { Reader } from "./reader.ts";
 * const r = new Reader(new Uint8Array([0, 7]));
 * r.int16("error_code"); // 7
 * ```
 */
export class Reader {
  #buf: Uint8Array;
  /**
   * Made on the first 64-bit read only: the integer reads below work on the bytes, so a reader
   * that decodes a small reply allocates nothing besides itself.
   */
  #view: DataView | null = null;
  #end: number;
  #pos: number;

  /**
   * Creates a reader over `bytes` (or the part of it from `offset` to `end`).
   *
   * @param bytes The bytes to read. They are not copied.
   * @param offset Where to start reading.
   * @param end Where to stop; the end of `bytes` when omitted.
   * @throws {DecodeError} When `offset..end` is not a range within `bytes`.
   */
  constructor(bytes: Uint8Array, offset = 0, end: number = bytes.length) {
    if (!(offset >= 0 && offset <= end && end <= bytes.length)) {
      throw new DecodeError(
        "reader",
        offset,
        `range ${offset}..${end} is not within the ${bytes.length} bytes given`,
      );
    }
    this.#buf = bytes;
    this.#pos = offset;
    this.#end = end;
  }

  /**
   * Points the reader at other bytes, as a new one would be: a connection keeps one reader and
   * resets it onto each reply, so a reply costs no reader of its own. Views that reads handed
   * out stay valid; the reader itself must not be kept past the decode it was given to.
   *
   * @param bytes The bytes to read. They are not copied.
   * @param offset Where to start reading.
   * @param end Where to stop.
   * @returns The reader.
   * @throws {DecodeError} When `offset..end` is not a range within `bytes`.
   */
  reset(bytes: Uint8Array, offset: number, end: number): this {
    if (!(offset >= 0 && offset <= end && end <= bytes.length)) {
      throw new DecodeError(
        "reader",
        offset,
        `range ${offset}..${end} is not within the ${bytes.length} bytes given`,
      );
    }
    this.#buf = bytes;
    this.#view = null;
    this.#pos = offset;
    this.#end = end;
    return this;
  }

  #dataView(): DataView {
    const b = this.#buf;
    return this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** The current read position. */
  get offset(): number {
    return this.#pos;
  }

  /** The number of bytes left to read. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /**
   * Checks that `n` bytes remain and advances past them.
   *
   * @param n Bytes needed.
   * @param field The field being read.
   * @returns The position before advancing.
   */
  #take(n: number, field: string): number {
    const at = this.#pos;
    if (n > this.#end - at) {
      throw new DecodeError(field, at, `needs ${n} bytes, only ${this.#end - at} left`);
    }
    // A negative count (a garbage length passed to raw or skip) would move backwards.
    if (n < 0) throw new DecodeError(field, at, `negative length ${n}`);
    this.#pos = at + n;
    return at;
  }

  /**
   * Reads a signed 8-bit integer.
   *
   * @param field Name of the field, for errors.
   * @returns A signed 8-bit integer.
   */
  int8(field = "int8"): number {
    return (this.#buf[this.#take(1, field)] << 24) >> 24;
  }

  /**
   * Reads a boolean byte.
   *
   * @param field Name of the field, for errors.
   * @returns A boolean (any non-zero byte is `true`).
   */
  boolean(field = "boolean"): boolean {
    return this.#buf[this.#take(1, field)] !== 0;
  }

  /**
   * Reads a signed 16-bit big-endian integer.
   *
   * @param field Name of the field, for errors.
   * @returns A signed 16-bit big-endian integer.
   */
  int16(field = "int16"): number {
    const b = this.#buf;
    const i = this.#take(2, field);
    return ((b[i] << 24) | (b[i + 1] << 16)) >> 16;
  }

  /**
   * Reads a signed 32-bit big-endian integer.
   *
   * @param field Name of the field, for errors.
   * @returns A signed 32-bit big-endian integer.
   */
  int32(field = "int32"): number {
    const b = this.#buf;
    const i = this.#take(4, field);
    return (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  }

  /**
   * Reads an unsigned 32-bit big-endian integer.
   *
   * @param field Name of the field, for errors.
   * @returns An unsigned 32-bit big-endian integer.
   */
  uint32(field = "uint32"): number {
    const b = this.#buf;
    const i = this.#take(4, field);
    return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  }

  /**
   * Reads a signed 64-bit big-endian integer.
   *
   * @param field Name of the field, for errors.
   * @returns A signed 64-bit big-endian integer.
   */
  int64(field = "int64"): bigint {
    return this.#dataView().getBigInt64(this.#take(8, field));
  }

  /**
   * Reads a 64-bit big-endian float.
   *
   * @param field Name of the field, for errors.
   * @returns A 64-bit big-endian IEEE 754 float.
   */
  float64(field = "float64"): number {
    return this.#dataView().getFloat64(this.#take(8, field));
  }

  /**
   * Reads an unsigned varint of at most 5 bytes.
   *
   * @param field Name of the field, for errors.
   * @returns An integer in 0..2^32-1.
   */
  uvarint(field = "uvarint"): number {
    const start = this.#pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.#pos >= this.#end) throw new DecodeError(field, start, "varint runs past the end");
      const b = this.#buf[this.#pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (result > 0xffffffff) throw new DecodeError(field, start, "varint exceeds 32 bits");
        return result;
      }
    }
    throw new DecodeError(field, start, "varint longer than 5 bytes");
  }

  /**
   * Reads a zigzag-encoded signed 32-bit varint.
   *
   * @param field Name of the field, for errors.
   * @returns An integer in -2^31..2^31-1.
   */
  varint(field = "varint"): number {
    const u = this.uvarint(field);
    return (u >>> 1) ^ -(u & 1);
  }

  /**
   * Reads a zigzag-encoded signed 64-bit varint of at most 10 bytes.
   *
   * @param field Name of the field, for errors.
   * @returns A bigint in -2^63..2^63-1.
   */
  varlong(field = "varlong"): bigint {
    const start = this.#pos;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.#pos >= this.#end) throw new DecodeError(field, start, "varlong runs past the end");
      const b = this.#buf[this.#pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        if (result > 0xffffffffffffffffn) {
          throw new DecodeError(field, start, "varlong exceeds 64 bits");
        }
        return (result >> 1n) ^ -(result & 1n);
      }
    }
    throw new DecodeError(field, start, "varlong longer than 10 bytes");
  }

  /**
   * Decodes `n` bytes of UTF-8.
   *
   * @param n Byte length.
   * @param field Name of the field, for errors.
   * @returns The text.
   */
  #text(n: number, field: string): string {
    const at = this.#take(n, field);
    try {
      return utf8.decode(this.#buf.subarray(at, at + n));
    } catch (cause) {
      throw new DecodeError(field, at, `invalid UTF-8 (${(cause as Error).message})`);
    }
  }

  /**
   * Reads a string with an int16 length prefix; -1 means `null`.
   *
   * @param field Name of the field, for errors.
   * @returns The text, or `null`.
   */
  nullableString(field = "string"): string | null {
    const at = this.#pos;
    const n = this.int16(field);
    if (n === -1) return null;
    if (n < -1) throw new DecodeError(field, at, `negative string length ${n}`);
    return this.#text(n, field);
  }

  /**
   * Reads a non-null string with an int16 length prefix.
   *
   * @param field Name of the field, for errors.
   * @returns The text.
   */
  string(field = "string"): string {
    const at = this.#pos;
    const s = this.nullableString(field);
    if (s === null) throw new DecodeError(field, at, "null where a string is required");
    return s;
  }

  /**
   * Reads a compact string (unsigned varint length + 1; 0 means `null`).
   *
   * @param field Name of the field, for errors.
   * @returns The text, or `null`.
   */
  compactNullableString(field = "compact_string"): string | null {
    const n = this.uvarint(field);
    return n === 0 ? null : this.#text(n - 1, field);
  }

  /**
   * Reads a non-null compact string.
   *
   * @param field Name of the field, for errors.
   * @returns The text.
   */
  compactString(field = "compact_string"): string {
    const at = this.#pos;
    const s = this.compactNullableString(field);
    if (s === null) throw new DecodeError(field, at, "null where a string is required");
    return s;
  }

  /**
   * Reads bytes with an int32 length prefix; -1 means `null`. The result is a view, not a copy:
   * these fields are payloads read once (record batches, SASL tokens), and a copy would double
   * their cost. A view keeps the whole frame alive, so `.slice()` anything kept for long.
   *
   * @param field Name of the field, for errors.
   * @returns The bytes, or `null`.
   */
  nullableBytes(field = "bytes"): Uint8Array | null {
    const at = this.#pos;
    const n = this.int32(field);
    if (n === -1) return null;
    if (n < -1) throw new DecodeError(field, at, `negative bytes length ${n}`);
    return this.raw(n, field);
  }

  /**
   * Reads non-null bytes with an int32 length prefix, as a view.
   *
   * @param field Name of the field, for errors.
   * @returns The bytes.
   */
  bytes(field = "bytes"): Uint8Array {
    const at = this.#pos;
    const b = this.nullableBytes(field);
    if (b === null) throw new DecodeError(field, at, "null where bytes are required");
    return b;
  }

  /**
   * Reads compact bytes (unsigned varint length + 1; 0 means `null`), as a view (see
   * {@link Reader.nullableBytes}).
   *
   * @param field Name of the field, for errors.
   * @returns The bytes, or `null`.
   */
  compactNullableBytes(field = "compact_bytes"): Uint8Array | null {
    const n = this.uvarint(field);
    return n === 0 ? null : this.raw(n - 1, field);
  }

  /**
   * Reads non-null compact bytes, as a view.
   *
   * @param field Name of the field, for errors.
   * @returns The bytes.
   */
  compactBytes(field = "compact_bytes"): Uint8Array {
    const at = this.#pos;
    const b = this.compactNullableBytes(field);
    if (b === null) throw new DecodeError(field, at, "null where bytes are required");
    return b;
  }

  /**
   * Reads `n` bytes as they are, as a view over the input.
   *
   * @param n Byte count.
   * @param field Name of the field, for errors.
   * @returns The bytes.
   */
  raw(n: number, field = "raw"): Uint8Array {
    const at = this.#take(n, field);
    return this.#buf.subarray(at, at + n);
  }

  /**
   * Reads a 16-byte UUID, as a copy: topic ids are kept (in metadata caches, fetch sessions)
   * long after the frame is done with, and a view would keep the whole receive buffer alive.
   *
   * @param field Name of the field, for errors.
   * @returns 16 bytes of their own (a 16-byte buffer).
   */
  uuid(field = "uuid"): Uint8Array {
    const at = this.#take(16, field);
    return this.#buf.slice(at, at + 16);
  }

  /**
   * Reads an array with an int32 count; -1 means `null`.
   *
   * @param each Reads one element.
   * @param field Name of the field, for errors.
   * @returns The elements, or `null`.
   */
  nullableArray<T>(each: (r: this) => T, field = "array"): T[] | null {
    const at = this.#pos;
    const n = this.int32(field);
    if (n === -1) return null;
    return this.#elements(n, at, each, field);
  }

  /**
   * Reads a non-null array with an int32 count.
   *
   * @param each Reads one element.
   * @param field Name of the field, for errors.
   * @returns The elements.
   */
  array<T>(each: (r: this) => T, field = "array"): T[] {
    const at = this.#pos;
    const a = this.nullableArray(each, field);
    if (a === null) throw new DecodeError(field, at, "null where an array is required");
    return a;
  }

  /**
   * Reads a compact array (unsigned varint count + 1; 0 means `null`).
   *
   * @param each Reads one element.
   * @param field Name of the field, for errors.
   * @returns The elements, or `null`.
   */
  compactNullableArray<T>(each: (r: this) => T, field = "compact_array"): T[] | null {
    const at = this.#pos;
    const n = this.uvarint(field);
    if (n === 0) return null;
    return this.#elements(n - 1, at, each, field);
  }

  /**
   * Reads a non-null compact array.
   *
   * @param each Reads one element.
   * @param field Name of the field, for errors.
   * @returns The elements.
   */
  compactArray<T>(each: (r: this) => T, field = "compact_array"): T[] {
    const at = this.#pos;
    const a = this.compactNullableArray(each, field);
    if (a === null) throw new DecodeError(field, at, "null where an array is required");
    return a;
  }

  /**
   * Reads `n` elements after checking the count is plausible (every element takes at least a
   * byte), so a garbage count cannot make us allocate a huge array.
   */
  #elements<T>(n: number, at: number, each: (r: this) => T, field: string): T[] {
    if (n < 0) throw new DecodeError(field, at, `negative array length ${n}`);
    if (n > this.#end - this.#pos) {
      throw new DecodeError(
        field,
        at,
        `array length ${n} exceeds the ${this.remaining} bytes left`,
      );
    }
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = each(this);
    return out;
  }

  /**
   * Reads a tagged-field section, handing each field to `onField`; fields it does not know are
   * skipped.
   *
   * @param onField Called with each tag and a reader over exactly that field's bytes; returns
   *   nothing. Omit to skip every field.
   * @param field Name of the section, for errors.
   */
  taggedFields(onField?: (tag: number, r: Reader) => void, field = "tagged_fields"): void {
    const count = this.uvarint(field);
    let last = -1;
    for (let i = 0; i < count; i++) {
      const at = this.#pos;
      const tag = this.uvarint(field);
      if (tag <= last) throw new DecodeError(field, at, `tag ${tag} out of order after ${last}`);
      last = tag;
      const size = this.uvarint(field);
      const start = this.#take(size, `${field}[${tag}]`);
      onField?.(tag, new Reader(this.#buf, start, start + size));
    }
  }

  /**
   * Skips `n` bytes.
   *
   * @param n Byte count.
   * @param field Name of what is skipped, for errors.
   */
  skip(n: number, field = "skip"): void {
    this.#take(n, field);
  }
}
