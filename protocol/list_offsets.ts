/**
 * ListOffsets (key 2), versions 0–10 (flexible from 6): finds offsets by time in partitions —
 * the log start (timestamp -2), the log end (-1), the record with the largest timestamp (-3,
 * v7+), or the first record at or after a time. Kafka 4.x refuses v0 (KIP-896), whose reply
 * carries a list of old-style offsets instead of one offset and timestamp.
 *
 * @example
 * ```ts
 * import { LATEST_TIMESTAMP, ListOffsets } from "./list_offsets.ts";
 * import { Writer } from "../framing/writer.ts";
 * ListOffsets.encodeRequest(new Writer(), {
 *   topics: [{ name: "orders", partitions: [{ partitionIndex: 0, timestamp: LATEST_TIMESTAMP }] }],
 * }, 9);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readCount,
  readString,
  skipTags,
  writeCount,
  writeNoTags,
  writeString,
} from "./flexible.ts";
import { checkInt, INT32_MAX } from "./validate.ts";

/** The API key of ListOffsets. */
export const LIST_OFFSETS_KEY = 2;

const FIRST_FLEXIBLE = 6;

/** The timestamp that asks for the log end offset (the offset the next record gets). */
export const LATEST_TIMESTAMP: bigint = -1n;
/** The timestamp that asks for the log start offset. */
export const EARLIEST_TIMESTAMP: bigint = -2n;
/** The timestamp that asks for the record with the largest timestamp (v7+). */
export const MAX_TIMESTAMP: bigint = -3n;

/** One partition to look up. */
export interface ListOffsetsPartition {
  /** The partition index. */
  partitionIndex: number;
  /** The leader epoch the client knows (v4+), -1 to skip fencing; -1 when omitted. */
  currentLeaderEpoch?: number;
  /** A time in ms since the epoch, or one of the special timestamps (-1, -2, -3...). */
  timestamp: bigint;
  /** How many offsets to report (v0 only); 1 when omitted. */
  maxNumOffsets?: number;
}

/** One topic to look up. */
export interface ListOffsetsTopic {
  /** The topic name. */
  name: string;
  /** The partitions. */
  partitions: ListOffsetsPartition[];
}

/** A ListOffsets request. */
export interface ListOffsetsRequest {
  /** The requesting follower's broker id; -1 (a consumer) when omitted. */
  replicaId?: number;
  /** 0 READ_UNCOMMITTED, 1 READ_COMMITTED (v2+); 0 when omitted. */
  isolationLevel?: number;
  /** The topics. */
  topics: ListOffsetsTopic[];
  /** How long the broker may wait for tiered storage (v10+); 30 000 when omitted. */
  timeoutMs?: number;
}

/** The answer for one partition. */
export interface ListOffsetsPartitionResponse {
  /** The partition index. */
  partitionIndex: number;
  /** 0, or e.g. 6 NOT_LEADER_OR_FOLLOWER. */
  errorCode: number;
  /** The offsets found (v0 only); empty from v1. */
  oldStyleOffsets: bigint[];
  /** The timestamp of the record found (v1+), -1 for the special timestamps or none. */
  timestamp: bigint;
  /** The offset found (v1+), -1 when none. */
  offset: bigint;
  /** The leader epoch of the record found (v4+), -1 when unknown. */
  leaderEpoch: number;
}

/** The answers for one topic. */
export interface ListOffsetsTopicResponse {
  /** The topic name. */
  name: string;
  /** The partitions. */
  partitions: ListOffsetsPartitionResponse[];
}

/** A ListOffsets response. */
export interface ListOffsetsResponse {
  /** How long the broker throttled the request (v2+). */
  throttleTimeMs: number;
  /** The topics. */
  topics: ListOffsetsTopicResponse[];
}

/** The ListOffsets codec, versions 0–10 (flexible from 6). */
export const ListOffsets: ServerApiSpec<ListOffsetsRequest, ListOffsetsResponse> = {
  key: LIST_OFFSETS_KEY,
  name: "ListOffsets",
  minVersion: 0,
  maxVersion: 10,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: ListOffsetsRequest, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    if (request.isolationLevel !== undefined) {
      checkInt(request.isolationLevel, "ListOffsets isolationLevel", 0, 1, "(0 or 1)");
    }
    if (request.timeoutMs !== undefined) {
      checkInt(request.timeoutMs, "ListOffsets timeoutMs", 0, INT32_MAX, "(milliseconds)");
    }
    w.int32(request.replicaId ?? -1);
    if (version >= 2) w.int8(request.isolationLevel ?? 0);
    writeCount(w, flexible, request.topics.length);
    for (const t of request.topics) {
      writeString(w, flexible, t.name);
      writeCount(w, flexible, t.partitions.length);
      for (const p of t.partitions) {
        w.int32(p.partitionIndex);
        if (version >= 4) w.int32(p.currentLeaderEpoch ?? -1);
        w.int64(p.timestamp);
        if (version === 0) w.int32(p.maxNumOffsets ?? 1);
        writeNoTags(w, flexible);
      }
      writeNoTags(w, flexible);
    }
    if (version >= 10) w.int32(request.timeoutMs ?? 30_000);
    writeNoTags(w, flexible);
  },

  decodeRequest(r: Reader, version: number): ListOffsetsRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const replicaId = r.int32("replica_id");
    const isolationLevel = version >= 2 ? r.int8("isolation_level") : 0;
    const nt = readCount(r, flexible, "topics");
    const topics = new Array<ListOffsetsTopic>(nt);
    for (let i = 0; i < nt; i++) {
      const name = readString(r, flexible, "topics.name");
      const np = readCount(r, flexible, "topics.partitions");
      const partitions = new Array<ListOffsetsPartition>(np);
      for (let j = 0; j < np; j++) {
        const partitionIndex = r.int32("partitions.partition_index");
        const currentLeaderEpoch = version >= 4 ? r.int32("partitions.current_leader_epoch") : -1;
        const timestamp = r.int64("partitions.timestamp");
        const maxNumOffsets = version === 0 ? r.int32("partitions.max_num_offsets") : 1;
        skipTags(r, flexible, "partitions.tagged_fields");
        partitions[j] = { partitionIndex, currentLeaderEpoch, timestamp, maxNumOffsets };
      }
      skipTags(r, flexible, "topics.tagged_fields");
      topics[i] = { name, partitions };
    }
    const timeoutMs = version >= 10 ? r.int32("timeout_ms") : 30_000;
    skipTags(r, flexible, "tagged_fields");
    return { replicaId, isolationLevel, topics, timeoutMs };
  },

  encodeResponse(w: Writer, response: ListOffsetsResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    if (version >= 2) w.int32(response.throttleTimeMs);
    writeCount(w, flexible, response.topics.length);
    for (const t of response.topics) {
      writeString(w, flexible, t.name);
      writeCount(w, flexible, t.partitions.length);
      for (const p of t.partitions) {
        w.int32(p.partitionIndex).int16(p.errorCode);
        if (version === 0) {
          writeCount(w, flexible, p.oldStyleOffsets.length);
          for (const o of p.oldStyleOffsets) w.int64(o);
        } else {
          w.int64(p.timestamp).int64(p.offset);
        }
        if (version >= 4) w.int32(p.leaderEpoch);
        writeNoTags(w, flexible);
      }
      writeNoTags(w, flexible);
    }
    writeNoTags(w, flexible);
  },

  decodeResponse(r: Reader, version: number): ListOffsetsResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const throttleTimeMs = version >= 2 ? r.int32("throttle_time_ms") : 0;
    const nt = readCount(r, flexible, "topics");
    const topics = new Array<ListOffsetsTopicResponse>(nt);
    for (let i = 0; i < nt; i++) {
      const name = readString(r, flexible, "topics.name");
      const np = readCount(r, flexible, "topics.partitions");
      const partitions = new Array<ListOffsetsPartitionResponse>(np);
      for (let j = 0; j < np; j++) {
        const partitionIndex = r.int32("partitions.partition_index");
        const errorCode = r.int16("partitions.error_code");
        const oldStyleOffsets: bigint[] = [];
        let timestamp = -1n;
        let offset = -1n;
        if (version === 0) {
          const n = readCount(r, flexible, "partitions.old_style_offsets");
          for (let k = 0; k < n; k++) oldStyleOffsets.push(r.int64("partitions.old_style_offsets"));
        } else {
          timestamp = r.int64("partitions.timestamp");
          offset = r.int64("partitions.offset");
        }
        const leaderEpoch = version >= 4 ? r.int32("partitions.leader_epoch") : -1;
        skipTags(r, flexible, "partitions.tagged_fields");
        partitions[j] = {
          partitionIndex,
          errorCode,
          oldStyleOffsets,
          timestamp,
          offset,
          leaderEpoch,
        };
      }
      skipTags(r, flexible, "topics.tagged_fields");
      topics[i] = { name, partitions };
    }
    skipTags(r, flexible, "tagged_fields");
    return { throttleTimeMs, topics };
  },
};
