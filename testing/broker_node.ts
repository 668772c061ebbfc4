/**
 * One running broker node of the test broker or an embedded cluster: its in-memory dial, its
 * optional real listener, the connections it serves, and going down and up.
 *
 * @module
 */

import type { Conn, Connector, Listener, ListenFn } from "../transport/conn.ts";
import { ConnectionRefusedError, KafkaTransportError } from "../transport/errors.ts";
import { memoryConnector, type MemoryConnectorOptions } from "../transport/memory.ts";
import type { BrokerState } from "./broker_state.ts";
import { MockConnection } from "./mock_connection.ts";

/** How a node accepts connections. */
export interface NodeListenOptions {
  /** Also accept real connections through this listen function. */
  readonly listen?: ListenFn;
  /** The address to bind with `listen`; default `127.0.0.1`. */
  readonly hostname?: string;
  /** How the in-memory dial links client and node; its clock defaults to the node's. */
  readonly memory?: MemoryConnectorOptions;
  /** What a refused in-memory dial tells the user to call to bring the node back. */
  readonly upHint: string;
}

/** One broker node: dial, listener, connections, down and up. */
export class BrokerNode {
  /** The node's shared state. */
  readonly state: BrokerState;
  /**
   * Dials the node in memory; rejects with `ConnectionRefusedError` while it is down or
   * closed. The address asked for is not checked.
   */
  readonly dial: Connector;
  readonly #listen: ListenFn | undefined;
  readonly #hostname: string;
  readonly #conns = new Set<MockConnection>();
  readonly #acceptLoops = new Set<Promise<void>>();
  #listener: Listener | undefined;
  #listenerError: KafkaTransportError | undefined;
  #nextConnId = 1;
  #down = false;
  #closed = false;

  /**
   * @param state The node's state.
   * @param options How it accepts connections.
   */
  constructor(state: BrokerState, options: NodeListenOptions) {
    this.state = state;
    this.#listen = options.listen;
    this.#hostname = options.hostname ?? "127.0.0.1";
    const memory = memoryConnector((conn: Conn) => this.#serve(conn), {
      clock: state.clock,
      ...options.memory,
    });
    this.dial = (connect) => {
      if (this.#down || this.#closed) {
        return Promise.reject(
          new ConnectionRefusedError(
            `Mock broker ${state.nodeId} refused the in-memory connection: it is ${
              this.#closed ? "closed" : `down; call ${options.upHint} to accept again`
            }`,
          ),
        );
      }
      return memory(connect);
    };
  }

  /** The number of connections open. */
  get connections(): number {
    return this.#conns.size;
  }

  /** Whether the node is down and refusing connections. */
  get isDown(): boolean {
    return this.#down;
  }

  /** Why the listener stopped accepting on its own, if it did. */
  get listenerError(): KafkaTransportError | undefined {
    return this.#listenerError;
  }

  /**
   * Binds the real listener, when the node has a listen function, and records the bound
   * address as the node's.
   *
   * @param port The port; 0 for a free one.
   */
  async bind(port: number): Promise<void> {
    if (this.#listen === undefined) return;
    const listener = await this.#listen({ hostname: this.#hostname, port });
    if (this.#closed) {
      listener.close();
      return;
    }
    this.#listener = listener;
    this.state.node.host = listener.addr.hostname;
    this.state.node.port = listener.addr.port;
    const loop = this.#accept(listener);
    this.#acceptLoops.add(loop);
    loop.then(() => this.#acceptLoops.delete(loop));
  }

  /** Closes every connection and refuses new ones (the listener closes) until {@link up}. */
  down(): void {
    if (this.#closed || this.#down) return;
    this.#down = true;
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#conns) conn.close();
  }

  /** Accepts connections again, with a listener on the same port. */
  async up(): Promise<void> {
    if (this.#closed || !this.#down) return;
    if (this.#listen) {
      await this.bind(this.state.node.port);
      this.#listenerError = undefined;
    }
    this.#down = false;
  }

  /**
   * Closes the listener and every connection and waits for their loops to end.
   *
   * @returns Rejects with {@link listenerError} once everything is closed, if there is one.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener?.close();
      this.#listener = undefined;
      for (const conn of this.#conns) conn.close();
    }
    await Promise.all(this.#acceptLoops);
    await Promise.all([...this.#conns].map((conn) => conn.done));
    if (this.#listenerError !== undefined) throw this.#listenerError;
  }

  async #accept(listener: Listener): Promise<void> {
    for (;;) {
      let conn: Conn | null;
      try {
        conn = await listener.accept();
      } catch (error) {
        // A listener closed by down() or close() may reject its pending accept(): not a failure.
        if (this.#closed || this.#listener !== listener) return;
        this.#listenerFailed(listener, error);
        return;
      }
      if (conn === null) return;
      if (this.#down || this.#closed || this.#listener !== listener) conn.close();
      else this.#serve(conn);
    }
  }

  /** Records why a listener stopped accepting and closes it, so real dials are refused. */
  #listenerFailed(listener: Listener, error: unknown): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const { hostname, port } = listener.addr;
    const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    this.#listenerError = new KafkaTransportError(
      `Mock broker ${this.state.nodeId} stopped accepting connections on ${address}: its ` +
        `listener's accept() failed (${detail}); real dials to it are refused from now on ` +
        `(broker.down() then broker.up() binds a new listener)`,
      { cause: error },
    );
    this.#listener = undefined;
    try {
      listener.close();
    } catch {
      // Already broken; the error above is what matters.
    }
  }

  #serve(conn: Conn): void {
    if (this.#down || this.#closed) {
      conn.close();
      return;
    }
    const served = new MockConnection(this.#nextConnId++, conn, this.state);
    this.#conns.add(served);
    served.done.then(() => this.#conns.delete(served));
  }
}
