/**
 * Reads and writes of the field types whose encoding changes between classic and flexible
 * versions (int16/int32 lengths versus compact varint lengths, tagged-field sections), so each
 * codec states its layout once and passes `flexible`.
 *
 * Arrays are read and written through their length only, with the codec looping over the
 * elements itself: element layouts depend on the version, and a loop avoids making a closure
 * per call.
 *
 * @module
 */

import { DecodeError } from "../framing/errors.ts";
import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";

/**
 * Reads an array's element count; `-1` means a null array.
 *
 * @param r The reader.
 * @param flexible Compact (varint count + 1) when `true`, int32 count otherwise.
 * @param field The array's name, for errors.
 * @returns The count, or -1 for null.
 */
export function readArrayLength(r: Reader, flexible: boolean, field: string): number {
  const at = r.offset;
  const n = flexible ? r.uvarint(field) - 1 : r.int32(field);
  if (n < -1) throw new DecodeError(field, at, `negative array length ${n}`);
  // Every element takes at least one byte, so a larger count is garbage; checking here keeps
  // a corrupt count from allocating a huge array.
  if (n > r.remaining) {
    throw new DecodeError(field, at, `array length ${n} exceeds the ${r.remaining} bytes left`);
  }
  return n;
}

/**
 * Reads the element count of an array that must not be null.
 *
 * @param r The reader.
 * @param flexible Whether the count is compact.
 * @param field The array's name, for errors.
 * @returns The count.
 */
export function readCount(r: Reader, flexible: boolean, field: string): number {
  const at = r.offset;
  const n = readArrayLength(r, flexible, field);
  if (n === -1) throw new DecodeError(field, at, "null where an array is required");
  return n;
}

/**
 * Writes an array's element count.
 *
 * @param w The writer.
 * @param flexible Compact when `true`.
 * @param n The count, or `null` for a null array.
 */
export function writeCount(w: Writer, flexible: boolean, n: number | null): void {
  if (flexible) w.uvarint(n === null ? 0 : n + 1);
  else w.int32(n === null ? -1 : n);
}

/**
 * Reads a string that must not be null.
 *
 * @param r The reader.
 * @param flexible Compact when `true`.
 * @param field The field's name, for errors.
 * @returns The text.
 */
export function readString(r: Reader, flexible: boolean, field: string): string {
  return flexible ? r.compactString(field) : r.string(field);
}

/**
 * Reads a nullable string.
 *
 * @param r The reader.
 * @param flexible Compact when `true`.
 * @param field The field's name, for errors.
 * @returns The text, or `null`.
 */
export function readNullableString(r: Reader, flexible: boolean, field: string): string | null {
  return flexible ? r.compactNullableString(field) : r.nullableString(field);
}

/**
 * Writes a string, or a null string.
 *
 * @param w The writer.
 * @param flexible Compact when `true`.
 * @param value The text, or `null`.
 */
export function writeString(w: Writer, flexible: boolean, value: string | null): void {
  if (flexible) w.compactString(value);
  else w.string(value);
}

/**
 * Reads nullable bytes (also the `records` type), as a view.
 *
 * @param r The reader.
 * @param flexible Compact when `true`.
 * @param field The field's name, for errors.
 * @returns The bytes, or `null`.
 */
export function readNullableBytes(r: Reader, flexible: boolean, field: string): Uint8Array | null {
  return flexible ? r.compactNullableBytes(field) : r.nullableBytes(field);
}

/**
 * Writes bytes, or null bytes.
 *
 * @param w The writer.
 * @param flexible Compact when `true`.
 * @param value The bytes, or `null`.
 */
export function writeBytes(w: Writer, flexible: boolean, value: Uint8Array | null): void {
  if (flexible) w.compactBytes(value);
  else w.bytes(value);
}

/**
 * Reads a non-null array of int32 (e.g. broker ids).
 *
 * @param r The reader.
 * @param flexible Compact count when `true`.
 * @param field The array's name, for errors.
 * @returns The integers.
 */
export function readInt32Array(r: Reader, flexible: boolean, field: string): number[] {
  const n = readCount(r, flexible, field);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.int32(field);
  return out;
}

/**
 * Writes a non-null array of int32.
 *
 * @param w The writer.
 * @param flexible Compact count when `true`.
 * @param values The integers.
 */
export function writeInt32Array(w: Writer, flexible: boolean, values: readonly number[]): void {
  writeCount(w, flexible, values.length);
  for (const v of values) w.int32(v);
}

/**
 * Skips a tagged-field section when `flexible`; the fields it holds are not used.
 *
 * @param r The reader.
 * @param flexible Whether the section is there.
 * @param field The section's name, for errors.
 */
export function skipTags(r: Reader, flexible: boolean, field: string): void {
  if (flexible) r.taggedFields(undefined, field);
}

/**
 * Writes an empty tagged-field section when `flexible`.
 *
 * @param w The writer.
 * @param flexible Whether the section is there.
 */
export function writeNoTags(w: Writer, flexible: boolean): void {
  if (flexible) w.uvarint(0);
}

/**
 * Reads one tagged field into `target`; the field's value is all `r` holds. Tags it does not
 * know it leaves alone.
 */
export type TagReader<T> = (target: T, tag: number, r: Reader) => void;

// Decoding is synchronous, so the field callback finds its target here rather than in a closure
// made per call; the previous pair is restored afterwards, so no reply is kept alive and a
// field's reader may itself read tagged fields this way.
let tagTarget: unknown = null;
let tagReader: TagReader<unknown> | null = null;
function onTag(tag: number, r: Reader): void {
  if (tagReader !== null) tagReader(tagTarget, tag, r);
}

/**
 * Reads a tagged-field section when `flexible`, handing each field to `read` with `target`.
 *
 * @param r The reader.
 * @param flexible Whether the section is there.
 * @param target What the fields are read into.
 * @param read Reads one field into `target`.
 * @param field The section's name, for errors.
 */
export function readTagsInto<T>(
  r: Reader,
  flexible: boolean,
  target: T,
  read: TagReader<T>,
  field: string,
): void {
  if (!flexible) return;
  const outerTarget = tagTarget;
  const outerReader = tagReader;
  tagTarget = target;
  tagReader = read as TagReader<unknown>;
  try {
    r.taggedFields(onTag, field);
  } finally {
    tagTarget = outerTarget;
    tagReader = outerReader;
  }
}
