/**
 * Errors raised by a broker connection. Each is a subclass of the transport error tree with
 * `retriable` set for what a caller can do about it; messages from the connection end with
 * "(after N ms in state X)" like librdkafka's, so a report says where the connection was.
 *
 * @module
 */

import { type KafkaErrorOptions, KafkaTransportError, TimeoutError } from "../transport/errors.ts";
import type { BrokerState } from "./state.ts";

/** An inclusive range of API versions. */
export interface VersionRange {
  /** The lowest version. */
  readonly min: number;
  /** The highest version. */
  readonly max: number;
}

/**
 * No version of an API is supported by both this client and the broker. Raised before anything
 * is written; not retriable on the same broker.
 */
export class UnsupportedVersionError extends KafkaTransportError {
  /** The API's name, e.g. "Produce". */
  readonly apiName: string;
  /** The API key. */
  readonly apiKey: number;
  /** The versions this client implements. */
  readonly clientRange: VersionRange;
  /** The versions the broker advertises, or `null` when it does not list the API at all. */
  readonly brokerRange: VersionRange | null;

  /**
   * Builds the error; the message lists both ranges.
   *
   * @param apiName The API's name.
   * @param apiKey The API key.
   * @param clientRange The versions this client implements.
   * @param brokerRange The broker's advertised versions, or `null` when it lacks the API.
   */
  constructor(
    apiName: string,
    apiKey: number,
    clientRange: VersionRange,
    brokerRange: VersionRange | null,
  ) {
    const broker = brokerRange
      ? `the broker supports v${brokerRange.min}..v${brokerRange.max}`
      : "the broker does not list this API";
    super(
      `No common version of ${apiName} (API key ${apiKey}): this client implements ` +
        `v${clientRange.min}..v${clientRange.max}, ${broker}. Check the broker's Kafka version ` +
        `against the versions this client supports.`,
      { retriable: false },
    );
    this.name = "UnsupportedVersionError";
    this.apiName = apiName;
    this.apiKey = apiKey;
    this.clientRange = clientRange;
    this.brokerRange = brokerRange;
  }
}

/** What a {@link RequestTimeoutError} reports about the request. */
export interface TimedOutRequest {
  /** The API's name. */
  readonly apiName: string;
  /** The API version, or -1 when none was picked yet. */
  readonly apiVersion: number;
  /** The correlation id, or -1 when the request was never written. */
  readonly correlationId: number;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
}

/**
 * A request got no reply within its timeout (librdkafka's TIMED_OUT), or was still queued,
 * unwritten, when its timeout expired (TIMED_OUT_QUEUE). Retriable.
 */
export class RequestTimeoutError extends TimeoutError {
  /** The API's name. */
  readonly apiName: string;
  /** The API version. */
  readonly apiVersion: number;
  /** The correlation id, or -1 when the request timed out in the queue. */
  readonly correlationId: number;
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  /** `true` when the request was never written. */
  readonly inQueue: boolean;

  /**
   * Builds the error for a request in flight or in the queue.
   *
   * @param request Which request timed out.
   * @param inQueue Whether it was still waiting to be written.
   * @param where The connection's "(after N ms in state X)" suffix.
   * @param lastFailure For a queued request on a connection that is not up: why its last
   *   connection attempt failed, which is what the user has to fix; becomes the `cause`.
   * @param reason For a queued request: why it was not written, in words; by default what
   *   `lastFailure` says (its message, which then should not carry a suffix of its own), or
   *   that the connection was not ready.
   */
  constructor(
    request: TimedOutRequest,
    inQueue: boolean,
    where: string,
    lastFailure: KafkaTransportError | null = null,
    reason?: string,
  ) {
    // A send() queued before the broker's versions were known has no version yet (-1).
    const what = request.apiVersion >= 0
      ? `Request ${request.apiName} v${request.apiVersion}`
      : `Request ${request.apiName}`;
    const why = reason !== undefined
      ? reason
      : lastFailure !== null
      ? `the connection is not up; its last attempt failed: ${lastFailure.message}`
      : "the connection was not ready (check the broker is reachable)";
    super(
      inQueue
        ? `${what} timed out in queue after ${request.timeoutMs} ms without being sent: ` +
          `${why}${where}`
        : `${what} (correlation id ${request.correlationId}) timed out after ` +
          `${request.timeoutMs} ms${where}`,
      lastFailure !== null && inQueue ? { cause: lastFailure } : {},
    );
    this.name = "RequestTimeoutError";
    this.apiName = request.apiName;
    this.apiVersion = request.apiVersion;
    this.correlationId = request.correlationId;
    this.timeoutMs = request.timeoutMs;
    this.inQueue = inQueue;
  }
}

/** The out queue is at `maxQueued` and the request asked not to wait. Retriable. */
export class QueueFullError extends KafkaTransportError {
  /**
   * Builds the error.
   *
   * @param maxQueued The configured bound.
   * @param where The connection's "(after N ms in state X)" suffix.
   */
  constructor(maxQueued: number, where: string) {
    super(
      `Request queue full (maxQueued ${maxQueued}): wait for replies, send without ` +
        `{ wait: false }, or raise maxQueued${where}`,
      { retriable: true },
    );
    this.name = "QueueFullError";
  }
}

/**
 * TCP, TLS, ApiVersions and SASL together took longer than `connectionSetupTimeoutMs`.
 * Retriable: the next attempt may find the broker responsive.
 */
export class ConnectionSetupTimeoutError extends TimeoutError {
  /** The state the setup was stuck in. */
  readonly state: BrokerState;

  /**
   * Builds the error; the message starts "Connection setup timed out in state X".
   *
   * @param state The state the setup was stuck in.
   * @param timeoutMs The configured setup timeout.
   * @param where The connection's "(after N ms in state X)" suffix.
   */
  constructor(state: BrokerState, timeoutMs: number, where: string) {
    super(
      `Connection setup timed out in state ${state}: not UP within connectionSetupTimeoutMs ` +
        `${timeoutMs}; check the address, firewalls and that the listener speaks Kafka${where}`,
    );
    this.name = "ConnectionSetupTimeoutError";
    this.state = state;
  }
}

/** The broker connection was closed by its owner; requests still pending fail with this. */
export class BrokerClosedError extends KafkaTransportError {
  /**
   * Builds the error.
   *
   * @param message What was closed and what happened to the request.
   * @param options Cause; never retriable on this connection object.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { ...options, retriable: false });
    this.name = "BrokerClosedError";
  }
}
