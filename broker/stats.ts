/**
 * Counters and round-trip statistics of one broker connection.
 *
 * @module
 */

import type { KafkaTransportError } from "../transport/errors.ts";
import type { BrokerState } from "./state.ts";

/**
 * Round-trip times of recent requests, in milliseconds: from handing the request's batch to
 * the socket to reading its reply (the time a request waited in the queue is not included).
 */
export interface RttStats {
  /** Samples the figures are computed from (at most the last {@link RTT_WINDOW}). */
  readonly samples: number;
  /** The smallest, or 0 without samples. */
  readonly min: number;
  /** The mean, or 0 without samples. */
  readonly avg: number;
  /** The largest, or 0 without samples. */
  readonly max: number;
  /** The 99th percentile (nearest rank), or 0 without samples. */
  readonly p99: number;
}

/** A snapshot of a connection's state and counters, from `BrokerConnection.stats()`. */
export interface BrokerStats {
  /** The current state. */
  readonly state: BrokerState;
  /** Connections that reached UP. */
  readonly connects: number;
  /** Connections lost or closed after reaching UP, plus setup attempts that failed. */
  readonly disconnects: number;
  /** Requests written (setup requests included). */
  readonly requestsSent: number;
  /** Replies matched to a waiting request. */
  readonly requestsReplied: number;
  /** Requests that timed out, in flight or in the queue. */
  readonly requestsTimedOut: number;
  /** Bytes written. */
  readonly bytesOut: number;
  /** Bytes read. */
  readonly bytesIn: number;
  /** Requests written and awaiting replies. */
  readonly inFlight: number;
  /** Requests waiting to be written. */
  readonly queued: number;
  /** Replies whose correlation id matched nothing sent; dropped. */
  readonly unknownReplies: number;
  /** Late replies to requests already settled by a timeout or an abort; dropped. */
  readonly discardedReplies: number;
  /** Writes issued; fewer than `requestsSent` when frames were coalesced. */
  readonly writes: number;
  /** Round-trip times of the recent requests. */
  readonly rtt: RttStats;
  /** The error that last brought the connection down, or `null`. */
  readonly lastError: KafkaTransportError | null;
}

/** How many recent round trips {@link RttWindow} keeps. */
export const RTT_WINDOW = 1024;

/** A fixed ring of recent round-trip times: recording is O(1) and allocation-free. */
export class RttWindow {
  readonly #ring = new Float64Array(RTT_WINDOW);
  #count = 0;
  #next = 0;

  /**
   * Records one round trip.
   *
   * @param ms Its duration.
   */
  record(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % RTT_WINDOW;
    if (this.#count < RTT_WINDOW) this.#count++;
  }

  /**
   * Summarises the samples held.
   *
   * @returns Min, mean, max and p99.
   */
  summary(): RttStats {
    const n = this.#count;
    if (n === 0) return { samples: 0, min: 0, avg: 0, max: 0, p99: 0 };
    const sorted = this.#ring.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i];
    return {
      samples: n,
      min: sorted[0],
      avg: sum / n,
      max: sorted[n - 1],
      p99: sorted[Math.min(n - 1, Math.ceil(n * 0.99) - 1)],
    };
  }
}

/** The running counters of one connection, read by {@link BrokerStats} snapshots. */
export class Counters {
  /** See {@link BrokerStats.connects}. */
  connects = 0;
  /** See {@link BrokerStats.disconnects}. */
  disconnects = 0;
  /** See {@link BrokerStats.requestsSent}. */
  sent = 0;
  /** See {@link BrokerStats.requestsReplied}. */
  replied = 0;
  /** See {@link BrokerStats.requestsTimedOut}. */
  timedOut = 0;
  /** See {@link BrokerStats.bytesOut}. */
  bytesOut = 0;
  /** See {@link BrokerStats.bytesIn}. */
  bytesIn = 0;
  /** See {@link BrokerStats.unknownReplies}. */
  unknownReplies = 0;
  /** See {@link BrokerStats.discardedReplies}. */
  discardedReplies = 0;
  /** See {@link BrokerStats.writes}. */
  writes = 0;
  /** See {@link BrokerStats.rtt}. */
  readonly rtt: RttWindow = new RttWindow();
}
