import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { DeleteTopics } from "../../protocol/delete_topics.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { Produce } from "../../protocol/produce.ts";
import { encodeRecordBatch } from "../../protocol/record_batch.ts";
import { Writer } from "../../framing/writer.ts";
import { TimeoutError } from "../../transport/errors.ts";
import { MockCluster } from "../../testing/mod.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";

const NOT_ENOUGH_REPLICAS = 19;
import { RawClient } from "./raw_client.ts";
import { connectTo, FETCH_BY_NAME, fetchFrom, metadata, produce, utf8 } from "./cluster_fixture.ts";

test("MockCluster: faults.error fails the next N produces on one node only", async () => {
  await using cluster = await MockCluster.start({
    nodes: 2,
    topics: [{ name: "t", partitions: 2 }],
  });
  cluster.node(1).faults.error(Produce.key, NOT_ENOUGH_REPLICAS, 2);
  const one = await connectTo(cluster, cluster.node(1));
  const two = await connectTo(cluster, cluster.node(2));
  try {
    const code = async () =>
      (await produce(one, "t", 0, [{ value: utf8("x") }])).responses[0].partitionResponses[0]
        .errorCode;
    assert.equal(await code(), NOT_ENOUGH_REPLICAS);
    const other = await produce(two, "t", 1, [{ value: utf8("y") }]);
    assert.equal(other.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    assert.equal(await code(), NOT_ENOUGH_REPLICAS);
    assert.equal(await code(), ErrorCode.NONE);
    assert.equal(cluster.partition("t", 0).highWatermark, 1n);
  } finally {
    await one.close();
    await two.close();
  }
});

test("MockCluster: faults.drop swallows one reply, the connection keeps serving", async () => {
  await using cluster = await MockCluster.start({
    nodes: 1,
    topics: [{ name: "t", partitions: 1 }],
  });
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    cluster.node(1).faults.drop(Fetch.key);
    await assert.rejects(
      conn.send(FETCH_BY_NAME, {
        maxWaitMs: 0,
        minBytes: 1,
        topics: [{
          topic: "t",
          partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }],
        }],
      }, { timeoutMs: 50 }),
      TimeoutError,
    );
    const md = await metadata(conn);
    assert.equal(md.topics.length, 1);
    assert.equal(cluster.node(1).requests.filter((r) => r.apiKey === Fetch.key).length, 1);
  } finally {
    await conn.close({ graceful: false });
  }
});

test("MockCluster: faults.delay holds one node's replies only", async () => {
  const clock = new FakeClock();
  await using cluster = await MockCluster.start({ nodes: 2, clock });
  cluster.node(2).faults.delay(60, Metadata.key);
  const one = await connectTo(cluster, cluster.node(1));
  const two = await connectTo(cluster, cluster.node(2));
  try {
    await metadata(one);
    const held = metadata(two);
    const seen = track(held);
    await settle();
    clock.advance(59);
    await settle();
    assert.equal(seen.settled, false);
    clock.advance(1);
    assert.equal((await held).brokers.length, 2);
  } finally {
    await one.close();
    await two.close();
  }
});

test("MockCluster: acks=0 gets no reply; a failed acks=0 produce closes the connection", async () => {
  await using cluster = await MockCluster.start({
    nodes: 2,
    topics: [{ name: "t", partitions: 1 }],
  });
  const leader = await connectTo(cluster, cluster.node(1));
  const follower = await connectTo(cluster, cluster.node(2));
  try {
    const records = encodeRecordBatch({ timestamp: 5, records: [{ value: utf8("fire") }] });
    const request = {
      acks: 0,
      timeoutMs: 1_000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records }] }],
    };
    await leader.send(Produce, request);
    await fetchFrom(leader, "t", 0, 0n);
    assert.equal(cluster.partition("t", 0).highWatermark, 1n);
    const down = new Promise((resolve) =>
      follower.onStateChange((c) => c.to === "DOWN" && resolve(c))
    );
    await follower.send(Produce, request);
    await down;
    assert.equal(cluster.partition("t", 0).highWatermark, 1n);
  } finally {
    await leader.close();
    await follower.close({ graceful: false });
  }
});

test("MockCluster: CreateTopics and DeleteTopics change the shared state", async () => {
  await using cluster = await MockCluster.start({
    nodes: 3,
    topics: [{ name: "old", partitions: 1 }],
  });
  const conn = await connectTo(cluster, cluster.node(2));
  try {
    const created = await conn.send(CreateTopics, {
      topics: [
        { name: "fresh", numPartitions: 4, replicationFactor: 2 },
        { name: "old", numPartitions: 1, replicationFactor: 1 },
        { name: "bad/name", numPartitions: 1, replicationFactor: 1 },
        { name: "wide", numPartitions: 1, replicationFactor: 4 },
        {
          name: "stamped",
          numPartitions: 1,
          replicationFactor: -1,
          configs: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
        },
      ],
      timeoutMs: 1_000,
    });
    assert.deepEqual(created.topics.map((t) => [t.name, t.errorCode]), [
      ["fresh", 0],
      ["old", ErrorCode.TOPIC_ALREADY_EXISTS],
      ["bad/name", ErrorCode.INVALID_TOPIC_EXCEPTION],
      ["wide", ErrorCode.INVALID_REPLICATION_FACTOR],
      ["stamped", 0],
    ]);
    assert.deepEqual(cluster.partition("fresh", 3).replicas, [1, 2]);
    assert.equal(cluster.partition("stamped", 0).replicas.length, 3);
    // LogAppendTime: the broker's time replaces the producer's.
    const leader = await connectTo(cluster, cluster.node(cluster.partition("stamped", 0).leader));
    const res = await produce(leader, "stamped", 0, [{ value: utf8("s"), timestamp: 5 }]);
    const appendTime = res.responses[0].partitionResponses[0].logAppendTimeMs;
    assert.ok(appendTime > 1_600_000_000_000);
    const stored = cluster.batches("stamped", 0)[0];
    assert.equal(stored.timestampType, "LogAppendTime");
    assert.equal(stored.records[0].timestamp, appendTime);
    await leader.close();

    const md = await metadata(conn);
    const freshId = md.topics.find((t) => t.name === "fresh")!.topicId;
    const deleted = await conn.send(DeleteTopics, {
      topics: [{ name: null, topicId: freshId }, { name: "old" }, { name: "never" }],
      timeoutMs: 1_000,
    });
    assert.deepEqual(deleted.responses.map((t) => [t.name, t.errorCode]), [
      ["fresh", 0],
      ["old", 0],
      ["never", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    assert.deepEqual((await metadata(conn)).topics.map((t) => t.name), ["stamped"]);
  } finally {
    await conn.close();
  }
});

test("MockCluster: unserved group and transaction APIs get a well-formed UNSUPPORTED_VERSION reply", async () => {
  await using cluster = await MockCluster.start({ nodes: 1 });
  const client = new RawClient(await cluster.connector({ host: "mock-broker-1", port: 9092 }));
  try {
    // FindCoordinator v3 (flexible): throttle, error, message, node, host, port.
    await client.send({
      apiKey: 10,
      apiVersion: 3,
      correlationId: 1,
      flexible: true,
      body: (w) => w.compactString("group").int8(0).uvarint(0),
    });
    const r = await client.reply(1, true);
    assert.equal(r.int32(), 0);
    assert.equal(r.int16(), ErrorCode.UNSUPPORTED_VERSION);
    // FindCoordinator v4 echoes every key.
    await client.send({
      apiKey: 10,
      apiVersion: 4,
      correlationId: 2,
      flexible: true,
      body: (w) => w.int8(0).uvarint(3).compactString("a").compactString("b").uvarint(0),
    });
    const r4 = await client.reply(2, true);
    assert.equal(r4.int32(), 0);
    assert.equal(r4.uvarint(), 3);
    assert.equal(r4.compactString(), "a");
    // InitProducerId v0.
    await client.send({
      apiKey: 22,
      apiVersion: 0,
      correlationId: 3,
      body: (w) => w.string(null).int32(1000),
    });
    const ip = await client.reply(3);
    assert.equal(ip.int32(), 0);
    assert.equal(ip.int16(), ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(ip.int64(), -1n);
    await settle();
    assert.equal(cluster.node(1).connections, 1, "the connection stays open");
  } finally {
    client.close();
  }
});

test("MockCluster: a node's handle() answers an API the cluster does not serve", async () => {
  await using cluster = await MockCluster.start({ nodes: 2 });
  cluster.node(2).handle(
    { key: 10, minVersion: 0, maxVersion: 0, firstFlexibleVersion: Infinity },
    () => new Writer().int16(0).int32(2).string("mock-broker-2").int32(9092).finish(),
  );
  const client = new RawClient(await cluster.connector({ host: "mock-broker-2", port: 9092 }));
  try {
    await client.send({ apiKey: 10, apiVersion: 0, correlationId: 1, body: (w) => w.string("g") });
    const r = await client.reply(1);
    assert.deepEqual([r.int16(), r.int32(), r.string()], [0, 2, "mock-broker-2"]);
  } finally {
    client.close();
  }
});

test("MockCluster: MockBroker's faults work per node (closeOnRequest, garbage)", async () => {
  await using cluster = await MockCluster.start({ nodes: 2 });
  cluster.node(1).faults.closeOnRequest(1);
  const two = await connectTo(cluster, cluster.node(2));
  assert.equal((await metadata(two)).brokers.length, 2, "node 2 unaffected");
  const one = new RawClient(await cluster.connector({ host: "mock-broker-1", port: 9092 }));
  try {
    await one.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await one.expectClosed("node 1 closes on its next request");
  } finally {
    one.close();
    await two.close();
  }
  cluster.node(2).faults.garbage(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 99]));
  const raw = new RawClient(await cluster.connector({ host: "mock-broker-2", port: 9092 }));
  try {
    await raw.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    assert.deepEqual([...(await raw.frame())!], [0, 0, 0, 99], "node 2's next reply replaced");
  } finally {
    raw.close();
  }
});
