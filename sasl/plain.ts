/**
 * SASL/PLAIN (RFC 4616): the username and password in one message, with an empty
 * authorization id. Use it only over TLS.
 *
 * @module
 */

import { checkCredential, type CredentialSource, readCredentials } from "./credentials.ts";
import type { SaslExchange, SaslMechanism } from "./mechanism.ts";

/** A username and password pair. */
export interface PlainCredentials {
  /** The Kafka user name. */
  username: string;
  /** Its password. */
  password: string;
}

const encoder = new TextEncoder();

class PlainExchange implements SaslExchange {
  readonly #message: Uint8Array;

  constructor(message: Uint8Array) {
    this.#message = message;
  }

  initial(): Promise<Uint8Array> {
    return Promise.resolve(this.#message);
  }

  next(): Promise<Uint8Array | null> {
    // The server's only answer is success (empty) or a failed SaslAuthenticate; either way
    // the client has nothing more to say.
    return Promise.resolve(null);
  }
}

/**
 * Creates a SASL/PLAIN mechanism.
 *
 * @example
 * ```ts
 * import { plain } from "@kafka-wire/transport";
 * const mechanism = plain({ username: "alice", password: "alice-secret" });
 * const rotating = plain(async () => ({ username: "alice", password: "from-vault" }));
 * ```
 *
 * @param credentials The username and password, or a provider called on every `begin()`.
 * @returns The mechanism, named `"PLAIN"`.
 */
export function plain(credentials: CredentialSource<PlainCredentials>): SaslMechanism {
  return {
    name: "PLAIN",
    async begin(): Promise<SaslExchange> {
      const current = await readCredentials(credentials, "PLAIN");
      const username = checkCredential("PLAIN", "username", current?.username);
      const password = checkCredential("PLAIN", "password", current?.password);
      return new PlainExchange(encoder.encode(`\0${username}\0${password}`));
    },
  };
}
