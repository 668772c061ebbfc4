/**
 * Fetch on an embedded cluster node: reads whole batches from the partition logs within the
 * byte limits, and long-polls — a fetch that finds fewer than `minBytes` waits up to
 * `maxWaitMs` on the node's clock, answering as soon as a Produce (or a leader change) gives
 * it enough.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { ErrorCode } from "../protocol/errors.ts";
import {
  Fetch,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchResponse,
  type FetchTopicResponse,
} from "../protocol/fetch.ts";
import type { NodeEndpoint } from "../protocol/leader_discovery.ts";
import type { BrokerState } from "./broker_state.ts";
import { encode } from "./builtin_apis.ts";
import type { TopicState } from "./cluster_state.ts";
import { epochCheck, leaderHint, locate } from "./partition_access.ts";
import { type MockReply, NO_REPLY } from "./handler.ts";

const EMPTY = new Uint8Array(0);

/** A fetch answer as built, with what decides whether a long poll may end. */
interface Built {
  readonly response: FetchResponse;
  /** Record bytes in the answer. */
  readonly bytes: number;
  /** Whether some partition carries an error, which ends a long poll at once. */
  readonly errors: boolean;
}

function errorPartition(index: number, errorCode: number): FetchPartitionResponse {
  return {
    partitionIndex: index,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: null,
    currentLeader: null,
    snapshotId: null,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function build(
  state: BrokerState,
  req: FetchRequest,
  version: number,
  faultCode: number | undefined,
): Built {
  const nodeEndpoints: NodeEndpoint[] = [];
  const byId = version >= 13;
  let budget = req.maxBytes ?? 0x7fffffff;
  let bytes = 0;
  let errors = false;
  const responses: FetchTopicResponse[] = req.topics.map((t) => {
    const topic: TopicState | undefined = byId
      ? state.cluster.topicById(t.topicId!)
      : state.cluster.topic(t.topic ?? "");
    const unknown = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const partitions = t.partitions.map((fp): FetchPartitionResponse => {
      if (faultCode !== undefined) {
        errors = true;
        return errorPartition(fp.partition, faultCode);
      }
      if (topic === undefined) {
        errors = true;
        return errorPartition(fp.partition, unknown);
      }
      const located = locate(state, topic, fp.partition);
      const p = located.partition;
      let errorCode = located.errorCode;
      if (errorCode === 0) errorCode = epochCheck(p!, fp.currentLeaderEpoch ?? -1);
      if (errorCode !== 0) {
        errors = true;
        const out = errorPartition(fp.partition, errorCode);
        const hinted = errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ||
          errorCode === ErrorCode.FENCED_LEADER_EPOCH;
        if (hinted && p !== undefined && version >= 12) {
          out.currentLeader = leaderHint(state, p, nodeEndpoints);
        }
        return out;
      }
      const log = p!.log;
      if (fp.fetchOffset < log.logStartOffset || fp.fetchOffset > log.logEndOffset) {
        errors = true;
        return errorPartition(fp.partition, ErrorCode.OFFSET_OUT_OF_RANGE);
      }
      const limit = Math.min(fp.partitionMaxBytes, budget);
      const batches = limit > 0 || bytes === 0 ? log.read(fp.fetchOffset, limit, bytes === 0) : [];
      let size = 0;
      for (const b of batches) size += b.bytes.length;
      bytes += size;
      budget = Math.max(0, budget - size);
      return {
        partitionIndex: fp.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: log.logEndOffset,
        lastStableOffset: log.logEndOffset,
        logStartOffset: log.logStartOffset,
        divergingEpoch: null,
        currentLeader: null,
        snapshotId: null,
        abortedTransactions: req.isolationLevel === 1 ? [] : null,
        preferredReadReplica: -1,
        records: batches.length === 0 ? EMPTY : concat(batches.map((b) => b.bytes), size),
      };
    });
    return { topic: byId ? "" : t.topic ?? "", topicId: t.topicId!, partitions };
  });
  return {
    response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses, nodeEndpoints },
    bytes,
    errors,
  };
}

/**
 * Answers a Fetch. Fetch sessions are not created (the reply's session id is 0, which tells
 * the client to keep sending full fetches); a request naming a session id answers
 * FETCH_SESSION_ID_NOT_FOUND. A partition past its log end or before its log start answers
 * OFFSET_OUT_OF_RANGE; one this node does not lead answers NOT_LEADER_OR_FOLLOWER with the
 * current leader (v12+) and its endpoint (v16+), as KIP-951 has it.
 *
 * @param state The node.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code every partition carries, from `faults.error`.
 * @param polls Where a waiting fetch registers the cancel of its long poll.
 * @returns The reply, at once or when the long poll ends.
 */
export function answerFetch(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
  polls: Set<() => void>,
): MockReply | Promise<MockReply> {
  const req = Fetch.decodeRequest(body, version);
  if (req.sessionId !== 0) {
    return encode(Fetch, {
      throttleTimeMs: 0,
      errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      sessionId: 0,
      responses: [],
      nodeEndpoints: [],
    }, version);
  }
  const first = build(state, req, version, faultCode);
  if (req.maxWaitMs <= 0 || first.errors || first.bytes >= req.minBytes) {
    return encode(Fetch, first.response, version);
  }
  const clock = state.clock;
  return new Promise<MockReply>((resolve) => {
    const end = (reply: MockReply): void => {
      off();
      clock.clearTimeout(timer);
      polls.delete(cancel);
      resolve(reply);
    };
    const cancel = (): void => end(NO_REPLY);
    const off = state.cluster.onChange(() => {
      const now = build(state, req, version, faultCode);
      if (now.errors || now.bytes >= req.minBytes) end(encode(Fetch, now.response, version));
    });
    const timer = clock.setTimeout(() => {
      end(encode(Fetch, build(state, req, version, faultCode).response, version));
    }, req.maxWaitMs);
    polls.add(cancel);
  });
}
