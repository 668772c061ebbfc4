import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Writer } from "../../framing/writer.ts";
import { ConfigError } from "../../transport/errors.ts";
import {
  DELETE_TOPICS_KEY,
  DeleteTopics,
  type DeleteTopicsResponse,
} from "../../protocol/delete_topics.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import {
  assertDeclares,
  assertResponseRoundTrips,
  assertTruncationsFail,
  bytesOf,
  readAll,
  requestRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const ID = new Uint8Array(16).fill(7);

function response(v: number): DeleteTopicsResponse {
  return {
    throttleTimeMs: v >= 1 ? 3 : 0,
    responses: [
      { name: "orders", topicId: v >= 6 ? ID : ZERO_UUID, errorCode: 0, errorMessage: null },
      {
        name: v >= 6 ? null : "gone",
        topicId: ZERO_UUID,
        errorCode: v >= 6 ? 100 : 3,
        errorMessage: v >= 5 ? "This server does not host this topic." : null,
      },
    ],
  };
}

test("DeleteTopics declares key 20, versions 0-6, flexible from 4", () => {
  assertDeclares(DeleteTopics, DELETE_TOPICS_KEY, [20, 0, 6], 4);
});

test("DeleteTopics request and response round trip at every version", () => {
  for (const v of versionsOf(DeleteTopics)) {
    const req = {
      topics: v >= 6
        ? [{ name: "orders", topicId: ZERO_UUID }, { name: null, topicId: ID }]
        : [{ name: "orders", topicId: ZERO_UUID }],
      timeoutMs: 500,
    };
    assert.deepEqual(requestRoundTrip(DeleteTopics, req, v).decoded, req, `v${v}`);
  }
  assertResponseRoundTrips(DeleteTopics, response);
});

test("DeleteTopics v1 and v6 requests match hand-written bytes", () => {
  assert.deepEqual(
    bytesOf((w) => DeleteTopics.encodeRequest(w, { topics: [{ name: "t" }], timeoutMs: 9 }, 1)),
    new Uint8Array([...[0, 0, 0, 1, 0, 1, 0x74], ...[0, 0, 0, 9]]),
  );
  assert.deepEqual(
    bytesOf((w) =>
      DeleteTopics.encodeRequest(w, { topics: [{ name: null, topicId: ID }], timeoutMs: 9 }, 6)
    ),
    new Uint8Array([2, 0, ...ID, 0, ...[0, 0, 0, 9], 0]),
  );
});

test("DeleteTopics v6 response reads a null name and the topic id", () => {
  const bytes = new Uint8Array([
    ...[0, 0, 0, 0], // throttle
    2, // one result
    0, // null name
    ...ID,
    ...[0, 100], // UNKNOWN_TOPIC_ID
    ...[3, 0x6e, 0x6f], // message "no"
    0, // result tags
    0, // top-level tags
  ]);
  const res = readAll(bytes, (r) => DeleteTopics.decodeResponse(r, 6));
  assert.deepEqual(res.responses[0], {
    name: null,
    topicId: ID,
    errorCode: 100,
    errorMessage: "no",
  });
  assertTruncationsFail(bytes, (r) => DeleteTopics.decodeResponse(r, 6));
});

test("DeleteTopics below v6 refuses a topic by id; timeouts are checked", () => {
  assert.throws(
    () =>
      DeleteTopics.encodeRequest(new Writer(), {
        topics: [{ name: null, topicId: ID }],
        timeoutMs: 1,
      }, 5),
    (e) => e instanceof ConfigError && /needs v6\+/.test(e.message),
  );
  assert.throws(
    () => DeleteTopics.encodeRequest(new Writer(), { topics: [], timeoutMs: -5 }, 6),
    ConfigError,
  );
});
