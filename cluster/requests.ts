/**
 * What a routed request of a {@link Cluster} takes and returns: the route, the per-call
 * options, and the reply with what it changed.
 *
 * @module
 */

import type { BrokerState } from "../broker/state.ts";
import type { ConnectionClass } from "./broker_node.ts";
import type { LeaderChange } from "./metadata_cache.ts";

/** Where a routed request goes. */
export type Route =
  | { readonly kind: "leader"; readonly topic: string; readonly partition: number }
  | { readonly kind: "node"; readonly nodeId: number }
  | { readonly kind: "controller" }
  | { readonly kind: "any" };

/** Options of {@link Cluster.send}. */
export interface ClusterSendOptions {
  /** Where the request goes. */
  route: Route;
  /**
   * Whether the request may be sent again after a failure that may have reached a broker.
   * Default `true` for Metadata, ApiVersions, ListOffsets and Fetch, `false` otherwise (a
   * Produce sent twice may be appended twice).
   */
  retry?: boolean;
  /** Deadline of the whole call, retries included; the cluster's `sendTimeoutMs` by default. */
  timeoutMs?: number;
  /** Aborts the call. */
  signal?: AbortSignal;
  /** Which connection of the broker: "fetch" for Fetch by default, "main" otherwise. */
  connection?: ConnectionClass;
}

/** A partition a reply reported an error for, and what the cache did about it. */
export interface PartitionErrorReport {
  /** Topic (or the topic id as text when the cache does not know the name). */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** The Kafka error code. */
  readonly errorCode: number;
  /** `true` when a KIP-951 hint moved the partition at once; `false` when a refresh was asked. */
  readonly hinted: boolean;
}

/** What a routed request came back with. */
export interface ClusterReply<Res> {
  /** The decoded reply. */
  readonly response: Res;
  /** The node that answered. */
  readonly nodeId: number;
  /** Attempts made (1 when the first one was answered). */
  readonly attempts: number;
  /** Leader changes the reply caused in the cache (KIP-951 hints, lost leaders). */
  readonly leaderChanges: readonly LeaderChange[];
  /** Partitions with stale-metadata errors in the reply; the caller decides whether to retry them. */
  readonly partitionErrors: readonly PartitionErrorReport[];
}

/** A broker as {@link Cluster.brokers} lists it. */
export interface BrokerInfo {
  /** Node id; negative for a bootstrap entry. */
  readonly nodeId: number;
  /** Advertised host. */
  readonly host: string;
  /** Advertised port. */
  readonly port: number;
  /** Rack, or `null`. */
  readonly rack: string | null;
  /** From Metadata (`true`) or the bootstrap list. */
  readonly learned: boolean;
  /** State of its main connection. */
  readonly state: BrokerState;
  /** State of its Fetch connection, or `null` when none was made. */
  readonly fetchState: BrokerState | null;
}

/**
 * Names a route in messages.
 *
 * @param route The route.
 * @returns E.g. "the leader of orders-3".
 */
export function describeRoute(route: Route): string {
  switch (route.kind) {
    case "leader":
      return `the leader of ${route.topic}-${route.partition}`;
    case "node":
      return `node ${route.nodeId}`;
    case "controller":
      return "the controller";
    case "any":
      return "any broker";
  }
}
