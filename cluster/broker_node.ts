/**
 * One broker as the cluster sees it: its identity (node id, advertised address, rack), whether
 * it came from the bootstrap list or from Metadata, and its connections — one for everything
 * but Fetch and one for Fetch, so that a long poll never holds a Produce behind it. Both are
 * made only when first needed.
 *
 * @module
 */

import { BrokerConnection } from "../broker/connection.ts";
import type { BrokerHooks } from "../broker/options.ts";
import { BrokerState, type StateChange } from "../broker/state.ts";
import type { BrokerStats } from "../broker/stats.ts";
import type { KafkaTransportError } from "../transport/errors.ts";
import { clusterConnector } from "./dial.ts";
import type { HostPort, ResolvedClusterOptions } from "./options.ts";

/** Which of a broker's connections a request uses. */
export type ConnectionClass = "main" | "fetch";

/** What a node tells the cluster about its connections. */
export interface NodeObserver {
  /**
   * A connection changed state.
   *
   * @param node The node.
   * @param cls Which connection.
   * @param change The change.
   */
  stateChanged(node: BrokerNode, cls: ConnectionClass, change: StateChange): void;
  /**
   * A request failed after (part of) it was written: its outcome on the broker is unknown.
   *
   * @param error The error it was rejected with.
   */
  failedAfterWrite(error: KafkaTransportError): void;
}

/** The broker as the cluster tracks it. Internal: the cluster exposes {@link BrokerInfo}. */
export class BrokerNode {
  /** Node id; negative for a bootstrap entry. */
  readonly nodeId: number;
  /** Advertised (or bootstrap) address. */
  readonly address: HostPort;
  /** Rack, or `null`. */
  readonly rack: string | null;
  /** Whether it came from Metadata (learned) rather than the bootstrap list. */
  readonly learned: boolean;
  /** When a request last used it, on the cluster's clock; -1 never. */
  lastUsed = -1;
  /** Set once the broker left (missing from Metadata, replaced, or a bootstrap entry purged). */
  decommissioned: string | null = null;
  /** The last dial failure and when, for the unreachable report (cleared at UP). */
  lastDialError: { at: number; error: unknown } | null = null;

  readonly #options: ResolvedClusterOptions;
  readonly #observer: NodeObserver;
  #main: BrokerConnection | null = null;
  #fetch: BrokerConnection | null = null;

  /**
   * @param nodeId Node id (negative for bootstrap).
   * @param address Where it is advertised.
   * @param rack Rack.
   * @param learned From Metadata.
   * @param options The cluster's options.
   * @param observer Told of state changes and of failures after a write.
   */
  constructor(
    nodeId: number,
    address: HostPort,
    rack: string | null,
    learned: boolean,
    options: ResolvedClusterOptions,
    observer: NodeObserver,
  ) {
    this.nodeId = nodeId;
    this.address = address;
    this.rack = rack;
    this.learned = learned;
    this.#options = options;
    this.#observer = observer;
  }

  /** `host:port` as advertised. */
  get addressText(): string {
    const { host, port } = this.address;
    return `${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** The state of the main connection (INIT when none was made yet). */
  get state(): BrokerState {
    return this.#main?.state ?? BrokerState.INIT;
  }

  /** Whether the main connection is UP (or re-authenticating, which still serves requests). */
  get up(): boolean {
    const s = this.state;
    return s === BrokerState.UP || s === BrokerState.REAUTH;
  }

  /**
   * The connection for a request class, made on first use.
   *
   * @param cls "fetch" for Fetch, "main" for everything else.
   * @returns The connection.
   */
  connection(cls: ConnectionClass): BrokerConnection {
    if (cls === "fetch") return this.#fetch ??= this.#make("fetch");
    return this.#main ??= this.#make("main");
  }

  /** The connections made so far. */
  connections(): BrokerConnection[] {
    const out: BrokerConnection[] = [];
    if (this.#main !== null) out.push(this.#main);
    if (this.#fetch !== null) out.push(this.#fetch);
    return out;
  }

  /**
   * Both connections' stats.
   *
   * @returns The stats by class, for the connections made so far.
   */
  stats(): { main: BrokerStats | null; fetch: BrokerStats | null } {
    return { main: this.#main?.stats() ?? null, fetch: this.#fetch?.stats() ?? null };
  }

  /**
   * Closes both connections.
   *
   * @param graceful Let pending requests finish (up to 30 s) rather than failing them now.
   * @returns Resolves once both are closed.
   */
  async close(graceful: boolean): Promise<void> {
    await Promise.all(this.connections().map((c) => c.close({ graceful })));
  }

  #make(cls: ConnectionClass): BrokerConnection {
    const o = this.#options;
    const user = o.connection.hooks;
    const hooks: BrokerHooks = {
      ...user,
      onStateChange: (change) => {
        this.#observer.stateChanged(this, cls, change);
        user?.onStateChange?.(change);
      },
      onRequest: (event) => {
        if (event.error !== undefined && event.correlationId >= 0) {
          this.#observer.failedAfterWrite(event.error);
        }
        user?.onRequest?.(event);
      },
    };
    const conn = new BrokerConnection({
      ...o.connection,
      host: this.address.host,
      port: this.address.port,
      connector: clusterConnector(this.address, o.connector, o.resolve, o.mapAddress),
      tls: o.tls,
      sasl: o.sasl,
      clock: o.clock,
      random: o.random,
      hooks,
    });
    return conn;
  }
}
