import assert from "node:assert/strict";
import { Cluster } from "../../cluster/cluster.ts";
import { BrokerDecommissionedError, ClusterRequestError } from "../../cluster/errors.ts";
import type { ClusterEvent } from "../../cluster/events.ts";
import { parseBootstrap } from "../../cluster/options.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Produce } from "../../protocol/produce.ts";
import { encodeRecordBatch } from "../../protocol/record_batch.ts";
import { ConfigError } from "../../transport/errors.ts";
import { openCluster, requestsOf, startMock } from "./fixture.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { test } from "../harness.ts";
import { produceOne } from "./traffic.ts";

function events(cluster: Cluster): ClusterEvent[] {
  const seen: ClusterEvent[] = [];
  cluster.on((e) => seen.push(e));
  return seen;
}

test("parseBootstrap takes a comma list or an array, IPv6 in brackets, and names bad entries", () => {
  assert.deepEqual(parseBootstrap("a:1, b:2,a:1"), [{ host: "a", port: 1 }, {
    host: "b",
    port: 2,
  }]);
  assert.deepEqual(parseBootstrap(["[::1]:9092", "SASL_SSL://h:9093"]), [
    { host: "::1", port: 9092 },
    { host: "h", port: 9093 },
  ]);
  assert.throws(() => parseBootstrap("nohost"), ConfigError);
  assert.throws(() => parseBootstrap("h:0"), /port in 1\.\.65535/);
  assert.throws(() => parseBootstrap(""), /at least one bootstrap server/);
});

test("a new cluster connects nowhere; the first request dials one bootstrap broker only", async () => {
  const mini = await startMock({ t: 3 });
  try {
    const dialled: string[] = [];
    const cluster = new Cluster({
      bootstrap: mini.bootstrap,
      connector: (o) => {
        dialled.push(o.host);
        return mini.connector(o);
      },
      random: () => 0,
    });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(dialled, []);
    const seen = events(cluster);
    const topic = await cluster.topicMetadata("t");
    assert.equal(topic.partitions.length, 3);
    assert.deepEqual(dialled, ["mock-broker-1"]);
    const brokers = cluster.brokers();
    assert.deepEqual(brokers.map((b) => [b.nodeId, b.learned]), [[1, true], [2, true], [3, true]]);
    assert.equal(seen.filter((e) => e.type === "broker-added").length, 3);
    const purged = seen.filter((e) => e.type === "broker-decommissioned");
    assert.equal(purged.length, 3, "every bootstrap entry is dropped once learned brokers exist");
    assert.ok(purged.every((e) => e.nodeId < 0));
    assert.equal(cluster.clusterId, "mock-cluster");
    assert.equal(cluster.controllerId, 1);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("bootstrap entries are tried in turn from a random start", async () => {
  const mini = await startMock({ t: 1 });
  try {
    mini.stopNode(2);
    // Start at the second entry (broker 2, down): the third answers.
    const cluster = new Cluster({
      bootstrap: mini.bootstrap,
      connector: mini.connector,
      random: () => 0.4,
      connection: { reconnectBackoffMs: 1, reconnectBackoffMaxMs: 1 },
    });
    const seen = events(cluster);
    await cluster.refreshMetadata();
    const refreshed = seen.find((e) => e.type === "metadata-refreshed");
    assert.ok(refreshed?.type === "metadata-refreshed");
    assert.equal(refreshed.nodeId, -3);
    assert.ok(seen.some((e) => e.type === "broker-unreachable" && e.nodeId === -2));
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("concurrent refreshes share one Metadata request", async () => {
  const mini = await startMock({ a: 1, b: 1 });
  try {
    await using cluster = new Cluster({ bootstrap: mini.bootstrap, connector: mini.connector });
    await cluster.topicMetadata("a");
    const before = requestsOf(mini, Metadata.key);
    await Promise.all(Array.from({ length: 20 }, () => cluster.refreshMetadata()));
    const after = requestsOf(mini, Metadata.key);
    assert.ok(after - before <= 2, `20 concurrent refreshes sent ${after - before} requests`);
    assert.ok(cluster.stats().metadataRefreshesShared >= 18);
  } finally {
    await mini.close();
  }
});

test("a broker replaced while a request is parked on it fails that request retriably", async () => {
  const mini = await startMock({ t: 3 });
  try {
    await using cluster = new Cluster({ bootstrap: mini.bootstrap, connector: mini.connector });
    const info = await cluster.topicMetadata("t");
    // A long poll parked on node 3 (leader of partition 2).
    const fetch = cluster.send(Fetch, {
      maxWaitMs: 20_000,
      minBytes: 1,
      topics: [{
        topicId: info.topicId,
        partitions: [{ partition: 2, fetchOffset: 0n, partitionMaxBytes: 1024 }],
      }],
    }, { route: { kind: "node", nodeId: 3 }, retry: false, timeoutMs: 25_000 });
    const settled = fetch.then(() => "resolved", (e) => e);
    for (
      let i = 0;
      i < 50 && cluster.brokers().find((b) => b.nodeId === 3)?.fetchState !== "UP";
      i++
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 20));
    const seen = events(cluster);
    mini.advertise(3, { host: "moved.example", port: 9092 });
    await cluster.refreshMetadata();
    const error = await settled;
    assert.ok(error instanceof ClusterRequestError, String(error));
    assert.ok(error.cause instanceof BrokerDecommissionedError);
    assert.equal(error.retriable, true);
    assert.equal(error.mayHaveReached, true);
    assert.ok(seen.some((e) => e.type === "broker-replaced" && e.nodeId === 3));
    assert.ok(seen.some((e) => e.type === "broker-decommissioned" && e.nodeId === 3));
  } finally {
    await mini.close();
  }
});

test("a stopped node leaves Metadata and is decommissioned", async () => {
  const mini = await startMock({ t: 3 });
  try {
    const { cluster, events: seen } = openCluster(mini);
    await cluster.refreshMetadata();
    await (await cluster.nodeConnection(3)).connect();
    mini.stopNode(3);
    await cluster.refreshMetadata();
    assert.ok(seen.some((e) => e.type === "broker-decommissioned" && e.nodeId === 3));
    assert.deepEqual(cluster.brokers().map((b) => b.nodeId), [1, 2]);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("a broker whose address changed is replaced", async () => {
  const mini = await startMock({ t: 1 });
  try {
    await using cluster = new Cluster({ bootstrap: mini.bootstrap, connector: mini.connector });
    await cluster.refreshMetadata();
    const seen = events(cluster);
    mini.advertise(2, { host: "mock-broker-2-renamed", port: 9092 });
    await cluster.refreshMetadata();
    const replaced = seen.find((e) => e.type === "broker-replaced");
    assert.ok(replaced?.type === "broker-replaced");
    assert.equal(replaced.nodeId, 2);
    assert.match(replaced.to, /renamed/);
  } finally {
    await mini.close();
  }
});

test("a long-poll Fetch does not hold a Produce to the same broker", async () => {
  const mini = await startMock({ t: 1 });
  try {
    await using cluster = new Cluster({ bootstrap: mini.bootstrap, connector: mini.connector });
    const info = await cluster.topicMetadata("t");
    const leader = info.partitions[0].leaderId;
    const fetch = cluster.send(Fetch, {
      maxWaitMs: 5000,
      minBytes: 1,
      topics: [{
        topicId: info.topicId,
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }],
      }],
    }, { route: { kind: "leader", topic: "t", partition: 0 } });
    let fetched = false;
    fetch.then(() => (fetched = true), () => (fetched = true));
    await new Promise((r) => setTimeout(r, 30));
    const started = performance.now();
    const reply = await cluster.send(Produce, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{
        name: "t",
        partitionData: [{
          index: 0,
          records: encodeRecordBatch({ records: [{ value: null }], timestamp: 0 }),
        }],
      }],
    }, { route: { kind: "leader", topic: "t", partition: 0 } });
    assert.equal(reply.nodeId, leader);
    assert.equal(reply.response.responses[0].partitionResponses[0].errorCode, 0);
    assert.ok(
      performance.now() - started < 1000,
      "the Produce was answered while the poll was parked",
    );
    assert.equal(fetched, false, "the long poll is still parked");
    const stats = cluster.stats().brokers.find((b) => b.nodeId === leader)!;
    assert.ok(stats.main !== null && stats.fetch !== null, "two connections to the leader");
    await cluster.close(false);
    await fetch.catch(() => {});
  } finally {
    await mini.close();
  }
});

test("produce through a cluster acks each record once and reads back", async () => {
  const mini = await startMock({ t: 6 });
  try {
    await using cluster = new Cluster({ bootstrap: mini.bootstrap, connector: mini.connector });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => produceOne(cluster, "t", i % 6, `v${i}`)),
    );
    assert.ok(outcomes.every((o) => o.ok));
    let total = 0n;
    for (let p = 0; p < 6; p++) total += mini.partition("t", p).highWatermark;
    assert.equal(total, 60n);
  } finally {
    await mini.close();
  }
});
