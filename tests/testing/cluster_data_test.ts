import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Fetch } from "../../protocol/fetch.ts";
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  ListOffsets,
  MAX_TIMESTAMP,
} from "../../protocol/list_offsets.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { Produce } from "../../protocol/produce.ts";
import {
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordInput,
} from "../../protocol/record_batch.ts";
import { MockCluster } from "../../testing/mod.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";
import { connectTo, fetchFrom, produce, text, utf8 } from "./cluster_fixture.ts";

function records(prefix: string, n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : utf8(`${prefix}-k${i}`),
    value: i % 5 === 4 ? null : utf8(`${prefix}-v${i}`),
    headers: i % 2 === 0 ? [] : [{ key: "h", value: utf8(String(i)) }, { key: "n", value: null }],
    timestamp: 1_700_000_000_000 + i,
  }));
}

test("MockCluster: produced records come back from Fetch byte-identical, offsets assigned", async () => {
  await using cluster = await MockCluster.start({ topics: [{ name: "t", partitions: 3 }] });
  const leader = cluster.node(cluster.partition("t", 1).leader);
  const conn = await connectTo(cluster, leader);
  try {
    const sent = [records("a", 5), records("b", 3)];
    const bases: bigint[] = [];
    for (const batch of sent) {
      const res = await produce(conn, "t", 1, batch);
      const p = res.responses[0].partitionResponses[0];
      assert.equal(p.errorCode, ErrorCode.NONE);
      assert.equal(p.logStartOffset, 0n);
      assert.equal(p.logAppendTimeMs, -1);
      bases.push(p.baseOffset);
    }
    assert.deepEqual(bases, [0n, 5n]);
    const res = await fetchFrom(conn, "t", 1, 0n);
    const part = res.responses[0].partitions[0];
    assert.equal(part.errorCode, ErrorCode.NONE);
    assert.deepEqual([part.highWatermark, part.lastStableOffset, part.logStartOffset], [
      8n,
      8n,
      0n,
    ]);
    const got = decodeRecordBatches(part.records!).flatMap((b) => b.records);
    const want = sent.flat();
    assert.equal(got.length, want.length);
    got.forEach((r, i) => {
      assert.equal(r.offset, BigInt(i));
      assert.deepEqual(r.key, want[i].key ?? null);
      assert.deepEqual(r.value, want[i].value);
      assert.deepEqual(r.headers, want[i].headers);
      assert.equal(r.timestamp, want[i].timestamp);
    });
    // The stored batch bytes are the produced ones but for base offset and leader epoch.
    const produced = encodeRecordBatch({ records: sent[0] });
    const stored = cluster.batches("t", 1)[0];
    assert.equal(stored.baseOffset, 0n);
    assert.equal(stored.partitionLeaderEpoch, 0);
    assert.deepEqual(part.records!.subarray(12 + 4, produced.length), produced.subarray(16));
    // Fetch v17 by topic id reads the same.
    const md = await conn.send(Metadata, {
      topics: [{ name: "t" }],
      allowAutoTopicCreation: false,
    });
    const byId = await conn.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{
        topicId: md.topics[0].topicId,
        partitions: [{ partition: 1, fetchOffset: 5n, partitionMaxBytes: 1 << 20 }],
      }],
    });
    const batches = decodeRecordBatches(byId.responses[0].partitions[0].records!);
    assert.deepEqual(batches.map((b) => b.baseOffset), [5n]);
    assert.equal(text(batches[0].records[1].value), "b-v1");
  } finally {
    await conn.close();
  }
});

test("MockCluster: Fetch long-polls until a Produce arrives, and times out empty", async () => {
  const clock = new FakeClock(1_000);
  await using cluster = await MockCluster.start({ clock, topics: [{ name: "t", partitions: 1 }] });
  const consumer = await connectTo(cluster, cluster.node(1));
  const producer = await connectTo(cluster, cluster.node(1));
  try {
    const waiting = fetchFrom(consumer, "t", 0, 0n, { maxWaitMs: 5_000, minBytes: 1 });
    const seen = track(waiting);
    await settle();
    clock.advance(4_000);
    await settle();
    assert.equal(seen.settled, false, "the fetch waits for data");
    await produce(producer, "t", 0, records("x", 2));
    const woken = await waiting;
    assert.equal(
      decodeRecordBatches(woken.responses[0].partitions[0].records!)[0].records.length,
      2,
    );

    const idle = fetchFrom(consumer, "t", 0, 2n, { maxWaitMs: 500 });
    const idleSeen = track(idle);
    await settle();
    clock.advance(499);
    await settle();
    assert.equal(idleSeen.settled, false);
    clock.advance(1);
    const empty = (await idle).responses[0].partitions[0];
    assert.equal(empty.errorCode, ErrorCode.NONE);
    assert.equal(empty.records!.length, 0);
    assert.equal(empty.highWatermark, 2n);
    // minBytes above what one batch holds keeps waiting across a small produce.
    const big = fetchFrom(consumer, "t", 0, 2n, { maxWaitMs: 1_000, minBytes: 100_000 });
    const bigSeen = track(big);
    await settle();
    await produce(producer, "t", 0, records("y", 1));
    await settle();
    assert.equal(bigSeen.settled, false, "minBytes not reached");
    clock.advance(1_000);
    assert.equal(decodeRecordBatches((await big).responses[0].partitions[0].records!).length, 1);
  } finally {
    await consumer.close();
    await producer.close();
  }
});

test("MockCluster: offsets, watermarks and ListOffsets after many batches", async () => {
  await using cluster = await MockCluster.start({
    nodes: 1,
    topics: [{ name: "t", partitions: 1 }],
  });
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    let expected = 0n;
    for (let b = 0; b < 40; b++) {
      const n = 1 + (b % 7);
      const batch = Array.from({ length: n }, (_, i) => ({
        value: utf8(`${b}.${i}`),
        timestamp: 10_000 + b * 100 + i,
      }));
      const res = await produce(conn, "t", 0, batch);
      assert.equal(res.responses[0].partitionResponses[0].baseOffset, expected);
      expected += BigInt(n);
    }
    assert.equal(cluster.partition("t", 0).highWatermark, expected);
    assert.equal(cluster.partition("t", 0).batches, 40);
    const list = async (timestamp: bigint) =>
      (await conn.send(ListOffsets, {
        topics: [{ name: "t", partitions: [{ partitionIndex: 0, timestamp }] }],
      })).topics[0].partitions[0];
    assert.equal((await list(EARLIEST_TIMESTAMP)).offset, 0n);
    assert.equal((await list(LATEST_TIMESTAMP)).offset, expected);
    const at = await list(10_502n); // batch 5, record 2
    // batches 0..4 hold 1+2+3+4+5 = 15 records.
    assert.deepEqual([at.offset, at.timestamp, at.leaderEpoch], [17n, 10_502n, 0]);
    const max = await list(MAX_TIMESTAMP);
    assert.equal(max.offset, expected - 1n);
    assert.deepEqual([(await list(99_999n)).offset, (await list(99_999n)).timestamp], [-1n, -1n]);
    // Small partition limits still return the first whole batch (KIP-74), then stop.
    const small = await fetchFrom(conn, "t", 0, 3n, { partitionMaxBytes: 1 });
    const got = decodeRecordBatches(small.responses[0].partitions[0].records!);
    assert.deepEqual(got.map((b) => b.baseOffset), [3n], "the batch holding offset 3, whole");
    const past = await fetchFrom(conn, "t", 0, expected + 1n);
    assert.equal(past.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    cluster.deleteRecordsBefore("t", 0, 10n);
    const before = await fetchFrom(conn, "t", 0, 0n);
    assert.equal(before.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await list(EARLIEST_TIMESTAMP)).offset, 10n);
  } finally {
    await conn.close();
  }
});

test("MockCluster: a batch with a damaged CRC gets CORRUPT_MESSAGE and is not stored", async () => {
  await using cluster = await MockCluster.start({
    nodes: 1,
    topics: [{ name: "t", partitions: 1 }],
  });
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    const batch = encodeRecordBatch({ timestamp: 1, records: records("c", 3) });
    batch[batch.length - 1] ^= 0xff;
    const res = await conn.send(Produce, {
      acks: 1,
      timeoutMs: 1_000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: batch }] }],
    });
    const p = res.responses[0].partitionResponses[0];
    assert.equal(p.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.equal(p.baseOffset, -1n);
    const wrongBase = encodeRecordBatch({ timestamp: 1, baseOffset: 7n, records: records("d", 1) });
    const res2 = await conn.send(Produce, {
      acks: 1,
      timeoutMs: 1_000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: wrongBase }] }, {
        name: "missing",
        partitionData: [{ index: 0, records: wrongBase }],
      }],
    });
    assert.equal(res2.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_RECORD);
    assert.equal(res2.responses[0].partitionResponses[0].recordErrors.length, 1);
    assert.equal(
      res2.responses[1].partitionResponses[0].errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.equal(cluster.partition("t", 0).highWatermark, 0n);
  } finally {
    await conn.close();
  }
});

test("MockCluster: after a leader move the old leader answers NOT_LEADER with KIP-951 hints", async () => {
  await using cluster = await MockCluster.start({ topics: [{ name: "t", partitions: 1 }] });
  const old = await connectTo(cluster, cluster.node(1));
  try {
    await produce(old, "t", 0, records("before", 2));
    const epoch = cluster.moveLeader("t", 0, 3);
    const res = await produce(old, "t", 0, records("after", 1));
    const p = res.responses[0].partitionResponses[0];
    assert.equal(p.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(p.currentLeader, { leaderId: 3, leaderEpoch: epoch });
    assert.deepEqual(res.nodeEndpoints, [{
      nodeId: 3,
      host: "mock-broker-3",
      port: 9092,
      rack: null,
    }]);
    const fetched = await old.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{
        topicId:
          (await old.send(Metadata, { topics: null, allowAutoTopicCreation: false })).topics[0]
            .topicId,
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }],
      }],
    });
    const fp = fetched.responses[0].partitions[0];
    assert.equal(fp.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(fp.currentLeader, { leaderId: 3, leaderEpoch: epoch });
    assert.deepEqual(fetched.nodeEndpoints.map((e) => e.nodeId), [3]);
    const now = await connectTo(cluster, cluster.node(3));
    const stale = await now.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{
        topicId: fetched.responses[0].topicId,
        partitions: [{
          partition: 0,
          fetchOffset: 0n,
          currentLeaderEpoch: epoch - 1,
          partitionMaxBytes: 1024,
        }],
      }],
    });
    assert.equal(stale.responses[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH);
    const ok = await fetchFrom(now, "t", 0, 0n);
    assert.equal(decodeRecordBatches(ok.responses[0].partitions[0].records!)[0].records.length, 2);
    await now.close();
  } finally {
    await old.close();
  }
});

test("MockCluster apiVersions caps Fetch below topic ids: send() then fetches by name", async () => {
  await using cluster = await MockCluster.start({
    nodes: 1,
    topics: [{ name: "t", partitions: 1 }],
    apiVersions: { [Fetch.key]: [4, 12] },
  });
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    assert.deepEqual(conn.apiVersions?.get(Fetch.key), { min: 4, max: 12 });
    await produce(conn, "t", 0, records("v", 1));
    const res = await conn.send(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      topics: [{
        topic: "t",
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }],
      }],
    });
    assert.equal(res.responses[0].topic, "t");
    assert.equal(decodeRecordBatches(res.responses[0].partitions[0].records!).length, 1);
  } finally {
    await conn.close();
  }
});
