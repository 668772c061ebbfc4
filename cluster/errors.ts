/**
 * Errors raised by the cluster layer. Each extends the transport error tree, so one
 * `instanceof KafkaTransportError` covers everything a {@link Cluster} rejects with.
 *
 * @module
 */

import { type KafkaErrorOptions, KafkaTransportError } from "../transport/errors.ts";

/**
 * The broker a request was routed to left the cluster (it is missing from Metadata) or was
 * replaced by a new address while the request was queued or in flight. Retriable: route again.
 */
export class BrokerDecommissionedError extends KafkaTransportError {
  /** The node id of the broker that left. */
  readonly nodeId: number;

  /**
   * Builds the error.
   *
   * @param nodeId The broker's node id.
   * @param message Why it was decommissioned.
   * @param options Cause; retriable defaults to `true`.
   */
  constructor(nodeId: number, message: string, options: KafkaErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "BrokerDecommissionedError";
    this.nodeId = nodeId;
  }
}

/**
 * No broker could take the request within its deadline: every candidate refused, failed to
 * resolve, or the partition has no leader yet. Retriable; `cause` is the last failure.
 */
export class NoBrokerAvailableError extends KafkaTransportError {
  /**
   * Builds the error.
   *
   * @param message What was tried and what to check.
   * @param options Cause; retriable defaults to `true`.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "NoBrokerAvailableError";
  }
}

/**
 * A host name resolved to no address (or the resolver failed). Retriable, since DNS changes;
 * the message names the host so a wrong `advertised.listeners` is easy to spot.
 */
export class AddressResolutionError extends KafkaTransportError {
  /** The host name that did not resolve. */
  readonly host: string;

  /**
   * Builds the error.
   *
   * @param host The host name.
   * @param message What failed and what to check.
   * @param options Cause; retriable defaults to `true`.
   */
  constructor(host: string, message: string, options: KafkaErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = "AddressResolutionError";
    this.host = host;
  }
}

/**
 * A routed request failed. Says where it went, how often it was tried, and whether it may have
 * reached a broker (`mayHaveReached`): when it may have, the layer did not send it again unless
 * the caller said that is safe, so a Produce may or may not have been appended. `retriable` and
 * `code` are those of `cause`, the failure of the last attempt.
 */
export class ClusterRequestError extends KafkaTransportError {
  /** The node id of the last broker tried, or `null` when none was reached. */
  readonly nodeId: number | null;
  /** How many attempts were made. */
  readonly attempts: number;
  /** Whether the last attempt may have been written to a broker (outcome unknown). */
  readonly mayHaveReached: boolean;

  /**
   * Builds the error.
   *
   * @param message What was sent where, and what happened.
   * @param cause The failure of the last attempt.
   * @param nodeId The broker of the last attempt, or `null`.
   * @param attempts How many attempts were made.
   * @param mayHaveReached Whether the last attempt may have reached the broker.
   */
  constructor(
    message: string,
    cause: KafkaTransportError,
    nodeId: number | null,
    attempts: number,
    mayHaveReached: boolean,
  ) {
    super(message, { cause, retriable: cause.retriable, code: cause.code });
    this.name = "ClusterRequestError";
    this.nodeId = nodeId;
    this.attempts = attempts;
    this.mayHaveReached = mayHaveReached;
  }
}
