/**
 * The embedded Kafka test broker: an in-process Kafka-protocol server for tests, in the spirit
 * of librdkafka's mock cluster and franz-go's kfake.
 *
 * @module
 */

import { ApiVersions } from "../protocol/api_versions.ts";
import { type Clock, systemClock } from "../transport/clock.ts";
import type { Connector, ListenFn } from "../transport/conn.ts";
import { ConfigError, type KafkaTransportError } from "../transport/errors.ts";
import type { MemoryConnectorOptions } from "../transport/memory.ts";
import { BrokerNode } from "./broker_node.ts";
import { ApiTable, type BrokerState, BUILTIN_APIS, knownApi } from "./broker_state.ts";
import { ClusterState, type MockTopic, type NodeInfo } from "./cluster_state.ts";
import { FaultInjector, type MockFaults } from "./faults.ts";
import type { MockApi, MockHandler } from "./handler.ts";
import type { RequestRecord } from "./request_log.ts";
import { type ScramNonceCheck, supportedSaslMechanisms } from "./sasl_server.ts";
import type { SaslSettings } from "./sasl_session.ts";

/** SASL settings of a {@link MockBroker}. */
export interface MockSaslOptions {
  /** The mechanisms to enable, e.g. `["PLAIN", "SCRAM-SHA-256"]`. */
  mechanisms: string[];
  /** User name to password, for every mechanism. */
  users: Record<string, string>;
  /**
   * Behave like a broker older than Kafka 1.0: advertise SaslHandshake v0 only and no
   * SaslAuthenticate, so the tokens travel as bare `[int32 length][token]` frames after the
   * handshake. (A SaslHandshake v0 switches to bare frames on any broker, as in Kafka.)
   */
  legacy?: boolean;
  /**
   * Session lifetime returned by SaslAuthenticate v1+ (KIP-368). A request other than
   * SaslHandshake/SaslAuthenticate arriving after it ran out, without re-authentication,
   * closes the connection, as Kafka does. No limit when omitted.
   */
  sessionLifetimeMs?: number;
  /**
   * How SCRAM checks the client-final nonce: `"exact"` (default), as Kafka 4.x does, or
   * `"suffix"`, as Kafka 3.x and earlier did. librdkafka 2.0.x (Debian's kcat) repeats its
   * client nonce in front of the server's, so it authenticates only with `"suffix"`, against
   * the embedded brokers as against real ones.
   */
  scramNonceCheck?: ScramNonceCheck;
}

/** Options of {@link MockBroker.start}. */
export interface MockBrokerOptions {
  /**
   * Also accept real loopback connections through this listen function (`denoListen` from
   * `@kafka-wire/transport/deno`, `bunListen` from `@kafka-wire/transport/bun`); the broker's
   * `host`/`port` are then the bound address. Without it the broker is reachable only through
   * {@link MockBroker.connector}. A listener that fails is reported by
   * {@link MockBroker.listenerError} and by {@link MockBroker.close}.
   */
  listen?: ListenFn;
  /**
   * How the in-memory {@link MockBroker.connector} links client and broker: chunking
   * (`"byte"`, `"random"`), delivery delay, connect delay. Its clock defaults to the broker's.
   */
  memory?: MemoryConnectorOptions;
  /** The address to bind with `listen`; default `127.0.0.1`. */
  hostname?: string;
  /** The port to bind with `listen`; default 0 (a free port). */
  port?: number;
  /** The broker's node id, as Metadata reports it; default 1. */
  nodeId?: number;
  /** The cluster id, as Metadata reports it; default "mock-cluster". */
  clusterId?: string;
  /** The topics Metadata reports, each led by this broker; none by default. */
  topics?: MockTopic[];
  /**
   * Replaces advertised ApiVersions ranges per API key (`null` hides an API). Requests outside
   * the advertised range close the connection, except ApiVersions, which answers
   * UNSUPPORTED_VERSION with a v0 body listing its own range. `"v0-only"` makes the broker
   * understand ApiVersions v0 only, like a broker before KIP-511.
   */
  apiVersions?: Record<number, [number, number] | null> | "v0-only";
  /** Require SASL authentication; without it the broker is a PLAINTEXT listener. */
  sasl?: MockSaslOptions;
  /** Time source for the request log, delays and session expiry; the system clock by default. */
  clock?: Clock;
  /**
   * Keep {@link MockBroker.requests}; default `true`. Benchmarks that send millions of
   * requests turn it off so the log does not grow without bound.
   */
  logRequests?: boolean;
  /**
   * Write each reply as soon as it is ready instead of in request order, to test correlation
   * matching. Kafka itself always answers in order per connection.
   */
  outOfOrder?: boolean;
}

const NO_REQUESTS: readonly RequestRecord[] = Object.freeze([]);

/** The port the broker reports when it only serves in-memory connections. */
const MEMORY_PORT = 9092;

/**
 * Formats an address as `host:port`, bracketing IPv6 hosts.
 *
 * @param host The host.
 * @param port The port.
 * @returns E.g. `127.0.0.1:9092` or `[::1]:9092`.
 */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Checks an integer option.
 *
 * @param what The option's name.
 * @param value Its value.
 * @param min The smallest value accepted.
 * @param max The largest value accepted.
 * @throws {ConfigError} When it is not an integer in range.
 */
export function checkInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `MockBroker option ${what} must be an integer in ${min}..${max}, got ${value}`,
    );
  }
}

/**
 * Registers, replaces or removes a custom handler on a node, checking the API facts.
 *
 * @param state The node.
 * @param api The API key, or the API's key, version range and first flexible version.
 * @param handler The handler, or `null` to remove it.
 * @throws {ConfigError} When the key or a version is out of range.
 */
export function registerHandler(
  state: BrokerState,
  api: number | MockApi,
  handler: MockHandler | null,
): void {
  const facts = typeof api === "number" ? knownApi(api) : api;
  const key = typeof api === "number" ? api : api.key;
  checkInt("handle() api key", key, 0, 32767);
  if (facts !== undefined) {
    checkInt("handle() minVersion", facts.minVersion, 0, 32767);
    checkInt("handle() maxVersion", facts.maxVersion, facts.minVersion, 32767);
  }
  state.apis.setHandler(key, handler === null ? null : { handler, api: facts });
}

/**
 * Reads the `apiVersions` option.
 *
 * @param option The option.
 * @returns The overrides by API key.
 * @throws {ConfigError} When a key or range is invalid.
 */
export function apiOverrides(
  option: MockBrokerOptions["apiVersions"],
): Map<number, readonly [number, number] | null> {
  if (option === "v0-only") return new Map([[ApiVersions.key, [0, 0]]]);
  const overrides = new Map<number, readonly [number, number] | null>();
  for (const [key, range] of Object.entries(option ?? {})) {
    const apiKey = Number(key);
    checkInt("apiVersions key", apiKey, 0, 32767);
    if (range !== null) {
      const [min, max] = range;
      checkInt(`apiVersions[${key}] min`, min, 0, 32767);
      checkInt(`apiVersions[${key}] max`, max, min, 32767);
    }
    overrides.set(apiKey, range);
  }
  return overrides;
}

/**
 * Reads the `sasl` option.
 *
 * @param option The option.
 * @returns The settings, or `undefined` without SASL.
 * @throws {ConfigError} When a mechanism is unknown or a number invalid.
 */
export function saslSettings(option: MockSaslOptions | undefined): SaslSettings | undefined {
  if (option === undefined) return undefined;
  if (option.mechanisms.length === 0) {
    throw new ConfigError("MockBroker option sasl.mechanisms is empty: enable at least one");
  }
  for (const m of option.mechanisms) {
    if (!supportedSaslMechanisms.includes(m)) {
      throw new ConfigError(
        `MockBroker option sasl.mechanisms: ${m} is not supported; use ${
          supportedSaslMechanisms.join(", ")
        }`,
      );
    }
  }
  const check = option.scramNonceCheck ?? "exact";
  if (check !== "exact" && check !== "suffix") {
    throw new ConfigError(
      `MockBroker option sasl.scramNonceCheck must be "exact" or "suffix", got ${String(check)}`,
    );
  }
  const lifetime = option.sessionLifetimeMs ?? 0;
  if (!Number.isFinite(lifetime) || lifetime < 0) {
    throw new ConfigError(
      `MockBroker option sasl.sessionLifetimeMs must be a number of milliseconds >= 0, got ${lifetime}`,
    );
  }
  return {
    mechanisms: [...option.mechanisms],
    users: { ...option.users },
    legacy: option.legacy ?? false,
    sessionLifetimeMs: lifetime,
    scramNonceCheck: check,
  };
}

function checkTopics(topics: MockTopic[]): MockTopic[] {
  const names = new Set<string>();
  for (const t of topics) {
    if (typeof t.name !== "string" || t.name.length === 0 || names.has(t.name)) {
      throw new ConfigError(
        `MockBroker option topics: name ${JSON.stringify(t.name)} is empty or repeated`,
      );
    }
    names.add(t.name);
    checkInt(`topics[${t.name}].partitions`, t.partitions, 1, 100_000);
  }
  return topics.map((t) => ({ name: t.name, partitions: t.partitions }));
}

/**
 * An in-process Kafka-protocol server for tests. It answers ApiVersions, Metadata (a
 * one-broker cluster leading the configured topics), SaslHandshake and SaslAuthenticate
 * (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; legacy bare-frame SASL too), serves any other API
 * through {@link MockBroker.handle}, logs every request, and injects faults through
 * {@link MockBroker.faults}. Like Kafka it answers in request order per connection, and closes
 * the connection on requests it cannot serve: unknown APIs, versions outside the advertised
 * range, anything but ApiVersions and SASL before authentication.
 *
 * It is runtime-neutral: connections come from {@link MockBroker.connector} (in-memory pairs)
 * or, with the `listen` option, from real loopback sockets.
 *
 * @example
 * ```ts
 * import { MockBroker } from "@kafka-wire/transport/testing";
 *
 * await using broker = await MockBroker.start({ topics: [{ name: "orders", partitions: 3 }] });
 * const conn = await broker.connector({ host: broker.host, port: broker.port });
 * // ... speak Kafka over `conn`, or hand `broker.connector` to a client ...
 * conn.close();
 * ```
 */
export class MockBroker implements AsyncDisposable {
  /**
   * Dials the broker in memory: each call makes a new connection pair and serves its server
   * end. Rejects with a `ConnectionRefusedError` while the broker is down or closed. The host
   * and port asked for are not checked.
   */
  readonly connector: Connector;
  /** Fault injection; see {@link MockFaults}. */
  readonly faults: MockFaults;
  readonly #node: BrokerNode;
  readonly #state: BrokerState;

  private constructor(node: BrokerNode) {
    this.#node = node;
    this.#state = node.state;
    this.faults = node.state.faults;
    this.connector = node.dial;
  }

  /**
   * Starts a broker.
   *
   * @param options Topics, API ranges, SASL, clock, and an optional listen function for real
   *   sockets.
   * @returns The running broker; close it with {@link MockBroker.close} or `await using`.
   * @throws {ConfigError} When an option is invalid.
   */
  static async start(options: MockBrokerOptions = {}): Promise<MockBroker> {
    const nodeId = options.nodeId ?? 1;
    checkInt("nodeId", nodeId, 0, 2_147_483_647);
    const sasl = saslSettings(options.sasl);
    const topics = checkTopics(options.topics ?? []);
    const node: NodeInfo = {
      nodeId,
      host: `mock-broker-${nodeId}`,
      port: MEMORY_PORT,
      advertised: undefined,
      running: true,
    };
    const cluster = new ClusterState(options.clusterId ?? "mock-cluster", [node], Date.now);
    for (const t of topics) cluster.createTopic({ ...t, replicationFactor: 1 });
    const state: BrokerState = {
      nodeId,
      node,
      cluster,
      clock: options.clock ?? systemClock,
      faults: new FaultInjector(new Set(BUILTIN_APIS.map((api) => api.key))),
      outOfOrder: options.outOfOrder ?? false,
      sasl,
      requests: options.logRequests === false ? undefined : [],
      apis: new ApiTable(BUILTIN_APIS, apiOverrides(options.apiVersions), sasl?.legacy ?? false),
    };
    const broker = new MockBroker(
      new BrokerNode(state, {
        listen: options.listen,
        hostname: options.hostname,
        memory: options.memory,
        upHint: "broker.up()",
      }),
    );
    await broker.#node.bind(options.port ?? 0);
    return broker;
  }

  /**
   * The host clients should dial: the bound address with `listen`, otherwise a placeholder
   * name that only {@link MockBroker.connector} understands. Metadata advertises it.
   */
  get host(): string {
    return this.#state.node.host;
  }

  /** The port clients should dial: the bound port with `listen`, otherwise 9092. */
  get port(): number {
    return this.#state.node.port;
  }

  /** `host:port`, as a bootstrap server string. */
  get bootstrap(): string {
    return hostPort(this.#state.node.host, this.#state.node.port);
  }

  /** The node id Metadata reports. */
  get nodeId(): number {
    return this.#state.nodeId;
  }

  /**
   * Every request received so far, in arrival order (a live view; do not modify). Always
   * empty with `logRequests: false`.
   */
  get requests(): readonly RequestRecord[] {
    return this.#state.requests ?? NO_REQUESTS;
  }

  /** The number of connections currently open. */
  get connections(): number {
    return this.#node.connections;
  }

  /** Whether the broker is down ({@link MockBroker.down}) and refusing connections. */
  get isDown(): boolean {
    return this.#node.isDown;
  }

  /**
   * Why the broker stopped accepting real connections, when its listener failed on its own
   * (its `accept()` rejected) rather than being closed by {@link MockBroker.down} or
   * {@link MockBroker.close}; `undefined` otherwise, and always without `listen`. The failed
   * listener is closed, so real dials are refused from then on (in-memory dials still work):
   * this is the cause to look for when a client under test sees only "connection refused". Its
   * `cause` is what `accept()` rejected with. {@link MockBroker.close} rejects with it too;
   * `down()` then `up()` binds a new listener and clears it.
   */
  get listenerError(): KafkaTransportError | undefined {
    return this.#node.listenerError;
  }

  /**
   * Serves an API with a custom handler, replacing the built-in answer if there is one, or
   * removes the handler (`null`). The API's facts (any `ApiSpec` of the protocol layer fits)
   * say which versions to advertise in ApiVersions and accept, and which are flexible (request
   * header v2, response header v1). A bare key takes the facts of this module's codec for it
   * (Produce, Fetch, CreateTopics, and the built-in APIs); for other keys the API is not
   * advertised (unless through the `apiVersions` option), any version is accepted and headers
   * are the non-flexible ones. The SASL rule still applies: before authentication only
   * ApiVersions and SASL requests are served.
   *
   * @param api The API key, or the API's key, version range and first flexible version.
   * @param handler Answers each request with a response body or `NO_REPLY`; a handler that
   *   throws or rejects makes the broker close that connection.
   * @example
   * ```ts
   * import { MockBroker, NO_REPLY } from "@kafka-wire/transport/testing";
   * await using broker = await MockBroker.start();
   * broker.handle(0, () => NO_REPLY); // Produce with acks=0
   * ```
   */
  handle(api: number | MockApi, handler: MockHandler | null): void {
    registerHandler(this.#state, api, handler);
  }

  /**
   * Takes the broker down: closes every connection and refuses new ones (in-memory dials
   * reject with `ConnectionRefusedError`; with `listen` the listening socket is closed, so
   * real dials are refused by the OS) until {@link MockBroker.up}.
   */
  down(): void {
    this.#node.down();
  }

  /**
   * Brings a downed broker back: accepts connections again, with `listen` on the same port
   * (clearing {@link MockBroker.listenerError}).
   *
   * @returns Resolves once connections are accepted.
   * @throws {KafkaTransportError} When the port cannot be bound again.
   */
  up(): Promise<void> {
    return this.#node.up();
  }

  /**
   * Stops the broker: closes the listener and every connection, cancels delay timers, and
   * waits until every read and accept loop has ended, so nothing leaks into the next test.
   * Idempotent.
   *
   * @returns Resolves when everything is closed. Rejects, once everything is closed, with
   *   {@link MockBroker.listenerError} when the listener failed, so that a test using
   *   `await using` reports the broken listener instead of passing over it.
   */
  close(): Promise<void> {
    return this.#node.close();
  }

  /**
   * Same as {@link MockBroker.close}, for `await using`.
   *
   * @returns Resolves when everything is closed; rejects with {@link MockBroker.listenerError}
   *   as `close()` does.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
