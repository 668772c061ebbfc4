/**
 * Base64 (RFC 4648 §4) and base64url (§5) for the small binary fields of SASL messages.
 * Built on `btoa`/`atob`, present in every runtime this module supports.
 *
 * @module
 */

const CHUNK = 0x8000;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function toBinaryString(bytes: Uint8Array): string {
  let binary = "";
  // Chunked so that large inputs do not exceed the engine's argument-count limit.
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return binary;
}

function fromBinaryString(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes as standard base64 with padding.
 *
 * @param bytes The bytes to encode.
 * @returns Padded standard base64.
 */
export function encodeBase64(bytes: Uint8Array): string {
  return btoa(toBinaryString(bytes));
}

/**
 * Decodes standard base64 strictly: padding required, no whitespace, standard alphabet only.
 *
 * @param text Padded standard base64.
 * @returns The decoded bytes, or `null` when `text` is not valid base64.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return fromBinaryString(atob(text));
}

/**
 * Encodes as base64url without padding.
 *
 * @param bytes The bytes to encode.
 * @returns Unpadded base64url, as used in JWTs.
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * Decodes unpadded base64url.
 *
 * @param text Unpadded base64url.
 * @returns The decoded bytes, or `null` when `text` is not valid unpadded base64url.
 */
export function decodeBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  return fromBinaryString(atob(standard + "=".repeat((4 - (standard.length % 4)) % 4)));
}
