/**
 * The cluster's view of topics and partitions: leaders and leader epochs per partition, the
 * age of each topic's entry, and the rules for applying Metadata replies and KIP-951 hints
 * (an older leader epoch never replaces a newer one).
 *
 * @module
 */

import type { MetadataResponse } from "../protocol/metadata.ts";
import { isZeroUuid, uuidToString } from "../protocol/uuid.ts";

/** What the cache knows about one partition. */
export interface PartitionInfo {
  /** Partition index. */
  readonly partition: number;
  /** The leader's node id, -1 when unknown or lost. */
  readonly leaderId: number;
  /** The leader epoch, -1 when the broker does not report one. */
  readonly leaderEpoch: number;
  /** Replica node ids. */
  readonly replicas: readonly number[];
  /** In-sync replica node ids. */
  readonly isr: readonly number[];
  /** The partition's error code in the last Metadata reply (0 when none). */
  readonly errorCode: number;
}

/** What the cache knows about one topic. */
export interface TopicInfo {
  /** Topic name. */
  readonly name: string;
  /** Topic id (all zero before Metadata v10). */
  readonly topicId: Uint8Array;
  /** The topic's error code in the last Metadata reply (0 when none). */
  readonly errorCode: number;
  /** Partitions by index. */
  readonly partitions: readonly PartitionInfo[];
  /** When it was last refreshed, on the cluster's clock. */
  readonly refreshedAt: number;
}

/** One leader change made to the cache. */
export interface LeaderChange {
  /** Topic. */
  readonly topic: string;
  /** Partition. */
  readonly partition: number;
  /** The previous leader, -1 when unknown. */
  readonly from: number;
  /** The new leader, -1 when lost. */
  readonly to: number;
  /** The epoch now cached. */
  readonly epoch: number;
}

interface MutablePartition {
  partition: number;
  leaderId: number;
  leaderEpoch: number;
  replicas: readonly number[];
  isr: readonly number[];
  errorCode: number;
}

interface MutableTopic {
  name: string;
  topicId: Uint8Array;
  errorCode: number;
  partitions: MutablePartition[];
  refreshedAt: number;
}

/** The per-topic metadata cache. Not exported from the package: {@link Cluster} exposes views. */
export class MetadataCache {
  readonly #topics = new Map<string, MutableTopic>();
  /** Partitions whose leader is unknown: "topic\u0000partition". */
  readonly #leaderless = new Set<string>();
  readonly #byId = new Map<string, string>();

  /** Topics the cache holds, in insertion order. */
  topicNames(): string[] {
    return [...this.#topics.keys()];
  }

  /**
   * A topic's entry.
   *
   * @param topic The topic name.
   * @returns The entry, or `undefined` when never refreshed.
   */
  topic(topic: string): TopicInfo | undefined {
    return this.#topics.get(topic);
  }

  /**
   * The name of a topic known by id (Fetch v13+ replies name topics by id only).
   *
   * @param topicId The topic id.
   * @returns The name, or `undefined` when no Metadata reply named it.
   */
  nameOf(topicId: Uint8Array): string | undefined {
    return this.#byId.get(uuidToString(topicId));
  }

  /** Whether some partition's leader is unknown (so a fast refresh is due). */
  get hasLeaderless(): boolean {
    return this.#leaderless.size > 0;
  }

  /**
   * Applies a Metadata reply's topics.
   *
   * @param response The reply.
   * @param now The time of the reply.
   * @returns The leader changes made.
   */
  applyMetadata(response: MetadataResponse, now: number): LeaderChange[] {
    const changes: LeaderChange[] = [];
    for (const t of response.topics) {
      if (t.name === null) continue;
      const old = this.#topics.get(t.name);
      const partitions: MutablePartition[] = [];
      for (const p of t.partitions) {
        const prev = old?.partitions[p.partitionIndex];
        // A reply from a broker behind the current leader's epoch is stale for this partition.
        if (prev !== undefined && p.leaderEpoch >= 0 && prev.leaderEpoch > p.leaderEpoch) {
          partitions[p.partitionIndex] = prev;
          continue;
        }
        const next: MutablePartition = {
          partition: p.partitionIndex,
          leaderId: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          errorCode: p.errorCode,
        };
        partitions[p.partitionIndex] = next;
        const from = prev?.leaderId ?? -1;
        if (prev !== undefined && from !== next.leaderId) {
          changes.push({
            topic: t.name,
            partition: p.partitionIndex,
            from,
            to: next.leaderId,
            epoch: next.leaderEpoch,
          });
        }
        this.#markLeader(t.name, p.partitionIndex, next.leaderId);
      }
      if (!isZeroUuid(t.topicId)) this.#byId.set(uuidToString(t.topicId), t.name);
      this.#topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        errorCode: t.errorCode,
        partitions: partitions.filter((p) => p !== undefined),
        refreshedAt: now,
      });
    }
    return changes;
  }

  /**
   * Applies a KIP-951 hint (or any leader news with an epoch).
   *
   * @param topic Topic.
   * @param partition Partition.
   * @param leaderId The new leader.
   * @param leaderEpoch Its epoch; a hint older than the cached epoch is ignored.
   * @returns The change, or `null` when nothing changed.
   */
  applyLeader(
    topic: string,
    partition: number,
    leaderId: number,
    leaderEpoch: number,
  ): LeaderChange | null {
    const p = this.#topics.get(topic)?.partitions[partition];
    if (p === undefined || leaderId < 0) return null;
    if (leaderEpoch < p.leaderEpoch) return null;
    if (leaderEpoch === p.leaderEpoch && leaderId === p.leaderId) return null;
    const from = p.leaderId;
    p.leaderId = leaderId;
    p.leaderEpoch = leaderEpoch;
    this.#markLeader(topic, partition, leaderId);
    return from === leaderId ? null : { topic, partition, from, to: leaderId, epoch: leaderEpoch };
  }

  /**
   * Forgets a partition's leader (an error reply without a hint, or the leader's connection
   * was lost), so that requests wait for the next refresh instead of going to it again.
   *
   * @param topic Topic.
   * @param partition Partition.
   * @param onlyIf Forget only while this node is the cached leader; any leader when omitted.
   * @returns The change, or `null` when the leader was already unknown (or another).
   */
  loseLeader(topic: string, partition: number, onlyIf?: number): LeaderChange | null {
    const p = this.#topics.get(topic)?.partitions[partition];
    if (p === undefined || p.leaderId < 0) return null;
    if (onlyIf !== undefined && p.leaderId !== onlyIf) return null;
    const from = p.leaderId;
    p.leaderId = -1;
    this.#markLeader(topic, partition, -1);
    return { topic, partition, from, to: -1, epoch: p.leaderEpoch };
  }

  /**
   * The partitions a node leads.
   *
   * @param nodeId The node.
   * @returns Topic and partition pairs.
   */
  ledBy(nodeId: number): { topic: string; partition: number }[] {
    const out: { topic: string; partition: number }[] = [];
    for (const t of this.#topics.values()) {
      for (const p of t.partitions) {
        if (p.leaderId === nodeId) out.push({ topic: t.name, partition: p.partition });
      }
    }
    return out;
  }

  /**
   * Marks a topic's entry as due for refresh (its age is ignored from now on).
   *
   * @param topic The topic.
   */
  expire(topic: string): void {
    const t = this.#topics.get(topic);
    if (t !== undefined) t.refreshedAt = -Infinity;
  }

  /**
   * Forgets a topic (the topic was deleted or the caller stopped using it).
   *
   * @param topic The topic.
   */
  remove(topic: string): void {
    const t = this.#topics.get(topic);
    if (t === undefined) return;
    for (const p of t.partitions) this.#leaderless.delete(`${topic}\u0000${p.partition}`);
    this.#topics.delete(topic);
  }

  #markLeader(topic: string, partition: number, leaderId: number): void {
    const key = `${topic}\u0000${partition}`;
    if (leaderId < 0) this.#leaderless.add(key);
    else this.#leaderless.delete(key);
  }
}
