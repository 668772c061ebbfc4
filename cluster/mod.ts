/**
 * The cluster layer: bootstrap, broker discovery, metadata cache, leader routing and
 * failover above {@link BrokerConnection}.
 *
 * @example
 * ```ts ignore
 * import { Cluster, Produce } from "@kafka-wire/transport";
 * import { denoConnector, denoResolve } from "@kafka-wire/transport/deno";
 *
 * await using cluster = new Cluster({
 *   bootstrap: "127.0.0.1:9092",
 *   connector: denoConnector,
 *   resolve: denoResolve,
 * });
 * const reply = await cluster.send(Produce, request, {
 *   route: { kind: "leader", topic: "orders", partition: 0 },
 * });
 * console.log(reply.nodeId, reply.partitionErrors);
 * ```
 *
 * @module
 */

export { Cluster } from "./cluster.ts";
export type {
  BrokerInfo,
  ClusterReply,
  ClusterSendOptions,
  PartitionErrorReport,
  Route,
} from "./requests.ts";
export type { ConnectionClass } from "./broker_node.ts";
export {
  AddressResolutionError,
  BrokerDecommissionedError,
  ClusterRequestError,
  NoBrokerAvailableError,
} from "./errors.ts";
export type {
  BrokerAddedEvent,
  BrokerDecommissionedEvent,
  BrokerReplacedEvent,
  BrokerUnreachableEvent,
  ClusterEvent,
  ControllerChangedEvent,
  LeaderMovedEvent,
  MetadataRefreshedEvent,
  RebootstrapEvent,
  RefreshReason,
  UnreachableKind,
} from "./events.ts";
export type { LeaderChange, PartitionInfo, TopicInfo } from "./metadata_cache.ts";
export {
  type AddressMapper,
  type ClusterConnectionOptions,
  type ClusterOptions,
  type HostPort,
  parseBootstrap,
  parseHostPort,
  type Resolver,
} from "./options.ts";
export type { ClusterBrokerStats, ClusterStats, ConnectionTotals } from "./stats.ts";
