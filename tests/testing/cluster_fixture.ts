/**
 * Helpers for the embedded cluster tests: a `BrokerConnection` to one node, Metadata, and
 * produce/fetch shorthands.
 *
 * @module
 */

import { BrokerConnection } from "../../broker/connection.ts";
import { Fetch, type FetchResponse } from "../../protocol/fetch.ts";
import { Metadata, type MetadataResponse } from "../../protocol/metadata.ts";
import { Produce, type ProduceResponse } from "../../protocol/produce.ts";
import { encodeRecordBatch, type RecordInput } from "../../protocol/record_batch.ts";
import type { Connector } from "../../transport/conn.ts";
import type { MockCluster, MockClusterNode } from "../../testing/mod.ts";

/** Fetch up to v12, the last version that names topics (v13+ takes topic ids). */
export const FETCH_BY_NAME = { ...Fetch, maxVersion: 12 };

/**
 * Opens a connection to one node.
 *
 * @param cluster The cluster.
 * @param node The node.
 * @param connector How to dial; the cluster's in-memory connector by default.
 * @returns The connected connection.
 */
export async function connectTo(
  cluster: MockCluster,
  node: MockClusterNode,
  connector: Connector = cluster.connector,
): Promise<BrokerConnection> {
  const conn = new BrokerConnection({
    host: node.host,
    port: node.port,
    connector,
    requestTimeoutMs: 10_000,
  });
  await conn.connect();
  return conn;
}

/**
 * Asks a node for the metadata of every topic.
 *
 * @param conn The connection.
 * @returns The reply.
 */
export function metadata(conn: BrokerConnection): Promise<MetadataResponse> {
  return conn.send(Metadata, { topics: null, allowAutoTopicCreation: false });
}

/**
 * Produces one batch to one partition with acks=all.
 *
 * @param conn The connection.
 * @param topic The topic.
 * @param partition The partition.
 * @param records The records.
 * @returns The reply.
 */
export function produce(
  conn: BrokerConnection,
  topic: string,
  partition: number,
  records: RecordInput[],
): Promise<ProduceResponse> {
  return conn.send(Produce, {
    acks: -1,
    timeoutMs: 5_000,
    topicData: [{
      name: topic,
      partitionData: [{
        index: partition,
        records: encodeRecordBatch({ timestamp: 1_700_000_000_000, records }),
      }],
    }],
  });
}

/**
 * Fetches one partition by name (Fetch v12).
 *
 * @param conn The connection.
 * @param topic The topic.
 * @param partition The partition.
 * @param offset Where to read from.
 * @param options Long-poll and size settings.
 * @returns The reply.
 */
export function fetchFrom(
  conn: BrokerConnection,
  topic: string,
  partition: number,
  offset: bigint,
  options: {
    maxWaitMs?: number;
    minBytes?: number;
    maxBytes?: number;
    partitionMaxBytes?: number;
  } = {},
): Promise<FetchResponse> {
  return conn.send(FETCH_BY_NAME, {
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes,
    topics: [{
      topic,
      partitions: [{
        partition,
        fetchOffset: offset,
        partitionMaxBytes: options.partitionMaxBytes ?? 1 << 20,
      }],
    }],
  });
}

/**
 * The text of a value.
 *
 * @param bytes The bytes.
 * @returns The UTF-8 text, or `null`.
 */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/**
 * UTF-8 bytes of a text.
 *
 * @param s The text.
 * @returns Its bytes.
 */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
