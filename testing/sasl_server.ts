/**
 * The server side of the SASL mechanisms, for the embedded test broker: verifies PLAIN and
 * SCRAM credentials against a user table and accepts unsecured JWTs for OAUTHBEARER, failing
 * with messages like Kafka's own.
 *
 * @module
 */

import { decodeBase64Url, encodeBase64 } from "../sasl/base64.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import {
  deriveScramKeys,
  digest,
  hmac,
  type ScramHash,
  type ScramKeys,
  timingSafeEqual,
  xorBytes,
} from "../sasl/scram_crypto.ts";
import { parseClientFinal, parseClientFirst } from "./scram_grammar.ts";

/** The mechanism names {@link createSaslServer} knows, in Kafka's usual order. */
export const supportedSaslMechanisms: readonly string[] = Object.freeze([
  "PLAIN",
  "SCRAM-SHA-256",
  "SCRAM-SHA-512",
  "OAUTHBEARER",
]);

/** The outcome of one server step. */
export interface SaslServerStep {
  /** The bytes to send back to the client (possibly empty). */
  response: Uint8Array;
  /** Whether authentication succeeded with this step. */
  done: boolean;
  /** The authenticated user name (the JWT's `sub` for OAUTHBEARER), once `done`. */
  user?: string;
}

/** One server-side authentication exchange; single use. */
export interface SaslServerExchange {
  /** The mechanism name. */
  readonly mechanism: string;
  /**
   * Consumes one client message.
   *
   * @param client The bytes the client sent.
   * @returns The reply, and whether the client is now authenticated.
   * @throws {AuthenticationError} On wrong credentials, a malformed message, or a step after
   *   the exchange ended.
   */
  step(client: Uint8Array): Promise<SaslServerStep>;
}

/** Options of {@link createSaslServer}. */
export interface SaslServerOptions {
  /** Random bytes for SCRAM salts and nonces; `crypto.getRandomValues` by default. */
  getRandomValues?: (array: Uint8Array<ArrayBuffer>) => Uint8Array;
  /** Wall-clock time in Unix epoch milliseconds, for JWT expiry; `Date.now` by default. */
  nowMs?: () => number;
  /** SCRAM iteration count offered to clients; 4096 (Kafka's minimum) by default. */
  scramIterations?: number;
  /**
   * How the SCRAM client-final nonce is checked: `"exact"` (default) requires the nonce the
   * server sent, as Kafka 4.x does; `"suffix"` accepts any nonce ending with it, as Kafka 3.x
   * and earlier did, which lets librdkafka 2.0.x in (it repeats its client nonce in front).
   */
  scramNonceCheck?: ScramNonceCheck;
}

/** How a SCRAM server checks the client-final nonce; see {@link SaslServerOptions}. */
export type ScramNonceCheck = "exact" | "suffix";

// The texts a Kafka 4.x broker puts in SaslAuthenticate's error_message.
const INVALID_PLAIN_CREDENTIALS = "Authentication failed: Invalid username or password";
const INVALID_TOKEN_JSON = JSON.stringify({ status: "invalid_token" });
const EMPTY = new Uint8Array(0);
const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeText(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new AuthenticationError(`Authentication failed: ${what} is not valid UTF-8`, {
      cause: error,
    });
  }
}

// Own-property lookup, so names like "__proto__" or "toString" are just unknown users.
function passwordOf(users: Readonly<Record<string, string>>, user: string): string | undefined {
  return Object.hasOwn(users, user) ? users[user] : undefined;
}

function completed(mechanism: string): AuthenticationError {
  return new AuthenticationError(
    `Authentication failed: ${mechanism} exchange already ended — start a new one with a new ` +
      `SaslHandshake`,
  );
}

class PlainServer implements SaslServerExchange {
  readonly mechanism = "PLAIN";
  readonly #users: Readonly<Record<string, string>>;
  #ended = false;

  constructor(users: Readonly<Record<string, string>>) {
    this.#users = users;
  }

  step(client: Uint8Array): Promise<SaslServerStep> {
    try {
      return Promise.resolve(this.#verify(client));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #verify(client: Uint8Array): SaslServerStep {
    if (this.#ended) throw completed(this.mechanism);
    this.#ended = true;
    const tokens = decodeText(client, "SASL/PLAIN response").split("\0");
    if (tokens.length !== 3) {
      throw new AuthenticationError(
        `Invalid SASL/PLAIN response: expected 3 tokens, got ${tokens.length}`,
      );
    }
    const [authorizationId, user, password] = tokens;
    if (user === "") throw new AuthenticationError("Authentication failed: username not specified");
    if (password === "") {
      throw new AuthenticationError("Authentication failed: password not specified");
    }
    const expected = passwordOf(this.#users, user);
    if (
      expected === undefined ||
      !timingSafeEqual(encoder.encode(expected), encoder.encode(password))
    ) {
      throw new AuthenticationError(INVALID_PLAIN_CREDENTIALS);
    }
    // Kafka compares the authorization id only once the password checked out.
    if (authorizationId !== "" && authorizationId !== user) {
      throw new AuthenticationError(
        "Authentication failed: Client requested an authorization id that is different from " +
          "username",
      );
    }
    return { response: EMPTY, done: true, user };
  }
}

type ScramServerState = "client-first" | "client-final" | "ended";

class ScramServer implements SaslServerExchange {
  readonly mechanism: string;
  readonly #hash: ScramHash;
  readonly #users: Readonly<Record<string, string>>;
  readonly #getRandomValues: (array: Uint8Array<ArrayBuffer>) => Uint8Array;
  readonly #iterations: number;
  readonly #nonceCheck: ScramNonceCheck;
  #state: ScramServerState = "client-first";
  #user = "";
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #keys: ScramKeys | undefined;

  constructor(
    mechanism: string,
    hash: ScramHash,
    users: Readonly<Record<string, string>>,
    getRandomValues: (array: Uint8Array<ArrayBuffer>) => Uint8Array,
    iterations: number,
    nonceCheck: ScramNonceCheck,
  ) {
    this.#nonceCheck = nonceCheck;
    this.mechanism = mechanism;
    this.#hash = hash;
    this.#users = users;
    this.#getRandomValues = getRandomValues;
    this.#iterations = iterations;
  }

  step(client: Uint8Array): Promise<SaslServerStep> {
    const state = this.#state;
    // Any failure ends the exchange, as Kafka drops the SaslServer with it.
    this.#state = "ended";
    if (state === "client-first") return this.#serverFirstStep(client);
    if (state === "client-final") return this.#serverFinalStep(client);
    return Promise.reject(completed(this.mechanism));
  }

  async #serverFirstStep(client: Uint8Array): Promise<SaslServerStep> {
    const what = `${this.mechanism} client-first message`;
    const first = parseClientFirst(decodeText(client, what), what);
    const user = first.user;
    // tokenauth=true asks for a delegation token, which this broker does not issue: Kafka
    // fails the same way for a token id it does not know.
    if (first.extensions.get("tokenauth") === "true") throw this.#invalidCredentials();
    // Kafka looks the user up before it compares the authorization id.
    const password = passwordOf(this.#users, user);
    if (password === undefined) throw this.#invalidCredentials();
    if (first.authorizationId !== undefined && first.authorizationId !== user) {
      throw new AuthenticationError(
        "Authentication failed: Client requested an authorization id that is different from " +
          "username",
      );
    }
    this.#clientFirstBare = first.bare;
    const clientNonce = first.nonce;

    const salt = new Uint8Array(SALT_BYTES);
    this.#getRandomValues(salt);
    this.#keys = await deriveScramKeys(this.#hash, password, salt, this.#iterations);
    this.#user = user;
    this.#nonce = clientNonce +
      encodeBase64(this.#getRandomValues(new Uint8Array(NONCE_BYTES)));
    this.#serverFirst = `r=${this.#nonce},s=${encodeBase64(salt)},i=${this.#iterations}`;
    this.#state = "client-final";
    return { response: encoder.encode(this.#serverFirst), done: false };
  }

  // Kafka gives the same answer for an unknown user and a wrong password.
  #invalidCredentials(): AuthenticationError {
    return new AuthenticationError(
      "Authentication failed during authentication due to invalid credentials with SASL " +
        `mechanism ${this.mechanism}`,
    );
  }

  async #serverFinalStep(client: Uint8Array): Promise<SaslServerStep> {
    const what = `${this.mechanism} client-final message`;
    const final = parseClientFinal(decodeText(client, what), what);
    const nonce = final.nonce;
    if (nonce !== this.#nonce && !(this.#nonceCheck === "suffix" && nonce.endsWith(this.#nonce))) {
      throw new AuthenticationError(
        `Authentication failed: ${what} nonce does not match` +
          (nonce.endsWith(this.#nonce)
            ? ": it repeats the client nonce in front of the server's, as librdkafka 2.0.x " +
              "does; Kafka 4.x refuses that and Kafka 3.x accepted it (sasl.scramNonceCheck " +
              '"suffix" accepts it as Kafka 3.x did)'
            : ""),
      );
    }
    const proof = final.proof;
    const keys = this.#keys!;
    const authMessage = encoder.encode(
      `${this.#clientFirstBare},${this.#serverFirst},${final.withoutProof}`,
    );
    const clientSignature = await hmac(this.#hash, keys.storedKey, authMessage);
    const clientKey = proof.length === clientSignature.length
      ? xorBytes(proof, clientSignature)
      : EMPTY;
    if (!timingSafeEqual(await digest(this.#hash, clientKey), keys.storedKey)) {
      throw this.#invalidCredentials();
    }
    const serverSignature = await hmac(this.#hash, keys.serverKey, authMessage);
    return {
      response: encoder.encode(`v=${encodeBase64(serverSignature)}`),
      done: true,
      user: this.#user,
    };
  }
}

// RFC 7628 client initial response: GS2 header, then key=value pairs each ended by %x01,
// then a final %x01. Values exclude %x01 by their alphabet, so the pattern is unambiguous.
// deno-lint-ignore no-control-regex -- %x01 is the protocol's separator.
const OAUTH_INITIAL = /^n,(?:a=[^,]*)?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*)\x01$/;
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

type OAuthServerState = "initial" | "error-sent" | "ended";

class OAuthBearerServer implements SaslServerExchange {
  readonly mechanism = "OAUTHBEARER";
  readonly #nowMs: () => number;
  #state: OAuthServerState = "initial";
  #rejection = "";

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  step(client: Uint8Array): Promise<SaslServerStep> {
    try {
      return Promise.resolve(this.#advance(client));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #advance(client: Uint8Array): SaslServerStep {
    const state = this.#state;
    this.#state = "ended";
    if (state === "error-sent") {
      // RFC 7628 §3.2.3: the client acknowledges our error with %x01; the exchange then fails.
      // Kafka's message is the error JSON alone; the reason is added for test diagnostics.
      throw new AuthenticationError(`${INVALID_TOKEN_JSON}: ${this.#rejection}`);
    }
    if (state === "ended") throw completed(this.mechanism);

    const match = OAUTH_INITIAL.exec(decodeText(client, "OAUTHBEARER client message"));
    if (match === null) {
      throw new AuthenticationError(
        "Authentication failed: invalid OAUTHBEARER client first message (RFC 7628 §3.1)",
      );
    }
    let auth: string | undefined;
    for (const pair of match[1].split("\x01")) {
      if (pair.startsWith("auth=")) auth = pair.slice(5);
    }
    const bearer = auth === undefined ? null : BEARER.exec(auth);
    if (bearer === null) {
      throw new AuthenticationError(
        "Authentication failed: OAUTHBEARER client message has no auth=Bearer <token>",
      );
    }
    const verdict = validateUnsecuredJwt(bearer[1], this.#nowMs());
    if (verdict.rejection !== undefined) {
      this.#rejection = verdict.rejection;
      this.#state = "error-sent";
      return {
        response: encoder.encode(INVALID_TOKEN_JSON),
        done: false,
      };
    }
    return { response: EMPTY, done: true, user: verdict.sub };
  }
}

interface JwtVerdict {
  sub?: string;
  rejection?: string;
}

function decodeJwtPart(part: string): unknown {
  const bytes = decodeBase64Url(part);
  if (bytes === null) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The checks of Kafka's default unsecured validator: alg none, empty signature, a non-empty
// `sub`, a numeric `exp` in the future and, when present, a numeric `iat` not in the future.
function validateUnsecuredJwt(token: string, nowMs: number): JwtVerdict {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[2] !== "") {
    return { rejection: "the token is not an unsecured JWS (header.claims. with no signature)" };
  }
  const header = decodeJwtPart(parts[0]);
  if (!isObject(header) || header.alg !== "none") {
    return { rejection: 'the token\'s header is not a JSON object with alg "none"' };
  }
  const claims = decodeJwtPart(parts[1]);
  if (!isObject(claims)) return { rejection: "the token's claims are not a JSON object" };
  if (typeof claims.sub !== "string" || claims.sub === "") {
    return { rejection: "the token has no sub (principal) claim" };
  }
  if (typeof claims.exp !== "number") return { rejection: "the token has no numeric exp claim" };
  if (claims.exp * 1000 <= nowMs) return { rejection: "the token has expired" };
  if (claims.iat !== undefined && (typeof claims.iat !== "number" || claims.iat * 1000 > nowMs)) {
    return { rejection: "the token's iat claim is not a time in the past" };
  }
  return { sub: claims.sub };
}

/**
 * Creates the server side of one authentication.
 *
 * @example
 * ```ts
 * import { createSaslServer } from "./sasl_server.ts";
 * const server = createSaslServer("PLAIN", { alice: "alice-secret" })!;
 * const step = await server.step(new TextEncoder().encode("\0alice\0alice-secret"));
 * // step: { response: empty, done: true, user: "alice" }
 * ```
 *
 * @param mechanism The mechanism the client chose in SaslHandshake (case-sensitive).
 * @param users User name → password, for PLAIN and SCRAM (OAUTHBEARER ignores it).
 * @param options Random source, wall clock, SCRAM iteration count and nonce check.
 * @returns The exchange, or `null` for a mechanism not in {@link supportedSaslMechanisms}.
 */
export function createSaslServer(
  mechanism: string,
  users: Readonly<Record<string, string>>,
  options: SaslServerOptions = {},
): SaslServerExchange | null {
  const getRandomValues = options.getRandomValues ??
    ((array: Uint8Array<ArrayBuffer>) => crypto.getRandomValues(array));
  const iterations = options.scramIterations ?? 4096;
  const nonceCheck = options.scramNonceCheck ?? "exact";
  switch (mechanism) {
    case "PLAIN":
      return new PlainServer(users);
    case "SCRAM-SHA-256":
      return new ScramServer(mechanism, "SHA-256", users, getRandomValues, iterations, nonceCheck);
    case "SCRAM-SHA-512":
      return new ScramServer(mechanism, "SHA-512", users, getRandomValues, iterations, nonceCheck);
    case "OAUTHBEARER":
      return new OAuthBearerServer(options.nowMs ?? Date.now);
    default:
      return null;
  }
}
