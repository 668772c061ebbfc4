/**
 * Checks of the numeric request fields users set themselves (acks, timeouts, byte limits,
 * partition counts), made by the codecs before they write them. The framing `Writer` does not
 * range-check its integers (that would slow every write): it converts like `DataView` does,
 * so 70000 written as an int16 would become 4464 and `undefined` would become 0.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";

/** The largest int32, 2^31 - 1. */
export const INT32_MAX = 0x7fffffff;
/** The largest int16, 2^15 - 1. */
export const INT16_MAX = 0x7fff;

/**
 * Formats a rejected value for an error message, telling `undefined`, strings and numbers
 * apart.
 *
 * @param value What the caller passed.
 * @returns E.g. `1.5`, `"5"`, `5n` or `undefined`.
 */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

/**
 * Checks that `value` is an integer in `min..max`.
 *
 * @param value The value the caller passed.
 * @param field Which field it is, e.g. "Produce timeoutMs".
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @param hint What the field means, appended to the message, e.g. "(milliseconds)".
 * @throws {ConfigError} Naming the field, the range it accepts and the value given.
 */
export function checkInt(
  value: number,
  field: string,
  min: number,
  max: number,
  hint = "",
): void {
  if (Number.isInteger(value) && value >= min && value <= max) return;
  throw new ConfigError(
    `${field} must be an integer from ${min} to ${max}${hint ? ` ${hint}` : ""}, ` +
      `got ${show(value)}`,
  );
}

/**
 * Checks that `value` is -1 (the broker's default) or an integer in `1..max`, as partition
 * counts and replication factors are.
 *
 * @param value The value the caller passed.
 * @param field Which field it is, e.g. "CreateTopics numPartitions".
 * @param max The largest value the wire type holds.
 * @throws {ConfigError} Naming the field, what it accepts and the value given.
 */
export function checkCountOrDefault(value: number, field: string, max: number): void {
  if (value === -1 || (Number.isInteger(value) && value >= 1 && value <= max)) return;
  throw new ConfigError(
    `${field} must be -1 (the broker's default, or with a manual assignment) or an integer ` +
      `from 1 to ${max}, got ${show(value)}`,
  );
}
