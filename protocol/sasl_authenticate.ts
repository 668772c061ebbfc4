/**
 * SaslAuthenticate (key 36), versions 0–2 (flexible from 2): carries one SASL token each way
 * after a v1 SaslHandshake. From v1 the final reply says how long the session lasts
 * (KIP-368), after which the client must re-authenticate on the same connection.
 *
 * @example
 * ```ts
 * import { SaslAuthenticate } from "./sasl_authenticate.ts";
 * import { Writer } from "../framing/writer.ts";
 * const token = new TextEncoder().encode("\0alice\0alice-secret");
 * SaslAuthenticate.encodeRequest(new Writer(), { authBytes: token }, 2);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "./api.ts";

/** The API key of SaslAuthenticate. */
export const SASL_AUTHENTICATE_KEY = 36;

const FIRST_FLEXIBLE = 2;

/** A SaslAuthenticate request. */
export interface SaslAuthenticateRequest {
  /** The client's SASL token, as the mechanism defines it. */
  authBytes: Uint8Array;
}

/** A SaslAuthenticate response. */
export interface SaslAuthenticateResponse {
  /** 0, or e.g. 58 (SASL_AUTHENTICATION_FAILED). */
  errorCode: number;
  /** The broker's explanation of the error, or `null`. */
  errorMessage: string | null;
  /**
   * The server's SASL token, as the mechanism defines it: a view into the received frame, to
   * be consumed by the mechanism rather than kept (`.slice()` it to keep it).
   */
  authBytes: Uint8Array;
  /** Milliseconds until the session must be re-authenticated; 0 for no limit (v1+). */
  sessionLifetimeMs: number;
}

/** The SaslAuthenticate codec, versions 0–2 (flexible from 2). */
export const SaslAuthenticate: ServerApiSpec<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  key: SASL_AUTHENTICATE_KEY,
  name: "SaslAuthenticate",
  minVersion: 0,
  maxVersion: 2,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: SaslAuthenticateRequest, version: number): void {
    if (version >= FIRST_FLEXIBLE) w.compactBytes(request.authBytes).taggedFields();
    else w.bytes(request.authBytes);
  },

  decodeRequest(r: Reader, version: number): SaslAuthenticateRequest {
    if (version < FIRST_FLEXIBLE) return { authBytes: r.bytes("auth_bytes") };
    const authBytes = r.compactBytes("auth_bytes");
    r.taggedFields(undefined, "tagged_fields");
    return { authBytes };
  },

  encodeResponse(w: Writer, response: SaslAuthenticateResponse, version: number): void {
    w.int16(response.errorCode);
    if (version >= FIRST_FLEXIBLE) {
      w.compactString(response.errorMessage).compactBytes(response.authBytes);
    } else {
      w.string(response.errorMessage).bytes(response.authBytes);
    }
    if (version >= 1) w.int64(BigInt(response.sessionLifetimeMs));
    if (version >= FIRST_FLEXIBLE) w.taggedFields();
  },

  decodeResponse(r: Reader, version: number): SaslAuthenticateResponse {
    const flexible = version >= FIRST_FLEXIBLE;
    const errorCode = r.int16("error_code");
    const errorMessage = flexible
      ? r.compactNullableString("error_message")
      : r.nullableString("error_message");
    const authBytes = flexible ? r.compactBytes("auth_bytes") : r.bytes("auth_bytes");
    const sessionLifetimeMs = version >= 1 ? Number(r.int64("session_lifetime_ms")) : 0;
    if (flexible) r.taggedFields(undefined, "tagged_fields");
    return { errorCode, errorMessage, authBytes, sessionLifetimeMs };
  },
};
