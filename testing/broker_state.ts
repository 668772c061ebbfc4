/**
 * What every connection of one test broker node shares: identity, the cluster, the API table
 * (advertised version ranges, flexible versions, custom handlers), faults, clock and the
 * request log.
 *
 * @module
 */

import { type ApiVersionRange, ApiVersions } from "../protocol/api_versions.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { Fetch } from "../protocol/fetch.ts";
import { Metadata } from "../protocol/metadata.ts";
import { DeleteTopics } from "../protocol/delete_topics.ts";
import { ListOffsets } from "../protocol/list_offsets.ts";
import { Produce } from "../protocol/produce.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";
import type { Clock } from "../transport/clock.ts";
import type { FaultInjector } from "./faults.ts";
import type { MockApi, MockHandler } from "./handler.ts";
import type { ClusterState, NodeInfo } from "./cluster_state.ts";
import type { RequestRecord } from "./request_log.ts";
import type { SaslSettings } from "./sasl_session.ts";

/** The APIs every test broker encodes itself. */
export const BUILTIN_APIS: readonly MockApi[] = [
  ApiVersions,
  Metadata,
  SaslHandshake,
  SaslAuthenticate,
];

/**
 * The data and admin APIs the nodes of an embedded cluster also encode themselves, at the
 * versions Kafka 4.x serves (its ListOffsets and DeleteTopics start at v1).
 */
export const DATA_APIS: readonly MockApi[] = [
  Produce,
  Fetch,
  { ...ListOffsets, minVersion: 1 },
  CreateTopics,
  { ...DeleteTopics, minVersion: 1 },
];

/**
 * The other APIs this module has codecs for: a handler registered for one of them by bare key
 * gets the codec's version range and flexible versions.
 */
const KNOWN_APIS: ReadonlyMap<number, MockApi> = new Map(
  [...BUILTIN_APIS, ...DATA_APIS].map((api) => [api.key, api]),
);

/**
 * The API facts a handler registered by bare key gets: those of this module's codec for the
 * key, if it has one.
 *
 * @param key The API key.
 * @returns The codec's facts, or `undefined` for an API without a codec here.
 */
export function knownApi(key: number): MockApi | undefined {
  return KNOWN_APIS.get(key);
}

/** A registered custom handler and the API facts it came with. */
export interface HandlerEntry {
  /** The handler. */
  readonly handler: MockHandler;
  /** The API facts, when the handler was registered with them. */
  readonly api: MockApi | undefined;
}

/** Everything one node's connections share. */
export interface BrokerState {
  /** The node's id. */
  readonly nodeId: number;
  /** The node's entry in the cluster: its address, advertised address, whether it runs. */
  readonly node: NodeInfo;
  /** The cluster the node belongs to (a one-node cluster for `MockBroker`). */
  readonly cluster: ClusterState;
  /** Time source for the request log, delays, long polls and SASL session expiry. */
  readonly clock: Clock;
  /** The node's faults. */
  readonly faults: FaultInjector;
  /** Send replies as soon as they are ready instead of in request order. */
  readonly outOfOrder: boolean;
  /** SASL settings; `undefined` when the broker does not require authentication. */
  readonly sasl: SaslSettings | undefined;
  /** The request log, appended to in arrival order; `undefined` when logging is off. */
  readonly requests: RequestRecord[] | undefined;
  /** The API table. */
  readonly apis: ApiTable;
}

/**
 * Which APIs the broker advertises and serves, at which versions, and how they are framed.
 *
 * Ranges come from, in increasing precedence: the built-in codecs, the API facts given with a
 * custom handler, and the `apiVersions` override option.
 */
export class ApiTable {
  readonly #builtins: readonly MockApi[];
  readonly #builtinKeys: ReadonlySet<number>;
  readonly #unserved: ReadonlyMap<number, MockApi>;
  readonly #overrides: ReadonlyMap<number, readonly [number, number] | null>;
  readonly #handlers = new Map<number, HandlerEntry>();
  #flexibleFrom = new Map<number, number>();
  #ranges = new Map<number, ApiVersionRange>();

  /**
   * @param builtins The APIs the broker encodes itself.
   * @param overrides Advertised ranges that replace the defaults; `null` hides an API.
   * @param legacySasl Advertise SaslHandshake v0 only and no SaslAuthenticate.
   * @param unserved APIs answered with an error reply though not advertised.
   */
  constructor(
    builtins: readonly MockApi[],
    overrides: ReadonlyMap<number, readonly [number, number] | null>,
    legacySasl: boolean,
    unserved: readonly MockApi[] = [],
  ) {
    this.#builtins = builtins;
    this.#unserved = new Map(unserved.map((api) => [api.key, api]));
    this.#builtinKeys = new Set(builtins.map((api) => api.key));
    const legacy = new Map<number, readonly [number, number] | null>(
      legacySasl ? [[SaslHandshake.key, [0, 0]], [SaslAuthenticate.key, null]] : [],
    );
    this.#overrides = new Map([...legacy, ...overrides]);
    this.#rebuild();
  }

  /**
   * Registers, replaces or (with `null`) removes a custom handler.
   *
   * @param key The API key.
   * @param entry The handler and its API facts, or `null`.
   */
  setHandler(key: number, entry: HandlerEntry | null): void {
    if (entry === null) this.#handlers.delete(key);
    else this.#handlers.set(key, entry);
    this.#rebuild();
  }

  /**
   * @param key An API key.
   * @returns Whether the broker encodes replies to it itself.
   */
  isBuiltin(key: number): boolean {
    return this.#builtinKeys.has(key);
  }

  /**
   * @param key An API key.
   * @param version A version of it.
   * @returns Whether the broker answers it with an error reply although it does not serve it.
   */
  isUnserved(key: number, version: number): boolean {
    const api = this.#unserved.get(key);
    return api !== undefined && !this.#handlers.has(key) && version >= api.minVersion &&
      version <= api.maxVersion;
  }

  /**
   * @param key An API key.
   * @returns The custom handler for it, if any.
   */
  handler(key: number): MockHandler | undefined {
    return this.#handlers.get(key)?.handler;
  }

  /**
   * @param key An API key.
   * @returns The advertised version range, or `undefined` when the API is not advertised.
   */
  range(key: number): ApiVersionRange | undefined {
    return this.#ranges.get(key);
  }

  /** @returns Every advertised range, by increasing API key. */
  advertised(): ApiVersionRange[] {
    return [...this.#ranges.values()];
  }

  /**
   * Whether requests of this API and version use header v2 (and replies header v1): known for
   * the built-in APIs and for handlers registered with their API facts; never otherwise.
   *
   * @param key The API key.
   * @param version The API version.
   * @returns `true` when flexible.
   */
  isFlexible(key: number, version: number): boolean {
    const from = this.#flexibleFrom.get(key) ?? this.#unserved.get(key)?.firstFlexibleVersion;
    return version >= (from ?? Infinity);
  }

  #rebuild(): void {
    const ranges = new Map<number, readonly [number, number]>();
    const flexibleFrom = new Map<number, number>();
    for (const api of [...this.#builtins, ...[...this.#handlers.values()].map((e) => e.api)]) {
      if (api === undefined) continue;
      ranges.set(api.key, [api.minVersion, api.maxVersion]);
      flexibleFrom.set(api.key, api.firstFlexibleVersion);
    }
    this.#flexibleFrom = flexibleFrom;
    for (const [key, range] of this.#overrides) {
      if (range === null) ranges.delete(key);
      else ranges.set(key, range);
    }
    this.#ranges = new Map(
      [...ranges].sort(([a], [b]) => a - b).map((
        [apiKey, [minVersion, maxVersion]],
      ) => [apiKey, { apiKey, minVersion, maxVersion }]),
    );
  }
}
