/**
 * Produce (key 0), versions 3–11 (flexible from 9): writes record batches to partitions.
 * Kafka 4.x refuses versions 0–2 although it still advertises them (KAFKA-18659).
 *
 * With `acks: 0` the broker sends no response at all: `Produce.expectsResponse(request)` (the
 * optional `ApiSpec` method) and the standalone {@link expectsResponse} say so, and
 * `BrokerConnection.send()` asks the former, so such a request resolves once written. With
 * `request()`, pass `expectResponse: false` yourself.
 *
 * @example
 * ```ts
 * import { expectsResponse, Produce } from "./produce.ts";
 * import { encodeRecordBatch } from "./record_batch.ts";
 * import { Writer } from "../framing/writer.ts";
 * const records = encodeRecordBatch({ timestamp: Date.now(), records: [{ value: null }] });
 * const request = {
 *   acks: -1,
 *   timeoutMs: 30_000,
 *   topicData: [{ name: "orders", partitionData: [{ index: 0, records }] }],
 * };
 * Produce.encodeRequest(new Writer(), request, 11);
 * expectsResponse(request); // true
 * Produce.expectsResponse?.(request); // true
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { TaggedField, Writer } from "../framing/writer.ts";
import { ConfigError } from "../transport/errors.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readCount,
  readNullableBytes,
  readNullableString,
  readString,
  readTagsInto,
  skipTags,
  writeBytes,
  writeCount,
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
import { checkInt, INT32_MAX } from "./validate.ts";

/** The API key of Produce. */
export const PRODUCE_KEY = 0;

const FIRST_FLEXIBLE = 9;

/** The records for one partition. */
export interface ProducePartitionData {
  /** The partition index. */
  index: number;
  /**
   * One or more encoded record batches (see `encodeRecordBatch`), or `null`. Decoded by the
   * server side as a view into the request frame.
   */
  records: Uint8Array | null;
}

/** The partitions of one topic to produce to. */
export interface ProduceTopicData {
  /** The topic name. */
  name: string;
  /** The partitions and their records. */
  partitionData: ProducePartitionData[];
}

/** A Produce request. */
export interface ProduceRequest {
  /** The transactional id, or `null`/omitted when not transactional. */
  transactionalId?: string | null;
  /** 0: no reply at all; 1: the leader has written; -1: all in-sync replicas have. */
  acks: number;
  /** How long the broker may wait for the replicas before answering REQUEST_TIMED_OUT. */
  timeoutMs: number;
  /** The topics and partitions to write to. */
  topicData: ProduceTopicData[];
}

/** A record that made the broker drop its batch (v8+). */
export interface ProduceRecordError {
  /** The index of the record in its batch. */
  batchIndex: number;
  /** Why it was rejected, or `null`. */
  batchIndexErrorMessage: string | null;
}

/** The result for one partition. */
export interface ProducePartitionResponse {
  /** The partition index. */
  index: number;
  /** 0, or e.g. 6 NOT_LEADER_OR_FOLLOWER. */
  errorCode: number;
  /** The offset given to the first record, -1 on error. */
  baseOffset: bigint;
  /** The broker's append time in ms with LogAppendTime topics, otherwise -1. */
  logAppendTimeMs: number;
  /** The partition's log start offset (v5+), -1 when unknown. */
  logStartOffset: bigint;
  /** Records that caused the batch to be dropped (v8+). */
  recordErrors: ProduceRecordError[];
  /** A summary of why the batch was dropped (v8+), or `null`. */
  errorMessage: string | null;
  /** The current leader when this broker is not it (v10+ tagged field 0), or `null`. */
  currentLeader: LeaderIdAndEpoch | null;
}

/** The results for one topic. */
export interface ProduceTopicResponse {
  /** The topic name. */
  name: string;
  /** One result per partition. */
  partitionResponses: ProducePartitionResponse[];
}

/** A Produce response. */
export interface ProduceResponse {
  /** One entry per topic. */
  responses: ProduceTopicResponse[];
  /** How long the broker throttled the request. */
  throttleTimeMs: number;
  /** Endpoints of the leaders named in `currentLeader` (v10+ tagged field 0). */
  nodeEndpoints: NodeEndpoint[];
}

/**
 * Whether the broker will answer this request: not with `acks: 0`.
 *
 * @param request The Produce request.
 * @returns `false` when the request must be sent with `expectResponse: false`.
 */
export function expectsResponse(request: ProduceRequest): boolean {
  return request.acks !== 0;
}

/**
 * Checks the numbers a user sets on a Produce request before any is written: the Writer would
 * silently wrap them (acks 70000 is 4464 on the wire) or write `undefined` as 0 (acks 0: no
 * reply at all).
 *
 * @throws {ConfigError} Naming the field and what it accepts.
 */
function checkRequest(request: ProduceRequest): void {
  const acks = request.acks;
  if (acks !== -1 && acks !== 0 && acks !== 1) {
    throw new ConfigError(
      "Produce acks must be -1 (all in-sync replicas), 0 (no reply) or 1 (the leader only), " +
        `got ${typeof acks === "string" ? JSON.stringify(acks) : String(acks)}`,
    );
  }
  checkInt(request.timeoutMs, "Produce timeoutMs", 0, INT32_MAX, "(milliseconds)");
}

function readPartitionTag(p: ProducePartitionResponse, tag: number, r: Reader): void {
  if (tag === 0) p.currentLeader = readLeaderIdAndEpoch(r);
}

function readPartition(r: Reader, version: number, flexible: boolean): ProducePartitionResponse {
  const p: ProducePartitionResponse = {
    index: r.int32("partition_responses.index"),
    errorCode: r.int16("partition_responses.error_code"),
    baseOffset: r.int64("partition_responses.base_offset"),
    logAppendTimeMs: Number(r.int64("partition_responses.log_append_time_ms")),
    logStartOffset: version >= 5 ? r.int64("partition_responses.log_start_offset") : -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: null,
  };
  if (version >= 8) {
    const n = readCount(r, flexible, "record_errors");
    const errors = new Array<ProduceRecordError>(n);
    for (let i = 0; i < n; i++) {
      const batchIndex = r.int32("record_errors.batch_index");
      const message = readNullableString(r, flexible, "record_errors.batch_index_error_message");
      skipTags(r, flexible, "record_errors.tagged_fields");
      errors[i] = { batchIndex, batchIndexErrorMessage: message };
    }
    p.recordErrors = errors;
    p.errorMessage = readNullableString(r, flexible, "partition_responses.error_message");
  }
  // CurrentLeader (tag 0) exists from v10; at v9 a tag 0 is an unknown field, skipped.
  if (version >= 10) {
    readTagsInto(r, flexible, p, readPartitionTag, "partition_responses.tagged_fields");
  } else skipTags(r, flexible, "partition_responses.tagged_fields");
  return p;
}

function writePartitionResponse(
  w: Writer,
  p: ProducePartitionResponse,
  version: number,
  flexible: boolean,
): void {
  w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(BigInt(p.logAppendTimeMs));
  if (version >= 5) w.int64(p.logStartOffset);
  if (version >= 8) {
    writeCount(w, flexible, p.recordErrors.length);
    for (const e of p.recordErrors) {
      w.int32(e.batchIndex);
      writeString(w, flexible, e.batchIndexErrorMessage);
      writeNoTags(w, flexible);
    }
    writeString(w, flexible, p.errorMessage);
  }
  if (!flexible) return;
  const tags: TaggedField[] = [];
  if (version >= 10 && p.currentLeader !== null) {
    tags.push({ tag: 0, data: encodeLeaderIdAndEpoch(p.currentLeader) });
  }
  w.taggedFields(tags);
}

/** The Produce codec, versions 3–11 (flexible from 9). */
export const Produce: ServerApiSpec<ProduceRequest, ProduceResponse> = {
  key: PRODUCE_KEY,
  name: "Produce",
  minVersion: 3,
  maxVersion: 11,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  /**
   * Whether the broker answers: not with `acks: 0`, see {@link expectsResponse}.
   *
   * @param request The Produce request.
   * @returns `request.acks !== 0`.
   */
  expectsResponse(request: ProduceRequest): boolean {
    return expectsResponse(request);
  },

  encodeRequest(w: Writer, request: ProduceRequest, version: number): void {
    checkRequest(request);
    const flexible = version >= FIRST_FLEXIBLE;
    writeString(w, flexible, request.transactionalId ?? null);
    w.int16(request.acks).int32(request.timeoutMs);
    writeCount(w, flexible, request.topicData.length);
    for (const t of request.topicData) {
      writeString(w, flexible, t.name);
      writeCount(w, flexible, t.partitionData.length);
      for (const p of t.partitionData) {
        w.int32(p.index);
        writeBytes(w, flexible, p.records);
        writeNoTags(w, flexible);
      }
      writeNoTags(w, flexible);
    }
    writeNoTags(w, flexible);
  },

  decodeRequest(r: Reader, version: number): ProduceRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const transactionalId = readNullableString(r, flexible, "transactional_id");
    const acks = r.int16("acks");
    const timeoutMs = r.int32("timeout_ms");
    const nt = readCount(r, flexible, "topic_data");
    const topicData = new Array<ProduceTopicData>(nt);
    for (let i = 0; i < nt; i++) {
      const name = readString(r, flexible, "topic_data.name");
      const np = readCount(r, flexible, "topic_data.partition_data");
      const partitionData = new Array<ProducePartitionData>(np);
      for (let j = 0; j < np; j++) {
        const index = r.int32("partition_data.index");
        const records = readNullableBytes(r, flexible, "partition_data.records");
        skipTags(r, flexible, "partition_data.tagged_fields");
        partitionData[j] = { index, records };
      }
      skipTags(r, flexible, "topic_data.tagged_fields");
      topicData[i] = { name, partitionData };
    }
    skipTags(r, flexible, "tagged_fields");
    return { transactionalId, acks, timeoutMs, topicData };
  },

  encodeResponse(w: Writer, response: ProduceResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    writeCount(w, flexible, response.responses.length);
    for (const t of response.responses) {
      writeString(w, flexible, t.name);
      writeCount(w, flexible, t.partitionResponses.length);
      for (const p of t.partitionResponses) writePartitionResponse(w, p, version, flexible);
      writeNoTags(w, flexible);
    }
    w.int32(response.throttleTimeMs);
    if (flexible) writeNodeEndpointsTags(w, version >= 10 ? response.nodeEndpoints : []);
  },

  decodeResponse(r: Reader, version: number): ProduceResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const nt = readCount(r, flexible, "responses");
    const responses = new Array<ProduceTopicResponse>(nt);
    for (let i = 0; i < nt; i++) {
      const name = readString(r, flexible, "responses.name");
      const np = readCount(r, flexible, "responses.partition_responses");
      const partitionResponses = new Array<ProducePartitionResponse>(np);
      for (let j = 0; j < np; j++) partitionResponses[j] = readPartition(r, version, flexible);
      skipTags(r, flexible, "responses.tagged_fields");
      responses[i] = { name, partitionResponses };
    }
    const response: ProduceResponse = {
      responses,
      throttleTimeMs: r.int32("throttle_time_ms"),
      nodeEndpoints: [],
    };
    // NodeEndpoints (tag 0) exists from v10; at v9 a tag 0 is an unknown field, skipped.
    if (version >= 10) readTagsInto(r, flexible, response, readNodeEndpointsTag, "tagged_fields");
    else skipTags(r, flexible, "tagged_fields");
    return response;
  },
};
