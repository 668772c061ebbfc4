/**
 * How a broker connection words its errors: the "(after N ms in state X)" suffix, the context
 * added to errors from below without touching them, librdkafka's hints for a lost connection,
 * and which read or write failures count as a lost connection. Pure functions, so that every
 * wording can be tested without a connection.
 *
 * @module
 */

import { AuthenticationError } from "../sasl/mechanism.ts";
import {
  ConfigError,
  ConnectionClosedError,
  type ConnectionLossHint,
  KafkaTransportError,
  TimeoutError,
  TlsError,
} from "../transport/errors.ts";
import { ApiVersions } from "../protocol/api_versions.ts";
import { DecodeError, FramingError } from "../framing/errors.ts";
import { BrokerState } from "./state.ts";

/** A connection closed this soon after UP without SASL probably wanted SASL (librdkafka). */
const SASL_HINT_WINDOW_MS = 2000;

/**
 * The messages of errors this module gave a connection context, without that context: what
 * another message quotes when it embeds one (so a suffix is never repeated), kept beside the
 * error instead of being parsed back out of its message.
 */
const bareMessages = new WeakMap<Error, string>();

/**
 * The suffix of every message from a connection.
 *
 * @param elapsedMs Time spent in the current state.
 * @param state The current state.
 * @returns " (after N ms in state X)".
 */
export function where(elapsedMs: number, state: BrokerState): string {
  return ` (after ${Math.round(elapsedMs)} ms in state ${state})`;
}

/**
 * Records the message of an error built by the connection without its suffix, for
 * {@link bareMessage}.
 *
 * @param error The error, whose message ends with `suffix`.
 * @param bare Its message without the suffix.
 * @returns The error.
 */
function withBareMessage<E extends Error>(error: E, bare: string): E {
  bareMessages.set(error, bare);
  return error;
}

/**
 * The message of an error without the connection context it was given, for quoting inside
 * another message that carries its own.
 *
 * @param error An error.
 * @returns Its message, less the "(after N ms in state X)" suffix when this module added one.
 */
export function bareMessage(error: Error): string {
  return bareMessages.get(error) ?? error.message;
}

/**
 * Gives an error from below (a connector, a socket, a SASL mechanism, a decoder) the
 * connection's context without changing it: an error of ours becomes a copy of the same class,
 * with the same fields, whose message adds `hint` and `suffix` and whose `cause` is the
 * original; anything else is wrapped in a {@link KafkaTransportError} named by `context`. The
 * original is left as it was, so an error shared between connections (or rethrown by a
 * connector) never collects suffixes.
 *
 * @param error What was thrown.
 * @param context What was being done, e.g. "Connecting to host:9092" (for foreign errors).
 * @param suffix The connection's {@link where} suffix.
 * @param hint Words added before the suffix (e.g. ": connecting to a PLAINTEXT listener?").
 * @returns The error with context.
 */
export function withContext(
  error: unknown,
  context: string,
  suffix: string,
  hint = "",
): KafkaTransportError {
  if (!(error instanceof KafkaTransportError)) {
    const bare = `${context}: ${error instanceof Error ? error.message : String(error)}`;
    return withBareMessage(
      new KafkaTransportError(`${bare}${hint}${suffix}`, { cause: error }),
      `${bare}${hint}`,
    );
  }
  const copy = Object.create(Object.getPrototypeOf(error)) as KafkaTransportError;
  // Own fields: name, retriable, code and each subclass's own (hint, kind, state, ...).
  Object.assign(copy, error);
  const message = `${error.message}${hint}${suffix}`;
  const hidden = { writable: true, configurable: true, enumerable: false };
  Object.defineProperty(copy, "message", { ...hidden, value: message });
  Object.defineProperty(copy, "cause", { ...hidden, value: error });
  const stack = typeof error.stack === "string" ? error.stack.replace(error.message, message) : "";
  Object.defineProperty(copy, "stack", { ...hidden, value: stack });
  return withBareMessage(copy, `${error.message}${hint}`);
}

/**
 * Whether a read or write failure is a lost connection (re-dialled for queued requests) or an
 * error that keeps its class and ends the attempt as it is. The same rule for reads and
 * writes: a failure that is ours and not retriable (a framing error, a refused authentication,
 * a connector's `ConfigError`, a TLS failure before UP) is kept; anything else is a loss.
 *
 * A TLS failure before UP is a configuration problem, not a lost connection: e.g. a refused
 * client certificate, which TLS 1.3 reports only after the client's side of the handshake is
 * done (during ApiVersions). After UP it is treated as a loss, like a reset.
 *
 * @param error What the read or write rejected with.
 * @param established Whether the connection had reached UP.
 * @returns `true` for a lost connection.
 */
export function isConnectionLoss(error: unknown, established: boolean): boolean {
  if (!(error instanceof KafkaTransportError)) return true;
  if (error instanceof FramingError || error instanceof AuthenticationError) return false;
  if (error instanceof TlsError) return established;
  return error.retriable;
}

/** What the state a connection was lost in suggests, in words and as a field. */
export interface LossHint {
  /** The typed hint. */
  readonly hint: ConnectionLossHint;
  /** The same in words, starting ": ". */
  readonly text: string;
}

/** Where a connection was when it was lost, for {@link lossHint}. */
export interface LossContext {
  /** The state it was lost in. */
  readonly state: BrokerState;
  /** Whether the peer closed cleanly (rather than a reset or another failure). */
  readonly clean: boolean;
  /** Whether SASL is configured. */
  readonly sasl: boolean;
  /** Milliseconds since the connection reached UP. */
  readonly sinceUpMs: number;
}

/**
 * librdkafka's hints for a lost connection.
 *
 * @param c Where the connection was.
 * @returns The hint, or `null` when the state suggests nothing.
 */
export function lossHint(c: LossContext): LossHint | null {
  if (c.state === BrokerState.APIVERSION_QUERY) {
    return {
      hint: "security-protocol",
      text: ": incorrect security protocol (TLS listener?) or broker version < 0.10",
    };
  }
  // A clean close only, as librdkafka: a SASL listener hangs up politely on the first non-SASL
  // request, while a reset (a crashed broker) says nothing about SASL.
  if (c.clean && c.state === BrokerState.UP && !c.sasl && c.sinceUpMs < SASL_HINT_WINDOW_MS) {
    return { hint: "sasl-required", text: ": broker might require SASL authentication" };
  }
  if (c.state === BrokerState.AUTH_LEGACY || c.state === BrokerState.AUTH_REQ) {
    return { hint: "sasl-credentials", text: ": check the SASL mechanism and credentials" };
  }
  return null;
}

/**
 * The hint for a connector failure: a peer that hangs up during the TLS dial is probably a
 * PLAINTEXT listener.
 *
 * @param state The state the dial failed in.
 * @param error What the connector rejected with.
 * @returns Words to add before the suffix, or "".
 */
export function dialHint(state: BrokerState, error: unknown): string {
  return state === BrokerState.SSL_HANDSHAKE && error instanceof ConnectionClosedError
    ? ": the peer hung up during the TLS handshake; connecting to a PLAINTEXT listener?"
    : "";
}

/**
 * The error for a connection the broker closed or reset, with librdkafka's hints in words and
 * as {@link ConnectionClosedError.hint}.
 *
 * @param address "host:port".
 * @param cause The read or write failure, or `null` for a clean close.
 * @param c Where the connection was.
 * @param suffix The connection's {@link where} suffix.
 * @returns The error.
 */
export function lostError(
  address: string,
  cause: KafkaTransportError | null,
  c: LossContext,
  suffix: string,
): ConnectionClosedError {
  const h = lossHint(c);
  const what = cause === null ? "closed by the broker" : `lost: ${bareMessage(cause)}`;
  const bare = `Connection to ${address} ${what}${h?.text ?? ""}`;
  const hint = h?.hint;
  return withBareMessage(
    new ConnectionClosedError(`${bare}${suffix}`, cause === null ? { hint } : { cause, hint }),
    bare,
  );
}

/**
 * Brokers without SaslAuthenticate have no error reply: hanging up while a token awaits its
 * answer is how they refuse the credentials, so such a close is an authentication failure.
 *
 * @param mechanism The mechanism's name.
 * @param address "host:port".
 * @param suffix The connection's {@link where} suffix.
 * @returns The error.
 */
export function legacyRefusal(
  mechanism: string,
  address: string,
  suffix: string,
): AuthenticationError {
  const bare = `SASL ${mechanism} authentication failed: ${address} closed the connection ` +
    `during legacy (SaslHandshake v0) authentication, which is how such brokers refuse ` +
    `credentials — check the SASL mechanism and credentials`;
  return withBareMessage(new AuthenticationError(`${bare}${suffix}`), bare);
}

/**
 * The error for a request value that failed to encode (or to be looked at before queueing).
 * Our codecs throw typed errors naming the field; anything else (a `TypeError` from a missing
 * field, a throwing `encodeBody`) means the request value does not fit the API's layout.
 *
 * @param error What was thrown.
 * @param what What was being done, e.g. "Encoding Produce v11 request".
 * @param apiName The API's name.
 * @param fromSend Whether the value came through `send()` (else `request()`'s `encodeBody`).
 * @returns The typed error.
 */
export function encodeFailure(
  error: unknown,
  what: string,
  apiName: string,
  fromSend: boolean,
): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const source = fromSend ? "request value passed to send()" : "encodeBody of request()";
  return new ConfigError(
    `${what} failed: ${detail} — check the ${source} against the ${apiName} request layout`,
    { cause: error },
  );
}

/**
 * Why a request timed out in the queue, for its message.
 *
 * @param state The connection's state when it expired.
 * @param lastFailure Why the last connection attempt failed, when the connection is not up.
 * @param maxInFlight The in-flight limit, when the connection is up.
 * @returns The reason, in words.
 */
export function queuedTimeoutReason(
  state: BrokerState,
  lastFailure: KafkaTransportError | null,
  maxInFlight: number,
): string {
  if (state === BrokerState.UP) {
    return `the connection is UP but all ${maxInFlight} in-flight slot(s) (maxInFlight) were ` +
      `taken by requests awaiting replies: the broker answers slower than requests arrive`;
  }
  if (state === BrokerState.REAUTH) {
    return "the connection was re-authenticating (KIP-368) and holds new requests until it is done";
  }
  if (lastFailure !== null) {
    return `the connection is not up; its last attempt failed: ${bareMessage(lastFailure)}`;
  }
  return "the connection was not ready (check the broker is reachable)";
}

/**
 * The error for a setup request (ApiVersions, SASL) that got no reply in time.
 *
 * @param p The request: name, version, key and timeout.
 * @param suffix The connection's {@link where} suffix.
 * @returns The error.
 */
export function setupTimeoutError(
  p: { apiName: string; apiVersion: number; apiKey: number; timeoutMs: number },
  suffix: string,
): TimeoutError {
  const hint = p.apiKey === ApiVersions.key
    ? ": the broker may be older than 0.10, or the listener may expect TLS or not be Kafka"
    : "";
  return new TimeoutError(
    `Connection setup request ${p.apiName} v${p.apiVersion} got no reply within ` +
      `${p.timeoutMs} ms${hint}${suffix}`,
  );
}

/**
 * The error for a connector that ignored `tls`: it returned a connection that is not secure.
 * Raised before anything is written, so that no credentials travel in the clear.
 *
 * @param connector The connector, named in the message.
 * @param secure What the connection's `secure` said.
 * @param suffix The connection's {@link where} suffix.
 * @returns The error.
 */
export function insecureConnError(
  connector: { name: string },
  secure: unknown,
  suffix: string,
): ConfigError {
  const name = connector.name === "" ? "(anonymous)" : connector.name;
  return new ConfigError(
    `BrokerConnection option tls is set, but connector ${name} returned a connection that is ` +
      `not secure (Conn.secure is ${String(secure)}): nothing was sent on it; use a connector ` +
      `that dials TLS when ConnectOptions.tls is given${suffix}`,
  );
}

/**
 * The error for a request that timed out while only part of it was written: the connection
 * must go, since another request written after it would be spliced into its bytes.
 *
 * @param p The request: name, version and correlation id.
 * @param suffix The connection's {@link where} suffix.
 * @returns The error that tears the connection down.
 */
export function partlyWrittenTimeoutError(
  p: { apiName: string; apiVersion: number; correlationId: number },
  suffix: string,
): TimeoutError {
  return new TimeoutError(
    `Request ${p.apiName} v${p.apiVersion} (correlation id ${p.correlationId}) timed ` +
      `out while partly written: disconnecting so that no other request is spliced into ` +
      `it${suffix}`,
  );
}

/**
 * The error for `socketMaxFails` consecutive request timeouts on one connection (librdkafka's
 * `socket.max.fails`), which tears it down.
 *
 * @param count How many timed out in a row.
 * @param limit The `socketMaxFails` setting.
 * @param suffix The connection's {@link where} suffix.
 * @returns The error.
 */
export function socketMaxFailsError(count: number, limit: number, suffix: string): TimeoutError {
  return new TimeoutError(
    `${count} request(s) timed out: disconnecting (socketMaxFails ${limit}); check broker ` +
      `load and requestTimeoutMs${suffix}`,
  );
}

/**
 * A reply is decoded where it lies in the received chunk, so a codec's offsets count from the
 * chunk; a `DecodeError` names the byte within the frame, as its `offset` promises.
 *
 * @param error The codec's error.
 * @param start Where the frame's body starts in the chunk.
 * @returns The error with a frame-relative offset (itself when the frame starts the chunk).
 */
export function frameRelative(error: DecodeError, start: number): DecodeError {
  if (start === 0) return error;
  const offset = error.offset - start;
  const prefix = `Cannot decode field "${error.field}" at byte ${error.offset}: `;
  const detail = error.message.startsWith(prefix)
    ? error.message.slice(prefix.length)
    : error.message;
  return new DecodeError(error.field, offset, detail);
}
