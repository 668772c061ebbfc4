import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Writer } from "../../framing/writer.ts";
import { ConfigError } from "../../transport/errors.ts";
import {
  CREATE_TOPICS_KEY,
  CreateTopics,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
} from "../../protocol/create_topics.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import {
  assertDeclares,
  assertResponseRoundTrips,
  readAll,
  requestRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const request: CreateTopicsRequest = {
  topics: [
    {
      name: "orders",
      numPartitions: 3,
      replicationFactor: 1,
      assignments: [],
      configs: [{ name: "cleanup.policy", value: "compact" }, { name: "x", value: null }],
    },
    {
      name: "placed",
      numPartitions: -1,
      replicationFactor: -1,
      assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
      configs: [],
    },
  ],
  timeoutMs: 30_000,
  validateOnly: true,
};

function response(v: number): CreateTopicsResponse {
  const flexible = v >= 5;
  return {
    throttleTimeMs: 12,
    topics: [
      {
        name: "orders",
        topicId: v >= 7 ? new Uint8Array(16).fill(3) : ZERO_UUID,
        errorCode: 0,
        errorMessage: null,
        topicConfigErrorCode: 0,
        numPartitions: flexible ? 3 : -1,
        replicationFactor: flexible ? 1 : -1,
        configs: flexible
          ? [{
            name: "cleanup.policy",
            value: "compact",
            readOnly: false,
            configSource: 1,
            isSensitive: false,
          }, {
            name: "secret",
            value: null,
            readOnly: true,
            configSource: 5,
            isSensitive: true,
          }]
          : null,
      },
      {
        name: "placed",
        topicId: ZERO_UUID,
        errorCode: 36,
        errorMessage: "Topic 'placed' already exists.",
        topicConfigErrorCode: flexible ? 29 : 0,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      },
    ],
  };
}

test("CreateTopics declares key 19, versions 2-7, flexible from 5", () => {
  assertDeclares(CreateTopics, CREATE_TOPICS_KEY, [19, 2, 7], 5);
});

test("CreateTopics request round trips at every version", () => {
  for (const v of versionsOf(CreateTopics)) {
    assert.deepEqual(requestRoundTrip(CreateTopics, request, v).decoded, request, `v${v}`);
  }
});

test("CreateTopics request fills in omitted assignments, configs and validateOnly", () => {
  const minimal = { topics: [{ name: "t", numPartitions: 1, replicationFactor: 1 }], timeoutMs: 5 };
  assert.deepEqual(
    requestRoundTrip(CreateTopics, minimal, 2).bytes,
    new Uint8Array([
      ...[0, 0, 0, 1], // one topic
      ...[0, 1, 0x74], // "t"
      ...[0, 0, 0, 1, 0, 1], // 1 partition, replication factor 1
      ...[0, 0, 0, 0, 0, 0, 0, 0], // no assignments, no configs
      ...[0, 0, 0, 5, 0], // timeout 5, validateOnly false
    ]),
  );
});

test("CreateTopics response round trips at every version", () => {
  assertResponseRoundTrips(CreateTopics, response);
});

test("CreateTopics v5 response reads the topic config error from tagged field 0", () => {
  const body = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    2, // one topic
    ...[2, 0x74], // "t"
    ...[0, 0], // error code
    0, // null error message
    ...[0, 0, 0, 1, 0, 1], // partitions, replication factor
    0, // null configs
    ...[2, 0, 2, 0, 29, 4, 1, 0], // tag 0 = 29; unknown tag 4
    0, // top-level tags
  ]);
  const res = readAll(body, (r) => CreateTopics.decodeResponse(r, 5));
  assert.equal(res.topics[0].topicConfigErrorCode, 29);
  assert.equal(res.topics[0].configs, null);
});

test("CreateTopics request refuses counts and timeouts the wire would wrap, naming the field", () => {
  const encode = (topic: Record<string, unknown>, top: Record<string, unknown> = {}) => () =>
    CreateTopics.encodeRequest(
      new Writer(),
      {
        topics: [{ name: "t", numPartitions: 1, replicationFactor: 1, ...topic }],
        timeoutMs: 30_000,
        ...top,
      } as CreateTopicsRequest,
      7,
    );
  for (const numPartitions of [0, -2, 1.5, 2 ** 31, undefined]) {
    assert.throws(
      encode({ numPartitions }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith('CreateTopics numPartitions of "t" must be -1') &&
        /from 1 to 2147483647/.test(e.message),
      `numPartitions ${String(numPartitions)}`,
    );
  }
  for (const replicationFactor of [70000, 0, 32768, undefined]) {
    assert.throws(
      encode({ replicationFactor }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith('CreateTopics replicationFactor of "t" must be -1') &&
        /from 1 to 32767/.test(e.message),
      `replicationFactor ${String(replicationFactor)}`,
    );
  }
  for (const timeoutMs of [-1, 0.5, undefined]) {
    assert.throws(
      encode({}, { timeoutMs }),
      (e) => e instanceof ConfigError && /CreateTopics timeoutMs/.test(e.message),
      `timeoutMs ${String(timeoutMs)}`,
    );
  }
  encode({ numPartitions: -1, replicationFactor: -1 }, { timeoutMs: 0 })();
  encode({ numPartitions: 2 ** 31 - 1, replicationFactor: 32767 })();
});
