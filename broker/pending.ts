/**
 * One request from queueing to settling, built by one factory per kind: a `request()` (its own
 * header fields and body codec), a `send()` (an API codec, its version picked when written) and
 * a setup request (ApiVersions, SASL; ahead of the queue, alone on the wire).
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { ApiSpec } from "../protocol/api.ts";
import type { KafkaTransportError } from "../transport/errors.ts";

/** Where a request is in the pipeline. */
export const QUEUED = 0;
/** Encoded into a batch whose write has not completed. */
export const WRITING = 1;
/** Written; awaiting its reply. */
export const IN_FLIGHT = 2;

/**
 * Requests written in one call, and when: kept per batch rather than per request, so that a
 * request carries one reference instead of two boxed times.
 */
export class Batch {
  /** When the batch was handed to the socket. */
  sentAt = -1;
  /** When its write completed (or the first reply arrived); -1 before. */
  writtenAt = -1;
}

/** The bits of `Pending`'s flags: the stage in the low two, then one per boolean. */
const STAGE_MASK = 3;
const SETTLED = 4;
const FLEXIBLE = 8;
const EXPECT_RESPONSE = 16;
const SETUP = 32;

/** Stands in for a promise's settle functions until {@link track} sets them. */
const unset = (): void => {};

/**
 * A request in the pipeline. A class with every field set in one place, so that every
 * instance has one shape; the factories below say which fields each kind sets.
 */
export class Pending {
  /**
   * The stage (low two bits) and the boolean fields below, in one number: a field is 8 bytes on
   * a runtime without pointer compression, and a request is made per call.
   */
  #flags = QUEUED | EXPECT_RESPONSE;
  /** -1 until written. */
  correlationId = -1;
  /** The batch it was written in; `null` before. Its times are the request's. */
  batch: Batch | null = null;
  /** Frame bytes written, size prefix included. */
  bytesOut = 0;
  /** Reply frame bytes, size prefix included. */
  bytesIn = 0;
  /** The abort listener registered on `signal`, removed when settled. */
  onAbort: (() => void) | null = null;
  /** The API key. */
  apiKey = 0;
  /** -1 until picked, for a `send()` (picked just before it is written). */
  apiVersion = -1;
  /** The API's name, for messages. */
  apiName = "";
  /** Writes the body of a `request()`; `null` for the other kinds (`api` set). */
  encodeBody: ((w: Writer) => void) | null = null;
  /** Reads the reply body of a `request()`; `null` for the other kinds. */
  decodeBody: ((r: Reader) => unknown) | null = null;
  /** The codec of a `send()` or setup request. */
  api: ApiSpec<unknown, unknown> | null = null;
  /** The request value of a `send()` or setup request, encoded by `api` when written. */
  request: unknown = undefined;
  /** The request's timeout. */
  readonly timeoutMs: number;
  /** When it was queued, on the connection's clock. */
  readonly queuedAt: number;
  /** The caller's abort signal. */
  readonly signal: AbortSignal | undefined;
  /** Fulfils the caller's promise; set by {@link track}. */
  resolve: (value: unknown) => void = unset;
  /** Rejects the caller's promise; set by {@link track}. */
  reject: (error: KafkaTransportError) => void = unset;

  /**
   * The fields every kind has; use the factories.
   *
   * @param t Timeout, time and signal.
   */
  constructor(t: Tracking) {
    this.timeoutMs = t.timeoutMs;
    this.queuedAt = t.now;
    this.signal = t.signal;
  }

  /** {@link QUEUED}, {@link WRITING} or {@link IN_FLIGHT}. */
  get stage(): number {
    return this.#flags & STAGE_MASK;
  }

  set stage(stage: number) {
    this.#flags = (this.#flags & ~STAGE_MASK) | stage;
  }

  /** Set once, when the caller's promise is settled. */
  get settled(): boolean {
    return (this.#flags & SETTLED) !== 0;
  }

  set settled(on: boolean) {
    this.#set(SETTLED, on);
  }

  /** Whether `apiVersion` is flexible (request header v2). */
  get flexible(): boolean {
    return (this.#flags & FLEXIBLE) !== 0;
  }

  set flexible(on: boolean) {
    this.#set(FLEXIBLE, on);
  }

  /** `false` for a request the broker does not answer (Produce with acks=0). */
  get expectResponse(): boolean {
    return (this.#flags & EXPECT_RESPONSE) !== 0;
  }

  set expectResponse(on: boolean) {
    this.#set(EXPECT_RESPONSE, on);
  }

  /** A setup request: outside the queue and the queue's counts. */
  get setup(): boolean {
    return (this.#flags & SETUP) !== 0;
  }

  set setup(on: boolean) {
    this.#set(SETUP, on);
  }

  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** When its batch was handed to the socket; -1 before. */
  get sentAt(): number {
    return this.batch === null ? -1 : this.batch.sentAt;
  }

  /** When its batch's write completed (or its reply arrived, if that came first); -1 before. */
  get writtenAt(): number {
    return this.batch === null ? -1 : this.batch.writtenAt;
  }

  /** When it times out: `queuedAt + timeoutMs` (computed, one field fewer per request). */
  get deadline(): number {
    return this.queuedAt + this.timeoutMs;
  }
}

/** The request whose promise is being made, for {@link fill}. */
let filling: Pending | null = null;

/** One executor for every request's promise: no closure is made per request. */
function fill(resolve: (value: unknown) => void, reject: (error: KafkaTransportError) => void) {
  filling!.resolve = resolve;
  filling!.reject = reject;
}

/**
 * The caller's promise for a request.
 *
 * @param p The request.
 * @param queue Queues it, once it can be settled.
 * @returns The promise its settling settles.
 */
export function track<T>(p: Pending, queue: (p: Pending) => void): Promise<T> {
  filling = p;
  const promise = new Promise<T>(fill as never);
  filling = null;
  queue(p);
  return promise;
}

/** When and how a request is tracked: the part every factory takes. */
export interface Tracking {
  /** The timeout. */
  readonly timeoutMs: number;
  /** When it is queued. */
  readonly now: number;
  /** The caller's abort signal. */
  readonly signal: AbortSignal | undefined;
}

/** What a `request()` describes itself with (`BrokerRequest`'s header and codec fields). */
export interface RawRequest {
  /** The API key. */
  readonly apiKey: number;
  /** The API version. */
  readonly apiVersion: number;
  /** Whether the version is flexible. */
  readonly flexible: boolean;
  /** Writes the body. */
  encodeBody(w: Writer): void;
  /** Reads the reply body. */
  decodeBody?(r: Reader): unknown;
}

/**
 * A `request()`: its own key, version and body codec.
 *
 * @param req The request's description.
 * @param apiName The API's name.
 * @param expectResponse Whether the broker answers.
 * @param t Timeout, time and signal.
 * @returns The pending request.
 */
export function rawPending(
  req: RawRequest,
  apiName: string,
  expectResponse: boolean,
  t: Tracking,
): Pending {
  const p = new Pending(t);
  p.apiKey = req.apiKey;
  p.apiVersion = req.apiVersion;
  p.apiName = apiName;
  p.flexible = req.flexible;
  p.encodeBody = req.encodeBody;
  p.decodeBody = expectResponse ? req.decodeBody! : null;
  p.expectResponse = expectResponse;
  return p;
}

/**
 * A `send()`: an API codec and a value; its version is picked when it is written.
 *
 * @param api The codec.
 * @param request The value.
 * @param expectResponse Whether the broker answers.
 * @param t Timeout, time and signal.
 * @returns The pending request.
 */
export function sendPending(
  api: ApiSpec<unknown, unknown>,
  request: unknown,
  expectResponse: boolean,
  t: Tracking,
): Pending {
  const p = new Pending(t);
  p.apiKey = api.key;
  p.apiName = api.name;
  p.api = api;
  p.request = request;
  p.expectResponse = expectResponse;
  return p;
}

/**
 * A setup request at a version the setup steps chose.
 *
 * @param api The codec.
 * @param version The version.
 * @param flexible Whether the version is flexible.
 * @param request The value.
 * @param t Timeout and time (no signal).
 * @returns The pending request.
 */
export function setupPending(
  api: ApiSpec<unknown, unknown>,
  version: number,
  flexible: boolean,
  request: unknown,
  t: Tracking,
): Pending {
  const p = sendPending(api, request, true, t);
  p.apiVersion = version;
  p.flexible = flexible;
  p.setup = true;
  return p;
}
