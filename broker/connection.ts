/**
 * One connection to one Kafka broker: the public API and the librdkafka-style state machine
 * (connect, ApiVersions, SASL, UP, re-authentication, backoff and reconnect). The parts it is
 * built from: a `BrokerSocket` per dial (read loop, setup timer, legacy SASL), the `Pipeline`
 * (queue, in-flight table, batching, timeouts, settling), and small pieces for queue
 * admission, idle reaping, re-authentication scheduling and error wording.
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

import { type ApiSpec, isFlexible } from "../protocol/api.ts";
import { apiName, type ApiVersionRange, highestCommonVersion } from "../protocol/api_versions.ts";
import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import type { Conn } from "../transport/conn.ts";
import type { TimerHandle } from "../transport/clock.ts";
import {
  AbortError,
  asKafkaError,
  ConfigError,
  ConnectionClosedError,
  KafkaTransportError,
} from "../transport/errors.ts";
import { backoffDelay, type BackoffState, INITIAL_BACKOFF, recordAttempt } from "./backoff.ts";
import {
  BrokerClosedError,
  ConnectionSetupTimeoutError,
  QueueFullError,
  UnsupportedVersionError,
  type VersionRange,
} from "./errors.ts";
import { authenticate, negotiateApiVersions, type SetupChannel } from "./handshake.ts";
import { IdleReaper } from "./idle.ts";
import {
  type BrokerConnectionOptions,
  type ResolvedBrokerOptions,
  resolveOptions,
} from "./options.ts";
import {
  type Pending,
  rawPending,
  sendPending,
  setupPending,
  track,
  type Tracking,
} from "./pending.ts";
import { emitBytes, Pipeline } from "./pipeline.ts";
import { ReauthSchedule } from "./reauth.ts";
import { BrokerSocket, type SocketOwner } from "./socket.ts";
import { BrokerState, type StateChange } from "./state.ts";
import { type BrokerStats, Counters } from "./stats.ts";
import {
  dialHint,
  encodeFailure,
  isConnectionLoss,
  legacyRefusal,
  lostError,
  queuedTimeoutReason,
  where,
  withContext,
} from "./wording.ts";

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

/** Fires after the connection fails, so that awaits in a stale setup stop. */
class StaleSetupError extends ConnectionClosedError {}

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
  readonly #counters = new Counters();
  readonly #pipeline: Pipeline;
  readonly #idle: IdleReaper;
  readonly #reauth: ReauthSchedule;
  readonly #owner: SocketOwner;

  #state: BrokerState = INIT;
  #stateSince: number;
  readonly #listeners = new Set<(change: StateChange) => void>();
  /** Changes not yet told to every listener: a change made by a listener waits its turn. */
  readonly #changes: StateChange[] = [];
  #emitting = false;

  /** The current dial and its socket; whatever an older one reports is ignored. */
  #socket: BrokerSocket | null = null;
  #brokerApis: ApiVersionRange[] | null = null;
  #apiVersionsMap: ReadonlyMap<number, VersionRange> | null = null;
  /** The version picked per codec for the current ApiVersions reply. */
  readonly #versions = new Map<ApiSpec<unknown, unknown>, number>();
  #established = false;
  #upAt = 0;
  #backoff: BackoffState = INITIAL_BACKOFF;
  #backoffTimer: TimerHandle | null = null;
  #turnNow = -1;

  #connectWaiters: Waiter[] = [];
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | null = null;
  #lastError: KafkaTransportError | null = null;

  /**
   * Creates the connection object; nothing is dialled until the first request or `connect()`.
   *
   * @param options Address, connector and tuning; see {@link BrokerConnectionOptions}.
   * @throws {ConfigError} Naming the first invalid option.
   */
  constructor(options: BrokerConnectionOptions) {
    const o = resolveOptions(options);
    this.#o = o;
    this.#address = `${o.host}:${o.port}`;
    this.#stateSince = o.clock.now();
    const pipeline = new Pipeline(o, {
      isUp: () => this.#state === UP,
      where: () => this.#where(),
      versionOf: (api) => this.#versionOf(api),
      queuedTimeout: () => {
        const up = this.#state === UP || this.#state === REAUTH;
        const cause = up ? null : this.#lastError;
        return { reason: queuedTimeoutReason(this.#state, cause, o.maxInFlight), cause };
      },
      wantConnection: (reason) => this.#want(reason),
      teardown: (error) => this.#fail(error),
      writeFailed: (socket, error) => this.#ioFailed(socket, error, "Writing to the broker"),
    }, this.#counters);
    this.#pipeline = pipeline;
    const counters = this.#counters;
    this.#owner = {
      reply: (frame, now) => pipeline.reply(frame, now),
      received: (bytes) => {
        counters.bytesIn += bytes;
        // One clock read per chunk serves every reply in it (many, when pipelining).
        const now = o.clock.now();
        pipeline.touch(now);
        if (o.hooks.onBytes !== undefined) emitBytes(o.hooks.onBytes, "in", bytes);
        return now;
      },
      chunkDone: () => pipeline.schedulePump(),
      readEnded: (socket, error) => {
        if (socket !== this.#socket) return;
        if (error === null) socket.lose(this.#lostError(socket, null), this.#failWith);
        else this.#ioFailed(socket, error, "Reading from the broker");
      },
    };
    this.#idle = new IdleReaper(o.clock, o.random, o.connectionsMaxIdleMs, {
      busy: () => this.#state !== UP || !pipeline.idle,
      lastActivity: () => pipeline.lastActivity,
      reap: (idleMs) =>
        this.#fail(
          new ConnectionClosedError(
            `Connection idle for ${Math.round(idleMs)} ms (connectionsMaxIdleMs ` +
              `${o.connectionsMaxIdleMs}): closed${this.#where()}`,
          ),
          "idle",
        ),
    });
    this.#reauth = new ReauthSchedule(o.clock);
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
   * Subscribes to state changes. Every listener is told of a change before any is told of the
   * next one, including changes a listener causes (a `send()` from a DOWN listener dials), and
   * only once the connection has finished the change (failed or kept what was pending).
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
   * Sends a request through an API codec at the highest version both sides support. The
   * version is picked, and the body encoded, just before the request is written (after the
   * broker's ApiVersions reply, connecting first if needed).
   *
   * @param api The API codec.
   * @param request The request value.
   * @param options Timeout, abort signal, queue waiting, and whether a reply is expected.
   * @returns The decoded response (`undefined` when `expectResponse` is false).
   *   Rejects with `UnsupportedVersionError`, before anything is written, when no version is
   *   common; otherwise as {@link BrokerConnection.request}.
   */
  send<Req, Res>(api: ApiSpec<Req, Res>, request: Req, options: SendOptions = {}): Promise<Res> {
    if (this.#pipeline.mustWait() && !this.#closing) {
      return this.#roomInQueue(options.wait, options.signal).then(() => {
        this.#pipeline.admission.claim();
        return this.#send(api, request, options);
      });
    }
    return this.#send(api, request, options);
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
    if (this.#pipeline.mustWait() && !this.#closing) {
      return this.#roomInQueue(req.wait, req.signal).then(() => {
        this.#pipeline.admission.claim();
        return this.#request(req, expectResponse);
      });
    }
    return this.#request(req, expectResponse);
  }

  /**
   * Takes a snapshot of the connection's counters.
   *
   * @returns The state, counters and round-trip times.
   */
  stats(): BrokerStats {
    const c = this.#counters;
    return {
      state: this.#state,
      connects: c.connects,
      disconnects: c.disconnects,
      requestsSent: c.sent,
      requestsReplied: c.replied,
      requestsTimedOut: c.timedOut,
      bytesOut: c.bytesOut,
      bytesIn: c.bytesIn,
      inFlight: this.#pipeline.inFlight,
      queued: this.#pipeline.queued,
      unknownReplies: c.unknownReplies,
      discardedReplies: c.discardedReplies,
      writes: c.writes,
      rtt: c.rtt.summary(),
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
    this.#pipeline.admission.rejectAll(() => this.#closedError("a request waiting for queue room"));
    this.#closePromise = (async () => {
      if (graceful && this.#pipeline.outstanding > 0) await this.#drainForClose(deadlineMs);
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

  /** Waits for room in the out queue (in line), or rejects at once for `{ wait: false }`. */
  #roomInQueue(wait: boolean | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (wait === false) {
      return Promise.reject(new QueueFullError(this.#o.maxQueued, this.#where()));
    }
    const what = "a request waiting for queue room";
    if (signal?.aborted) return Promise.reject(this.#abortError(what, signal));
    return this.#pipeline.admission.wait(signal, (s) => this.#abortError(what, s));
  }

  #send<Req, Res>(api: ApiSpec<Req, Res>, request: Req, options: SendOptions): Promise<Res> {
    let expectResponse: boolean;
    try {
      expectResponse = options.expectResponse ?? api.expectsResponse?.(request) ?? true;
    } catch (error) {
      return Promise.reject(
        encodeFailure(error, `Preparing a ${api.name} request`, api.name, true),
      );
    }
    const t = this.#tracking(api.name, -1, options.timeoutMs, options.signal);
    if (t instanceof KafkaTransportError) return Promise.reject(t);
    const spec = api as ApiSpec<unknown, unknown>;
    return track(sendPending(spec, request, expectResponse, t), this.#enqueue);
  }

  #request<T>(req: BrokerRequest<T>, expectResponse: boolean): Promise<T> {
    const name = req.apiName ?? apiName(req.apiKey);
    const t = this.#tracking(name, req.apiVersion, req.timeoutMs, req.signal);
    if (t instanceof KafkaTransportError) return Promise.reject(t);
    const invalid = headerFieldError(req.apiKey, req.apiVersion);
    if (invalid !== null) return Promise.reject(invalid);
    return track(rawPending(req, name, expectResponse, t), this.#enqueue);
  }

  /**
   * Checks what every ordinary request is checked for before it is queued.
   *
   * @returns Its timeout, time and signal, or the error to reject with.
   */
  #tracking(
    name: string,
    version: number,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Tracking | KafkaTransportError {
    const what = version >= 0 ? `Request ${name} v${version}` : `Request ${name}`;
    if (this.#closing) return this.#closedError(what);
    if (signal?.aborted) return this.#abortError(`${what} before it was queued`, signal);
    const timeout = timeoutMs ?? this.#o.requestTimeoutMs;
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      return new ConfigError(
        `Request ${name} timeoutMs must be a positive number, got ${timeoutMs}`,
      );
    }
    return { timeoutMs: timeout, now: this.#submitNow(), signal };
  }

  readonly #enqueue = (p: Pending): void => {
    const signal = p.signal;
    if (signal !== undefined) {
      p.onAbort = () => {
        if (p.settled) return;
        const what = p.correlationId < 0
          ? `Request ${p.apiName}${p.apiVersion >= 0 ? ` v${p.apiVersion}` : ""} before it ` +
            `was sent`
          : `Request ${p.apiName} v${p.apiVersion} (correlation id ${p.correlationId}) after ` +
            `it was sent; its reply will be discarded`;
        this.#pipeline.settle(p, this.#abortError(what, signal), undefined);
      };
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    this.#pipeline.enqueue(p);
  };

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

  /** The version of a `send()`, picked once per codec and ApiVersions reply. */
  #versionOf(api: ApiSpec<unknown, unknown>): number {
    const known = this.#versions.get(api);
    if (known !== undefined) return known;
    const version = this.selectVersion(api);
    this.#versions.set(api, version);
    return version;
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
    this.#backoff = recordAttempt(this.#backoff, o.clock.now(), o.random, {
      initialMs: o.reconnectBackoffMs,
      maxMs: o.reconnectBackoffMaxMs,
    });
    const socket = new BrokerSocket(this.#owner, o.clock, o.maxFrameSize);
    this.#socket = socket;
    this.#enter(CONNECT, `dialling ${this.#address}`);
    socket.armSetupTimer(o.connectionSetupTimeoutMs, () => this.#onSetupTimeout(socket));
    if (o.tls !== undefined) {
      // The connector does TCP and TLS in one call, so this state covers both: entered as
      // soon as a TLS dial starts (CONNECT's own time is then zero).
      this.#enter(SSL_HANDSHAKE, "dialling with TLS (TCP connect and TLS handshake together)");
    }
    let conn: Conn;
    try {
      conn = await o.connector({
        host: o.host,
        port: o.port,
        tls: o.tls,
        signal: socket.dialSignal,
        noDelay: o.noDelay,
        keepAlive: o.keepAlive,
      });
    } catch (error) {
      if (socket === this.#socket) {
        const hint = dialHint(this.#state, error);
        this.#fail(withContext(error, `Connecting to ${this.#address}`, this.#where(), hint));
      }
      return;
    }
    if (!socket.open(conn)) return;
    if (o.tls !== undefined && conn.secure !== true) {
      // Checked before anything is written: SASL PLAIN must never go out in the clear.
      const name = o.connector.name === "" ? "(anonymous)" : o.connector.name;
      this.#fail(
        new ConfigError(
          `BrokerConnection option tls is set, but connector ${name} returned a connection ` +
            `that is not secure (Conn.secure is ${String(conn.secure)}): nothing was sent on ` +
            `it; use a connector that dials TLS when ConnectOptions.tls is given${this.#where()}`,
        ),
      );
      return;
    }
    this.#pipeline.attach(socket);
    const channel = this.#channel(socket);
    socket.start();
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
      this.#versions.clear();
      this.#apiVersionsMap = new Map(
        apis.map((a) => [a.apiKey, { min: a.minVersion, max: a.maxVersion }]),
      );
      const lifetimeMs = o.sasl === undefined ? 0 : await authenticate(channel, o.sasl, apis);
      channel.check();
      this.#up(socket, channel, lifetimeMs, false);
    } catch (error) {
      if (socket === this.#socket) {
        this.#fail(withContext(error, "Connection setup", this.#where()));
      }
    }
  }

  /** The setup steps' view of one socket; everything it does is ignored once it is gone. */
  #channel(socket: BrokerSocket): SetupChannel {
    const stale = () => new StaleSetupError("connection attempt superseded");
    return {
      call: (api, version, request, timeoutMs) => {
        if (socket !== this.#socket) return Promise.reject(stale());
        const lost = this.#takeDeferredLoss(socket);
        if (lost !== null) return Promise.reject(lost);
        const spec = api as ApiSpec<unknown, unknown>;
        const t = {
          timeoutMs: timeoutMs ?? this.#o.requestTimeoutMs,
          now: this.#o.clock.now(),
          signal: undefined,
        };
        const p = setupPending(spec, version, isFlexible(api, version), request, t);
        return track(p, this.#enqueueSetup);
      },
      legacyRoundTrip: (token) => {
        if (socket !== this.#socket) return Promise.reject(stale());
        const lost = this.#takeDeferredLoss(socket);
        if (lost !== null) return Promise.reject(lost);
        this.#counters.writes++;
        return socket.legacyRoundTrip(token, (bytes) => {
          this.#counters.bytesOut += bytes;
          if (this.#o.hooks.onBytes !== undefined) emitBytes(this.#o.hooks.onBytes, "out", bytes);
        }, (error) => this.#ioFailed(socket, error, "Writing SASL token"));
      },
      enter: (state, reason) => {
        if (socket !== this.#socket) return;
        socket.setLegacy(state === BrokerState.AUTH_LEGACY);
        this.#enter(state, reason);
      },
      check: () => {
        if (socket !== this.#socket) throw stale();
      },
    };
  }

  /** Applies a loss held back behind a setup reply, now that the setup steps moved on. */
  #takeDeferredLoss(socket: BrokerSocket): KafkaTransportError | null {
    const lost = socket.takeDeferredLoss();
    if (lost !== null) this.#fail(lost);
    return lost;
  }

  #up(socket: BrokerSocket, channel: SetupChannel, lifetimeMs: number, reauth: boolean): void {
    if (this.#takeDeferredLoss(socket) !== null) return;
    const o = this.#o;
    const now = o.clock.now();
    socket.clearSetupTimer();
    socket.setLegacy(false);
    if (!reauth) {
      this.#counters.connects++;
      this.#upAt = now;
      this.#established = true;
      this.#idle.start();
    }
    this.#pipeline.touch(now);
    if (o.sasl !== undefined) {
      this.#reauth.arm(lifetimeMs, (ms) => this.#startReauth(socket, channel, ms));
    }
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    this.#enter(
      UP,
      reauth ? "re-authenticated" : o.sasl === undefined ? "ApiVersions done" : "authenticated",
    );
    for (const w of waiters) w.resolve();
    this.#pipeline.schedulePump();
  }

  /**
   * KIP-368: hold new requests, drain in-flight ones, authenticate again, then resume. The
   * drain is bounded by the in-flight requests' own timeouts (a long-poll Fetch may take longer
   * than the setup timeout); the setup timeout bounds the authentication after it.
   */
  #startReauth(socket: BrokerSocket, channel: SetupChannel, lifetimeMs: number): void {
    const o = this.#o;
    if (socket !== this.#socket || this.#state !== UP || o.sasl === undefined) return;
    const sasl = o.sasl;
    this.#enter(
      REAUTH,
      `SASL session lifetime ${lifetimeMs} ms ending: re-authenticating after ` +
        `${this.#pipeline.inFlight} in-flight request(s) drain`,
    );
    (async () => {
      try {
        await this.#pipeline.drainInFlight();
        channel.check();
        socket.armSetupTimer(o.connectionSetupTimeoutMs, () => this.#onSetupTimeout(socket));
        const next = await authenticate(channel, sasl, this.#brokerApis!);
        channel.check();
        this.#up(socket, channel, next, true);
      } catch (error) {
        // A broker may refuse on a live connection what it accepts on a new one (a principal
        // change, say): the held requests wait for one fresh connection, whose own
        // authentication failing fails them, so a refusal never turns into a redial storm.
        if (socket === this.#socket) {
          this.#fail(withContext(error, "Re-authentication", this.#where()), undefined, true);
        }
      }
    })();
  }

  #onSetupTimeout(socket: BrokerSocket): void {
    if (socket !== this.#socket) return;
    this.#fail(
      new ConnectionSetupTimeoutError(this.#state, this.#o.connectionSetupTimeoutMs, this.#where()),
    );
  }

  /**
   * A read or write on `socket` failed: the same rule for both (see
   * {@link isConnectionLoss}). A loss may be held back behind a setup reply.
   */
  #ioFailed(socket: BrokerSocket, error: unknown, context: string): void {
    if (socket !== this.#socket) return;
    if (isConnectionLoss(error, this.#established)) {
      socket.lose(this.#lostError(socket, asKafkaError(error, context)), this.#failWith);
    } else this.#fail(withContext(error, context, this.#where()));
  }

  readonly #enqueueSetup = (p: Pending): void => this.#pipeline.enqueueSetup(p);

  readonly #failWith = (error: KafkaTransportError): void => this.#fail(error);

  /**
   * Brings the connection DOWN: drops the socket, fails in-flight and setup requests, fails
   * the queued ones too unless the error is retriable (else re-dials for them), and only then
   * tells the listeners.
   *
   * @param error Why.
   * @param quietReason Set for an idle close: the reason shown, and nothing is reported as an
   *   error.
   * @param keepQueued Keep the queued requests even though the error is not retriable.
   */
  #fail(error: KafkaTransportError, quietReason?: string, keepQueued = false): void {
    this.#teardown(error, quietReason !== undefined);
    if (quietReason === undefined && !error.retriable && !keepQueued) {
      this.#pipeline.failQueued(error);
    }
    this.#pipeline.disarmIfIdle();
    this.#enter(DOWN, quietReason ?? error.message);
    const queued = this.#pipeline.queued;
    if (queued > 0) this.#want(`${queued} request(s) queued`);
  }

  /** Everything of {@link BrokerConnection.#fail} except the queue, the state and re-dial. */
  #teardown(error: KafkaTransportError, quiet: boolean): void {
    const hadAttempt = this.#state !== INIT && this.#state !== DOWN &&
      this.#state !== TRY_CONNECT;
    const socket = this.#socket;
    this.#socket = null;
    socket?.kill(error, quiet ? undefined : error);
    this.#idle.stop();
    this.#reauth.cancel();
    if (this.#backoffTimer !== null) this.#o.clock.clearTimeout(this.#backoffTimer);
    this.#backoffTimer = null;
    this.#established = false;
    if (hadAttempt) this.#counters.disconnects++;
    if (!quiet) this.#lastError = error;
    this.#pipeline.detach(error);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  /** Waits for every accepted request to settle, or the deadline. */
  async #drainForClose(deadlineMs: number): Promise<void> {
    const clock = this.#o.clock;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(() => resolve(), deadlineMs);
      this.#pipeline.onEmpty(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    });
    this.#pipeline.onEmpty(null);
  }

  /** Final close: fails whatever is left, stops every timer and the socket. */
  #shutdown(): void {
    this.#closed = true;
    const error = this.#closedError("the request");
    this.#teardown(error, true);
    this.#pipeline.stop();
    this.#pipeline.failQueued(error);
    if (this.#state !== DOWN) this.#enter(DOWN, "closed");
  }

  // ---------------------------------------------------------------------------------------
  // State and diagnostics

  /**
   * Moves to a state and tells the listeners and the hook. A change made while they are being
   * told (by a listener) is told after the current one has reached all of them.
   */
  #enter(to: BrokerState, reason: string): void {
    const now = this.#o.clock.now();
    this.#changes.push({
      from: this.#state,
      to,
      reason,
      elapsedMs: now - this.#stateSince,
      at: now,
    });
    this.#state = to;
    this.#stateSince = now;
    if (this.#emitting) return;
    this.#emitting = true;
    const changes = this.#changes;
    const hook = this.#o.hooks.onStateChange;
    try {
      for (let i = 0; i < changes.length; i++) {
        const change = changes[i];
        for (const listener of this.#listeners) {
          try {
            listener(change);
          } catch {
            // Listeners observe; a failing one must not break the state machine.
          }
        }
        try {
          hook?.(change);
        } catch {
          // As above.
        }
      }
    } finally {
      changes.length = 0;
      this.#emitting = false;
    }
  }

  /** @returns " (after N ms in state X)", the suffix of every message from this connection. */
  #where(): string {
    return where(this.#o.clock.now() - this.#stateSince, this.#state);
  }

  /** The error for a connection the broker closed or reset on `socket`. */
  #lostError(socket: BrokerSocket, cause: KafkaTransportError | null): KafkaTransportError {
    // Only a hang-up while a token awaits its answer is the refusal: after the broker's last
    // token the authentication succeeded, and a close then is an ordinary loss.
    if (
      cause === null && this.#state === BrokerState.AUTH_LEGACY && socket.awaitingLegacyReply
    ) {
      return legacyRefusal(this.#o.sasl?.name ?? "", this.#address, this.#where());
    }
    return lostError(this.#address, cause, {
      state: this.#state,
      clean: cause === null,
      sasl: this.#o.sasl !== undefined,
      sinceUpMs: this.#o.clock.now() - this.#upAt,
    }, this.#where());
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
