/**
 * The cluster's own counters and the sum of its connections' counters.
 *
 * @module
 */

import type { BrokerStats } from "../broker/stats.ts";

/** One broker's connections, as {@link ClusterStats.brokers} lists them. */
export interface ClusterBrokerStats {
  /** Node id (negative for a bootstrap entry). */
  readonly nodeId: number;
  /** The main connection's stats, or `null` when it was never made. */
  readonly main: BrokerStats | null;
  /** The Fetch connection's stats, or `null` when it was never made. */
  readonly fetch: BrokerStats | null;
}

/** Counters summed over every connection the cluster holds now. */
export interface ConnectionTotals {
  /** Connections made so far (main and fetch). */
  readonly connections: number;
  /** Connections that are UP. */
  readonly up: number;
  /** Connections that reached UP. */
  readonly connects: number;
  /** Connections lost or failed. */
  readonly disconnects: number;
  /** Requests written. */
  readonly requestsSent: number;
  /** Replies received. */
  readonly requestsReplied: number;
  /** Requests timed out. */
  readonly requestsTimedOut: number;
  /** Requests in flight now. */
  readonly inFlight: number;
  /** Requests queued now. */
  readonly queued: number;
  /** Bytes written. */
  readonly bytesOut: number;
  /** Bytes read. */
  readonly bytesIn: number;
}

/** A snapshot of {@link Cluster.stats}. */
export interface ClusterStats {
  /** Metadata refreshes that completed. */
  readonly metadataRefreshes: number;
  /** Metadata refreshes that failed. */
  readonly metadataRefreshFailures: number;
  /** Callers that joined a refresh already running instead of starting one. */
  readonly metadataRefreshesShared: number;
  /** Leader changes applied to the cache (Metadata, hints and lost leaders). */
  readonly leaderMoves: number;
  /** KIP-951 leader hints applied. */
  readonly hintsApplied: number;
  /** Brokers decommissioned (bootstrap entries purged included). */
  readonly decommissioned: number;
  /** Re-bootstraps. */
  readonly rebootstraps: number;
  /** Attempts of routed sends that failed. */
  readonly failedRequests: number;
  /** Attempts re-sent after a failure that may have reached a broker (allowed by `retry`). */
  readonly resent: number;
  /** Every connection's counters summed (connections of decommissioned brokers excluded). */
  readonly totals: ConnectionTotals;
  /** Per broker. */
  readonly brokers: readonly ClusterBrokerStats[];
}

/** The mutable counters behind {@link ClusterStats}. */
export class ClusterCounters {
  /** See {@link ClusterStats.metadataRefreshes}. */
  metadataRefreshes = 0;
  /** See {@link ClusterStats.metadataRefreshFailures}. */
  metadataRefreshFailures = 0;
  /** See {@link ClusterStats.metadataRefreshesShared}. */
  metadataRefreshesShared = 0;
  /** See {@link ClusterStats.leaderMoves}. */
  leaderMoves = 0;
  /** See {@link ClusterStats.hintsApplied}. */
  hintsApplied = 0;
  /** See {@link ClusterStats.decommissioned}. */
  decommissioned = 0;
  /** See {@link ClusterStats.rebootstraps}. */
  rebootstraps = 0;
  /** See {@link ClusterStats.failedRequests}. */
  failedRequests = 0;
  /** See {@link ClusterStats.resent}. */
  resent = 0;

  /**
   * Takes a snapshot.
   *
   * @param brokers Each broker's connection stats.
   * @returns The snapshot.
   */
  snapshot(brokers: ClusterBrokerStats[]): ClusterStats {
    let connections = 0, up = 0, connects = 0, disconnects = 0, requestsSent = 0;
    let requestsReplied = 0, requestsTimedOut = 0, inFlight = 0, queued = 0;
    let bytesOut = 0, bytesIn = 0;
    for (const b of brokers) {
      for (const s of [b.main, b.fetch]) {
        if (s === null) continue;
        connections++;
        if (s.state === "UP" || s.state === "REAUTH") up++;
        connects += s.connects;
        disconnects += s.disconnects;
        requestsSent += s.requestsSent;
        requestsReplied += s.requestsReplied;
        requestsTimedOut += s.requestsTimedOut;
        inFlight += s.inFlight;
        queued += s.queued;
        bytesOut += s.bytesOut;
        bytesIn += s.bytesIn;
      }
    }
    return {
      metadataRefreshes: this.metadataRefreshes,
      metadataRefreshFailures: this.metadataRefreshFailures,
      metadataRefreshesShared: this.metadataRefreshesShared,
      leaderMoves: this.leaderMoves,
      hintsApplied: this.hintsApplied,
      decommissioned: this.decommissioned,
      rebootstraps: this.rebootstraps,
      failedRequests: this.failedRequests,
      resent: this.resent,
      totals: {
        connections,
        up,
        connects,
        disconnects,
        requestsSent,
        requestsReplied,
        requestsTimedOut,
        inFlight,
        queued,
        bytesOut,
        bytesIn,
      },
      brokers,
    };
  }
}
