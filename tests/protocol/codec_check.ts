/**
 * Shared checks for the protocol codec tests: encode/decode round trips that also prove the
 * decoder consumed exactly what the encoder wrote, and truncation sweeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DecodeError } from "../../framing/errors.ts";
import { Reader } from "../../framing/reader.ts";
import { Writer } from "../../framing/writer.ts";
import type { ApiSpec, ServerApiSpec } from "../../protocol/api.ts";

/**
 * Runs `write` on a fresh small writer (so growth is exercised) and copies the result out.
 *
 * @param write Writes the bytes.
 * @returns A copy of what was written.
 */
export function bytesOf(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(8);
  write(w);
  return w.finish().slice();
}

/**
 * Decodes `bytes` with `read` and checks every byte was consumed.
 *
 * @param bytes The encoded body.
 * @param read The decoder.
 * @returns The decoded value.
 */
export function readAll<T>(bytes: Uint8Array, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  const value = read(r);
  assert.equal(r.remaining, 0, `decoder left ${r.remaining} of ${bytes.length} bytes unread`);
  return value;
}

/**
 * Encodes a request with the client side and decodes it with the server side.
 *
 * @param api The codec.
 * @param request The request.
 * @param version The version.
 * @returns The decoded request and the bytes.
 */
export function requestRoundTrip<Req, Res>(
  api: ServerApiSpec<Req, Res>,
  request: Req,
  version: number,
): { decoded: Req; bytes: Uint8Array } {
  const bytes = bytesOf((w) => api.encodeRequest(w, request, version));
  return { decoded: readAll(bytes, (r) => api.decodeRequest(r, version)), bytes };
}

/**
 * Encodes a response with the server side and decodes it with the client side.
 *
 * @param api The codec.
 * @param response The response.
 * @param version The version.
 * @returns The decoded response and the bytes.
 */
export function responseRoundTrip<Req, Res>(
  api: ServerApiSpec<Req, Res>,
  response: Res,
  version: number,
): { decoded: Res; bytes: Uint8Array } {
  const bytes = bytesOf((w) => api.encodeResponse(w, response, version));
  return { decoded: readAll(bytes, (r) => api.decodeResponse(r, version)), bytes };
}

/**
 * Checks that every strict prefix of `bytes` fails to decode with a {@link DecodeError}.
 *
 * @param bytes A complete encoded body.
 * @param read The decoder.
 */
export function assertTruncationsFail(bytes: Uint8Array, read: (r: Reader) => unknown): void {
  for (let n = 0; n < bytes.length; n++) {
    assert.throws(
      () => read(new Reader(bytes.subarray(0, n))),
      DecodeError,
      `a ${n}-byte prefix of ${bytes.length} bytes decoded without error`,
    );
  }
}

/**
 * Every version an API codec implements.
 *
 * @param api The codec.
 * @returns minVersion..maxVersion.
 */
export function versionsOf(api: ApiSpec<unknown, unknown>): number[] {
  const out = [];
  for (let v = api.minVersion; v <= api.maxVersion; v++) out.push(v);
  return out;
}

/**
 * Checks that `api` answers to the exported key constant and declares the expected key,
 * version range and first flexible version.
 *
 * @param api The codec.
 * @param keyConstant The module's exported API key constant.
 * @param keyAndVersions The key, min and max version the codec must declare.
 * @param firstFlexibleVersion The first flexible version it must declare.
 */
export function assertDeclares(
  api: ApiSpec<unknown, unknown>,
  keyConstant: number,
  keyAndVersions: readonly [key: number, minVersion: number, maxVersion: number],
  firstFlexibleVersion: number,
): void {
  assert.equal(api.key, keyConstant);
  assert.deepEqual([api.key, api.minVersion, api.maxVersion], keyAndVersions);
  assert.equal(api.firstFlexibleVersion, firstFlexibleVersion);
}

/**
 * At every version of `api`: the response from `response(v)` survives a round trip, and every
 * truncation of its bytes fails to decode.
 *
 * @param api The codec.
 * @param response The response to check at version `v`.
 */
export function assertResponseRoundTrips<Req, Res>(
  api: ServerApiSpec<Req, Res>,
  response: (v: number) => Res,
): void {
  for (const v of versionsOf(api)) {
    const res = response(v);
    const { decoded, bytes } = responseRoundTrip(api, res, v);
    assert.deepEqual(decoded, res, `v${v}`);
    assertTruncationsFail(bytes, (r) => api.decodeResponse(r, v));
  }
}
