import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ConfigError } from "../../transport/errors.ts";
import { Writer } from "../../framing/writer.ts";
import { Fetch, FETCH_KEY, type FetchRequest, type FetchResponse } from "../../protocol/fetch.ts";
import { decodeRecordBatches, encodeRecordBatch } from "../../protocol/record_batch.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import {
  assertDeclares,
  assertTruncationsFail,
  readAll,
  requestRoundTrip,
  responseRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const topicId = new Uint8Array(16).map((_, i) => 0xa0 + i);
const batch = encodeRecordBatch({
  timestamp: 1_700_000_000_000,
  baseOffset: 42n,
  records: [{ key: null, value: new TextEncoder().encode("v") }],
});

function request(v: number): FetchRequest {
  const byId = v >= 13;
  return {
    clusterId: v >= 12 ? "cluster-1" : null,
    replicaId: v <= 14 ? 3 : -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    isolationLevel: 1,
    sessionId: v >= 7 ? 77 : 0,
    sessionEpoch: v >= 7 ? 3 : -1,
    topics: [{
      topic: byId ? "" : "orders",
      topicId: byId ? topicId : ZERO_UUID,
      partitions: [{
        partition: 0,
        currentLeaderEpoch: v >= 9 ? 5 : -1,
        fetchOffset: 42n,
        lastFetchedEpoch: v >= 12 ? 4 : -1,
        logStartOffset: v >= 5 ? 0n : -1n,
        partitionMaxBytes: 1_048_576,
      }],
    }],
    forgottenTopicsData: v >= 7
      ? [{ topic: byId ? "" : "old", topicId: byId ? topicId : ZERO_UUID, partitions: [1, 2] }]
      : [],
    rackId: v >= 11 ? "rack-a" : "",
  };
}

function response(v: number): FetchResponse {
  const flexible = v >= 12;
  const byId = v >= 13;
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: v >= 7 ? 77 : 0,
    responses: [{
      topic: byId ? "" : "orders",
      topicId: byId ? topicId : ZERO_UUID,
      partitions: [
        {
          partitionIndex: 0,
          errorCode: 0,
          highWatermark: 43n,
          lastStableOffset: 43n,
          logStartOffset: v >= 5 ? 0n : -1n,
          divergingEpoch: null,
          currentLeader: null,
          snapshotId: null,
          abortedTransactions: [{ producerId: 9n, firstOffset: 40n }],
          preferredReadReplica: v >= 11 ? 2 : -1,
          records: batch,
        },
        {
          partitionIndex: 1,
          errorCode: 6,
          highWatermark: -1n,
          lastStableOffset: -1n,
          logStartOffset: -1n,
          divergingEpoch: flexible ? { epoch: 3, endOffset: 100n } : null,
          currentLeader: flexible ? { leaderId: 2, leaderEpoch: 9 } : null,
          snapshotId: flexible ? { endOffset: 50n, epoch: 2 } : null,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: null,
        },
      ],
    }],
    nodeEndpoints: v >= 16 ? [{ nodeId: 2, host: "b2", port: 9093, rack: "r" }] : [],
  };
}

test("Fetch declares key 1, versions 4-17, flexible from 12", () => {
  assertDeclares(Fetch, FETCH_KEY, [1, 4, 17], 12);
});

test("Fetch request round trips at every version, by name to v12 and by id from v13", () => {
  for (const v of versionsOf(Fetch)) {
    const req = request(v);
    assert.deepEqual(requestRoundTrip(Fetch, req, v).decoded, req, `v${v}`);
  }
});

test("Fetch request fills in omitted optional fields", () => {
  const minimal = {
    maxWaitMs: 100,
    minBytes: 1,
    topics: [{ topic: "t", partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 9 }] }],
  };
  assert.deepEqual(
    requestRoundTrip(Fetch, minimal, 4).bytes,
    new Uint8Array([
      ...[0xff, 0xff, 0xff, 0xff], // replica id -1
      ...[0, 0, 0, 100, 0, 0, 0, 1], // max wait, min bytes
      ...[0x7f, 0xff, 0xff, 0xff, 0], // max bytes, isolation level
      ...[0, 0, 0, 1, 0, 1, 0x74], // one topic "t"
      ...[0, 0, 0, 1, 0, 0, 0, 0], // one partition, index 0
      ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], // fetch offset 0, partition max bytes 9
    ]),
  );
  const decoded = requestRoundTrip(Fetch, minimal, 12).decoded;
  assert.equal(decoded.clusterId, null);
  assert.equal(decoded.sessionEpoch, -1);
  assert.deepEqual(decoded.forgottenTopicsData, []);
  assert.equal(decoded.topics[0].partitions[0].lastFetchedEpoch, -1);
});

test("Fetch request says which of topic and topicId its version needs", () => {
  const byName = {
    maxWaitMs: 1,
    minBytes: 1,
    topics: [{ topic: "t", partitions: [] }],
  };
  assert.throws(
    () => Fetch.encodeRequest(new Writer(), byName, 13),
    (e) => e instanceof ConfigError && /identifies topics by id/.test(e.message),
  );
  const byId = { maxWaitMs: 1, minBytes: 1, topics: [{ topicId, partitions: [] }] };
  assert.throws(
    () => Fetch.encodeRequest(new Writer(), byId, 12),
    (e) => e instanceof ConfigError && /identifies topics by name/.test(e.message),
  );
});

test("Fetch response round trips at every version and its records decode", () => {
  for (const v of versionsOf(Fetch)) {
    const res = response(v);
    const { decoded, bytes } = responseRoundTrip(Fetch, res, v);
    assert.deepEqual(decoded, res, `v${v}`);
    const records = decoded.responses[0].partitions[0].records;
    assert.ok(records !== null);
    assert.deepEqual(decodeRecordBatches(records)[0].records.map((r) => r.offset), [42n]);
    assertTruncationsFail(bytes, (r) => Fetch.decodeResponse(r, v));
  }
});

test("Fetch v4 response decodes from hand-built bytes", () => {
  const body = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    ...[0, 0, 0, 1, 0, 1, 0x74], // one topic "t"
    ...[0, 0, 0, 1, 0, 0, 0, 0, 0, 1], // one partition, index 0, error 1
    ...[0, 0, 0, 0, 0, 0, 0, 5], // high watermark 5
    ...[0, 0, 0, 0, 0, 0, 0, 5], // last stable offset 5
    ...[0xff, 0xff, 0xff, 0xff], // null aborted transactions
    ...[0, 0, 0, 0], // empty records
  ]);
  const res = readAll(body, (r) => Fetch.decodeResponse(r, 4));
  const p = res.responses[0].partitions[0];
  assert.equal(res.responses[0].topic, "t");
  assert.equal(p.errorCode, 1);
  assert.equal(p.highWatermark, 5n);
  assert.equal(p.abortedTransactions, null);
  assert.deepEqual(p.records, new Uint8Array(0));
});

test("Fetch request refuses limits the wire would wrap or zero, naming the field", () => {
  const encode = (fields: Record<string, unknown>) => () =>
    Fetch.encodeRequest(new Writer(), { ...request(12), ...fields } as FetchRequest, 12);
  const cases: [string, unknown][] = [
    ["maxWaitMs", -1],
    ["maxWaitMs", undefined],
    ["maxWaitMs", 0.5],
    ["minBytes", 2 ** 31],
    ["minBytes", undefined],
    ["maxBytes", -5],
    ["maxBytes", NaN],
    ["isolationLevel", 2],
  ];
  for (const [field, value] of cases) {
    assert.throws(
      encode({ [field]: value }),
      (e) => e instanceof ConfigError && e.message.startsWith(`Fetch ${field} must be`),
      `${field} ${String(value)}`,
    );
  }
  const partition = { partition: 0, fetchOffset: 0n, partitionMaxBytes: 2 ** 32 };
  assert.throws(
    encode({ topics: [{ topic: "t", partitions: [partition] }] }),
    (e) => e instanceof ConfigError && /Fetch partitionMaxBytes/.test(e.message),
  );
  // The bounds themselves, and omitted optional limits, are fine.
  encode({ maxWaitMs: 0, minBytes: 0, maxBytes: 2 ** 31 - 1, isolationLevel: 0 })();
  encode({ maxBytes: undefined, isolationLevel: undefined })();
});

test("Fetch v12-15 response skips the top-level tag 0 that only v16+ defines", () => {
  const body = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    ...[0, 0, 0, 0, 0, 0], // error 0, session 0
    1, // no topics
    // tag 0 (13 bytes): one endpoint, node 2, "h", port 9093, rack null, no tags
    ...[1, 0, 13, 2, 0, 0, 0, 2, 2, 0x68, 0, 0, 0x23, 0x85, 0, 0],
  ]);
  const endpoint = { nodeId: 2, host: "h", port: 9093, rack: null };
  assert.deepEqual(readAll(body, (r) => Fetch.decodeResponse(r, 16)).nodeEndpoints, [endpoint]);
  for (const v of [12, 15]) {
    assert.deepEqual(readAll(body, (r) => Fetch.decodeResponse(r, v)).nodeEndpoints, [], `v${v}`);
  }
});
