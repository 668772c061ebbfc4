/**
 * CreateTopics (key 19), versions 2–7 (flexible from 5; Kafka 4.x refuses 0–1): asks the
 * controller to create topics, with partition count, replication factor (or a manual replica
 * assignment) and topic configs; the reply gives an error code and message per topic.
 *
 * @example
 * ```ts
 * import { CreateTopics } from "./create_topics.ts";
 * import { Writer } from "../framing/writer.ts";
 * CreateTopics.encodeRequest(new Writer(), {
 *   topics: [{ name: "orders", numPartitions: 3, replicationFactor: 1 }],
 *   timeoutMs: 30_000,
 * }, 7);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readArrayLength,
  readCount,
  readInt32Array,
  readNullableString,
  readString,
  readTagsInto,
  skipTags,
  writeCount,
  writeInt32Array,
  writeNoTags,
  writeString,
} from "./flexible.ts";
import { ZERO_UUID } from "./uuid.ts";
import { checkCountOrDefault, checkInt, INT16_MAX, INT32_MAX } from "./validate.ts";

/** The API key of CreateTopics. */
export const CREATE_TOPICS_KEY = 19;

const FIRST_FLEXIBLE = 5;

/** A manual placement of one partition's replicas. */
export interface CreatableReplicaAssignment {
  /** The partition index. */
  partitionIndex: number;
  /** The broker ids to place its replicas on, leader first. */
  brokerIds: number[];
}

/** A topic config to set at creation. */
export interface CreatableTopicConfig {
  /** The config name, e.g. "cleanup.policy". */
  name: string;
  /** Its value, or `null`. */
  value: string | null;
}

/** One topic to create. */
export interface CreatableTopic {
  /** The topic name. */
  name: string;
  /** The partition count, or -1 for the broker default (or when `assignments` is given). */
  numPartitions: number;
  /** The replication factor, or -1 for the broker default (or when `assignments` is given). */
  replicationFactor: number;
  /** A manual replica assignment; automatic when empty or omitted. */
  assignments?: CreatableReplicaAssignment[];
  /** Topic configs to set; none when omitted. */
  configs?: CreatableTopicConfig[];
}

/** A CreateTopics request. */
export interface CreateTopicsRequest {
  /** The topics to create. */
  topics: CreatableTopic[];
  /** How long the controller may take before answering REQUEST_TIMED_OUT. */
  timeoutMs: number;
  /** Only validate, create nothing; `false` when omitted. */
  validateOnly?: boolean;
}

/** A config of a created topic, as returned from v5. */
export interface CreatedTopicConfig {
  /** The config name. */
  name: string;
  /** Its value, or `null` (e.g. for sensitive configs). */
  value: string | null;
  /** Whether it is read-only. */
  readOnly: boolean;
  /** Where the value comes from (Kafka's ConfigSource id), -1 when unknown. */
  configSource: number;
  /** Whether it is sensitive. */
  isSensitive: boolean;
}

/** The result for one topic. */
export interface CreatableTopicResult {
  /** The topic name. */
  name: string;
  /** The new topic's id (v7+); the zero UUID otherwise or on error. */
  topicId: Uint8Array;
  /** 0, or e.g. 36 TOPIC_ALREADY_EXISTS. */
  errorCode: number;
  /** The broker's explanation, or `null`. */
  errorMessage: string | null;
  /** Why `configs` is missing, when it is (v5+ tagged field 0); 0 otherwise. */
  topicConfigErrorCode: number;
  /** The partition count (v5+), -1 when unknown. */
  numPartitions: number;
  /** The replication factor (v5+), -1 when unknown. */
  replicationFactor: number;
  /** The topic's configs (v5+), or `null` when not returned. */
  configs: CreatedTopicConfig[] | null;
}

/** A CreateTopics response. */
export interface CreateTopicsResponse {
  /** How long the broker throttled the request. */
  throttleTimeMs: number;
  /** One result per requested topic. */
  topics: CreatableTopicResult[];
}

const NO_ASSIGNMENTS: readonly CreatableReplicaAssignment[] = [];
const NO_CONFIGS: readonly CreatableTopicConfig[] = [];

function writeTopic(w: Writer, t: CreatableTopic, flexible: boolean): void {
  // The Writer would wrap these silently (replication factor 70000 is 4464 on the wire).
  checkCountOrDefault(t.numPartitions, `CreateTopics numPartitions of "${t.name}"`, INT32_MAX);
  checkCountOrDefault(
    t.replicationFactor,
    `CreateTopics replicationFactor of "${t.name}"`,
    INT16_MAX,
  );
  writeString(w, flexible, t.name);
  w.int32(t.numPartitions).int16(t.replicationFactor);
  const assignments = t.assignments ?? NO_ASSIGNMENTS;
  writeCount(w, flexible, assignments.length);
  for (const a of assignments) {
    w.int32(a.partitionIndex);
    writeInt32Array(w, flexible, a.brokerIds);
    writeNoTags(w, flexible);
  }
  const configs = t.configs ?? NO_CONFIGS;
  writeCount(w, flexible, configs.length);
  for (const c of configs) {
    writeString(w, flexible, c.name);
    writeString(w, flexible, c.value);
    writeNoTags(w, flexible);
  }
  writeNoTags(w, flexible);
}

function readTopic(r: Reader, flexible: boolean): CreatableTopic {
  const name = readString(r, flexible, "topics.name");
  const numPartitions = r.int32("topics.num_partitions");
  const replicationFactor = r.int16("topics.replication_factor");
  const na = readCount(r, flexible, "topics.assignments");
  const assignments = new Array<CreatableReplicaAssignment>(na);
  for (let i = 0; i < na; i++) {
    const partitionIndex = r.int32("assignments.partition_index");
    const brokerIds = readInt32Array(r, flexible, "assignments.broker_ids");
    skipTags(r, flexible, "assignments.tagged_fields");
    assignments[i] = { partitionIndex, brokerIds };
  }
  const nc = readCount(r, flexible, "topics.configs");
  const configs = new Array<CreatableTopicConfig>(nc);
  for (let i = 0; i < nc; i++) {
    const configName = readString(r, flexible, "configs.name");
    const value = readNullableString(r, flexible, "configs.value");
    skipTags(r, flexible, "configs.tagged_fields");
    configs[i] = { name: configName, value };
  }
  skipTags(r, flexible, "topics.tagged_fields");
  return { name, numPartitions, replicationFactor, assignments, configs };
}

function readResultConfig(r: Reader): CreatedTopicConfig {
  const name = r.compactString("configs.name");
  const value = r.compactNullableString("configs.value");
  const readOnly = r.boolean("configs.read_only");
  const configSource = r.int8("configs.config_source");
  const isSensitive = r.boolean("configs.is_sensitive");
  r.taggedFields(undefined, "configs.tagged_fields");
  return { name, value, readOnly, configSource, isSensitive };
}

function readResultTag(result: CreatableTopicResult, tag: number, r: Reader): void {
  if (tag === 0) result.topicConfigErrorCode = r.int16("topics.topic_config_error_code");
}

function readResult(r: Reader, version: number): CreatableTopicResult {
  const flexible = version >= FIRST_FLEXIBLE;
  const result: CreatableTopicResult = {
    name: readString(r, flexible, "topics.name"),
    topicId: version >= 7 ? r.uuid("topics.topic_id") : ZERO_UUID,
    errorCode: r.int16("topics.error_code"),
    errorMessage: readNullableString(r, flexible, "topics.error_message"),
    topicConfigErrorCode: 0,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
  if (!flexible) return result;
  result.numPartitions = r.int32("topics.num_partitions");
  result.replicationFactor = r.int16("topics.replication_factor");
  const n = readArrayLength(r, true, "topics.configs");
  if (n >= 0) {
    const configs = new Array<CreatedTopicConfig>(n);
    for (let i = 0; i < n; i++) configs[i] = readResultConfig(r);
    result.configs = configs;
  }
  readTagsInto(r, true, result, readResultTag, "topics.tagged_fields");
  return result;
}

function writeResult(w: Writer, t: CreatableTopicResult, version: number): void {
  const flexible = version >= FIRST_FLEXIBLE;
  writeString(w, flexible, t.name);
  if (version >= 7) w.uuid(t.topicId);
  w.int16(t.errorCode);
  writeString(w, flexible, t.errorMessage);
  if (!flexible) return;
  w.int32(t.numPartitions).int16(t.replicationFactor);
  writeCount(w, true, t.configs === null ? null : t.configs.length);
  for (const c of t.configs ?? []) {
    w.compactString(c.name).compactString(c.value).boolean(c.readOnly).int8(c.configSource)
      .boolean(c.isSensitive).taggedFields();
  }
  // The broker writes TopicConfigErrorCode only when it is set, as tagged field 0.
  if (t.topicConfigErrorCode === 0) w.taggedFields();
  else w.uvarint(1).uvarint(0).uvarint(2).int16(t.topicConfigErrorCode);
}

/** The CreateTopics codec, versions 2–7 (flexible from 5). */
export const CreateTopics: ServerApiSpec<CreateTopicsRequest, CreateTopicsResponse> = {
  key: CREATE_TOPICS_KEY,
  name: "CreateTopics",
  minVersion: 2,
  maxVersion: 7,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: CreateTopicsRequest, version: number): void {
    checkInt(request.timeoutMs, "CreateTopics timeoutMs", 0, INT32_MAX, "(milliseconds)");
    const flexible = version >= FIRST_FLEXIBLE;
    writeCount(w, flexible, request.topics.length);
    for (const t of request.topics) writeTopic(w, t, flexible);
    w.int32(request.timeoutMs).boolean(request.validateOnly ?? false);
    writeNoTags(w, flexible);
  },

  decodeRequest(r: Reader, version: number): CreateTopicsRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const n = readCount(r, flexible, "topics");
    const topics = new Array<CreatableTopic>(n);
    for (let i = 0; i < n; i++) topics[i] = readTopic(r, flexible);
    const timeoutMs = r.int32("timeout_ms");
    const validateOnly = r.boolean("validate_only");
    skipTags(r, flexible, "tagged_fields");
    return { topics, timeoutMs, validateOnly };
  },

  encodeResponse(w: Writer, response: CreateTopicsResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    w.int32(response.throttleTimeMs);
    writeCount(w, flexible, response.topics.length);
    for (const t of response.topics) writeResult(w, t, version);
    writeNoTags(w, flexible);
  },

  decodeResponse(r: Reader, version: number): CreateTopicsResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const throttleTimeMs = r.int32("throttle_time_ms");
    const n = readCount(r, flexible, "topics");
    const topics = new Array<CreatableTopicResult>(n);
    for (let i = 0; i < n; i++) topics[i] = readResult(r, version);
    skipTags(r, flexible, "tagged_fields");
    return { throttleTimeMs, topics };
  },
};
