/**
 * How a node decides whether it may serve a partition: the partition a request names, whether
 * this node leads it, the client's leader epoch against the current one, and the KIP-951
 * leader hint for the answer when it does not lead.
 *
 * @module
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { LeaderIdAndEpoch, NodeEndpoint } from "../protocol/leader_discovery.ts";
import type { BrokerState } from "./broker_state.ts";
import type { PartitionState, TopicState } from "./cluster_state.ts";

/** Where a partition-level request lands: the partition, or why it cannot be served here. */
export type Located =
  | { readonly partition: PartitionState; readonly errorCode: 0 }
  | { readonly partition: PartitionState | undefined; readonly errorCode: number };

/**
 * Finds the partition a request names and checks that this node leads it: an unknown topic or
 * partition is UNKNOWN_TOPIC_OR_PARTITION; a partition led elsewhere, or by nobody, is
 * NOT_LEADER_OR_FOLLOWER, as a Kafka broker answers for a partition it knows of but does not
 * lead.
 *
 * @param state The node.
 * @param topic The topic, if it exists.
 * @param index The partition index.
 * @returns The partition and an error code (0 when this node leads it).
 */
export function locate(state: BrokerState, topic: TopicState | undefined, index: number): Located {
  const partition = topic?.partitions[index];
  if (partition === undefined) {
    return { partition: undefined, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  }
  if (partition.leader !== state.nodeId) {
    return { partition, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  }
  return { partition, errorCode: 0 };
}

/**
 * The KIP-951 hint for a NOT_LEADER_OR_FOLLOWER answer: the current leader and epoch, and the
 * leader's endpoint added to `endpoints` (once) when it runs.
 *
 * @param state The node.
 * @param partition The partition.
 * @param endpoints The reply's node endpoints, added to.
 * @returns The current leader field.
 */
export function leaderHint(
  state: BrokerState,
  partition: PartitionState,
  endpoints: NodeEndpoint[],
): LeaderIdAndEpoch {
  const leader = state.cluster.node(partition.leader);
  if (leader?.running && !endpoints.some((e) => e.nodeId === leader.nodeId)) {
    endpoints.push(state.cluster.endpoint(leader));
  }
  return { leaderId: partition.leader, leaderEpoch: partition.leaderEpoch };
}

/**
 * The leader-epoch check of Fetch and ListOffsets: an epoch older than the leader's is
 * FENCED_LEADER_EPOCH, a newer one UNKNOWN_LEADER_EPOCH; -1 skips the check.
 *
 * @param partition The partition.
 * @param currentLeaderEpoch The epoch the client sent.
 * @returns The error code, 0 when the epoch matches or is not given.
 */
export function epochCheck(partition: PartitionState, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === partition.leaderEpoch) return 0;
  return currentLeaderEpoch < partition.leaderEpoch
    ? ErrorCode.FENCED_LEADER_EPOCH
    : ErrorCode.UNKNOWN_LEADER_EPOCH;
}
