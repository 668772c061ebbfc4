/**
 * The Deno adapter: {@link denoConnector} dials brokers with `Deno.connect` (plus
 * `Deno.startTls`, or `Deno.connectTls` for mutual TLS), {@link denoListen} accepts
 * connections (used by the embedded test broker), and {@link startTls} upgrades a plaintext
 * connection in place. Every `Deno.errors.*` is converted into the transport error classes
 * here, so nothing above this module sees a Deno error.
 *
 * TLS handshakes are always completed before a connection is handed out, so a wrong CA or
 * host name is reported by the connector, with a hint, instead of by the first request.
 *
 * @example
 * ```ts
 * import { denoConnector } from "@kafka-wire/transport/deno";
 *
 * const conn = await denoConnector({ host: "localhost", port: 9092, timeoutMs: 10_000 });
 * // An ApiVersions v0 request with client id "me".
 * await conn.write(new Uint8Array([0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0, 1, 0, 2, 109, 101]));
 * const chunk = await conn.read(); // the start of the response, or null if the broker hung up
 * conn.close();
 * ```
 *
 * @module
 */

import { systemClock } from "./clock.ts";
import type {
  Conn,
  ConnectOptions,
  Connector,
  Listener,
  ListenFn,
  ListenOptions,
  NetAddr,
  TlsOptions,
} from "./conn.ts";
import { dialFailure, guardDial, guardedConnector, targetOf } from "./dial.ts";
import {
  ChainVerificationRequiredError,
  ConfigError,
  KafkaTransportError,
  TimeoutError,
} from "./errors.ts";
import { ConnCore } from "./conn_core.ts";
import { classifyTlsFailure, tlsFailure } from "./tls_hints.ts";
import { connectionLostError, osTimeoutError } from "./io_errors.ts";

// The seam types and error classes every adapter entry point shares (see that module).
export * from "./adapter_exports.ts";
// Only Deno refuses to skip chain verification per connection.
export { ChainVerificationRequiredError } from "./errors.ts";

/**
 * Receive buffers start at this size; reads hand out views of them and never reuse a byte.
 * Small enough that a small response kept alive by the application pins little memory.
 */
const MIN_BUFFER_SIZE = 256 * 1024;
/**
 * Receive buffers grow up to this size while reads keep filling them (a bulk transfer), so
 * that each read takes a large bite and fresh memory is allocated rarely.
 */
const MAX_BUFFER_SIZE = 4 * 1024 * 1024;
/**
 * Below this much free space at the tail a new receive buffer is started, so that every read
 * can take a large bite (a TLS record is 16 KiB) instead of trickling into a small tail.
 */
const MIN_READ_SPACE = 32 * 1024;

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed or consumed by Deno.startTls: nothing left to release.
  }
}

function netAddr(addr: Deno.Addr): NetAddr {
  const { hostname, port } = addr as Deno.NetAddr;
  return { hostname, port };
}

/** Maps a failure of `Deno.connect` / `Deno.connectTls` before any TLS handshake. */
function connectFailure(error: unknown, target: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (error instanceof Deno.errors.ConnectionRefused) {
    return dialFailure("refused", target, detail, error);
  }
  if (error instanceof Deno.errors.TimedOut) return dialFailure("timed-out", target, detail, error);
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return new ConfigError(
      `Not allowed to connect to ${target} (${detail}): run Deno with --allow-net`,
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.InvalidData || error instanceof TypeError) {
    return new ConfigError(
      `Cannot set up TLS for ${target} (${detail}): check that caCerts, cert and key are PEM text`,
      { cause: error },
    );
  }
  return dialFailure("unreachable", target, detail, error);
}

/** Maps a failed TLS handshake, turning an unverifiable chain under `dangerouslyDisableVerification` into advice. */
function handshakeFailure(error: unknown, target: string, tls: TlsOptions): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (error instanceof Deno.errors.TimedOut) {
    return new TimeoutError(`TLS handshake with ${target} timed out (${detail})`, { cause: error });
  }
  const kind = classifyTlsFailure(detail);
  if (tls.dangerouslyDisableVerification && (kind === "untrusted" || kind === "expired")) {
    return new ChainVerificationRequiredError(
      `TLS handshake with ${target} failed (${detail}): dangerouslyDisableVerification can only ` +
        "skip the host name check on Deno; the certificate chain is still verified. Pass the " +
        "broker's CA in caCerts, or run Deno with --unsafely-ignore-certificate-errors (or " +
        `--unsafely-ignore-certificate-errors=${target.replace(/:\d+$/, "")}) to skip it ` +
        "process-wide",
      { cause: error },
    );
  }
  return tlsFailure(target, detail, error);
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
  if (secure && error instanceof Deno.errors.InvalidData) {
    return tlsFailure(target, detail, error, "session");
  }
  if (error instanceof Deno.errors.TimedOut) {
    return osTimeoutError(target, doing, detail, error);
  }
  return connectionLostError(target, doing, detail, error);
}

/** A {@link Conn} over a `Deno.Conn` (TCP or TLS). */
class DenoConn extends ConnCore {
  /** The peer's address: what {@link startTls} verifies by default. */
  readonly peer: NetAddr;
  readonly #raw: Deno.Conn;
  /** The raw connection when it is plain TCP; a TlsConn has no socket options (TLS
   * connections get theirs while still TCP, before the upgrade). */
  readonly #tcp: Deno.TcpConn | null;
  #buf = new Uint8Array(MIN_BUFFER_SIZE);
  #pos = 0;
  /** The space the read in progress fills. */
  #space: Uint8Array = this.#buf;
  /** Whether the last read filled all the space it was given: more data was waiting. */
  #filled = false;
  /** Set by {@link DenoConn.detachForTls}: the socket is handed on, not closed. */
  #detached = false;

  constructor(raw: Deno.Conn, secure: boolean, target: string) {
    super(target, secure);
    this.#raw = raw;
    this.#tcp = "setNoDelay" in raw ? raw as Deno.TcpConn : null;
    this.peer = netAddr(raw.remoteAddr);
  }

  /**
   * Hands the socket over to `Deno.startTls`: this wrapper ends (its `closed` settles with
   * `undefined`) without closing the socket.
   */
  async detachForTls(): Promise<Deno.TcpConn> {
    if (this.#tcp === null) {
      throw new ConfigError(`startTls(): the connection to ${this.target} already uses TLS`);
    }
    if (this.reading) {
      throw new ConfigError(
        `startTls(): a read() on ${this.target} is pending; upgrade before reading, or once the ` +
          "plaintext exchange is complete",
      );
    }
    // A zero-length write queues behind the pending ones, so this waits for all of them (and
    // rejects once the connection has ended).
    await this.write(new Uint8Array(0));
    if (this.reading) {
      throw new ConfigError(`startTls(): a read() on ${this.target} started during the upgrade`);
    }
    // Ended while the writes drained: this rejects as the wait above would have.
    if (this.ending !== null) await this.write(new Uint8Array(0));
    this.#detached = true;
    this.close();
    return this.#tcp;
  }

  protected override pull(): void {
    if (this.#buf.length - this.#pos < MIN_READ_SPACE) {
      // The old buffer stays alive only through the views already handed out. A bulk
      // transfer doubles the next buffer; request/response traffic shrinks it back.
      const size = this.#filled
        ? Math.min(this.#buf.length * 2, MAX_BUFFER_SIZE)
        : Math.max(this.#buf.length / 2, MIN_BUFFER_SIZE);
      this.#buf = new Uint8Array(size);
      this.#pos = 0;
    }
    this.#space = this.#buf.subarray(this.#pos);
    this.#raw.read(this.#space).then(this.#onRead, this.#onReadFailed);
  }

  protected send(bytes: Uint8Array): Promise<void> {
    return this.#writeAll(bytes);
  }

  protected release(): void {
    if (!this.#detached) closeQuietly(this.#raw);
  }

  protected ioError(error: unknown, doing: "reading from" | "writing to"): KafkaTransportError {
    return ioFailure(error, this.target, doing, this.secure);
  }

  readonly #onRead = (n: number | null): void => {
    if (this.ending !== null) return; // Closed meanwhile: the read already ended.
    if (n === null) {
      this.endOfInput();
      return;
    }
    this.#filled = n === this.#space.length;
    const start = this.#pos;
    this.#pos = start + n;
    this.push(this.#buf.subarray(start, this.#pos));
  };

  readonly #onReadFailed = (error: unknown): void => {
    if (this.ending === null) this.readFailed(error);
  };

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      done += await this.#raw.write(done === 0 ? bytes : bytes.subarray(done));
    }
  }
}

/** Waits for the handshake, closing the connection when `abort` fires meanwhile. */
async function completeHandshake(
  conn: Deno.TlsConn,
  tls: TlsOptions,
  target: string,
  abort: AbortSignal,
): Promise<Deno.TlsConn> {
  if (abort.aborted) {
    closeQuietly(conn);
    throw abort.reason;
  }
  const onAbort = (): void => closeQuietly(conn);
  abort.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.handshake();
    return conn;
  } catch (error) {
    closeQuietly(conn);
    throw handshakeFailure(error, target, tls);
  } finally {
    abort.removeEventListener("abort", onAbort);
  }
}

/** Starts TLS on `tcp` and completes the handshake; `tcp` is consumed either way. */
async function upgrade(
  tcp: Deno.TcpConn,
  tls: TlsOptions,
  serverName: string,
  target: string,
  abort: AbortSignal,
): Promise<Deno.TlsConn> {
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.startTls(tcp, {
      hostname: serverName,
      caCerts: tls.caCerts,
      unsafelyDisableHostnameVerification: tls.dangerouslyDisableVerification === true,
    });
  } catch (error) {
    closeQuietly(tcp);
    throw handshakeFailure(error, target, tls);
  }
  return await completeHandshake(conn, tls, target, abort);
}

/**
 * Mutual TLS goes through `Deno.connectTls`, the only Deno API that presents a client
 * certificate (`Deno.startTls` silently drops one); it verifies the dialled name, so a
 * different `serverName` cannot be honoured.
 */
async function dialMutualTls(
  options: ConnectOptions,
  tls: TlsOptions,
  target: string,
  abort: AbortSignal,
): Promise<DenoConn> {
  if (tls.serverName !== undefined && tls.serverName !== options.host) {
    throw new ConfigError(
      `tls.serverName "${tls.serverName}" differs from host "${options.host}": on Deno a client ` +
        "certificate can only be sent by Deno.connectTls, which verifies the dialled name. Dial " +
        "the broker by the name in its certificate (host = serverName)",
    );
  }
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.connectTls({
      hostname: options.host,
      port: options.port,
      caCerts: tls.caCerts,
      cert: tls.cert!,
      key: tls.key!,
      unsafelyDisableHostnameVerification: tls.dangerouslyDisableVerification === true,
    });
  } catch (error) {
    throw connectFailure(error, target);
  }
  return new DenoConn(await completeHandshake(conn, tls, target, abort), true, target);
}

async function dial(
  options: ConnectOptions,
  target: string,
  abort: AbortSignal,
): Promise<DenoConn> {
  const { tls } = options;
  if (tls?.cert !== undefined) return await dialMutualTls(options, tls, target, abort);
  let tcp: Deno.TcpConn;
  try {
    tcp = await Deno.connect({ hostname: options.host, port: options.port, signal: abort });
  } catch (error) {
    throw connectFailure(error, target);
  }
  if (abort.aborted) {
    closeQuietly(tcp);
    throw abort.reason;
  }
  // Set while still TCP: a TlsConn offers no socket options.
  tcp.setNoDelay(options.noDelay ?? true);
  tcp.setKeepAlive(options.keepAlive ?? false);
  if (tls === undefined) return new DenoConn(tcp, false, target);
  const conn = await upgrade(tcp, tls, tls.serverName ?? options.host, target, abort);
  return new DenoConn(conn, true, target);
}

/**
 * Dials a broker with Deno's socket APIs: TCP (`Deno.connect`), TLS (`Deno.connect` then
 * `Deno.startTls`, so `serverName` can differ from the dialled host) or mutual TLS
 * (`Deno.connectTls` with `cert`/`key`, which requires `serverName` to equal `host`). The TLS
 * handshake completes before the promise resolves.
 *
 * With a client certificate the socket options (`noDelay`, `keepAlive`) keep Deno's defaults:
 * a `Deno.TlsConn` has no setters for them.
 *
 * `tls.dangerouslyDisableVerification` skips the host name check per connection; Deno cannot
 * skip certificate chain verification per connection, so an untrusted chain then fails with a
 * {@link ChainVerificationRequiredError} (a `ConfigError`) pointing to
 * `--unsafely-ignore-certificate-errors`.
 *
 * Requires `--allow-net`.
 *
 * @param options Where and how to connect.
 * @returns The connection; rejects with `ConnectionRefusedError`, `TimeoutError`, `AbortError`,
 *   `TlsError` or `ConfigError`.
 */
export const denoConnector: Connector = guardedConnector(systemClock, dial);

/**
 * Upgrades a plaintext connection made by {@link denoConnector} (or accepted by
 * {@link denoListen}) to TLS, as a client, and completes the handshake. The given `conn` ends
 * (its `closed` settles with `undefined`) and must not be used again; use the returned one.
 * Waits for pending writes first; no read may be pending.
 *
 * Deno's `startTls` cannot present a client certificate: for mutual TLS dial with
 * `denoConnector` and `tls` instead.
 *
 * @param conn A plaintext connection from this adapter.
 * @param tls CA certificates, server name and verification settings.
 * @param host The name to verify when `tls.serverName` is not set; defaults to the peer's
 *   address.
 * @param limits Optional `timeoutMs` and `signal` bounding the handshake.
 * @returns The TLS connection; rejects with `TlsError`, `TimeoutError`, `AbortError` or
 *   `ConfigError` (not a Deno plaintext connection, read pending, client certificate given).
 */
export async function startTls(
  conn: Conn,
  tls: TlsOptions,
  host?: string,
  limits: Pick<ConnectOptions, "signal" | "timeoutMs"> = {},
): Promise<Conn> {
  if (!(conn instanceof DenoConn)) {
    throw new ConfigError(
      "startTls() needs a connection made by denoConnector or denoListen from this module",
    );
  }
  const { peer } = conn;
  if (tls.cert !== undefined || tls.key !== undefined) {
    throw new ConfigError(
      "startTls() cannot send a client certificate (Deno.startTls has no cert/key option): for " +
        "mutual TLS dial with denoConnector and tls.cert / tls.key",
    );
  }
  const target = targetOf(peer.hostname, peer.port);
  const tcp = await conn.detachForTls();
  return await guardDial<Conn>(
    target,
    limits,
    systemClock,
    async (abort) =>
      new DenoConn(
        await upgrade(tcp, tls, tls.serverName ?? host ?? peer.hostname, target, abort),
        true,
        target,
      ),
    (late) => late.close(),
  ).catch((error) => {
    // The guard gave up (timeout, abort) while the handshake ran: its socket is ours to close.
    closeQuietly(tcp);
    throw error;
  });
}

/** A {@link Listener} over `Deno.listen` / `Deno.listenTls`. */
class DenoListener implements Listener {
  readonly addr: NetAddr;
  readonly #listener: Deno.Listener;
  readonly #secure: boolean;
  #closed = false;

  constructor(listener: Deno.Listener, secure: boolean) {
    this.#listener = listener;
    this.#secure = secure;
    this.addr = netAddr(listener.addr);
  }

  async accept(): Promise<Conn | null> {
    if (this.#closed) return null;
    let raw: Deno.Conn;
    try {
      raw = await this.#listener.accept();
    } catch (error) {
      if (this.#closed || error instanceof Deno.errors.BadResource) return null;
      throw new KafkaTransportError(
        `Accepting on ${targetOf(this.addr.hostname, this.addr.port)} failed (${
          errorText(error)
        }): check the process's open-file limit`,
        { cause: error },
      );
    }
    if (this.#closed) {
      closeQuietly(raw);
      return null;
    }
    if ("setNoDelay" in raw) (raw as Deno.TcpConn).setNoDelay(true);
    const remote = netAddr(raw.remoteAddr);
    return new DenoConn(raw, this.#secure, targetOf(remote.hostname, remote.port));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Listens with `Deno.listen`, or `Deno.listenTls` when `options.tls` is given. TLS
 * connections are handed out before their handshake, which runs on first read or write (a
 * peer that never handshakes must not hold up `accept()`).
 *
 * Deno cannot request client certificates, so `tls.requestClientCert` is rejected.
 *
 * @param options Address (default 127.0.0.1, port 0 = any free port) and TLS identity.
 * @returns The bound listener; rejects with `ConfigError` when the address is in use, the
 *   TLS material is invalid or permissions are missing.
 */
export const denoListen: ListenFn = (options: ListenOptions = {}): Promise<Listener> => {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const target = targetOf(hostname, port);
  const { tls } = options;
  if (tls?.requestClientCert) {
    return Promise.reject(
      new ConfigError(
        "tls.requestClientCert is not supported on Deno: Deno.listenTls cannot request or verify " +
          "client certificates",
      ),
    );
  }
  try {
    const listener = tls === undefined
      ? Deno.listen({ hostname, port, transport: "tcp" })
      : Deno.listenTls({ hostname, port, transport: "tcp", cert: tls.cert, key: tls.key });
    return Promise.resolve(new DenoListener(listener, tls !== undefined));
  } catch (error) {
    const detail = errorText(error);
    const message = error instanceof Deno.errors.AddrInUse
      ? `Cannot listen on ${target}: the address is in use (${detail}); pick another port, or 0`
      : `Cannot listen on ${target} (${detail}): check the address, the TLS cert/key (PEM) and ` +
        "--allow-net";
    return Promise.reject(new ConfigError(message, { cause: error }));
  }
};

/**
 * Resolves a host name with `Deno.resolveDns` (A records first, then AAAA), for the `resolve`
 * option of a `Cluster`, which then tries each address in turn. Needs `--allow-net`.
 *
 * @param host The host name.
 * @returns The addresses; rejects with the resolver's error when neither query finds any.
 */
export async function denoResolve(host: string): Promise<string[]> {
  const [v4, v6] = await Promise.allSettled([
    Deno.resolveDns(host, "A"),
    Deno.resolveDns(host, "AAAA"),
  ]);
  const addresses = [
    ...(v4.status === "fulfilled" ? v4.value : []),
    ...(v6.status === "fulfilled" ? v6.value : []),
  ];
  if (addresses.length > 0) return addresses;
  if (v4.status === "rejected") throw v4.reason;
  if (v6.status === "rejected") throw v6.reason;
  throw new Error(`no A or AAAA records for ${host}`);
}
