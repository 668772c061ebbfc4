/**
 * Request intake: the checks a `send()` or `request()` gets before it is queued (closed,
 * aborted, timeout, header fields, a value its codec cannot look at), waiting in line for
 * queue room, and wiring the caller's abort signal to the pipeline.
 *
 * @module
 */

import type { ApiSpec } from "../protocol/api.ts";
import { apiName } from "../protocol/api_versions.ts";
import { type AbortError, ConfigError, KafkaTransportError } from "../transport/errors.ts";
import { QueueFullError } from "./errors.ts";
import type { ResolvedBrokerOptions } from "./options.ts";
import { type Pending, rawPending, sendPending, track, type Tracking } from "./pending.ts";
import type { Pipeline } from "./pipeline.ts";
import type { BrokerRequest, SendOptions } from "./request.ts";
import type { TurnClock } from "./turn_clock.ts";
import { encodeFailure } from "./wording.ts";

/** What intake needs from its connection. */
export interface IntakeHost {
  /** Whether `close()` was called. */
  closing(): boolean;
  /**
   * The error for a request refused after `close()`.
   *
   * @param what The request.
   */
  closedError(what: string): KafkaTransportError;
  /**
   * The error for an aborted request or wait.
   *
   * @param what What was aborted.
   * @param signal The signal.
   */
  abortError(what: string, signal: AbortSignal): AbortError;
  /** The connection's "(after N ms in state X)" suffix. */
  where(): string;
}

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

/** The options of a `send()` given none: shared, so such a call allocates no object for them. */
const NO_OPTIONS: SendOptions = Object.freeze({});

/**
 * A request as messages name it (a plain function: a closure made per request for its rare
 * error paths would be an allocation per request).
 *
 * @returns "Request Name vN", without the version while it is not picked.
 */
function requestName(name: string, version: number): string {
  return version >= 0 ? `Request ${name} v${version}` : `Request ${name}`;
}

/** Takes requests into a pipeline. */
export class Intake {
  readonly #o: ResolvedBrokerOptions;
  readonly #pipeline: Pipeline;
  readonly #host: IntakeHost;
  readonly #scratch: { timeoutMs: number; now: number; signal: AbortSignal | undefined } = {
    timeoutMs: 0,
    now: 0,
    signal: undefined,
  };
  readonly #turn: TurnClock;

  /**
   * Creates the intake of a connection.
   *
   * @param o The connection's options.
   * @param pipeline Its pipeline.
   * @param host The connection.
   * @param turn The clock reading shared within a turn.
   */
  constructor(o: ResolvedBrokerOptions, pipeline: Pipeline, host: IntakeHost, turn: TurnClock) {
    this.#o = o;
    this.#turn = turn;
    this.#pipeline = pipeline;
    this.#host = host;
  }

  /** Waits for room in the out queue (in line), or rejects at once for `{ wait: false }`. */
  #roomInQueue(wait: boolean | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (wait === false) {
      return Promise.reject(new QueueFullError(this.#o.maxQueued, this.#host.where()));
    }
    const what = "a request waiting for queue room";
    if (signal?.aborted) return Promise.reject(this.#host.abortError(what, signal));
    return this.#pipeline.admission.wait(signal, (s) => this.#host.abortError(what, s));
  }

  /**
   * Takes a `send()`, waiting in line for queue room when the queue is full.
   *
   * @param api The codec.
   * @param request The value.
   * @param options The call's options.
   * @returns The caller's promise.
   */
  send<Req, Res>(
    api: ApiSpec<Req, Res>,
    request: Req,
    options: SendOptions = NO_OPTIONS,
  ): Promise<Res> {
    if (this.#pipeline.mustWait() && !this.#host.closing()) {
      return this.#roomInQueue(options.wait, options.signal).then(() => {
        this.#pipeline.admission.claim();
        return this.#send(api, request, options);
      });
    }
    return this.#send(api, request, options);
  }

  /**
   * Takes a `request()`, waiting in line for queue room when the queue is full.
   *
   * @param req The request.
   * @returns The caller's promise.
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
    if (this.#pipeline.mustWait() && !this.#host.closing()) {
      return this.#roomInQueue(req.wait, req.signal).then(() => {
        this.#pipeline.admission.claim();
        return this.#request(req, expectResponse);
      });
    }
    return this.#request(req, expectResponse);
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
    if (this.#host.closing()) return this.#host.closedError(requestName(name, version));
    if (signal?.aborted) {
      return this.#host.abortError(`${requestName(name, version)} before it was queued`, signal);
    }
    const timeout = timeoutMs ?? this.#o.requestTimeoutMs;
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      return new ConfigError(
        `Request ${name} timeoutMs must be a positive number, got ${timeoutMs}`,
      );
    }
    // One object for every request: the Pending copies it at once.
    const t = this.#scratch;
    t.timeoutMs = timeout;
    t.now = this.#turn.now();
    t.signal = signal;
    return t;
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
        this.#pipeline.settle(p, this.#host.abortError(what, signal), undefined);
      };
      signal.addEventListener("abort", p.onAbort, { once: true });
    }
    this.#pipeline.enqueue(p);
  };
}
