/**
 * The error classes shared by every layer. Runtime errors (Deno's error classes, Bun's socket
 * errors) are converted into these at the adapter boundary, so upper layers and users only
 * ever see this tree.
 *
 * @module
 */

/** Options accepted by every {@link KafkaTransportError} constructor. */
export interface KafkaErrorOptions {
  /** The underlying error, kept for diagnostics. */
  cause?: unknown;
  /** Whether retrying the same operation may succeed. Overrides the class default. */
  retriable?: boolean;
  /** The Kafka protocol error code, when the failure came from a broker's reply. */
  code?: number;
}

/**
 * Base class of every error this module throws or rejects with.
 *
 * `retriable` says whether the same operation may succeed if tried again (on a new connection
 * for transport failures); `code` is the Kafka protocol error code where there is one.
 */
export class KafkaTransportError extends Error {
  /** Whether retrying the same operation may succeed. */
  readonly retriable: boolean;
  /** The Kafka protocol error code, or `undefined` when the failure is not a broker reply. */
  readonly code: number | undefined;

  /**
   * Creates the error.
   *
   * @param message What went wrong and what to check.
   * @param options Cause, retriable flag and Kafka error code.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KafkaTransportError";
    this.retriable = options.retriable ?? false;
    this.code = options.code;
  }
}

/** A TCP connection could not be established: the port refused it or the host is unreachable. */
export class ConnectionRefusedError extends KafkaTransportError {
  /**
   * Creates the error.
   *
   * @param message What was dialled and what to check.
   * @param options Cause; retriable defaults to `true`.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "ConnectionRefusedError";
  }
}

/**
 * What the state a connection was lost in suggests, as librdkafka hints it (the message carries
 * the same hint in words).
 */
export type ConnectionLossHint =
  /**
   * Closed during ApiVersions, the first request: the wrong security protocol (a TLS listener
   * dialled without TLS?) or a broker older than 0.10.
   */
  | "security-protocol"
  /**
   * Closed cleanly soon after reaching UP with no SASL configured: the listener probably
   * requires SASL.
   */
  | "sasl-required"
  /** Closed during SASL authentication: check the mechanism and the credentials. */
  | "sasl-credentials";

/** Options of a {@link ConnectionClosedError}. */
export interface ConnectionClosedErrorOptions extends KafkaErrorOptions {
  /** What the state the connection was lost in suggests; none by default. */
  hint?: ConnectionLossHint;
}

/** An established connection was closed or reset by the peer, or by the network. */
export class ConnectionClosedError extends KafkaTransportError {
  /**
   * What the state the connection was lost in suggests about the cause, as recognised by the
   * broker connection; `undefined` when it suggests nothing.
   */
  readonly hint: ConnectionLossHint | undefined;

  /**
   * Creates the error.
   *
   * @param message What was happening when the connection went away.
   * @param options Cause and hint; retriable defaults to `true`.
   */
  constructor(message: string, options: ConnectionClosedErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "ConnectionClosedError";
    this.hint = options.hint;
  }
}

/** An operation (connect, handshake, request) did not finish within its time limit. */
export class TimeoutError extends KafkaTransportError {
  /**
   * Creates the error.
   *
   * @param message Which operation timed out and after how long.
   * @param options Cause; retriable defaults to `true`.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "TimeoutError";
  }
}

/** What a TLS failure most likely means, as far as the runtime's text tells. */
export type TlsFailureKind =
  /** The server's certificate chain does not lead to a trusted CA. */
  | "untrusted"
  /** The certificate is valid but not for the name that was verified. */
  | "hostname"
  /** The certificate is outside its validity period. */
  | "expired"
  /** The server refused this client's certificate, or needs one and got none. */
  | "client-certificate"
  /** The peer does not speak TLS: it hung up or answered with something that is not TLS. */
  | "not-tls"
  /** Anything else. */
  | "other";

/** Options of a {@link TlsError}. */
export interface TlsErrorOptions extends KafkaErrorOptions {
  /** What the failure was recognised as; `"other"` by default. */
  kind?: TlsFailureKind;
}

/** The TLS handshake failed: untrusted certificate, hostname mismatch, or a non-TLS peer. */
export class TlsError extends KafkaTransportError {
  /**
   * What the failure was recognised as, from the runtime's error; `"other"` when the runtime
   * did not say.
   */
  readonly kind: TlsFailureKind;

  /**
   * Creates the error.
   *
   * @param message What failed and what to check (CA, server name, listener type).
   * @param options Cause and kind; retriable defaults to `false`.
   */
  constructor(message: string, options: TlsErrorOptions = {}) {
    super(message, options);
    this.name = "TlsError";
    this.kind = options.kind ?? "other";
  }
}

/** The caller aborted the operation through its `AbortSignal`. */
export class AbortError extends KafkaTransportError {
  /**
   * Creates the error.
   *
   * @param message What was aborted.
   * @param options Cause (usually the signal's reason); retriable defaults to `false`.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, options);
    this.name = "AbortError";
  }
}

/** An option passed by the caller is invalid; the message names the option and the fix. */
export class ConfigError extends KafkaTransportError {
  /**
   * Creates the error.
   *
   * @param message Which option is wrong and what it accepts.
   * @param options Cause; never retriable.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { ...options, retriable: false });
    this.name = "ConfigError";
  }
}

/**
 * `tls.dangerouslyDisableVerification` was set, but the runtime verified the certificate chain
 * anyway and found it untrusted or expired: Deno can skip only the host name check per
 * connection. The message says how to trust the broker's CA, or to skip verification for the
 * whole process.
 */
export class ChainVerificationRequiredError extends ConfigError {
  /**
   * Creates the error.
   *
   * @param message What failed and how to trust the chain or skip its verification.
   * @param options Cause; never retriable.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, options);
    this.name = "ChainVerificationRequiredError";
  }
}

/**
 * Wraps anything thrown into a {@link KafkaTransportError}, keeping ours as they are.
 *
 * @param error Whatever was caught.
 * @param context A short phrase saying what was being done, used as the message prefix.
 * @returns The error itself when it is already ours, otherwise a wrapper with it as `cause`.
 */
export function asKafkaError(error: unknown, context: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new KafkaTransportError(`${context}: ${detail}`, { cause: error });
}
