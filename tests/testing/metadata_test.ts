import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Metadata, type MetadataRequest, type MetadataResponse } from "../../protocol/metadata.ts";
import { isZeroUuid } from "../../protocol/uuid.ts";
import { MockBroker } from "../../testing/mod.ts";
import { dial } from "./dial.ts";
import type { RawClient } from "./raw_client.ts";

async function metadata(
  client: RawClient,
  version: number,
  correlationId: number,
  request: MetadataRequest,
): Promise<MetadataResponse> {
  const flexible = version >= Metadata.firstFlexibleVersion;
  await client.send({
    apiKey: Metadata.key,
    apiVersion: version,
    correlationId,
    flexible,
    body: (w) => Metadata.encodeRequest(w, request, version),
  });
  const r = await client.reply(correlationId, flexible);
  const res = Metadata.decodeResponse(r, version);
  assert.equal(r.remaining, 0, "no bytes may follow the Metadata body");
  return res;
}

const ALL_TOPICS: MetadataRequest = { topics: null, allowAutoTopicCreation: false };

test("MockBroker answers Metadata v12 as a one-broker cluster leading every partition", async () => {
  await using broker = await MockBroker.start({
    nodeId: 7,
    clusterId: "test-cluster",
    topics: [{ name: "orders", partitions: 3 }, { name: "audit", partitions: 1 }],
  });
  const client = await dial(broker);
  try {
    const res = await metadata(client, 12, 1, ALL_TOPICS);
    assert.deepEqual(res.brokers, [{
      nodeId: 7,
      host: broker.host,
      port: broker.port,
      rack: null,
    }]);
    assert.equal(res.clusterId, "test-cluster");
    assert.equal(res.controllerId, 7);
    assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [
      ["orders", 0, 3],
      ["audit", 0, 1],
    ]);
    const [orders] = res.topics;
    assert.ok(!isZeroUuid(orders.topicId), "v10+ topics carry a non-zero topic id");
    assert.deepEqual(orders.partitions[2], {
      errorCode: 0,
      partitionIndex: 2,
      leaderId: 7,
      leaderEpoch: 0,
      replicaNodes: [7],
      isrNodes: [7],
      offlineReplicas: [],
    });
    const again = await metadata(client, 12, 2, ALL_TOPICS);
    assert.deepEqual(again.topics[0].topicId, orders.topicId, "topic ids are stable");
  } finally {
    client.close();
  }
});

test("MockBroker answers Metadata v4 for named topics, unknown ones with UNKNOWN_TOPIC_OR_PARTITION", async () => {
  await using broker = await MockBroker.start({ topics: [{ name: "orders", partitions: 2 }] });
  const client = await dial(broker);
  try {
    const res = await metadata(client, 4, 1, {
      topics: [{ name: "missing" }, { name: "orders" }],
      allowAutoTopicCreation: true,
    });
    assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [
      ["missing", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      ["orders", 0, 2],
    ]);
    assert.deepEqual(broker.requests.map((r) => [r.apiKey, r.apiVersion]), [[3, 4]]);
  } finally {
    client.close();
  }
});

test("MockBroker answers Metadata v10 by topic id", async () => {
  await using broker = await MockBroker.start({ topics: [{ name: "orders", partitions: 1 }] });
  const client = await dial(broker);
  try {
    const { topics: [known] } = await metadata(client, 10, 1, ALL_TOPICS);
    const unknownId = new Uint8Array(16).fill(9);
    const res = await metadata(client, 10, 2, {
      topics: [{ name: null, topicId: known.topicId }, { name: null, topicId: unknownId }],
      allowAutoTopicCreation: false,
    });
    assert.deepEqual(res.topics.map((t) => [t.name, t.errorCode]), [
      ["orders", 0],
      ["", ErrorCode.UNKNOWN_TOPIC_ID],
    ]);
    assert.deepEqual(res.topics[1].topicId, unknownId);
  } finally {
    client.close();
  }
});

test("MockBroker faults.error puts the code on every Metadata topic", async () => {
  await using broker = await MockBroker.start({ topics: [{ name: "orders", partitions: 2 }] });
  broker.faults.error(3, ErrorCode.LEADER_NOT_AVAILABLE);
  const client = await dial(broker);
  try {
    const failed = await metadata(client, 12, 1, ALL_TOPICS);
    assert.deepEqual(failed.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [
      ["orders", ErrorCode.LEADER_NOT_AVAILABLE, 0],
    ]);
    const ok = await metadata(client, 12, 2, ALL_TOPICS);
    assert.deepEqual(ok.topics.map((t) => [t.errorCode, t.partitions.length]), [[0, 2]]);
  } finally {
    client.close();
  }
});

test("MockBroker closes the connection on a Metadata version outside its range", async () => {
  await using broker = await MockBroker.start();
  for (const version of [3, 13]) {
    const client = await dial(broker);
    try {
      await client.send({
        apiKey: 3,
        apiVersion: version,
        correlationId: 1,
        body: (w) => w.int32(-1),
      });
      await client.expectClosed(`Metadata v${version} is not advertised`);
    } finally {
      client.close();
    }
  }
});
