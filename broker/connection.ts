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

import type { ApiSpec } from "../protocol/api.ts";
import type { Conn } from "../transport/conn.ts";
import type { TimerHandle } from "../transport/clock.ts";
import {
  AbortError,
  asKafkaError,
  ConfigError,
  ConnectionClosedError,
  type KafkaTransportError,
} from "../transport/errors.ts";
import { ConnectWaiters } from "./connect_waiters.ts";
import { backoffDelay, type BackoffState, INITIAL_BACKOFF, recordAttempt } from "./backoff.ts";
import { BrokerClosedError, ConnectionSetupTimeoutError, type VersionRange } from "./errors.ts";
import { authenticate, negotiateApiVersions, type SetupChannel } from "./handshake.ts";
import { emitBytes } from "./hooks.ts";
import { IdleReaper } from "./idle.ts";
import {
  type BrokerConnectionOptions,
  type ResolvedBrokerOptions,
  resolveOptions,
} from "./options.ts";
import { Intake } from "./intake.ts";
import { Pipeline } from "./pipeline.ts";
import { ReauthSchedule } from "./reauth.ts";
import { BrokerSocket, type SocketOwner } from "./socket.ts";
import type { BrokerRequest, CloseOptions, SendOptions } from "./request.ts";
import { type ChannelHost, setupChannel } from "./setup_channel.ts";
import { BrokerState, type StateChange } from "./state.ts";
import { StateEvents } from "./state_events.ts";
import { type BrokerStats, Counters } from "./stats.ts";
import {
  dialHint,
  insecureConnError,
  isConnectionLoss,
  legacyRefusal,
  lostError,
  queuedTimeoutReason,
  where,
  withContext,
} from "./wording.ts";
import { TurnClock } from "./turn_clock.ts";
import { BrokerVersions } from "./versions.ts";

export type { BrokerRequest, CloseOptions, SendOptions } from "./request.ts";

const { INIT, DOWN, TRY_CONNECT, CONNECT, SSL_HANDSHAKE, APIVERSION_QUERY, UP, REAUTH } =
  BrokerState;

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

  readonly #intake: Intake;
  readonly #events = new StateEvents();
  #state: BrokerState = INIT;
  #stateSince: number;

  /** The current dial and its socket; whatever an older one reports is ignored. */
  #socket: BrokerSocket | null = null;
  readonly #versions = new BrokerVersions();
  #established = false;
  #upAt = 0;
  #backoff: BackoffState = INITIAL_BACKOFF;
  #backoffTimer: TimerHandle | null = null;

  readonly #connectWaiters = new ConnectWaiters();
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
    const turn = new TurnClock(o.clock);
    const pipeline = new Pipeline(
      o,
      {
        isUp: () => this.#state === UP,
        where: () => this.#where(),
        versionOf: (api) => this.#versions.versionOf(api),
        queuedTimeout: () => {
          const up = this.#state === UP || this.#state === REAUTH;
          const cause = up ? null : this.#lastError;
          return { reason: queuedTimeoutReason(this.#state, cause, o.maxInFlight), cause };
        },
        wantConnection: (reason) => this.#want(reason),
        teardown: (error) => this.#fail(error),
        writeFailed: (socket, error) => this.#ioFailed(socket, error, "Writing to the broker"),
      },
      this.#counters,
      turn,
    );
    this.#pipeline = pipeline;
    const counters = this.#counters;
    this.#owner = {
      reply: (buf, start, end, now) => pipeline.reply(buf, start, end, now),
      received: (bytes) => {
        counters.bytesIn += bytes;
        // One clock read serves every reply in the chunk (many, when pipelining).
        const now = turn.now();
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
    this.#intake = new Intake(o, pipeline, {
      closing: () => this.#closing,
      closedError: (what) => this.#closedError(what),
      abortError: (what, signal) => this.#abortError(what, signal),
      where: () => this.#where(),
    }, turn);
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
    return this.#versions.ranges;
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
    return this.#events.on(listener);
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
    const waiting = this.#connectWaiters.wait(signal, (s) => this.#abortError("connect()", s));
    this.#want("connect() called");
    return waiting;
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
    return this.#versions.select(api);
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
  send<Req, Res>(api: ApiSpec<Req, Res>, request: Req, options?: SendOptions): Promise<Res> {
    return this.#intake.send(api, request, options);
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
    return this.#intake.request(req);
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
      this.#fail(insecureConnError(o.connector, conn.secure, this.#where()));
      return;
    }
    this.#pipeline.attach(socket);
    const channel = setupChannel(socket, this.#channelHost);
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
      this.#versions.update(apis);
      const lifetimeMs = o.sasl === undefined ? 0 : await authenticate(channel, o.sasl, apis);
      channel.check();
      this.#up(socket, channel, lifetimeMs, false);
    } catch (error) {
      if (socket === this.#socket) {
        this.#fail(withContext(error, "Connection setup", this.#where()));
      }
    }
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
    this.#enter(
      UP,
      reauth ? "re-authenticated" : o.sasl === undefined ? "ApiVersions done" : "authenticated",
    );
    this.#connectWaiters.resolveAll();
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
        const next = await authenticate(channel, sasl, this.#versions.apis!);
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

  readonly #channelHost: ChannelHost = {
    isCurrent: (socket) => socket === this.#socket,
    takeDeferredLoss: (socket) => this.#takeDeferredLoss(socket),
    enqueueSetup: (p) => this.#pipeline.enqueueSetup(p),
    timing: (timeoutMs) => ({
      timeoutMs: timeoutMs ?? this.#o.requestTimeoutMs,
      now: this.#o.clock.now(),
    }),
    tokenWritten: (bytes) => {
      this.#counters.writes++;
      this.#counters.bytesOut += bytes;
      if (this.#o.hooks.onBytes !== undefined) emitBytes(this.#o.hooks.onBytes, "out", bytes);
    },
    tokenWriteFailed: (socket, error) => this.#ioFailed(socket, error, "Writing SASL token"),
    enter: (state, reason) => this.#enter(state, reason),
  };

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
    this.#connectWaiters.rejectAll(error);
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

  /** Moves to a state and tells the listeners and the hook (see {@link StateEvents}). */
  #enter(to: BrokerState, reason: string): void {
    const now = this.#o.clock.now();
    const change = { from: this.#state, to, reason, elapsedMs: now - this.#stateSince, at: now };
    this.#state = to;
    this.#stateSince = now;
    this.#events.emit(change, this.#o.hooks.onStateChange);
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
