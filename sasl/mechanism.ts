/**
 * The client side of a SASL mechanism, as driven by the broker connection through
 * SaslHandshake / SaslAuthenticate (or raw legacy frames), and the error every mechanism
 * fails with.
 *
 * @module
 */

import { type KafkaErrorOptions, KafkaTransportError } from "../transport/errors.ts";

/**
 * A configured SASL mechanism. `begin()` starts one authentication: it re-reads the
 * credentials (which may come from an async provider, so rotation takes effect on the next
 * connection or re-authentication) and returns a fresh exchange.
 */
export interface SaslMechanism {
  /** The mechanism name sent in SaslHandshake, e.g. `"SCRAM-SHA-256"`. */
  readonly name: string;
  /**
   * Starts one authentication exchange.
   *
   * @returns A new exchange holding the credentials read for it.
   */
  begin(): Promise<SaslExchange>;
}

/** One client-side authentication exchange; single use. */
export interface SaslExchange {
  /**
   * Produces the first client message, sent in the first SaslAuthenticate.
   *
   * @returns The first client message.
   */
  initial(): Promise<Uint8Array>;
  /**
   * Consumes a server message.
   *
   * @param server The bytes the server sent.
   * @returns The next client message, or `null` when the client is done (after verifying
   *   the server's final message where the mechanism has one).
   */
  next(server: Uint8Array): Promise<Uint8Array | null>;
}

/**
 * Authentication failed: the server rejected the credentials, or could not prove its own
 * identity, or sent a message the mechanism cannot accept. Never retriable with the same
 * credentials.
 */
export class AuthenticationError extends KafkaTransportError {
  /**
   * Creates the error; `retriable` is always `false`.
   *
   * @param message What failed and what to check (credentials, mechanism, broker config).
   * @param options Cause and Kafka error code; never retriable.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { ...options, retriable: false });
    this.name = "AuthenticationError";
  }
}
