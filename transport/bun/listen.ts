/**
 * Listening with `Bun.listen` for the embedded test broker: accepted connections wait in a queue
 * until `accept()`, TLS ones once their handshake succeeded.
 *
 * @module
 */

import type { Conn, Listener, ListenFn, ListenOptions, NetAddr } from "../conn.ts";
import { targetOf } from "../dial.ts";
import { ConfigError, KafkaTransportError } from "../errors.ts";
import { BunConn, errorCode, errorText, HANDLERS } from "./conn.ts";
import type { BunLike, BunListenerLike, BunSocketHandlers, BunTlsOptions } from "./types.ts";

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
