/**
 * The probe's produce + fetch round trip: one record to partition 0 of a topic, on its leader
 * (found through Metadata, dialled separately when it is not the probed broker), fetched back
 * from the offset it got and compared byte for byte, with both latencies.
 *
 * @module
 */

import type { BrokerConnection } from "../broker/connection.ts";
import { kafkaErrorFor } from "../protocol/errors.ts";
import { Fetch } from "../protocol/fetch.ts";
import { Metadata } from "../protocol/metadata.ts";
import { Produce } from "../protocol/produce.ts";
import { decodeRecordBatches, encodeRecordBatch } from "../protocol/record_batch.ts";
import type { Clock } from "../transport/clock.ts";
import { KafkaTransportError } from "../transport/errors.ts";

/** What the produce + fetch round trip found. */
export interface ProduceCheck {
  /** The topic written to. */
  topic: string;
  /** The partition written to. */
  partition: number;
  /** The partition leader's node id, which took the record. */
  leader: number;
  /** The offset the record got. */
  offset: number;
  /** Produce (acks=all) request to reply, in milliseconds. */
  produceMs: number;
  /** Fetch request to reply, in milliseconds. */
  fetchMs: number;
}

/** How the check reaches the partition leader when it is not the probed broker. */
export type OpenLeader = (host: string, port: number) => Promise<BrokerConnection>;

/**
 * Produces one record to partition 0 of `topic` and fetches it back.
 *
 * @param conn The connection to the probed broker.
 * @param target The probed broker's address, to tell whether it leads the partition.
 * @param topic The topic.
 * @param clock The time source for the latencies.
 * @param openLeader Opens a connection to the leader when it is another broker.
 * @returns The offset and the latencies.
 * @throws {KafkaProtocolError} When Metadata, Produce or Fetch answer with an error code.
 * @throws {KafkaTransportError} When the record fetched back differs from the one produced.
 */
export async function produceCheck(
  conn: BrokerConnection,
  target: { host: string; port: number },
  topic: string,
  clock: Clock,
  openLeader: OpenLeader,
): Promise<ProduceCheck> {
  const md = await conn.send(Metadata, {
    topics: [{ name: topic }],
    allowAutoTopicCreation: false,
  });
  const t = md.topics[0];
  if (t.errorCode !== 0) throw kafkaErrorFor(t.errorCode, `Metadata for topic "${topic}"`);
  const p = t.partitions.find((x) => x.partitionIndex === 0)!;
  if (p.errorCode !== 0) throw kafkaErrorFor(p.errorCode, `Metadata for "${topic}" partition 0`);
  const broker = md.brokers.find((b) => b.nodeId === p.leaderId);
  if (broker === undefined) {
    throw new KafkaTransportError(
      `Partition 0 of "${topic}" is led by node ${p.leaderId}, which Metadata does not list`,
    );
  }
  const isTarget = broker.host === target.host && broker.port === target.port;
  const leader = isTarget ? conn : await openLeader(broker.host, broker.port);
  try {
    const value = new TextEncoder().encode(`kafka-wire probe ${Date.now()}-${Math.random()}`);
    const records = encodeRecordBatch({ timestamp: Date.now(), records: [{ value }] });
    let start = clock.now();
    const produced = await leader.send(Produce, {
      acks: -1,
      timeoutMs: 5_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    const produceMs = clock.now() - start;
    const pr = produced.responses[0].partitionResponses[0];
    if (pr.errorCode !== 0) throw kafkaErrorFor(pr.errorCode, `Produce to "${topic}" partition 0`);
    start = clock.now();
    const fetched = await leader.send(Fetch, {
      maxWaitMs: 500,
      minBytes: 1,
      topics: [{
        topic,
        topicId: t.topicId,
        partitions: [{ partition: 0, fetchOffset: pr.baseOffset, partitionMaxBytes: 1 << 20 }],
      }],
    });
    const fetchMs = clock.now() - start;
    const fp = fetched.responses[0].partitions[0];
    if (fp.errorCode !== 0) throw kafkaErrorFor(fp.errorCode, `Fetch from "${topic}" partition 0`);
    const back = decodeRecordBatches(fp.records ?? new Uint8Array(0))
      .flatMap((b) => b.records)
      .find((r) => r.offset === pr.baseOffset);
    if (back?.value == null || back.value.join(",") !== value.join(",")) {
      throw new KafkaTransportError(
        `The record produced to "${topic}" partition 0 at offset ${pr.baseOffset} did not come ` +
          "back from Fetch unchanged",
      );
    }
    return {
      topic,
      partition: 0,
      leader: p.leaderId,
      offset: Number(pr.baseOffset),
      produceMs,
      fetchMs,
    };
  } finally {
    if (!isTarget) await leader.close({ graceful: false });
  }
}
