/**
 * Kafka request headers (v1, v2) and response headers (v0, v1), and whole request frames with
 * their size prefix.
 *
 * @module
 */

import type { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** The fields of a request header. */
export interface RequestHeader {
  /** The API key of the request. */
  apiKey: number;
  /** The API version of the request. */
  apiVersion: number;
  /** The correlation id the reply will carry. */
  correlationId: number;
  /** The client id, or `null`. */
  clientId: string | null;
}

/**
 * Writes a request header: v2 (with an empty tagged-field section) when the API version is
 * flexible, v1 otherwise. The client id stays a classic int16-length string in both.
 *
 * @param w Where to write.
 * @param header The header fields.
 * @param flexible Whether the request's API version uses flexible encoding.
 */
export function writeRequestHeader(w: Writer, header: RequestHeader, flexible: boolean): void {
  w.int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId).string(
    header.clientId,
  );
  if (flexible) w.taggedFields();
}

/**
 * Reads a request header v1 or v2 (the server side, used by the embedded test broker).
 *
 * @param r Positioned at the start of the frame body.
 * @param isFlexible Tells, from api key and version, whether the header is v2.
 * @returns The header fields; `r` is left at the start of the request body.
 */
export function readRequestHeader(
  r: Reader,
  isFlexible: (apiKey: number, apiVersion: number) => boolean,
): RequestHeader {
  const apiKey = r.int16("request_api_key");
  const apiVersion = r.int16("request_api_version");
  const correlationId = r.int32("correlation_id");
  const clientId = r.nullableString("client_id");
  if (isFlexible(apiKey, apiVersion)) r.taggedFields(undefined, "request_header_tagged_fields");
  return { apiKey, apiVersion, correlationId, clientId };
}

/**
 * Writes a response header: v1 (correlation id and an empty tagged-field section) when
 * `flexible`, v0 otherwise. ApiVersions replies always use v0.
 *
 * @param w Where to write.
 * @param correlationId The correlation id of the request being answered.
 * @param flexible Whether to write header v1.
 */
export function writeResponseHeader(w: Writer, correlationId: number, flexible: boolean): void {
  w.int32(correlationId);
  if (flexible) w.taggedFields();
}

/**
 * Reads the rest of a response header after its correlation id: the tagged fields of v1.
 *
 * @param r Positioned just after the correlation id.
 * @param flexible Whether the header is v1.
 */
export function skipResponseHeaderTags(r: Reader, flexible: boolean): void {
  if (flexible) r.taggedFields(undefined, "response_header_tagged_fields");
}

/**
 * Builds a complete frame: a 4-byte size placeholder, whatever `body` writes, then the size
 * patched in. The body is written once, straight into the frame buffer.
 *
 * @param body Writes the frame contents (header and body).
 * @param w The writer to use; a new one when omitted.
 * @returns A view over the frame bytes.
 */
export function buildFrame(body: (w: Writer) => void, w: Writer = new Writer()): Uint8Array {
  const start = w.length;
  w.int32(0);
  body(w);
  w.patchInt32(start, w.length - start - 4);
  return w.finish().subarray(start);
}
