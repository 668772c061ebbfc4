/**
 * The data APIs the nodes of an embedded cluster encode themselves: Produce and ListOffsets
 * here, Fetch in `fetch_api.ts`, CreateTopics and DeleteTopics in `admin_apis.ts`, all against
 * the shared cluster state and shaped as a Kafka 4.x broker shapes them.
 *
 * @module
 */

import type { RequestHeader } from "../framing/header.ts";
import type { Reader } from "../framing/reader.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { DeleteTopics } from "../protocol/delete_topics.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Fetch } from "../protocol/fetch.ts";
import type { NodeEndpoint } from "../protocol/leader_discovery.ts";
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  ListOffsets,
  type ListOffsetsPartitionResponse,
  MAX_TIMESTAMP,
} from "../protocol/list_offsets.ts";
import { decodeRecordBatch, UnsupportedCompressionError } from "../protocol/record_batch.ts";
import { Produce, type ProducePartitionResponse } from "../protocol/produce.ts";
import { ConnectionClosedError } from "../transport/errors.ts";
import { answerCreateTopics, answerDeleteTopics } from "./admin_apis.ts";
import { checkBatches } from "./batch_check.ts";
import type { BrokerState } from "./broker_state.ts";
import { encode } from "./builtin_apis.ts";
import type { TopicState } from "./cluster_state.ts";
import { answerFetch } from "./fetch_api.ts";
import { epochCheck, leaderHint, locate } from "./partition_access.ts";
import type { StoredBatch } from "./partition_log.ts";
import { type MockReply, NO_REPLY } from "./handler.ts";

const DATA_KEYS: ReadonlySet<number> = new Set([
  Produce.key,
  Fetch.key,
  ListOffsets.key,
  CreateTopics.key,
  DeleteTopics.key,
]);

/**
 * @param apiKey An API key.
 * @returns Whether it is one of the data APIs {@link answerDataApi} serves.
 */
export function isDataApi(apiKey: number): boolean {
  return DATA_KEYS.has(apiKey);
}

/**
 * Answers one request of a data API.
 *
 * @param state The node.
 * @param header The request header.
 * @param body The request body.
 * @param faultCode An error code to answer with, from `faults.error`.
 * @param polls Where a waiting Fetch registers the cancel of its long poll.
 * @returns The reply body, `NO_REPLY`, or a promise of one (a long-polling Fetch).
 */
export function answerDataApi(
  state: BrokerState,
  header: RequestHeader,
  body: Reader,
  faultCode: number | undefined,
  polls: Set<() => void>,
): MockReply | Promise<MockReply> {
  const version = header.apiVersion;
  switch (header.apiKey) {
    case Produce.key:
      return answerProduce(state, body, version, faultCode);
    case Fetch.key:
      return answerFetch(state, body, version, faultCode, polls);
    case ListOffsets.key:
      return answerListOffsets(state, body, version, faultCode);
    case CreateTopics.key:
      return answerCreateTopics(state, body, version, faultCode);
    default:
      return answerDeleteTopics(state, body, version, faultCode);
  }
}

function produceError(
  index: number,
  errorCode: number,
  message: string | null,
): ProducePartitionResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: message,
    currentLeader: null,
  };
}

function answerProduce(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): MockReply {
  const req = Produce.decodeRequest(body, version);
  const nodeEndpoints: NodeEndpoint[] = [];
  let failed = false;
  const responses = req.topicData.map((t) => {
    const topic = state.cluster.topic(t.name);
    return {
      name: t.name,
      partitionResponses: t.partitionData.map((pd): ProducePartitionResponse => {
        const out = producePartition(state, topic, pd.index, pd.records, req.acks, faultCode);
        if (out.errorCode !== ErrorCode.NONE) failed = true;
        if (out.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER && faultCode === undefined) {
          const at = topic!.partitions[pd.index];
          if (version >= 10) out.currentLeader = leaderHint(state, at, nodeEndpoints);
        }
        return out;
      }),
    };
  });
  if (req.acks === 0) {
    // With acks=0 a Kafka broker closes the connection on an error: the only way the producer
    // learns of it is the dropped connection, which makes it refresh metadata.
    if (failed) {
      throw new ConnectionClosedError(
        "acks=0 produce failed on a partition; the broker closes the connection, as Kafka does",
      );
    }
    return NO_REPLY;
  }
  return encode(Produce, { responses, throttleTimeMs: 0, nodeEndpoints }, version);
}

function producePartition(
  state: BrokerState,
  topic: TopicState | undefined,
  index: number,
  records: Uint8Array | null,
  acks: number,
  faultCode: number | undefined,
): ProducePartitionResponse {
  if (faultCode !== undefined) return produceError(index, faultCode, "Injected fault");
  if (acks !== -1 && acks !== 0 && acks !== 1) {
    return produceError(index, ErrorCode.INVALID_REQUIRED_ACKS, `acks ${acks} is not -1, 0 or 1`);
  }
  const { partition, errorCode } = locate(state, topic, index);
  if (errorCode !== 0) return produceError(index, errorCode, null);
  const check = checkBatches(records);
  if (!check.ok) {
    const out = produceError(index, check.errorCode, check.message);
    if (check.errorCode === ErrorCode.INVALID_RECORD) {
      out.recordErrors = [{ batchIndex: 0, batchIndexErrorMessage: check.message }];
    }
    return out;
  }
  const appendTime = topic!.logAppendTime ? state.cluster.wallClock() : undefined;
  const log = partition!.log;
  const baseOffset = log.append(check.batches, partition!.leaderEpoch, appendTime);
  state.cluster.changed();
  return {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset,
    logAppendTimeMs: appendTime ?? -1,
    logStartOffset: log.logStartOffset,
    recordErrors: [],
    errorMessage: null,
    currentLeader: null,
  };
}

function listPartition(
  state: BrokerState,
  topic: TopicState | undefined,
  index: number,
  currentLeaderEpoch: number,
  timestamp: bigint,
  faultCode: number | undefined,
): ListOffsetsPartitionResponse {
  const out: ListOffsetsPartitionResponse = {
    partitionIndex: index,
    errorCode: ErrorCode.NONE,
    oldStyleOffsets: [],
    timestamp: -1n,
    offset: -1n,
    leaderEpoch: -1,
  };
  const located = locate(state, topic, index);
  out.errorCode = faultCode ?? located.errorCode;
  if (out.errorCode !== 0) return out;
  const p = located.partition!;
  out.errorCode = epochCheck(p, currentLeaderEpoch);
  if (out.errorCode !== 0) return out;
  const log = p.log;
  out.leaderEpoch = p.leaderEpoch;
  if (timestamp === LATEST_TIMESTAMP) out.offset = log.logEndOffset;
  else if (timestamp === EARLIEST_TIMESTAMP || timestamp === -4n) out.offset = log.logStartOffset;
  else if (timestamp === MAX_TIMESTAMP) {
    const b = log.maxTimestampBatch();
    if (b !== undefined) {
      const records = recordsOf(b);
      const best = records.reduce((a, r) => (r.timestamp > a.timestamp ? r : a), records[0]);
      out.offset = best.offset;
      out.timestamp = BigInt(best.timestamp);
    }
  } else if (timestamp >= 0n) {
    const b = log.firstBatchAtOrAfter(Number(timestamp));
    const hit = b && recordsOf(b).find((r) => r.timestamp >= Number(timestamp));
    if (hit) {
      out.offset = hit.offset;
      out.timestamp = BigInt(hit.timestamp);
    }
  } else {
    // -5 (latest tiered) and below: there is no tiered storage here, so nothing is found.
    out.leaderEpoch = -1;
  }
  out.oldStyleOffsets = out.offset >= 0n ? [out.offset] : [];
  return out;
}

/**
 * The offsets and timestamps of a stored batch's records; a compressed batch, which this
 * module cannot decode, counts as one record at its base offset with its largest timestamp.
 */
function recordsOf(b: StoredBatch): { offset: bigint; timestamp: number }[] {
  try {
    return decodeRecordBatch(b.bytes).records;
  } catch (error) {
    if (!(error instanceof UnsupportedCompressionError)) throw error;
    return [{ offset: b.baseOffset, timestamp: b.maxTimestamp }];
  }
}

function answerListOffsets(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): Uint8Array {
  const req = ListOffsets.decodeRequest(body, version);
  const topics = req.topics.map((t) => {
    const topic = state.cluster.topic(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((p) =>
        listPartition(
          state,
          topic,
          p.partitionIndex,
          p.currentLeaderEpoch ?? -1,
          p.timestamp,
          faultCode,
        )
      ),
    };
  });
  return encode(ListOffsets, { throttleTimeMs: 0, topics }, version);
}
