/**
 * The embedded Kafka test broker: an in-process Kafka-protocol server for tests, in the spirit
 * of librdkafka's mock cluster and franz-go's kfake.
 *
 * @module
 */

import { ApiVersions } from "../protocol/api_versions.ts";
import { type Clock, systemClock } from "../transport/clock.ts";
import type { Conn, Connector, Listener, ListenFn } from "../transport/conn.ts";
import { ConfigError, ConnectionRefusedError, KafkaTransportError } from "../transport/errors.ts";
import { memoryConnector, type MemoryConnectorOptions } from "../transport/memory.ts";
import {
  ApiTable,
  type BrokerState,
  BUILTIN_KEYS,
  knownApi,
  type MockTopic,
} from "./broker_state.ts";
import { FaultInjector, type MockFaults } from "./faults.ts";
import type { MockApi, MockHandler } from "./handler.ts";
import { MockConnection } from "./mock_connection.ts";
import type { RequestRecord } from "./request_log.ts";
import { supportedSaslMechanisms } from "./sasl_server.ts";
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

function checkInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `MockBroker option ${what} must be an integer in ${min}..${max}, got ${value}`,
    );
  }
}

function apiOverrides(
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

function saslSettings(option: MockSaslOptions | undefined): SaslSettings | undefined {
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
  readonly #state: BrokerState;
  readonly #listen: ListenFn | undefined;
  readonly #hostname: string;
  readonly #conns = new Set<MockConnection>();
  #listener: Listener | undefined;
  #listenerError: KafkaTransportError | undefined;
  readonly #acceptLoops = new Set<Promise<void>>();
  #nextConnId = 1;
  #down = false;
  #closed = false;

  private constructor(state: BrokerState, options: MockBrokerOptions) {
    this.#state = state;
    this.faults = state.faults;
    this.#listen = options.listen;
    this.#hostname = options.hostname ?? "127.0.0.1";
    const memory = memoryConnector((conn: Conn) => this.#serve(conn), {
      clock: state.clock,
      ...options.memory,
    });
    this.connector = (options) => {
      if (this.#down || this.#closed) {
        return Promise.reject(
          new ConnectionRefusedError(
            `Mock broker ${state.nodeId} refused the in-memory connection: it is ${
              this.#closed ? "closed" : "down (broker.down()); call broker.up() to accept again"
            }`,
          ),
        );
      }
      return memory(options);
    };
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
    const state: BrokerState = {
      nodeId,
      clusterId: options.clusterId ?? "mock-cluster",
      topics: checkTopics(options.topics ?? []),
      clock: options.clock ?? systemClock,
      faults: new FaultInjector(BUILTIN_KEYS),
      outOfOrder: options.outOfOrder ?? false,
      sasl,
      requests: options.logRequests === false ? undefined : [],
      apis: new ApiTable(apiOverrides(options.apiVersions), sasl?.legacy ?? false),
      host: `mock-broker-${nodeId}`,
      port: MEMORY_PORT,
    };
    const broker = new MockBroker(state, options);
    if (options.listen) await broker.#bind(options.port ?? 0);
    return broker;
  }

  /**
   * The host clients should dial: the bound address with `listen`, otherwise a placeholder
   * name that only {@link MockBroker.connector} understands. Metadata advertises it.
   */
  get host(): string {
    return this.#state.host;
  }

  /** The port clients should dial: the bound port with `listen`, otherwise 9092. */
  get port(): number {
    return this.#state.port;
  }

  /** `host:port`, as a bootstrap server string. */
  get bootstrap(): string {
    const host = this.#state.host;
    return `${host.includes(":") ? `[${host}]` : host}:${this.#state.port}`;
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
    return this.#conns.size;
  }

  /** Whether the broker is down ({@link MockBroker.down}) and refusing connections. */
  get isDown(): boolean {
    return this.#down;
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
    return this.#listenerError;
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
    const facts = typeof api === "number" ? knownApi(api) : api;
    const key = typeof api === "number" ? api : api.key;
    checkInt("handle() api key", key, 0, 32767);
    if (facts !== undefined) {
      checkInt("handle() minVersion", facts.minVersion, 0, 32767);
      checkInt("handle() maxVersion", facts.maxVersion, facts.minVersion, 32767);
    }
    this.#state.apis.setHandler(key, handler === null ? null : { handler, api: facts });
  }

  /**
   * Takes the broker down: closes every connection and refuses new ones (in-memory dials
   * reject with `ConnectionRefusedError`; with `listen` the listening socket is closed, so
   * real dials are refused by the OS) until {@link MockBroker.up}.
   */
  down(): void {
    if (this.#closed || this.#down) return;
    this.#down = true;
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#conns) conn.close();
  }

  /**
   * Brings a downed broker back: accepts connections again, with `listen` on the same port
   * (clearing {@link MockBroker.listenerError}).
   *
   * @returns Resolves once connections are accepted.
   * @throws {KafkaTransportError} When the port cannot be bound again.
   */
  async up(): Promise<void> {
    if (this.#closed || !this.#down) return;
    if (this.#listen) {
      await this.#bind(this.#state.port);
      this.#listenerError = undefined;
    }
    this.#down = false;
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
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listener?.close();
      this.#listener = undefined;
      for (const conn of this.#conns) conn.close();
    }
    await Promise.all(this.#acceptLoops);
    await Promise.all([...this.#conns].map((conn) => conn.done));
    if (this.#listenerError !== undefined) throw this.#listenerError;
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

  async #bind(port: number): Promise<void> {
    const listener = await this.#listen!({ hostname: this.#hostname, port });
    if (this.#closed) {
      listener.close();
      return;
    }
    this.#listener = listener;
    this.#state.host = listener.addr.hostname;
    this.#state.port = listener.addr.port;
    const loop = this.#accept(listener);
    this.#acceptLoops.add(loop);
    loop.then(() => this.#acceptLoops.delete(loop));
  }

  async #accept(listener: Listener): Promise<void> {
    for (;;) {
      let conn: Conn | null;
      try {
        conn = await listener.accept();
      } catch (error) {
        // A listener closed by down() or close() may reject its pending accept(): not a failure.
        if (this.#closed || this.#listener !== listener) return;
        this.#listenerFailed(listener, error);
        return;
      }
      if (conn === null) return;
      if (this.#down || this.#closed || this.#listener !== listener) conn.close();
      else this.#serve(conn);
    }
  }

  /** Records why a listener stopped accepting and closes it, so real dials are refused. */
  #listenerFailed(listener: Listener, error: unknown): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const { hostname, port } = listener.addr;
    const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    this.#listenerError = new KafkaTransportError(
      `Mock broker ${this.#state.nodeId} stopped accepting connections on ${address}: its ` +
        `listener's accept() failed (${detail}); real dials to it are refused from now on ` +
        `(broker.down() then broker.up() binds a new listener)`,
      { cause: error },
    );
    this.#listener = undefined;
    try {
      listener.close();
    } catch {
      // Already broken; the error above is what matters.
    }
  }

  #serve(conn: Conn): void {
    if (this.#down || this.#closed) {
      conn.close();
      return;
    }
    const served = new MockConnection(this.#nextConnId++, conn, this.#state);
    this.#conns.add(served);
    served.done.then(() => this.#conns.delete(served));
  }
}
