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
import type { Conn, ConnectOptions, Connector, Listener, ListenFn, ListenOptions } from "./conn.ts";
import { guardedConnector } from "./dial.ts";
import { ConfigError } from "./errors.ts";
import { BunConn, errorText, HANDLERS } from "./bun/conn.ts";
import { createBunListen } from "./bun/listen.ts";
import type { BunLike, BunTlsOptions } from "./bun/types.ts";

// The seam types and error classes every adapter entry point shares (see that module).
export * from "./adapter_exports.ts";
export type {
  BunLike,
  BunListenerLike,
  BunSocketHandlers,
  BunSocketLike,
  BunTlsOptions,
} from "./bun/types.ts";
export { createBunListen } from "./bun/listen.ts";

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
