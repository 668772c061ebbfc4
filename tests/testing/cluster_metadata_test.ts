import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ConfigError, ConnectionRefusedError } from "../../transport/errors.ts";
import { MockCluster } from "../../testing/mod.ts";
import { connectTo, metadata } from "./cluster_fixture.ts";

test("MockCluster: every node answers Metadata with the same truthful cluster view", async () => {
  await using cluster = await MockCluster.start({
    nodes: 3,
    topics: [{ name: "orders", partitions: 4 }, {
      name: "single",
      partitions: 1,
      replicationFactor: 1,
    }],
  });
  assert.equal(cluster.bootstrap, "mock-broker-1:9092,mock-broker-2:9092,mock-broker-3:9092");
  for (const node of cluster.nodes) {
    const conn = await connectTo(cluster, node);
    try {
      const md = await metadata(conn);
      assert.equal(md.clusterId, "mock-cluster");
      assert.equal(md.controllerId, 1);
      assert.deepEqual(md.brokers.map((b) => [b.nodeId, b.host, b.port]), [
        [1, "mock-broker-1", 9092],
        [2, "mock-broker-2", 9092],
        [3, "mock-broker-3", 9092],
      ]);
      const orders = md.topics.find((t) => t.name === "orders")!;
      assert.deepEqual(
        orders.partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch]),
        [
          [0, 1, 0],
          [1, 2, 0],
          [2, 3, 0],
          [3, 1, 0],
        ],
      );
      assert.deepEqual(orders.partitions[1].replicaNodes, [2, 3, 1]);
      assert.deepEqual(orders.partitions[1].isrNodes, [2, 3, 1]);
      assert.deepEqual(orders.partitions[1].offlineReplicas, []);
      const single = md.topics.find((t) => t.name === "single")!;
      assert.deepEqual(single.partitions[0].replicaNodes, [1]);
    } finally {
      await conn.close();
    }
  }
  assert.equal(cluster.node(2).requests.some((r) => r.apiKey === 3), true, "per-node request log");
});

test("MockCluster: moveLeader bumps the epoch and Metadata follows", async () => {
  await using cluster = await MockCluster.start({ topics: [{ name: "t", partitions: 1 }] });
  assert.equal(cluster.moveLeader("t", 0), 1);
  assert.equal(cluster.partition("t", 0).leader, 2);
  assert.equal(cluster.moveLeader("t", 0, 1), 2);
  assert.throws(() => cluster.moveLeader("t", 0, 9), ConfigError);
  assert.throws(() => cluster.moveLeader("nope", 0), ConfigError);
  const conn = await connectTo(cluster, cluster.node(3));
  try {
    const p = (await metadata(conn)).topics[0].partitions[0];
    assert.deepEqual([p.leaderId, p.leaderEpoch], [1, 2]);
  } finally {
    await conn.close();
  }
});

test("MockCluster: a stopped node refuses dials, cuts connections, fails over, and comes back", async () => {
  await using cluster = await MockCluster.start({
    topics: [{ name: "t", partitions: 3 }, { name: "solo", partitions: 1, replicationFactor: 1 }],
  });
  const onTwo = await connectTo(cluster, cluster.node(2));
  const closed = new Promise((resolve) =>
    onTwo.onStateChange((c) => c.to === "DOWN" && resolve(c))
  );
  cluster.stopNode(2);
  await closed;
  await onTwo.close();
  assert.equal(cluster.node(2).isRunning, false);
  await assert.rejects(
    cluster.connector({ host: "mock-broker-2", port: 9092 }),
    ConnectionRefusedError,
  );
  const p1 = cluster.partition("t", 1);
  assert.deepEqual([p1.leader, p1.leaderEpoch, p1.isr, p1.offlineReplicas], [3, 1, [3, 1], [2]]);
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    const md = await metadata(conn);
    assert.deepEqual(md.brokers.map((b) => b.nodeId), [1, 3]);
    const part = md.topics.find((t) => t.name === "t")!.partitions[1];
    assert.deepEqual([part.leaderId, part.isrNodes, part.offlineReplicas], [3, [3, 1], [2]]);
    cluster.stopNode(1, { failover: false });
    await assert.rejects(
      cluster.connector({ host: "mock-broker-1", port: 9092 }),
      ConnectionRefusedError,
    );
    assert.equal(cluster.partition("solo", 0).leader, -1);
    assert.equal(cluster.partition("t", 0).leader, -1, "no failover: offline");
    assert.equal(cluster.controllerId, 3);
    const three = await connectTo(cluster, cluster.node(3));
    try {
      const after = await metadata(three);
      const solo = after.topics.find((t) => t.name === "solo")!.partitions[0];
      assert.equal(solo.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
      assert.equal(solo.leaderId, -1);
      assert.equal(after.controllerId, 3);
    } finally {
      await three.close();
    }
    await cluster.startNode(1);
    await cluster.startNode(2);
    assert.equal(cluster.partition("solo", 0).leader, 1, "an offline partition elects its replica");
    assert.equal(cluster.partition("t", 1).leader, 3, "a failed-over partition stays");
    const back = await connectTo(cluster, cluster.node(2));
    assert.deepEqual((await metadata(back)).brokers.map((b) => b.nodeId), [1, 2, 3]);
    await back.close();
  } finally {
    await conn.close();
  }
});

test("MockCluster: advertise() lists a node where it does not listen", async () => {
  await using cluster = await MockCluster.start({
    nodes: 2,
    topics: [{ name: "t", partitions: 2 }],
  });
  cluster.advertise(2);
  const conn = await connectTo(cluster, cluster.node(1));
  try {
    const md = await metadata(conn);
    const two = md.brokers.find((b) => b.nodeId === 2)!;
    assert.deepEqual([two.host, two.port], ["mock-broker-2.invalid", 9092]);
    await assert.rejects(
      cluster.connector({ host: two.host, port: two.port }),
      ConnectionRefusedError,
    );
    // Where it listens it still serves: bootstrap works, the advertised address does not.
    const direct = await connectTo(cluster, cluster.node(2));
    await direct.close();
    cluster.advertise(2, null);
    const fixed = (await metadata(conn)).brokers.find((b) => b.nodeId === 2)!;
    assert.equal(fixed.host, "mock-broker-2");
  } finally {
    await conn.close();
  }
});

test("MockCluster rejects bad options and unknown nodes with ConfigError", async () => {
  await assert.rejects(MockCluster.start({ nodes: 0 }), ConfigError);
  await assert.rejects(
    MockCluster.start({ nodes: 2, topics: [{ name: "t", partitions: 1, replicationFactor: 3 }] }),
    ConfigError,
  );
  await assert.rejects(
    MockCluster.start({ topics: [{ name: "bad name", partitions: 1 }] }),
    ConfigError,
  );
  await using cluster = await MockCluster.start({ nodes: 1 });
  assert.throws(() => cluster.stopNode(7), ConfigError);
});
