/**
 * The shape of one Kafka API as this module speaks it: key, the versions implemented, which of
 * them are flexible, and how to encode a request and decode a response at a given version.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";

/**
 * One Kafka API's codec.
 *
 * @typeParam Req The request value the caller builds.
 * @typeParam Res The decoded response value.
 */
export interface ApiSpec<Req, Res> {
  /** The API key, e.g. 18 for ApiVersions. */
  readonly key: number;
  /** The API name, e.g. "ApiVersions". */
  readonly name: string;
  /** The lowest version this codec implements. */
  readonly minVersion: number;
  /** The highest version this codec implements. */
  readonly maxVersion: number;
  /** The first flexible version (compact encodings, tagged fields); `Infinity` if none. */
  readonly firstFlexibleVersion: number;
  /**
   * Writes the request body (after the header) at `version`.
   *
   * @param w Where to write.
   * @param request The request value.
   * @param version The negotiated version.
   */
  encodeRequest(w: Writer, request: Req, version: number): void;
  /**
   * Whether the broker replies to this request. Omitted means it always does.
   *
   * `false` when the broker sends no reply, e.g. Produce with acks 0; send() then resolves
   * once written. It takes no version: send() asks when the request is queued, which may be
   * before the version is negotiated.
   *
   * @param request The request value.
   * @returns `false` when no response will come.
   */
  expectsResponse?(request: Req): boolean;
  /**
   * Reads the response body (after the header) at `version`. A connection passes its own
   * reader, reset onto each reply: the codec must not keep it past the call.
   *
   * @param r Positioned at the start of the response body.
   * @param version The version the request was sent at.
   * @returns The decoded response.
   */
  decodeResponse(r: Reader, version: number): Res;
}

/**
 * Whether `version` of `api` uses flexible encoding (request header v2, response header v1).
 *
 * @param api The API.
 * @param version A version of it.
 * @returns `true` for flexible versions.
 */
export function isFlexible(api: { firstFlexibleVersion: number }, version: number): boolean {
  return version >= api.firstFlexibleVersion;
}

/**
 * One Kafka API's codec with the server side as well, so the embedded test broker can read
 * requests and answer them with the same layouts the client uses.
 *
 * @typeParam Req The request value.
 * @typeParam Res The response value.
 */
export interface ServerApiSpec<Req, Res> extends ApiSpec<Req, Res> {
  /**
   * Reads the request body (after the header) at `version`.
   *
   * @param r Positioned at the start of the request body.
   * @param version The version from the request header.
   * @returns The decoded request.
   */
  decodeRequest(r: Reader, version: number): Req;
  /**
   * Writes the response body (after the header) at `version`.
   *
   * @param w Where to write.
   * @param response The response value.
   * @param version The version the request was sent at.
   */
  encodeResponse(w: Writer, response: Res, version: number): void;
}

/** The ApiVersions key, whose replies always use response header v0. */
const API_VERSIONS_KEY = 18;

/**
 * Whether a reply carries response header v1 (with tagged fields), from the request's key and
 * whether its version is flexible. It follows the flexible versions, except for ApiVersions
 * (key 18), whose response header is always v0 so that a client can read it before knowing what
 * the broker supports. The one place that rule is written: the client and the test broker use it.
 *
 * @param apiKey The request's API key.
 * @param flexible Whether the request's version is flexible.
 * @returns `true` when the response header carries a tagged-field section.
 */
export function responseHeaderFlexible(apiKey: number, flexible: boolean): boolean {
  return flexible && apiKey !== API_VERSIONS_KEY;
}

/**
 * Whether the response header for `version` of `api` is v1 (with tagged fields); see
 * {@link responseHeaderFlexible}.
 *
 * @param api The API.
 * @param version The version the request was sent at.
 * @returns `true` when the response header carries a tagged-field section.
 */
export function hasFlexibleResponseHeader(
  api: { key: number; firstFlexibleVersion: number },
  version: number,
): boolean {
  return responseHeaderFlexible(api.key, version >= api.firstFlexibleVersion);
}
