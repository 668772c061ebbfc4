/**
 * Turns a probe failure into what a person needs next: a category, the process exit code for
 * scripts, and a hint saying what to check. The categories follow the hints librdkafka users
 * rely on (wrong security protocol, TLS listener, SASL required, not a Kafka listener).
 *
 * @module
 */

import { ConnectionSetupTimeoutError } from "../broker/errors.ts";
import { DecodeError, FramingError } from "../framing/errors.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import {
  ChainVerificationRequiredError,
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  type KafkaTransportError,
  TimeoutError,
  TlsError,
} from "../transport/errors.ts";
import { UsageError } from "./probe_options.ts";

/** The probe's exit codes, documented in `--help`. */
export const ExitCode = {
  /** The broker reached UP and every round trip succeeded. */
  OK: 0,
  /** Any failure not covered below (e.g. the broker refused a request with an error code). */
  OTHER: 1,
  /** Bad options or unreadable files. */
  USAGE: 2,
  /** Connection refused, or closed by the broker. */
  CONNECTION: 3,
  /** TLS failed, or TLS and plaintext were mixed up between client and listener. */
  TLS: 4,
  /** SASL failed, or the listener requires SASL and none was configured. */
  AUTHENTICATION: 5,
  /** Setup or a request timed out. */
  TIMEOUT: 6,
  /** The peer is not a Kafka listener, or sent bytes that are not Kafka frames. */
  PROTOCOL: 7,
  /**
   * The bootstrap answered, but a broker Metadata lists is not reachable from here at the
   * address it advertises (`advertised.listeners`).
   */
  ADVERTISED_UNREACHABLE: 8,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** What kind of failure it was, most specific first. */
export type FailureKind =
  | "usage"
  | "refused"
  | "closed"
  | "wrong-security-protocol"
  | "tls-to-plaintext"
  | "tls"
  | "sasl-required"
  | "authentication"
  | "timeout"
  | "not-kafka"
  | "other";

/** Where the connection was and how it was configured when the error happened. */
export interface FailureContext {
  /** The broker state the connection failed in, e.g. "APIVERSION_QUERY". */
  state: string | null;
  /** Whether TLS was configured. */
  tls: boolean;
  /** Whether SASL was configured. */
  sasl: boolean;
  /** `host:port` probed. */
  target: string;
}

/** A failure explained. */
export interface FailureHint {
  /** The category. */
  kind: FailureKind;
  /** The exit code for it. */
  exitCode: ExitCode;
  /** What to check, in one or two sentences. */
  hint: string;
}

// Each kind has one exit code, so scripts can branch on the code alone.
const EXIT_CODES: Readonly<Record<FailureKind, ExitCode>> = {
  "usage": ExitCode.USAGE,
  "refused": ExitCode.CONNECTION,
  "closed": ExitCode.CONNECTION,
  "wrong-security-protocol": ExitCode.TLS,
  "tls-to-plaintext": ExitCode.TLS,
  "tls": ExitCode.TLS,
  "sasl-required": ExitCode.AUTHENTICATION,
  "authentication": ExitCode.AUTHENTICATION,
  "timeout": ExitCode.TIMEOUT,
  "not-kafka": ExitCode.PROTOCOL,
  "other": ExitCode.OTHER,
};

function hinted(kind: FailureKind, hint: string): FailureHint {
  return { kind, exitCode: EXIT_CODES[kind], hint };
}

const STATE_SUFFIX = / \(after \d+ ms in state ([A-Z_]+)\)$/;

/**
 * Reads the state from the "(after N ms in state X)" suffix of a broker connection's message.
 *
 * @param message An error message.
 * @returns The state, or `null` when the message has no suffix.
 */
export function stateFromMessage(message: string): string | null {
  return STATE_SUFFIX.exec(message)?.[1] ?? null;
}

function timeoutHint(state: string | null, ctx: FailureContext): string {
  switch (state) {
    case "CONNECT":
    case "TRY_CONNECT":
      return `Timed out in state CONNECT: nothing answered at ${ctx.target}; check the host and ` +
        `port, firewalls and security groups (a dropped SYN hangs instead of being refused).`;
    case "SSL_HANDSHAKE":
      return `Timed out in state SSL_HANDSHAKE: TCP or the TLS handshake did not finish; check ` +
        `the address and that this port is a TLS (SSL / SASL_SSL) listener.`;
    case "APIVERSION_QUERY":
      return `Timed out in state APIVERSION_QUERY: connected, but no Kafka reply; the port may ` +
        `not be a Kafka listener` +
        (ctx.tls ? "." : `, or it expects TLS (try --tls).`);
    case "AUTH_HANDSHAKE":
    case "AUTH_REQ":
    case "AUTH_LEGACY":
      return `Timed out in state ${state}: the broker did not finish SASL; check the ` +
        `mechanism is enabled on this listener and the broker's authentication backend.`;
    case null:
      return "Timed out; raise --timeout-ms / --request-timeout-ms if the broker is just slow.";
    default:
      return `Timed out in state ${state}: the broker is slow or overloaded; raise ` +
        `--request-timeout-ms if that is expected.`;
  }
}

/**
 * Explains a failure: its category, exit code and a hint.
 *
 * @param error The typed error the probe ended with.
 * @param ctx Where the connection was and how it was configured.
 * @returns The explanation.
 */
export function explainFailure(error: KafkaTransportError, ctx: FailureContext): FailureHint {
  const state = error instanceof ConnectionSetupTimeoutError
    ? error.state
    : ctx.state ?? stateFromMessage(error.message);
  // Deno verifies the chain even with verification "disabled": say it in the probe's terms.
  if (error instanceof ChainVerificationRequiredError) {
    return hinted(
      "tls",
      "On Deno --insecure-skip-verify skips only the host name check: pass --ca with the CA " +
        "that signed the broker's certificate, or run Deno with " +
        "--unsafely-ignore-certificate-errors to skip chain verification process-wide.",
    );
  }
  if (error instanceof ConfigError) {
    return hinted(
      "usage",
      error instanceof UsageError
        ? "Fix the option named above."
        : "A setting was refused; the message above says which and what to do instead.",
    );
  }
  if (error instanceof ConnectionRefusedError) {
    return hinted(
      "refused",
      `Nothing accepted the connection at ${ctx.target}: check the host and port, and that ` +
        `the broker is running and listening on this address.`,
    );
  }
  // A TLS session that breaks after the handshake (a rejected client certificate is reported
  // on the first read) surfaces as a lost connection whose cause is the TlsError.
  const tlsError = error instanceof TlsError
    ? error
    : error.cause instanceof TlsError
    ? error.cause
    : null;
  // The peer hung up during the TLS dial: the broker connection hints at a PLAINTEXT listener
  // for exactly these.
  const closedInTls = error instanceof ConnectionClosedError && state === "SSL_HANDSHAKE";
  if (tlsError !== null || closedInTls) {
    if (tlsError?.kind === "client-certificate") {
      return hinted(
        "tls",
        "The listener requires a client certificate (mutual TLS) or rejected this one: " +
          "pass --cert and --key, signed by a CA the listener trusts.",
      );
    }
    return closedInTls || tlsError?.kind === "not-tls"
      ? hinted(
        "tls-to-plaintext",
        "TLS was used but the listener does not speak TLS: drop --tls (and the other TLS " +
          "options) for a PLAINTEXT / SASL_PLAINTEXT listener, or use the broker's SSL port.",
      )
      : hinted(
        "tls",
        "The TLS handshake failed: check --ca (the CA that signed the broker's " +
          "certificate), --server-name against the certificate's names, and --cert/--key if " +
          "the listener requires client certificates.",
      );
  }
  if (error instanceof FramingError) {
    if (error.peer === "tls") {
      return hinted(
        "wrong-security-protocol",
        "The port answered with TLS: it is an SSL / SASL_SSL listener; add --tls (and " +
          "--ca for a private CA).",
      );
    }
    return hinted(
      "not-kafka",
      `${ctx.target} is not a Kafka listener${
        error.peer === "http" ? " (it answered like an HTTP server)" : ""
      }: check the port; Kafka listeners are usually 9092 (PLAINTEXT) or 9093 (SSL).`,
    );
  }
  if (error instanceof AuthenticationError) {
    return hinted(
      "authentication",
      "SASL authentication failed: check the user name and password (or token), and that " +
        "the mechanism is enabled on this listener (the broker's message is above).",
    );
  }
  if (error instanceof TimeoutError) {
    return hinted("timeout", timeoutHint(state, ctx));
  }
  if (error instanceof ConnectionClosedError) {
    // The connection's hint where it gave one, else what the state suggests.
    if (error.hint === "sasl-required" || (state === "UP" && !ctx.sasl)) {
      return hinted(
        "sasl-required",
        "The broker closed the connection right after setup without SASL configured: this " +
          "is probably a SASL_PLAINTEXT / SASL_SSL listener; add --sasl-mechanism, --username " +
          "and --password.",
      );
    }
    if ((error.hint === "security-protocol" || state === "APIVERSION_QUERY") && !ctx.tls) {
      return hinted(
        "wrong-security-protocol",
        "The broker hung up on the first request: wrong security protocol, most likely a " +
          "TLS (SSL / SASL_SSL) listener; add --tls. (Or a broker older than 0.10.)",
      );
    }
    if (
      error.hint === "sasl-credentials" || state === "AUTH_REQ" || state === "AUTH_LEGACY" ||
      state === "AUTH_HANDSHAKE"
    ) {
      return hinted(
        "authentication",
        "The broker closed the connection during SASL: check the mechanism and the " +
          "credentials.",
      );
    }
    return hinted(
      "closed",
      "The broker closed the connection: check its log, and that this is the listener " +
        "you meant (security protocol, advertised listeners).",
    );
  }
  if (error instanceof DecodeError) {
    return hinted(
      "not-kafka",
      "A reply could not be decoded: the peer does not speak the Kafka protocol as " +
        "expected (a proxy, another protocol, or a broken broker).",
    );
  }
  return hinted(
    "other",
    error.code !== undefined
      ? `The broker answered with Kafka error code ${error.code}: see the message above.`
      : "See the message above.",
  );
}
