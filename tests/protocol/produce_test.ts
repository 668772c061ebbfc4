import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Writer } from "../../framing/writer.ts";
import { ConfigError } from "../../transport/errors.ts";
import {
  expectsResponse,
  Produce,
  PRODUCE_KEY,
  type ProduceRequest,
  type ProduceResponse,
} from "../../protocol/produce.ts";
import { decodeRecordBatch, encodeRecordBatch } from "../../protocol/record_batch.ts";
import {
  assertDeclares,
  assertResponseRoundTrips,
  readAll,
  requestRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const batch = encodeRecordBatch({
  timestamp: 1_700_000_000_000,
  records: [{ key: null, value: new TextEncoder().encode("v") }],
});

const request: ProduceRequest = {
  transactionalId: null,
  acks: -1,
  timeoutMs: 30_000,
  topicData: [
    { name: "orders", partitionData: [{ index: 0, records: batch }, { index: 1, records: null }] },
    { name: "audit", partitionData: [] },
  ],
};

function response(v: number): ProduceResponse {
  return {
    responses: [{
      name: "orders",
      partitionResponses: [
        {
          index: 0,
          errorCode: 0,
          baseOffset: 1234n,
          logAppendTimeMs: -1,
          logStartOffset: v >= 5 ? 10n : -1n,
          recordErrors: v >= 8 ? [{ batchIndex: 2, batchIndexErrorMessage: "bad" }] : [],
          errorMessage: v >= 8 ? "dropped" : null,
          currentLeader: null,
        },
        {
          index: 1,
          errorCode: 6,
          baseOffset: -1n,
          logAppendTimeMs: 1_700_000_000_123,
          logStartOffset: -1n,
          recordErrors: [],
          errorMessage: null,
          currentLeader: v >= 10 ? { leaderId: 2, leaderEpoch: 8 } : null,
        },
      ],
    }],
    throttleTimeMs: 4,
    nodeEndpoints: v >= 10 ? [{ nodeId: 2, host: "b2", port: 9093, rack: null }] : [],
  };
}

test("Produce declares key 0, versions 3-11, flexible from 9", () => {
  assertDeclares(Produce, PRODUCE_KEY, [0, 3, 11], 9);
});

test("expectsResponse() is false only for acks=0", () => {
  assert.equal(expectsResponse({ ...request, acks: 0 }), false);
  assert.equal(expectsResponse({ ...request, acks: 1 }), true);
  assert.equal(expectsResponse(request), true);
});

test("Produce request round trips at every version with the batch bytes intact", () => {
  for (const v of versionsOf(Produce)) {
    for (const transactionalId of [null, "tx-1"]) {
      const req = { ...request, transactionalId };
      const { decoded } = requestRoundTrip(Produce, req, v);
      assert.deepEqual(decoded, req, `v${v}`);
      const records = decoded.topicData[0].partitionData[0].records;
      assert.ok(records !== null);
      assert.equal(decodeRecordBatch(records).records.length, 1);
    }
  }
});

test("Produce v3 and v9 requests are byte-exact", () => {
  const small = { acks: 1, timeoutMs: 100, topicData: [{ name: "t", partitionData: [] }] };
  assert.deepEqual(
    requestRoundTrip(Produce, small, 3).bytes,
    new Uint8Array([
      ...[0xff, 0xff], // null transactional id
      ...[0, 1, 0, 0, 0, 100], // acks, timeout
      ...[0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 0], // topic "t", no partitions
    ]),
  );
  const one = {
    ...small,
    topicData: [{ name: "t", partitionData: [{ index: 2, records: null }] }],
  };
  assert.deepEqual(
    requestRoundTrip(Produce, one, 9).bytes,
    new Uint8Array([
      0, // null compact transactional id
      ...[0, 1, 0, 0, 0, 100], // acks, timeout
      ...[2, 2, 0x74], // one topic "t"
      ...[2, 0, 0, 0, 2, 0, 0], // one partition: index 2, null records, tags
      ...[0, 0], // topic tags, request tags
    ]),
  );
});

test("Produce response round trips at every version", () => {
  assertResponseRoundTrips(Produce, response);
});

test("Produce v3 response decodes from hand-built bytes", () => {
  const body = new Uint8Array([
    ...[0, 0, 0, 1, 0, 1, 0x74], // one topic "t"
    ...[0, 0, 0, 1, 0, 0, 0, 0, 0, 3], // one partition, index 0, error 3
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // base offset -1
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // log append time -1
    ...[0, 0, 0, 0], // throttle
  ]);
  const res = readAll(body, (r) => Produce.decodeResponse(r, 3));
  assert.deepEqual(res.responses[0].partitionResponses[0], {
    index: 0,
    errorCode: 3,
    baseOffset: -1n,
    logAppendTimeMs: -1,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: null,
  });
});

test("Produce.expectsResponse() is false only for acks 0", () => {
  assert.equal(Produce.expectsResponse?.({ ...request, acks: 0 }), false);
  assert.equal(Produce.expectsResponse?.({ ...request, acks: 1 }), true);
  assert.equal(Produce.expectsResponse?.({ ...request, acks: -1 }), true);
});

test("Produce request refuses acks and timeoutMs the wire would wrap or zero", () => {
  const encode = (req: unknown) => () =>
    Produce.encodeRequest(new Writer(), req as ProduceRequest, 11);
  for (const acks of [70000, 2, -2, 0.5, undefined, "1", NaN]) {
    assert.throws(
      encode({ ...request, acks }),
      (e) => e instanceof ConfigError && /Produce acks must be -1 .*, 0 .* or 1/.test(e.message),
      `acks ${String(acks)}`,
    );
  }
  for (const timeoutMs of [-1, 1.5, 2 ** 31, undefined, Infinity]) {
    assert.throws(
      encode({ ...request, timeoutMs }),
      (e) => e instanceof ConfigError && /Produce timeoutMs/.test(e.message),
      `timeoutMs ${String(timeoutMs)}`,
    );
  }
  for (const acks of [-1, 0, 1]) {
    for (const timeoutMs of [0, 2 ** 31 - 1]) encode({ ...request, acks, timeoutMs })();
  }
});

test("Produce v9 response skips the tag 0 fields that only v10+ defines", () => {
  const body = new Uint8Array([
    ...[2, 2, 0x74], // one topic "t"
    ...[2, 0, 0, 0, 0, 0, 6], // one partition, index 0, error 6 NOT_LEADER_OR_FOLLOWER
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // base offset -1
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // log append time -1
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // log start offset -1
    ...[1, 0], // no record errors, null error message
    ...[1, 0, 9, 0, 0, 0, 2, 0, 0, 0, 8, 0], // partition tag 0 (9 bytes): leader 2, epoch 8
    0, // topic tags
    ...[0, 0, 0, 0], // throttle
    // top-level tag 0 (13 bytes): one endpoint, node 2, "h", port 9093, rack null, no tags
    ...[1, 0, 13, 2, 0, 0, 0, 2, 2, 0x68, 0, 0, 0x23, 0x85, 0, 0],
  ]);
  // v10 defines both tags: CurrentLeader and NodeEndpoints.
  const v10 = readAll(body, (r) => Produce.decodeResponse(r, 10));
  assert.deepEqual(v10.responses[0].partitionResponses[0].currentLeader, {
    leaderId: 2,
    leaderEpoch: 8,
  });
  assert.deepEqual(v10.nodeEndpoints, [{ nodeId: 2, host: "h", port: 9093, rack: null }]);
  // v9 defines neither, so both are unknown tagged fields and skipped.
  const v9 = readAll(body, (r) => Produce.decodeResponse(r, 9));
  assert.equal(v9.responses[0].partitionResponses[0].currentLeader, null);
  assert.deepEqual(v9.nodeEndpoints, []);
});
