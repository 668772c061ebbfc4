import assert from "node:assert/strict";
import { ClusterRequestError } from "../../cluster/errors.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { Produce } from "../../protocol/produce.ts";
import { encodeRecordBatch } from "../../protocol/record_batch.ts";
import { openCluster as open, requestsOf, startMock } from "./fixture.ts";
import { SettlingFakeClock } from "../fixtures/fake_clock.ts";
import { test } from "../harness.ts";
import { produceOne, readValues } from "./traffic.ts";

/** A seeded generator (LCG), so a failing run can be repeated. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const record = () => encodeRecordBatch({ records: [{ value: null }], timestamp: Date.now() });

test("a KIP-951 hint moves the partition at once, without a Metadata request", async () => {
  const mini = await startMock({ t: 3 });
  try {
    const { cluster, events } = open(mini);
    await cluster.topicMetadata("t");
    const from = mini.partition("t", 0).leader;
    const to = from === 3 ? 1 : from + 1;
    mini.moveLeader("t", 0, to);
    const metadataBefore = requestsOf(mini, Metadata.key);
    const reply = await cluster.send(Produce, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: "t", partitionData: [{ index: 0, records: record() }] }],
    }, { route: { kind: "leader", topic: "t", partition: 0 } });
    assert.equal(reply.nodeId, from, "the first attempt went to the old leader");
    assert.deepEqual(reply.partitionErrors, [{
      topic: "t",
      partition: 0,
      errorCode: 6,
      hinted: true,
    }]);
    assert.deepEqual(reply.leaderChanges, [{ topic: "t", partition: 0, from, to, epoch: 1 }]);
    assert.equal(cluster.cachedTopic("t")!.partitions[0].leaderId, to);
    const again = await produceOne(cluster, "t", 0, "x");
    assert.ok(again.ok && again.attempts === 1);
    assert.equal(requestsOf(mini, Metadata.key), metadataBefore, "no Metadata request was needed");
    assert.ok(events.some((e) => e.type === "leader-moved" && e.source === "hint"));
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("NOT_LEADER without a hint forgets the leader and a fast refresh finds the new one", async () => {
  const mini = await startMock({ t: 3 });
  try {
    const { cluster, events } = open(mini);
    await cluster.topicMetadata("t");
    // The leader refuses once without a hint, as a broker before KIP-951 would.
    mini.node(mini.partition("t", 1).leader).faults.error(Produce.key, 6);
    const outcome = await produceOne(cluster, "t", 1, "y");
    assert.ok(outcome.ok, "acked after the refresh");
    assert.equal(outcome.attempts, 2);
    assert.ok(events.some((e) => e.type === "leader-moved" && e.source === "error" && e.to === -1));
    assert.ok(
      events.some((e) => e.type === "metadata-refreshed" && e.reasons.includes("error-code")),
    );
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("300 random leader moves, with and without hints: every record acked once, refreshes bounded", async () => {
  const mini = await startMock({ t: 6 });
  try {
    const { cluster } = open(mini);
    const random = seeded(11);
    await cluster.topicMetadata("t");
    const before = requestsOf(mini, Metadata.key);
    let unhinted = 0;
    for (let i = 0; i < 300; i++) {
      const p = Math.floor(random() * 6);
      const old = mini.partition("t", p).leader;
      if (random() < 0.5) {
        // The old leader's refusal carries no hint this time: only Metadata can tell.
        unhinted++;
        mini.node(old).faults.error(Produce.key, 6);
      }
      const to = 1 + Math.floor(random() * 3);
      if (to !== old) mini.moveLeader("t", p, to);
      const outcome = await produceOne(cluster, "t", p, `m${i}`, { retryBackoffMs: 0 });
      assert.ok(outcome.ok, `record ${i} failed: ${!outcome.ok && outcome.error.message}`);
    }
    let total = 0n;
    for (let p = 0; p < 6; p++) total += mini.partition("t", p).highWatermark;
    assert.equal(total, 300n, "each record appended exactly once");
    const refreshes = requestsOf(mini, Metadata.key) - before;
    assert.ok(
      refreshes <= unhinted + 5,
      `${refreshes} Metadata requests for ${unhinted} unhinted moves`,
    );
    const values = (await Promise.all([0, 1, 2, 3, 4, 5].map((p) => readValues(cluster, "t", p))))
      .flat();
    assert.equal(new Set(values).size, 300);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("a stopped leader: parked requests settle once, produce reaches the new leaders", async () => {
  const mini = await startMock({ t: 6 });
  try {
    const { cluster, events } = open(mini);
    const info = await cluster.topicMetadata("t");
    const victim = info.partitions[0].leaderId;
    // A long poll on the victim, not safe to resend: must fail once, typed and ambiguous.
    const parked = cluster.send(Fetch, {
      maxWaitMs: 10_000,
      minBytes: 1,
      topics: [{
        topicId: info.topicId,
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }],
      }],
    }, { route: { kind: "leader", topic: "t", partition: 0 }, retry: false });
    let settlements = 0;
    const settled = parked.then(() => ++settlements, (e) => (++settlements, e));
    await new Promise((r) => setTimeout(r, 30));
    mini.stopNode(victim);
    const error = await settled;
    assert.ok(error instanceof ClusterRequestError && error.retriable && error.mayHaveReached);
    const outcomes = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((p) => produceOne(cluster, "t", p, `s${p}`)),
    );
    assert.ok(outcomes.every((o) => o.ok));
    assert.ok(cluster.cachedTopic("t")!.partitions.every((p) => p.leaderId !== victim));
    assert.ok(
      events.some((e) => e.type === "metadata-refreshed" && e.reasons.includes("connection-lost")),
    );
    assert.equal(settlements, 1);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("NOT_CONTROLLER: the controller is forgotten, Metadata names the new one, the request follows", async () => {
  const mini = await startMock();
  try {
    const { cluster, events } = open(mini);
    await cluster.refreshMetadata();
    assert.equal(cluster.controllerId, 1);
    // Node 1 refuses once as a broker that stopped being the controller would.
    mini.node(1).faults.error(CreateTopics.key, 41);
    const reply = await cluster.send(CreateTopics, {
      topics: [{ name: "new", numPartitions: 2, replicationFactor: 3 }],
      timeoutMs: 1000,
    }, { route: { kind: "controller" } });
    assert.equal(reply.response.topics[0].errorCode, 0);
    assert.equal(reply.attempts, 2);
    assert.ok(events.some((e) => e.type === "controller-changed" && e.to === -1));
    assert.equal(cluster.controllerId, 1, "Metadata named the controller again");
    assert.ok(
      events.some((e) => e.type === "metadata-refreshed" && e.reasons.includes("not-controller")),
    );
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("the controller node stopped: controller-routed requests follow the new controller", async () => {
  const mini = await startMock();
  try {
    const { cluster } = open(mini);
    await cluster.refreshMetadata();
    assert.equal(cluster.controllerId, 1);
    await (await cluster.controllerConnection()).connect();
    mini.stopNode(1);
    const reply = await cluster.send(CreateTopics, {
      topics: [{ name: "after", numPartitions: 1, replicationFactor: 2 }],
      timeoutMs: 1000,
    }, { route: { kind: "controller" } });
    assert.equal(reply.response.topics[0].errorCode, 0);
    assert.equal(reply.nodeId, 2);
    assert.equal(cluster.controllerId, 2);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("an advertised host that does not resolve is reported with the advertised.listeners hint", async () => {
  const mini = await startMock({ t: 3 });
  try {
    mini.advertise(3);
    const { cluster, events } = open(mini, {
      resolve: (host) =>
        host.endsWith(".invalid")
          ? Promise.reject(new Error("no such host"))
          : Promise.resolve([host]),
      sendTimeoutMs: 300,
    });
    await cluster.refreshMetadata();
    await assert.rejects(
      cluster.send(Metadata, { topics: [], allowAutoTopicCreation: false }, {
        route: { kind: "node", nodeId: 3 },
      }),
      (e: ClusterRequestError) => e.cause?.constructor.name === "AddressResolutionError",
    );
    const report = events.find((e) => e.type === "broker-unreachable" && e.nodeId === 3);
    assert.ok(report?.type === "broker-unreachable");
    assert.equal(
      report.hint,
      "broker 3 advertises mock-broker-3.invalid:9092, which does not resolve from here: check " +
        "advertised.listeners, or map it with mapAddress",
    );
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("mapAddress redirects an advertised address to the one to dial", async () => {
  const mini = await startMock({ t: 3 });
  try {
    mini.advertise(3, { host: "private-3.internal", port: 9092 });
    const { cluster } = open(mini, {
      mapAddress: (a) =>
        a.host === "private-3.internal" ? { host: "mock-broker-3", port: a.port } : null,
    });
    await cluster.refreshMetadata();
    const reply = await cluster.send(Metadata, { topics: [], allowAutoTopicCreation: false }, {
      route: { kind: "node", nodeId: 3 },
    });
    assert.equal(reply.nodeId, 3);
    assert.equal(cluster.brokers().find((b) => b.nodeId === 3)!.host, "private-3.internal");
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("no broker usable for rebootstrapAfterMs: the bootstrap list is used again", async () => {
  const mini = await startMock({ t: 1 });
  try {
    const { cluster, events } = open(mini, { rebootstrapAfterMs: 30, sendTimeoutMs: 200 });
    await cluster.refreshMetadata();
    assert.ok(cluster.brokers().every((b) => b.learned), "bootstrap entries were dropped");
    for (const id of [1, 2, 3]) mini.stopNode(id);
    await assert.rejects(cluster.refreshMetadata());
    await new Promise((r) => setTimeout(r, 40));
    for (const id of [1, 2, 3]) await mini.startNode(id);
    await cluster.refreshMetadata();
    assert.ok(events.some((e) => e.type === "rebootstrap"));
    assert.equal(cluster.stats().rebootstraps, 1);
    await cluster.close();
  } finally {
    await mini.close();
  }
});

test("on a fake clock: background refresh every interval, stale topics refreshed before use", async () => {
  const mini = await startMock({ t: 2 });
  const clock = new SettlingFakeClock();
  try {
    const { cluster, events } = open(mini, {
      clock,
      metadataRefreshIntervalMs: 60_000,
      metadataMaxAgeMs: 90_000,
    });
    await cluster.topicMetadata("t");
    const reasons = () =>
      events.flatMap((e) => e.type === "metadata-refreshed" ? [e.reasons.join("+")] : []);
    assert.deepEqual(reasons(), ["first-use"]);
    await clock.advance(59_999);
    assert.deepEqual(reasons(), ["first-use"], "nothing before the interval");
    await clock.advance(1);
    assert.deepEqual(reasons(), ["first-use", "interval"]);
    await clock.advance(60_000);
    assert.deepEqual(reasons(), ["first-use", "interval", "interval"]);
    // With the interval off, a topic older than metadataMaxAgeMs is refreshed when used.
    const { cluster: lazy, events: lazyEvents } = open(mini, {
      clock,
      metadataRefreshIntervalMs: 0,
      metadataMaxAgeMs: 90_000,
    });
    await lazy.topicMetadata("t");
    await clock.advance(89_000);
    await lazy.topicMetadata("t");
    await clock.advance(1_000);
    await lazy.topicMetadata("t");
    assert.deepEqual(
      lazyEvents.flatMap((e) => e.type === "metadata-refreshed" ? [e.reasons.join("+")] : []),
      ["first-use", "max-age"],
    );
    await lazy.close();
    await cluster.close();
  } finally {
    await mini.close();
  }
});
