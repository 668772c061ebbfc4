/**
 * A producer and a reader over {@link Cluster.send}, shared by the embedded and the real
 * cluster suites: each produce settles exactly once (acked with its offset, or failed with a
 * typed error), partition errors the broker answered are retried (the broker refused them, so
 * nothing was appended), and ambiguous failures are re-sent only when asked and then counted,
 * so duplicates are reported rather than hidden.
 *
 * @module
 */

import type { Cluster } from "../../cluster/cluster.ts";
import { ClusterRequestError } from "../../cluster/errors.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Produce } from "../../protocol/produce.ts";
import { decodeRecordBatches, encodeRecordBatch } from "../../protocol/record_batch.ts";
import { kafkaErrorFor } from "../../protocol/errors.ts";
import { KafkaTransportError } from "../../transport/errors.ts";

/**
 * How one produce ended. `ambiguousRetries` counts re-sends after a failure that may have
 * appended (lost reply, REQUEST_TIMED_OUT...); `answeredRetries` re-sends after an error reply
 * that normally means "not appended" — but NOT_LEADER_OR_FOLLOWER for acks=all can also come
 * after the old leader appended and a follower copied the batch (leadership moved while the
 * produce waited for replication), so a duplicate can follow even these.
 */
export type ProduceOutcome =
  & { attempts: number; ambiguousRetries: number; answeredRetries: number }
  & ({ ok: true; offset: bigint } | { ok: false; error: KafkaTransportError });

/** Options of {@link produceOne}. */
export interface ProduceOneOptions {
  /** acks; default -1 (all). */
  acks?: number;
  /** Re-send after a failure that may have reached the broker (may duplicate). Default false. */
  retryAmbiguous?: boolean;
  /** Deadline of the whole produce. Default 10 000. */
  timeoutMs?: number;
  /** Deadline of each send. Default 3000. */
  sendTimeoutMs?: number;
  /** Pause before re-sending after an error reply without a leader hint. Default 50. */
  retryBackoffMs?: number;
  /** Time source for deadlines. Default `performance.now`. */
  now?: () => number;
}

/**
 * Produce error codes with which the broker refused the batch before appending it, so sending
 * it again cannot duplicate: UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE,
 * NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, FENCED_LEADER_EPOCH.
 */
const REFUSED = new Set([3, 5, 6, 19, 74]);

const text = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Produces one record with a value, retrying refused attempts until the deadline.
 *
 * @param cluster The cluster.
 * @param topic Topic.
 * @param partition Partition.
 * @param value The record value (read back by {@link readValues}).
 * @param options Acks, ambiguity policy, deadlines.
 * @returns The outcome; never rejects.
 */
export async function produceOne(
  cluster: Cluster,
  topic: string,
  partition: number,
  value: string,
  options: ProduceOneOptions = {},
): Promise<ProduceOutcome> {
  const now = options.now ?? (() => performance.now());
  const deadline = now() + (options.timeoutMs ?? 10_000);
  const records = encodeRecordBatch({
    records: [{ value: text.encode(value) }],
    timestamp: Date.now(),
  });
  let attempts = 0;
  let ambiguousRetries = 0;
  let answeredRetries = 0;
  let last: KafkaTransportError | null = null;
  while (now() < deadline) {
    attempts++;
    try {
      const reply = await cluster.send(Produce, {
        acks: options.acks ?? -1,
        timeoutMs: 2000,
        topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
      }, {
        route: { kind: "leader", topic, partition },
        retry: false,
        timeoutMs: Math.min(options.sendTimeoutMs ?? 3000, Math.max(1, deadline - now())),
      });
      const p = reply.response.responses[0].partitionResponses[0];
      if (p.errorCode === 0) {
        return { ok: true, offset: p.baseOffset, attempts, ambiguousRetries, answeredRetries };
      }
      last = kafkaErrorFor(p.errorCode, `Produce to ${topic}-${partition}`, p.errorMessage);
      if (!last.retriable) break;
      if (!REFUSED.has(p.errorCode)) {
        // Answered, but the append may have happened (REQUEST_TIMED_OUT,
        // NOT_ENOUGH_REPLICAS_AFTER_APPEND): as ambiguous as a lost reply.
        if (!options.retryAmbiguous) break;
        ambiguousRetries++;
      } else answeredRetries++;
      if (!reply.partitionErrors.some((e) => e.hinted)) await sleep(options.retryBackoffMs ?? 50);
    } catch (error) {
      if (!(error instanceof ClusterRequestError)) throw error;
      last = error;
      if (!error.retriable) break;
      if (error.mayHaveReached) {
        if (!options.retryAmbiguous) break;
        ambiguousRetries++;
      }
    }
  }
  return {
    ok: false,
    error: last ?? new KafkaTransportError("no attempt in time", { retriable: true }),
    attempts,
    ambiguousRetries,
    answeredRetries,
  };
}

/**
 * Reads every record value of a partition from offset 0 up to its high watermark.
 *
 * @param cluster The cluster.
 * @param topic Topic.
 * @param partition Partition.
 * @param timeoutMs Deadline.
 * @returns The values in log order.
 */
export async function readValues(
  cluster: Cluster,
  topic: string,
  partition: number,
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  const values: string[] = [];
  let offset = 0n;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`reading ${topic}-${partition} timed out`);
    const info = await cluster.topicMetadata(topic);
    const reply = await cluster.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      topics: [{
        topic,
        topicId: info.topicId,
        partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }],
      }],
    }, { route: { kind: "leader", topic, partition }, timeoutMs: 5000 });
    const p = reply.response.responses[0].partitions[0];
    if (p.errorCode !== 0) {
      await sleep(100);
      continue;
    }
    for (const batch of decodeRecordBatches(p.records ?? new Uint8Array(0))) {
      for (const r of batch.records) {
        if (r.offset < offset) continue;
        values.push(decoder.decode(r.value ?? new Uint8Array(0)));
        offset = r.offset + 1n;
      }
    }
    if (offset >= p.highWatermark) return values;
  }
}

/**
 * Waits a little (real time).
 *
 * @param ms Milliseconds.
 * @returns Resolves after them.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
