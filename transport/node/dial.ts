/**
 * Dialling with `node:net` / `node:tls`: the socket options, SNI and verification settings,
 * and the wait for `connect` / `secureConnect` with an `error` listener from the first moment.
 *
 * @module
 */

import { connect as netConnect, isIP, type Socket } from "node:net";
import {
  checkServerIdentity,
  connect as tlsConnect,
  type ConnectionOptions,
  type PeerCertificate,
} from "node:tls";
import type { ConnectOptions, TlsOptions } from "../conn.ts";
import { ConfigError, ConnectionClosedError, KafkaTransportError } from "../errors.ts";
import { tlsFailure } from "../tls_hints.ts";
import { connectFailure, errorText, NodeConn } from "./conn.ts";

function ignore(): void {}

/**
 * Node's TLS options for `tls`: SNI only for host names (RFC 6066 forbids IP literals, and Node
 * sends none unless `servername` is given), the certificate verified against `serverName` or
 * the host, the given CAs instead of Node's roots.
 */
function tlsOptions(host: string, port: number, tls: TlsOptions): ConnectionOptions {
  const name = tls.serverName ?? host;
  const options: ConnectionOptions = {
    host,
    port,
    rejectUnauthorized: tls.dangerouslyDisableVerification !== true,
  };
  if (isIP(name) === 0) {
    options.servername = name;
  } else if (name !== host) {
    // No SNI for an IP literal, so Node would verify against the host: verify the given name.
    options.checkServerIdentity = (_host: string, cert: PeerCertificate) =>
      checkServerIdentity(name, cert);
  }
  if (tls.caCerts !== undefined) options.ca = tls.caCerts;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  return options;
}

/**
 * Opens a TCP or TLS connection and resolves once it is usable (TLS: handshake done and
 * verified). Gives up, destroying the socket, when `abort` fires.
 *
 * @param options Where and how to connect.
 * @param target `host:port`, for messages.
 * @param abort Fired by the dial guard on timeout or the caller's abort.
 * @returns The connection; rejects with a typed error.
 */
export function dial(
  options: ConnectOptions,
  target: string,
  abort: AbortSignal,
): Promise<NodeConn> {
  const { host, port, tls } = options;
  let socket: Socket;
  try {
    socket = tls === undefined
      ? netConnect({ host, port })
      : tlsConnect(tlsOptions(host, port, tls));
  } catch (error) {
    // Node validates the TLS material (PEM) synchronously.
    return Promise.reject(
      new ConfigError(
        `Cannot set up TLS for ${target} (${errorText(error)}): check that caCerts, cert and key ` +
          "are PEM text",
        { cause: error },
      ),
    );
  }
  socket.setNoDelay(options.noDelay ?? true);
  socket.setKeepAlive(options.keepAlive ?? false);
  return new Promise<NodeConn>((resolve, reject) => {
    let tcpUp = false;
    const settle = (error: KafkaTransportError | null): void => {
      socket.off("connect", onConnect);
      socket.off(tls === undefined ? "connect" : "secureConnect", onReady);
      socket.off("close", onClose);
      abort.removeEventListener("abort", onAbort);
      if (error === null) {
        // The connection's own error listener is on before this one comes off.
        resolve(new NodeConn(socket, target, tls !== undefined));
        socket.off("error", onError);
        return;
      }
      // A destroyed socket may still report; the listener stays so that nothing escapes.
      socket.off("error", onError);
      socket.on("error", ignore);
      socket.destroy();
      reject(error);
    };
    const onConnect = (): void => {
      tcpUp = true;
    };
    const onReady = (): void => settle(null);
    const onError = (error: Error): void => {
      settle(
        tls !== undefined && tcpUp ? tlsFailure(target, errorText(error), error) : connectFailure(
          error,
          target,
        ),
      );
    };
    const onClose = (): void => {
      settle(
        tls !== undefined && tcpUp
          ? tlsFailure(
            target,
            "ECONNRESET: the peer closed the connection during the handshake",
            null,
          )
          : new ConnectionClosedError(`Connection to ${target} closed while connecting`),
      );
    };
    const onAbort = (): void =>
      settle(
        abort.reason instanceof KafkaTransportError
          ? abort.reason
          : new KafkaTransportError(`Connect to ${target} aborted`, { cause: abort.reason }),
      );
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.once("connect", onConnect);
    socket.once(tls === undefined ? "connect" : "secureConnect", onReady);
    if (abort.aborted) onAbort();
    else abort.addEventListener("abort", onAbort, { once: true });
  });
}
