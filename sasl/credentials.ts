/**
 * Credentials given either as values or as an async provider that is asked again on every
 * authentication, so rotated secrets are picked up without rebuilding the client.
 *
 * @module
 */

import { ConfigError, KafkaTransportError } from "../transport/errors.ts";
import { AuthenticationError } from "./mechanism.ts";

/** A value, or a function returning it (possibly asynchronously) that is called on each use. */
export type CredentialSource<T> = T | (() => T | Promise<T>);

/**
 * Reads the current credentials from a source.
 *
 * @param source The static value or the provider.
 * @param mechanism The SASL mechanism name, for the error message.
 * @returns The value, or what the provider resolved to.
 * @throws {AuthenticationError} When the provider fails with anything but one of our errors
 *   (those are rethrown as they are).
 */
export async function readCredentials<T>(
  source: CredentialSource<T>,
  mechanism: string,
): Promise<T> {
  if (typeof source !== "function") return source;
  try {
    return await (source as () => T | Promise<T>)();
  } catch (error) {
    if (error instanceof KafkaTransportError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new AuthenticationError(
      `${mechanism} credential provider failed: ${detail} — check the provider function passed ` +
        `to the mechanism`,
      { cause: error },
    );
  }
}

/**
 * Checks one username or password field of PLAIN or SCRAM credentials.
 *
 * @param mechanism The mechanism name, for the message.
 * @param field `"username"` or `"password"`.
 * @param value What the caller gave.
 * @returns The value, known to be a non-empty string without NUL.
 * @throws {ConfigError} When it is not.
 */
export function checkCredential(mechanism: string, field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigError(
      `${mechanism}: ${field} must be a non-empty string — check the credentials given to the ` +
        `mechanism (or what its provider returned)`,
    );
  }
  // PLAIN separates its fields with NUL, so a NUL inside one would change their meaning;
  // SCRAM's SASLprep profile prohibits it too.
  if (value.includes("\0")) {
    throw new ConfigError(`${mechanism}: ${field} must not contain a NUL character`);
  }
  return value;
}
