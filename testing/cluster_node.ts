/**
 * One node of a {@link MockCluster} as tests see it: its id and address, its own faults and
 * request log, its connections, and whether it runs.
 *
 * @module
 */

import type { MockFaults } from "./faults.ts";
import type { BrokerNode } from "./broker_node.ts";
import type { MockApi, MockHandler } from "./handler.ts";
import { hostPort, registerHandler } from "./mock_broker.ts";
import type { RequestRecord } from "./request_log.ts";

const NO_REQUESTS: readonly RequestRecord[] = Object.freeze([]);

/** One node of an embedded cluster. */
export class MockClusterNode {
  readonly #node: BrokerNode;

  /**
   * Made by `MockCluster.start` for each node; tests reach them through `cluster.nodes`.
   *
   * @param node The node it shows.
   */
  constructor(node: BrokerNode) {
    this.#node = node;
  }

  /** The node id. */
  get nodeId(): number {
    return this.#node.state.nodeId;
  }

  /** The host the node listens on: the bound address with `listen`, else `mock-broker-<id>`. */
  get host(): string {
    return this.#node.state.node.host;
  }

  /** The port the node listens on: the bound port with `listen`, else 9092. */
  get port(): number {
    return this.#node.state.node.port;
  }

  /** `host:port` of the node. */
  get bootstrap(): string {
    return hostPort(this.host, this.port);
  }

  /**
   * The address Metadata lists the node at when it differs from where it listens (see
   * `MockCluster.advertise`); `undefined` when it is listed where it listens.
   */
  get advertised(): { readonly host: string; readonly port: number } | undefined {
    return this.#node.state.node.advertised;
  }

  /** This node's faults; they touch only requests arriving at this node. */
  get faults(): MockFaults {
    return this.#node.state.faults;
  }

  /**
   * Every request this node received, in arrival order (a live view; do not modify). Empty
   * with `logRequests: false`.
   */
  get requests(): readonly RequestRecord[] {
    return this.#node.state.requests ?? NO_REQUESTS;
  }

  /** The number of connections open to this node. */
  get connections(): number {
    return this.#node.connections;
  }

  /**
   * Serves an API on this node with a custom handler, replacing the built-in answer (Produce,
   * Fetch...) or answering an API the cluster does not serve, e.g. FindCoordinator; `null`
   * removes it. Same rules as `MockBroker.handle`.
   *
   * @param api The API key, or the API's key, version range and first flexible version.
   * @param handler Answers each request with a response body or `NO_REPLY`.
   * @throws {ConfigError} When the key or a version is out of range.
   */
  handle(api: number | MockApi, handler: MockHandler | null): void {
    registerHandler(this.#node.state, api, handler);
  }

  /** Whether the node runs (not stopped by `MockCluster.stopNode`). */
  get isRunning(): boolean {
    return this.#node.state.node.running;
  }
}
