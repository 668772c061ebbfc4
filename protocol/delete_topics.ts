/**
 * DeleteTopics (key 20), versions 0–6 (flexible from 4): asks the controller to delete topics,
 * by name up to v5 and by name or topic id from v6. Kafka 4.x refuses v0 (KIP-896).
 *
 * @example
 * ```ts
 * import { DeleteTopics } from "./delete_topics.ts";
 * import { Writer } from "../framing/writer.ts";
 * DeleteTopics.encodeRequest(new Writer(), { topics: [{ name: "orders" }], timeoutMs: 30_000 }, 6);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import { ConfigError } from "../transport/errors.ts";
import type { ServerApiSpec } from "./api.ts";
import {
  readCount,
  readNullableString,
  readString,
  skipTags,
  writeCount,
  writeNoTags,
  writeString,
} from "./flexible.ts";
import { ZERO_UUID } from "./uuid.ts";
import { checkInt, INT32_MAX } from "./validate.ts";

/** The API key of DeleteTopics. */
export const DELETE_TOPICS_KEY = 20;

const FIRST_FLEXIBLE = 4;
/** The first version that can name a topic by id. */
const FIRST_TOPIC_ID = 6;

/** One topic to delete: by name, or (v6+) by id with a `null` name. */
export interface DeleteTopicState {
  /** The topic name, or `null` (v6+) to delete by `topicId`. */
  name: string | null;
  /** The topic id (v6+); the zero UUID or omitted when deleting by name. */
  topicId?: Uint8Array;
}

/** A DeleteTopics request. */
export interface DeleteTopicsRequest {
  /** The topics to delete. */
  topics: DeleteTopicState[];
  /** How long the controller may take before answering REQUEST_TIMED_OUT. */
  timeoutMs: number;
}

/** The result for one topic. */
export interface DeletableTopicResult {
  /** The topic name; `null` (v6+) for an unknown topic asked for by id. */
  name: string | null;
  /** The topic id (v6+); the zero UUID below v6. */
  topicId: Uint8Array;
  /** 0, or e.g. 3 UNKNOWN_TOPIC_OR_PARTITION. */
  errorCode: number;
  /** Why it failed (v5+), or `null`. */
  errorMessage: string | null;
}

/** A DeleteTopics response. */
export interface DeleteTopicsResponse {
  /** How long the broker throttled the request (v1+). */
  throttleTimeMs: number;
  /** One result per topic. */
  responses: DeletableTopicResult[];
}

/** The DeleteTopics codec, versions 0–6 (flexible from 4, topic ids from 6). */
export const DeleteTopics: ServerApiSpec<DeleteTopicsRequest, DeleteTopicsResponse> = {
  key: DELETE_TOPICS_KEY,
  name: "DeleteTopics",
  minVersion: 0,
  maxVersion: 6,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: DeleteTopicsRequest, version: number): void {
    checkInt(request.timeoutMs, "DeleteTopics timeoutMs", 0, INT32_MAX, "(milliseconds)");
    const flexible = version >= FIRST_FLEXIBLE;
    writeCount(w, flexible, request.topics.length);
    for (const t of request.topics) {
      if (version >= FIRST_TOPIC_ID) {
        writeString(w, flexible, t.name);
        w.uuid(t.topicId ?? ZERO_UUID);
        writeNoTags(w, flexible);
      } else if (t.name === null) {
        throw new ConfigError(
          `DeleteTopics v${version} deletes topics by name only: a topic by id (name null) ` +
            "needs v6+, check the version negotiated with the broker",
        );
      } else {
        writeString(w, flexible, t.name);
      }
    }
    w.int32(request.timeoutMs);
    writeNoTags(w, flexible);
  },

  decodeRequest(r: Reader, version: number): DeleteTopicsRequest {
    const flexible = version >= FIRST_FLEXIBLE;
    const n = readCount(r, flexible, "topics");
    const topics = new Array<DeleteTopicState>(n);
    for (let i = 0; i < n; i++) {
      if (version >= FIRST_TOPIC_ID) {
        const name = readNullableString(r, flexible, "topics.name");
        const topicId = r.uuid("topics.topic_id");
        skipTags(r, flexible, "topics.tagged_fields");
        topics[i] = { name, topicId };
      } else {
        topics[i] = { name: readString(r, flexible, "topic_names"), topicId: ZERO_UUID };
      }
    }
    const timeoutMs = r.int32("timeout_ms");
    skipTags(r, flexible, "tagged_fields");
    return { topics, timeoutMs };
  },

  encodeResponse(w: Writer, response: DeleteTopicsResponse, version: number): void {
    const flexible = version >= FIRST_FLEXIBLE;
    if (version >= 1) w.int32(response.throttleTimeMs);
    writeCount(w, flexible, response.responses.length);
    for (const t of response.responses) {
      if (t.name === null && version < FIRST_TOPIC_ID) {
        throw new ConfigError(
          `DeleteTopics v${version} response topics need a name: a null name needs v6+`,
        );
      }
      writeString(w, flexible, t.name);
      if (version >= FIRST_TOPIC_ID) w.uuid(t.topicId);
      w.int16(t.errorCode);
      if (version >= 5) writeString(w, flexible, t.errorMessage);
      writeNoTags(w, flexible);
    }
    writeNoTags(w, flexible);
  },

  decodeResponse(r: Reader, version: number): DeleteTopicsResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const throttleTimeMs = version >= 1 ? r.int32("throttle_time_ms") : 0;
    const n = readCount(r, flexible, "responses");
    const responses = new Array<DeletableTopicResult>(n);
    for (let i = 0; i < n; i++) {
      const name = version >= FIRST_TOPIC_ID
        ? readNullableString(r, flexible, "responses.name")
        : readString(r, flexible, "responses.name");
      const topicId = version >= FIRST_TOPIC_ID ? r.uuid("responses.topic_id") : ZERO_UUID;
      const errorCode = r.int16("responses.error_code");
      const errorMessage = version >= 5
        ? readNullableString(r, flexible, "responses.error_message")
        : null;
      skipTags(r, flexible, "responses.tagged_fields");
      responses[i] = { name, topicId, errorCode, errorMessage };
    }
    skipTags(r, flexible, "tagged_fields");
    return { throttleTimeMs, responses };
  },
};
