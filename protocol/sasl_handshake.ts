/**
 * SaslHandshake (key 17), versions 0–1: the client names its SASL mechanism and the broker
 * answers with the mechanisms it has enabled.
 *
 * After a v1 handshake the SASL tokens travel inside SaslAuthenticate requests (key 36). After
 * a v0 handshake (brokers before 1.0) they travel as raw frames instead, `[int32 size][token]`
 * with no request header, which is the AUTH_LEGACY state of the broker connection.
 *
 * @example
 * ```ts
 * import { SaslHandshake } from "./sasl_handshake.ts";
 * import { Writer } from "../framing/writer.ts";
 * SaslHandshake.encodeRequest(new Writer(), { mechanism: "SCRAM-SHA-256" }, 1);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "./api.ts";

/** The API key of SaslHandshake. */
export const SASL_HANDSHAKE_KEY = 17;

/** A SaslHandshake request. */
export interface SaslHandshakeRequest {
  /** The SASL mechanism the client chose, e.g. "PLAIN" or "SCRAM-SHA-512". */
  mechanism: string;
}

/** A SaslHandshake response. */
export interface SaslHandshakeResponse {
  /** 0, or e.g. 33 (UNSUPPORTED_SASL_MECHANISM) when the mechanism is not enabled. */
  errorCode: number;
  /** The mechanisms enabled on the broker's listener. */
  mechanisms: string[];
}

function readMechanism(r: Reader): string {
  return r.string("mechanisms[]");
}

function writeMechanism(w: Writer, mechanism: string): void {
  w.string(mechanism);
}

/** The SaslHandshake codec, versions 0–1 (never flexible). */
export const SaslHandshake: ServerApiSpec<SaslHandshakeRequest, SaslHandshakeResponse> = {
  key: SASL_HANDSHAKE_KEY,
  name: "SaslHandshake",
  minVersion: 0,
  maxVersion: 1,
  firstFlexibleVersion: Infinity,

  encodeRequest(w: Writer, request: SaslHandshakeRequest): void {
    w.string(request.mechanism);
  },

  decodeRequest(r: Reader): SaslHandshakeRequest {
    return { mechanism: r.string("mechanism") };
  },

  encodeResponse(w: Writer, response: SaslHandshakeResponse): void {
    w.int16(response.errorCode).array(response.mechanisms, writeMechanism);
  },

  decodeResponse(r: Reader): SaslHandshakeResponse {
    const errorCode = r.int16("error_code");
    return { errorCode, mechanisms: r.array(readMechanism, "mechanisms") };
  },
};
