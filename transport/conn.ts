/**
 * The runtime-neutral socket seam: every layer above (framing, broker state machine, test
 * broker) talks to these interfaces only, and each runtime adapter (`./deno`, `./bun`) or test
 * double implements them.
 *
 * @module
 */

import type { KafkaTransportError } from "./errors.ts";

/** A network endpoint. */
export interface NetAddr {
  /** Host name or IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** The receiving half of a connection. */
export interface Readable {
  /**
   * Reads the next chunk of bytes.
   *
   * The returned array belongs to the caller: the adapter never writes into it again, so the
   * framing layer may keep views into it without copying. Only one `read()` may be pending at a
   * time.
   *
   * @returns The next chunk (never empty), or `null` once the peer has closed its side cleanly.
   *   Rejects with a {@link KafkaTransportError} when the connection fails.
   */
  read(): Promise<Uint8Array | null>;
}

/** The sending half of a connection. */
export interface Writable {
  /**
   * Writes all of `bytes`.
   *
   * Resolves only when the runtime has accepted every byte (backpressure). Writes complete in
   * the order they were issued, even when several are pending. The caller must not modify
   * `bytes` until the promise settles.
   *
   * @param bytes The bytes to send.
   * @returns Resolves when all bytes are handed to the runtime; rejects with a
   *   {@link KafkaTransportError} when the connection fails or is closed.
   */
  write(bytes: Uint8Array): Promise<void>;
}

/**
 * A connected byte stream: one TCP (or TLS, or in-memory) connection. Socket options
 * (`noDelay`, `keepAlive`) are {@link ConnectOptions} the connector applies when it dials.
 */
export interface Conn extends Readable, Writable {
  /**
   * Whether the bytes travel inside TLS. The broker connection checks it when `tls` is
   * configured, so that a connector ignoring `tls` cannot send credentials in the clear.
   */
  readonly secure: boolean;
  /**
   * Settles exactly once when the connection is gone: with `undefined` after a local
   * {@link Conn.close} without reason or a clean close by the peer, or with the error that ended
   * it. Never rejects.
   */
  readonly closed: Promise<KafkaTransportError | undefined>;
  /**
   * Closes the connection. Idempotent: later calls do nothing. Pending reads resolve `null` and
   * pending writes reject.
   *
   * @param reason Why the connection is being closed; reported through {@link Conn.closed}.
   */
  close(reason?: KafkaTransportError): void;
}

/** TLS settings for a connection. Hostname verification is on unless explicitly disabled. */
export interface TlsOptions {
  /** Trusted CA certificates in PEM form; the runtime's default roots when omitted. */
  caCerts?: string[];
  /** Client certificate chain in PEM form, for mutual TLS. Requires {@link TlsOptions.key}. */
  cert?: string;
  /** Client private key in PEM form, for mutual TLS. Requires {@link TlsOptions.cert}. */
  key?: string;
  /**
   * The name to send as SNI and to verify the server certificate against; defaults to the host
   * dialled.
   */
  serverName?: string;
  /**
   * Disables certificate and hostname verification. Anyone on the path can then read and alter
   * the traffic: for local experiments only.
   */
  dangerouslyDisableVerification?: boolean;
}

/** What a {@link Connector} is asked to dial. */
export interface ConnectOptions {
  /** Host name or IP address of the broker. */
  host: string;
  /** TCP port of the broker. */
  port: number;
  /** Present to connect with TLS; the handshake completes before the connector resolves. */
  tls?: TlsOptions;
  /** Aborts the dial; the connector then rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Gives up after this many milliseconds with a `TimeoutError`; no limit when omitted. */
  timeoutMs?: number;
  /** Sets TCP_NODELAY on the new socket; defaults to `true`. */
  noDelay?: boolean;
  /** Sets SO_KEEPALIVE on the new socket; defaults to `false`. */
  keepAlive?: boolean;
}

/**
 * Dials a new connection. Passed per broker connection so that users can dial through their own
 * sockets, proxies or test doubles; each call creates a new socket.
 *
 * @param options Where and how to connect.
 * @returns The connected (and, with TLS, handshaken) connection, or rejects with a typed error.
 */
export type Connector = (options: ConnectOptions) => Promise<Conn>;

/** A listening socket that hands out accepted connections. Used by the embedded test broker. */
export interface Listener {
  /** The address actually bound (port 0 resolves to the chosen port). */
  readonly addr: NetAddr;
  /**
   * Waits for the next incoming connection.
   *
   * @returns The accepted connection, or `null` once the listener is closed.
   */
  accept(): Promise<Conn | null>;
  /** Stops listening. Idempotent. Already accepted connections stay open. */
  close(): void;
}

/** What a {@link ListenFn} is asked to bind. */
export interface ListenOptions {
  /** Address to bind; defaults to `127.0.0.1`. */
  hostname?: string;
  /** Port to bind; `0` (the default) picks a free port. */
  port?: number;
  /** Present to accept TLS connections with this certificate and key (PEM). */
  tls?: { cert: string; key: string; caCerts?: string[]; requestClientCert?: boolean };
}

/**
 * Opens a {@link Listener}. Each runtime adapter exports one.
 *
 * @param options Address and optional TLS identity.
 * @returns The bound listener.
 */
export type ListenFn = (options?: ListenOptions) => Promise<Listener>;
