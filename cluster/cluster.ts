/**
 * The cluster layer: one {@link Cluster} per client, from a bootstrap list to connections per
 * learned broker, a metadata cache, routing to partition leaders, nodes, the controller or any
 * usable broker, and `send` that routes, applies what the reply says, and re-sends only what is
 * safe to re-send.
 *
 * @example
 * ```ts ignore
 * import { Cluster, Metadata } from "@kafka-wire/transport";
 * import { denoConnector, denoResolve } from "@kafka-wire/transport/deno";
 *
 * await using cluster = new Cluster({
 *   bootstrap: "127.0.0.1:9092,127.0.0.1:9093",
 *   connector: denoConnector,
 *   resolve: denoResolve,
 * });
 * const topic = await cluster.topicMetadata("orders");
 * console.log(topic.partitions.map((p) => p.leaderId));
 * ```
 *
 * @module
 */

import type { BrokerConnection } from "../broker/connection.ts";
import { BrokerClosedError } from "../broker/errors.ts";
import { BrokerState, type StateChange } from "../broker/state.ts";
import type { ApiSpec } from "../protocol/api.ts";
import { FETCH_KEY } from "../protocol/fetch.ts";
import { Metadata, METADATA_KEY, type MetadataResponse } from "../protocol/metadata.ts";
import type { TimerHandle } from "../transport/clock.ts";
import {
  AbortError,
  asKafkaError,
  KafkaTransportError,
  TimeoutError,
} from "../transport/errors.ts";
import type { BrokerNode, ConnectionClass } from "./broker_node.ts";
import { ClusterRequestError, NoBrokerAvailableError } from "./errors.ts";
import type { ClusterEvent, RefreshReason } from "./events.ts";
import { type LeaderChange, MetadataCache, type TopicInfo } from "./metadata_cache.ts";
import {
  type ClusterOptions,
  resolveClusterOptions,
  type ResolvedClusterOptions,
} from "./options.ts";
import { Membership } from "./membership.ts";
import { replyFindings } from "./reply_errors.ts";
import { sendWhileUp } from "./send_while_up.ts";
import {
  type BrokerInfo,
  type ClusterReply,
  type ClusterSendOptions,
  describeRoute,
  type PartitionErrorReport,
  type Route,
} from "./requests.ts";
import { MetadataRefresher } from "./refresher.ts";
import { ClusterCounters, type ClusterStats } from "./stats.ts";

const SAFE_TO_RESEND = new Set([METADATA_KEY, 18, 2, FETCH_KEY]);

/** Lets a pending promise reject without an unhandled-rejection report. */
function quiet(p: Promise<unknown>): void {
  p.catch(() => {});
}

/**
 * A Kafka cluster as one client sees it. See the module documentation and `docs/behaviour.md`
 * for the rules (sparse connections, broker selection, metadata refresh, retries).
 */
export class Cluster implements AsyncDisposable {
  readonly #o: ResolvedClusterOptions;
  readonly #cache = new MetadataCache();
  readonly #listeners = new Set<(event: ClusterEvent) => void>();
  readonly #reached = new WeakSet<object>();
  readonly #counters = new ClusterCounters();
  readonly #refresher: MetadataRefresher;
  readonly #brokers: Membership;
  #controllerId = -1;
  #clusterId: string | null = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #intervalTimer: TimerHandle | null = null;
  readonly #observer = {
    stateChanged: (node: BrokerNode, cls: ConnectionClass, change: StateChange) =>
      this.#onStateChange(node, cls, change),
    failedAfterWrite: (error: KafkaTransportError) => this.#reached.add(error),
  };

  /**
   * Creates the cluster. Nothing connects until a request needs a broker.
   *
   * @param options Bootstrap list, connector, TLS, SASL, connection options, resolver.
   * @throws {ConfigError} When an option is invalid.
   */
  constructor(options: ClusterOptions) {
    this.#o = resolveClusterOptions(options);
    if (this.#o.onEvent !== undefined) this.#listeners.add(this.#o.onEvent);
    this.#brokers = new Membership(this.#o, this.#observer, (e) => this.#emit(e), this.#counters);
    this.#refresher = new MetadataRefresher(this.#o, {
      fetch: (topics, timeoutMs) => this.#fetchMetadata(topics, timeoutMs),
      apply: (response) => this.#applyMetadata(response),
      cachedTopics: () => this.#cache.topicNames(),
      leaderless: () => this.#cache.hasLeaderless,
      emit: (event) => this.#emit(event),
      counters: this.#counters,
    });
  }

  /** The cluster id from the last Metadata reply, or `null` before one. */
  get clusterId(): string | null {
    return this.#clusterId;
  }

  /** The controller's node id from the last Metadata reply, -1 when unknown. */
  get controllerId(): number {
    return this.#controllerId;
  }

  /**
   * Subscribes to cluster events.
   *
   * @param listener Called synchronously for each event; what it throws is ignored.
   * @returns A function that unsubscribes.
   */
  on(listener: (event: ClusterEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The brokers known now: learned ones by node id, then bootstrap entries still in use. */
  brokers(): BrokerInfo[] {
    return this.#brokers.all().map((n) => {
      const conns = n.stats();
      return {
        nodeId: n.nodeId,
        host: n.address.host,
        port: n.address.port,
        rack: n.rack,
        learned: n.learned,
        state: n.state,
        fetchState: conns.fetch?.state ?? null,
      };
    });
  }

  /**
   * A topic's cached metadata, without refreshing.
   *
   * @param topic The topic.
   * @returns The entry, or `undefined` when not cached.
   */
  cachedTopic(topic: string): TopicInfo | undefined {
    return this.#cache.topic(topic);
  }

  /**
   * A topic's metadata, refreshed first when not cached or older than `metadataMaxAgeMs`.
   *
   * @param topic The topic.
   * @param timeoutMs Deadline; the cluster's `sendTimeoutMs` by default.
   * @returns The entry (its `errorCode` says when the topic is unknown).
   */
  async topicMetadata(
    topic: string,
    timeoutMs: number = this.#o.sendTimeoutMs,
  ): Promise<TopicInfo> {
    this.#checkOpen();
    const cached = this.#cache.topic(topic);
    if (
      cached !== undefined && this.#o.clock.now() - cached.refreshedAt < this.#o.metadataMaxAgeMs
    ) {
      return cached;
    }
    await this.#refresher.refresh(
      [topic],
      cached === undefined ? "first-use" : "max-age",
      timeoutMs,
    );
    return this.#cache.topic(topic)!;
  }

  /**
   * Refreshes metadata now. Concurrent calls share one request when it covers their topics.
   *
   * @param topics Topics to refresh (the topics in use are always included); `null` for all.
   * @param timeoutMs Deadline; the cluster's `sendTimeoutMs` by default.
   * @returns The reply.
   */
  refreshMetadata(
    topics: readonly string[] | null = [],
    timeoutMs: number = this.#o.sendTimeoutMs,
  ): Promise<MetadataResponse> {
    this.#checkOpen();
    return this.#refresher.refresh(topics, "requested", timeoutMs);
  }

  /**
   * The connection to a partition's leader, refreshing metadata when it is not known.
   *
   * @param topic Topic.
   * @param partition Partition.
   * @param cls Which connection ("fetch" for Fetch requests).
   * @returns The connection (not necessarily connected yet).
   */
  async leaderConnection(
    topic: string,
    partition: number,
    cls: ConnectionClass = "main",
  ): Promise<BrokerConnection> {
    const deadline = this.#o.clock.now() + this.#o.sendTimeoutMs;
    const node = await this.#route({ kind: "leader", topic, partition }, deadline);
    return node.connection(cls);
  }

  /**
   * The connection to a node, refreshing broker metadata once when the node is not known.
   *
   * @param nodeId The node id.
   * @param cls Which connection.
   * @returns The connection.
   */
  async nodeConnection(nodeId: number, cls: ConnectionClass = "main"): Promise<BrokerConnection> {
    const deadline = this.#o.clock.now() + this.#o.sendTimeoutMs;
    return (await this.#route({ kind: "node", nodeId }, deadline)).connection(cls);
  }

  /**
   * The connection to the controller named by Metadata.
   *
   * @returns The connection.
   */
  async controllerConnection(): Promise<BrokerConnection> {
    const deadline = this.#o.clock.now() + this.#o.sendTimeoutMs;
    return (await this.#route({ kind: "controller" }, deadline)).connection("main");
  }

  /**
   * A connection to any usable broker (librdkafka's rule: UP first, learned over bootstrap,
   * most recently used, random tie; when none is UP, each candidate is dialled in turn).
   *
   * @returns A connection that is UP.
   */
  async anyConnection(): Promise<BrokerConnection> {
    const deadline = this.#o.clock.now() + this.#o.sendTimeoutMs;
    return (await this.#brokers.anyNode(deadline)).connection("main");
  }

  /**
   * Routes a request, sends it, applies what the reply says (KIP-951 leader hints, stale
   * metadata errors, NOT_CONTROLLER) and reports it. A failure before anything was written is
   * retried on a fresh route within the deadline; a failure after a write is retried only when
   * `retry` allows it (see {@link ClusterSendOptions.retry}). A NOT_CONTROLLER reply is retried
   * on the new controller (the broker refused the request, so it did not take effect).
   *
   * @param api The API codec.
   * @param request The request value.
   * @param options Route, retry permission, deadline, signal, connection class.
   * @returns The reply and what it changed. Rejects with {@link ClusterRequestError}.
   */
  async send<Req, Res>(
    api: ApiSpec<Req, Res>,
    request: Req,
    options: ClusterSendOptions,
  ): Promise<ClusterReply<Res>> {
    this.#checkOpen();
    const clock = this.#o.clock;
    const deadline = clock.now() + (options.timeoutMs ?? this.#o.sendTimeoutMs);
    const safe = options.retry ?? SAFE_TO_RESEND.has(api.key);
    const cls = options.connection ?? (api.key === FETCH_KEY ? "fetch" : "main");
    let attempts = 0;
    let last: KafkaTransportError | null = null;
    let lastNode: number | null = null;
    const fail = (error: KafkaTransportError, reached: boolean): ClusterRequestError =>
      new ClusterRequestError(
        `${api.name} to ${describeRoute(options.route)} failed after ${attempts} attempt(s)${
          reached ? " (it may have reached the broker, so it was not sent again)" : ""
        }: ${error.message}`,
        error,
        lastNode,
        attempts,
        reached,
      );
    while (attempts < this.#o.maxAttempts) {
      if (options.signal?.aborted) {
        throw fail(new AbortError(`${api.name} aborted`, { cause: options.signal.reason }), false);
      }
      if (this.#closed) throw fail(new BrokerClosedError("The cluster was closed"), false);
      if (clock.now() >= deadline) {
        throw fail(last ?? new TimeoutError(`No attempt could be made in time`), false);
      }
      attempts++;
      let node: BrokerNode;
      try {
        node = await this.#route(options.route, deadline);
      } catch (error) {
        throw fail(asKafkaError(error, "routing"), false);
      }
      lastNode = node.nodeId;
      const conn = node.connection(cls);
      if (conn.state !== BrokerState.UP && conn.state !== BrokerState.REAUTH) {
        try {
          await this.#brokers.connect(node, conn, deadline);
        } catch (error) {
          last = asKafkaError(error, `connecting to ${node.addressText}`);
          if (!last.retriable) throw fail(last, false);
          await this.#refresher.afterFailure("connection-lost");
          continue;
        }
      }
      node.lastUsed = clock.now();
      let response: Res;
      try {
        response = await sendWhileUp(
          conn,
          api,
          request,
          Math.max(1, deadline - clock.now()),
          options.signal,
          this.#reached,
        );
      } catch (error) {
        const reached = this.#reached.has(error as object);
        last = this.#brokers.typed(node, error);
        this.#counters.failedRequests++;
        if (!last.retriable) throw fail(last, reached);
        if (reached && !safe) throw fail(last, true);
        if (reached) this.#counters.resent++;
        continue;
      }
      const changes: LeaderChange[] = [];
      const reports: PartitionErrorReport[] = [];
      const findings = replyFindings(api.key, response);
      if (api.key === METADATA_KEY) this.#applyMetadata(response as MetadataResponse);
      for (const e of findings.endpoints) {
        this.#brokers.learn(e.nodeId, e.host, e.port, e.rack, false);
      }
      for (const s of findings.stale) {
        const topic = s.topic ?? (s.topicId === null ? undefined : this.#cache.nameOf(s.topicId));
        if (topic === undefined) continue;
        const change = s.leader !== null
          ? this.#cache.applyLeader(topic, s.partition, s.leader.leaderId, s.leader.leaderEpoch)
          : this.#cache.loseLeader(topic, s.partition, node.nodeId);
        if (s.leader !== null) this.#counters.hintsApplied++;
        if (change !== null) {
          changes.push(change);
          this.#leaderMoved(change, s.leader !== null ? "hint" : "error");
        }
        if (s.leader === null) this.#cache.expire(topic);
        reports.push({
          topic,
          partition: s.partition,
          errorCode: s.errorCode,
          hinted: s.leader !== null,
        });
      }
      if (reports.some((r) => !r.hinted)) this.#refresher.soon("error-code");
      if (findings.notController && options.route.kind === "controller") {
        this.#setController(-1);
        last = new KafkaTransportError(`${api.name} answered NOT_CONTROLLER`, {
          retriable: true,
          code: 41,
        });
        await this.#refresher.afterFailure("not-controller");
        continue;
      }
      return {
        response,
        nodeId: node.nodeId,
        attempts,
        leaderChanges: changes,
        partitionErrors: reports,
      };
    }
    throw fail(last ?? new TimeoutError("No attempt was made"), false);
  }

  /**
   * Counters of the cluster and the sum of every connection's.
   *
   * @returns The snapshot.
   */
  stats(): ClusterStats {
    const nodes = this.#brokers.all();
    return this.#counters.snapshot(nodes.map((n) => ({ nodeId: n.nodeId, ...n.stats() })));
  }

  /**
   * Closes every connection and stops the refresh timers. Idempotent.
   *
   * @param graceful Let pending requests finish (default) or fail them now.
   * @returns Resolves once everything is closed.
   */
  close(graceful = true): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#refresher.close();
    if (this.#intervalTimer !== null) this.#o.clock.clearTimeout(this.#intervalTimer);
    this.#closing = this.#brokers.close(graceful);
    return this.#closing;
  }

  /** Closes gracefully; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new BrokerClosedError("The cluster was closed: make a new Cluster");
  }

  #emit(event: ClusterEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // Listeners observe; a failing one must not break the cluster.
      }
    }
  }

  async #route(route: Route, deadline: number): Promise<BrokerNode> {
    switch (route.kind) {
      case "any":
        return await this.#brokers.anyNode(deadline);
      case "node":
        return await this.#nodeById(route.nodeId, deadline);
      case "controller": {
        if (this.#controllerId < 0) {
          await this.#refresher.refresh([], "not-controller", deadline - this.#o.clock.now());
        }
        if (this.#controllerId < 0) {
          throw new NoBrokerAvailableError("Metadata names no controller yet; try again shortly");
        }
        return await this.#nodeById(this.#controllerId, deadline);
      }
      case "leader":
        return await this.#leader(route.topic, route.partition, deadline);
    }
  }

  async #nodeById(nodeId: number, deadline: number): Promise<BrokerNode> {
    let node = this.#brokers.get(nodeId);
    if (node === undefined) {
      await this.#refresher.refresh([], "requested", deadline - this.#o.clock.now());
      node = this.#brokers.get(nodeId);
    }
    if (node === undefined) {
      throw new NoBrokerAvailableError(`Node ${nodeId} is not in the cluster's metadata`, {
        retriable: false,
      });
    }
    return node;
  }

  async #leader(topic: string, partition: number, deadline: number): Promise<BrokerNode> {
    const clock = this.#o.clock;
    for (;;) {
      const t = this.#cache.topic(topic);
      const now = clock.now();
      if (now >= deadline) {
        throw new NoBrokerAvailableError(
          `No leader known for ${topic}-${partition} in time${
            t === undefined ? "" : ` (topic error code ${t.errorCode})`
          }`,
        );
      }
      if (t === undefined || now - t.refreshedAt >= this.#o.metadataMaxAgeMs) {
        const reason: RefreshReason = t === undefined
          ? "first-use"
          : t.refreshedAt === -Infinity
          ? "error-code"
          : "max-age";
        await this.#refresher.refresh([topic], reason, deadline - now);
        continue;
      }
      const p = t.partitions[partition];
      if (t.errorCode !== 0 || p === undefined || p.leaderId < 0) {
        await this.#refresher.waitForNext(
          t.errorCode !== 0 ? "topic-unknown" : "leader-lost",
          deadline,
        );
        continue;
      }
      const node = this.#brokers.get(p.leaderId);
      if (node !== undefined) return node;
      await this.#refresher.waitForNext("leader-lost", deadline);
    }
  }

  async #fetchMetadata(
    topics: string[] | null,
    timeoutMs: number,
  ): Promise<{ response: MetadataResponse; nodeId: number }> {
    const deadline = this.#o.clock.now() + timeoutMs;
    let last: unknown = null;
    for (let i = 0; i < this.#o.maxAttempts && this.#o.clock.now() < deadline; i++) {
      const node = await this.#brokers.anyNode(deadline);
      node.lastUsed = this.#o.clock.now();
      try {
        const response = await sendWhileUp(
          node.connection("main"),
          Metadata,
          {
            topics: topics === null ? null : topics.map((name) => ({ name })),
            allowAutoTopicCreation: false,
          },
          Math.max(1, deadline - this.#o.clock.now()),
          undefined,
          this.#reached,
        );
        return { response, nodeId: node.nodeId };
      } catch (error) {
        last = error;
        if (!asKafkaError(error, "Metadata").retriable) break;
      }
    }
    throw asKafkaError(
      last ?? new TimeoutError("Metadata refresh ran out of time"),
      "Metadata refresh",
    );
  }

  #applyMetadata(response: MetadataResponse): void {
    if (this.#closed) return;
    this.#clusterId = response.clusterId;
    if (response.brokers.length > 0) this.#brokers.merge(response);
    this.#setController(response.controllerId);
    for (const change of this.#cache.applyMetadata(response, this.#o.clock.now())) {
      this.#leaderMoved(change, "metadata");
    }
    if (this.#intervalTimer === null && this.#o.metadataRefreshIntervalMs > 0) this.#armInterval();
  }

  #setController(id: number): void {
    if (id === this.#controllerId) return;
    const from = this.#controllerId;
    this.#controllerId = id;
    this.#emit({ type: "controller-changed", from, to: id });
  }

  #leaderMoved(change: LeaderChange, source: "metadata" | "hint" | "error"): void {
    this.#counters.leaderMoves++;
    this.#emit({ type: "leader-moved", ...change, source });
  }

  #armInterval(): void {
    this.#intervalTimer = this.#o.clock.setTimeout(() => {
      this.#intervalTimer = null;
      if (this.#closed) return;
      quiet(this.#refresher.refresh([], "interval", this.#o.sendTimeoutMs));
      this.#armInterval();
    }, this.#o.metadataRefreshIntervalMs);
  }

  #onStateChange(node: BrokerNode, cls: ConnectionClass, change: StateChange): void {
    const wasUp = change.from === BrokerState.UP || change.from === BrokerState.REAUTH;
    // Usable until now: the re-bootstrap timer counts from the last moment something was.
    if (wasUp) this.#brokers.lastUpAt = change.at;
    if (change.to === BrokerState.UP) {
      this.#brokers.lastUpAt = change.at;
      node.lastDialError = null;
      return;
    }
    if (!wasUp || change.to !== BrokerState.DOWN || this.#closed) return;
    if (node.decommissioned !== null || !node.learned) return;
    if (cls === "main" && this.#cache.ledBy(node.nodeId).length > 0) {
      this.#refresher.soon("connection-lost");
    }
  }
}
