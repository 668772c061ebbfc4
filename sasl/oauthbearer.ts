/**
 * SASL/OAUTHBEARER (RFC 7628): a bearer token (and optional extensions) in the GS2 initial
 * response. Kafka's brokers validate the token with their configured callback — by default
 * the unsecured-JWT validator, whose tokens `unsecuredJwt` builds.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";
import { readCredentials } from "./credentials.ts";
import { AuthenticationError, type SaslExchange, type SaslMechanism } from "./mechanism.ts";

/** A token with extensions of its own (e.g. a `logicalCluster` chosen by the token issuer). */
export interface OAuthBearerToken {
  /** The bearer token, usually a JWT. */
  value: string;
  /** SASL extensions sent with this token; they override same-named static ones. */
  extensions?: Record<string, string>;
}

/** What the token source may produce. */
export type OAuthBearerTokenValue = string | OAuthBearerToken;

/** Options of {@link oauthBearer}. */
export interface OAuthBearerOptions {
  /**
   * The token, or a provider called on every `begin()` (so a refreshed token is used on each
   * new connection and re-authentication).
   */
  token:
    | OAuthBearerTokenValue
    | (() => OAuthBearerTokenValue | Promise<OAuthBearerTokenValue>);
  /** SASL extensions sent with every token, `key=value` per RFC 7628 §3.1. */
  extensions?: Record<string, string>;
}

const SEPARATOR = "\x01";
const KEY = /^[A-Za-z]+$/;
// RFC 7628 allows an empty value, but Kafka's broker rejects it, so we refuse it up front.
const VALUE = /^[\x21-\x7E \t\r\n]+$/;
// RFC 6750 b64token.
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks SASL extensions against RFC 7628's grammar.
 *
 * @param extensions Extension name → value.
 * @param origin Where they came from, for the message.
 * @throws {ConfigError} On a name that is not letters only or is the reserved `auth`, or a
 *   value with characters outside visible ASCII, space, tab, CR and LF (or empty).
 */
function checkExtensions(extensions: Record<string, string>, origin: string): void {
  for (const [key, value] of Object.entries(extensions)) {
    if (!KEY.test(key) || key.toLowerCase() === "auth") {
      throw new ConfigError(
        `OAUTHBEARER: extension name "${key}" in ${origin} is invalid — names are ASCII ` +
          `letters only, and "auth" is reserved for the token`,
      );
    }
    if (typeof value !== "string" || !VALUE.test(value)) {
      throw new ConfigError(
        `OAUTHBEARER: value of extension "${key}" in ${origin} is invalid — it must be a ` +
          `non-empty string of visible ASCII, space, tab, CR or LF`,
      );
    }
  }
}

type OAuthState = "initial" | "sent" | "acknowledged" | "finished";

class OAuthBearerExchange implements SaslExchange {
  readonly #message: Uint8Array;
  #state: OAuthState = "initial";
  #serverError = "";

  constructor(message: Uint8Array) {
    this.#message = message;
  }

  initial(): Promise<Uint8Array> {
    if (this.#state !== "initial") return Promise.reject(this.#outOfOrder());
    this.#state = "sent";
    return Promise.resolve(this.#message);
  }

  next(server: Uint8Array): Promise<Uint8Array | null> {
    if (this.#state === "sent") {
      if (server.length === 0) {
        this.#state = "finished";
        return Promise.resolve(null);
      }
      // RFC 7628 §3.2.2: the server sent its error JSON and waits for a lone %x01 before
      // failing the authentication; the broker reports that failure itself.
      this.#state = "acknowledged";
      this.#serverError = decoder.decode(server);
      return Promise.resolve(encoder.encode(SEPARATOR));
    }
    if (this.#state === "acknowledged") {
      this.#state = "finished";
      return Promise.reject(
        new AuthenticationError(
          `OAUTHBEARER: the broker rejected the token with ${this.#serverError} — check the ` +
            `token's issuer, audience, scope and expiry against the broker's validator`,
        ),
      );
    }
    return Promise.reject(this.#outOfOrder());
  }

  #outOfOrder(): AuthenticationError {
    return new AuthenticationError(
      `OAUTHBEARER exchange used out of order (at ${this.#state}) — an exchange from begin() ` +
        `serves exactly one authentication`,
    );
  }
}

/**
 * Creates a SASL/OAUTHBEARER mechanism.
 *
 * @example
 * ```ts
 * import { oauthBearer, unsecuredJwt } from "@kafka-wire/transport";
 * const mechanism = oauthBearer({
 *   token: () => unsecuredJwt({ sub: "alice", lifetimeMs: 3_600_000 }),
 *   extensions: { traceId: "abc123" },
 * });
 * ```
 *
 * @param options The token or its provider, and static extensions.
 * @returns The mechanism, named `"OAUTHBEARER"`.
 * @throws {ConfigError} When a static extension is invalid (a token's own extensions, and
 *   the token itself, are checked on `begin()`).
 */
export function oauthBearer(options: OAuthBearerOptions): SaslMechanism {
  const staticExtensions = options.extensions ?? {};
  checkExtensions(staticExtensions, "the options");
  return {
    name: "OAUTHBEARER",
    async begin(): Promise<SaslExchange> {
      const current = await readCredentials(options.token, "OAUTHBEARER");
      const token = typeof current === "string" ? { value: current } : current;
      if (typeof token?.value !== "string" || !TOKEN.test(token.value)) {
        throw new ConfigError(
          "OAUTHBEARER: the token is not a bearer token (RFC 6750 b64token: letters, digits " +
            "and -._~+/ followed by optional =) — check what the token provider returns",
        );
      }
      checkExtensions(token.extensions ?? {}, "the token");
      let message = `n,,${SEPARATOR}auth=Bearer ${token.value}${SEPARATOR}`;
      const extensions = { ...staticExtensions, ...token.extensions };
      for (const [key, value] of Object.entries(extensions)) {
        message += `${key}=${value}${SEPARATOR}`;
      }
      return new OAuthBearerExchange(encoder.encode(message + SEPARATOR));
    },
  };
}
