/**
 * Fetch (key 1), versions 4–17 (flexible from 12; Kafka 4.x refuses 0–3): reads record batches
 * from partitions. Up to v12 topics are named; from v13 they are identified by topic id
 * (from Metadata), so each {@link FetchTopic} carries whichever its version needs.
 *
 * The `records` of each partition are returned as raw bytes (a view into the frame); decode
 * them with `decodeRecordBatches`, which also drops the partial batch a broker may leave at
 * the end when it hits the size limit.
 *
 * @example
 * ```ts
 * import { Fetch } from "./fetch.ts";
 * import { Writer } from "../framing/writer.ts";
 * Fetch.encodeRequest(new Writer(), {
 *   maxWaitMs: 500,
 *   minBytes: 1,
 *   topics: [{ topic: "orders", partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
 * }, 12);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { type TaggedField, Writer } from "../framing/writer.ts";
import { ConfigError } from "../transport/errors.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readArrayLength,
  readCount,
  readInt32Array,
  readNullableBytes,
  readString,
  readTagsInto,
  skipTags,
  writeBytes,
  writeCount,
  writeInt32Array,
  writeNoTags,
  writeString,
} from "./flexible.ts";
import {
  encodeLeaderIdAndEpoch,
  type LeaderIdAndEpoch,
  type NodeEndpoint,
  readLeaderIdAndEpoch,
  readNodeEndpointsTag,
  writeNodeEndpointsTags,
} from "./leader_discovery.ts";
import { ZERO_UUID } from "./uuid.ts";
import { checkInt, INT32_MAX } from "./validate.ts";

/** The API key of Fetch. */
export const FETCH_KEY = 1;

const FIRST_FLEXIBLE = 12;
/** The first version that identifies topics by id instead of name. */
const FIRST_TOPIC_ID = 13;

/** One partition to fetch from. */
export interface FetchPartition {
  /** The partition index. */
  partition: number;
  /** The leader epoch the client knows (v9+), -1 to skip fencing; -1 when omitted. */
  currentLeaderEpoch?: number;
  /** The offset to read from. */
  fetchOffset: bigint;
  /** The epoch of the last fetched record (v12+), -1 when omitted. */
  lastFetchedEpoch?: number;
  /** The follower's log start offset (v5+, followers only), -1 when omitted. */
  logStartOffset?: bigint;
  /** The most bytes to return for this partition. */
  partitionMaxBytes: number;
}

/** One topic to fetch from: `topic` up to v12, `topicId` from v13. */
export interface FetchTopic {
  /** The topic name (v4–12). */
  topic?: string;
  /** The topic id (v13+), from Metadata v10+. */
  topicId?: Uint8Array;
  /** The partitions to fetch. */
  partitions: FetchPartition[];
}

/** Partitions to drop from an incremental fetch session (v7+). */
export interface ForgottenTopic {
  /** The topic name (v7–12). */
  topic?: string;
  /** The topic id (v13+). */
  topicId?: Uint8Array;
  /** The partition indexes to forget. */
  partitions: number[];
}

/** A Fetch request. */
export interface FetchRequest {
  /** The cluster id if known (v12+ tagged field 0), or `null`/omitted. */
  clusterId?: string | null;
  /** The follower's broker id (v4–14); -1 (a consumer) when omitted. */
  replicaId?: number;
  /** The most milliseconds the broker may wait for `minBytes`. */
  maxWaitMs: number;
  /** The fewest bytes worth answering for; 1 answers as soon as anything is there. */
  minBytes: number;
  /** The most bytes in the whole response; 0x7fffffff when omitted. */
  maxBytes?: number;
  /** 0 READ_UNCOMMITTED, 1 READ_COMMITTED; 0 when omitted. */
  isolationLevel?: number;
  /** The fetch session id (v7+); 0 (no session) when omitted. */
  sessionId?: number;
  /** The fetch session epoch (v7+); -1 (no session) when omitted. */
  sessionEpoch?: number;
  /** The topics and partitions to fetch. */
  topics: FetchTopic[];
  /** Partitions to remove from the fetch session (v7+); none when omitted. */
  forgottenTopicsData?: ForgottenTopic[];
  /** The consumer's rack (v11+); "" when omitted. */
  rackId?: string;
}

/** A transaction aborted within the returned records (READ_COMMITTED). */
export interface AbortedTransaction {
  /** The producer id of the aborted transaction. */
  producerId: bigint;
  /** The offset of its first record. */
  firstOffset: bigint;
}

/** Where a follower's log diverges from the leader's (v12+ tagged field 0). */
export interface EpochEndOffset {
  /** The largest epoch both logs share, -1 when unknown. */
  epoch: number;
  /** The end offset of that epoch, -1 when unknown. */
  endOffset: bigint;
}

/** The snapshot to fetch instead when the offset is below the log start (v12+ tagged field 2). */
export interface SnapshotId {
  /** The snapshot's end offset. */
  endOffset: bigint;
  /** The snapshot's epoch. */
  epoch: number;
}

/** The data for one partition. */
export interface FetchPartitionResponse {
  /** The partition index. */
  partitionIndex: number;
  /** 0, or e.g. 1 OFFSET_OUT_OF_RANGE, 6 NOT_LEADER_OR_FOLLOWER. */
  errorCode: number;
  /** The high watermark: the offset after the last committed record. */
  highWatermark: bigint;
  /** The last stable offset, -1 when unknown. */
  lastStableOffset: bigint;
  /** The log start offset (v5+), -1 when unknown. */
  logStartOffset: bigint;
  /** Set when the follower's log diverges (v12+), otherwise `null`. */
  divergingEpoch: EpochEndOffset | null;
  /** The current leader when this broker is not it (v12+), otherwise `null`. */
  currentLeader: LeaderIdAndEpoch | null;
  /** The snapshot to fetch instead (v12+), otherwise `null`. */
  snapshotId: SnapshotId | null;
  /** Aborted transactions among the records, or `null`. */
  abortedTransactions: AbortedTransaction[] | null;
  /** The replica to fetch from next (v11+), -1 for the leader. */
  preferredReadReplica: number;
  /** The record batches as raw bytes (a view into the frame), or `null`. */
  records: Uint8Array | null;
}

/** The data for one topic: named up to v12, by id from v13. */
export interface FetchTopicResponse {
  /** The topic name (v4–12); "" from v13. */
  topic: string;
  /** The topic id (v13+); the zero UUID below v13. */
  topicId: Uint8Array;
  /** The partitions. */
  partitions: FetchPartitionResponse[];
}

/** A Fetch response. */
export interface FetchResponse {
  /** How long the broker throttled the request. */
  throttleTimeMs: number;
  /** The top-level error code (v7+), e.g. a fetch session error. */
  errorCode: number;
  /** The fetch session id (v7+), 0 when none. */
  sessionId: number;
  /** The topics. */
  responses: FetchTopicResponse[];
  /** Endpoints of the leaders named in `currentLeader` (v16+ tagged field 0). */
  nodeEndpoints: NodeEndpoint[];
}

/**
 * Writes a topic's name or id, whichever `version` needs.
 */
function writeTopicRef(
  w: Writer,
  topic: string | undefined,
  topicId: Uint8Array | undefined,
  version: number,
  flexible: boolean,
): void {
  if (version >= FIRST_TOPIC_ID) {
    if (topicId === undefined) {
      throw new ConfigError(
        `Fetch v${version} identifies topics by id: set topicId (from Metadata v10+) for ` +
          `topic "${topic ?? ""}", or negotiate Fetch v12 or lower`,
      );
    }
    w.uuid(topicId);
  } else {
    if (topic === undefined) {
      throw new ConfigError(
        `Fetch v${version} identifies topics by name: set topic, or use Fetch v13+ with topic ids`,
      );
    }
    writeString(w, flexible, topic);
  }
}

/**
 * Checks the numbers a user sets on a Fetch request before any is written: the Writer would
 * silently wrap them or write `undefined` as 0.
 *
 * @throws {ConfigError} Naming the field and what it accepts.
 */
function checkRequest(request: FetchRequest): void {
  checkInt(request.maxWaitMs, "Fetch maxWaitMs", 0, INT32_MAX, "(milliseconds)");
  checkInt(request.minBytes, "Fetch minBytes", 0, INT32_MAX);
  if (request.maxBytes !== undefined) {
    checkInt(request.maxBytes, "Fetch maxBytes", 0, INT32_MAX);
  }
  if (request.isolationLevel !== undefined) {
    checkInt(
      request.isolationLevel,
      "Fetch isolationLevel",
      0,
      1,
      "(0 READ_UNCOMMITTED, 1 READ_COMMITTED)",
    );
  }
}

function readPartitionTag(p: FetchPartitionResponse, tag: number, r: Reader): void {
  if (tag === 0) {
    const epoch = r.int32("diverging_epoch.epoch");
    const endOffset = r.int64("diverging_epoch.end_offset");
    r.taggedFields(undefined, "diverging_epoch.tagged_fields");
    p.divergingEpoch = { epoch, endOffset };
  } else if (tag === 1) {
    p.currentLeader = readLeaderIdAndEpoch(r);
  } else if (tag === 2) {
    const endOffset = r.int64("snapshot_id.end_offset");
    const epoch = r.int32("snapshot_id.epoch");
    r.taggedFields(undefined, "snapshot_id.tagged_fields");
    p.snapshotId = { endOffset, epoch };
  }
}

function readRequestTag(request: FetchRequest, tag: number, r: Reader): void {
  if (tag === 0) request.clusterId = r.compactNullableString("cluster_id");
}

function readAbortedTransactions(r: Reader, flexible: boolean): AbortedTransaction[] | null {
  const n = readArrayLength(r, flexible, "aborted_transactions");
  if (n < 0) return null;
  const out = new Array<AbortedTransaction>(n);
  for (let i = 0; i < n; i++) {
    const producerId = r.int64("aborted_transactions.producer_id");
    const firstOffset = r.int64("aborted_transactions.first_offset");
    skipTags(r, flexible, "aborted_transactions.tagged_fields");
    out[i] = { producerId, firstOffset };
  }
  return out;
}

function readPartition(r: Reader, version: number, flexible: boolean): FetchPartitionResponse {
  const p: FetchPartitionResponse = {
    partitionIndex: r.int32("partitions.partition_index"),
    errorCode: r.int16("partitions.error_code"),
    highWatermark: r.int64("partitions.high_watermark"),
    lastStableOffset: r.int64("partitions.last_stable_offset"),
    logStartOffset: version >= 5 ? r.int64("partitions.log_start_offset") : -1n,
    divergingEpoch: null,
    currentLeader: null,
    snapshotId: null,
    abortedTransactions: readAbortedTransactions(r, flexible),
    preferredReadReplica: version >= 11 ? r.int32("partitions.preferred_read_replica") : -1,
    records: readNullableBytes(r, flexible, "partitions.records"),
  };
  readTagsInto(r, flexible, p, readPartitionTag, "partitions.tagged_fields");
  return p;
}

function writePartitionResponse(
  w: Writer,
  p: FetchPartitionResponse,
  version: number,
  flexible: boolean,
): void {
  w.int32(p.partitionIndex).int16(p.errorCode).int64(p.highWatermark).int64(p.lastStableOffset);
  if (version >= 5) w.int64(p.logStartOffset);
  const aborted = p.abortedTransactions;
  writeCount(w, flexible, aborted === null ? null : aborted.length);
  for (const a of aborted ?? []) {
    w.int64(a.producerId).int64(a.firstOffset);
    writeNoTags(w, flexible);
  }
  if (version >= 11) w.int32(p.preferredReadReplica);
  writeBytes(w, flexible, p.records);
  if (!flexible) return;
  const tags: TaggedField[] = [];
  if (p.divergingEpoch !== null) {
    const d = p.divergingEpoch;
    tags.push({
      tag: 0,
      data: new Writer(16).int32(d.epoch).int64(d.endOffset).uvarint(0).finish(),
    });
  }
  if (p.currentLeader !== null) {
    tags.push({ tag: 1, data: encodeLeaderIdAndEpoch(p.currentLeader) });
  }
  if (p.snapshotId !== null) {
    const s = p.snapshotId;
    tags.push({
      tag: 2,
      data: new Writer(16).int64(s.endOffset).int32(s.epoch).uvarint(0).finish(),
    });
  }
  w.taggedFields(tags);
}

function readTopicRef(r: Reader, version: number, flexible: boolean, field: string): string {
  return version >= FIRST_TOPIC_ID ? "" : readString(r, flexible, field);
}

/** The Fetch codec, versions 4–17 (flexible from 12, topic ids from 13). */
export const Fetch: ServerApiSpec<FetchRequest, FetchResponse> = {
  key: FETCH_KEY,
  name: "Fetch",
  minVersion: 4,
  maxVersion: 17,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: FetchRequest, version: number): void {
    checkRequest(request);
    const flexible = version >= FIRST_FLEXIBLE;
    if (version <= 14) w.int32(request.replicaId ?? -1);
    w.int32(request.maxWaitMs).int32(request.minBytes).int32(request.maxBytes ?? 0x7fffffff)
      .int8(request.isolationLevel ?? 0);
    if (version >= 7) w.int32(request.sessionId ?? 0).int32(request.sessionEpoch ?? -1);
    writeCount(w, flexible, request.topics.length);
    for (const t of request.topics) {
      writeTopicRef(w, t.topic, t.topicId, version, flexible);
      writeCount(w, flexible, t.partitions.length);
      for (const p of t.partitions) {
        w.int32(p.partition);
        if (version >= 9) w.int32(p.currentLeaderEpoch ?? -1);
        w.int64(p.fetchOffset);
        if (version >= 12) w.int32(p.lastFetchedEpoch ?? -1);
        if (version >= 5) w.int64(p.logStartOffset ?? -1n);
        checkInt(p.partitionMaxBytes, "Fetch partitionMaxBytes", 0, INT32_MAX);
        w.int32(p.partitionMaxBytes);
        writeNoTags(w, flexible);
      }
      writeNoTags(w, flexible);
    }
    if (version >= 7) {
      const forgotten = request.forgottenTopicsData ?? [];
      writeCount(w, flexible, forgotten.length);
      for (const f of forgotten) {
        writeTopicRef(w, f.topic, f.topicId, version, flexible);
        writeInt32Array(w, flexible, f.partitions);
        writeNoTags(w, flexible);
      }
    }
    if (version >= 11) writeString(w, flexible, request.rackId ?? "");
    if (!flexible) return;
    const clusterId = request.clusterId ?? null;
    if (clusterId === null) {
      w.uvarint(0);
    } else {
      w.taggedFields([{ tag: 0, data: new Writer(16).compactString(clusterId).finish() }]);
    }
  },

  decodeRequest(r: Reader, version: number): FetchRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const byId = version >= FIRST_TOPIC_ID;
    const replicaId = version <= 14 ? r.int32("replica_id") : -1;
    const maxWaitMs = r.int32("max_wait_ms");
    const minBytes = r.int32("min_bytes");
    const maxBytes = r.int32("max_bytes");
    const isolationLevel = r.int8("isolation_level");
    const sessionId = version >= 7 ? r.int32("session_id") : 0;
    const sessionEpoch = version >= 7 ? r.int32("session_epoch") : -1;
    const nt = readCount(r, flexible, "topics");
    const topics = new Array<FetchTopic>(nt);
    for (let i = 0; i < nt; i++) {
      const topic = readTopicRef(r, version, flexible, "topics.topic");
      const topicId = byId ? r.uuid("topics.topic_id") : ZERO_UUID;
      const np = readCount(r, flexible, "topics.partitions");
      const partitions = new Array<FetchPartition>(np);
      for (let j = 0; j < np; j++) {
        const partition = r.int32("partitions.partition");
        const currentLeaderEpoch = version >= 9 ? r.int32("partitions.current_leader_epoch") : -1;
        const fetchOffset = r.int64("partitions.fetch_offset");
        const lastFetchedEpoch = version >= 12 ? r.int32("partitions.last_fetched_epoch") : -1;
        const logStartOffset = version >= 5 ? r.int64("partitions.log_start_offset") : -1n;
        const partitionMaxBytes = r.int32("partitions.partition_max_bytes");
        skipTags(r, flexible, "partitions.tagged_fields");
        partitions[j] = {
          partition,
          currentLeaderEpoch,
          fetchOffset,
          lastFetchedEpoch,
          logStartOffset,
          partitionMaxBytes,
        };
      }
      skipTags(r, flexible, "topics.tagged_fields");
      topics[i] = { topic, topicId, partitions };
    }
    const forgottenTopicsData: ForgottenTopic[] = [];
    if (version >= 7) {
      const nf = readCount(r, flexible, "forgotten_topics_data");
      for (let i = 0; i < nf; i++) {
        const topic = readTopicRef(r, version, flexible, "forgotten_topics_data.topic");
        const topicId = byId ? r.uuid("forgotten_topics_data.topic_id") : ZERO_UUID;
        const partitions = readInt32Array(r, flexible, "forgotten_topics_data.partitions");
        skipTags(r, flexible, "forgotten_topics_data.tagged_fields");
        forgottenTopicsData.push({ topic, topicId, partitions });
      }
    }
    const rackId = version >= 11 ? readString(r, flexible, "rack_id") : "";
    const request: FetchRequest = {
      clusterId: null,
      replicaId,
      maxWaitMs,
      minBytes,
      maxBytes,
      isolationLevel,
      sessionId,
      sessionEpoch,
      topics,
      forgottenTopicsData,
      rackId,
    };
    readTagsInto(r, flexible, request, readRequestTag, "tagged_fields");
    return request;
  },

  encodeResponse(w: Writer, response: FetchResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    w.int32(response.throttleTimeMs);
    if (version >= 7) w.int16(response.errorCode).int32(response.sessionId);
    writeCount(w, flexible, response.responses.length);
    for (const t of response.responses) {
      writeTopicRef(w, t.topic, t.topicId, version, flexible);
      writeCount(w, flexible, t.partitions.length);
      for (const p of t.partitions) writePartitionResponse(w, p, version, flexible);
      writeNoTags(w, flexible);
    }
    if (flexible) writeNodeEndpointsTags(w, version >= 16 ? response.nodeEndpoints : []);
  },

  decodeResponse(r: Reader, version: number): FetchResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const byId = version >= FIRST_TOPIC_ID;
    const throttleTimeMs = r.int32("throttle_time_ms");
    const errorCode = version >= 7 ? r.int16("error_code") : 0;
    const sessionId = version >= 7 ? r.int32("session_id") : 0;
    const nt = readCount(r, flexible, "responses");
    const responses = new Array<FetchTopicResponse>(nt);
    for (let i = 0; i < nt; i++) {
      const topic = readTopicRef(r, version, flexible, "responses.topic");
      const topicId = byId ? r.uuid("responses.topic_id") : ZERO_UUID;
      const np = readCount(r, flexible, "responses.partitions");
      const partitions = new Array<FetchPartitionResponse>(np);
      for (let j = 0; j < np; j++) partitions[j] = readPartition(r, version, flexible);
      skipTags(r, flexible, "responses.tagged_fields");
      responses[i] = { topic, topicId, partitions };
    }
    const response: FetchResponse = {
      throttleTimeMs,
      errorCode,
      sessionId,
      responses,
      nodeEndpoints: [],
    };
    // NodeEndpoints (tag 0) exists from v16; at v12-15 a tag 0 is an unknown field, skipped.
    if (version >= 16) readTagsInto(r, flexible, response, readNodeEndpointsTag, "tagged_fields");
    else skipTags(r, flexible, "tagged_fields");
    return response;
  },
};
