/**
 * SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on WebCrypto: the password never
 * crosses the wire, and the broker proves in its final message that it knows the credentials
 * too.
 *
 * @module
 */

import { checkCredential, type CredentialSource, readCredentials } from "./credentials.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { AuthenticationError, type SaslExchange, type SaslMechanism } from "./mechanism.ts";
import {
  deriveScramKeys,
  hmac,
  type ScramHash,
  timingSafeEqual,
  xorBytes,
} from "./scram_crypto.ts";
import {
  decodeScramText,
  escapeSaslName,
  isPrintable,
  parseScramAttributes,
  requireAttribute,
} from "./scram_message.ts";

export type { ScramHash } from "./scram_crypto.ts";

/** A SCRAM user name and password. */
export interface ScramCredentials {
  /** The Kafka user name (escaped on the wire as RFC 5802 requires). */
  username: string;
  /** Its password. */
  password: string;
}

/** Options of the SCRAM mechanisms. */
export interface ScramOptions {
  /**
   * Fills the array it is given with random bytes and returns it, like (and by default)
   * `crypto.getRandomValues`; the returned bytes, base64-encoded, are the client nonce. Tests
   * that replay a fixed exchange return fixed bytes instead.
   */
  getRandomValues?: (array: Uint8Array<ArrayBuffer>) => Uint8Array;
}

// No GS2 authorization id and no channel binding: "n,," and its base64 "biws" in client-final.
const GS2_HEADER = "n,,";
const CHANNEL_BINDING = "biws";
const NONCE_BYTES = 24;
// RFC 7677 and Kafka's broker both require at least 4096; fewer make offline guessing cheap.
const MIN_ITERATIONS = 4096;
// Far above any real configuration (Kafka caps at 16384): stops a rogue server from making
// the client spin on a huge PBKDF2 run.
const MAX_ITERATIONS = 1_000_000;
const encoder = new TextEncoder();

type ScramState = "initial" | "server-first" | "server-final" | "finished";

class ScramExchange implements SaslExchange {
  readonly #name: string;
  readonly #hash: ScramHash;
  readonly #username: string;
  readonly #password: string;
  readonly #getRandomValues: (array: Uint8Array<ArrayBuffer>) => Uint8Array;
  #state: ScramState = "initial";
  #clientNonce = "";
  #clientFirstBare = "";
  #serverSignature: Uint8Array = new Uint8Array(0);

  constructor(
    name: string,
    hash: ScramHash,
    credentials: ScramCredentials,
    getRandomValues: (array: Uint8Array<ArrayBuffer>) => Uint8Array,
  ) {
    this.#name = name;
    this.#hash = hash;
    this.#username = credentials.username;
    this.#password = credentials.password;
    this.#getRandomValues = getRandomValues;
  }

  initial(): Promise<Uint8Array> {
    try {
      this.#advance("initial", "server-first");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#clientNonce = encodeBase64(this.#getRandomValues(new Uint8Array(NONCE_BYTES)));
    this.#clientFirstBare = `n=${escapeSaslName(this.#username)},r=${this.#clientNonce}`;
    return Promise.resolve(encoder.encode(GS2_HEADER + this.#clientFirstBare));
  }

  async next(server: Uint8Array): Promise<Uint8Array | null> {
    if (this.#state === "server-first") {
      this.#advance("server-first", "server-final");
      return await this.#clientFinal(server);
    }
    this.#advance("server-final", "finished");
    this.#verifyServerFinal(server);
    return null;
  }

  // Moves on before any await, so that a failed or repeated step leaves the exchange unusable.
  #advance(expected: ScramState, next: ScramState): void {
    if (this.#state !== expected) {
      throw new AuthenticationError(
        `${this.#name} exchange used out of order: expected the ${expected} step but it is at ` +
          `${this.#state} — an exchange from begin() serves exactly one authentication`,
      );
    }
    this.#state = next;
  }

  async #clientFinal(server: Uint8Array): Promise<Uint8Array> {
    const what = `${this.#name} server-first message`;
    const serverFirst = decodeScramText(server, what);
    const attributes = this.#parse(serverFirst, what);
    if (attributes.has("m")) {
      throw new AuthenticationError(
        `${what} demands a mandatory extension (m=) this client does not support`,
      );
    }
    const nonce = requireAttribute(attributes, "r", what);
    if (
      !nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length ||
      !isPrintable(nonce)
    ) {
      throw new AuthenticationError(
        `${this.#name}: server nonce does not extend the client nonce — the reply does not ` +
          `belong to this exchange (replayed or tampered with)`,
      );
    }
    const salt = decodeBase64(requireAttribute(attributes, "s", what));
    if (salt === null || salt.length === 0) {
      throw new AuthenticationError(`${what} has a salt (s=) that is not non-empty base64`);
    }
    const iterationText = requireAttribute(attributes, "i", what);
    const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : NaN;
    if (!(iterations >= MIN_ITERATIONS && iterations <= MAX_ITERATIONS)) {
      throw new AuthenticationError(
        `${what} has iteration count i=${iterationText}; accepted are ${MIN_ITERATIONS} to ` +
          `${MAX_ITERATIONS} — check the broker's SCRAM credential for this user`,
      );
    }

    const keys = await deriveScramKeys(this.#hash, this.#password, salt, iterations);
    const withoutProof = `c=${CHANNEL_BINDING},r=${nonce}`;
    const authMessage = encoder.encode(`${this.#clientFirstBare},${serverFirst},${withoutProof}`);
    const clientSignature = await hmac(this.#hash, keys.storedKey, authMessage);
    this.#serverSignature = await hmac(this.#hash, keys.serverKey, authMessage);
    const proof = encodeBase64(xorBytes(keys.clientKey, clientSignature));
    return encoder.encode(`${withoutProof},p=${proof}`);
  }

  #verifyServerFinal(server: Uint8Array): void {
    const what = `${this.#name} server-final message`;
    const attributes = this.#parse(decodeScramText(server, what), what);
    const signature = decodeBase64(requireAttribute(attributes, "v", what));
    if (signature === null || !timingSafeEqual(signature, this.#serverSignature)) {
      throw new AuthenticationError(
        `${this.#name}: server signature mismatch — the broker could not prove it knows the ` +
          `password (man in the middle?)`,
      );
    }
  }

  // A server error (e=) wins over any other content, so its text reaches the user.
  #parse(message: string, what: string): Map<string, string> {
    const attributes = parseScramAttributes(message, what);
    const error = attributes.get("e");
    if (error !== undefined) {
      throw new AuthenticationError(
        `${this.#name} authentication failed: the broker answered "${error}" — check the ` +
          `username and password, and that the user has ${this.#name} credentials on the broker`,
      );
    }
    return attributes;
  }
}

/**
 * Creates a SCRAM mechanism over any hash. Kafka supports only the two named ones
 * ({@link scramSha256}, {@link scramSha512}); this exists for other names and test vectors.
 *
 * @param name The mechanism name sent in SaslHandshake.
 * @param hash The hash function.
 * @param credentials The username and password, or a provider called on every `begin()`.
 * @param options The random source for nonces.
 * @returns The mechanism.
 */
export function createScramMechanism(
  name: string,
  hash: ScramHash,
  credentials: CredentialSource<ScramCredentials>,
  options: ScramOptions = {},
): SaslMechanism {
  const getRandomValues = options.getRandomValues ??
    ((array: Uint8Array<ArrayBuffer>) => crypto.getRandomValues(array));
  return {
    name,
    async begin(): Promise<SaslExchange> {
      const current = await readCredentials(credentials, name);
      const username = checkCredential(name, "username", current?.username);
      const password = checkCredential(name, "password", current?.password);
      return new ScramExchange(name, hash, { username, password }, getRandomValues);
    },
  };
}

/**
 * Creates a SASL/SCRAM-SHA-256 mechanism.
 *
 * @example
 * ```ts
 * import { scramSha256 } from "@kafka-wire/transport";
 * const mechanism = scramSha256({ username: "alice", password: "alice-secret" });
 * ```
 *
 * @param credentials The username and password, or a provider called on every `begin()`.
 * @param options The random source for nonces.
 * @returns The mechanism, named `"SCRAM-SHA-256"`.
 */
export function scramSha256(
  credentials: CredentialSource<ScramCredentials>,
  options: ScramOptions = {},
): SaslMechanism {
  return createScramMechanism("SCRAM-SHA-256", "SHA-256", credentials, options);
}

/**
 * Creates a SASL/SCRAM-SHA-512 mechanism.
 *
 * @example
 * ```ts
 * import { scramSha512 } from "@kafka-wire/transport";
 * const mechanism = scramSha512(async () => ({ username: "alice", password: "rotated" }));
 * ```
 *
 * @param credentials The username and password, or a provider called on every `begin()`.
 * @param options The random source for nonces.
 * @returns The mechanism, named `"SCRAM-SHA-512"`.
 */
export function scramSha512(
  credentials: CredentialSource<ScramCredentials>,
  options: ScramOptions = {},
): SaslMechanism {
  return createScramMechanism("SCRAM-SHA-512", "SHA-512", credentials, options);
}
