/**
 * Reads what a reply says about the cluster: per-partition error codes that make cached
 * metadata stale, the KIP-951 leader hints that come with them, and NOT_CONTROLLER. Pure
 * functions over decoded replies; the {@link Cluster} applies what they find.
 *
 * @module
 */

import type { NodeEndpoint } from "../protocol/leader_discovery.ts";
import { FETCH_KEY, type FetchResponse } from "../protocol/fetch.ts";
import { PRODUCE_KEY, type ProduceResponse } from "../protocol/produce.ts";

/** NOT_LEADER_OR_FOLLOWER. */
export const NOT_LEADER_OR_FOLLOWER = 6;
/** LEADER_NOT_AVAILABLE. */
export const LEADER_NOT_AVAILABLE = 5;
/** UNKNOWN_TOPIC_OR_PARTITION. */
export const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** FENCED_LEADER_EPOCH. */
export const FENCED_LEADER_EPOCH = 74;
/** NOT_CONTROLLER. */
export const NOT_CONTROLLER = 41;

/** The partition error codes after which cached metadata is stale. */
export const STALE_METADATA_CODES: ReadonlySet<number> = new Set([
  NOT_LEADER_OR_FOLLOWER,
  LEADER_NOT_AVAILABLE,
  UNKNOWN_TOPIC_OR_PARTITION,
  FENCED_LEADER_EPOCH,
]);

/** A partition a reply says the cache is wrong about. */
export interface StalePartition {
  /** Topic name, or `null` when the reply named it by an id the cache does not know. */
  readonly topic: string | null;
  /** Topic id from the reply (Fetch v13+), or `null`. */
  readonly topicId: Uint8Array | null;
  /** Partition. */
  readonly partition: number;
  /** The error code. */
  readonly errorCode: number;
  /** The KIP-951 leader hint, when the broker sent one with a known leader. */
  readonly leader: { readonly leaderId: number; readonly leaderEpoch: number } | null;
}

/** What a reply says about the cluster. */
export interface ReplyFindings {
  /** Partitions with a stale-metadata error code. */
  readonly stale: StalePartition[];
  /** Endpoints of new leaders (KIP-951). */
  readonly endpoints: readonly NodeEndpoint[];
  /** Whether the reply (or one of its items) said NOT_CONTROLLER. */
  readonly notController: boolean;
}

const NONE: ReplyFindings = Object.freeze({ stale: [], endpoints: [], notController: false });

function hint(
  leader: { leaderId: number; leaderEpoch: number } | null,
): StalePartition["leader"] {
  return leader !== null && leader.leaderId >= 0 ? leader : null;
}

function produceFindings(res: ProduceResponse): ReplyFindings {
  let stale: StalePartition[] | null = null;
  for (const t of res.responses) {
    for (const p of t.partitionResponses) {
      if (!STALE_METADATA_CODES.has(p.errorCode)) continue;
      (stale ??= []).push({
        topic: t.name,
        topicId: null,
        partition: p.index,
        errorCode: p.errorCode,
        leader: hint(p.currentLeader),
      });
    }
  }
  return stale === null ? NONE : { stale, endpoints: res.nodeEndpoints, notController: false };
}

function fetchFindings(res: FetchResponse): ReplyFindings {
  let stale: StalePartition[] | null = null;
  for (const t of res.responses) {
    for (const p of t.partitions) {
      if (!STALE_METADATA_CODES.has(p.errorCode)) continue;
      (stale ??= []).push({
        topic: t.topic === "" ? null : t.topic,
        topicId: t.topicId,
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        leader: hint(p.currentLeader),
      });
    }
  }
  return stale === null ? NONE : { stale, endpoints: res.nodeEndpoints, notController: false };
}

/**
 * Whether a reply of an API without special handling says NOT_CONTROLLER: in its top-level
 * `errorCode` or in the `errorCode` of an item of a top-level `topics` or `results` array
 * (CreateTopics, DeleteTopics, CreatePartitions and the like).
 */
function saysNotController(res: unknown): boolean {
  if (res === null || typeof res !== "object") return false;
  const r = res as Record<string, unknown>;
  if (r.errorCode === NOT_CONTROLLER) return true;
  for (const key of ["topics", "results"]) {
    const items = r[key];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (item !== null && typeof item === "object" && item.errorCode === NOT_CONTROLLER) {
        return true;
      }
    }
  }
  return false;
}

/**
 * Reads a decoded reply.
 *
 * @param apiKey The API key of the request.
 * @param response The decoded reply.
 * @returns What it says about the cluster.
 */
export function replyFindings(apiKey: number, response: unknown): ReplyFindings {
  if (apiKey === PRODUCE_KEY) {
    return response === undefined ? NONE : produceFindings(response as ProduceResponse);
  }
  if (apiKey === FETCH_KEY) return fetchFindings(response as FetchResponse);
  return saysNotController(response) ? { ...NONE, notController: true } : NONE;
}
