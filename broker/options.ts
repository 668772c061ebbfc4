/**
 * Options of a broker connection, their librdkafka-derived defaults, and their validation.
 *
 * @module
 */

import type { Clock, Random } from "../transport/clock.ts";
import { systemClock } from "../transport/clock.ts";
import type { Connector, TlsOptions } from "../transport/conn.ts";
import { checkConnectOptions } from "../transport/dial.ts";
import { ConfigError, type KafkaTransportError } from "../transport/errors.ts";
import type { SaslMechanism } from "../sasl/mechanism.ts";
import type { StateChange } from "./state.ts";

/** The library name sent in ApiVersions v3+ (KIP-511) unless overridden. */
export const CLIENT_SOFTWARE_NAME = "kafka-wire";

/** The library version sent in ApiVersions v3+ (KIP-511) unless overridden. */
export const CLIENT_SOFTWARE_VERSION = "0.1.0";

/** What the `onRequest` hook is told about each request once it has settled. */
export interface RequestEvent {
  /** The API key. */
  readonly apiKey: number;
  /** The API version, or -1 when none was picked (a `send()` settled before it was written). */
  readonly apiVersion: number;
  /** The correlation id, or -1 when the request was never written. */
  readonly correlationId: number;
  /** When the request was queued, on the connection's clock. */
  readonly queuedAt: number;
  /** When its write completed, or -1 when it was never fully written. */
  readonly writtenAt: number;
  /** When its reply arrived, or -1 when none did (or none was expected). */
  readonly repliedAt: number;
  /** Frame bytes written, size prefix included; 0 when never written. */
  readonly bytesOut: number;
  /** Reply frame bytes received, size prefix included; 0 without a reply. */
  readonly bytesIn: number;
  /** Why the request failed; absent on success. */
  readonly error?: KafkaTransportError;
}

/**
 * Observers of a connection, for metrics and logs without a logging dependency. They run
 * synchronously on the connection's path, so keep them cheap; anything they throw is ignored
 * (an observer must not break the connection it observes).
 */
export interface BrokerHooks {
  /**
   * Called once per request when it settles.
   *
   * @param event What happened to the request.
   */
  onRequest?(event: RequestEvent): void;
  /**
   * Called on every state change.
   *
   * @param change The change.
   */
  onStateChange?(change: StateChange): void;
  /**
   * Called for every chunk read and every write completed.
   *
   * @param direction "in" for bytes read, "out" for bytes written.
   * @param bytes How many.
   */
  onBytes?(direction: "in" | "out", bytes: number): void;
}

/** Options of a {@link BrokerConnection}. Defaults follow librdkafka. */
export interface BrokerConnectionOptions {
  /** Broker host name or IP address. */
  host: string;
  /** Broker TCP port. */
  port: number;
  /** Dials each new socket (`denoConnector`, `bunConnector`, a test broker's connector...). */
  connector: Connector;
  /** Connect with TLS using these settings; plaintext when omitted. */
  tls?: TlsOptions;
  /** Authenticate with this SASL mechanism after ApiVersions; none when omitted. */
  sasl?: SaslMechanism;
  /** Client id sent in every request header. Default "kafka-wire". */
  clientId?: string;
  /** Library name sent in ApiVersions v3+; characters outside `[a-zA-Z0-9.-]` become "-". */
  clientSoftwareName?: string;
  /** Library version sent in ApiVersions v3+; same character rule. */
  clientSoftwareVersion?: string;
  /** Default timeout of each request (socket.timeout.ms). Default 60 000. */
  requestTimeoutMs?: number;
  /** Limit for TCP + TLS + ApiVersions + SASL together. Default 30 000. */
  connectionSetupTimeoutMs?: number;
  /** Timeout of the ApiVersions request (old brokers never answer it). Default 10 000. */
  apiVersionRequestTimeoutMs?: number;
  /** Initial reconnect backoff, at least 1 ms. Default 100. */
  reconnectBackoffMs?: number;
  /** Reconnect backoff cap. Default 10 000. */
  reconnectBackoffMaxMs?: number;
  /** Most requests awaiting replies at once once UP (1 during setup and re-auth). Default 1 000 000. */
  maxInFlight?: number;
  /**
   * Most requests waiting to be written. Beyond it `request()` waits for room, or rejects with
   * `QueueFullError` when called with `{ wait: false }`. Default unbounded.
   */
  maxQueued?: number;
  /** Timed-out requests in a row that tear the connection down; 0 never does. Default 1. */
  socketMaxFails?: number;
  /**
   * Close an idle UP connection after this long (minus up to 2 s of jitter, at most half of
   * it); 0 disables. Default 0.
   */
  connectionsMaxIdleMs?: number;
  /** Largest response frame accepted (receive.message.max.bytes). Default 100 000 000. */
  maxFrameSize?: number;
  /** Disable Nagle's algorithm. Default true. */
  noDelay?: boolean;
  /** Enable TCP keep-alive. Default false. */
  keepAlive?: boolean;
  /** Time source for timeouts, backoff and idle checks. Default the system clock. */
  clock?: Clock;
  /** Jitter source for backoff and idle close. Default `Math.random`. */
  random?: Random;
  /** Observers. */
  hooks?: BrokerHooks;
}

/** Every option with its default applied; produced by {@link resolveOptions}. */
export interface ResolvedBrokerOptions {
  /** See {@link BrokerConnectionOptions.host}. */
  readonly host: string;
  /** See {@link BrokerConnectionOptions.port}. */
  readonly port: number;
  /** See {@link BrokerConnectionOptions.connector}. */
  readonly connector: Connector;
  /** See {@link BrokerConnectionOptions.tls}. */
  readonly tls: TlsOptions | undefined;
  /** See {@link BrokerConnectionOptions.sasl}. */
  readonly sasl: SaslMechanism | undefined;
  /** See {@link BrokerConnectionOptions.clientId}. */
  readonly clientId: string;
  /** See {@link BrokerConnectionOptions.clientSoftwareName}, sanitised. */
  readonly clientSoftwareName: string;
  /** See {@link BrokerConnectionOptions.clientSoftwareVersion}, sanitised. */
  readonly clientSoftwareVersion: string;
  /** See {@link BrokerConnectionOptions.requestTimeoutMs}. */
  readonly requestTimeoutMs: number;
  /** See {@link BrokerConnectionOptions.connectionSetupTimeoutMs}. */
  readonly connectionSetupTimeoutMs: number;
  /** See {@link BrokerConnectionOptions.apiVersionRequestTimeoutMs}. */
  readonly apiVersionRequestTimeoutMs: number;
  /** See {@link BrokerConnectionOptions.reconnectBackoffMs}. */
  readonly reconnectBackoffMs: number;
  /** See {@link BrokerConnectionOptions.reconnectBackoffMaxMs}. */
  readonly reconnectBackoffMaxMs: number;
  /** See {@link BrokerConnectionOptions.maxInFlight}. */
  readonly maxInFlight: number;
  /** See {@link BrokerConnectionOptions.maxQueued}. */
  readonly maxQueued: number;
  /** See {@link BrokerConnectionOptions.socketMaxFails}. */
  readonly socketMaxFails: number;
  /** See {@link BrokerConnectionOptions.connectionsMaxIdleMs}. */
  readonly connectionsMaxIdleMs: number;
  /** See {@link BrokerConnectionOptions.maxFrameSize}. */
  readonly maxFrameSize: number;
  /** See {@link BrokerConnectionOptions.noDelay}. */
  readonly noDelay: boolean;
  /** See {@link BrokerConnectionOptions.keepAlive}. */
  readonly keepAlive: boolean;
  /** See {@link BrokerConnectionOptions.clock}. */
  readonly clock: Clock;
  /** See {@link BrokerConnectionOptions.random}. */
  readonly random: Random;
  /** See {@link BrokerConnectionOptions.hooks}. */
  readonly hooks: BrokerHooks;
}

const INT32_MAX = 0x7fffffff;

/**
 * Makes a KIP-511 client software name or version acceptable to brokers, as librdkafka does:
 * characters outside `[a-zA-Z0-9.-]` become "-", and non-alphanumerics at either end are
 * dropped (brokers require `[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?`).
 *
 * @param value The configured name or version.
 * @returns The sanitised text (may be empty).
 */
export function sanitizeSoftwareField(value: string): string {
  return value.replace(/[^a-zA-Z0-9.-]/g, "-").replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, "");
}

function integer(name: string, value: unknown, min: number, max: number, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(
      `BrokerConnection option ${name} must be an integer in ${min}..${max}, got ${String(value)}`,
    );
  }
  return v;
}

function text(name: string, value: unknown, fallback: string): string {
  const v = value ?? fallback;
  if (typeof v !== "string") {
    throw new ConfigError(`BrokerConnection option ${name} must be a string, got ${typeof v}`);
  }
  return v;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== "boolean") {
    throw new ConfigError(
      `BrokerConnection option ${name} must be true or false, got ${String(v)}`,
    );
  }
  return v;
}

/**
 * Validates options and applies defaults.
 *
 * @param o The options as given.
 * @returns Every option resolved.
 * @throws {ConfigError} Naming the first invalid option and what it accepts.
 */
export function resolveOptions(o: BrokerConnectionOptions): ResolvedBrokerOptions {
  if (o === null || typeof o !== "object") {
    throw new ConfigError("BrokerConnection needs an options object with host, port and connector");
  }
  if (typeof o.host !== "string" || o.host.length === 0) {
    throw new ConfigError(`BrokerConnection option host must be a non-empty string, got ${o.host}`);
  }
  if (typeof o.connector !== "function") {
    throw new ConfigError(
      "BrokerConnection option connector is required: pass denoConnector (./deno), bunConnector " +
        "(./bun) or a test broker's connector",
    );
  }
  if (
    o.sasl !== undefined && (typeof o.sasl.name !== "string" || typeof o.sasl.begin !== "function")
  ) {
    throw new ConfigError(
      "BrokerConnection option sasl must be a SaslMechanism (name and begin())",
    );
  }
  const reconnectBackoffMs = integer("reconnectBackoffMs", o.reconnectBackoffMs, 1, INT32_MAX, 100);
  const reconnectBackoffMaxMs = integer(
    "reconnectBackoffMaxMs",
    o.reconnectBackoffMaxMs,
    reconnectBackoffMs,
    INT32_MAX,
    Math.max(10_000, reconnectBackoffMs),
  );
  const maxQueued = o.maxQueued ?? Infinity;
  if (maxQueued !== Infinity && (!Number.isInteger(maxQueued) || maxQueued < 1)) {
    throw new ConfigError(
      `BrokerConnection option maxQueued must be a positive integer or Infinity, got ${maxQueued}`,
    );
  }
  const clientSoftwareName = sanitizeSoftwareField(
    text("clientSoftwareName", o.clientSoftwareName, CLIENT_SOFTWARE_NAME),
  );
  const clientSoftwareVersion = sanitizeSoftwareField(
    text("clientSoftwareVersion", o.clientSoftwareVersion, CLIENT_SOFTWARE_VERSION),
  );
  if (clientSoftwareName === "" || clientSoftwareVersion === "") {
    throw new ConfigError(
      "BrokerConnection options clientSoftwareName and clientSoftwareVersion must contain " +
        "letters or digits (KIP-511 allows [a-zA-Z0-9.-])",
    );
  }
  if (o.tls !== undefined) {
    if (typeof o.tls !== "object" || o.tls === null) {
      throw new ConfigError(
        "BrokerConnection option tls must be an object ({} for TLS with the runtime's CAs) or " +
          "omitted for plaintext",
      );
    }
    // The dial would refuse these too, but only on the first request: say it at construction.
    checkConnectOptions({ host: o.host, port: o.port, tls: o.tls });
  }
  const clock = o.clock ?? systemClock;
  if (
    typeof clock.now !== "function" || typeof clock.setTimeout !== "function" ||
    typeof clock.clearTimeout !== "function"
  ) {
    throw new ConfigError(
      "BrokerConnection option clock must implement now/setTimeout/clearTimeout",
    );
  }
  const random = o.random ?? Math.random;
  if (typeof random !== "function") {
    throw new ConfigError("BrokerConnection option random must be a function returning [0, 1)");
  }
  return {
    host: o.host,
    port: integer("port", o.port, 1, 65535, NaN),
    connector: o.connector,
    tls: o.tls,
    sasl: o.sasl,
    clientId: text("clientId", o.clientId, "kafka-wire"),
    clientSoftwareName,
    clientSoftwareVersion,
    requestTimeoutMs: integer("requestTimeoutMs", o.requestTimeoutMs, 1, INT32_MAX, 60_000),
    connectionSetupTimeoutMs: integer(
      "connectionSetupTimeoutMs",
      o.connectionSetupTimeoutMs,
      1,
      INT32_MAX,
      30_000,
    ),
    apiVersionRequestTimeoutMs: integer(
      "apiVersionRequestTimeoutMs",
      o.apiVersionRequestTimeoutMs,
      1,
      INT32_MAX,
      10_000,
    ),
    reconnectBackoffMs,
    reconnectBackoffMaxMs,
    maxInFlight: integer("maxInFlight", o.maxInFlight, 1, 1_000_000_000, 1_000_000),
    maxQueued,
    socketMaxFails: integer("socketMaxFails", o.socketMaxFails, 0, INT32_MAX, 1),
    connectionsMaxIdleMs: integer("connectionsMaxIdleMs", o.connectionsMaxIdleMs, 0, INT32_MAX, 0),
    maxFrameSize: integer("maxFrameSize", o.maxFrameSize, 4, INT32_MAX, 100_000_000),
    noDelay: flag("noDelay", o.noDelay, true),
    keepAlive: flag("keepAlive", o.keepAlive, false),
    clock,
    random,
    hooks: o.hooks ?? {},
  };
}
