/**
 * The APIs an embedded cluster does not serve but still answers: the entry points of consumer
 * groups (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, ListGroups) and of
 * idempotent and transactional producers (InitProducerId, EndTxn). They are not advertised in
 * ApiVersions; a client that sends one anyway gets a well-formed reply carrying
 * UNSUPPORTED_VERSION instead of a hang or a dropped connection. Layouts follow the official
 * schemas, every version.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { Writer } from "../framing/writer.ts";
import { ErrorCode } from "../protocol/errors.ts";
import {
  readCount,
  readString,
  writeBytes,
  writeCount,
  writeString,
} from "../protocol/flexible.ts";
import type { MockApi } from "./handler.ts";

/** One unserved API: its framing facts and how to write its error reply. */
interface Unserved extends MockApi {
  /** Writes the reply body carrying `code`; may read the request to echo its keys. */
  readonly reply: (
    w: Writer,
    version: number,
    flexible: boolean,
    code: number,
    body: Reader,
  ) => void;
}

function tags(w: Writer, flexible: boolean): void {
  if (flexible) w.uvarint(0);
}

const UNSERVED: readonly Unserved[] = [
  {
    key: 10,
    minVersion: 0,
    maxVersion: 6,
    firstFlexibleVersion: 3,
    reply(w, v, flexible, code, body) {
      const message = "the embedded cluster serves no consumer groups or transactions";
      if (v >= 1) w.int32(0);
      if (v < 4) {
        w.int16(code);
        if (v >= 1) writeString(w, flexible, message);
        w.int32(-1);
        writeString(w, flexible, "");
        w.int32(-1);
        tags(w, flexible);
        return;
      }
      body.int8("key_type");
      const n = readCount(body, flexible, "coordinator_keys");
      writeCount(w, flexible, n);
      for (let i = 0; i < n; i++) {
        writeString(w, flexible, readString(body, flexible, "coordinator_keys"));
        w.int32(-1);
        writeString(w, flexible, "");
        w.int32(-1).int16(code);
        writeString(w, flexible, message);
        tags(w, flexible);
      }
      tags(w, flexible);
    },
  },
  {
    key: 11, // JoinGroup
    minVersion: 0,
    maxVersion: 9,
    firstFlexibleVersion: 6,
    reply(w, v, flexible, code) {
      if (v >= 2) w.int32(0);
      w.int16(code).int32(-1);
      if (v >= 7) writeString(w, flexible, null);
      writeString(w, flexible, v >= 7 ? null : "");
      writeString(w, flexible, "");
      if (v >= 9) w.boolean(false);
      writeString(w, flexible, "");
      writeCount(w, flexible, 0);
      tags(w, flexible);
    },
  },
  {
    key: 12, // Heartbeat
    minVersion: 0,
    maxVersion: 4,
    firstFlexibleVersion: 4,
    reply(w, v, flexible, code) {
      if (v >= 1) w.int32(0);
      w.int16(code);
      tags(w, flexible);
    },
  },
  {
    key: 13, // LeaveGroup
    minVersion: 0,
    maxVersion: 5,
    firstFlexibleVersion: 4,
    reply(w, v, flexible, code) {
      if (v >= 1) w.int32(0);
      w.int16(code);
      if (v >= 3) writeCount(w, flexible, 0);
      tags(w, flexible);
    },
  },
  {
    key: 14, // SyncGroup
    minVersion: 0,
    maxVersion: 5,
    firstFlexibleVersion: 4,
    reply(w, v, flexible, code) {
      if (v >= 1) w.int32(0);
      w.int16(code);
      if (v >= 5) {
        writeString(w, flexible, null);
        writeString(w, flexible, null);
      }
      writeBytes(w, flexible, new Uint8Array(0));
      tags(w, flexible);
    },
  },
  {
    key: 16, // ListGroups
    minVersion: 0,
    maxVersion: 5,
    firstFlexibleVersion: 3,
    reply(w, v, flexible, code) {
      if (v >= 1) w.int32(0);
      w.int16(code);
      writeCount(w, flexible, 0);
      tags(w, flexible);
    },
  },
  {
    key: 22, // InitProducerId
    minVersion: 0,
    maxVersion: 5,
    firstFlexibleVersion: 2,
    reply(w, _v, flexible, code) {
      w.int32(0).int16(code).int64(-1n).int16(-1);
      tags(w, flexible);
    },
  },
  {
    key: 26, // EndTxn
    minVersion: 0,
    maxVersion: 5,
    firstFlexibleVersion: 3,
    reply(w, v, flexible, code) {
      w.int32(0).int16(code);
      if (v >= 5) w.int64(-1n).int16(-1);
      tags(w, flexible);
    },
  },
];

/** The framing facts of the unserved APIs, for the API table. */
export const UNSERVED_APIS: readonly MockApi[] = UNSERVED;

/**
 * Answers an unserved API with UNSUPPORTED_VERSION (or the injected fault's code).
 *
 * @param apiKey The API key, one of {@link UNSERVED_APIS}.
 * @param version The request version, within the schema's range.
 * @param body The request body.
 * @param faultCode An error code to answer with instead, from `faults.error`.
 * @returns The reply body.
 */
export function answerUnserved(
  apiKey: number,
  version: number,
  body: Reader,
  faultCode: number | undefined,
): Uint8Array {
  const api = UNSERVED.find((a) => a.key === apiKey)!;
  const w = new Writer();
  api.reply(
    w,
    version,
    version >= api.firstFlexibleVersion,
    faultCode ?? ErrorCode.UNSUPPORTED_VERSION,
    body,
  );
  return w.finish();
}
