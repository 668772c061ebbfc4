/**
 * The Cloudflare Workers adapter: {@link workersConnector} turns the `connect` function of
 * `cloudflare:sockets` into a {@link Connector}, so that a {@link Conn} and everything above it
 * (framing, the broker connection's state machine, SASL) runs inside a Worker. Pass `connect`
 * in rather than having this module import it: the module stays loadable, and type-checks,
 * everywhere, and its tests drive it with a fake built from standard streams
 * ({@link WorkersConnect} types the Workers socket API structurally).
 *
 * What Workers sockets can and cannot do, and how this adapter maps it:
 *
 * - TLS: `tls: {}` dials with `secureTransport: "starttls"` and upgrades with `startTls()` once
 *   TCP is up, so that a refused port and a failed handshake are told apart (with
 *   `secureTransport: "on"` the runtime reports both as the same opaque connect failure). The
 *   handshake completes before the connector resolves. Workers verify the broker's certificate
 *   against the public CAs the runtime trusts: `tls.caCerts`, a client certificate (`cert` /
 *   `key`) and `dangerouslyDisableVerification` cannot be honoured and are refused with a
 *   `ConfigError`. `tls.serverName`, when it differs from the host, is passed as
 *   `expectedServerHostname`; a runtime that refuses that option is reported as a
 *   `ConfigError`.
 * - Errors: the runtime says little ("proxy request failed, cannot connect to the specified
 *   address" for a refused port, an unknown host and a forbidden address alike; "internal
 *   error" for a failed handshake), so the messages here say what to check instead.
 * - A socket belongs to the request (or other event) that opened it, and the Workers runtime
 *   refuses to open one at module scope: create the `BrokerConnection` inside the handler, as
 *   in the example, and close it (`await using`) before the response is returned.
 * - `setNoDelay` and `setKeepAlive` do nothing: Workers expose neither option.
 *
 * Reads use a BYOB reader when the socket's stream is a byte stream (workerd's is), reading up
 * to 64 KiB at a time into memory this adapter allocates; a small read is copied out so the
 * buffer can be reused, a large one is handed over as it is. Either way the chunk returned by
 * `read()` belongs to the caller. Writes are handed to the socket's writer one at a time, in
 * order, and resolve once the writer has taken the bytes.
 *
 * @example
 * ```ts ignore
 * import { connect } from "cloudflare:sockets";
 * import { BrokerConnection, Metadata, scramSha512 } from "@kafka-wire/transport";
 * import { workersConnector } from "@kafka-wire/transport/workers";
 *
 * const connector = workersConnector(connect);
 *
 * interface Env {
 *   KAFKA_HOST: string;
 *   KAFKA_USERNAME: string;
 *   KAFKA_PASSWORD: string;
 * }
 *
 * export default {
 *   async fetch(_request: Request, env: Env): Promise<Response> {
 *     // One connection per request: a Workers socket cannot outlive the request that opened it.
 *     await using broker = new BrokerConnection({
 *       host: env.KAFKA_HOST,
 *       port: 9096,
 *       connector,
 *       tls: {}, // verified against public CAs
 *       sasl: scramSha512({ username: env.KAFKA_USERNAME, password: env.KAFKA_PASSWORD }),
 *     });
 *     const metadata = await broker.send(Metadata, {
 *       topics: null,
 *       allowAutoTopicCreation: false,
 *     });
 *     return Response.json({ clusterId: metadata.clusterId, brokers: metadata.brokers });
 *   },
 * };
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type { Conn, ConnectOptions, Connector, TlsOptions } from "./conn.ts";
import { dialFailure, guardedConnector } from "./dial.ts";
import {
  AbortError,
  ConfigError,
  ConnectionRefusedError,
  KafkaTransportError,
  TlsError,
} from "./errors.ts";
import { ConnCore } from "./conn_core.ts";
import { classifyTlsFailure, tlsFailure } from "./tls_hints.ts";
import { connectionLostError } from "./io_errors.ts";

// The seam types and error classes every adapter entry point shares (see that module).
export * from "./adapter_exports.ts";

/** Where a Workers socket connects to (`SocketAddress` of `cloudflare:sockets`). */
export interface WorkersSocketAddress {
  /** Host name or IP address; IPv6 literals in brackets. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** The options of `connect()` this adapter sets (`SocketOptions` of `cloudflare:sockets`). */
export interface WorkersSocketOptions {
  /**
   * `"off"` for plaintext, `"on"` for TLS from the start, `"starttls"` for plaintext that
   * {@link WorkersSocketLike.startTls} upgrades later.
   */
  secureTransport: "off" | "on" | "starttls";
  /** Whether the writable side stays open after the readable side ended; always `false` here. */
  allowHalfOpen: boolean;
}

/** What a socket's {@link WorkersSocketLike.opened} resolves with (`SocketInfo`). */
export interface WorkersSocketInfo {
  /** The peer, as `host:port` (`[v6]:port`), when the runtime says. */
  remoteAddress?: string;
  /** The local end, as `host:port`, when the runtime says (workerd does not). */
  localAddress?: string;
}

/** The options of {@link WorkersSocketLike.startTls} (`TlsOptions` of `cloudflare:sockets`). */
export interface WorkersTlsOptions {
  /** The name to send as SNI and to verify the certificate against, instead of the host. */
  expectedServerHostname?: string;
}

/** The parts of a Workers `Socket` this adapter uses. */
export interface WorkersSocketLike {
  /** Bytes from the peer. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once the connection is established (for a TLS socket: handshake done). */
  readonly opened: Promise<WorkersSocketInfo>;
  /** Resolves when the socket closed cleanly, rejects when it failed. */
  readonly closed: Promise<void>;
  /**
   * Closes both directions at once.
   *
   * @returns Resolves once closed.
   */
  close(): Promise<void>;
  /**
   * Upgrades a socket opened with `secureTransport: "starttls"` to TLS.
   *
   * @param options The name to verify, when not the host dialled.
   * @returns The TLS socket; this one is unusable from then on.
   */
  startTls(options?: WorkersTlsOptions): WorkersSocketLike;
}

/**
 * The `connect` function of `cloudflare:sockets`, or a fake with its shape.
 *
 * @param address Where to connect.
 * @param options Transport security and half-open behaviour.
 * @returns The socket, at once; {@link WorkersSocketLike.opened} says when it is connected.
 */
export type WorkersConnect = (
  address: WorkersSocketAddress,
  options: WorkersSocketOptions,
) => WorkersSocketLike;

/** Bytes asked for per read on a byte stream. */
const READ_SIZE = 64 * 1024;
/** Reads up to this size are copied out, so that the read buffer can be used again. */
const COPY_UP_TO = READ_SIZE / 2;

function ignore(): void {}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === "Error" ? error.message : `${error.name}: ${error.message}`;
}

/** Refuses TLS settings a Workers socket cannot act on. */
function checkTls(tls: TlsOptions, target: string): void {
  const refused: string[] = [];
  if (tls.caCerts !== undefined && tls.caCerts.length > 0) refused.push("tls.caCerts");
  if (tls.cert !== undefined || tls.key !== undefined) refused.push("tls.cert/tls.key");
  if (tls.dangerouslyDisableVerification === true) {
    refused.push("tls.dangerouslyDisableVerification");
  }
  if (refused.length === 0) return;
  throw new ConfigError(
    `Cannot connect to ${target} with ${refused.join(", ")} on Cloudflare Workers: Workers ` +
      "sockets verify the broker's certificate against the public CAs the runtime trusts only; " +
      "they take no custom CA, no client certificate (mutual TLS) and no switch to skip " +
      "verification. Give the broker a certificate from a public CA and authenticate with SASL " +
      "(SCRAM, PLAIN or OAUTHBEARER over TLS) instead of a client certificate",
  );
}

/** Maps what `connect()` threw synchronously. */
function connectThrew(error: unknown, target: string): KafkaTransportError {
  const detail = errorText(error);
  if (/global scope/i.test(detail)) {
    return new ConfigError(
      `Cannot connect to ${target} (${detail}): Workers open sockets only while handling an ` +
        "event; create the BrokerConnection inside the fetch (or other) handler, not at module " +
        "scope",
      { cause: error },
    );
  }
  if (error instanceof TypeError) {
    return new ConfigError(
      `Cannot connect to ${target} (${detail}): the Workers socket API refused the address`,
      { cause: error },
    );
  }
  return connectFailure(error, target);
}

/** Maps a rejected `opened` of the TCP socket. */
function connectFailure(error: unknown, target: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (/timed? ?out/i.test(detail)) return dialFailure("timed-out", target, detail, error);
  return new ConnectionRefusedError(
    `Cannot connect to ${target} (${detail}): is a broker listening there? Workers report a ` +
      "refused port, a host name that does not resolve and an address the runtime may not " +
      "reach alike: check host, port and the broker's advertised.listeners, and that the " +
      "address is reachable from where the Worker runs (a Worker on Cloudflare cannot reach " +
      "private or loopback addresses)",
    { cause: error },
  );
}

/** Maps a failed `startTls()` call or a rejected `opened` of the TLS socket. */
function handshakeFailure(error: unknown, target: string, name: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (/expectedServerHostname/.test(detail)) {
    return new ConfigError(
      `Cannot verify ${target} as ${name} (${detail}): this Workers runtime verifies the ` +
        "certificate against the host dialled only; drop tls.serverName and dial the broker by " +
        "the name its certificate carries",
      { cause: error },
    );
  }
  if (classifyTlsFailure(detail) !== "other") return tlsFailure(target, detail, error);
  return new TlsError(
    `TLS handshake with ${target} failed (${detail}): the Workers runtime does not say why. ` +
      "Check that the port is a TLS listener (not PLAINTEXT), that the broker's certificate " +
      `chains to a public CA (Workers trust no other) and that it names ${name}`,
    { cause: error, kind: "other" },
  );
}

/** Maps a failed read or write on an established connection. */
function ioFailure(
  error: unknown,
  target: string,
  doing: string,
  secure: boolean,
): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (/different request/i.test(detail)) {
    return new ConfigError(
      `Cannot use the connection to ${target} (${detail}): a Workers socket belongs to the ` +
        "request (or other event) that opened it; create the BrokerConnection inside the " +
        "handler, e.g. with `await using`, instead of keeping it across requests",
      { cause: error },
    );
  }
  const kind = classifyTlsFailure(detail);
  if (secure && kind !== "other" && kind !== "not-tls") {
    return tlsFailure(target, detail, error, "session");
  }
  return connectionLostError(target, doing, detail, error);
}

type Reader = ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;

/** A {@link Conn} over a connected (and, with TLS, handshaken) Workers socket. */
class WorkersConn extends ConnCore {
  readonly #socket: WorkersSocketLike;
  readonly #reader: Reader;
  readonly #byob: boolean;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  /** A read buffer no chunk handed out refers to. */
  #spare: ArrayBuffer | null = null;

  constructor(socket: WorkersSocketLike, target: string, secure: boolean) {
    super(target, secure);
    this.#socket = socket;
    let reader: Reader;
    let byob = true;
    try {
      reader = socket.readable.getReader({ mode: "byob" });
    } catch {
      // Not a byte stream: chunks come as the stream allocates them.
      reader = socket.readable.getReader();
      byob = false;
    }
    this.#reader = reader;
    this.#byob = byob;
    this.#writer = socket.writable.getWriter();
    socket.closed.then(
      // Closed cleanly by the peer: what the stream still holds stays readable.
      () => this.endDraining(),
      (error) => this.fail(ioFailure(error, this.target, "talking to", this.secure)),
    );
  }

  protected override pull(): void {
    let request: Promise<ReadableStreamReadResult<Uint8Array>>;
    try {
      if (this.#byob) {
        const buffer = this.#spare ?? new ArrayBuffer(READ_SIZE);
        this.#spare = null;
        request = (this.#reader as ReadableStreamBYOBReader).read(new Uint8Array(buffer));
      } else {
        request = (this.#reader as ReadableStreamDefaultReader<Uint8Array>).read();
      }
    } catch (error) {
      // workerd throws synchronously, e.g. for I/O from another request's context.
      request = Promise.reject(error);
    }
    request.then(this.#onRead, this.#onReadFailed);
  }

  /**
   * Hands the bytes to the writer; the connection sends one write at a time, so the writer
   * never holds more than one chunk and its `ready` need not be waited for (a writable whose
   * high-water mark is 0 reports no room even while empty).
   */
  protected send(bytes: Uint8Array): Promise<void> {
    return this.#writer.write(bytes);
  }

  protected ioError(error: unknown, doing: "reading from" | "writing to"): KafkaTransportError {
    return ioFailure(error, this.target, doing, this.secure);
  }

  /** Cancels the reader and closes the socket. */
  protected release(): void {
    this.#spare = null;
    try {
      this.#reader.cancel().catch(ignore);
    } catch {
      // Another request's socket, or already released: nothing more to do here.
    }
    try {
      this.#socket.close().catch(ignore);
    } catch {
      // As above.
    }
  }

  readonly #onRead = (result: ReadableStreamReadResult<Uint8Array>): void => {
    if (!this.reading) return; // Settled by close() meanwhile.
    if (result.done) {
      this.endOfInput();
      return;
    }
    const value = result.value;
    if (value.byteLength === 0) {
      if (this.#byob) this.#spare = value.buffer as ArrayBuffer;
      this.pull();
      return;
    }
    this.push(this.#own(value));
  };

  readonly #onReadFailed = (error: unknown): void => {
    if (this.reading) this.readFailed(error);
  };

  /** The chunk to hand out for what a read delivered; see the module documentation. */
  #own(value: ArrayBufferView): Uint8Array {
    const view = value instanceof Uint8Array
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    if (!this.#byob) return view;
    if (view.length > COPY_UP_TO) return view;
    this.#spare = view.buffer as ArrayBuffer;
    return view.slice();
  }
}

/** Closes a socket that will not be used, ignoring every outcome. */
function discard(socket: WorkersSocketLike): void {
  socket.closed.catch(ignore);
  try {
    socket.close().catch(ignore);
  } catch {
    // Already closed.
  }
}

/** Brackets an IPv6 literal, as the Workers socket API expects it in `hostname`. */
function socketHostname(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

async function dial(
  connect: WorkersConnect,
  options: ConnectOptions,
  target: string,
  abort: AbortSignal,
): Promise<Conn> {
  const { host, port, tls } = options;
  if (tls !== undefined) checkTls(tls, target);
  let socket: WorkersSocketLike;
  try {
    socket = connect(
      { hostname: socketHostname(host), port },
      { secureTransport: tls === undefined ? "off" : "starttls", allowHalfOpen: false },
    );
  } catch (error) {
    throw connectThrew(error, target);
  }
  let current = socket;
  const onAbort = (): void => discard(current);
  abort.addEventListener("abort", onAbort, { once: true });
  const given = (): void => {
    if (abort.aborted) {
      throw abort.reason instanceof KafkaTransportError
        ? abort.reason
        : new AbortError(`Connect to ${target} aborted`, { cause: abort.reason });
    }
  };
  try {
    try {
      await socket.opened;
    } catch (error) {
      discard(socket);
      throw connectFailure(error, target);
    }
    given();
    if (tls !== undefined) {
      const name = tls.serverName ?? host;
      // The plaintext socket is spent once upgraded; its own promises are of no interest.
      socket.closed.catch(ignore);
      try {
        current = socket.startTls(
          tls.serverName !== undefined && tls.serverName !== host
            ? { expectedServerHostname: tls.serverName }
            : undefined,
        );
      } catch (error) {
        discard(socket);
        throw handshakeFailure(error, target, name);
      }
      try {
        await current.opened;
      } catch (error) {
        discard(current);
        throw handshakeFailure(error, target, name);
      }
      given();
    }
    return new WorkersConn(current, target, tls !== undefined);
  } finally {
    abort.removeEventListener("abort", onAbort);
  }
}

/**
 * Makes a {@link Connector} that dials through the `connect` function of `cloudflare:sockets`.
 *
 * Honours `host`/`port`, `tls` (see the module documentation for what Workers can verify),
 * `signal` and `timeoutMs`; `noDelay` and `keepAlive` are ignored, as Workers expose neither.
 * Only call the connector (that is, use the connection) inside a request or other event
 * handler: Workers bind a socket to the event that opened it.
 *
 * @example
 * ```ts ignore
 * import { connect } from "cloudflare:sockets";
 * import { workersConnector } from "@kafka-wire/transport/workers";
 *
 * const connector = workersConnector(connect); // pass as `connector` to BrokerConnection
 * ```
 *
 * @param connect `connect` from `cloudflare:sockets`, or a fake with its shape.
 * @param clock Time source for `timeoutMs`; the real clock by default.
 * @returns The connector; it rejects with `ConnectionRefusedError`, `TimeoutError`,
 *   `AbortError`, `TlsError` or `ConfigError` (TLS settings Workers cannot honour, a socket
 *   opened outside a handler).
 */
export function workersConnector(connect: WorkersConnect, clock: Clock = systemClock): Connector {
  if (typeof connect !== "function") {
    throw new ConfigError(
      "workersConnector(connect) needs the connect function: import { connect } from " +
        '"cloudflare:sockets" and pass it',
    );
  }
  return guardedConnector(clock, (options, target, abort) => dial(connect, options, target, abort));
}
