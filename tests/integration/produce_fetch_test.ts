/**
 * Records produced to the real broker with acks 1, all (-1) and 0 (no reply expected) come back
 * from Fetch byte-identical: keys, values, headers and timestamps, null and empty included, in
 * the order they were pipelined on one connection.
 */

import assert from "node:assert/strict";
import type { BrokerConnection } from "../../broker/connection.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Produce, type ProduceRequest } from "../../protocol/produce.ts";
import {
  decodeRecordBatches,
  encodeRecordBatch,
  type KafkaRecord,
  type RecordInput,
} from "../../protocol/record_batch.ts";
import type { KafkaEnv, ListenerName } from "./fixture.ts";
import {
  createTopic,
  kafkaTest,
  mechanism,
  type MechanismName,
  openConnection,
  sleep,
  tlsFor,
  uniqueTopic,
  withKafka,
} from "./real_broker.ts";

const ACKS = [1, -1, 0] as const;
const BATCHES_PER_ACKS = 4;
const RECORDS_PER_BATCH = 50;
/** One value this large crosses many TCP/TLS reads, so the reply frame spans chunks. */
const LARGE_VALUE_BYTES = 300_000;

/**
 * Deterministic bytes (xorshift), so that a failure shows the same bytes on a rerun.
 *
 * @param seed Picks the sequence.
 * @param length How many bytes.
 * @returns The bytes.
 */
function bytesFrom(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * The records of one batch: null and empty keys and values, headers with null and empty
 * values and a non-ASCII key, and one large value.
 *
 * @param acks The acks setting the batch is produced with (part of every seed).
 * @param batch The batch's index for that setting.
 * @param timestamp The batch's CreateTime.
 * @returns The records.
 */
function makeRecords(acks: number, batch: number, timestamp: number): RecordInput[] {
  const records: RecordInput[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    const seed = ((acks + 2) << 20) | (batch << 10) | i;
    const key = i % 7 === 0 ? null : i % 13 === 0 ? new Uint8Array(0) : bytesFrom(seed, 1 + i % 17);
    const large = acks === -1 && batch === 1 && i === 3;
    const value = i % 11 === 0
      ? null
      : bytesFrom(~seed, large ? LARGE_VALUE_BYTES : (i * 37) % 300);
    const headers = i % 3 === 0 ? [] : [
      { key: `h-${i}-ü`, value: bytesFrom(seed * 3, i % 5) },
      { key: "null", value: null },
      { key: "", value: new Uint8Array([0, 255, 0]) },
    ];
    records.push({ key, value, headers, timestamp: timestamp + i });
  }
  return records;
}

/**
 * Reduces a record to plain values, so that views and copies compare equal.
 *
 * @param r A record as sent or as fetched.
 * @returns Its key, value, headers and timestamp as arrays and numbers.
 */
function plainRecord(r: RecordInput | KafkaRecord): unknown {
  const bytes = (b: Uint8Array | null | undefined) => b == null ? null : Array.from(b);
  return {
    key: bytes(r.key),
    value: bytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
    timestamp: r.timestamp,
  };
}

/**
 * Fetches from offset 0 until `count` records have come back (acks=0 records may land a
 * little later), bounded in rounds and time.
 *
 * @param conn The connection.
 * @param topic The topic name.
 * @param topicId Its id, for Fetch v13+.
 * @param count How many records to wait for.
 * @returns The records, in offset order.
 */
async function fetchAll(
  conn: BrokerConnection,
  topic: string,
  topicId: Uint8Array,
  count: number,
): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = [];
  let offset = 0n;
  const deadline = Date.now() + 20_000;
  for (let round = 0; round < 200 && records.length < count && Date.now() < deadline; round++) {
    const res = await conn.send(Fetch, {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 8 << 20,
      topics: [{
        topic,
        topicId,
        partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 4 << 20 }],
      }],
    });
    assert.equal(res.errorCode, 0, `Fetch error ${res.errorCode}`);
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, 0, `Fetch partition error ${p.errorCode}`);
    if (p.records === null) continue;
    for (const batch of decodeRecordBatches(p.records)) {
      for (const r of batch.records) {
        // A fetch may start inside a batch fetched before: skip what we already have.
        if (r.offset < offset) continue;
        records.push(r);
        offset = r.offset + 1n;
      }
    }
    if (records.length < count) await sleep(20);
  }
  return records;
}

/**
 * Produces every batch pipelined on one connection, then fetches them back and compares.
 *
 * @param kafka The broker.
 * @param name The listener.
 * @param sasl The mechanism, for SASL listeners.
 */
async function produceAndFetch(
  kafka: KafkaEnv,
  name: ListenerName,
  sasl?: MechanismName,
): Promise<void> {
  const listener = kafka.listeners[name];
  const user = kafka.users[1];
  await using conn = openConnection(listener, {
    tls: tlsFor(kafka, listener),
    sasl: sasl === undefined ? undefined : mechanism(sasl, user.username, user.password),
  }).conn;
  const topic = uniqueTopic(`produce-${name.toLowerCase()}`);
  const described = await createTopic(conn, topic);
  const sent: RecordInput[] = [];
  const produced: Promise<unknown>[] = [];
  const now = Date.now();
  for (const acks of ACKS) {
    for (let b = 0; b < BATCHES_PER_ACKS; b++) {
      const records = makeRecords(acks, b, now + sent.length);
      sent.push(...records);
      const request: ProduceRequest = {
        acks,
        timeoutMs: 15_000,
        topicData: [{
          name: topic,
          partitionData: [{ index: 0, records: encodeRecordBatch({ records, timestamp: now }) }],
        }],
      };
      produced.push(
        // No expectResponse option: send() asks Produce.expectsResponse (false for acks 0).
        conn.send(Produce, request).then((res) => {
          if (acks === 0) {
            assert.equal(res, undefined, "acks=0 resolves without a reply");
            return;
          }
          const p = res.responses[0].partitionResponses[0];
          assert.equal(p.errorCode, 0, `Produce acks=${acks}: ${p.errorMessage}`);
          assert.ok(p.baseOffset >= 0n);
        }),
      );
    }
  }
  await Promise.all(produced);
  const fetched = await fetchAll(conn, topic, described.topicId, sent.length);
  assert.equal(fetched.length, sent.length, `fetched ${fetched.length} of ${sent.length}`);
  for (let i = 0; i < sent.length; i++) {
    assert.equal(fetched[i].offset, BigInt(i));
    assert.deepEqual(plainRecord(fetched[i]), plainRecord(sent[i]), `record at offset ${i}`);
  }
  const stats = conn.stats();
  assert.equal(stats.disconnects, 0);
  assert.equal(stats.unknownReplies, 0);
}

withKafka((kafka) => {
  kafkaTest(
    "PLAINTEXT: produce with acks 1, all and 0, fetch back byte-identical",
    () => produceAndFetch(kafka, "PLAINTEXT"),
  );
  kafkaTest(
    "SASL_SSL × SCRAM-SHA-512: produce with acks 1, all and 0, fetch back byte-identical",
    () => produceAndFetch(kafka, "SASL_SSL", "SCRAM-SHA-512"),
  );
}, "produce and fetch round trips");
