/**
 * Encoder for the Kafka protocol primitive types, writing into one growable buffer.
 *
 * @module
 */

import { EncodeError } from "./errors.ts";

const utf8 = new TextEncoder();

/** Strings up to this many UTF-16 units try the per-character ASCII copy first. */
const ASCII_FAST_PATH_MAX = 64;

/** The largest byte length an int16-prefixed string can have. */
const INT16_MAX = 0x7fff;

/**
 * @param value An integer in 0..2^32-1.
 * @returns How many bytes its unsigned varint encoding takes.
 */
function uvarintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** One entry of a tagged-field section: a tag number and its already encoded value. */
export interface TaggedField {
  /** The tag number. */
  tag: number;
  /** The encoded field value. */
  data: Uint8Array;
}

/**
 * Appends Kafka primitive values to a growable buffer. Methods return `this` so calls chain.
 *
 * Integers are not range-checked, since a check on every write measurably slows the hot path:
 * `int8` to `uint32` convert as `DataView` does, so an out-of-range value wraps (70000 as an
 * int16 is 4464), a fraction is truncated and `undefined` or `NaN` becomes 0. The codecs check
 * the request fields users set (acks, timeouts, byte limits, partition counts) before writing
 * them; code writing its own fields must pass values of the right type.
 *
 * @example
 * ```ts
 * import { Writer } from "./writer.ts";
 * const bytes = new Writer().int16(18).int16(3).compactString("client").finish();
 * ```
 */
export class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /**
   * Creates a writer with an initial buffer.
   *
   * @param capacity Initial size of the buffer in bytes; it grows as needed.
   */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** The size of the internal buffer: how much can be written before it grows. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /**
   * Makes room for `n` more bytes.
   *
   * @param n Bytes about to be written.
   */
  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    // A zero-capacity writer must still grow, hence the floor.
    let size = Math.max(this.#buf.length * 2, 64);
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /**
   * Writes a signed 8-bit integer.
   *
   * @param value A signed 8-bit integer.
   * @returns this
   */
  int8(value: number): this {
    this.#ensure(1);
    this.#view.setInt8(this.#pos, value);
    this.#pos += 1;
    return this;
  }

  /**
   * Writes a boolean as one byte, 1 or 0.
   *
   * @param value `true` or `false`, written as one byte.
   * @returns this
   */
  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /**
   * Writes a signed 16-bit big-endian integer.
   *
   * @param value A signed 16-bit integer, big-endian.
   * @returns this
   */
  int16(value: number): this {
    this.#ensure(2);
    this.#view.setInt16(this.#pos, value);
    this.#pos += 2;
    return this;
  }

  /**
   * Writes a signed 32-bit big-endian integer.
   *
   * @param value A signed 32-bit integer, big-endian.
   * @returns this
   */
  int32(value: number): this {
    this.#ensure(4);
    this.#view.setInt32(this.#pos, value);
    this.#pos += 4;
    return this;
  }

  /**
   * Writes an unsigned 32-bit big-endian integer.
   *
   * @param value An unsigned 32-bit integer, big-endian.
   * @returns this
   */
  uint32(value: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, value);
    this.#pos += 4;
    return this;
  }

  /**
   * Writes a signed 64-bit big-endian integer.
   *
   * @param value A signed 64-bit integer, big-endian.
   * @returns this
   */
  int64(value: bigint): this {
    this.#ensure(8);
    this.#view.setBigInt64(this.#pos, value);
    this.#pos += 8;
    return this;
  }

  /**
   * Writes a 64-bit big-endian float.
   *
   * @param value A 64-bit IEEE 754 float, big-endian.
   * @returns this
   */
  float64(value: number): this {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, value);
    this.#pos += 8;
    return this;
  }

  /**
   * Writes an unsigned varint (7 bits per byte, little-endian groups), as used for compact
   * lengths and tag numbers.
   *
   * @param value An integer in 0..2^32-1.
   * @returns this
   */
  uvarint(value: number): this {
    this.#ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.#buf[this.#pos++] = v;
    return this;
  }

  /**
   * Writes a zigzag-encoded signed 32-bit varint.
   *
   * @param value An integer in -2^31..2^31-1.
   * @returns this
   */
  varint(value: number): this {
    return this.uvarint((value << 1) ^ (value >> 31));
  }

  /**
   * Writes a zigzag-encoded signed 64-bit varint.
   *
   * @param value A bigint in -2^63..2^63-1.
   * @returns this
   */
  varlong(value: bigint): this {
    this.#ensure(10);
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (v >= 0x80n) {
      this.#buf[this.#pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#pos++] = Number(v);
    return this;
  }

  /**
   * Writes UTF-8 text at the current position without a length.
   *
   * @param value The text.
   * @returns The number of bytes written.
   */
  #utf8(value: string): number {
    const n = value.length;
    this.#ensure(n * 3);
    const buf = this.#buf;
    const start = this.#pos;
    // Short ASCII strings (client ids, topic names) are copied code by code: cheaper than
    // encodeInto's subarray and call for the few bytes every request carries.
    if (n <= ASCII_FAST_PATH_MAX) {
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        this.#pos = start + n;
        return n;
      }
    }
    const { written } = utf8.encodeInto(value, buf.subarray(start));
    this.#pos = start + written;
    return written;
  }

  /**
   * Writes a string with an int16 length prefix; `null` is written as length -1.
   *
   * @param value The text, or `null`.
   * @returns this
   * @throws {EncodeError} When the UTF-8 encoding is longer than 32767 bytes.
   */
  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const at = this.#pos;
    this.int16(0);
    const n = this.#utf8(value);
    if (n > INT16_MAX) {
      this.#pos = at;
      throw new EncodeError(
        `A string field holds at most ${INT16_MAX} bytes of UTF-8, got ${n}: shorten the value`,
      );
    }
    this.#view.setInt16(at, n);
    return this;
  }

  /**
   * Writes a compact string: unsigned varint of length + 1 (0 for `null`), then UTF-8 bytes.
   *
   * @param value The text, or `null`.
   * @returns this
   */
  compactString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    // Encode straight into the buffer after room for the longest possible length prefix, then
    // move the text back if the actual prefix is shorter: no intermediate byte array.
    const room = uvarintSize(value.length * 3 + 1);
    // 5 covers any prefix, so the uvarint() below never reallocates and drops the text.
    this.#ensure(5 + value.length * 3);
    const start = this.#pos;
    const { written } = utf8.encodeInto(value, this.#buf.subarray(start + room));
    const prefix = uvarintSize(written + 1);
    if (prefix !== room) {
      this.#buf.copyWithin(start + prefix, start + room, start + room + written);
    }
    this.uvarint(written + 1);
    this.#pos += written;
    return this;
  }

  /**
   * Writes bytes with an int32 length prefix; `null` is written as length -1.
   *
   * @param value The bytes, or `null`.
   * @returns this
   */
  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.length).raw(value);
  }

  /**
   * Writes compact bytes: unsigned varint of length + 1 (0 for `null`), then the bytes.
   *
   * @param value The bytes, or `null`.
   * @returns this
   */
  compactBytes(value: Uint8Array | null): this {
    if (value === null) return this.uvarint(0);
    return this.uvarint(value.length + 1).raw(value);
  }

  /**
   * Copies bytes in as they are, without a length.
   *
   * @param value The bytes.
   * @returns this
   */
  raw(value: Uint8Array): this {
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /**
   * Writes a 16-byte UUID.
   *
   * @param value Exactly 16 bytes.
   * @returns this
   * @throws {EncodeError} When `value` is not 16 bytes long.
   */
  uuid(value: Uint8Array): this {
    if (value.length !== 16) throw new EncodeError(`A UUID is 16 bytes, got ${value.length}`);
    return this.raw(value);
  }

  /**
   * Writes an array with an int32 count prefix; `null` is written as count -1.
   *
   * @param items The elements, or `null`.
   * @param each Writes one element.
   * @returns this
   */
  array<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  /**
   * Writes a compact array: unsigned varint of count + 1 (0 for `null`), then the elements.
   *
   * @param items The elements, or `null`.
   * @param each Writes one element.
   * @returns this
   */
  compactArray<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) each(this, item);
    return this;
  }

  /**
   * Writes a tagged-field section: count, then tag, size and data of each field in ascending
   * tag order. With no fields this is the single byte 0.
   *
   * @param fields The tagged fields; none when omitted.
   * @returns this
   */
  taggedFields(fields: readonly TaggedField[] = []): this {
    this.uvarint(fields.length);
    const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields;
    for (const f of sorted) this.uvarint(f.tag).uvarint(f.data.length).raw(f.data);
    return this;
  }

  /**
   * Overwrites a signed 32-bit integer written earlier, e.g. a size prefix.
   *
   * @param offset Where the integer starts.
   * @param value The new value.
   * @returns this
   * @throws {EncodeError} When the 4 bytes at `offset` have not all been written.
   */
  patchInt32(offset: number, value: number): this {
    if (!(offset >= 0 && offset + 4 <= this.#pos)) {
      throw new EncodeError(`patchInt32 offset ${offset} outside written bytes 0..${this.#pos}`);
    }
    this.#view.setInt32(offset, value);
    return this;
  }

  /**
   * Returns the bytes written so far as a view over the internal buffer (no copy). Writing more
   * after this may reallocate, leaving the view with the old contents.
   *
   * @returns The written bytes.
   */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * Drops everything written after `length`, e.g. a frame whose encoding failed half way.
   *
   * @param length The number of bytes to keep; at most {@link Writer.length}.
   */
  truncate(length: number): void {
    if (!(length >= 0 && length <= this.#pos)) {
      throw new EncodeError(`truncate(${length}) outside the ${this.#pos} bytes written`);
    }
    this.#pos = length;
  }

  /** Forgets everything written so the buffer can be reused. */
  reset(): void {
    this.#pos = 0;
  }
}
