/**
 * The Node adapter: {@link nodeConnector} dials brokers with `node:net` (TCP) or `node:tls`
 * (TLS, with SNI for host names, verification of the certificate and its host name on by
 * default, custom CAs and client certificates), and {@link nodeListen} accepts connections
 * (used by the embedded test broker). Node's socket errors are converted into the transport
 * error classes here, with the same hints as on Deno and Bun.
 *
 * Runs on Node 22.6 and later without a build step (Node strips the types), and type-checks
 * under Deno, which knows the `node:` modules.
 *
 * @example
 * ```ts
 * import { nodeConnector } from "@kafka-wire/transport/node";
 *
 * const conn = await nodeConnector({
 *   host: "broker.example.com",
 *   port: 9093,
 *   tls: { caCerts: ["-----BEGIN CERTIFICATE-----\n..."] },
 *   timeoutMs: 10_000,
 * });
 * const chunk = await conn.read(); // the first bytes from the broker, or null if it hung up
 * conn.close();
 * ```
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { systemClock } from "./clock.ts";
import type { Connector, ListenFn } from "./conn.ts";
import { guardedConnector } from "./dial.ts";
import { dial } from "./node/dial.ts";
import { listen } from "./node/listen.ts";

// The seam types and error classes every adapter entry point shares (see that module).
export * from "./adapter_exports.ts";

/**
 * Dials a broker with `node:net`, or `node:tls` when `tls` is given. The connect timeout is
 * this module's own (Node's socket timeout is an idle timer); `signal` aborts the dial. SNI is
 * sent for host names (not for IP literals); the certificate is verified against
 * `tls.serverName` or the host unless `dangerouslyDisableVerification` is set; `caCerts`
 * replace Node's root CAs; `cert`/`key` present a client certificate. The TLS handshake
 * completes before the promise resolves.
 *
 * @param options Where and how to connect.
 * @returns The connection; rejects with `ConnectionRefusedError`, `TimeoutError`, `AbortError`,
 *   `TlsError` or `ConfigError`.
 */
export const nodeConnector: Connector = guardedConnector(systemClock, dial);

/**
 * Listens with `node:net`, or `node:tls` when `options.tls` is given (`requestClientCert`
 * makes client certificates mandatory, verified against `caCerts`). TLS connections are
 * handed to `accept()` once their handshake succeeded.
 *
 * @param options Address (default 127.0.0.1, port 0 = any free port) and TLS identity.
 * @returns The bound listener; rejects with `ConfigError` when the address is in use or the
 *   TLS material is invalid.
 */
export const nodeListen: ListenFn = listen;

/**
 * Resolves a host name with `node:dns`'s `lookup` (every address, in the order the system
 * resolver gives them), for the `resolve` option of a `Cluster`, which then tries each address
 * in turn.
 *
 * @param host The host name.
 * @returns The addresses; rejects with the resolver's error (e.g. `ENOTFOUND`) when the name
 *   does not resolve.
 */
export async function nodeResolve(host: string): Promise<string[]> {
  const records = await lookup(host, { all: true, verbatim: true });
  return records.map((r) => r.address);
}
