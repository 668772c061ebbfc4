/**
 * What callers hand a broker connection: a request described by key, version and body codec,
 * and the options of `send()` and `close()`.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";

/** A request described by its API key, version and body codec (the low-level entry point). */
export interface BrokerRequest<T> {
  /** The API key. */
  apiKey: number;
  /** The API version to send. */
  apiVersion: number;
  /** Whether this version is flexible: request header v2 and response header v1. */
  flexible: boolean;
  /** The API's name for messages; looked up from the key when omitted. */
  apiName?: string;
  /**
   * Writes the request body (after the header).
   *
   * @param w Where to write.
   */
  encodeBody(w: Writer): void;
  /**
   * Reads the response body (after the header). Required unless `expectResponse` is false.
   * The reader is the connection's own, reset onto each reply: read what is needed during the
   * call and do not keep the reader (views it returned stay valid).
   *
   * @param r Positioned at the start of the response body.
   * @returns The decoded response.
   */
  decodeBody?(r: Reader): T;
  /**
   * `false` for requests the broker does not answer (Produce with acks=0): the promise then
   * resolves with `undefined` once the request is written. Default `true`.
   */
  expectResponse?: boolean;
  /**
   * Timeout from queueing to reply; the connection's `requestTimeoutMs` when omitted. A request
   * waiting for room in a full queue (see `wait`) is not queued yet: abort it with `signal` to
   * bound that wait.
   */
  timeoutMs?: number;
  /**
   * Aborts the request: before it is written it is removed from the queue; after, it settles
   * at once and its reply is discarded when it arrives.
   */
  signal?: AbortSignal;
  /**
   * When the queue is at `maxQueued`: `true` (default) waits for room, `false` rejects with
   * `QueueFullError` at once.
   */
  wait?: boolean;
}

/** Per-call options of {@link BrokerConnection.send}. */
export interface SendOptions {
  /** See {@link BrokerRequest.timeoutMs}. */
  timeoutMs?: number;
  /** See {@link BrokerRequest.signal}. */
  signal?: AbortSignal;
  /** See {@link BrokerRequest.wait}. */
  wait?: boolean;
  /** See {@link BrokerRequest.expectResponse}. */
  expectResponse?: boolean;
}

/** Options of {@link BrokerConnection.close}. */
export interface CloseOptions {
  /**
   * `true` (default): stop accepting requests, let the queued and in-flight ones finish up to
   * `deadlineMs`, then fail the rest. `false`: fail everything now.
   */
  graceful?: boolean;
  /** How long a graceful close waits. Default 30 000. */
  deadlineMs?: number;
}
