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
   * Reads the response body (after the header) at `version`.
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
