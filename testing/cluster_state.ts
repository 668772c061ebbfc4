/**
 * The state every node of an embedded cluster shares: the nodes and whether each runs, the
 * topics with their partitions (replicas, leader, leader epoch, log), the controller and the
 * cluster id. Leadership changes here; the nodes read it when they answer.
 *
 * @module
 */

import type { NodeEndpoint } from "../protocol/leader_discovery.ts";
import { isZeroUuid } from "../protocol/uuid.ts";
import { ConfigError } from "../transport/errors.ts";
import { PartitionLog } from "./partition_log.ts";

/** A topic to create when the cluster starts. */
export interface MockTopic {
  /** The topic name. */
  readonly name: string;
  /** How many partitions it has (at least 1). */
  readonly partitions: number;
  /**
   * How many nodes hold a replica of each partition; by default 3, or the node count when
   * there are fewer. Replicas are placed round-robin, the first one leading.
   */
  readonly replicationFactor?: number;
  /**
   * Stamp batches with the broker's append time (`message.timestamp.type=LogAppendTime`)
   * instead of keeping the producer's CreateTime; `false` by default.
   */
  readonly logAppendTime?: boolean;
}

/** One node of the cluster as the shared state sees it. */
export interface NodeInfo {
  /** The node id. */
  readonly nodeId: number;
  /** The address the node listens on (and the in-memory connector routes). */
  host: string;
  /** The port the node listens on. */
  port: number;
  /** An address Metadata advertises instead of the real one (the advertised-listener fault). */
  advertised: { host: string; port: number } | undefined;
  /** Whether the node runs: a stopped node is absent from Metadata and refuses dials. */
  running: boolean;
}

/** One partition: where its replicas are, who leads, and its records. */
export interface PartitionState {
  /** The partition index. */
  readonly index: number;
  /** The replica node ids, the preferred leader first. */
  readonly replicas: readonly number[];
  /** The leader's node id, -1 while the partition is offline. */
  leader: number;
  /** The leader epoch, bumped on every leader change. */
  leaderEpoch: number;
  /** The records: one log shared by every replica (no replication protocol). */
  readonly log: PartitionLog;
}

/** One topic. */
export interface TopicState {
  /** The topic name. */
  readonly name: string;
  /** The topic id. */
  readonly id: Uint8Array;
  /** Whether batches get the broker's append time. */
  readonly logAppendTime: boolean;
  /** The partitions, by index. */
  readonly partitions: readonly PartitionState[];
}

/** Characters Kafka allows in a topic name; at most 249 of them, and not "." or "..". */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Why Kafka would refuse a topic name, if it would.
 *
 * @param name The name.
 * @returns The reason, or `undefined` for a legal name.
 */
export function topicNameProblem(name: string): string | undefined {
  if (name === "." || name === "..") return `topic name "${name}" is reserved`;
  if (!TOPIC_NAME.test(name)) {
    return `topic name ${JSON.stringify(name)} must be 1 to 249 of the characters ` +
      "a-z, A-Z, 0-9, '.', '_' and '-'";
  }
  return undefined;
}

/**
 * A stable topic id derived from the name and a creation counter (FNV-1a spread over 16
 * bytes), so tests see the same ids on every run without a random source, and a topic deleted
 * and created again gets a new id as in Kafka. Never the zero UUID, which means "no id".
 */
function topicIdFor(name: string, generation: number): Uint8Array {
  const id = new Uint8Array(16);
  let h = 0x811c9dc5;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < name.length; i++) {
      h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    }
    h = Math.imul(h ^ (round + generation * 4), 0x01000193);
    new DataView(id.buffer).setUint32(round * 4, h >>> 0);
  }
  if (isZeroUuid(id)) id[15] = 1;
  return id;
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The cluster's shared state. */
export class ClusterState {
  /** The cluster id Metadata reports. */
  readonly clusterId: string;
  /** The nodes, by increasing node id. */
  readonly nodes: readonly NodeInfo[];
  /** Milliseconds since the epoch, for LogAppendTime stamps. */
  readonly wallClock: () => number;
  readonly #topics = new Map<string, TopicState>();
  readonly #listeners = new Set<() => void>();
  #generation = 0;

  /**
   * @param clusterId The cluster id.
   * @param nodes The nodes, by increasing node id.
   * @param wallClock Milliseconds since the epoch, for LogAppendTime stamps.
   */
  constructor(clusterId: string, nodes: NodeInfo[], wallClock: () => number) {
    this.clusterId = clusterId;
    this.nodes = nodes;
    this.wallClock = wallClock;
  }

  /** The topics, in creation order. */
  topics(): IterableIterator<TopicState> {
    return this.#topics.values();
  }

  /**
   * @param name A topic name.
   * @returns The topic, if it exists.
   */
  topic(name: string): TopicState | undefined {
    return this.#topics.get(name);
  }

  /**
   * @param id A topic id.
   * @returns The topic with that id, if one exists.
   */
  topicById(id: Uint8Array): TopicState | undefined {
    for (const t of this.#topics.values()) if (sameId(t.id, id)) return t;
    return undefined;
  }

  /**
   * @param nodeId A node id.
   * @returns The node, if the cluster has it.
   */
  node(nodeId: number): NodeInfo | undefined {
    return this.nodes.find((n) => n.nodeId === nodeId);
  }

  /** The controller Metadata reports: the running node with the lowest id, -1 if none runs. */
  get controllerId(): number {
    return this.nodes.find((n) => n.running)?.nodeId ?? -1;
  }

  /**
   * The address a node is listed at: the advertised override, or where it listens.
   *
   * @param node The node.
   * @returns Its endpoint as Metadata and the KIP-951 hints give it.
   */
  endpoint(node: NodeInfo): NodeEndpoint {
    const a = node.advertised ?? node;
    return { nodeId: node.nodeId, host: a.host, port: a.port, rack: null };
  }

  /** The replication factor a topic gets when none is asked for. */
  get defaultReplicationFactor(): number {
    return Math.min(3, this.nodes.length);
  }

  /**
   * Creates a topic, placing replicas round-robin over the nodes (or as `assignment` says).
   *
   * @param topic The name, partition count, replication factor and timestamp type.
   * @param assignment Replica node ids per partition, overriding the placement.
   * @returns The new topic.
   * @throws {ConfigError} When the name is taken or illegal, or a count is out of range.
   */
  createTopic(topic: MockTopic, assignment?: readonly (readonly number[])[]): TopicState {
    const problem = topicNameProblem(topic.name);
    if (problem !== undefined) throw new ConfigError(`Cannot create the topic: ${problem}`);
    if (this.#topics.has(topic.name)) {
      throw new ConfigError(`Cannot create topic "${topic.name}": it already exists`);
    }
    const count = assignment?.length ?? topic.partitions;
    if (!Number.isInteger(count) || count < 1 || count > 100_000) {
      throw new ConfigError(
        `Topic "${topic.name}" needs 1 to 100000 partitions, got ${String(count)}`,
      );
    }
    const rf = topic.replicationFactor ?? this.defaultReplicationFactor;
    if (!Number.isInteger(rf) || rf < 1 || rf > this.nodes.length) {
      throw new ConfigError(
        `Topic "${topic.name}" replication factor must be 1 to ${this.nodes.length} (the ` +
          `node count), got ${String(rf)}`,
      );
    }
    const partitions: PartitionState[] = [];
    for (let p = 0; p < count; p++) {
      const replicas = assignment?.[p] ??
        Array.from({ length: rf }, (_, i) => this.nodes[(p + i) % this.nodes.length].nodeId);
      const leader = replicas.find((id) => this.node(id)?.running) ?? -1;
      partitions.push({ index: p, replicas, leader, leaderEpoch: 0, log: new PartitionLog() });
    }
    const state: TopicState = {
      name: topic.name,
      id: topicIdFor(topic.name, this.#generation++),
      logAppendTime: topic.logAppendTime ?? false,
      partitions,
    };
    this.#topics.set(topic.name, state);
    this.changed();
    return state;
  }

  /**
   * Deletes a topic and its records.
   *
   * @param name The topic name.
   * @returns Whether it existed.
   */
  deleteTopic(name: string): boolean {
    const existed = this.#topics.delete(name);
    if (existed) this.changed();
    return existed;
  }

  /**
   * The in-sync replicas: every replica on a running node, since all replicas share one log.
   *
   * @param p The partition.
   * @returns Their node ids.
   */
  isr(p: PartitionState): number[] {
    return p.replicas.filter((id) => this.node(id)?.running === true);
  }

  /**
   * The replicas on stopped nodes.
   *
   * @param p The partition.
   * @returns Their node ids.
   */
  offlineReplicas(p: PartitionState): number[] {
    return p.replicas.filter((id) => this.node(id)?.running !== true);
  }

  /**
   * Gives a partition a new leader (or none, with -1) and bumps its epoch.
   *
   * @param p The partition.
   * @param leader The new leader's node id, or -1.
   */
  setLeader(p: PartitionState, leader: number): void {
    p.leader = leader;
    p.leaderEpoch++;
    this.changed();
  }

  /**
   * Marks a node stopped and moves leadership off it: to the next running replica with
   * `failover`, otherwise (or when none runs) the partition goes offline.
   *
   * @param node The node.
   * @param failover Whether its partitions lead elsewhere.
   */
  stopNode(node: NodeInfo, failover: boolean): void {
    node.running = false;
    for (const t of this.#topics.values()) {
      for (const p of t.partitions) {
        if (p.leader !== node.nodeId) continue;
        const next = failover ? this.isr(p)[0] ?? -1 : -1;
        this.setLeader(p, next);
      }
    }
    this.changed();
  }

  /**
   * Marks a node running again; offline partitions it holds a replica of elect it leader.
   *
   * @param node The node.
   */
  startNode(node: NodeInfo): void {
    node.running = true;
    for (const t of this.#topics.values()) {
      for (const p of t.partitions) {
        if (p.leader === -1 && p.replicas.includes(node.nodeId)) this.setLeader(p, node.nodeId);
      }
    }
    this.changed();
  }

  /**
   * Registers a callback for every change: records appended, leaders moved, topics created
   * or deleted, nodes stopped or started. Long-polling fetches wait on it.
   *
   * @param listener Called after each change.
   * @returns Removes the listener.
   */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener that something changed. */
  changed(): void {
    if (this.#listeners.size === 0) return;
    for (const listener of [...this.#listeners]) listener();
  }
}
