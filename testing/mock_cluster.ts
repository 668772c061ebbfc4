/**
 * The embedded multi-broker Kafka cluster: N broker nodes sharing one cluster state, each
 * serving Produce, Fetch, ListOffsets, CreateTopics and DeleteTopics besides ApiVersions,
 * Metadata and SASL, with leader moves, stopped nodes and per-node faults under the test's
 * control.
 *
 * @module
 */

import { decodeRecordBatches, type RecordBatch } from "../protocol/record_batch.ts";
import { type Clock, systemClock } from "../transport/clock.ts";
import type { Connector, ListenFn } from "../transport/conn.ts";
import { ConfigError, ConnectionRefusedError } from "../transport/errors.ts";
import type { MemoryConnectorOptions } from "../transport/memory.ts";
import { BrokerNode } from "./broker_node.ts";
import { ApiTable, type BrokerState, BUILTIN_APIS, DATA_APIS } from "./broker_state.ts";
import { MockClusterNode } from "./cluster_node.ts";
import {
  ClusterState,
  type MockTopic,
  type NodeInfo,
  type PartitionState,
} from "./cluster_state.ts";
import { FaultInjector } from "./faults.ts";
import { UNSERVED_APIS } from "./unserved_apis.ts";
import {
  apiOverrides,
  checkInt,
  hostPort,
  type MockSaslOptions,
  saslSettings,
} from "./mock_broker.ts";

/** Options of {@link MockCluster.start}. */
export interface MockClusterOptions {
  /** How many broker nodes; default 3. */
  nodes?: number;
  /** The first node id; the others count up from it. Default 1. */
  firstNodeId?: number;
  /** Topics to create at start; none by default. */
  topics?: MockTopic[];
  /** Require SASL on every node; without it the nodes are PLAINTEXT listeners. */
  sasl?: MockSaslOptions;
  /**
   * Also accept real loopback connections, one listener per node (`denoListen` from
   * `@kafka-wire/transport/deno`, `bunListen` from `@kafka-wire/transport/bun`); the nodes'
   * addresses are then the bound ones. Without it nodes are reachable only through
   * {@link MockCluster.connector}.
   */
  listen?: ListenFn;
  /** The address to bind with `listen`; default `127.0.0.1`. */
  hostname?: string;
  /** How the in-memory connector links client and node; its clock defaults to the cluster's. */
  memory?: MemoryConnectorOptions;
  /** The cluster id Metadata reports; default "mock-cluster". */
  clusterId?: string;
  /** Time source for long polls, delays, the request logs and SASL; the system clock by default. */
  clock?: Clock;
  /**
   * Milliseconds since the epoch, stamped on batches of LogAppendTime topics; `Date.now` by
   * default. (`clock` is monotonic and measures durations only.)
   */
  wallClock?: () => number;
  /**
   * Replaces advertised ApiVersions ranges per API key on every node (`null` hides an API), as
   * `MockBroker`'s option of the same name does, e.g. `{ 1: [4, 12] }` for nodes whose Fetch
   * stops before topic ids.
   */
  apiVersions?: Record<number, [number, number] | null>;
  /** Keep each node's request log; default `true`. */
  logRequests?: boolean;
}

/** A partition as the cluster holds it, for tests to check. */
export interface MockPartitionInfo {
  /** The leader's node id, -1 while offline. */
  readonly leader: number;
  /** The leader epoch. */
  readonly leaderEpoch: number;
  /** The replica node ids, preferred leader first. */
  readonly replicas: readonly number[];
  /** The in-sync replicas: the replicas on running nodes. */
  readonly isr: readonly number[];
  /** The replicas on stopped nodes. */
  readonly offlineReplicas: readonly number[];
  /** The first offset in the log. */
  readonly logStartOffset: bigint;
  /** The high watermark, which is also the log end offset. */
  readonly highWatermark: bigint;
  /** How many batches the log holds. */
  readonly batches: number;
}

/** Options of {@link MockCluster.stopNode}. */
export interface StopNodeOptions {
  /**
   * Move leadership of the node's partitions to their next running replica (epoch bumped);
   * `false` leaves them offline (leader -1, LEADER_NOT_AVAILABLE in Metadata) until a replica
   * starts again. Default `true`.
   */
  failover?: boolean;
}

/** The port nodes report when they serve only in-memory connections. */
const MEMORY_PORT = 9092;

/**
 * An embedded Kafka cluster for tests: N broker nodes, each with its own node id, address,
 * connections, faults and request log, sharing topics whose partitions have a leader, a leader
 * epoch, replicas, in-sync replicas and an in-memory log of record batches. Every node
 * answers ApiVersions, Metadata, SASL, Produce, Fetch (with long polls), ListOffsets,
 * CreateTopics and DeleteTopics the way a Kafka 4.x broker does; transactions, consumer
 * groups and the replication protocol are not served (see the README's list).
 *
 * @example
 * ```ts
 * import { MockCluster } from "@kafka-wire/transport/testing";
 *
 * await using cluster = await MockCluster.start({
 *   nodes: 3,
 *   topics: [{ name: "orders", partitions: 6 }],
 * });
 * // Hand `cluster.connector` and `cluster.bootstrap` to the client under test, then:
 * cluster.moveLeader("orders", 0); // partition 0 leads elsewhere, epoch bumped
 * cluster.stopNode(2); // node 2 refuses dials; its partitions fail over
 * await cluster.startNode(2);
 * console.log(cluster.partition("orders", 0).highWatermark);
 * ```
 */
export class MockCluster implements AsyncDisposable {
  /**
   * Dials a node in memory by the address it listens at (`host`/`port` of
   * {@link MockCluster.nodes}, as Metadata lists them). Rejects with `ConnectionRefusedError`
   * for an address no node listens at (e.g. one set by {@link MockCluster.advertise}) and for
   * a stopped node.
   */
  readonly connector: Connector;
  /** The nodes, by increasing node id. */
  readonly nodes: readonly MockClusterNode[];
  readonly #state: ClusterState;
  readonly #brokers: readonly BrokerNode[];
  #closed = false;

  private constructor(state: ClusterState, brokers: BrokerNode[]) {
    this.#state = state;
    this.#brokers = brokers;
    this.nodes = brokers.map((b) => new MockClusterNode(b));
    this.connector = (options) => {
      const broker = brokers.find((b) => {
        const n = b.state.node;
        return n.host === options.host && n.port === options.port;
      });
      if (broker === undefined || this.#closed) {
        return Promise.reject(
          new ConnectionRefusedError(
            `No node of the embedded cluster listens at ${hostPort(options.host, options.port)}` +
              (this.#closed ? " (the cluster is closed)" : `; nodes listen at ${this.bootstrap}`),
          ),
        );
      }
      return broker.dial(options);
    };
  }

  /**
   * Starts a cluster.
   *
   * @param options Node count, topics, SASL, clock, and an optional listen function for real
   *   sockets.
   * @returns The running cluster; close it with {@link MockCluster.close} or `await using`.
   * @throws {ConfigError} When an option is invalid.
   */
  static async start(options: MockClusterOptions = {}): Promise<MockCluster> {
    const count = options.nodes ?? 3;
    checkInt("nodes", count, 1, 1000);
    const first = options.firstNodeId ?? 1;
    checkInt("firstNodeId", first, 0, 2_147_483_647 - count);
    const sasl = saslSettings(options.sasl);
    const clock = options.clock ?? systemClock;
    const infos: NodeInfo[] = Array.from({ length: count }, (_, i) => ({
      nodeId: first + i,
      host: `mock-broker-${first + i}`,
      port: MEMORY_PORT,
      advertised: undefined,
      running: true,
    }));
    const state = new ClusterState(
      options.clusterId ?? "mock-cluster",
      infos,
      options.wallClock ?? Date.now,
    );
    const builtins = [...BUILTIN_APIS, ...DATA_APIS];
    const faultKeys = new Set(builtins.map((api) => api.key));
    const overrides = apiOverrides(options.apiVersions);
    const brokers = infos.map((node) => {
      const brokerState: BrokerState = {
        nodeId: node.nodeId,
        node,
        cluster: state,
        clock,
        faults: new FaultInjector(faultKeys),
        outOfOrder: false,
        sasl,
        requests: options.logRequests === false ? undefined : [],
        apis: new ApiTable(builtins, overrides, sasl?.legacy ?? false, UNSERVED_APIS),
      };
      return new BrokerNode(brokerState, {
        listen: options.listen,
        hostname: options.hostname,
        memory: options.memory,
        upHint: `cluster.startNode(${node.nodeId})`,
      });
    });
    const cluster = new MockCluster(state, brokers);
    try {
      for (const t of options.topics ?? []) state.createTopic(t);
      for (const b of brokers) await b.bind(0);
    } catch (error) {
      await cluster.close().catch(() => {});
      throw error;
    }
    return cluster;
  }

  /** Every node's `host:port`, comma-separated, as a bootstrap server list. */
  get bootstrap(): string {
    return this.nodes.map((n) => n.bootstrap).join(",");
  }

  /** The cluster id Metadata reports. */
  get clusterId(): string {
    return this.#state.clusterId;
  }

  /** The controller id Metadata reports: the running node with the lowest id. */
  get controllerId(): number {
    return this.#state.controllerId;
  }

  /**
   * Looks up a node by id.
   *
   * @param nodeId A node id.
   * @returns The node.
   * @throws {ConfigError} When the cluster has no such node.
   */
  node(nodeId: number): MockClusterNode {
    return this.nodes[this.#index(nodeId)];
  }

  /**
   * Stops a node: its connections are cut, its dials refused (in memory, and on real sockets
   * by closing its listener), it leaves Metadata's broker list, its replicas leave the ISR,
   * and the partitions it led fail over or go offline (see {@link StopNodeOptions}).
   *
   * @param nodeId The node.
   * @param options Whether its partitions fail over.
   * @throws {ConfigError} When the cluster has no such node.
   */
  stopNode(nodeId: number, options: StopNodeOptions = {}): void {
    const i = this.#index(nodeId);
    const info = this.#state.nodes[i];
    if (!info.running) return;
    this.#state.stopNode(info, options.failover ?? true);
    this.#brokers[i].down();
  }

  /**
   * Starts a stopped node again (on the same port with `listen`): it accepts connections,
   * rejoins Metadata and the ISR, and leads the offline partitions it holds a replica of.
   * Partitions that failed over stay with their new leader until {@link moveLeader}.
   *
   * @param nodeId The node.
   * @returns Resolves once the node accepts connections.
   * @throws {ConfigError} When the cluster has no such node.
   */
  async startNode(nodeId: number): Promise<void> {
    const i = this.#index(nodeId);
    const info = this.#state.nodes[i];
    if (info.running) return;
    await this.#brokers[i].up();
    this.#state.startNode(info);
  }

  /**
   * Moves a partition's leadership, bumping its leader epoch. The old leader answers
   * NOT_LEADER_OR_FOLLOWER from then on, with the new leader in the KIP-951 fields.
   *
   * @param topic The topic.
   * @param partition The partition index.
   * @param to The new leader: a running replica. By default the next running replica after
   *   the current leader, in replica order.
   * @returns The new leader epoch.
   * @throws {ConfigError} When the partition does not exist, `to` is not a running replica,
   *   or no other replica runs.
   */
  moveLeader(topic: string, partition: number, to?: number): number {
    const p = this.#partition(topic, partition);
    const isr = this.#state.isr(p);
    let target = to;
    if (target === undefined) {
      const after = isr.filter((id) => id !== p.leader);
      const from = p.replicas.indexOf(p.leader);
      target = after.find((id) => p.replicas.indexOf(id) > from) ?? after[0];
      if (target === undefined) {
        throw new ConfigError(
          `Cannot move the leader of ${topic}-${partition}: no other replica runs (replicas ` +
            `${p.replicas.join(", ")})`,
        );
      }
    } else if (!isr.includes(target)) {
      throw new ConfigError(
        `Cannot move the leader of ${topic}-${partition} to node ${target}: the running ` +
          `replicas are ${isr.join(", ") || "none"}`,
      );
    }
    this.#state.setLeader(p, target);
    return p.leaderEpoch;
  }

  /**
   * Lists a node in Metadata (and in KIP-951 hints) at an address where it does not listen —
   * a misconfigured `advertised.listeners` — while it keeps serving where it listens, so
   * bootstrap works and the dial to the advertised address fails. `null` lists it where it
   * listens again.
   *
   * @param nodeId The node.
   * @param address The address to list, by default `<host>.invalid` at the same port (a name
   *   that never resolves, RFC 6761); `null` to undo.
   * @throws {ConfigError} When the cluster has no such node.
   */
  advertise(nodeId: number, address?: { host: string; port: number } | null): void {
    const info = this.#state.nodes[this.#index(nodeId)];
    info.advertised = address === null
      ? undefined
      : address ?? { host: `${info.host.replaceAll(":", "-")}.invalid`, port: info.port };
    this.#state.changed();
  }

  /**
   * Creates a topic, as CreateTopics does.
   *
   * @param topic The name, partitions, replication factor and timestamp type.
   * @throws {ConfigError} When the name is taken or illegal, or a count out of range.
   */
  createTopic(topic: MockTopic): void {
    this.#state.createTopic(topic);
  }

  /**
   * Deletes a topic and its records, as DeleteTopics does.
   *
   * @param name The topic.
   * @returns Whether it existed.
   */
  deleteTopic(name: string): boolean {
    return this.#state.deleteTopic(name);
  }

  /**
   * Drops the batches below `offset` and moves the log start there (DeleteRecords), so
   * fetches below it get OFFSET_OUT_OF_RANGE.
   *
   * @param topic The topic.
   * @param partition The partition index.
   * @param offset The new log start offset (at most the log end).
   * @throws {ConfigError} When the partition does not exist.
   */
  deleteRecordsBefore(topic: string, partition: number, offset: bigint): void {
    this.#partition(topic, partition).log.truncateBefore(offset);
    this.#state.changed();
  }

  /**
   * A partition's leader, epoch, replicas, ISR, offline replicas and offsets.
   *
   * @param topic The topic.
   * @param partition The partition index.
   * @returns A snapshot.
   * @throws {ConfigError} When the partition does not exist.
   */
  partition(topic: string, partition: number): MockPartitionInfo {
    const p = this.#partition(topic, partition);
    return {
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: [...p.replicas],
      isr: this.#state.isr(p),
      offlineReplicas: this.#state.offlineReplicas(p),
      logStartOffset: p.log.logStartOffset,
      highWatermark: p.log.logEndOffset,
      batches: p.log.batches.length,
    };
  }

  /**
   * The batches a partition holds, decoded (offsets as assigned), to check what producers
   * wrote without fetching.
   *
   * @param topic The topic.
   * @param partition The partition index.
   * @returns The batches, oldest first.
   * @throws {ConfigError} When the partition does not exist.
   * @throws {UnsupportedCompressionError} When a batch is compressed.
   */
  batches(topic: string, partition: number): RecordBatch[] {
    return this.#partition(topic, partition).log.batches.flatMap((b) =>
      decodeRecordBatches(b.bytes)
    );
  }

  /**
   * Stops every node: closes listeners and connections, ends long polls and waits for every
   * loop to end. Idempotent.
   *
   * @returns Resolves when everything is closed; rejects with the first node's listener
   *   error, if a listener failed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const results = await Promise.allSettled(this.#brokers.map((b) => b.close()));
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  /**
   * Same as {@link MockCluster.close}, for `await using`.
   *
   * @returns Resolves when everything is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #index(nodeId: number): number {
    const i = this.#state.nodes.findIndex((n) => n.nodeId === nodeId);
    if (i < 0) {
      throw new ConfigError(
        `The embedded cluster has no node ${nodeId}; its nodes are ${
          this.#state.nodes.map((n) => n.nodeId).join(", ")
        }`,
      );
    }
    return i;
  }

  #partition(topic: string, partition: number): PartitionState {
    const p = this.#state.topic(topic)?.partitions[partition];
    if (p === undefined) {
      throw new ConfigError(`The embedded cluster has no partition ${topic}-${partition}`);
    }
    return p;
  }
}
