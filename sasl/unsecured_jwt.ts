/**
 * Unsecured JWTs (`alg: none`, RFC 7519 §6) as accepted by Kafka's default OAUTHBEARER
 * validator: for tests, local brokers and the probe, never for production clusters.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";
import { encodeBase64Url } from "./base64.ts";

/** Options of {@link unsecuredJwt}. */
export interface UnsecuredJwtOptions {
  /** The principal (`sub` claim) the broker will authenticate the connection as. */
  sub: string;
  /** How long the token is valid, in milliseconds from `issuedAtMs`. */
  lifetimeMs: number;
  /** Scopes (`scope` claim), each an RFC 6749 scope token. */
  scope?: readonly string[];
  /** Issue time in Unix epoch milliseconds; `Date.now()` by default. */
  issuedAtMs?: number;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const encoder = new TextEncoder();

function encodePart(value: unknown): string {
  return encodeBase64Url(encoder.encode(JSON.stringify(value)));
}

/**
 * Builds an unsigned JWT: header `{"alg":"none"}`, claims `sub`, `iat`, `exp` (in seconds,
 * as JWT requires) and optionally `scope`, and an empty signature.
 *
 * @example
 * ```ts
 * import { unsecuredJwt } from "@kafka-wire/transport";
 * const token = unsecuredJwt({ sub: "alice", lifetimeMs: 60_000, scope: ["produce"] });
 * ```
 *
 * @param options Subject, lifetime, scopes and issue time.
 * @returns The compact serialization `header.claims.` (note the trailing dot).
 * @throws {ConfigError} On an empty subject, a lifetime that is not a positive number, an
 *   issue time that is not finite, or a scope that is not a valid scope token.
 */
export function unsecuredJwt(options: UnsecuredJwtOptions): string {
  const { sub, lifetimeMs, scope } = options;
  if (typeof sub !== "string" || sub.length === 0) {
    throw new ConfigError("unsecuredJwt: sub must be a non-empty string (the principal name)");
  }
  if (!(lifetimeMs > 0 && Number.isFinite(lifetimeMs))) {
    throw new ConfigError(
      `unsecuredJwt: lifetimeMs must be a positive number of milliseconds, got ${lifetimeMs}`,
    );
  }
  const issuedAtMs = options.issuedAtMs ?? Date.now();
  if (!Number.isFinite(issuedAtMs)) {
    throw new ConfigError(`unsecuredJwt: issuedAtMs must be finite, got ${issuedAtMs}`);
  }
  const claims: Record<string, unknown> = {
    sub,
    iat: issuedAtMs / 1000,
    exp: (issuedAtMs + lifetimeMs) / 1000,
  };
  if (scope !== undefined) {
    for (const token of scope) {
      if (typeof token !== "string" || !SCOPE_TOKEN.test(token)) {
        throw new ConfigError(
          `unsecuredJwt: scope "${token}" is invalid — scopes are non-empty visible ASCII ` +
            `without space, " or \\`,
        );
      }
    }
    // An array, not a space-separated string: Kafka's validator reads a string as one scope.
    claims.scope = [...scope];
  }
  return `${encodePart({ alg: "none" })}.${encodePart(claims)}.`;
}
