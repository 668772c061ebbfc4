/**
 * Metadata (key 3), versions 4–12 (flexible from 9): the brokers of the cluster, its id and
 * controller, and for each topic its partitions with leader, replicas and in-sync replicas.
 * Version 4 is the first with `allowAutoTopicCreation`, and all of 4–12 are accepted by
 * Kafka 4.x brokers.
 *
 * @example
 * ```ts
 * import { Metadata } from "./metadata.ts";
 * import { Writer } from "../framing/writer.ts";
 * Metadata.encodeRequest(new Writer(), { topics: [{ name: "orders" }], allowAutoTopicCreation: false }, 12);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import { ConfigError } from "../transport/errors.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readArrayLength,
  readCount,
  readInt32Array,
  readNullableString,
  readString,
  skipTags,
  writeCount,
  writeInt32Array,
  writeNoTags,
  writeString,
} from "./flexible.ts";
import { ZERO_UUID } from "./uuid.ts";

/** The API key of Metadata. */
export const METADATA_KEY = 3;

const FIRST_FLEXIBLE = 9;

/** The "not requested / not known" value of the authorized-operations bit fields. */
export const AUTHORIZED_OPERATIONS_OMITTED: number = -2147483648;

/** A topic asked for in a Metadata request. */
export interface MetadataRequestTopic {
  /** The topic name; may be `null` from v12 when asking by `topicId`. */
  name: string | null;
  /** The topic id (v10+); the zero UUID or omitted when asking by name. */
  topicId?: Uint8Array;
}

/** A Metadata request. */
export interface MetadataRequest {
  /** The topics to describe; `null` for all topics, `[]` for none (brokers only). */
  topics: MetadataRequestTopic[] | null;
  /** Whether the broker may auto-create requested topics that do not exist (if it allows it). */
  allowAutoTopicCreation: boolean;
  /** Whether to return the cluster's authorized operations (v8–10); `false` when omitted. */
  includeClusterAuthorizedOperations?: boolean;
  /** Whether to return each topic's authorized operations (v8+); `false` when omitted. */
  includeTopicAuthorizedOperations?: boolean;
}

/** A broker in a Metadata response. */
export interface MetadataBroker {
  /** The broker id. */
  nodeId: number;
  /** Its advertised host name. */
  host: string;
  /** Its advertised port. */
  port: number;
  /** Its rack, or `null`. */
  rack: string | null;
}

/** A partition in a Metadata response. */
export interface MetadataPartition {
  /** The partition's error code, 0 when none (e.g. 5 LEADER_NOT_AVAILABLE). */
  errorCode: number;
  /** The partition index. */
  partitionIndex: number;
  /** The leader's broker id, -1 when there is none. */
  leaderId: number;
  /** The leader epoch, -1 when unknown. */
  leaderEpoch: number;
  /** All replicas' broker ids. */
  replicaNodes: number[];
  /** The in-sync replicas' broker ids. */
  isrNodes: number[];
  /** The offline replicas' broker ids (v5+); empty at v4, which does not carry them. */
  offlineReplicas: number[];
}

/** A topic in a Metadata response. */
export interface MetadataTopic {
  /** The topic's error code, 0 when none (e.g. 3 UNKNOWN_TOPIC_OR_PARTITION). */
  errorCode: number;
  /** The topic name; `null` only (v12+) for an unknown topic asked for by id. */
  name: string | null;
  /** The topic id (v10+); the zero UUID for unknown topics and below v10. */
  topicId: Uint8Array;
  /** Whether the topic is internal, e.g. `__consumer_offsets`. */
  isInternal: boolean;
  /** Its partitions. */
  partitions: MetadataPartition[];
  /** Authorized-operations bit field (v8+), {@link AUTHORIZED_OPERATIONS_OMITTED} if not asked. */
  topicAuthorizedOperations: number;
}

/** A Metadata response. */
export interface MetadataResponse {
  /** How long the broker throttled the request. */
  throttleTimeMs: number;
  /** The live brokers. */
  brokers: MetadataBroker[];
  /** The cluster id, or `null`. */
  clusterId: string | null;
  /** The controller's broker id, -1 when unknown. */
  controllerId: number;
  /** The topics described. */
  topics: MetadataTopic[];
  /** Authorized-operations bit field (v8–10), {@link AUTHORIZED_OPERATIONS_OMITTED} otherwise. */
  clusterAuthorizedOperations: number;
}

function readBroker(r: Reader, flexible: boolean): MetadataBroker {
  const nodeId = r.int32("brokers.node_id");
  const host = readString(r, flexible, "brokers.host");
  const port = r.int32("brokers.port");
  const rack = readNullableString(r, flexible, "brokers.rack");
  skipTags(r, flexible, "brokers.tagged_fields");
  return { nodeId, host, port, rack };
}

function readPartition(r: Reader, version: number, flexible: boolean): MetadataPartition {
  const errorCode = r.int16("partitions.error_code");
  const partitionIndex = r.int32("partitions.partition_index");
  const leaderId = r.int32("partitions.leader_id");
  const leaderEpoch = version >= 7 ? r.int32("partitions.leader_epoch") : -1;
  const replicaNodes = readInt32Array(r, flexible, "partitions.replica_nodes");
  const isrNodes = readInt32Array(r, flexible, "partitions.isr_nodes");
  const offlineReplicas = version >= 5
    ? readInt32Array(r, flexible, "partitions.offline_replicas")
    : [];
  skipTags(r, flexible, "partitions.tagged_fields");
  return {
    errorCode,
    partitionIndex,
    leaderId,
    leaderEpoch,
    replicaNodes,
    isrNodes,
    offlineReplicas,
  };
}

function readTopic(r: Reader, version: number, flexible: boolean): MetadataTopic {
  const errorCode = r.int16("topics.error_code");
  const name = version >= 12
    ? readNullableString(r, flexible, "topics.name")
    : readString(r, flexible, "topics.name");
  const topicId = version >= 10 ? r.uuid("topics.topic_id") : ZERO_UUID;
  const isInternal = r.boolean("topics.is_internal");
  const n = readCount(r, flexible, "topics.partitions");
  const partitions = new Array<MetadataPartition>(n);
  for (let i = 0; i < n; i++) partitions[i] = readPartition(r, version, flexible);
  const topicAuthorizedOperations = version >= 8
    ? r.int32("topics.topic_authorized_operations")
    : AUTHORIZED_OPERATIONS_OMITTED;
  skipTags(r, flexible, "topics.tagged_fields");
  return { errorCode, name, topicId, isInternal, partitions, topicAuthorizedOperations };
}

function writePartition(
  w: Writer,
  p: MetadataPartition,
  version: number,
  flexible: boolean,
): void {
  w.int16(p.errorCode).int32(p.partitionIndex).int32(p.leaderId);
  if (version >= 7) w.int32(p.leaderEpoch);
  writeInt32Array(w, flexible, p.replicaNodes);
  writeInt32Array(w, flexible, p.isrNodes);
  if (version >= 5) writeInt32Array(w, flexible, p.offlineReplicas);
  writeNoTags(w, flexible);
}

function writeTopic(w: Writer, t: MetadataTopic, version: number, flexible: boolean): void {
  if (t.name === null && version < 12) {
    throw new ConfigError(
      `Metadata v${version} response topics need a name: a null name (unknown topic asked for ` +
        "by id) needs v12+",
    );
  }
  w.int16(t.errorCode);
  writeString(w, flexible, t.name);
  if (version >= 10) w.uuid(t.topicId);
  w.boolean(t.isInternal);
  writeCount(w, flexible, t.partitions.length);
  for (const p of t.partitions) writePartition(w, p, version, flexible);
  if (version >= 8) w.int32(t.topicAuthorizedOperations);
  writeNoTags(w, flexible);
}

/** The Metadata codec, versions 4–12 (flexible from 9). */
export const Metadata: ServerApiSpec<MetadataRequest, MetadataResponse> = {
  key: METADATA_KEY,
  name: "Metadata",
  minVersion: 4,
  maxVersion: 12,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: MetadataRequest, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    const topics = request.topics;
    writeCount(w, flexible, topics === null ? null : topics.length);
    if (topics !== null) {
      for (const t of topics) {
        if (t.name === null && version < 10) {
          throw new ConfigError(
            `Metadata v${version} cannot ask for a topic by id (name null): ids need v10+, ` +
              "check the version negotiated with the broker",
          );
        }
        if (version >= 10) w.uuid(t.topicId ?? ZERO_UUID);
        writeString(w, flexible, t.name);
        writeNoTags(w, flexible);
      }
    }
    w.boolean(request.allowAutoTopicCreation);
    if (version >= 8 && version <= 10) {
      w.boolean(request.includeClusterAuthorizedOperations ?? false);
    }
    if (version >= 8) w.boolean(request.includeTopicAuthorizedOperations ?? false);
    writeNoTags(w, flexible);
  },

  decodeRequest(r: Reader, version: number): MetadataRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const n = readArrayLength(r, flexible, "topics");
    let topics: MetadataRequestTopic[] | null = null;
    if (n >= 0) {
      topics = new Array<MetadataRequestTopic>(n);
      for (let i = 0; i < n; i++) {
        const topicId = version >= 10 ? r.uuid("topics.topic_id") : ZERO_UUID;
        const name = version >= 10
          ? readNullableString(r, flexible, "topics.name")
          : readString(r, flexible, "topics.name");
        skipTags(r, flexible, "topics.tagged_fields");
        topics[i] = { name, topicId };
      }
    }
    const allowAutoTopicCreation = r.boolean("allow_auto_topic_creation");
    const includeClusterAuthorizedOperations = version >= 8 && version <= 10
      ? r.boolean("include_cluster_authorized_operations")
      : false;
    const includeTopicAuthorizedOperations = version >= 8
      ? r.boolean("include_topic_authorized_operations")
      : false;
    skipTags(r, flexible, "tagged_fields");
    return {
      topics,
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations,
      includeTopicAuthorizedOperations,
    };
  },

  encodeResponse(w: Writer, response: MetadataResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    w.int32(response.throttleTimeMs);
    writeCount(w, flexible, response.brokers.length);
    for (const b of response.brokers) {
      w.int32(b.nodeId);
      writeString(w, flexible, b.host);
      w.int32(b.port);
      writeString(w, flexible, b.rack);
      writeNoTags(w, flexible);
    }
    writeString(w, flexible, response.clusterId);
    w.int32(response.controllerId);
    writeCount(w, flexible, response.topics.length);
    for (const t of response.topics) writeTopic(w, t, version, flexible);
    if (version >= 8 && version <= 10) w.int32(response.clusterAuthorizedOperations);
    writeNoTags(w, flexible);
  },

  decodeResponse(r: Reader, version: number): MetadataResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const throttleTimeMs = r.int32("throttle_time_ms");
    const nb = readCount(r, flexible, "brokers");
    const brokers = new Array<MetadataBroker>(nb);
    for (let i = 0; i < nb; i++) brokers[i] = readBroker(r, flexible);
    const clusterId = readNullableString(r, flexible, "cluster_id");
    const controllerId = r.int32("controller_id");
    const nt = readCount(r, flexible, "topics");
    const topics = new Array<MetadataTopic>(nt);
    for (let i = 0; i < nt; i++) topics[i] = readTopic(r, version, flexible);
    const clusterAuthorizedOperations = version >= 8 && version <= 10
      ? r.int32("cluster_authorized_operations")
      : AUTHORIZED_OPERATIONS_OMITTED;
    skipTags(r, flexible, "tagged_fields");
    return {
      throttleTimeMs,
      brokers,
      clusterId,
      controllerId,
      topics,
      clusterAuthorizedOperations,
    };
  },
};
