/**
 * Kafka UUIDs (topic ids): 16 raw bytes on the wire, shown as URL-safe base64 without padding,
 * as Kafka's own tools print them.
 *
 * @example
 * ```ts
 * import { uuidToString, ZERO_UUID } from "./uuid.ts";
 * uuidToString(ZERO_UUID); // "AAAAAAAAAAAAAAAAAAAAAA"
 * ```
 *
 * @module
 */

/** The all-zero UUID, Kafka's "no topic id". Shared: never write into it. */
export const ZERO_UUID: Uint8Array = new Uint8Array(16);

/**
 * Whether a UUID is all zeros (Kafka's "unset").
 *
 * @param uuid 16 bytes.
 * @returns `true` for the zero UUID.
 */
export function isZeroUuid(uuid: Uint8Array): boolean {
  for (let i = 0; i < uuid.length; i++) if (uuid[i] !== 0) return false;
  return true;
}

/**
 * Formats a UUID the way Kafka prints topic ids.
 *
 * @param uuid 16 bytes.
 * @returns URL-safe base64 without padding (22 characters).
 */
export function uuidToString(uuid: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < uuid.length; i++) binary += String.fromCharCode(uuid[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
