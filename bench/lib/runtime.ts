/**
 * What the benchmark scripts share about the runtime they run on: its name and its connector,
 * and the topic helpers the real-broker benchmarks need (create, look up the id).
 *
 * @module
 */

import type { BrokerConnection } from "../../broker/connection.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Metadata } from "../../protocol/metadata.ts";
import type { Connector } from "../../transport/conn.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime running the benchmark. */
export const runtime: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/** @returns The connector of the runtime running the benchmark. */
export async function connectorFor(): Promise<Connector> {
  if (runtime === "bun") return (await import("../../transport/bun.ts")).bunConnector;
  if (runtime === "deno") return (await import("../../transport/deno.ts")).denoConnector;
  // A non-literal specifier: the Node adapter is only loaded where it runs.
  const node = ["..", "..", "transport", "node.ts"].join("/");
  return (await import(node)).nodeConnector;
}

/**
 * Creates a topic unless it exists.
 *
 * @param broker The connection.
 * @param name The topic.
 * @param partitions Its partition count.
 * @param configs Topic configs, e.g. `{ "compression.type": "lz4" }`.
 */
export async function ensureTopic(
  broker: BrokerConnection,
  name: string,
  partitions = 1,
  configs: Record<string, string> = {},
): Promise<void> {
  const created = await broker.send(CreateTopics, {
    topics: [{
      name,
      numPartitions: partitions,
      replicationFactor: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    }],
    timeoutMs: 15_000,
  });
  const code = created.topics[0]?.errorCode ?? 0;
  // 36 TOPIC_ALREADY_EXISTS: a previous run made it.
  if (code !== 0 && code !== 36) throw new Error(`CreateTopics ${name} failed with code ${code}`);
}

/**
 * @param broker The connection.
 * @param name The topic.
 * @returns The topic's id (for Fetch v13+), once its leader is known.
 */
export async function topicId(broker: BrokerConnection, name: string): Promise<Uint8Array> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const md = await broker.send(Metadata, { topics: [{ name }], allowAutoTopicCreation: false });
    const t = md.topics[0];
    if (t && t.errorCode === 0 && t.partitions.every((p) => p.leaderId >= 0)) return t.topicId;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`topic ${name} has no leader after 10 s`);
}

/**
 * @param broker The connection.
 * @param topic The topic.
 * @param id Its id.
 * @returns Partition 0's high watermark, from a Fetch that asks for no data.
 */
export async function highWatermark(
  broker: BrokerConnection,
  topic: string,
  id: Uint8Array,
): Promise<bigint> {
  for (let attempt = 0;; attempt++) {
    const res = await broker.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      topics: [{
        topic,
        topicId: id,
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 0 }],
      }],
    });
    const p = res.responses[0].partitions[0];
    if (p.errorCode === 0) return p.highWatermark;
    // 6 NOT_LEADER_OR_FOLLOWER: a topic just created can be listed with its leader in
    // Metadata a moment before that leader serves Fetch.
    if (p.errorCode !== 6 || attempt === 50) {
      throw new Error(`Fetch ${topic}-0 failed with code ${p.errorCode}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
