/**
 * One connection to one Kafka broker: the librdkafka-style state machine (connect, ApiVersions,
 * SASL, UP, re-authentication, backoff and reconnect) and the request pipeline (out queue,
 * correlation ids, in-flight map, coalesced writes, timeouts, aborts).
 *
 * @example
 * ```ts ignore
 * import { BrokerConnection, Metadata } from "@kafka-wire/transport";
 * import { denoConnector } from "@kafka-wire/transport/deno";
 *
 * await using broker = new BrokerConnection({
 *   host: "127.0.0.1",
 *   port: 9092,
 *   connector: denoConnector,
 * });
 * const metadata = await broker.send(Metadata, { topics: null, allowAutoTopicCreation: false });
 * ```
 *
 * @module
 */

import { FrameDecoder } from "../framing/decoder.ts";
import { DecodeError, FramingError } from "../framing/errors.ts";
import { skipResponseHeaderTags, writeRequestHeader } from "../framing/header.ts";
import { Reader } from "../framing/reader.ts";
import { Writer } from "../framing/writer.ts";
import { type ApiSpec, isFlexible } from "../protocol/api.ts";
import {
  apiName,
  type ApiVersionRange,
  ApiVersions,
  highestCommonVersion,
} from "../protocol/api_versions.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import type { TimerHandle } from "../transport/clock.ts";
import type { Conn } from "../transport/conn.ts";
import {
  AbortError,
  asKafkaError,
  ConfigError,
  ConnectionClosedError,
  type ConnectionLossHint,
  KafkaTransportError,
  TimeoutError,
  TlsError,
} from "../transport/errors.ts";
import { backoffDelay, type BackoffState, INITIAL_BACKOFF, recordAttempt } from "./backoff.ts";
import {
  BrokerClosedError,
  ConnectionSetupTimeoutError,
  QueueFullError,
  RequestTimeoutError,
  UnsupportedVersionError,
  type VersionRange,
} from "./errors.ts";
import { Fifo } from "./fifo.ts";
import { authenticate, negotiateApiVersions, type SetupChannel } from "./handshake.ts";
import {
  type BrokerConnectionOptions,
  type RequestEvent,
  type ResolvedBrokerOptions,
  resolveOptions,
} from "./options.ts";
import { BrokerState, type StateChange } from "./state.ts";
import { type BrokerStats, RttWindow } from "./stats.ts";

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

const { INIT, DOWN, TRY_CONNECT, CONNECT, SSL_HANDSHAKE, APIVERSION_QUERY, UP, REAUTH } =
  BrokerState;

/** Where a request is in the pipeline. */
const QUEUED = 0;
const WRITING = 1;
const IN_FLIGHT = 2;

/** Requests are encoded into one batch, written in one call, until it reaches this size. */
const COALESCE_LIMIT = 64 * 1024;

/** Initial size of the per-connection output writer that batches are encoded in. */
const OUT_CAPACITY = COALESCE_LIMIT + 4096;

/** An output writer grown past this by large requests is replaced once they stop coming. */
const OUT_KEEP_LIMIT = 4 * COALESCE_LIMIT;

/**
 * How many batches in a row that fit the initial capacity give a grown output writer back. A
 * stream of large requests keeps its buffer (growing one anew for every 1 MiB request cost a
 * third of the CPU of a bulk stream), while a single burst does not pin it for long.
 */
const OUT_SHRINK_AFTER = 16;

/**
 * How many settled-but-unanswered correlation ids are remembered, so that their late replies
 * count as discarded rather than unknown; older ones are forgotten first.
 */
const ORPHAN_LIMIT = 65_536;

/** A connection closed this soon after UP without SASL probably wanted SASL (librdkafka). */
const SASL_HINT_WINDOW_MS = 2000;

/** Re-authenticate at this fraction of the session lifetime (librdkafka; KIP-368). */
const REAUTH_AT = 0.9;

/**
 * Checks the header fields of a `request()` up front, so a bad key or version is refused when
 * the request is made rather than when it is written.
 *
 * @returns The error to reject with, or `null` when both fit in an int16.
 */
function headerFieldError(apiKey: number, apiVersion: number): ConfigError | null {
  if (!Number.isInteger(apiKey) || apiKey < 0 || apiKey > 0x7fff) {
    return new ConfigError(`API key must be an integer in 0..32767, got ${apiKey}`);
  }
  if (!Number.isInteger(apiVersion) || apiVersion < 0 || apiVersion > 0x7fff) {
    return new ConfigError(`API version must be an integer in 0..32767, got ${apiVersion}`);
  }
  return null;
}

/**
 * Starts a write. A `Conn` is the user's to implement and may throw instead of rejecting; that
 * becomes a rejection, so the failure path runs instead of an exception escaping a microtask.
 */
function startWrite(conn: Conn, bytes: Uint8Array): Promise<void> {
  try {
    return conn.write(bytes);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The error for a request value that failed to encode (or to be looked at before queueing). Our
 * codecs throw typed errors naming the field; anything else (a `TypeError` from a missing field,
 * a throwing `encodeBody`) means the request value does not fit the API's layout, which is the
 * caller's to fix.
 *
 * @param error What was thrown.
 * @param what What was being done, e.g. "Encoding Produce v11 request".
 * @param apiName The API's name.
 * @param fromSend Whether the value came through `send()` (else `request()`'s `encodeBody`).
 * @returns The typed error.
 */
function encodeFailure(
  error: unknown,
  what: string,
  apiName: string,
  fromSend: boolean,
): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const source = fromSend ? "request value passed to send()" : "encodeBody of request()";
  return new ConfigError(
    `${what} failed: ${detail} — check the ${source} against the ${apiName} request layout`,
    { cause: error },
  );
}

/** Closes a connection whose `close()` might throw: teardown must run to its end regardless. */
function closeQuietly(conn: Conn, reason?: KafkaTransportError): void {
  try {
    conn.close(reason);
  } catch {
    // The connection is dropped either way; how its close failed changes nothing here.
  }
}

/** Fires after the connection fails, so that awaits in a stale setup stop. */
class StaleSetupError extends ConnectionClosedError {}

/** One request from queueing to settling. A class so that every instance has one shape. */
class Pending {
  stage = QUEUED;
  settled = false;
  correlationId = -1;
  sentAt = -1;
  writtenAt = -1;
  repliedAt = -1;
  bytesOut = 0;
  bytesIn = 0;
  onAbort: (() => void) | null = null;

  constructor(
    readonly apiKey: number,
    /** -1 until picked, for a `send()` queued before the broker's versions were known. */
    public apiVersion: number,
    readonly apiName: string,
    public flexible: boolean,
    /** Writes the body of a `request()`; `null` for `send()` and setup requests (`api` set). */
    readonly encodeBody: ((w: Writer) => void) | null,
    readonly api: ApiSpec<unknown, unknown> | null,
    /** The request value of a `send()` or setup request, encoded by `api` when written. */
    readonly request: unknown,
    readonly decodeBody: ((r: Reader) => unknown) | null,
    readonly expectResponse: boolean,
    readonly setup: boolean,
    readonly timeoutMs: number,
    readonly queuedAt: number,
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: KafkaTransportError) => void,
  ) {}
}

interface Waiter {
  resolve: () => void;
  reject: (error: KafkaTransportError) => void;
}

/**
 * A connection to one broker. Connects lazily on the first request (or `connect()`), runs
 * ApiVersions on every new connection and SASL when configured, pipelines requests with
 * correlation ids, reconnects with backoff while work is queued, and settles every request
 * exactly once with a value or a typed error.
 *
 * Differences from librdkafka, on purpose:
 * - A body that fails to decode fails only its request (`DecodeError`): frames are length
 *   delimited, so the stream stays in step and the connection is kept.
 * - A connection that failed with a non-retriable error (authentication, TLS, framing, a refused
 *   ApiVersions) also fails the queued requests with it instead of reconnecting for them: the
 *   next attempt would fail the same way, and the backoff still applies to the next request.
 * - After a failure or an idle close the connection is re-dialled only while requests are
 *   queued (librdkafka's sparse connections); otherwise the next request dials.
 */
export class BrokerConnection implements AsyncDisposable {
  readonly #o: ResolvedBrokerOptions;
  readonly #address: string;

  #state: BrokerState = INIT;
  #stateSince: number;
  readonly #listeners = new Set<(change: StateChange) => void>();

  /** Bumped whenever a connection attempt starts or ends; stale async work compares it. */
  #generation = 0;
  #conn: Conn | null = null;
  #dialAbort: AbortController | null = null;
  #channel: SetupChannel | null = null;
  #brokerApis: ApiVersionRange[] | null = null;
  #apiVersionsMap: ReadonlyMap<number, VersionRange> | null = null;
  #established = false;
  #upAt = 0;
  #backoff: BackoffState = INITIAL_BACKOFF;

  readonly #queue = new Fifo<Pending>();
  /**
   * Whether the queue's deadlines rise from front to back, as they do while every request has
   * the same timeout: the timeout scan then takes expired requests off the front instead of
   * walking the whole queue (which a long outage with a steady producer would make costly).
   */
  #queueOrdered = true;
  /** The deadline of the request queued last, to keep {@link #queueOrdered} up to date. */
  #queueTailDeadline = -Infinity;
  #setupQueue: Pending[] = [];
  readonly #inFlight = new Map<number, Pending>();
  /**
   * Correlation ids of requests written and then settled without their reply (timed out,
   * aborted): they no longer take an in-flight slot, and a late reply is discarded by id.
   */
  readonly #orphans = new Set<number>();
  #queuedCount = 0;
  /** Ordinary requests accepted and not yet settled. */
  #outstanding = 0;
  #nextCorrelationId = 0;
  #out = new Writer(OUT_CAPACITY);
  /** Batches in a row that fitted {@link OUT_CAPACITY} while `#out` was grown past the limit. */
  #outSmallBatches = 0;
  #turnNow = -1;
  #writing = false;
  #pumpScheduled = false;
  #consecutiveTimeouts = 0;
  #lastActivity = 0;

  #requestTimer: TimerHandle | null = null;
  #requestTimerAt = Infinity;
  #backoffTimer: TimerHandle | null = null;
  #setupTimer: TimerHandle | null = null;
  #idleTimer: TimerHandle | null = null;
  #idleLimit = 0;
  #reauthTimer: TimerHandle | null = null;

  #connectWaiters: Waiter[] = [];
  #spaceWaiters: Waiter[] = [];
  #drainWaiter: Waiter | null = null;
  #legacyWaiter:
    | { resolve: (frame: Uint8Array) => void; reject: (e: KafkaTransportError) => void }
    | null = null;
  /** A setup reply was delivered and the setup steps have not acted on it yet. */
  #setupReplyPending = false;
  /** A connection loss held back until the setup steps act on the reply before it. */
  #deferredLoss: KafkaTransportError | null = null;
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | null = null;
  #onDrained: (() => void) | null = null;

  #connects = 0;
  #disconnects = 0;
  #sent = 0;
  #replied = 0;
  #timedOut = 0;
  #bytesOut = 0;
  #bytesIn = 0;
  #unknownReplies = 0;
  #discardedReplies = 0;
  #writes = 0;
  readonly #rtt = new RttWindow();
  #lastError: KafkaTransportError | null = null;

  /**
   * Creates the connection object; nothing is dialled until the first request or `connect()`.
   *
   * @param options Address, connector and tuning; see {@link BrokerConnectionOptions}.
   * @throws {ConfigError} Naming the first invalid option.
   */
  constructor(options: BrokerConnectionOptions) {
    this.#o = resolveOptions(options);
    this.#address = `${this.#o.host}:${this.#o.port}`;
    this.#stateSince = this.#o.clock.now();
  }

  /** The current state. */
  get state(): BrokerState {
    return this.#state;
  }

  /**
   * The broker's supported version range per API key, from the latest ApiVersions reply;
   * `null` before the first connection reached UP.
   */
  get apiVersions(): ReadonlyMap<number, VersionRange> | null {
    return this.#apiVersionsMap;
  }

  /**
   * Subscribes to state changes.
   *
   * @param listener Called synchronously on every change; what it throws is ignored.
   * @returns A function that unsubscribes.
   */
  onStateChange(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Connects if needed and waits until the connection is UP.
   *
   * @param signal Stops waiting (the connection attempt itself goes on for queued requests).
   * @returns Resolves at UP; rejects with the error of the attempt if it fails, with
   *   `AbortError` when `signal` aborts, or `BrokerClosedError` after `close()`.
   */
  connect(signal?: AbortSignal): Promise<void> {
    if (this.#closing) return Promise.reject(this.#closedError("connect()"));
    if (this.#established) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(this.#abortError("connect()", signal));
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | null = null;
      const waiter: Waiter = {
        resolve: () => {
          if (onAbort !== null) signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          if (onAbort !== null) signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if (signal !== undefined) {
        onAbort = () => {
          this.#connectWaiters = this.#connectWaiters.filter((w) => w !== waiter);
          waiter.reject(this.#abortError("connect()", signal));
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#connectWaiters.push(waiter);
      this.#want("connect() called");
    });
  }

  /**
   * Picks the version of `api` to send: the highest that both this client and the broker
   * support (never the lowest: Kafka 4.x advertises versions it then refuses, KAFKA-18659).
   *
   * @param api The API codec.
   * @returns The version.
   * @throws {UnsupportedVersionError} When no version is common to both.
   * @throws {KafkaTransportError} When no ApiVersions reply has been received yet.
   */
  selectVersion(
    api: Pick<ApiSpec<unknown, unknown>, "key" | "name" | "minVersion" | "maxVersion">,
  ): number {
    const apis = this.#brokerApis;
    if (apis === null) {
      throw new KafkaTransportError(
        `Cannot pick a version of ${api.name} before the broker's ApiVersions reply: await ` +
          `connect() first (or use send(), which does)`,
        { retriable: true },
      );
    }
    const version = highestCommonVersion(api, apis);
    if (version >= 0) return version;
    const range = this.#apiVersionsMap?.get(api.key) ?? null;
    throw new UnsupportedVersionError(
      api.name,
      api.key,
      { min: api.minVersion, max: api.maxVersion },
      range,
    );
  }

  /**
   * Sends a request through an API codec at the highest version both sides support. Before
   * the broker's ApiVersions reply is known the request is queued like any other (connecting
   * if needed) and its version is picked, and the body encoded, just before it is written.
   *
   * @param api The API codec.
   * @param request The request value.
   * @param options Timeout, abort signal, queue waiting, and whether a reply is expected.
   * @returns The decoded response (`undefined` when `expectResponse` is false).
   *   Rejects with `UnsupportedVersionError`, before anything is written, when no version is
   *   common; otherwise as {@link BrokerConnection.request}.
   */
  send<Req, Res>(api: ApiSpec<Req, Res>, request: Req, options: SendOptions = {}): Promise<Res> {
    if (this.#queuedCount >= this.#o.maxQueued && !this.#closing) {
      return this.#roomInQueue(options.wait, options.signal).then(() =>
        this.send(api, request, options)
      );
    }
    let version = -1;
    let expectResponse: boolean;
    try {
      if (this.#brokerApis !== null) version = this.selectVersion(api);
      expectResponse = options.expectResponse ?? api.expectsResponse?.(request) ?? true;
    } catch (error) {
      return Promise.reject(
        encodeFailure(error, `Preparing a ${api.name} request`, api.name, true),
      );
    }
    return this.#submit<Res>(
      api.key,
      version,
      api.name,
      version >= 0 && isFlexible(api, version),
      null,
      api as ApiSpec<unknown, unknown>,
      request,
      null,
      expectResponse,
      options.timeoutMs,
      options.signal,
    );
  }

  /**
   * Sends a request described by key, version and body codec.
   *
   * @param req The request.
   * @returns The decoded response, or `undefined` when `expectResponse` is false. Rejects with
   *   `RequestTimeoutError`, `AbortError`, `QueueFullError`, `BrokerClosedError`, `DecodeError`
   *   or the error that brought the connection down.
   */
  request<T>(req: BrokerRequest<T>): Promise<T> {
    const expectResponse = req.expectResponse ?? true;
    if (expectResponse && typeof req.decodeBody !== "function") {
      return Promise.reject(
        new ConfigError(
          `request() for API key ${req.apiKey} needs decodeBody (or expectResponse: false)`,
        ),
      );
    }
    if (this.#queuedCount >= this.#o.maxQueued && !this.#closing) {
      return this.#roomInQueue(req.wait, req.signal).then(() => this.request(req));
    }
    return this.#submit<T>(
      req.apiKey,
      req.apiVersion,
      req.apiName ?? apiName(req.apiKey),
      req.flexible,
      req.encodeBody,
      null,
      undefined,
      expectResponse ? req.decodeBody as (r: Reader) => unknown : null,
      expectResponse,
      req.timeoutMs,
      req.signal,
    );
  }

  /**
   * Takes a snapshot of the connection's counters.
   *
   * @returns The state, counters and round-trip times.
   */
  stats(): BrokerStats {
    return {
      state: this.#state,
      connects: this.#connects,
      disconnects: this.#disconnects,
      requestsSent: this.#sent,
      requestsReplied: this.#replied,
      requestsTimedOut: this.#timedOut,
      bytesOut: this.#bytesOut,
      bytesIn: this.#bytesIn,
      inFlight: this.#inFlight.size,
      queued: this.#queuedCount,
      unknownReplies: this.#unknownReplies,
      discardedReplies: this.#discardedReplies,
      writes: this.#writes,
      rtt: this.#rtt.summary(),
      lastError: this.#lastError,
    };
  }

  /**
   * Closes the connection for good. Idempotent: later calls return the same promise.
   *
   * @param options Graceful (default; drain up to `deadlineMs`) or immediate.
   * @returns Resolves once every request has settled and the socket and timers are gone.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closePromise !== null) return this.#closePromise;
    const graceful = options.graceful ?? true;
    const deadlineMs = options.deadlineMs ?? 30_000;
    if (!Number.isFinite(deadlineMs) || deadlineMs < 0) {
      return Promise.reject(
        new ConfigError(`close() deadlineMs must be a non-negative number, got ${deadlineMs}`),
      );
    }
    this.#closing = true;
    const spaceWaiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const w of spaceWaiters) w.reject(this.#closedError("a request waiting for queue room"));
    this.#closePromise = (async () => {
      if (graceful && this.#outstanding > 0) await this.#drainForClose(deadlineMs);
      this.#shutdown();
    })();
    return this.#closePromise;
  }

  /** Closes gracefully with the default deadline; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------
  // Request intake

  /** Waits for room in the out queue (once), or rejects at once for `{ wait: false }`. */
  #roomInQueue(wait: boolean | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (wait === false) {
      return Promise.reject(new QueueFullError(this.#o.maxQueued, this.#where()));
    }
    if (signal?.aborted) {
      return Promise.reject(this.#abortError("a request waiting for queue room", signal));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#spaceWaiters = this.#spaceWaiters.filter((w) => w !== waiter);
        reject(this.#abortError("a request waiting for queue room", signal!));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#spaceWaiters.push(waiter);
    });
  }

  /**
   * The clock, read once per event-loop turn for the requests submitted in it: callers that
   * queue a burst share one reading (a clock read costs as much as queueing a request).
   */
  #submitNow(): number {
    if (this.#turnNow < 0) {
      this.#turnNow = this.#o.clock.now();
      queueMicrotask(this.#forgetTurnNow);
    }
    return this.#turnNow;
  }

  readonly #forgetTurnNow = (): void => {
    this.#turnNow = -1;
  };

  /** Encodes and queues one ordinary request. */
  #submit<T>(
    apiKey: number,
    apiVersion: number,
    name: string,
    flexible: boolean,
    encodeBody: ((w: Writer) => void) | null,
    api: ApiSpec<unknown, unknown> | null,
    request: unknown,
    decodeBody: ((r: Reader) => unknown) | null,
    expectResponse: boolean,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (this.#closing) return Promise.reject(this.#closedError(`Request ${name} v${apiVersion}`));
    if (signal?.aborted) {
      return Promise.reject(
        this.#abortError(`Request ${name} v${apiVersion} before it was queued`, signal),
      );
    }
    const timeout = timeoutMs ?? this.#o.requestTimeoutMs;
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      return Promise.reject(
        new ConfigError(`Request ${name} timeoutMs must be a positive number, got ${timeoutMs}`),
      );
    }
    if (encodeBody !== null) {
      const invalid = headerFieldError(apiKey, apiVersion);
      if (invalid !== null) return Promise.reject(invalid);
    }
    return new Promise<T>((resolve, reject) => {
      const now = this.#submitNow();
      const p = new Pending(
        apiKey,
        apiVersion,
        name,
        flexible,
        encodeBody,
        api,
        request,
        decodeBody,
        expectResponse,
        false,
        timeout,
        now,
        now + timeout,
        signal,
        resolve as (value: unknown) => void,
        reject,
      );
      if (signal !== undefined) {
        p.onAbort = () => this.#onAbort(p);
        signal.addEventListener("abort", p.onAbort, { once: true });
      }
      if (this.#queue.length === 0) this.#queueOrdered = true;
      else if (p.deadline < this.#queueTailDeadline) this.#queueOrdered = false;
      this.#queueTailDeadline = p.deadline;
      this.#queue.push(p);
      this.#queuedCount++;
      this.#outstanding++;
      this.#armRequestTimer(p.deadline);
      if (this.#state === UP) this.#schedulePump();
      else this.#want("request queued");
    });
  }

  /**
   * Appends one request frame (size, header with its correlation id, body) to the batch being
   * built in `w`. Requests are encoded only when they are written, straight into the buffer the
   * write sends, so a request's bytes are produced once and never copied.
   */
  #encodeInto(w: Writer, p: Pending, correlationId: number): void {
    const start = w.length;
    w.int32(0);
    writeRequestHeader(
      w,
      { apiKey: p.apiKey, apiVersion: p.apiVersion, correlationId, clientId: this.#o.clientId },
      p.flexible,
    );
    if (p.api !== null) p.api.encodeRequest(w, p.request, p.apiVersion);
    else p.encodeBody!(w);
    w.patchInt32(start, w.length - start - 4);
  }

  /** Queues a setup request (ApiVersions, SASL) ahead of ordinary requests. */
  #setupCall<Req, Res>(
    gen: number,
    api: ApiSpec<Req, Res>,
    version: number,
    request: Req,
    timeoutMs: number,
  ): Promise<Res> {
    if (gen !== this.#generation) return Promise.reject(new StaleSetupError("stale setup"));
    const lost = this.#takeDeferredLoss();
    if (lost !== null) return Promise.reject(lost);
    const flexible = isFlexible(api, version);
    return new Promise<Res>((resolve, reject) => {
      const now = this.#o.clock.now();
      const p = new Pending(
        api.key,
        version,
        api.name,
        flexible,
        null,
        api as ApiSpec<unknown, unknown>,
        request,
        null,
        true,
        true,
        timeoutMs,
        now,
        now + timeoutMs,
        undefined,
        resolve as (value: unknown) => void,
        reject,
      );
      this.#setupQueue.push(p);
      this.#armRequestTimer(p.deadline);
      this.#schedulePump();
    });
  }

  /**
   * Picks the version of a `send()` that was queued before the broker's versions were known, now
   * that they are; settles it with `UnsupportedVersionError` (before any write) when none is
   * common.
   */
  #pickVersion(p: Pending): void {
    const api = p.api!;
    try {
      const version = this.selectVersion(api);
      p.apiVersion = version;
      p.flexible = isFlexible(api, version);
    } catch (error) {
      this.#settle(p, asKafkaError(error, `Choosing the ${p.apiName} version`), undefined);
    }
  }

  #onAbort(p: Pending): void {
    if (p.settled || p.signal === undefined) return;
    const what = p.stage === QUEUED
      ? `Request ${p.apiName}${p.apiVersion >= 0 ? ` v${p.apiVersion}` : ""} before it was sent`
      : `Request ${p.apiName} v${p.apiVersion} (correlation id ${p.correlationId}) after it ` +
        `was sent; its reply will be discarded`;
    this.#settle(p, this.#abortError(what, p.signal), undefined);
  }

  // ---------------------------------------------------------------------------------------
  // Settling

  /** Settles a request exactly once and tells the hook. */
  #settle(p: Pending, error: KafkaTransportError | null, value: unknown): void {
    if (p.settled) return;
    p.settled = true;
    if (p.onAbort !== null) {
      p.signal?.removeEventListener("abort", p.onAbort);
      p.onAbort = null;
    }
    if (!p.setup) {
      this.#outstanding--;
      if (p.stage === QUEUED) {
        this.#queuedCount--;
        this.#wakeSpaceWaiter();
      }
    }
    if (p.stage !== QUEUED && this.#inFlight.get(p.correlationId) === p) {
      // Settled before its reply: free the slot at once and remember the id for the reply.
      this.#inFlight.delete(p.correlationId);
      if (p.expectResponse) this.#orphan(p.correlationId);
      this.#schedulePump();
    }
    // Without a socket nothing else keeps the process alive, so the timer must not either.
    if (this.#conn === null) this.#disarmRequestTimerIfIdle();
    if (error === null) p.resolve(value);
    else p.reject(error);
    const onRequest = this.#o.hooks.onRequest;
    if (onRequest !== undefined) {
      const event: RequestEvent = {
        apiKey: p.apiKey,
        apiVersion: p.apiVersion,
        correlationId: p.correlationId,
        queuedAt: p.queuedAt,
        writtenAt: p.writtenAt,
        repliedAt: p.repliedAt,
        bytesOut: p.bytesOut,
        bytesIn: p.bytesIn,
        ...(error === null ? {} : { error }),
      };
      try {
        onRequest(event);
      } catch {
        // Hooks observe; a failing observer must not break the connection.
      }
    }
    if (this.#onDrained !== null && this.#outstanding === 0) this.#onDrained();
  }

  /**
   * Clears the request timer once nothing has a deadline. Only needed without a socket: while
   * connected, the socket keeps the process alive anyway, and a timer left armed fires once and
   * finds nothing, which is cheaper than clearing and re-arming it for every burst of requests.
   */
  #disarmRequestTimerIfIdle(): void {
    if (
      this.#requestTimer !== null && this.#outstanding === 0 && this.#inFlight.size === 0 &&
      this.#setupQueue.length === 0
    ) {
      this.#o.clock.clearTimeout(this.#requestTimer);
      this.#requestTimer = null;
      this.#requestTimerAt = Infinity;
    }
  }

  #orphan(correlationId: number): void {
    if (this.#orphans.size >= ORPHAN_LIMIT) {
      this.#orphans.delete(this.#orphans.values().next().value!);
    }
    this.#orphans.add(correlationId);
  }

  #wakeSpaceWaiter(): void {
    const waiter = this.#spaceWaiters.shift();
    if (waiter !== undefined) waiter.resolve();
  }

  // ---------------------------------------------------------------------------------------
  // Writing

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // A microtask lets every request queued in the same tick go out in one write.
    queueMicrotask(this.#pump);
  }

  /**
   * Writes what may be written now: setup requests alone, ordinary ones in UP, coalesced into
   * one write. Only one write is outstanding at a time, so the batch is encoded straight into
   * the connection's output writer and sent as a view of it.
   */
  readonly #pump = (): void => {
    this.#pumpScheduled = false;
    const conn = this.#conn;
    if (conn === null || this.#writing) return;
    const inFlight = this.#inFlight;
    let w = this.#out;
    if (w.capacity > OUT_KEEP_LIMIT && this.#outSmallBatches >= OUT_SHRINK_AFTER) {
      w = this.#out = new Writer(OUT_CAPACITY);
      this.#outSmallBatches = 0;
    }
    w.reset();
    const batch: Pending[] = [];
    if (this.#setupQueue.length > 0) {
      // Setup requests go one at a time, never beside other requests (max in-flight 1).
      if (inFlight.size > 0) return;
      this.#addToBatch(w, batch, this.#setupQueue.shift()!);
    } else if (this.#state === UP) {
      let room = this.#o.maxInFlight - inFlight.size;
      if (room <= 0 || this.#queuedCount === 0) return;
      const queue = this.#queue;
      // The batch may end one frame past the limit: a frame is only measured once encoded.
      while (room > 0 && w.length < COALESCE_LIMIT) {
        const p = queue.shift();
        if (p === undefined) break;
        // Settled while queued (aborted, timed out): #settle already counted it out.
        if (p.settled) continue;
        if (p.apiVersion < 0) {
          this.#pickVersion(p);
          if (p.settled) continue;
        }
        if (this.#addToBatch(w, batch, p) && p.expectResponse) room--;
      }
      for (let i = 0; i < batch.length && this.#spaceWaiters.length > 0; i++) {
        this.#wakeSpaceWaiter();
      }
    } else {
      if (this.#drainWaiter !== null && inFlight.size === 0) {
        const waiter = this.#drainWaiter;
        this.#drainWaiter = null;
        waiter.resolve();
      }
      return;
    }
    if (batch.length === 0) return;
    if (w.capacity > OUT_KEEP_LIMIT) {
      this.#outSmallBatches = w.length <= OUT_CAPACITY ? this.#outSmallBatches + 1 : 0;
    }
    this.#write(conn, batch, w.finish());
  };

  /**
   * Encodes one request into the batch with the next correlation id and registers it as in
   * flight; a request whose body fails to encode is settled with the error and left out.
   *
   * @returns Whether the request joined the batch.
   */
  #addToBatch(w: Writer, batch: Pending[], p: Pending): boolean {
    const id = this.#nextCorrelationId;
    const start = w.length;
    try {
      this.#encodeInto(w, p, id);
    } catch (error) {
      w.truncate(start);
      const what = `Encoding ${p.apiName} v${p.apiVersion} request`;
      this.#settle(p, encodeFailure(error, what, p.apiName, p.api !== null), undefined);
      return false;
    }
    // A 31-bit counter that wraps, never resets per connection: ids stay positive int32s.
    this.#nextCorrelationId = (id + 1) & 0x7fffffff;
    p.correlationId = id;
    if (!p.setup) this.#queuedCount--;
    p.stage = WRITING;
    p.bytesOut = w.length - start;
    this.#inFlight.set(id, p);
    batch.push(p);
    return true;
  }

  /** Writes an encoded batch in one call and tracks it until the runtime accepted it. */
  #write(conn: Conn, batch: Pending[], bytes: Uint8Array): void {
    const now = this.#o.clock.now();
    for (const p of batch) p.sentAt = now;
    this.#writing = true;
    this.#writes++;
    this.#sent += batch.length;
    const gen = this.#generation;
    const total = bytes.length;
    startWrite(conn, bytes).then(
      () => this.#onWritten(gen, batch, total),
      (error) => {
        if (gen === this.#generation) this.#fail(this.#annotate(error, "Writing to the broker"));
      },
    );
  }

  #onWritten(gen: number, batch: Pending[], total: number): void {
    if (gen !== this.#generation) return;
    const now = this.#o.clock.now();
    this.#writing = false;
    this.#bytesOut += total;
    this.#lastActivity = now;
    this.#emitBytes("out", total);
    for (const p of batch) {
      p.writtenAt = now;
      if (p.stage === WRITING) p.stage = IN_FLIGHT;
      if (!p.expectResponse) {
        this.#inFlight.delete(p.correlationId);
        this.#settle(p, null, undefined);
      }
    }
    this.#pump();
  }

  // ---------------------------------------------------------------------------------------
  // Reading

  async #readLoop(conn: Conn, gen: number): Promise<void> {
    const decoder = new FrameDecoder({ maxFrameSize: this.#o.maxFrameSize, minFrameSize: 0 });
    try {
      while (true) {
        const chunk = await conn.read();
        if (gen !== this.#generation) return;
        if (chunk === null) {
          this.#lose(this.#lostError(null));
          return;
        }
        this.#bytesIn += chunk.length;
        // One clock read per chunk serves every reply in it (many, when pipelining).
        const now = this.#o.clock.now();
        this.#lastActivity = now;
        this.#emitBytes("in", chunk.length);
        decoder.push(chunk);
        for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
          this.#onFrame(frame, now);
          if (gen !== this.#generation) return;
        }
        this.#schedulePump();
      }
    } catch (error) {
      if (gen !== this.#generation) return;
      // A TLS failure before UP is a configuration problem, not a lost connection: e.g. a
      // refused client certificate, which TLS 1.3 reports only after the client's side of the
      // handshake is done (during ApiVersions), where the lost-connection hint would blame the
      // security protocol instead.
      if (
        error instanceof FramingError || error instanceof AuthenticationError ||
        (error instanceof TlsError && !this.#established)
      ) {
        this.#fail(this.#annotate(error, "Reading from the broker"));
      } else this.#lose(this.#lostError(asKafkaError(error, "Reading from the broker")));
    }
  }

  /** The broker closed or reset the connection; see {@link BrokerConnection.#takeDeferredLoss}. */
  #lose(error: KafkaTransportError): void {
    if (this.#setupReplyPending) this.#deferredLoss = error;
    else this.#fail(error);
  }

  /**
   * Matches one reply frame to its request and settles it.
   *
   * @param frame The reply frame, without its size prefix.
   * @param now When the chunk holding it arrived.
   */
  #onFrame(frame: Uint8Array, now: number): void {
    if (this.#state === BrokerState.AUTH_LEGACY) {
      const waiter = this.#legacyWaiter;
      if (waiter === null) {
        throw new AuthenticationError(
          `Broker sent an unexpected frame during legacy SASL authentication${this.#where()}`,
        );
      }
      this.#legacyWaiter = null;
      this.#setupReplyPending = true;
      waiter.resolve(frame);
      return;
    }
    if (frame.length < 4) {
      throw new FramingError(
        `Invalid response size ${frame.length} (4..${this.#o.maxFrameSize}): a response holds at ` +
          `least a correlation id; the peer does not speak the Kafka protocol`,
        frame.length,
      );
    }
    const id = ((frame[0] << 24) | (frame[1] << 16) | (frame[2] << 8) | frame[3]) | 0;
    const p = this.#inFlight.get(id);
    if (p === undefined) {
      if (this.#orphans.delete(id)) {
        this.#consecutiveTimeouts = 0;
        this.#discardedReplies++;
      } else this.#unknownReplies++;
      return;
    }
    this.#inFlight.delete(id);
    this.#consecutiveTimeouts = 0;
    if (p.setup) this.#setupReplyPending = true;
    p.repliedAt = now;
    p.bytesIn = frame.length + 4;
    if (p.writtenAt < 0) p.writtenAt = now;
    if (p.stage === WRITING) p.stage = IN_FLIGHT;
    this.#rtt.record(now - p.sentAt);
    this.#replied++;
    let value: unknown;
    try {
      const r = new Reader(frame, 4);
      // ApiVersions replies always carry response header v0, whatever the request version.
      skipResponseHeaderTags(r, p.flexible && p.apiKey !== ApiVersions.key);
      value = p.api !== null ? p.api.decodeResponse(r, p.apiVersion) : p.decodeBody!(r);
    } catch (error) {
      // Frames are length-delimited, so a bad body fails only this request; the stream is fine.
      this.#settle(
        p,
        error instanceof DecodeError
          ? error
          : asKafkaError(error, `Decoding ${p.apiName} v${p.apiVersion} response`),
        undefined,
      );
      return;
    }
    this.#settle(p, null, value);
  }

  // ---------------------------------------------------------------------------------------
  // Timeouts

  #armRequestTimer(deadline: number): void {
    if (deadline >= this.#requestTimerAt) return;
    const clock = this.#o.clock;
    if (this.#requestTimer !== null) clock.clearTimeout(this.#requestTimer);
    this.#requestTimerAt = deadline;
    this.#requestTimer = clock.setTimeout(this.#scanTimeouts, Math.max(0, deadline - clock.now()));
  }

  /**
   * The one request timer: fails every expired request, then re-arms for the earliest
   * remaining deadline (instead of a timer per request).
   */
  readonly #scanTimeouts = (): void => {
    this.#requestTimer = null;
    this.#requestTimerAt = Infinity;
    const now = this.#o.clock.now();
    const where = this.#where();
    let next = Infinity;
    let teardown: KafkaTransportError | null = null;
    let expiredInFlight = 0;
    const up = this.#state === UP || this.#state === REAUTH;
    const lastFailure = up ? null : this.#lastError;
    const expire = (p: Pending): void => {
      this.#timedOut++;
      this.#settle(p, new RequestTimeoutError(p, true, where, lastFailure), undefined);
    };
    const queue = this.#queue;
    if (this.#queueOrdered) {
      // Deadlines rise from the front: only the front can have expired.
      for (let p = queue.peek(); p !== undefined; p = queue.peek()) {
        if (!p.settled && p.deadline > now) {
          next = p.deadline;
          break;
        }
        queue.shift();
        if (!p.settled) expire(p);
      }
    } else {
      let ordered = true;
      let last = -Infinity;
      queue.retain((p) => {
        if (p.settled) return false;
        if (p.deadline <= now) {
          expire(p);
          return false;
        }
        if (p.deadline < next) next = p.deadline;
        if (p.deadline < last) ordered = false;
        last = p.deadline;
        return true;
      });
      // The requests with shorter timeouts usually expire first, which restores the order.
      this.#queueOrdered = ordered;
      this.#queueTailDeadline = last;
    }
    for (const p of this.#setupQueue) {
      if (p.deadline <= now) teardown ??= this.#setupTimeoutError(p, where);
      else if (p.deadline < next) next = p.deadline;
    }
    for (const p of this.#inFlight.values()) {
      if (p.settled) continue;
      if (p.deadline > now) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      this.#timedOut++;
      this.#settle(p, new RequestTimeoutError(p, false, where), undefined);
      if (p.setup) teardown ??= this.#setupTimeoutError(p, where);
      else if (p.stage === WRITING) {
        // Another request written after a partly written one would be spliced into it.
        teardown ??= new TimeoutError(
          `Request ${p.apiName} v${p.apiVersion} (correlation id ${p.correlationId}) timed ` +
            `out while partly written: disconnecting so that no other request is spliced into ` +
            `it${where}`,
        );
      } else expiredInFlight++;
    }
    if (teardown === null && expiredInFlight > 0) {
      this.#consecutiveTimeouts += expiredInFlight;
      const limit = this.#o.socketMaxFails;
      if (limit > 0 && this.#consecutiveTimeouts >= limit) {
        teardown = new TimeoutError(
          `${this.#consecutiveTimeouts} request(s) timed out: disconnecting (socketMaxFails ` +
            `${limit}); check broker load and requestTimeoutMs${where}`,
        );
      }
    }
    if (teardown !== null) this.#fail(teardown);
    // Deadlines that remain re-arm the timer. The teardown settled what was in flight, so
    // `next` may belong to a settled request: re-arm only while something still waits (an
    // early firing then just re-arms for the real next deadline).
    const waiting = this.#outstanding > 0 || this.#inFlight.size > 0 ||
      this.#setupQueue.length > 0;
    if (next < Infinity && waiting) this.#armRequestTimer(next);
  };

  #setupTimeoutError(p: Pending, where: string): KafkaTransportError {
    const hint = p.apiKey === ApiVersions.key
      ? ": the broker may be older than 0.10, or the listener may expect TLS or not be Kafka"
      : "";
    return new TimeoutError(
      `Connection setup request ${p.apiName} v${p.apiVersion} got no reply within ` +
        `${p.timeoutMs} ms${hint}${where}`,
    );
  }

  // ---------------------------------------------------------------------------------------
  // Connection lifecycle

  /** Starts connecting if the connection is idle (INIT or DOWN); otherwise nothing to do. */
  #want(reason: string): void {
    if (this.#closed || (this.#state !== INIT && this.#state !== DOWN)) return;
    const delay = backoffDelay(this.#backoff, this.#o.clock.now());
    this.#enter(
      TRY_CONNECT,
      delay > 0 ? `${reason}; reconnect backoff ${Math.ceil(delay)} ms` : reason,
    );
    if (delay === 0) {
      void this.#dial();
      return;
    }
    this.#backoffTimer = this.#o.clock.setTimeout(() => {
      this.#backoffTimer = null;
      void this.#dial();
    }, delay);
  }

  /** One connection attempt: dial, ApiVersions, SASL, UP. */
  async #dial(): Promise<void> {
    const o = this.#o;
    const gen = ++this.#generation;
    this.#backoff = recordAttempt(this.#backoff, o.clock.now(), o.random, {
      initialMs: o.reconnectBackoffMs,
      maxMs: o.reconnectBackoffMaxMs,
    });
    this.#enter(CONNECT, `dialling ${this.#address}`);
    this.#setupTimer = o.clock.setTimeout(
      () => this.#onSetupTimeout(gen),
      o.connectionSetupTimeoutMs,
    );
    if (o.tls !== undefined) {
      // The connector does TCP and TLS in one call, so this state covers both: entered as
      // soon as a TLS dial starts (CONNECT's own time is then zero).
      this.#enter(SSL_HANDSHAKE, "dialling with TLS (TCP connect and TLS handshake together)");
    }
    const abort = new AbortController();
    this.#dialAbort = abort;
    let conn: Conn;
    try {
      conn = await o.connector({
        host: o.host,
        port: o.port,
        tls: o.tls,
        signal: abort.signal,
        noDelay: o.noDelay,
        keepAlive: o.keepAlive,
      });
    } catch (error) {
      if (gen === this.#generation) {
        this.#fail(this.#annotate(error, `Connecting to ${this.#address}`));
      }
      return;
    }
    if (gen !== this.#generation) {
      closeQuietly(conn);
      return;
    }
    this.#dialAbort = null;
    this.#conn = conn;
    this.#consecutiveTimeouts = 0;
    const channel = this.#makeChannel(gen);
    this.#channel = channel;
    void this.#readLoop(conn, gen);
    this.#enter(APIVERSION_QUERY, `connected to ${this.#address}`);
    try {
      const apis = await negotiateApiVersions(
        channel,
        o.clientSoftwareName,
        o.clientSoftwareVersion,
        o.apiVersionRequestTimeoutMs,
      );
      channel.check();
      this.#brokerApis = apis;
      this.#apiVersionsMap = new Map(
        apis.map((a) => [a.apiKey, { min: a.minVersion, max: a.maxVersion }]),
      );
      const lifetimeMs = o.sasl === undefined ? 0 : await authenticate(channel, o.sasl, apis);
      channel.check();
      this.#up(gen, lifetimeMs, false);
    } catch (error) {
      if (gen === this.#generation) this.#fail(this.#annotate(error, "Connection setup"));
    }
  }

  #makeChannel(gen: number): SetupChannel {
    return {
      call: (api, version, request, timeoutMs) =>
        this.#setupCall(gen, api, version, request, timeoutMs ?? this.#o.requestTimeoutMs),
      legacyRoundTrip: (token) => this.#legacyRoundTrip(gen, token),
      enter: (state, reason) => {
        if (gen === this.#generation) this.#enter(state, reason);
      },
      check: () => {
        if (gen !== this.#generation) throw new StaleSetupError("connection attempt superseded");
      },
      where: () => this.#where(),
    };
  }

  #legacyRoundTrip(gen: number, token: Uint8Array): Promise<Uint8Array> {
    const conn = this.#conn;
    if (gen !== this.#generation || conn === null) {
      return Promise.reject(new StaleSetupError("connection attempt superseded"));
    }
    const lost = this.#takeDeferredLoss();
    if (lost !== null) return Promise.reject(lost);
    const frame = new Uint8Array(4 + token.length);
    new DataView(frame.buffer).setInt32(0, token.length);
    frame.set(token, 4);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#legacyWaiter = { resolve, reject };
      this.#writes++;
      startWrite(conn, frame).then(
        () => {
          if (gen !== this.#generation) return;
          this.#bytesOut += frame.length;
          this.#emitBytes("out", frame.length);
        },
        (error) => {
          if (gen === this.#generation) this.#fail(this.#annotate(error, "Writing SASL token"));
        },
      );
    });
  }

  #up(gen: number, lifetimeMs: number, reauth: boolean): void {
    if (this.#takeDeferredLoss() !== null) return;
    const o = this.#o;
    const now = o.clock.now();
    if (this.#setupTimer !== null) o.clock.clearTimeout(this.#setupTimer);
    this.#setupTimer = null;
    if (!reauth) {
      this.#connects++;
      this.#upAt = now;
      this.#established = true;
    }
    this.#lastActivity = now;
    this.#enter(
      UP,
      reauth ? "re-authenticated" : o.sasl === undefined ? "ApiVersions done" : "authenticated",
    );
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.resolve();
    if (lifetimeMs > 0 && o.sasl !== undefined) {
      this.#reauthTimer = o.clock.setTimeout(
        () => this.#startReauth(gen, lifetimeMs),
        Math.floor(lifetimeMs * REAUTH_AT),
      );
    }
    if (!reauth) this.#armIdle();
    this.#schedulePump();
  }

  /** KIP-368: hold new requests, drain in-flight ones, authenticate again, then resume. */
  #startReauth(gen: number, lifetimeMs: number): void {
    this.#reauthTimer = null;
    const o = this.#o;
    if (gen !== this.#generation || this.#state !== UP || o.sasl === undefined) return;
    const channel = this.#channel!;
    const sasl = o.sasl;
    this.#enter(
      REAUTH,
      `SASL session lifetime ${lifetimeMs} ms ending: re-authenticating after ` +
        `${this.#inFlight.size} in-flight request(s) drain`,
    );
    this.#setupTimer = o.clock.setTimeout(
      () => this.#onSetupTimeout(gen),
      o.connectionSetupTimeoutMs,
    );
    const drained = new Promise<void>((resolve, reject) => {
      this.#drainWaiter = { resolve, reject };
    });
    this.#schedulePump();
    (async () => {
      try {
        await drained;
        channel.check();
        const next = await authenticate(channel, sasl, this.#brokerApis!);
        channel.check();
        this.#up(gen, next, true);
      } catch (error) {
        // A broker may refuse on a live connection what it accepts on a new one (a principal
        // change, say): the held requests wait for one fresh connection, whose own
        // authentication failing fails them, so a refusal never turns into a redial storm.
        if (gen === this.#generation) {
          this.#fail(this.#annotate(error, "Re-authentication"), undefined, true);
        }
      }
    })();
  }

  /**
   * A broker answers a failed setup step (SASL error, refused ApiVersions) and then closes the
   * connection; the close can be read before the setup steps have looked at the answer. The
   * read loop then holds the loss back, so that the answer's error (say, the broker's
   * authentication message) is the one reported; this applies it once the steps move on.
   *
   * @returns The held-back loss, after failing the connection with it; `null` if none.
   */
  #takeDeferredLoss(): KafkaTransportError | null {
    this.#setupReplyPending = false;
    const lost = this.#deferredLoss;
    if (lost !== null) this.#fail(lost);
    return lost;
  }

  #onSetupTimeout(gen: number): void {
    this.#setupTimer = null;
    if (gen !== this.#generation) return;
    this.#fail(
      new ConnectionSetupTimeoutError(this.#state, this.#o.connectionSetupTimeoutMs, this.#where()),
    );
  }

  #armIdle(): void {
    const ms = this.#o.connectionsMaxIdleMs;
    if (ms === 0) return;
    // librdkafka subtracts up to 2 s so that many connections do not all close at once; at
    // most half the setting here, so that small settings keep their meaning.
    this.#idleLimit = ms - Math.floor(this.#o.random() * Math.min(2000, ms / 2));
    this.#idleTimer = this.#o.clock.setTimeout(this.#onIdleCheck, this.#idleLimit);
  }

  /** Closes the connection quietly once nothing has moved on it for the idle limit. */
  readonly #onIdleCheck = (): void => {
    this.#idleTimer = null;
    const clock = this.#o.clock;
    const busy = this.#state !== UP || this.#outstanding > 0 || this.#inFlight.size > 0 ||
      this.#writing;
    const idle = clock.now() - this.#lastActivity;
    if (!busy && idle >= this.#idleLimit) {
      this.#fail(
        new ConnectionClosedError(
          `Connection idle for ${Math.round(idle)} ms (connectionsMaxIdleMs ` +
            `${this.#o.connectionsMaxIdleMs}): closed${this.#where()}`,
        ),
        "idle",
      );
      return;
    }
    const wait = busy ? this.#idleLimit : this.#idleLimit - idle;
    this.#idleTimer = clock.setTimeout(this.#onIdleCheck, wait);
  };

  /**
   * Brings the connection DOWN: closes the socket, fails in-flight and setup requests, keeps
   * the queued ones (re-dialling for them) unless the error is not retriable.
   *
   * @param error Why.
   * @param quietReason Set for an idle close: the reason shown, and nothing is reported as an
   *   error.
   * @param keepQueued Keep the queued requests even though the error is not retriable.
   */
  #fail(error: KafkaTransportError, quietReason?: string, keepQueued = false): void {
    this.#teardown(error, quietReason !== undefined);
    this.#enter(DOWN, quietReason ?? error.message);
    if (quietReason === undefined && !error.retriable && !keepQueued) this.#failQueued(error);
    this.#disarmRequestTimerIfIdle();
    if (this.#queuedCount > 0) this.#want(`${this.#queuedCount} request(s) queued`);
  }

  /** Everything of {@link BrokerConnection.#fail} except the state change and re-dial. */
  #teardown(error: KafkaTransportError, quiet: boolean): void {
    const clock = this.#o.clock;
    const hadAttempt = this.#state !== INIT && this.#state !== DOWN &&
      this.#state !== TRY_CONNECT;
    this.#generation++;
    for (const t of [this.#setupTimer, this.#idleTimer, this.#reauthTimer, this.#backoffTimer]) {
      if (t !== null) clock.clearTimeout(t);
    }
    this.#setupTimer =
      this.#idleTimer =
      this.#reauthTimer =
      this.#backoffTimer =
        null;
    this.#dialAbort?.abort(error);
    this.#dialAbort = null;
    const conn = this.#conn;
    this.#conn = null;
    this.#channel = null;
    if (conn !== null) closeQuietly(conn, quiet ? undefined : error);
    // A write still pending on the old connection may yet read its buffer, and a buffer grown
    // by large requests need not outlive the connection: start a new one in either case.
    if (this.#writing || this.#out.capacity > OUT_KEEP_LIMIT) {
      this.#out = new Writer(OUT_CAPACITY);
      this.#outSmallBatches = 0;
    }
    this.#writing = false;
    this.#established = false;
    this.#setupReplyPending = false;
    this.#deferredLoss = null;
    if (hadAttempt) this.#disconnects++;
    if (!quiet) this.#lastError = error;
    this.#legacyWaiter?.reject(error);
    this.#legacyWaiter = null;
    this.#drainWaiter?.reject(error);
    this.#drainWaiter = null;
    const inFlight = [...this.#inFlight.values()];
    this.#inFlight.clear();
    this.#orphans.clear();
    for (const p of inFlight) this.#settle(p, error, undefined);
    const setup = this.#setupQueue;
    this.#setupQueue = [];
    for (const p of setup) this.#settle(p, error, undefined);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  #failQueued(error: KafkaTransportError): void {
    for (const p of this.#queue.drain()) this.#settle(p, error, undefined);
  }

  /** Waits for every accepted request to settle, or the deadline. */
  async #drainForClose(deadlineMs: number): Promise<void> {
    const clock = this.#o.clock;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(() => resolve(), deadlineMs);
      this.#onDrained = () => {
        clock.clearTimeout(timer);
        resolve();
      };
    });
    this.#onDrained = null;
  }

  /** Final close: fails whatever is left, stops every timer and the socket. */
  #shutdown(): void {
    this.#closed = true;
    const error = this.#closedError("the request");
    this.#teardown(error, true);
    if (this.#requestTimer !== null) this.#o.clock.clearTimeout(this.#requestTimer);
    this.#requestTimer = null;
    this.#requestTimerAt = Infinity;
    this.#failQueued(error);
    if (this.#state !== DOWN) this.#enter(DOWN, "closed");
  }

  // ---------------------------------------------------------------------------------------
  // State and diagnostics

  #enter(to: BrokerState, reason: string): void {
    const now = this.#o.clock.now();
    const change: StateChange = {
      from: this.#state,
      to,
      reason,
      elapsedMs: now - this.#stateSince,
      at: now,
    };
    this.#state = to;
    this.#stateSince = now;
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // Listeners observe; a failing one must not break the state machine.
      }
    }
    try {
      this.#o.hooks.onStateChange?.(change);
    } catch {
      // As above.
    }
  }

  #emitBytes(direction: "in" | "out", n: number): void {
    const onBytes = this.#o.hooks.onBytes;
    if (onBytes === undefined) return;
    try {
      onBytes(direction, n);
    } catch {
      // Hooks observe; a failing observer must not break the connection.
    }
  }

  /** @returns " (after N ms in state X)", the suffix of every message from this connection. */
  #where(): string {
    const ms = Math.round(this.#o.clock.now() - this.#stateSince);
    return ` (after ${ms} ms in state ${this.#state})`;
  }

  /** Adds the state suffix (and the TLS hint) to an error from below, keeping its class. */
  #annotate(error: unknown, context: string): KafkaTransportError {
    const e = asKafkaError(error, context);
    if (/ \(after \d+ ms in state [A-Z_]+\)$/.test(e.message)) return e;
    let hint = "";
    if (this.#state === SSL_HANDSHAKE && e instanceof ConnectionClosedError) {
      hint = ": the peer hung up during the TLS handshake; connecting to a PLAINTEXT listener?";
    }
    e.message = `${e.message}${hint}${this.#where()}`;
    return e;
  }

  /**
   * The error for a connection the broker closed or reset, with librdkafka's hints, in words
   * and as {@link ConnectionClosedError.hint}.
   */
  #lostError(cause: KafkaTransportError | null): KafkaTransportError {
    const now = this.#o.clock.now();
    // Only a hang-up while a token awaits its answer is the refusal: after the broker's last
    // token the authentication succeeded, and a close then is an ordinary loss.
    if (cause === null && this.#state === BrokerState.AUTH_LEGACY && this.#legacyWaiter !== null) {
      // Brokers without SaslAuthenticate have no error reply: hanging up is how they refuse
      // the credentials, so a clean close here is an authentication failure, not retried.
      return new AuthenticationError(
        `SASL ${this.#o.sasl?.name} authentication failed: ${this.#address} closed the ` +
          `connection during legacy (SaslHandshake v0) authentication, which is how such ` +
          `brokers refuse credentials — check the SASL mechanism and credentials${this.#where()}`,
      );
    }
    let hint: ConnectionLossHint | undefined;
    let text = "";
    if (this.#state === APIVERSION_QUERY) {
      hint = "security-protocol";
      text = ": incorrect security protocol (TLS listener?) or broker version < 0.10";
    } else if (
      // A clean close only, as librdkafka: a SASL listener hangs up politely on the first
      // non-SASL request, while a reset (a crashed broker) says nothing about SASL.
      cause === null && this.#state === UP && this.#o.sasl === undefined &&
      now - this.#upAt < SASL_HINT_WINDOW_MS
    ) {
      hint = "sasl-required";
      text = ": broker might require SASL authentication";
    } else if (this.#state === BrokerState.AUTH_LEGACY || this.#state === BrokerState.AUTH_REQ) {
      hint = "sasl-credentials";
      text = ": check the SASL mechanism and credentials";
    }
    const what = cause === null ? "closed by the broker" : `lost: ${cause.message}`;
    return new ConnectionClosedError(
      `Connection to ${this.#address} ${what}${text}${this.#where()}`,
      cause === null ? { hint } : { cause, hint },
    );
  }

  #closedError(what: string): BrokerClosedError {
    return new BrokerClosedError(
      `Connection to ${this.#address} was closed by its owner (close()) before ${what} ` +
        `completed${this.#where()}`,
    );
  }

  #abortError(what: string, signal: AbortSignal): AbortError {
    return new AbortError(`${what} aborted${this.#where()}`, { cause: signal.reason });
  }
}
