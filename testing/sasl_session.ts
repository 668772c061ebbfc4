/**
 * The SASL state of one test-broker connection: handshake, token exchange inside
 * SaslAuthenticate or as raw frames (handshake v0), session lifetime and re-authentication,
 * following what Kafka's `SaslServerAuthenticator` does.
 *
 * @module
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { SaslAuthenticateResponse } from "../protocol/sasl_authenticate.ts";
import type { SaslHandshakeResponse } from "../protocol/sasl_handshake.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import { createSaslServer, type SaslServerExchange, type ScramNonceCheck } from "./sasl_server.ts";

/** The broker's SASL settings after validation. */
export interface SaslSettings {
  /** The enabled mechanism names, e.g. "PLAIN". */
  readonly mechanisms: readonly string[];
  /** User name to password. */
  readonly users: Readonly<Record<string, string>>;
  /** Whether the broker predates SaslAuthenticate (advertises SaslHandshake v0 only). */
  readonly legacy: boolean;
  /** Milliseconds a session lasts before re-authentication; 0 for no limit. */
  readonly sessionLifetimeMs: number;
  /** How SCRAM checks the client-final nonce. */
  readonly scramNonceCheck: ScramNonceCheck;
}

/** A SaslHandshake answer and whether the connection is closed once it is written. */
export interface HandshakeOutcome {
  /** The response to encode. */
  readonly response: SaslHandshakeResponse;
  /** Close the connection after the reply, as Kafka does when the handshake fails. */
  readonly closeAfter: boolean;
}

/** A SaslAuthenticate answer and whether the connection is closed once it is written. */
export interface AuthenticateOutcome {
  /** The response to encode. */
  readonly response: SaslAuthenticateResponse;
  /** Close the connection after the reply, as Kafka does when authentication fails. */
  readonly closeAfter: boolean;
}

const EMPTY = new Uint8Array(0);

/** One connection's progress through SASL authentication. */
export class SaslSession {
  readonly #settings: SaslSettings;
  #server: SaslServerExchange | undefined;
  #mechanism = "";
  /** Set by a SaslHandshake v0: the following frames are bare tokens, not requests. */
  #raw = false;
  #authenticated = false;
  #user: string | undefined;
  #expiresAt = Infinity;

  /** @param settings The broker's SASL settings. */
  constructor(settings: SaslSettings) {
    this.#settings = settings;
  }

  /** The enabled mechanism names, as the handshake reply lists them. */
  get mechanisms(): readonly string[] {
    return this.#settings.mechanisms;
  }

  /** Whether authentication has succeeded on this connection (stays true while re-authenticating). */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** The authenticated user, once known. */
  get user(): string | undefined {
    return this.#user;
  }

  /** Whether the next frame is a bare SASL token (after a SaslHandshake v0). */
  get raw(): boolean {
    return this.#raw;
  }

  /**
   * Whether the authenticated session outlived its lifetime; Kafka then closes the connection
   * on the next request that is not part of re-authentication.
   *
   * @param now The broker clock's current time.
   * @returns `true` when expired.
   */
  expired(now: number): boolean {
    return this.#authenticated && now >= this.#expiresAt;
  }

  /**
   * Answers a SaslHandshake.
   *
   * @param mechanism The mechanism the client asked for.
   * @param version The request version: 0 switches to bare token frames afterwards.
   * @returns The reply and whether to close after it.
   */
  handshake(mechanism: string, version: number): HandshakeOutcome {
    const mechanisms = [...this.#settings.mechanisms];
    if (this.#server !== undefined) {
      return {
        response: { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms },
        closeAfter: true,
      };
    }
    const server = mechanisms.includes(mechanism)
      ? createSaslServer(mechanism, this.#settings.users, {
        scramNonceCheck: this.#settings.scramNonceCheck,
      })
      : null;
    if (server === null) {
      return {
        response: { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms },
        closeAfter: true,
      };
    }
    this.#server = server;
    this.#mechanism = mechanism;
    this.#raw = version === 0;
    return { response: { errorCode: ErrorCode.NONE, mechanisms }, closeAfter: false };
  }

  /**
   * Answers a SaslAuthenticate: runs one step of the mechanism's server side.
   *
   * @param token The client's auth bytes.
   * @param now The broker clock's current time, for the session expiry.
   * @returns The reply (with the session lifetime once done) and whether to close after it.
   */
  async authenticate(token: Uint8Array, now: number): Promise<AuthenticateOutcome> {
    if (this.#server === undefined || this.#raw) {
      return this.#failure(
        ErrorCode.ILLEGAL_SASL_STATE,
        "Unexpected SaslAuthenticate request: send SaslHandshake v1 first",
      );
    }
    try {
      const { response, done } = await this.#step(token, now);
      return {
        response: {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          authBytes: response,
          sessionLifetimeMs: done ? this.#settings.sessionLifetimeMs : 0,
        },
        closeAfter: false,
      };
    } catch (error) {
      return this.#failure(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        failureMessage(error, this.#mechanism),
      );
    }
  }

  /**
   * Runs one step on a bare token frame (after SaslHandshake v0).
   *
   * @param token The frame's bytes.
   * @param now The broker clock's current time.
   * @returns The server's token to send back as a bare frame, or `null` when authentication
   *   failed: Kafka then just closes the connection, there being no way to say why.
   */
  async rawToken(token: Uint8Array, now: number): Promise<Uint8Array | null> {
    try {
      return (await this.#step(token, now)).response;
    } catch {
      this.#server = undefined;
      return null;
    }
  }

  async #step(token: Uint8Array, now: number): Promise<{ response: Uint8Array; done: boolean }> {
    const server = this.#server!;
    const step = await server.step(token);
    if (step.done) {
      if (this.#authenticated && step.user !== this.#user) {
        throw new AuthenticationError(
          `Cannot change principals during re-authentication from User:${this.#user}: ` +
            `User:${step.user}`,
        );
      }
      this.#server = undefined;
      this.#raw = false;
      this.#authenticated = true;
      this.#user = step.user;
      const lifetime = this.#settings.sessionLifetimeMs;
      this.#expiresAt = lifetime > 0 ? now + lifetime : Infinity;
    }
    return step;
  }

  #failure(errorCode: number, errorMessage: string): AuthenticateOutcome {
    this.#server = undefined;
    return {
      response: { errorCode, errorMessage, authBytes: EMPTY, sessionLifetimeMs: 0 },
      closeAfter: true,
    };
  }
}

function failureMessage(error: unknown, mechanism: string): string {
  if (error instanceof AuthenticationError) return error.message;
  const detail = error instanceof Error ? error.message : String(error);
  return `Authentication failed during authentication with SASL mechanism ${mechanism}: ${detail}`;
}
