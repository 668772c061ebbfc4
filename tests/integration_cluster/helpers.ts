/**
 * What the real-cluster tests share: this runtime's connector and resolver, a `Cluster` for
 * the test cluster, topic creation through the controller, a steady producer whose every
 * record settles exactly once, and the read-back check that counts losses and duplicates.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Cluster } from "../../cluster/cluster.ts";
import type { ClusterEvent } from "../../cluster/events.ts";
import type { ClusterOptions } from "../../cluster/options.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { decodeRecordBatches } from "../../protocol/record_batch.ts";
import type { Connector } from "../../transport/conn.ts";
import { KafkaTransportError } from "../../transport/errors.ts";
import { runtime } from "../harness.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { produceOne, type ProduceOutcome, readValues, sleep } from "../cluster/traffic.ts";

/** This runtime's connector. */
export const connector: Connector = adapter.connector;
/** This runtime's resolver. */
export const resolveHost: (host: string) => Promise<string[]> = adapter.resolve;

/**
 * A cluster client for the test cluster, recording its events.
 *
 * @param bootstrap The bootstrap list.
 * @param options More options.
 * @returns The client and its events.
 */
export function openCluster(
  bootstrap: string,
  options: Partial<ClusterOptions> = {},
): { cluster: Cluster; events: ClusterEvent[] } {
  const events: ClusterEvent[] = [];
  const cluster = new Cluster({
    bootstrap,
    connector,
    resolve: resolveHost,
    connection: { connectionSetupTimeoutMs: 5000, reconnectBackoffMaxMs: 1000 },
    sendTimeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { cluster, events };
}

/**
 * A topic name unique per run and runtime.
 *
 * @param what What the topic is for.
 * @returns The name.
 */
export function uniqueTopic(what: string): string {
  return `cluster-${what}-${runtime}-${Date.now().toString(36)}`;
}

/**
 * Creates a topic through the controller (replication 3, min.insync.replicas 2 by broker
 * default) and waits until every partition has a leader.
 *
 * @param cluster The client.
 * @param name Topic.
 * @param partitions Partition count.
 */
export async function createTopic(cluster: Cluster, name: string, partitions = 6): Promise<void> {
  const reply = await cluster.send(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 3 }],
    timeoutMs: 15_000,
  }, { route: { kind: "controller" }, timeoutMs: 20_000 });
  const result = reply.response.topics[0];
  assert.equal(result.errorCode, 0, `CreateTopics ${name}: ${result.errorMessage}`);
  for (let i = 0; i < 100; i++) {
    const t = await cluster.refreshMetadata([name]).then(() => cluster.cachedTopic(name));
    if (
      t?.errorCode === 0 && t.partitions.length === partitions &&
      t.partitions.every((p) => p.leaderId >= 0)
    ) return;
    await sleep(100);
  }
  assert.fail(`topic ${name} has no leaders after 10 s`);
}

/** A steady producer over every partition of a topic. */
export class SteadyProducer {
  readonly outcomes: { partition: number; value: string; outcome: ProduceOutcome }[] = [];
  launched = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];

  /**
   * Starts one loop per partition, each producing one record at a time (acks=all).
   *
   * @param cluster The client.
   * @param topic Topic.
   * @param partitions Partition count.
   * @param retryAmbiguous Re-send ambiguous failures (and count them).
   */
  constructor(cluster: Cluster, topic: string, partitions: number, retryAmbiguous: boolean) {
    for (let p = 0; p < partitions; p++) {
      this.#loops.push((async () => {
        for (let i = 0; this.#running && i < 100_000; i++) {
          const value = `p${p}-${i}`;
          this.launched++;
          let outcome: ProduceOutcome;
          try {
            outcome = await produceOne(cluster, topic, p, value, {
              retryAmbiguous,
              timeoutMs: 15_000,
              sendTimeoutMs: 5000,
            });
          } catch (error) {
            // The cluster was closed under the loop (a failed test's cleanup): stop quietly.
            const e = error instanceof KafkaTransportError
              ? error
              : new KafkaTransportError(String(error));
            outcome = { ok: false, error: e, attempts: 0, ambiguousRetries: 0, answeredRetries: 0 };
            this.outcomes.push({ partition: p, value, outcome });
            return;
          }
          this.outcomes.push({ partition: p, value, outcome });
          if (!outcome.ok) await sleep(50);
        }
      })());
    }
  }

  /** Acked records so far. */
  get acked(): number {
    return this.outcomes.filter((o) => o.outcome.ok).length;
  }

  /**
   * Stops and waits until every loop's last produce settled.
   *
   * @returns Resolves when stopped.
   */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}

/**
 * Reads a topic back and checks it against the producer: every acked record present, each
 * produce settled once, failures typed and retriable. Returns the duplicate count.
 *
 * @param cluster The client.
 * @param topic Topic.
 * @param producer The stopped producer.
 * @returns Duplicates found (records appended twice by re-sent ambiguous failures) and losses.
 */
export async function verifyLog(
  cluster: Cluster,
  topic: string,
  producer: SteadyProducer,
): Promise<
  { duplicates: number; acked: number; failed: number; ambiguous: number; answered: number }
> {
  assert.equal(producer.outcomes.length, producer.launched, "every produce settled exactly once");
  const partitions = new Set(producer.outcomes.map((o) => o.partition));
  let duplicates = 0;
  for (const p of partitions) {
    const values = await readValues(cluster, topic, p, 30_000);
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const n of counts.values()) if (n > 1) duplicates += n - 1;
    for (const o of producer.outcomes) {
      if (o.partition === p && o.outcome.ok) {
        assert.ok(counts.has(o.value), `acked record ${o.value} is missing from ${topic}-${p}`);
      }
    }
  }
  const failed = producer.outcomes.filter((o) => !o.outcome.ok);
  for (const f of failed) {
    if (f.outcome.ok) continue;
    assert.ok(
      f.outcome.error instanceof KafkaTransportError,
      `untyped failure: ${f.outcome.error}`,
    );
    assert.ok(f.outcome.error.retriable, `non-retriable failure: ${f.outcome.error.message}`);
  }
  const sum = (f: (o: ProduceOutcome) => number) =>
    producer.outcomes.reduce((n, o) => n + f(o.outcome), 0);
  return {
    duplicates,
    acked: producer.acked,
    failed: failed.length,
    ambiguous: sum((o) => o.ambiguousRetries),
    answered: sum((o) => o.answeredRetries),
  };
}

/** A steady long-poll fetcher over every partition of a topic (on the Fetch connections). */
export class SteadyFetcher {
  /** Records read so far. */
  records = 0;
  /** Fetches that failed (typed errors; the loop goes on). */
  failures = 0;
  #running = true;
  readonly #loops: Promise<void>[] = [];

  /**
   * Starts one loop per partition.
   *
   * @param cluster The client.
   * @param topic Topic.
   * @param partitions Partition count.
   */
  constructor(cluster: Cluster, topic: string, partitions: number) {
    for (let p = 0; p < partitions; p++) {
      this.#loops.push((async () => {
        let offset = 0n;
        for (let i = 0; this.#running && i < 100_000; i++) {
          try {
            const info = await cluster.topicMetadata(topic);
            const reply = await cluster.send(Fetch, {
              maxWaitMs: 500,
              minBytes: 1,
              topics: [{
                topicId: info.topicId,
                partitions: [{ partition: p, fetchOffset: offset, partitionMaxBytes: 1 << 20 }],
              }],
            }, { route: { kind: "leader", topic, partition: p }, timeoutMs: 5000 });
            const part = reply.response.responses[0].partitions[0];
            if (part.errorCode !== 0) {
              await sleep(100);
              continue;
            }
            for (const batch of decodeRecordBatches(part.records ?? new Uint8Array(0))) {
              for (const r of batch.records) {
                if (r.offset < offset) continue;
                this.records++;
                offset = r.offset + 1n;
              }
            }
          } catch {
            this.failures++;
            await sleep(100);
          }
        }
      })());
    }
  }

  /**
   * Stops and waits until every loop ended.
   *
   * @returns Resolves when stopped.
   */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}
