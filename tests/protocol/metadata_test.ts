import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ConfigError } from "../../transport/errors.ts";
import { Writer } from "../../framing/writer.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  Metadata,
  METADATA_KEY,
  type MetadataPartition,
  type MetadataRequest,
  type MetadataResponse,
} from "../../protocol/metadata.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import {
  assertDeclares,
  assertResponseRoundTrips,
  bytesOf,
  readAll,
  requestRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const topicId = new Uint8Array(16).map((_, i) => i + 1);

function response(v: number): MetadataResponse {
  return {
    throttleTimeMs: 3,
    brokers: [
      { nodeId: 1, host: "127.0.0.1", port: 9092, rack: "r1" },
      { nodeId: 2, host: "broker-2", port: 9093, rack: null },
    ],
    clusterId: "MkU3OEVBNTcwNTJENDM2Qg",
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: "orders",
        topicId: v >= 10 ? topicId : ZERO_UUID,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: 1,
            leaderEpoch: v >= 7 ? 5 : -1,
            replicaNodes: [1, 2],
            isrNodes: [1],
            offlineReplicas: v >= 5 ? [2] : [],
          },
          {
            errorCode: 5,
            partitionIndex: 1,
            leaderId: -1,
            leaderEpoch: -1,
            replicaNodes: [],
            isrNodes: [],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: v >= 8 ? 0x0ff8 : AUTHORIZED_OPERATIONS_OMITTED,
      },
      {
        errorCode: 3,
        name: v >= 12 ? null : "missing",
        topicId: ZERO_UUID,
        isInternal: true,
        partitions: [],
        topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      },
    ],
    clusterAuthorizedOperations: v >= 8 && v <= 10 ? 0x1f : AUTHORIZED_OPERATIONS_OMITTED,
  };
}

test("Metadata declares key 3, versions 4-12, flexible from 9", () => {
  assertDeclares(Metadata, METADATA_KEY, [3, 4, 12], 9);
});

test("Metadata request round trips at every version, null meaning all topics", () => {
  for (const v of versionsOf(Metadata)) {
    for (const topics of [null, [], [{ name: "orders", topicId: ZERO_UUID }]]) {
      const req: MetadataRequest = {
        topics,
        allowAutoTopicCreation: true,
        includeClusterAuthorizedOperations: v >= 8 && v <= 10,
        includeTopicAuthorizedOperations: v >= 8,
      };
      assert.deepEqual(requestRoundTrip(Metadata, req, v).decoded, req, `v${v}`);
    }
  }
});

test("Metadata v12 request can ask for a topic by id only", () => {
  const req = { topics: [{ name: null, topicId }], allowAutoTopicCreation: false };
  const { decoded } = requestRoundTrip(Metadata, req, 12);
  assert.deepEqual(decoded.topics, [{ name: null, topicId }]);
});

test("Metadata request below v10 refuses a topic without a name", () => {
  const req = { topics: [{ name: null, topicId }], allowAutoTopicCreation: false };
  assert.throws(() => Metadata.encodeRequest(new Writer(), req, 9), ConfigError);
});

test("Metadata v4 request is byte-exact", () => {
  const req = { topics: [{ name: "t" }], allowAutoTopicCreation: false };
  assert.deepEqual(
    requestRoundTrip(Metadata, req, 4).bytes,
    new Uint8Array([0, 0, 0, 1, 0, 1, 0x74, 0]),
  );
  assert.deepEqual(
    requestRoundTrip(Metadata, { topics: null, allowAutoTopicCreation: true }, 9).bytes,
    new Uint8Array([0, 1, 0, 0, 0]), // null compact array, auto-create, no topic ops, tags
  );
});

test("Metadata response round trips at every version", () => {
  assertResponseRoundTrips(Metadata, response);
});

test("Metadata v9 response skips tagged fields it does not know", () => {
  const body = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    2, // one broker
    ...[0, 0, 0, 1, 2, 0x68, 0, 0, 0x23, 0x84, 0], // node 1, host "h", port 9092, rack null
    ...[1, 5, 2, 0xaa, 0xbb], // broker tagged fields: one unknown field (tag 5, 2 bytes)
    0, // cluster id null
    ...[0, 0, 0, 1], // controller
    1, // no topics
    ...[0x80, 0, 0, 0], // cluster authorized operations (v8-10): omitted
    ...[1, 9, 1, 0], // top-level tagged fields: unknown tag 9
  ]);
  const res = readAll(body, (r) => Metadata.decodeResponse(r, 9));
  assert.deepEqual(res.brokers, [{ nodeId: 1, host: "h", port: 9092, rack: null }]);
  assert.equal(res.clusterId, null);
  assert.equal(res.controllerId, 1);
  assert.deepEqual(res.topics, []);
});

/** A Metadata v4 or v5 response body, written out by hand from MetadataResponse.json. */
function metadataV4V5Body(version: 4 | 5): Uint8Array {
  return new Uint8Array([
    ...[0, 0, 0, 7], // throttle_time_ms 7
    ...[0, 0, 0, 1], // one broker
    ...[0, 0, 0, 1, 0, 1, 0x68, 0, 0, 0x23, 0x84, 0xff, 0xff], // node 1, "h", 9092, rack null
    ...[0, 1, 0x63], // cluster_id "c"
    ...[0, 0, 0, 1], // controller_id 1
    ...[0, 0, 0, 1], // one topic
    ...[0, 0, 0, 1, 0x74, 0], // error 0, name "t", not internal
    ...[0, 0, 0, 1], // one partition
    ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 1], // error 0, index 0, leader 1 (no leader_epoch below v7)
    ...[0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2], // replica_nodes [1, 2]
    ...[0, 0, 0, 1, 0, 0, 0, 1], // isr_nodes [1]
    // offline_replicas [2] exists from v5 only; no topic_authorized_operations below v8.
    ...(version >= 5 ? [0, 0, 0, 1, 0, 0, 0, 2] : []),
  ]);
}

test("Metadata v4 response decodes from hand-built bytes, without offline replicas", () => {
  const body = metadataV4V5Body(4);
  const res = readAll(body, (r) => Metadata.decodeResponse(r, 4));
  assert.equal(res.throttleTimeMs, 7);
  assert.deepEqual(res.brokers, [{ nodeId: 1, host: "h", port: 9092, rack: null }]);
  assert.equal(res.clusterId, "c");
  assert.equal(res.controllerId, 1);
  assert.equal(res.clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  assert.equal(res.topics.length, 1);
  const t = res.topics[0];
  assert.equal(t.name, "t");
  assert.deepEqual(t.topicId, ZERO_UUID);
  assert.equal(t.topicAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
  const expected: MetadataPartition = {
    errorCode: 0,
    partitionIndex: 0,
    leaderId: 1,
    leaderEpoch: -1,
    replicaNodes: [1, 2],
    isrNodes: [1],
    offlineReplicas: [],
  };
  assert.deepEqual(t.partitions, [expected]);
  // The encoder writes the same bytes back, and leaves offline replicas out at v4 even if set.
  assert.deepEqual(bytesOf((w) => Metadata.encodeResponse(w, res, 4)), body);
  t.partitions[0].offlineReplicas = [2];
  assert.deepEqual(bytesOf((w) => Metadata.encodeResponse(w, res, 4)), body);
});

test("Metadata v5 response reads offline replicas from hand-built bytes", () => {
  const body = metadataV4V5Body(5);
  const res = readAll(body, (r) => Metadata.decodeResponse(r, 5));
  assert.deepEqual(res.topics[0].partitions[0].offlineReplicas, [2]);
  assert.deepEqual(bytesOf((w) => Metadata.encodeResponse(w, res, 5)), body);
});

test("Metadata v10 topic ids are copies that do not pin the response frame", () => {
  const res = response(10);
  const frame = bytesOf((w) => Metadata.encodeResponse(w, res, 10));
  const decoded = readAll(frame, (r) => Metadata.decodeResponse(r, 10));
  const id = decoded.topics[0].topicId;
  assert.deepEqual(id, topicId);
  assert.notEqual(id.buffer, frame.buffer);
  assert.equal(id.buffer.byteLength, 16);
});

test("Metadata response below v12 refuses a topic without a name", () => {
  const res = response(12); // its second topic has a null name
  assert.throws(
    () => Metadata.encodeResponse(new Writer(), res, 11),
    (e) => e instanceof ConfigError && /v12/.test(e.message),
  );
  assert.ok(bytesOf((w) => Metadata.encodeResponse(w, res, 12)).length > 0);
});
