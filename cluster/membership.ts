/**
 * The brokers a cluster knows: bootstrap entries until learned brokers exist, learned brokers
 * keyed by node id (diff-merged with every Metadata reply: added, replaced when the address or
 * rack changed, decommissioned when missing), librdkafka's "any usable broker" pick, dialling
 * candidates in turn when none is UP, re-bootstrapping when nothing was usable for a while, and
 * the unreachable-broker report.
 *
 * @module
 */

import type { BrokerConnection } from "../broker/connection.ts";
import { BrokerClosedError } from "../broker/errors.ts";
import type { MetadataResponse } from "../protocol/metadata.ts";
import { asKafkaError, type KafkaTransportError } from "../transport/errors.ts";
import { BrokerNode, type NodeObserver } from "./broker_node.ts";
import {
  AddressResolutionError,
  BrokerDecommissionedError,
  NoBrokerAvailableError,
} from "./errors.ts";
import type { ClusterEvent, UnreachableKind } from "./events.ts";
import type { ResolvedClusterOptions } from "./options.ts";
import { brokerSelection } from "./selection.ts";
import type { ClusterCounters } from "./stats.ts";

/**
 * What to check about a broker this machine cannot reach.
 *
 * @param nodeId The node id (negative for a bootstrap entry).
 * @param address Its advertised `host:port`.
 * @param kind What failed.
 * @param error The failure.
 * @param mapHook How the user maps addresses in their setting: "mapAddress" for the option,
 *   "--map-address" for the probe.
 * @returns The hint.
 */
export function unreachableHint(
  nodeId: number,
  address: string,
  kind: UnreachableKind,
  error: KafkaTransportError,
  mapHook: string,
): string {
  const who = `broker ${nodeId} advertises ${address}`;
  switch (kind) {
    case "does-not-resolve":
      return `${who}, which does not resolve from here: check advertised.listeners, or map it ` +
        `with ${mapHook}`;
    case "cannot-connect":
      return `${who}, which this machine cannot reach (${error.name}); the bootstrap answered, ` +
        `so check advertised.listeners, or map it with ${mapHook}`;
    case "bootstrap":
      return `bootstrap server ${address} is not reachable (${error.name}): check the address ` +
        `and that the broker runs`;
  }
}

/** Lets a pending promise reject without an unhandled-rejection report. */
function quiet(p: Promise<unknown>): void {
  p.catch(() => {});
}

/** The broker set of one cluster. Internal. */
export class Membership {
  readonly #o: ResolvedClusterOptions;
  readonly #observer: NodeObserver;
  readonly #emit: (event: ClusterEvent) => void;
  readonly #counters: ClusterCounters;
  readonly #nodes = new Map<number, BrokerNode>();
  #bootstrap: BrokerNode[];
  #bootstrapNext: number;
  /** When some connection was last UP (or the cluster was made, or re-bootstrapped). */
  lastUpAt: number;

  /**
   * @param options The cluster's options.
   * @param observer Told of every connection's state changes and failures after a write.
   * @param emit Emits cluster events.
   * @param counters Where decommissions and re-bootstraps are counted.
   */
  constructor(
    options: ResolvedClusterOptions,
    observer: NodeObserver,
    emit: (event: ClusterEvent) => void,
    counters: ClusterCounters,
  ) {
    this.#o = options;
    this.#observer = observer;
    this.#emit = emit;
    this.#counters = counters;
    this.lastUpAt = options.clock.now();
    this.#bootstrapNext = Math.floor(options.random() * options.bootstrap.length);
    this.#bootstrap = this.#makeBootstrap();
  }

  /** Learned brokers by node id, then the bootstrap entries still in use. */
  all(): BrokerNode[] {
    const nodes = [...this.#nodes.values()].sort((a, b) => a.nodeId - b.nodeId);
    return [...nodes, ...this.#bootstrap];
  }

  /**
   * A broker by node id (negative ids: bootstrap entries).
   *
   * @param nodeId The node id.
   * @returns The broker, or `undefined`.
   */
  get(nodeId: number): BrokerNode | undefined {
    return this.#nodes.get(nodeId) ?? this.#bootstrap.find((n) => n.nodeId === nodeId);
  }

  /**
   * Any usable broker, dialling candidates in turn when none is UP.
   *
   * @param deadline When to give up, on the cluster's clock.
   * @returns A broker whose main connection is UP.
   */
  async anyNode(deadline: number): Promise<BrokerNode> {
    const candidates = [...this.#nodes.values(), ...this.#bootstrap].filter((n) =>
      n.decommissioned === null
    );
    const up = brokerSelection(candidates, this.#o.random);
    if (up.usable !== null) {
      this.lastUpAt = this.#o.clock.now();
      return up.usable;
    }
    if (
      this.#nodes.size > 0 && this.#o.clock.now() - this.lastUpAt >= this.#o.rebootstrapAfterMs
    ) {
      this.#rebootstrapNow(`no broker usable for ${this.#o.rebootstrapAfterMs} ms`);
    }
    const bootstrap = this.#bootstrap.length;
    const order = [
      ...up.learned,
      ...this.#bootstrap.map((_, i) => this.#bootstrap[(this.#bootstrapNext + i) % bootstrap]),
    ];
    let last: KafkaTransportError | null = null;
    for (const node of order) {
      if (this.#o.clock.now() >= deadline) break;
      if (!node.learned) this.#bootstrapNext = (this.#bootstrapNext + 1) % Math.max(1, bootstrap);
      try {
        await this.connect(node, node.connection("main"), deadline);
        return node;
      } catch (error) {
        last = asKafkaError(error, `connecting to ${node.addressText}`);
      }
    }
    throw new NoBrokerAvailableError(
      `No broker reachable (tried ${order.map((n) => n.addressText).join(", ")})${
        last ? `: ${last.message}` : ""
      }`,
      { cause: last ?? undefined },
    );
  }
  /**
   * Connects a broker's connection, bounded by a deadline; reports the broker unreachable when
   * it fails.
   *
   * @param node The broker.
   * @param conn Its connection to connect.
   * @param deadline When to give up, on the cluster's clock.
   * @returns Resolves at UP; rejects with the connection's last failure.
   */
  async connect(node: BrokerNode, conn: BrokerConnection, deadline: number): Promise<void> {
    const abort = new AbortController();
    const timer = this.#o.clock.setTimeout(
      () => abort.abort(),
      Math.max(1, deadline - this.#o.clock.now()),
    );
    try {
      await conn.connect(abort.signal);
    } catch (error) {
      // Our deadline cut the wait short: the connection's own last failure says why.
      const cause = abort.signal.aborted ? conn.stats().lastError ?? error : error;
      const e = asKafkaError(cause, `connecting to ${node.addressText}`);
      this.#unreachable(node, e);
      throw e;
    } finally {
      this.#o.clock.clearTimeout(timer);
    }
  }
  /**
   * The error a request to a broker failed with, as the caller should see it: a broker closed
   * because it left the cluster fails its requests with a retriable
   * {@link BrokerDecommissionedError} rather than the connection's `BrokerClosedError`.
   *
   * @param node The broker.
   * @param error What the connection rejected with.
   * @returns The typed error.
   */
  typed(node: BrokerNode, error: unknown): KafkaTransportError {
    const e = asKafkaError(error, `request to ${node.addressText}`);
    if (node.decommissioned !== null && e instanceof BrokerClosedError) {
      return new BrokerDecommissionedError(
        node.nodeId,
        `Broker ${node.nodeId} (${node.addressText}) left: ${node.decommissioned}`,
        { cause: e },
      );
    }
    return e;
  }
  /**
   * Diff-merges the brokers of a Metadata reply (a reply without brokers changes nothing) and
   * drops the bootstrap entries once learned brokers exist.
   *
   * @param response The reply.
   */
  merge(response: MetadataResponse): void {
    const seen = new Set<number>();
    for (const b of response.brokers) {
      seen.add(b.nodeId);
      this.learn(b.nodeId, b.host, b.port, b.rack, true);
    }
    for (const [id, node] of this.#nodes) {
      if (!seen.has(id)) this.#decommission(node, "missing from Metadata");
    }
    if (this.#bootstrap.length > 0) {
      const purged = this.#bootstrap;
      this.#bootstrap = [];
      for (const node of purged) this.#decommission(node, "learned brokers are known");
    }
  }
  /**
   * Adds or replaces a broker from Metadata (authoritative: rack changes count) or from KIP-951
   * node endpoints (only unknown brokers are added).
   *
   * @param nodeId Node id.
   * @param host Advertised host.
   * @param port Advertised port.
   * @param rack Rack.
   * @param authoritative From Metadata.
   */
  learn(
    nodeId: number,
    host: string,
    port: number,
    rack: string | null,
    authoritative = false,
  ): void {
    const old = this.#nodes.get(nodeId);
    if (old !== undefined) {
      const same = old.address.host === host && old.address.port === port &&
        (!authoritative || old.rack === rack);
      if (same) return;
      if (!authoritative && old.address.host === host && old.address.port === port) return;
    }
    const node = new BrokerNode(nodeId, { host, port }, rack, true, this.#o, this.#observer);
    this.#nodes.set(nodeId, node);
    if (old !== undefined) {
      this.#decommission(old, `its address or rack changed to ${node.addressText}`, false);
      this.#emit({
        type: "broker-replaced",
        nodeId,
        from: old.addressText,
        to: node.addressText,
        rack,
      });
    } else {
      this.#emit({ type: "broker-added", nodeId, host, port, rack });
    }
  }
  #decommission(node: BrokerNode, reason: string, remove = true): void {
    if (node.decommissioned !== null) return;
    node.decommissioned = reason;
    if (remove && this.#nodes.get(node.nodeId) === node) this.#nodes.delete(node.nodeId);
    this.#counters.decommissioned++;
    quiet(node.close(false));
    this.#emit({
      type: "broker-decommissioned",
      nodeId: node.nodeId,
      address: node.addressText,
      reason,
    });
  }
  #rebootstrapNow(reason: string): void {
    this.#counters.rebootstraps++;
    for (const n of this.#bootstrap) quiet(n.close(false));
    this.#bootstrap = this.#makeBootstrap();
    this.lastUpAt = this.#o.clock.now();
    this.#emit({ type: "rebootstrap", reason });
  }
  #unreachable(node: BrokerNode, error: KafkaTransportError): void {
    if (node.lastDialError !== null) return;
    node.lastDialError = { at: this.#o.clock.now(), error };
    const kind = !node.learned
      ? "bootstrap"
      : error instanceof AddressResolutionError
      ? "does-not-resolve"
      : "cannot-connect";
    this.#emit({
      type: "broker-unreachable",
      nodeId: node.nodeId,
      address: node.addressText,
      kind,
      error,
      hint: unreachableHint(node.nodeId, node.addressText, kind, error, "mapAddress"),
    });
  }

  /**
   * Closes every broker.
   *
   * @param graceful Let pending requests finish.
   * @returns Resolves once closed.
   */
  async close(graceful: boolean): Promise<void> {
    await Promise.all(this.all().map((n) => n.close(graceful)));
  }

  #makeBootstrap(): BrokerNode[] {
    return this.#o.bootstrap.map((hp, i) =>
      new BrokerNode(-1 - i, hp, null, false, this.#o, this.#observer)
    );
  }
}
