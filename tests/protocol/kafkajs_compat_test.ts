/**
 * Checks the classic (non-flexible) layouts against kafkajs, an independent implementation:
 * our requests must be byte-identical to its requests, and its decoders must read our server
 * side's responses.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import createTopicsV2 from "kafkajs/src/protocol/requests/createTopics/v2/request.js";
import fetchV4 from "kafkajs/src/protocol/requests/fetch/v4/request.js";
import fetchV11 from "kafkajs/src/protocol/requests/fetch/v11/request.js";
import fetchV11Response from "kafkajs/src/protocol/requests/fetch/v11/response.js";
import metadataV4 from "kafkajs/src/protocol/requests/metadata/v4/request.js";
import metadataV6Response from "kafkajs/src/protocol/requests/metadata/v6/response.js";
import produceV3 from "kafkajs/src/protocol/requests/produce/v3/request.js";
import produceV7Response from "kafkajs/src/protocol/requests/produce/v7/response.js";
import { test } from "../harness.ts";
import type { ServerApiSpec } from "../../protocol/api.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Fetch } from "../../protocol/fetch.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { Produce } from "../../protocol/produce.ts";
import { encodeRecordBatch } from "../../protocol/record_batch.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import { bytesOf } from "./codec_check.ts";

type KafkajsRequest = (args: Record<string, unknown>) => {
  encode(): Promise<{ buffer: Uint8Array }>;
};
// deno-lint-ignore no-explicit-any
type KafkajsDecoder = { decode(raw: Buffer): Promise<any> };

async function kafkajsBytes(request: unknown, args: Record<string, unknown>): Promise<Uint8Array> {
  const encoder = await (request as KafkajsRequest)(args).encode();
  return new Uint8Array(encoder.buffer);
}

function kafkajsDecode(decoder: unknown, bytes: Uint8Array): Promise<Record<string, unknown>> {
  return (decoder as KafkajsDecoder).decode(Buffer.from(bytes));
}

function encodeRequest<Req>(api: ServerApiSpec<Req, unknown>, req: Req, v: number): Uint8Array {
  return bytesOf((w) => api.encodeRequest(w, req, v));
}

const T0 = 1_700_000_000_000;
const utf8 = new TextEncoder();

test("Produce v3 request matches kafkajs byte for byte", async () => {
  const theirs = await kafkajsBytes(produceV3, {
    acks: -1,
    timeout: 30_000,
    topicData: [{
      topic: "orders",
      partitions: [{
        partition: 2,
        messages: [
          { key: Buffer.from("k"), value: Buffer.from("v1"), timestamp: T0 },
          {
            key: null,
            value: Buffer.from("v2"),
            timestamp: T0 + 5,
            headers: { h: Buffer.from("x") },
          },
        ],
      }],
    }],
  });
  // kafkajs writes producer epoch, base sequence and leader epoch 0 for non-idempotent batches.
  const records = encodeRecordBatch({
    producerEpoch: 0,
    baseSequence: 0,
    partitionLeaderEpoch: 0,
    records: [
      { key: utf8.encode("k"), value: utf8.encode("v1"), timestamp: T0 },
      {
        key: null,
        value: utf8.encode("v2"),
        timestamp: T0 + 5,
        headers: [{ key: "h", value: utf8.encode("x") }],
      },
    ],
  });
  const ours = encodeRequest(Produce, {
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: "orders", partitionData: [{ index: 2, records }] }],
  }, 3);
  assert.deepEqual(ours, theirs);
});

test("Fetch v4 and v11 requests match kafkajs byte for byte", async () => {
  const partitions = [{ partition: 0, fetchOffset: "42", maxBytes: 1_048_576 }];
  const theirs4 = await kafkajsBytes(fetchV4, {
    replicaId: -1,
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 10_485_760,
    isolationLevel: 1,
    topics: [{ topic: "orders", partitions }],
  });
  const req = {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 10_485_760,
    isolationLevel: 1,
    topics: [{
      topic: "orders",
      partitions: [{ partition: 0, fetchOffset: 42n, partitionMaxBytes: 1_048_576 }],
    }],
  };
  assert.deepEqual(encodeRequest(Fetch, req, 4), theirs4);

  const theirs11 = await kafkajsBytes(fetchV11, {
    replicaId: -1,
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 10_485_760,
    isolationLevel: 1,
    sessionId: 5,
    sessionEpoch: 2,
    rackId: "rack-a",
    topics: [{ topic: "orders", partitions: [{ ...partitions[0], currentLeaderEpoch: 7 }] }],
    forgottenTopics: [{ topic: "old", partitions: [1, 3] }],
  });
  const req11 = {
    ...req,
    sessionId: 5,
    sessionEpoch: 2,
    rackId: "rack-a",
    topics: [{
      topic: "orders",
      partitions: [{
        partition: 0,
        currentLeaderEpoch: 7,
        fetchOffset: 42n,
        partitionMaxBytes: 1_048_576,
      }],
    }],
    forgottenTopicsData: [{ topic: "old", partitions: [1, 3] }],
  };
  assert.deepEqual(encodeRequest(Fetch, req11, 11), theirs11);
});

test("Metadata v4 request matches kafkajs byte for byte", async () => {
  const theirs = await kafkajsBytes(metadataV4, {
    topics: ["a", "bb"],
    allowAutoTopicCreation: false,
  });
  const ours = encodeRequest(Metadata, {
    topics: [{ name: "a" }, { name: "bb" }],
    allowAutoTopicCreation: false,
  }, 4);
  assert.deepEqual(ours, theirs);
  // kafkajs sends an empty list as a null array, which is how v1+ asks for all topics.
  const all = await kafkajsBytes(metadataV4, { topics: [], allowAutoTopicCreation: true });
  assert.deepEqual(encodeRequest(Metadata, { topics: null, allowAutoTopicCreation: true }, 4), all);
});

test("CreateTopics v2 request matches kafkajs byte for byte", async () => {
  const theirs = await kafkajsBytes(createTopicsV2, {
    timeout: 5000,
    validateOnly: false,
    topics: [{
      topic: "t",
      numPartitions: 3,
      replicationFactor: 1,
      configEntries: [{ name: "retention.ms", value: "1000" }],
    }, {
      topic: "u",
      replicaAssignment: [{ partition: 0, replicas: [1, 2] }],
    }],
  });
  const ours = encodeRequest(CreateTopics, {
    timeoutMs: 5000,
    topics: [{
      name: "t",
      numPartitions: 3,
      replicationFactor: 1,
      configs: [{ name: "retention.ms", value: "1000" }],
    }, {
      name: "u",
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
    }],
  }, 2);
  assert.deepEqual(ours, theirs);
});

test("kafkajs decodes our Metadata v6 response", async () => {
  const bytes = bytesOf((w) =>
    Metadata.encodeResponse(w, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "127.0.0.1", port: 9092, rack: null }],
      clusterId: "c1",
      controllerId: 1,
      topics: [{
        errorCode: 0,
        name: "orders",
        topicId: ZERO_UUID,
        isInternal: false,
        partitions: [{
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: -1,
          replicaNodes: [1],
          isrNodes: [1],
          offlineReplicas: [],
        }],
        topicAuthorizedOperations: 0,
      }],
      clusterAuthorizedOperations: 0,
    }, 6)
  );
  const decoded = await kafkajsDecode(metadataV6Response, bytes);
  assert.deepEqual(decoded.brokers, [{ nodeId: 1, host: "127.0.0.1", port: 9092, rack: null }]);
  assert.equal(decoded.clusterId, "c1");
  assert.deepEqual(decoded.topicMetadata, [{
    topicErrorCode: 0,
    topic: "orders",
    isInternal: false,
    partitionMetadata: [{
      partitionErrorCode: 0,
      partitionId: 0,
      leader: 1,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
    }],
  }]);
});

test("kafkajs decodes our Produce v7 response", async () => {
  const bytes = bytesOf((w) =>
    Produce.encodeResponse(w, {
      responses: [{
        name: "orders",
        partitionResponses: [{
          index: 2,
          errorCode: 0,
          baseOffset: 1234n,
          logAppendTimeMs: -1,
          logStartOffset: 0n,
          recordErrors: [],
          errorMessage: null,
          currentLeader: null,
        }],
      }],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    }, 7)
  );
  const decoded = await kafkajsDecode(produceV7Response, bytes);
  assert.deepEqual(decoded.topics, [{
    topicName: "orders",
    partitions: [{
      partition: 2,
      errorCode: 0,
      baseOffset: "1234",
      logAppendTime: "-1",
      logStartOffset: "0",
    }],
  }]);
});

test("kafkajs decodes our Fetch v11 response and the record batch inside it", async () => {
  const records = encodeRecordBatch({
    baseOffset: 10n,
    timestamp: T0,
    records: [
      { key: utf8.encode("k"), value: utf8.encode("one") },
      { key: null, value: utf8.encode("two"), headers: [{ key: "h", value: utf8.encode("x") }] },
    ],
  });
  const bytes = bytesOf((w) =>
    Fetch.encodeResponse(w, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 9,
      responses: [{
        topic: "orders",
        topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 0,
          errorCode: 0,
          highWatermark: 12n,
          lastStableOffset: 12n,
          logStartOffset: 0n,
          divergingEpoch: null,
          currentLeader: null,
          snapshotId: null,
          abortedTransactions: [],
          preferredReadReplica: -1,
          records,
        }],
      }],
      nodeEndpoints: [],
    }, 11)
  );
  const decoded = await kafkajsDecode(fetchV11Response, bytes);
  assert.equal(decoded.sessionId, 9);
  // deno-lint-ignore no-explicit-any
  const partition = (decoded.responses as any)[0].partitions[0];
  assert.equal(partition.highWatermark, "12");
  const messages = partition.messages as {
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer;
    headers: Record<string, Buffer>;
  }[];
  assert.deepEqual(messages.map((m) => m.offset), ["10", "11"]);
  assert.deepEqual(messages.map((m) => m.timestamp), [String(T0), String(T0)]);
  assert.equal(messages[0].key?.toString(), "k");
  assert.equal(messages[1].key, null);
  assert.deepEqual(messages.map((m) => m.value.toString()), ["one", "two"]);
  assert.equal(messages[1].headers.h.toString(), "x");
});
