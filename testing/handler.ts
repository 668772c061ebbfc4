/**
 * What a custom request handler of the test broker receives and returns.
 *
 * @module
 */

import type { RequestHeader } from "../framing/header.ts";
import type { Reader } from "../framing/reader.ts";

/**
 * Returned by a handler to send no reply at all, as a broker does for Produce with `acks=0`.
 * The request still counts for the connection's reply order.
 */
export const NO_REPLY: unique symbol = Symbol("NO_REPLY");

/** The type of {@link NO_REPLY}. */
export type NoReply = typeof NO_REPLY;

/** The connection a request arrived on, as handlers and tests see it. */
export interface MockConnectionInfo {
  /** The connection's id, counting from 1 per broker; matches `RequestRecord.connId`. */
  readonly id: number;
  /** Whether the connection completed SASL authentication (always `false` without SASL). */
  readonly authenticated: boolean;
  /** The authenticated user name, once SASL succeeded. */
  readonly user: string | undefined;
  /** Closes the connection at once, dropping replies not yet written. */
  close(): void;
}

/** One request handed to a custom handler. */
export interface MockRequest {
  /** The decoded request header. */
  readonly header: RequestHeader;
  /** Positioned at the start of the request body (after the header's tagged fields). */
  readonly body: Reader;
  /** The connection the request arrived on. */
  readonly conn: MockConnectionInfo;
}

/**
 * What a handler answers: the response body (everything after the response header, which the
 * broker writes), or {@link NO_REPLY}. The broker copies the body into the reply frame only
 * when the reply's turn comes (after earlier replies and delays), so a handler must not reuse
 * the body's memory for later replies.
 */
export type MockReply = Uint8Array | NoReply;

/**
 * Serves one API on the test broker.
 *
 * @param request The request.
 * @returns The response body, or {@link NO_REPLY}; may be a promise.
 */
export type MockHandler = (request: MockRequest) => MockReply | Promise<MockReply>;

/**
 * The facts about an API the broker needs to frame it: which versions to advertise and which are
 * flexible (request header v2, response header v1). Every `ApiSpec` of `protocol/` fits.
 */
export interface MockApi {
  /** The API key. */
  readonly key: number;
  /** The lowest version to advertise and accept. */
  readonly minVersion: number;
  /** The highest version to advertise and accept. */
  readonly maxVersion: number;
  /** The first flexible version; `Infinity` when none is. */
  readonly firstFlexibleVersion: number;
}
