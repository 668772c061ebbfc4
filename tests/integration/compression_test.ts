/**
 * Compressed record batches against the real broker and librdkafka, implementations not
 * written here:
 * - records produced uncompressed to topics with `compression.type` gzip, snappy, lz4 and
 *   zstd are recompressed by the broker's Java codecs; fetched back they must carry that codec
 *   and decode to the records sent, byte for byte;
 * - batches compressed here with each codec, produced to a `compression.type=producer` topic,
 *   are validated by the broker (it decompresses them), served back unchanged, and read back
 *   identical by librdkafka (`kcat -C`, CRC checks on).
 */

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import process from "node:process";
import type { BrokerConnection } from "../../broker/connection.ts";
import { type Codec, codecNameOf } from "../../protocol/compression/codec.ts";
import { defaultCodecs } from "../../protocol/compression/defaults.ts";
import { gzipCodec } from "../../protocol/compression/gzip.ts";
import { lz4Codec } from "../../protocol/compression/lz4.ts";
import { snappyCodec } from "../../protocol/compression/snappy.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Produce } from "../../protocol/produce.ts";
import {
  decodeRecordBatchesAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  type KafkaRecord,
  type RecordBatch,
  type RecordInput,
} from "../../protocol/record_batch.ts";
import { wasmZstd } from "../fixtures/wasm_zstd.ts";
import { test } from "../harness.ts";
import type { KafkaEnv } from "./fixture.ts";
import {
  createTopic,
  kafkaTest,
  openConnection,
  sleep,
  uniqueTopic,
  withKafka,
} from "./real_broker.ts";

const zstd = wasmZstd;
const codecs = defaultCodecs.with(zstd);

const BATCHES = 3;
const RECORDS_PER_BATCH = 200;
const enc = new TextEncoder();

/**
 * JSON-like records of about 1 KiB (printable, no tabs or newlines, so kcat's text output can
 * be compared), with keys, headers and one null value.
 *
 * @param batch The batch index (part of every value).
 * @param timestamp The first record's CreateTime.
 * @returns The records.
 */
function makeRecords(batch: number, timestamp: number): RecordInput[] {
  const out: RecordInput[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    const n = batch * RECORDS_PER_BATCH + i;
    const body = JSON.stringify({
      id: n,
      user: `user-${(n * 7919) % 10007}`,
      event: ["click", "view", "purchase", "scroll"][n % 4],
      path: `/catalog/${n % 97}/item/${(n * 31) % 1009}`,
      pad: "x".repeat(800 + (n % 50)),
    });
    out.push({
      key: i % 9 === 0 ? null : enc.encode(`key-${n}`),
      value: i === 17 ? null : enc.encode(body),
      headers: i % 4 === 0 ? [] : [{ key: "trace", value: enc.encode(`t-${n}`) }],
      timestamp: timestamp + i,
    });
  }
  return out;
}

function plain(r: RecordInput | KafkaRecord): unknown {
  const bytes = (b: Uint8Array | null | undefined) => b == null ? null : Array.from(b);
  return {
    key: bytes(r.key),
    value: bytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
    timestamp: r.timestamp,
  };
}

async function produce(conn: BrokerConnection, topic: string, batch: Uint8Array): Promise<void> {
  // A topic just created can answer NOT_LEADER_OR_FOLLOWER (6) for a moment after Metadata
  // shows its leader, until the partition is loaded: retry that a bounded number of times.
  for (let attempt = 0;; attempt++) {
    const res = await conn.send(Produce, {
      acks: -1,
      timeoutMs: 15_000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    const p = res.responses[0].partitionResponses[0];
    if (p.errorCode === 6 && attempt < 50) {
      await sleep(100);
      continue;
    }
    assert.equal(p.errorCode, 0, `Produce to ${topic}: error ${p.errorCode} ${p.errorMessage}`);
    return;
  }
}

/** Fetches batches from offset 0 until `count` records came back, bounded in rounds. */
async function fetchBatches(
  conn: BrokerConnection,
  topic: string,
  topicId: Uint8Array,
  count: number,
): Promise<RecordBatch[]> {
  const batches: RecordBatch[] = [];
  let offset = 0n;
  for (let round = 0; round < 100 && offset < BigInt(count); round++) {
    const res = await conn.send(Fetch, {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 16 << 20,
      topics: [{
        topic,
        topicId,
        partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 8 << 20 }],
      }],
    });
    const p = res.responses[0].partitions[0];
    assert.equal(p.errorCode, 0, `Fetch ${topic}: error ${p.errorCode}`);
    if (p.records !== null) {
      for (const batch of await decodeRecordBatchesAsync(p.records, { codecs })) {
        if (batch.baseOffset < offset) continue;
        batches.push(batch);
        offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
    }
    if (offset < BigInt(count)) await sleep(20);
  }
  return batches;
}

function checkRecords(batches: RecordBatch[], sent: RecordInput[], what: string): void {
  const got = batches.flatMap((b) => b.records);
  assert.equal(got.length, sent.length, `${what}: fetched ${got.length} of ${sent.length}`);
  for (let i = 0; i < sent.length; i++) {
    assert.equal(got[i].offset, BigInt(i), what);
    assert.deepEqual(plain(got[i]), plain(sent[i]), `${what}: record at offset ${i}`);
  }
}

/**
 * Reads the topic with librdkafka's kcat, one line per record: offset, key, value, headers
 * and timestamp, tab-separated.
 */
function kcatRead(broker: string, topic: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      "kcat",
      [
        "-C",
        "-b",
        broker,
        "-t",
        topic,
        "-p",
        "0",
        "-o",
        "beginning",
        "-c",
        String(count),
        "-e",
        "-q",
        "-X",
        "check.crcs=true",
        "-Z",
        "-f",
        "%o\t%k\t%s\t%h\t%T\n",
      ],
      { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kcat failed (${error.message}): ${stderr}`));
        else resolve(stdout.split("\n").filter((l) => l !== ""));
      },
    );
  });
}

/** The line kcat prints for a record sent at `offset` (-Z prints NULL for null fields). */
function kcatLine(r: RecordInput, offset: number): string {
  const text = (b: Uint8Array | null | undefined) =>
    b == null ? "NULL" : new TextDecoder().decode(b);
  const headers = (r.headers ?? []).map((h) => `${h.key}=${text(h.value)}`).join(",");
  return [offset, text(r.key), text(r.value), headers, r.timestamp].join("\t");
}

const hasKcat = spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0;

withKafka((kafka: KafkaEnv) => {
  const listener = kafka.listeners.PLAINTEXT;

  for (const codec of ["gzip", "snappy", "lz4", "zstd"]) {
    kafkaTest(
      `topic compression.type=${codec}: the broker's Java codec, decoded byte-identical`,
      async () => {
        await using conn = openConnection(listener).conn;
        const topic = uniqueTopic(`broker-${codec}`);
        const described = await createTopic(conn, topic, { "compression.type": codec });
        const sent: RecordInput[] = [];
        const now = Date.now();
        for (let b = 0; b < BATCHES; b++) {
          const records = makeRecords(b, now + sent.length);
          sent.push(...records);
          await produce(conn, topic, encodeRecordBatch({ records }));
        }
        const batches = await fetchBatches(conn, topic, described.topicId, sent.length);
        for (const batch of batches) {
          assert.equal(codecNameOf(batch.attributes & 7), codec, "the broker recompressed");
        }
        checkRecords(batches, sent, `compression.type=${codec}`);
      },
    );
  }

  const ours: [string, Codec][] = [
    ["gzip", gzipCodec()],
    ["snappy (xerial)", snappyCodec()],
    ["snappy (raw)", snappyCodec({ framing: "raw" })],
    ["lz4", lz4Codec()],
    ["zstd (wasm encoder)", zstd],
  ];
  for (const [name, codec] of ours) {
    kafkaTest(
      `${name} batches compressed here: validated and served back by the broker`,
      async () => {
        await using conn = openConnection(listener).conn;
        const topic = uniqueTopic(`ours-${codec.name}`);
        const described = await createTopic(conn, topic, { "compression.type": "producer" });
        const sent: RecordInput[] = [];
        const now = Date.now();
        for (let b = 0; b < BATCHES; b++) {
          const records = makeRecords(b, now + sent.length);
          sent.push(...records);
          await produce(
            conn,
            topic,
            await encodeRecordBatchAsync({ records }, { compression: codec }),
          );
        }
        const batches = await fetchBatches(conn, topic, described.topicId, sent.length);
        assert.equal(batches.length, BATCHES);
        for (const batch of batches) {
          assert.equal(batch.attributes & 7, codec.id, "kept as produced");
        }
        checkRecords(batches, sent, name);
        if (!hasKcat) {
          if (process.env.KAFKA_REQUIRED === "1") {
            assert.fail("kcat is not installed (apt-get install kcat)");
          }
          console.error(`SKIPPED kcat check of ${name}: kcat is not installed`);
          return;
        }
        const lines = await kcatRead(`${listener.host}:${listener.port}`, topic, sent.length);
        assert.equal(lines.length, sent.length, `kcat read ${lines.length} of ${sent.length}`);
        for (let i = 0; i < sent.length; i++) {
          assert.equal(lines[i], kcatLine(sent[i], i), `kcat, record at offset ${i}`);
        }
      },
      120_000,
    );
  }
});

if (!hasKcat && process.env.KAFKA_REQUIRED === "1") {
  test("kcat (librdkafka) is installed for the compression round trips (KAFKA_REQUIRED=1)", () => {
    assert.fail("kcat is not on PATH: install it with `apt-get install -y kcat`");
  });
}
