/**
 * CreateTopics and DeleteTopics on an embedded cluster node, changing the shared cluster state
 * at once (any node answers, as Kafka 4.x brokers forward these to the controller).
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import {
  type CreatableTopic,
  type CreatableTopicResult,
  CreateTopics,
} from "../protocol/create_topics.ts";
import { type DeletableTopicResult, DeleteTopics } from "../protocol/delete_topics.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/uuid.ts";
import type { BrokerState } from "./broker_state.ts";
import { encode } from "./builtin_apis.ts";
import { type ClusterState, topicNameProblem } from "./cluster_state.ts";

/** The only topic config the cluster acts on; others are accepted and have no effect. */
const TIMESTAMP_TYPE = "message.timestamp.type";

interface Plan {
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly assignment: number[][] | undefined;
  readonly logAppendTime: boolean;
}

function refuse(t: CreatableTopic, errorCode: number, message: string): CreatableTopicResult {
  return {
    name: t.name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage: message,
    topicConfigErrorCode: 0,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}

/** Checks one topic to create as Kafka's controller does; a plan, or the refusal. */
function plan(cluster: ClusterState, t: CreatableTopic): Plan | CreatableTopicResult {
  const problem = topicNameProblem(t.name);
  if (problem !== undefined) return refuse(t, ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  if (cluster.topic(t.name) !== undefined) {
    return refuse(t, ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
  }
  let logAppendTime = false;
  for (const c of t.configs ?? []) {
    if (c.name !== TIMESTAMP_TYPE) continue;
    if (c.value !== "CreateTime" && c.value !== "LogAppendTime") {
      return refuse(
        t,
        ErrorCode.INVALID_CONFIG,
        `${TIMESTAMP_TYPE} must be CreateTime or LogAppendTime, got ${String(c.value)}`,
      );
    }
    logAppendTime = c.value === "LogAppendTime";
  }
  const manual = t.assignments ?? [];
  if (manual.length > 0) {
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      return refuse(
        t,
        ErrorCode.INVALID_REQUEST,
        "Both numPartitions or replicationFactor and replicasAssignments were set. Both " +
          "cannot be used at the same time.",
      );
    }
    const assignment: number[][] = [];
    for (const a of [...manual].sort((x, y) => x.partitionIndex - y.partitionIndex)) {
      if (a.partitionIndex !== assignment.length) {
        return refuse(
          t,
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          "Partitions must be numbered 0..n-1",
        );
      }
      const unknown = a.brokerIds.find((id) => cluster.node(id) === undefined);
      if (a.brokerIds.length === 0 || unknown !== undefined) {
        return refuse(
          t,
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Partition ${a.partitionIndex} names no broker or an unknown one (${String(unknown)})`,
        );
      }
      assignment.push([...a.brokerIds]);
    }
    return {
      partitions: assignment.length,
      replicationFactor: assignment[0].length,
      assignment,
      logAppendTime,
    };
  }
  const partitions = t.numPartitions === -1 ? 1 : t.numPartitions;
  if (partitions < 1) {
    return refuse(t, ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
  }
  const replicationFactor = t.replicationFactor === -1
    ? cluster.defaultReplicationFactor
    : t.replicationFactor;
  const running = cluster.nodes.filter((n) => n.running).length;
  if (replicationFactor < 1 || replicationFactor > running) {
    return refuse(
      t,
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Unable to replicate the partition ${replicationFactor} time(s): The target replication ` +
        `factor of ${replicationFactor} cannot be reached because only ${running} broker(s) ` +
        "are registered.",
    );
  }
  return { partitions, replicationFactor, assignment: undefined, logAppendTime };
}

/**
 * Answers CreateTopics: checks each topic (name, existence, counts, manual assignment,
 * `message.timestamp.type`), and unless `validateOnly` creates it at once.
 *
 * @param state The node.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code every topic carries, from `faults.error`.
 * @returns The reply body.
 */
export function answerCreateTopics(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): Uint8Array {
  const req = CreateTopics.decodeRequest(body, version);
  const cluster = state.cluster;
  const topics = req.topics.map((t): CreatableTopicResult => {
    if (faultCode !== undefined) return refuse(t, faultCode, "Injected fault");
    const p = plan(cluster, t);
    if ("errorCode" in p) return p;
    const created = req.validateOnly ? undefined : cluster.createTopic({
      name: t.name,
      partitions: p.partitions,
      replicationFactor: p.replicationFactor,
      logAppendTime: p.logAppendTime,
    }, p.assignment);
    return {
      name: t.name,
      topicId: created?.id ?? ZERO_UUID,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: 0,
      numPartitions: p.partitions,
      replicationFactor: p.replicationFactor,
      configs: [],
    };
  });
  return encode(CreateTopics, { throttleTimeMs: 0, topics }, version);
}

/**
 * Answers DeleteTopics: deletes each named topic (by name, or by id from v6) with its records.
 *
 * @param state The node.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code every topic carries, from `faults.error`.
 * @returns The reply body.
 */
export function answerDeleteTopics(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): Uint8Array {
  const req = DeleteTopics.decodeRequest(body, version);
  const cluster = state.cluster;
  const responses = req.topics.map((t): DeletableTopicResult => {
    const topic = t.name !== null
      ? cluster.topic(t.name)
      : cluster.topicById(t.topicId ?? ZERO_UUID);
    const result: DeletableTopicResult = {
      name: topic?.name ?? t.name,
      topicId: topic?.id ?? t.topicId ?? ZERO_UUID,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
    };
    if (faultCode !== undefined) {
      result.errorCode = faultCode;
      result.errorMessage = "Injected fault";
    } else if (topic === undefined) {
      result.errorCode = t.name !== null
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : ErrorCode.UNKNOWN_TOPIC_ID;
      result.errorMessage = "This server does not host this topic.";
    } else {
      cluster.deleteTopic(topic.name);
    }
    return result;
  });
  return encode(DeleteTopics, { throttleTimeMs: 0, responses }, version);
}
