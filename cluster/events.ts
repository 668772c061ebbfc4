/**
 * What a {@link Cluster} reports about itself: brokers joining, changing and leaving, metadata
 * refreshes and why they ran, leaders moving, re-bootstrapping, and brokers this machine cannot
 * reach at their advertised address.
 *
 * @module
 */

import type { KafkaTransportError } from "../transport/errors.ts";

/** Why a metadata refresh ran. */
export type RefreshReason =
  | "first-use"
  | "topic-unknown"
  | "max-age"
  | "interval"
  | "leader-lost"
  | "error-code"
  | "not-controller"
  | "connection-lost"
  | "rebootstrap"
  | "requested";

/** A broker learned from Metadata (or a leader hint). */
export interface BrokerAddedEvent {
  /** Discriminator. */
  readonly type: "broker-added";
  /** Node id. */
  readonly nodeId: number;
  /** Advertised host. */
  readonly host: string;
  /** Advertised port. */
  readonly port: number;
  /** Rack, or `null`. */
  readonly rack: string | null;
}

/** A broker whose advertised address or rack changed; its connections were replaced. */
export interface BrokerReplacedEvent {
  /** Discriminator. */
  readonly type: "broker-replaced";
  /** Node id. */
  readonly nodeId: number;
  /** The old `host:port`. */
  readonly from: string;
  /** The new `host:port`. */
  readonly to: string;
  /** The new rack. */
  readonly rack: string | null;
}

/** A broker missing from Metadata; its pending requests failed with `BrokerDecommissionedError`. */
export interface BrokerDecommissionedEvent {
  /** Discriminator. */
  readonly type: "broker-decommissioned";
  /** Node id (negative for a bootstrap entry dropped once learned brokers exist). */
  readonly nodeId: number;
  /** Its `host:port`. */
  readonly address: string;
  /** Why. */
  readonly reason: string;
}

/**
 * Why a broker is unreachable: its advertised host does not resolve, dialling it failed
 * although the bootstrap answered (both point at `advertised.listeners`), or a bootstrap
 * server itself failed.
 */
export type UnreachableKind = "does-not-resolve" | "cannot-connect" | "bootstrap";

/** A broker could not be dialled at its advertised address. */
export interface BrokerUnreachableEvent {
  /** Discriminator. */
  readonly type: "broker-unreachable";
  /** Node id (negative for a bootstrap entry). */
  readonly nodeId: number;
  /** The advertised `host:port`. */
  readonly address: string;
  /** What kind of failure it was. */
  readonly kind: UnreachableKind;
  /** What failed. */
  readonly error: KafkaTransportError;
  /** What to check, e.g. the advertised listener that does not resolve from here. */
  readonly hint: string;
}

/** A metadata refresh finished (or failed). */
export interface MetadataRefreshedEvent {
  /** Discriminator. */
  readonly type: "metadata-refreshed";
  /** Why it ran; several callers may have shared it. */
  readonly reasons: readonly RefreshReason[];
  /** The topics asked for; `null` for all. */
  readonly topics: readonly string[] | null;
  /** The broker that answered, or `null` on failure. */
  readonly nodeId: number | null;
  /** Milliseconds it took. */
  readonly durationMs: number;
  /** The failure, when it failed. */
  readonly error?: KafkaTransportError;
}

/** A partition's leader changed in the cache. */
export interface LeaderMovedEvent {
  /** Discriminator. */
  readonly type: "leader-moved";
  /** Topic. */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** The previous leader, -1 when unknown. */
  readonly from: number;
  /** The new leader, -1 when lost. */
  readonly to: number;
  /** The new leader epoch. */
  readonly epoch: number;
  /** What told the cluster: a Metadata reply, a KIP-951 hint, or an error reply. */
  readonly source: "metadata" | "hint" | "error";
}

/** No broker was usable for `rebootstrapAfterMs`: the bootstrap list is in use again. */
export interface RebootstrapEvent {
  /** Discriminator. */
  readonly type: "rebootstrap";
  /** Why. */
  readonly reason: string;
}

/** The controller named by Metadata changed (or was forgotten after NOT_CONTROLLER: -1). */
export interface ControllerChangedEvent {
  /** Discriminator. */
  readonly type: "controller-changed";
  /** The previous controller id, -1 when unknown. */
  readonly from: number;
  /** The new controller id, -1 when unknown. */
  readonly to: number;
}

/** Every event a {@link Cluster} emits. */
export type ClusterEvent =
  | BrokerAddedEvent
  | BrokerReplacedEvent
  | BrokerDecommissionedEvent
  | BrokerUnreachableEvent
  | MetadataRefreshedEvent
  | LeaderMovedEvent
  | RebootstrapEvent
  | ControllerChangedEvent;
