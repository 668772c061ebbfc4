/**
 * When metadata is refreshed: on demand (deduplicated: callers whose topics an in-flight
 * refresh covers share it, the others share the one queued behind it), fast after a leader was
 * lost (the first after `fastRefreshMs`, doubling up to `fastRefreshMaxMs` while leaders stay
 * unknown), so that errors from many requests never become a storm of Metadata requests.
 *
 * @module
 */

import type { MetadataResponse } from "../protocol/metadata.ts";
import type { TimerHandle } from "../transport/clock.ts";
import { asKafkaError, type KafkaTransportError } from "../transport/errors.ts";
import { BrokerClosedError } from "../broker/errors.ts";
import type { ClusterEvent, RefreshReason } from "./events.ts";
import type { ResolvedClusterOptions } from "./options.ts";
import type { ClusterCounters } from "./stats.ts";

/** What the refresher needs from its cluster. */
export interface RefresherHost {
  /**
   * Sends one Metadata request to any usable broker.
   *
   * @param topics Topics, or `null` for all.
   * @param timeoutMs Deadline.
   * @returns The reply and who answered.
   */
  fetch(
    topics: string[] | null,
    timeoutMs: number,
  ): Promise<{ response: MetadataResponse; nodeId: number }>;
  /**
   * Applies a reply to the cluster.
   *
   * @param response The reply.
   */
  apply(response: MetadataResponse): void;
  /** The topics in the cache (always refreshed together). */
  cachedTopics(): string[];
  /** Whether some cached partition has no known leader. */
  leaderless(): boolean;
  /**
   * Emits an event.
   *
   * @param event The event.
   */
  emit(event: ClusterEvent): void;
  /** Where refreshes are counted. */
  counters: ClusterCounters;
}

interface Round {
  topics: Set<string> | null;
  reasons: RefreshReason[];
  timeoutMs: number;
  promise: Promise<MetadataResponse> | null;
  resolve: (r: MetadataResponse) => void;
  reject: (e: KafkaTransportError) => void;
}

/** Runs and schedules the Metadata refreshes of one cluster. */
export class MetadataRefresher {
  readonly #o: ResolvedClusterOptions;
  readonly #host: RefresherHost;
  #running: Round | null = null;
  #queued: Round | null = null;
  #fastTimer: TimerHandle | null = null;
  #fastReasons: RefreshReason[] = [];
  #fastDelay: number;
  readonly #waiters = new Set<() => void>();
  #closed = false;

  /**
   * @param options The cluster's options.
   * @param host The cluster side.
   */
  constructor(options: ResolvedClusterOptions, host: RefresherHost) {
    this.#o = options;
    this.#host = host;
    this.#fastDelay = options.fastRefreshMs;
  }

  /**
   * Refreshes the given topics and every cached one, sharing a running or queued refresh.
   *
   * @param topics Topics to include; `null` for every topic in the cluster.
   * @param reason Why.
   * @param timeoutMs Deadline of the request.
   * @returns The reply.
   */
  refresh(
    topics: readonly string[] | null,
    reason: RefreshReason,
    timeoutMs: number,
  ): Promise<MetadataResponse> {
    if (this.#closed) return Promise.reject(new BrokerClosedError("The cluster was closed"));
    const running = this.#running;
    if (running !== null && covers(running.topics, topics)) {
      this.#host.counters.metadataRefreshesShared++;
      if (!running.reasons.includes(reason)) running.reasons.push(reason);
      return running.promise!;
    }
    if (this.#queued !== null) {
      const q = this.#queued;
      if (topics === null) q.topics = null;
      else if (q.topics !== null) { for (const t of topics) q.topics.add(t); }
      if (!q.reasons.includes(reason)) q.reasons.push(reason);
      q.timeoutMs = Math.max(q.timeoutMs, timeoutMs);
      this.#host.counters.metadataRefreshesShared++;
      return q.promise!;
    }
    const round = makeRound(topics === null ? null : new Set(topics), reason, timeoutMs);
    if (running === null) this.#start(round);
    else this.#queued = round;
    return round.promise!;
  }

  /**
   * Asks for a fast refresh of the cached topics: within `fastRefreshMs` (backing off while
   * leaders stay unknown). Calls while one is scheduled add their reason to it.
   *
   * @param reason Why.
   */
  soon(reason: RefreshReason): void {
    if (this.#closed) return;
    if (!this.#fastReasons.includes(reason)) this.#fastReasons.push(reason);
    if (this.#fastTimer !== null) return;
    this.#fastTimer = this.#o.clock.setTimeout(this.#onFast, this.#fastDelay);
  }

  /**
   * Waits for the next refresh to finish (scheduling a fast one), or until `deadline`.
   *
   * @param reason Why a refresh is needed.
   * @param deadline When to stop waiting, on the cluster's clock.
   * @returns Resolves either way; the caller looks at the cache again.
   */
  waitForNext(reason: RefreshReason, deadline: number): Promise<void> {
    this.soon(reason);
    return new Promise<void>((resolve) => {
      const timer = this.#o.clock.setTimeout(done, Math.max(0, deadline - this.#o.clock.now()));
      const waiters = this.#waiters;
      const clock = this.#o.clock;
      function done(): void {
        clock.clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  /**
   * After a failed attempt: schedules a fast refresh and waits for it, so that the next
   * attempt sees new metadata and attempts are spaced by the fast-refresh backoff.
   *
   * @param reason Why.
   * @returns Resolves after the next refresh, or after twice `fastRefreshMaxMs` at most.
   */
  afterFailure(reason: RefreshReason): Promise<void> {
    return this.waitForNext(reason, this.#o.clock.now() + this.#o.fastRefreshMaxMs * 2);
  }

  /** Stops the timers and releases waiters. */
  close(): void {
    this.#closed = true;
    if (this.#fastTimer !== null) this.#o.clock.clearTimeout(this.#fastTimer);
    this.#fastTimer = null;
    for (const w of [...this.#waiters]) w();
  }

  readonly #onFast = (): void => {
    this.#fastTimer = null;
    if (this.#closed) return;
    const reasons = this.#fastReasons;
    this.#fastReasons = [];
    let first = true;
    for (const reason of reasons.length > 0 ? reasons : ["leader-lost" as const]) {
      const p = this.refresh([], reason, this.#o.sendTimeoutMs);
      if (first) {
        first = false;
        p.then(
          () => {
            if (this.#host.leaderless()) this.#backOff();
            else this.#fastDelay = this.#o.fastRefreshMs;
          },
          () => this.#backOff(),
        );
      } else p.catch(() => {});
    }
  };

  #backOff(): void {
    this.#fastDelay = Math.min(this.#fastDelay * 2, this.#o.fastRefreshMaxMs);
    this.soon("leader-lost");
  }

  #start(round: Round): void {
    this.#running = round;
    const cached = this.#host.cachedTopics();
    let topics: string[] | null = null;
    if (round.topics !== null) {
      for (const t of cached) round.topics.add(t);
      topics = [...round.topics];
    }
    const started = this.#o.clock.now();
    this.#host.fetch(topics, round.timeoutMs).then(
      ({ response, nodeId }) => {
        this.#host.counters.metadataRefreshes++;
        this.#host.apply(response);
        this.#host.emit({
          type: "metadata-refreshed",
          reasons: round.reasons,
          topics,
          nodeId,
          durationMs: this.#o.clock.now() - started,
        });
        this.#finish(round);
        round.resolve(response);
      },
      (error) => {
        const e = asKafkaError(error, "Metadata refresh");
        this.#host.counters.metadataRefreshFailures++;
        this.#host.emit({
          type: "metadata-refreshed",
          reasons: round.reasons,
          topics,
          nodeId: null,
          durationMs: this.#o.clock.now() - started,
          error: e,
        });
        this.#finish(round);
        round.reject(e);
      },
    );
  }

  #finish(round: Round): void {
    if (this.#running === round) this.#running = null;
    for (const w of [...this.#waiters]) w();
    const next = this.#queued;
    this.#queued = null;
    if (next !== null) {
      if (this.#closed) next.reject(new BrokerClosedError("The cluster was closed"));
      else this.#start(next);
    }
  }
}

function covers(running: Set<string> | null, wanted: readonly string[] | null): boolean {
  if (running === null) return true;
  if (wanted === null) return false;
  return wanted.every((t) => running.has(t));
}

function makeRound(topics: Set<string> | null, reason: RefreshReason, timeoutMs: number): Round {
  let resolve!: (r: MetadataResponse) => void;
  let reject!: (e: KafkaTransportError) => void;
  const promise = new Promise<MetadataResponse>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A refresh nobody awaits (background, fast) must not report an unhandled rejection.
  promise.catch(() => {});
  return { topics, reasons: [reason], timeoutMs, promise, resolve, reject };
}
