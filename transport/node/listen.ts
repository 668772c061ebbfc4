/**
 * Listening with `node:net` / `node:tls` for the embedded test broker: accepted connections
 * wait in a queue until `accept()`, TLS ones once their handshake succeeded.
 *
 * @module
 */

import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { Conn, Listener, ListenOptions, NetAddr } from "../conn.ts";
import { targetOf } from "../dial.ts";
import { ConfigError, KafkaTransportError } from "../errors.ts";
import { Fifo } from "../fifo.ts";
import { errorCode, errorText, NodeConn } from "./conn.ts";

function ignore(): void {}

/** A {@link Listener} over a Node server. */
class NodeListener implements Listener {
  readonly addr: NetAddr;
  readonly #server: Server;
  readonly #secure: boolean;
  readonly #queue = new Fifo<Conn>();
  /** Sockets not handed out yet: TLS ones still handshaking. Destroyed with the listener. */
  readonly #handshaking = new Set<Socket>();
  #waiter: ((conn: Conn | null) => void) | null = null;
  #failure: KafkaTransportError | null = null;
  #closed = false;

  constructor(server: Server, secure: boolean, addr: NetAddr) {
    this.#server = server;
    this.#secure = secure;
    this.addr = addr;
    server.on("error", (error) => {
      this.#failure = new KafkaTransportError(
        `Accepting on ${targetOf(addr.hostname, addr.port)} failed (${
          errorText(error)
        }): check the process's open-file limit`,
        { cause: error },
      );
    });
    if (secure) {
      server.on("connection", (socket: Socket) => {
        socket.on("error", ignore); // Until the handshake is done, failures are the client's.
        this.#handshaking.add(socket);
        socket.once("close", () => this.#handshaking.delete(socket));
      });
      server.on("secureConnection", (socket: TLSSocket) => this.#deliver(socket));
      server.on("tlsClientError", ignore);
    } else {
      server.on("connection", (socket: Socket) => this.#deliver(socket));
    }
  }

  accept(): Promise<Conn | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    if (this.#closed) return Promise.resolve(null);
    if (this.#failure !== null) return Promise.reject(this.#failure);
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
    this.#server.close();
    for (const conn of this.#queue.drain()) conn.close();
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(null);
  }

  #deliver(socket: Socket): void {
    this.#handshaking.delete(socket);
    if (this.#closed) {
      socket.on("error", ignore);
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const conn = new NodeConn(
      socket,
      targetOf(socket.remoteAddress ?? "", socket.remotePort ?? 0),
      this.#secure,
    );
    const waiter = this.#waiter;
    if (waiter === null) {
      this.#queue.push(conn);
      return;
    }
    this.#waiter = null;
    waiter(conn);
  }
}

/**
 * Binds a plaintext (`node:net`) or TLS (`node:tls`) server.
 *
 * @param options Address, port and TLS identity.
 * @returns The listener once bound; rejects with `ConfigError` when the address is in use or
 *   the TLS material is invalid.
 */
export function listen(options: ListenOptions = {}): Promise<Listener> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const target = targetOf(hostname, port);
  const { tls } = options;
  let server: Server;
  try {
    if (tls === undefined) {
      server = createNetServer();
    } else {
      const requestCert = tls.requestClientCert === true;
      server = createTlsServer({
        cert: tls.cert,
        key: tls.key,
        requestCert,
        rejectUnauthorized: requestCert,
        ...(tls.caCerts === undefined ? {} : { ca: tls.caCerts }),
      });
    }
  } catch (error) {
    return Promise.reject(
      new ConfigError(
        `Cannot listen on ${target} (${errorText(error)}): check the TLS cert/key (PEM)`,
        { cause: error },
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off("listening", onListening);
      const message = errorCode(error) === "EADDRINUSE"
        ? `Cannot listen on ${target}: the address is in use (${
          errorText(error)
        }); pick another port, or 0`
        : `Cannot listen on ${target} (${errorText(error)}): check the address`;
      reject(new ConfigError(message, { cause: error }));
    };
    const onListening = (): void => {
      server.off("error", onError);
      const bound = server.address();
      const addr = typeof bound === "object" && bound !== null
        ? { hostname: bound.address, port: bound.port }
        : { hostname, port };
      resolve(new NodeListener(server, tls !== undefined, addr));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host: hostname, port });
  });
}
