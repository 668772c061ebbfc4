/**
 * The Bun adapter: {@link bunConnector} dials brokers with `Bun.connect` (TCP or TLS) and
 * {@link bunListen} accepts connections with `Bun.listen` (used by the embedded test broker).
 * Bun's API is typed structurally here ({@link BunLike}), so the module needs no Bun type
 * package and can be exercised under any runtime with a fake through
 * {@link createBunConnector} / {@link createBunListen}. Bun's socket errors are converted into
 * the transport error classes here.
 *
 * Bun sockets do not queue writes: a write that Bun accepts only in part keeps its remainder
 * here and continues on `drain`, in order, and its promise resolves only when every byte is
 * accepted. Received chunks are handed over as they come: Bun allocates a new buffer for every
 * `data` callback, so no copy is needed. A reader that falls behind pauses the socket, so the
 * sender sees TCP backpressure instead of this process buffering without bound.
 *
 * @example
 * ```ts
 * import { bunConnector } from "@kafka-wire/transport/bun";
 *
 * const conn = await bunConnector({
 *   host: "broker.example.com",
 *   port: 9093,
 *   tls: { caCerts: ["-----BEGIN CERTIFICATE-----\n..."] },
 *   timeoutMs: 10_000,
 * });
 * const chunk = await conn.read();
 * conn.close();
 * ```
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";
import type {
  Conn,
  ConnectOptions,
  Connector,
  Listener,
  ListenFn,
  ListenOptions,
  NetAddr,
} from "./conn.ts";
import { dialFailure, guardedConnector, targetOf } from "./dial.ts";
import { ConfigError, ConnectionClosedError, KafkaTransportError } from "./errors.ts";
import { ConnCore } from "./conn_core.ts";
import { classifyTlsFailure, tlsFailure } from "./tls_hints.ts";

// The seam types and error classes every adapter entry point shares (see that module).
export * from "./adapter_exports.ts";

/** The parts of Bun's `Socket` this adapter uses. */
export interface BunSocketLike {
  /** Per-socket context; this adapter stores its connection object here. */
  data: unknown;
  /** Local IP address. */
  readonly localAddress: string;
  /** Local port. */
  readonly localPort: number;
  /** Remote IP address. */
  readonly remoteAddress: string;
  /** Remote port. */
  readonly remotePort: number;
  /**
   * Sends what the socket can take now.
   *
   * @param data The bytes to send.
   * @returns How many bytes were accepted (possibly fewer than given), or -1 when closed.
   */
  write(data: Uint8Array): number;
  /** Sends a FIN and closes the socket. */
  end(): void;
  /** Closes the socket at once, without flushing. */
  terminate(): void;
  /** Stops `data` callbacks until {@link BunSocketLike.resume}. */
  pause(): void;
  /** Restarts `data` callbacks. */
  resume(): void;
  /**
   * Turns Nagle's algorithm off (`true`) or on.
   *
   * @param noDelay Whether to set TCP_NODELAY.
   * @returns Whether the option was applied.
   */
  setNoDelay(noDelay: boolean): boolean;
  /**
   * Turns TCP keep-alive probes on or off.
   *
   * @param enable Whether to set SO_KEEPALIVE.
   * @param initialDelay Idle time before the first probe, in milliseconds.
   * @returns Whether the option was applied.
   */
  setKeepAlive(enable: boolean, initialDelay?: number): boolean;
}

/** The socket event handlers Bun calls (`Bun.connect({ socket })`, `Bun.listen({ socket })`). */
export interface BunSocketHandlers {
  /** Asks Bun to pass `data` chunks as plain `Uint8Array`s rather than `Buffer`s. */
  binaryType: "uint8array";
  /**
   * The TCP connection is established.
   *
   * @param socket The socket.
   */
  open(socket: BunSocketLike): void;
  /**
   * The TLS handshake completed.
   *
   * @param socket The socket.
   * @param success Whether the peer was authorized.
   * @param authorizationError Why the peer's certificate was not trusted, or `null`.
   */
  handshake(socket: BunSocketLike, success: boolean, authorizationError: Error | null): void;
  /**
   * Bytes arrived.
   *
   * @param socket The socket.
   * @param chunk A buffer Bun allocated for this callback.
   */
  data(socket: BunSocketLike, chunk: Uint8Array): void;
  /**
   * The socket can take more bytes after a partial write.
   *
   * @param socket The socket.
   */
  drain(socket: BunSocketLike): void;
  /**
   * The peer sent a FIN.
   *
   * @param socket The socket.
   */
  end(socket: BunSocketLike): void;
  /**
   * The socket closed.
   *
   * @param socket The socket.
   * @param error Why, when it failed (e.g. ECONNRESET).
   */
  close(socket: BunSocketLike, error?: Error): void;
  /**
   * A handler threw, or an established TLS session failed.
   *
   * @param socket The socket.
   * @param error What failed.
   */
  error(socket: BunSocketLike, error: Error): void;
  /**
   * The connection could not be established.
   *
   * @param socket The socket.
   * @param error Why (e.g. ECONNREFUSED).
   */
  connectError(socket: BunSocketLike, error: Error): void;
}

/** Bun's TLS options for sockets, as far as this adapter sets them. */
export interface BunTlsOptions {
  /** Trusted CAs (PEM). */
  ca?: string[];
  /** Own certificate chain (PEM). */
  cert?: string;
  /** Own private key (PEM). */
  key?: string;
  /** SNI name and the name the server certificate is verified against. */
  serverName?: string;
  /** Whether to close the connection when the peer's certificate is not trusted. */
  rejectUnauthorized?: boolean;
  /** Server side: ask clients for a certificate. */
  requestCert?: boolean;
}

/** The parts of Bun's `SocketListener` this adapter uses. */
export interface BunListenerLike {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting.
   *
   * @param closeActiveConnections Whether to close accepted connections too.
   */
  stop(closeActiveConnections?: boolean): void;
}

/** The parts of the `Bun` global this adapter uses. */
export interface BunLike {
  /**
   * Dials a TCP or TLS connection.
   *
   * @param options Address, TLS options, initial `socket.data` and handlers.
   * @returns The socket once TCP is connected (TLS may still be handshaking).
   */
  connect(options: {
    hostname: string;
    port: number;
    tls?: BunTlsOptions;
    data?: unknown;
    socket: BunSocketHandlers;
  }): Promise<BunSocketLike>;
  /**
   * Binds a listening socket.
   *
   * @param options Address, TLS options and handlers.
   * @returns The listener.
   */
  listen(options: {
    hostname: string;
    port: number;
    tls?: BunTlsOptions;
    socket: BunSocketHandlers;
  }): BunListenerLike;
}

/** What a connection needs to know about its own setup. */
interface BunConnSetup {
  target: string;
  secure: boolean;
  /** Client: reject untrusted certificates. Server: require a trusted client certificate. */
  verify: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  /** Called once the connection is usable (TCP open, and TLS handshake done). */
  established: (conn: BunConn) => void;
  /** Called when the connection fails before it was established. */
  failed: (error: KafkaTransportError) => void;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function connectFailure(error: unknown, target: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const code = errorCode(error);
  const kind = code === "ECONNREFUSED"
    ? "refused"
    : code === "ETIMEDOUT"
    ? "timed-out"
    : "unreachable";
  return dialFailure(kind, target, errorText(error), error);
}

/** A {@link Conn} over a Bun socket; it is the socket's `data`, driven by the handlers. */
class BunConn extends ConnCore {
  readonly #setup: BunConnSetup;
  #socket: BunSocketLike | null = null;
  #established = false;
  /** The write Bun took only in part: the rest goes out on `drain`. */
  #partial: Uint8Array | null = null;
  #resolveSend: (() => void) | null = null;

  constructor(setup: BunConnSetup) {
    super(setup.target, setup.secure);
    this.#setup = setup;
  }

  onOpen(socket: BunSocketLike): void {
    this.#socket = socket;
    if (this.ending !== null) {
      // Given up (timeout, abort) while Bun was still connecting.
      socket.terminate();
      return;
    }
    socket.setNoDelay(this.#setup.noDelay);
    if (this.#setup.keepAlive) socket.setKeepAlive(true);
    if (!this.secure) this.#establish();
  }

  onHandshake(success: boolean, authorizationError: Error | null): void {
    if (this.ending !== null || this.#established) return;
    const { verify, target } = this.#setup;
    if (authorizationError !== null) {
      // Bun reports a peer that hung up or spoke no TLS here too; only certificate problems
      // may be waved through, and only when verification is off.
      const detail = errorText(authorizationError);
      const kind = classifyTlsFailure(detail);
      if (verify || (kind !== "untrusted" && kind !== "hostname" && kind !== "expired")) {
        this.fail(tlsFailure(target, detail, authorizationError));
        return;
      }
    } else if (verify && !success) {
      // A server requesting client certificates: success says whether the client was authorized.
      this.fail(tlsFailure(target, "the peer's certificate was not authorized", null));
      return;
    }
    this.#establish();
  }

  onData(chunk: Uint8Array): void {
    this.push(chunk);
  }

  onDrain(): void {
    const rest = this.#partial;
    if (rest === null || this.ending !== null) return;
    const accepted = this.#socket!.write(rest);
    if (accepted < 0) {
      this.#writeLost();
      return;
    }
    if (accepted < rest.length) {
      this.#partial = rest.subarray(accepted);
      return;
    }
    this.#partial = null;
    const resolve = this.#resolveSend!;
    this.#resolveSend = null;
    resolve();
  }

  onEnd(): void {
    this.endOfInput();
  }

  onClose(error: Error | undefined): void {
    if (this.ending !== null) return;
    const { target } = this.#setup;
    if (!this.#established && this.secure && this.#socket !== null) {
      const detail = error === undefined
        ? "ECONNRESET: the peer closed the connection during the handshake"
        : errorText(error);
      this.fail(tlsFailure(target, detail, error));
      return;
    }
    if (error === undefined) {
      this.endOfInput();
      return;
    }
    this.fail(
      new ConnectionClosedError(`Connection to ${target} was lost (${errorText(error)})`, {
        cause: error,
      }),
    );
  }

  onError(error: Error): void {
    if (this.ending !== null) return;
    const { target } = this.#setup;
    this.fail(
      this.secure
        ? tlsFailure(target, errorText(error), error, this.#established ? "session" : "handshake")
        : new ConnectionClosedError(`Connection to ${target} failed (${errorText(error)})`, {
          cause: error,
        }),
    );
  }

  onConnectError(error: unknown): void {
    if (this.ending === null) this.fail(connectFailure(error, this.#setup.target));
  }

  protected send(bytes: Uint8Array): Promise<void> | undefined {
    const accepted = this.#socket!.write(bytes);
    if (accepted === bytes.length) return undefined;
    if (accepted < 0) throw this.#lostWhileWriting();
    this.#partial = bytes.subarray(accepted);
    return new Promise((resolve) => {
      this.#resolveSend = resolve;
    });
  }

  /**
   * Bun may call the close handler synchronously from `end()`; the connection has ended by
   * then, so that call is ignored.
   */
  protected release(): void {
    this.#partial = null;
    this.#resolveSend = null;
    if (!this.#established) {
      this.#setup.failed(
        this.ending?.reason ??
          new ConnectionClosedError(`Connection to ${this.#setup.target} was closed`),
      );
    }
    this.#socket?.end();
  }

  protected ioError(error: unknown): KafkaTransportError {
    return error instanceof KafkaTransportError ? error : new ConnectionClosedError(
      `Connection to ${this.#setup.target} was lost while writing to it (${errorText(error)})`,
      { cause: error },
    );
  }

  protected override pauseInput(): void {
    this.#socket!.pause();
  }

  protected override resumeInput(): void {
    this.#socket!.resume();
  }

  #establish(): void {
    this.#established = true;
    this.#setup.established(this);
  }

  #lostWhileWriting(): ConnectionClosedError {
    return new ConnectionClosedError(
      `Connection to ${this.#setup.target} was lost while writing to it (the socket is closed)`,
    );
  }

  /** Bun refused the rest of a write (socket already closed): the connection is gone. */
  #writeLost(): void {
    this.fail(this.#lostWhileWriting());
  }
}

function connOf(socket: BunSocketLike): BunConn {
  return socket.data as BunConn;
}

/** Handlers shared by every socket, dispatching to the connection stored in `socket.data`. */
const HANDLERS: BunSocketHandlers = {
  binaryType: "uint8array",
  open: (socket) => connOf(socket).onOpen(socket),
  handshake: (socket, success, error) => connOf(socket).onHandshake(success, error),
  data: (socket, chunk) => connOf(socket).onData(chunk),
  drain: (socket) => connOf(socket).onDrain(),
  end: (socket) => connOf(socket).onEnd(),
  close: (socket, error) => connOf(socket).onClose(error),
  error: (socket, error) => connOf(socket).onError(error),
  connectError: (socket, error) => connOf(socket).onConnectError(error),
};

function dial(
  bun: BunLike,
  options: ConnectOptions,
  target: string,
  abort: AbortSignal,
): Promise<BunConn> {
  const { tls } = options;
  const { promise, resolve, reject } = Promise.withResolvers<BunConn>();
  const conn = new BunConn({
    target,
    secure: tls !== undefined,
    verify: tls !== undefined && tls.dangerouslyDisableVerification !== true,
    noDelay: options.noDelay ?? true,
    keepAlive: options.keepAlive ?? false,
    established: resolve,
    failed: reject,
  });
  let bunTls: BunTlsOptions | undefined;
  if (tls !== undefined) {
    bunTls = { rejectUnauthorized: tls.dangerouslyDisableVerification !== true };
    if (tls.caCerts !== undefined) bunTls.ca = tls.caCerts;
    if (tls.cert !== undefined) bunTls.cert = tls.cert;
    if (tls.key !== undefined) bunTls.key = tls.key;
    if (tls.serverName !== undefined) bunTls.serverName = tls.serverName;
  }
  try {
    bun.connect({
      hostname: options.host,
      port: options.port,
      data: conn,
      socket: HANDLERS,
      ...(bunTls === undefined ? {} : { tls: bunTls }),
    }).then(undefined, (error) => conn.onConnectError(error));
  } catch (error) {
    // Bun validates options (e.g. unparsable PEM) synchronously.
    return Promise.reject(
      new ConfigError(
        `Cannot set up the connection to ${target} (${errorText(error)}): check the TLS ` +
          "options (caCerts, cert and key must be PEM text)",
        { cause: error },
      ),
    );
  }
  const onAbort = (): void => conn.close(abort.reason);
  abort.addEventListener("abort", onAbort, { once: true });
  return promise.finally(() => abort.removeEventListener("abort", onAbort));
}

/**
 * Makes a connector over the given Bun API; {@link bunConnector} uses the `Bun` global. Also
 * the seam for testing this adapter under any runtime with a fake {@link BunLike}.
 *
 * @param bun The `Bun` global, or a fake with the same shape.
 * @param clock Time source for `timeoutMs`; the real clock by default.
 * @returns A {@link Connector} dialling through `bun.connect`.
 */
export function createBunConnector(bun: BunLike, clock: Clock = systemClock): Connector {
  return guardedConnector(clock, (options, target, abort) => dial(bun, options, target, abort));
}

/** A {@link Listener} over `Bun.listen`; accepted connections queue until `accept()`. */
class BunListener implements Listener {
  addr: NetAddr = { hostname: "", port: 0 };
  #server: BunListenerLike | null = null;
  /** TLS connections still handshaking: closed with the listener, as nobody else owns them. */
  readonly handshaking: Set<Conn> = new Set();
  #queue: Conn[] = [];
  #waiter: ((conn: Conn | null) => void) | null = null;
  #closed = false;

  bind(server: BunListenerLike): void {
    this.#server = server;
    this.addr = { hostname: server.hostname, port: server.port };
  }

  deliver(conn: Conn): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    const waiter = this.#waiter;
    if (waiter === null) {
      this.#queue.push(conn);
      return;
    }
    this.#waiter = null;
    waiter(conn);
  }

  accept(): Promise<Conn | null> {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.resolve(null);
    if (this.#waiter !== null) {
      return Promise.reject(
        new KafkaTransportError("accept() called while another accept() is pending"),
      );
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server?.stop(false);
    for (const conn of this.#queue.splice(0)) conn.close();
    for (const conn of this.handshaking) conn.close();
    this.handshaking.clear();
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(null);
  }
}

/**
 * Makes a listen function over the given Bun API; {@link bunListen} uses the `Bun` global.
 *
 * @param bun The `Bun` global, or a fake with the same shape.
 * @returns A {@link ListenFn} binding through `bun.listen`.
 */
export function createBunListen(bun: BunLike): ListenFn {
  return (options: ListenOptions = {}): Promise<Listener> => {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = options.port ?? 0;
    const { tls } = options;
    const listener = new BunListener();
    const requestCert = tls?.requestClientCert === true;
    const handlers: BunSocketHandlers = {
      ...HANDLERS,
      open(socket) {
        const conn = new BunConn({
          target: targetOf(socket.remoteAddress, socket.remotePort),
          secure: tls !== undefined,
          verify: requestCert,
          noDelay: true,
          keepAlive: false,
          established: (established) => {
            listener.handshaking.delete(established);
            listener.deliver(established);
          },
          // A client that fails its handshake never reaches accept().
          failed: () => listener.handshaking.delete(conn),
        });
        socket.data = conn;
        if (tls !== undefined) listener.handshaking.add(conn);
        conn.onOpen(socket);
      },
    };
    let bunTls: BunTlsOptions | undefined;
    if (tls !== undefined) {
      bunTls = { cert: tls.cert, key: tls.key, requestCert, rejectUnauthorized: requestCert };
      if (tls.caCerts !== undefined) bunTls.ca = tls.caCerts;
    }
    try {
      listener.bind(bun.listen({
        hostname,
        port,
        socket: handlers,
        ...(bunTls === undefined ? {} : { tls: bunTls }),
      }));
    } catch (error) {
      const target = targetOf(hostname, port);
      const message = errorCode(error) === "EADDRINUSE"
        ? `Cannot listen on ${target}: the address is in use (${
          errorText(error)
        }); pick another port, or 0`
        : `Cannot listen on ${target} (${errorText(error)}): check the address and the TLS ` +
          "cert/key (PEM)";
      return Promise.reject(new ConfigError(message, { cause: error }));
    }
    return Promise.resolve(listener);
  };
}

function bunGlobal(): BunLike {
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun === undefined) {
    throw new ConfigError(
      "bunConnector / bunListen need the Bun runtime: on Deno use denoConnector / denoListen " +
        "from the ./deno module",
    );
  }
  return bun;
}

let defaultConnector: Connector | undefined;
let defaultListen: ListenFn | undefined;

/**
 * Dials a broker with `Bun.connect`, over TCP or TLS (`tls.caCerts`, `cert`/`key` for mutual
 * TLS, `serverName` for SNI and verification). The TLS handshake completes, and the server's
 * certificate is verified, before the promise resolves.
 *
 * @param options Where and how to connect.
 * @returns The connection; rejects with `ConnectionRefusedError`, `TimeoutError`, `AbortError`,
 *   `TlsError` or `ConfigError` (also when not running on Bun).
 */
export const bunConnector: Connector = (options: ConnectOptions): Promise<Conn> => {
  try {
    defaultConnector ??= createBunConnector(bunGlobal());
  } catch (error) {
    return Promise.reject(error);
  }
  return defaultConnector(options);
};

/**
 * Listens with `Bun.listen`, with TLS when `options.tls` is given (`requestClientCert` makes
 * client certificates mandatory, verified against `caCerts`). TLS connections are handed to
 * `accept()` once their handshake succeeded.
 *
 * @param options Address (default 127.0.0.1, port 0 = any free port) and TLS identity.
 * @returns The bound listener; rejects with `ConfigError` when the address is in use, the TLS
 *   material is invalid or not running on Bun.
 */
export const bunListen: ListenFn = (options?: ListenOptions): Promise<Listener> => {
  try {
    defaultListen ??= createBunListen(bunGlobal());
  } catch (error) {
    return Promise.reject(error);
  }
  return defaultListen(options);
};

/** The part of Bun's `dns` API that {@link bunResolve} uses, typed structurally. */
interface BunDnsLike {
  lookup(host: string, options: object): Promise<{ address: string; family: number }[]>;
}

/**
 * Resolves a host name with `Bun.dns.lookup` (every address, as the system resolver orders
 * them), for the `resolve` option of a `Cluster`, which then tries each address in turn.
 *
 * @param host The host name.
 * @returns The addresses; rejects with the resolver's error when the name does not resolve,
 *   or with `ConfigError` when not running on Bun.
 */
export async function bunResolve(host: string): Promise<string[]> {
  const dns = (bunGlobal() as unknown as { dns: BunDnsLike }).dns;
  const records = await dns.lookup(host, {});
  return records.map((r) => r.address);
}
