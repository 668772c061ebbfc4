/**
 * Options of a {@link Cluster}, their librdkafka-derived defaults, and the bootstrap list
 * parser.
 *
 * @module
 */

import type { BrokerConnectionOptions } from "../broker/options.ts";
import type { SaslMechanism } from "../sasl/mechanism.ts";
import { type Clock, type Random, systemClock } from "../transport/clock.ts";
import type { Connector, TlsOptions } from "../transport/conn.ts";
import { ConfigError } from "../transport/errors.ts";
import type { ClusterEvent } from "./events.ts";

/** A `host:port` pair. */
export interface HostPort {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/**
 * Resolves a host name to the addresses to dial, in the order to try them. The Deno and Bun
 * adapters export one (`denoResolve`, `bunResolve`); without one names are dialled as they are.
 *
 * @param host The host name (never an IP literal: those are dialled directly).
 * @returns The addresses; an empty list or a rejection means the name does not resolve.
 */
export type Resolver = (host: string) => Promise<string[]>;

/**
 * Maps an advertised `host:port` to the address to dial (SSH tunnels, private links, proxies,
 * Docker port mappings). Return `null` to dial the advertised address.
 *
 * @param advertised The address a broker advertises (or a bootstrap entry).
 * @returns Where to dial instead, or `null`.
 */
export type AddressMapper = (advertised: HostPort) => HostPort | null;

/** The per-connection settings a cluster hands to every connection it makes. */
export type ClusterConnectionOptions = Omit<
  BrokerConnectionOptions,
  "host" | "port" | "connector" | "tls" | "sasl" | "clock" | "random"
>;

/** Options of a {@link Cluster}. Defaults follow librdkafka where it has the setting. */
export interface ClusterOptions {
  /** `"h1:9092,h2:9092"` or `["h1:9092", "h2:9092"]` (IPv6 as `[::1]:9092`). */
  bootstrap: string | readonly string[];
  /** Dials each socket. */
  connector: Connector;
  /** TLS for every connection; plaintext when omitted. The SNI name is the advertised host. */
  tls?: TlsOptions;
  /** SASL for every connection; none when omitted. */
  sasl?: SaslMechanism;
  /** Options of every connection (client id, timeouts, backoff, hooks...). */
  connection?: ClusterConnectionOptions;
  /** Name resolution; each address of a name is tried in turn (use_all_dns_ips). */
  resolve?: Resolver;
  /** Advertised address → dial address. */
  mapAddress?: AddressMapper;
  /** Background refresh of the topics in use (topic.metadata.refresh.interval.ms). Default 300 000; 0 disables. */
  metadataRefreshIntervalMs?: number;
  /** Cached topic metadata older than this is refreshed before use (metadata.max.age.ms). Default 900 000. */
  metadataMaxAgeMs?: number;
  /** First fast refresh after a leader is lost (topic.metadata.refresh.fast.interval.ms). Default 100. */
  fastRefreshMs?: number;
  /** Cap of the fast refresh backoff (retry.backoff.max.ms). Default 1000. */
  fastRefreshMaxMs?: number;
  /** No usable broker for this long re-bootstraps (metadata.recovery.rebootstrap.trigger.ms). Default 300 000. */
  rebootstrapAfterMs?: number;
  /** Default deadline of a routed `send`, retries included. Default 30 000. */
  sendTimeoutMs?: number;
  /** Most attempts of one routed `send`. Default 10. */
  maxAttempts?: number;
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Randomness for the bootstrap start and tie-breaks. Default `Math.random`. */
  random?: Random;
  /**
   * Observer of cluster events; runs synchronously, what it throws is ignored. More listeners
   * can be added with `Cluster.on`.
   */
  onEvent?: (event: ClusterEvent) => void;
}

/** Every option with its default applied. */
export interface ResolvedClusterOptions {
  /** The parsed bootstrap list. */
  readonly bootstrap: readonly HostPort[];
  /** See {@link ClusterOptions.connector}. */
  readonly connector: Connector;
  /** See {@link ClusterOptions.tls}. */
  readonly tls: TlsOptions | undefined;
  /** See {@link ClusterOptions.sasl}. */
  readonly sasl: SaslMechanism | undefined;
  /** See {@link ClusterOptions.connection}. */
  readonly connection: ClusterConnectionOptions;
  /** See {@link ClusterOptions.resolve}. */
  readonly resolve: Resolver | undefined;
  /** See {@link ClusterOptions.mapAddress}. */
  readonly mapAddress: AddressMapper | undefined;
  /** See {@link ClusterOptions.metadataRefreshIntervalMs}. */
  readonly metadataRefreshIntervalMs: number;
  /** See {@link ClusterOptions.metadataMaxAgeMs}. */
  readonly metadataMaxAgeMs: number;
  /** See {@link ClusterOptions.fastRefreshMs}. */
  readonly fastRefreshMs: number;
  /** See {@link ClusterOptions.fastRefreshMaxMs}. */
  readonly fastRefreshMaxMs: number;
  /** See {@link ClusterOptions.rebootstrapAfterMs}. */
  readonly rebootstrapAfterMs: number;
  /** See {@link ClusterOptions.sendTimeoutMs}. */
  readonly sendTimeoutMs: number;
  /** See {@link ClusterOptions.maxAttempts}. */
  readonly maxAttempts: number;
  /** See {@link ClusterOptions.clock}. */
  readonly clock: Clock;
  /** See {@link ClusterOptions.random}. */
  readonly random: Random;
  /** See {@link ClusterOptions.onEvent}. */
  readonly onEvent: ((event: ClusterEvent) => void) | undefined;
}

const MAX_MS = 2_147_483_647;

/**
 * Parses one `host:port` entry: `host:port`, `[v6]:port`, or `PROTOCOL://host:port` as found
 * in Kafka properties files (the protocol prefix is dropped; security comes from the options).
 *
 * @param entry The entry.
 * @returns The host and port.
 * @throws {ConfigError} When the entry has no valid port.
 */
export function parseHostPort(entry: string): HostPort {
  const text = entry.trim().replace(/^[A-Za-z_]+:\/\//, "");
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:\[\]]+):(\d+)$/.exec(text);
  const match = bracketed ?? plain;
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || !(port >= 1 && port <= 65535)) {
    throw new ConfigError(
      `Invalid bootstrap server ${
        JSON.stringify(entry)
      }: expected host:port (IPv6 as [addr]:port) with a port in 1..65535`,
    );
  }
  return { host: match[1], port };
}

/**
 * Parses a bootstrap list.
 *
 * @param bootstrap `"h1:9092,h2:9092"` or an array of entries (each may itself hold commas).
 * @returns The entries, duplicates removed, in the given order.
 * @throws {ConfigError} When the list is empty or an entry is invalid.
 */
export function parseBootstrap(bootstrap: string | readonly string[]): HostPort[] {
  const entries = (typeof bootstrap === "string" ? [bootstrap] : [...bootstrap])
    .flatMap((s) => {
      if (typeof s !== "string") {
        throw new ConfigError(`Bootstrap entries must be strings, got ${typeof s}`);
      }
      return s.split(",");
    })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (entries.length === 0) {
    throw new ConfigError('Cluster needs at least one bootstrap server, e.g. "127.0.0.1:9092"');
  }
  const seen = new Set<string>();
  const out: HostPort[] = [];
  for (const entry of entries) {
    const hp = parseHostPort(entry);
    const key = `${hp.host}:${hp.port}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(hp);
    }
  }
  return out;
}

function ms(name: string, value: number | undefined, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > MAX_MS) {
    throw new ConfigError(
      `Cluster option ${name} must be an integer in ${min}..${MAX_MS}, got ${value}`,
    );
  }
  return value;
}

/**
 * Applies defaults and checks every option.
 *
 * @param o The options.
 * @returns The resolved options.
 * @throws {ConfigError} Naming the first invalid option.
 */
export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  if (o === null || typeof o !== "object") {
    throw new ConfigError("Cluster needs an options object with bootstrap and connector");
  }
  if (typeof o.connector !== "function") {
    throw new ConfigError(
      "Cluster option connector must be a function: pass denoConnector, bunConnector, workersConnector(connect) or your own",
    );
  }
  for (
    const [name, fn] of [["resolve", o.resolve], ["mapAddress", o.mapAddress], [
      "onEvent",
      o.onEvent,
    ]] as const
  ) {
    if (fn !== undefined && typeof fn !== "function") {
      throw new ConfigError(`Cluster option ${name} must be a function, got ${typeof fn}`);
    }
  }
  const fastRefreshMs = ms("fastRefreshMs", o.fastRefreshMs, 1, 100);
  return {
    bootstrap: parseBootstrap(o.bootstrap),
    connector: o.connector,
    tls: o.tls,
    sasl: o.sasl,
    connection: o.connection ?? {},
    resolve: o.resolve,
    mapAddress: o.mapAddress,
    metadataRefreshIntervalMs: ms(
      "metadataRefreshIntervalMs",
      o.metadataRefreshIntervalMs,
      0,
      300_000,
    ),
    metadataMaxAgeMs: ms("metadataMaxAgeMs", o.metadataMaxAgeMs, 1, 900_000),
    fastRefreshMs,
    fastRefreshMaxMs: ms(
      "fastRefreshMaxMs",
      o.fastRefreshMaxMs,
      fastRefreshMs,
      Math.max(1000, fastRefreshMs),
    ),
    rebootstrapAfterMs: ms("rebootstrapAfterMs", o.rebootstrapAfterMs, 1, 300_000),
    sendTimeoutMs: ms("sendTimeoutMs", o.sendTimeoutMs, 1, 30_000),
    maxAttempts: ms("maxAttempts", o.maxAttempts, 1, 10),
    clock: o.clock ?? systemClock,
    random: o.random ?? Math.random,
    onEvent: o.onEvent,
  };
}
