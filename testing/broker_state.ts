/**
 * What every connection of one test broker shares: identity, topics, the API table (advertised
 * version ranges, flexible versions, custom handlers), faults, clock and the request log.
 *
 * @module
 */

import { type ApiVersionRange, ApiVersions } from "../protocol/api_versions.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { Fetch } from "../protocol/fetch.ts";
import { Metadata } from "../protocol/metadata.ts";
import { Produce } from "../protocol/produce.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";
import type { Clock } from "../transport/clock.ts";
import type { FaultInjector } from "./faults.ts";
import type { MockApi, MockHandler } from "./handler.ts";
import type { RequestRecord } from "./request_log.ts";
import type { SaslSettings } from "./sasl_session.ts";

/** A topic the test broker serves, led by the broker itself. */
export interface MockTopic {
  /** The topic name. */
  readonly name: string;
  /** How many partitions it has (at least 1). */
  readonly partitions: number;
}

/** The APIs whose replies the broker encodes itself. */
export const BUILTIN_APIS: readonly MockApi[] = [
  ApiVersions,
  Metadata,
  SaslHandshake,
  SaslAuthenticate,
];

/**
 * The other APIs this module has codecs for: a handler registered for one of them by bare key
 * gets the codec's version range and flexible versions.
 */
const KNOWN_APIS: ReadonlyMap<number, MockApi> = new Map(
  [Produce, Fetch, CreateTopics].map((api) => [api.key, api]),
);

/**
 * The API facts a handler registered by bare key gets: those of this module's codec for the
 * key, if it has one.
 *
 * @param key The API key.
 * @returns The codec's facts, or `undefined` for an API without a codec here.
 */
export function knownApi(key: number): MockApi | undefined {
  return KNOWN_APIS.get(key) ?? BUILTIN_APIS.find((api) => api.key === key);
}

/** The keys of {@link BUILTIN_APIS}. */
export const BUILTIN_KEYS: ReadonlySet<number> = new Set(BUILTIN_APIS.map((api) => api.key));

/** A registered custom handler and the API facts it came with. */
export interface HandlerEntry {
  /** The handler. */
  readonly handler: MockHandler;
  /** The API facts, when the handler was registered with them. */
  readonly api: MockApi | undefined;
}

/** Everything the broker's connections share. */
export interface BrokerState {
  /** The broker's node id. */
  readonly nodeId: number;
  /** The cluster id Metadata reports. */
  readonly clusterId: string;
  /** The topics Metadata reports. */
  readonly topics: readonly MockTopic[];
  /** Time source for the request log, delays and SASL session expiry. */
  readonly clock: Clock;
  /** The broker's faults. */
  readonly faults: FaultInjector;
  /** Send replies as soon as they are ready instead of in request order. */
  readonly outOfOrder: boolean;
  /** SASL settings; `undefined` when the broker does not require authentication. */
  readonly sasl: SaslSettings | undefined;
  /** The request log, appended to in arrival order; `undefined` when logging is off. */
  readonly requests: RequestRecord[] | undefined;
  /** The API table. */
  readonly apis: ApiTable;
  /** The host Metadata advertises for this broker. */
  host: string;
  /** The port Metadata advertises for this broker. */
  port: number;
}

/**
 * Which APIs the broker advertises and serves, at which versions, and how they are framed.
 *
 * Ranges come from, in increasing precedence: the built-in codecs, the API facts given with a
 * custom handler, and the `apiVersions` override option.
 */
export class ApiTable {
  readonly #overrides: ReadonlyMap<number, readonly [number, number] | null>;
  readonly #handlers = new Map<number, HandlerEntry>();
  #flexibleFrom = new Map<number, number>();
  #ranges = new Map<number, ApiVersionRange>();

  /**
   * @param overrides Advertised ranges that replace the defaults; `null` hides an API.
   * @param legacySasl Advertise SaslHandshake v0 only and no SaslAuthenticate.
   */
  constructor(
    overrides: ReadonlyMap<number, readonly [number, number] | null>,
    legacySasl: boolean,
  ) {
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
    return version >= (this.#flexibleFrom.get(key) ?? Infinity);
  }

  #rebuild(): void {
    const ranges = new Map<number, readonly [number, number]>();
    const flexibleFrom = new Map<number, number>();
    for (const api of [...BUILTIN_APIS, ...[...this.#handlers.values()].map((e) => e.api)]) {
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
