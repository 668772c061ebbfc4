import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Writer } from "../../framing/writer.ts";
import { ConfigError } from "../../transport/errors.ts";
import {
  LIST_OFFSETS_KEY,
  ListOffsets,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from "../../protocol/list_offsets.ts";
import {
  assertDeclares,
  assertResponseRoundTrips,
  assertTruncationsFail,
  bytesOf,
  readAll,
  requestRoundTrip,
  versionsOf,
} from "./codec_check.ts";

function request(v: number): ListOffsetsRequest {
  return {
    replicaId: -1,
    isolationLevel: v >= 2 ? 1 : 0,
    topics: [{
      name: "orders",
      partitions: [
        {
          partitionIndex: 0,
          currentLeaderEpoch: v >= 4 ? 7 : -1,
          timestamp: -1n,
          maxNumOffsets: 1,
        },
        {
          partitionIndex: 3,
          currentLeaderEpoch: -1,
          timestamp: 1_700_000_000_000n,
          maxNumOffsets: 1,
        },
      ],
    }],
    timeoutMs: v >= 10 ? 1_234 : 30_000,
  };
}

function response(v: number): ListOffsetsResponse {
  return {
    throttleTimeMs: v >= 2 ? 9 : 0,
    topics: [{
      name: "orders",
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        oldStyleOffsets: v === 0 ? [42n, 0n] : [],
        timestamp: v === 0 ? -1n : 1_700_000_000_001n,
        offset: v === 0 ? -1n : 42n,
        leaderEpoch: v >= 4 ? 7 : -1,
      }, {
        partitionIndex: 1,
        errorCode: 6,
        oldStyleOffsets: [],
        timestamp: -1n,
        offset: -1n,
        leaderEpoch: -1,
      }],
    }],
  };
}

test("ListOffsets declares key 2, versions 0-10, flexible from 6", () => {
  assertDeclares(ListOffsets, LIST_OFFSETS_KEY, [2, 0, 10], 6);
});

test("ListOffsets request and response round trip at every version", () => {
  for (const v of versionsOf(ListOffsets)) {
    assert.deepEqual(requestRoundTrip(ListOffsets, request(v), v).decoded, request(v), `v${v}`);
  }
  assertResponseRoundTrips(ListOffsets, response);
});

test("ListOffsets v1 request matches hand-written bytes", () => {
  const bytes = bytesOf((w) =>
    ListOffsets.encodeRequest(w, {
      topics: [{ name: "t", partitions: [{ partitionIndex: 2, timestamp: -2n }] }],
    }, 1)
  );
  assert.deepEqual(
    bytes,
    new Uint8Array([
      ...[0xff, 0xff, 0xff, 0xff], // replica id -1
      ...[0, 0, 0, 1, 0, 1, 0x74], // one topic "t"
      ...[0, 0, 0, 1, 0, 0, 0, 2], // one partition, index 2
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], // timestamp -2 (earliest)
    ]),
  );
});

test("ListOffsets v10 request carries the leader epoch, tags and the timeout", () => {
  const bytes = bytesOf((w) =>
    ListOffsets.encodeRequest(w, {
      isolationLevel: 1,
      topics: [{
        name: "t",
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -1n }],
      }],
      timeoutMs: 100,
    }, 10)
  );
  assert.deepEqual(
    bytes,
    new Uint8Array([
      ...[0xff, 0xff, 0xff, 0xff, 1], // replica id -1, READ_COMMITTED
      ...[2, 2, 0x74], // compact: one topic "t"
      ...[2, 0, 0, 0, 0, 0, 0, 0, 5], // one partition, index 0, epoch 5
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0], // timestamp -1, partition tags
      0, // topic tags
      ...[0, 0, 0, 100, 0], // timeout, top-level tags
    ]),
  );
});

test("ListOffsets v0 response reads old-style offsets; v4 reads offset, timestamp and epoch", () => {
  const v0 = readAll(
    new Uint8Array([
      ...[0, 0, 0, 1, 0, 1, 0x74], // one topic "t"
      ...[0, 0, 0, 1, 0, 0, 0, 0, 0, 0], // one partition 0, error 0
      ...[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9], // offsets [9]
    ]),
    (r) => ListOffsets.decodeResponse(r, 0),
  );
  assert.deepEqual(v0.topics[0].partitions[0].oldStyleOffsets, [9n]);
  const v4Bytes = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    ...[0, 0, 0, 1, 0, 1, 0x74],
    ...[0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
    ...[0, 0, 0, 0, 0, 0, 0, 5], // timestamp 5
    ...[0, 0, 0, 0, 0, 0, 0, 3], // offset 3
    ...[0, 0, 0, 2], // leader epoch 2
  ]);
  const p = readAll(v4Bytes, (r) => ListOffsets.decodeResponse(r, 4)).topics[0].partitions[0];
  assert.deepEqual([p.timestamp, p.offset, p.leaderEpoch], [5n, 3n, 2]);
  assertTruncationsFail(v4Bytes, (r) => ListOffsets.decodeResponse(r, 4));
});

test("ListOffsets request refuses an isolation level or timeout the wire would wrap", () => {
  const encode = (extra: Partial<ListOffsetsRequest>) => () =>
    ListOffsets.encodeRequest(new Writer(), { topics: [], ...extra }, 10);
  assert.throws(encode({ isolationLevel: 2 }), ConfigError);
  assert.throws(encode({ timeoutMs: -1 }), ConfigError);
});
