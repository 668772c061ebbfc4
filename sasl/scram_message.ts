/**
 * The text layer of SCRAM messages (RFC 5802 §5.1, §7): comma-separated `a=value`
 * attributes and the escaping of user names inside them. Shared by the client mechanisms and
 * the test broker's verifier.
 *
 * @module
 */

import { AuthenticationError } from "./mechanism.ts";

/**
 * Escapes a user name for the `n=` attribute: `=` becomes `=3D` and `,` becomes `=2C`.
 *
 * @param username The user name as configured.
 * @returns The `saslname` to send.
 */
export function escapeSaslName(username: string): string {
  // `=` first, so the `=` introduced by `=2C` is not escaped again.
  return username.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/**
 * Reverses {@link escapeSaslName}.
 *
 * @param saslname The `n=` attribute value received.
 * @returns The user name, or `null` when the value holds a bare `,` or an `=` that does not
 *   start `=2C` or `=3D`.
 */
export function unescapeSaslName(saslname: string): string | null {
  if (saslname.includes(",") || /=(?!2C|3D)/.test(saslname)) return null;
  return saslname.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

/**
 * Splits a SCRAM message into its attributes.
 *
 * @param message The message text, without a GS2 header.
 * @param what Names the message for the error, e.g. "SCRAM server-first message".
 * @returns Attribute letter → value.
 * @throws {AuthenticationError} When an element is not of the `a=value` form, or an attribute
 *   appears twice.
 */
export function parseScramAttributes(message: string, what: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const element of message.split(",")) {
    if (!/^[A-Za-z]=/.test(element)) {
      throw new AuthenticationError(
        `${what} is malformed: element "${element}" is not of the form a=value`,
      );
    }
    const name = element[0];
    if (attributes.has(name)) {
      throw new AuthenticationError(`${what} is malformed: attribute ${name}= appears twice`);
    }
    attributes.set(name, element.slice(2));
  }
  return attributes;
}

const ATTRIBUTE_MEANING: Record<string, string> = {
  n: "user name",
  r: "nonce",
  s: "salt",
  i: "iteration count",
  c: "channel binding",
  p: "client proof",
  v: "server signature",
};

/**
 * Reads an attribute the message must have.
 *
 * @param attributes What {@link parseScramAttributes} returned.
 * @param name The attribute letter.
 * @param what Names the message for the error.
 * @returns The attribute's value.
 * @throws {AuthenticationError} When the message lacks it.
 */
export function requireAttribute(
  attributes: Map<string, string>,
  name: string,
  what: string,
): string {
  const value = attributes.get(name);
  if (value === undefined) {
    throw new AuthenticationError(
      `${what} is missing the ${name}= attribute (${ATTRIBUTE_MEANING[name] ?? "required"})`,
    );
  }
  return value;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a received SCRAM message, refusing invalid UTF-8.
 *
 * @param bytes A SCRAM message as received.
 * @param what Names the message for the error.
 * @returns Its text.
 * @throws {AuthenticationError} When it is not valid UTF-8.
 */
export function decodeScramText(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new AuthenticationError(`${what} is not valid UTF-8`, { cause: error });
  }
}

/**
 * RFC 5802 `printable`: visible ASCII except `,`, the alphabet of nonces.
 *
 * @param text A nonce.
 * @returns Whether every character is allowed in a nonce and there is at least one.
 */
export function isPrintable(text: string): boolean {
  return /^[\x21-\x2B\x2D-\x7E]+$/.test(text);
}
