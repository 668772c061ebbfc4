/**
 * The leader-discovery fields of Produce and Fetch replies (KIP-951): the current leader of a
 * partition that answered NOT_LEADER_OR_FOLLOWER, and the endpoints of such leaders, so a client
 * can redirect without a Metadata round trip. Both travel as tagged fields.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { Writer } from "../framing/writer.ts";

/** A partition's current leader and its epoch. */
export interface LeaderIdAndEpoch {
  /** The leader's broker id, -1 when unknown. */
  leaderId: number;
  /** The leader epoch, -1 when unknown. */
  leaderEpoch: number;
}

/** The address of a broker named as a new leader. */
export interface NodeEndpoint {
  /** The broker id. */
  nodeId: number;
  /** Its host name. */
  host: string;
  /** Its port. */
  port: number;
  /** Its rack, or `null`. */
  rack: string | null;
}

/**
 * Reads a LeaderIdAndEpoch tagged-field value.
 *
 * @param r A reader over the field's bytes.
 * @returns The leader and epoch.
 */
export function readLeaderIdAndEpoch(r: Reader): LeaderIdAndEpoch {
  const leaderId = r.int32("current_leader.leader_id");
  const leaderEpoch = r.int32("current_leader.leader_epoch");
  r.taggedFields(undefined, "current_leader.tagged_fields");
  return { leaderId, leaderEpoch };
}

/**
 * Encodes a LeaderIdAndEpoch as a tagged-field value.
 *
 * @param leader The leader and epoch.
 * @returns The field's bytes.
 */
export function encodeLeaderIdAndEpoch(leader: LeaderIdAndEpoch): Uint8Array {
  return new Writer(9).int32(leader.leaderId).int32(leader.leaderEpoch).taggedFields().finish();
}

function readNodeEndpoint(r: Reader): NodeEndpoint {
  const nodeId = r.int32("node_endpoints.node_id");
  const host = r.compactString("node_endpoints.host");
  const port = r.int32("node_endpoints.port");
  const rack = r.compactNullableString("node_endpoints.rack");
  r.taggedFields(undefined, "node_endpoints.tagged_fields");
  return { nodeId, host, port, rack };
}

function writeNodeEndpoint(w: Writer, e: NodeEndpoint): void {
  w.int32(e.nodeId).compactString(e.host).int32(e.port).compactString(e.rack).taggedFields();
}

/**
 * Reads a NodeEndpoints tagged-field value.
 *
 * @param r A reader over the field's bytes.
 * @returns The endpoints.
 */
function readNodeEndpoints(r: Reader): NodeEndpoint[] {
  return r.compactArray(readNodeEndpoint, "node_endpoints");
}

/**
 * Encodes NodeEndpoints as a tagged-field value.
 *
 * @param endpoints The endpoints.
 * @returns The field's bytes.
 */
function encodeNodeEndpoints(endpoints: readonly NodeEndpoint[]): Uint8Array {
  return new Writer().compactArray(endpoints, writeNodeEndpoint).finish();
}

/**
 * Writes the top-level tagged-field section of a Produce or Fetch reply: NodeEndpoints as tag 0
 * when there are any, otherwise an empty section.
 *
 * @param w The writer.
 * @param endpoints The endpoints; pass `[]` below the version that has the field.
 */
export function writeNodeEndpointsTags(w: Writer, endpoints: readonly NodeEndpoint[]): void {
  if (endpoints.length === 0) w.taggedFields();
  else w.taggedFields([{ tag: 0, data: encodeNodeEndpoints(endpoints) }]);
}

/**
 * Reads a reply's NodeEndpoints tagged field (tag 0) into it.
 *
 * @param reply The Produce or Fetch reply being decoded.
 * @param tag The field's tag.
 * @param r A reader over the field's bytes.
 */
export function readNodeEndpointsTag(
  reply: { nodeEndpoints: NodeEndpoint[] },
  tag: number,
  r: Reader,
): void {
  if (tag === 0) reply.nodeEndpoints = readNodeEndpoints(r);
}
