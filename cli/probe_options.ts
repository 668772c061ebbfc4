/**
 * The probe's options: one table drives parsing of command-line arguments, the environment
 * fallbacks and the option list in `--help`, so the three cannot drift apart.
 *
 * @module
 */

import { ConfigError, type KafkaErrorOptions } from "../transport/errors.ts";

/** The SASL mechanisms the probe can authenticate with. */
export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;

/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanismName = typeof SASL_MECHANISMS[number];

/** The APIs the probe can time round trips with. */
export const RTT_APIS = ["ApiVersions", "Metadata"] as const;

/** One of {@link RTT_APIS}. */
export type RttApiName = typeof RTT_APIS[number];

/** A bad command line or environment: the probe prints the message and exits with code 2. */
export class UsageError extends ConfigError {
  /**
   * Creates the error.
   *
   * @param message Which option is wrong and what it accepts.
   * @param options Cause.
   */
  constructor(message: string, options: KafkaErrorOptions = {}) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Everything the probe was asked to do, after parsing and validation. */
export interface ProbeOptions {
  /** The broker to probe; `null` starts the embedded test cluster instead. */
  bootstrap: { host: string; port: number } | null;
  /** How many further bootstrap servers were listed (only the first is probed). */
  ignoredBootstrapServers: number;
  /** Every bootstrap server listed; the cluster view bootstraps from all of them. */
  bootstrapServers: { host: string; port: number }[];
  /** Advertised address → address to dial, for the cluster view (`--map-address`). */
  mapAddress: { from: { host: string; port: number }; to: { host: string; port: number } }[];
  /** Connect with TLS. Implied by any other TLS option. */
  tls: boolean;
  /** File with the PEM CA certificate(s) to trust. */
  caFile: string | null;
  /** File with the PEM client certificate (mutual TLS). */
  certFile: string | null;
  /** File with the PEM client key (mutual TLS). */
  keyFile: string | null;
  /** Name for SNI and certificate verification, when not the host dialled. */
  serverName: string | null;
  /** Skip certificate and host name verification. */
  insecureSkipVerify: boolean;
  /** SASL mechanism; `null` for none. */
  saslMechanism: SaslMechanismName | null;
  /** SASL user name. */
  username: string | null;
  /** SASL password (PLAIN, SCRAM). */
  password: string | null;
  /** OAUTHBEARER token. */
  token: string | null;
  /** Client id sent in request headers. */
  clientId: string;
  /** Limit for TCP + TLS + ApiVersions + SASL. */
  timeoutMs: number;
  /** Timeout of each request after setup. */
  requestTimeoutMs: number;
  /** Round trips to time. */
  count: number;
  /** The API used for the round trips. */
  rttApi: RttApiName;
  /**
   * The topic for a produce + fetch round trip against a real broker (partition 0), or `null`
   * for none. The embedded cluster always gets one, on a scratch topic of its own.
   */
  produceCheckTopic: string | null;
  /** Print one JSON document instead of human output. */
  json: boolean;
  /** Print the help and exit. */
  help: boolean;
}

type Kind = "string" | "int" | "flag";

/** One option: its flag, its environment variable, and how it is read. */
export interface OptionSpec {
  /** The long flag, e.g. "--bootstrap". */
  readonly flag: string;
  /** The environment variable read when the flag is absent, or `null`. */
  readonly env: string | null;
  /** The placeholder shown in `--help` for options that take a value. */
  readonly value: string | null;
  /** One line for `--help`. */
  readonly help: string;
}

interface Spec extends OptionSpec {
  readonly kind: Kind;
  readonly key: keyof Raw;
}

interface Raw {
  bootstrap?: string;
  mapAddress?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
  saslMechanism?: string;
  username?: string;
  password?: string;
  token?: string;
  clientId?: string;
  timeoutMs?: number;
  requestTimeoutMs?: number;
  count?: number;
  rttApi?: string;
  produceCheck?: string;
  json?: boolean;
  help?: boolean;
}

/** Default client id; says in broker logs that the connection came from the probe. */
export const DEFAULT_CLIENT_ID = "kafka-wire-probe";
/** Default connection setup limit: a probe should answer quickly. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default per-request timeout after setup. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Default number of timed round trips. */
export const DEFAULT_COUNT = 100;
const MAX_COUNT = 1_000_000;
const MAX_MS = 0x7fffffff;

const SPECS: readonly Spec[] = [
  {
    flag: "--bootstrap",
    env: "KAFKA_BOOTSTRAP",
    kind: "string",
    key: "bootstrap",
    value: "HOST:PORT",
    help: "broker to probe (port defaults to 9092; of a list, the first is probed); " +
      "none: start the embedded test cluster",
  },
  {
    flag: "--map-address",
    env: "KAFKA_MAP_ADDRESS",
    kind: "string",
    key: "mapAddress",
    value: "ADV=DIAL[,...]",
    help: "dial DIAL (HOST:PORT) where a broker advertises ADV (HOST:PORT): tunnels, proxies, " +
      "Docker port mappings; used by the cluster view",
  },
  {
    flag: "--tls",
    env: "KAFKA_TLS",
    kind: "flag",
    key: "tls",
    value: null,
    help: "connect with TLS (SSL / SASL_SSL listeners); implied by every TLS option below",
  },
  {
    flag: "--ca",
    env: "KAFKA_TLS_CA",
    kind: "string",
    key: "ca",
    value: "FILE",
    help: "PEM file of the CA that signed the broker's certificate (default: system roots)",
  },
  {
    flag: "--cert",
    env: "KAFKA_TLS_CERT",
    kind: "string",
    key: "cert",
    value: "FILE",
    help: "PEM client certificate, for listeners requiring mutual TLS (needs --key)",
  },
  {
    flag: "--key",
    env: "KAFKA_TLS_KEY",
    kind: "string",
    key: "key",
    value: "FILE",
    help: "PEM private key of --cert",
  },
  {
    flag: "--server-name",
    env: "KAFKA_TLS_SERVER_NAME",
    kind: "string",
    key: "serverName",
    value: "NAME",
    help: "name to send as SNI and verify the certificate against (default: the host)",
  },
  {
    flag: "--insecure-skip-verify",
    env: "KAFKA_TLS_INSECURE_SKIP_VERIFY",
    kind: "flag",
    key: "insecureSkipVerify",
    value: null,
    help: "do not verify the broker's certificate: anyone on the path can read and alter " +
      "traffic; local experiments only (Deno still checks the chain unless run with " +
      "--unsafely-ignore-certificate-errors)",
  },
  {
    flag: "--sasl-mechanism",
    env: "KAFKA_SASL_MECHANISM",
    kind: "string",
    key: "saslMechanism",
    value: "NAME",
    help: `authenticate with ${SASL_MECHANISMS.join(" | ")}`,
  },
  {
    flag: "--username",
    env: "KAFKA_SASL_USERNAME",
    kind: "string",
    key: "username",
    value: "USER",
    help: "SASL user name (OAUTHBEARER without --token: the sub of an unsecured dev JWT)",
  },
  {
    flag: "--password",
    env: "KAFKA_SASL_PASSWORD",
    kind: "string",
    key: "password",
    value: "PASS",
    help: "SASL password (prefer the variable: arguments show up in `ps` and shell history)",
  },
  {
    flag: "--token",
    env: "KAFKA_SASL_TOKEN",
    kind: "string",
    key: "token",
    value: "JWT",
    help: "OAUTHBEARER bearer token",
  },
  {
    flag: "--client-id",
    env: "KAFKA_CLIENT_ID",
    kind: "string",
    key: "clientId",
    value: "ID",
    help: `client id in request headers (default ${DEFAULT_CLIENT_ID})`,
  },
  {
    flag: "--timeout-ms",
    env: "KAFKA_TIMEOUT_MS",
    kind: "int",
    key: "timeoutMs",
    value: "MS",
    help: `limit for connect + TLS + ApiVersions + SASL (default ${DEFAULT_TIMEOUT_MS})`,
  },
  {
    flag: "--request-timeout-ms",
    env: "KAFKA_REQUEST_TIMEOUT_MS",
    kind: "int",
    key: "requestTimeoutMs",
    value: "MS",
    help: `timeout of each request once connected (default ${DEFAULT_REQUEST_TIMEOUT_MS})`,
  },
  {
    flag: "--count",
    env: "KAFKA_PROBE_COUNT",
    kind: "int",
    key: "count",
    value: "N",
    help: `round trips to time, 0 for none (default ${DEFAULT_COUNT})`,
  },
  {
    flag: "--rtt-api",
    env: "KAFKA_PROBE_RTT_API",
    kind: "string",
    key: "rttApi",
    value: "API",
    help: `request used for the round trips: ${RTT_APIS.join(" | ")} (default ApiVersions)`,
  },
  {
    flag: "--produce-check",
    env: "KAFKA_PROBE_PRODUCE_CHECK",
    kind: "string",
    key: "produceCheck",
    value: "TOPIC",
    help: "also produce one record to partition 0 of TOPIC and fetch it back, timed (writes " +
      "to a real broker only when given; the embedded cluster always does it on a scratch topic)",
  },
  {
    flag: "--json",
    env: "KAFKA_PROBE_JSON",
    kind: "flag",
    key: "json",
    value: null,
    help: "print one JSON document (for scripts) instead of the human report",
  },
  {
    flag: "--help",
    env: null,
    kind: "flag",
    key: "help",
    value: null,
    help: "show this help (also -h)",
  },
];

/** Every option, in `--help` order. */
export const OPTION_SPECS: readonly OptionSpec[] = SPECS;

const BY_FLAG = new Map(SPECS.map((s) => [s.flag, s]));

function parseInt32(text: string, origin: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > MAX_MS) {
    throw new UsageError(`${origin} must be a whole number of 0 or more, got "${text}"`);
  }
  return Number(trimmed);
}

function parseFlag(text: string, origin: string): boolean {
  const t = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(t)) return true;
  if (["", "0", "false", "no", "off"].includes(t)) return false;
  throw new UsageError(`${origin} must be true or false (1/0, yes/no), got "${text}"`);
}

function assign(raw: Raw, spec: Spec, value: string, origin: string): void {
  const target = raw as Record<string, string | number | boolean>;
  if (spec.kind === "int") target[spec.key] = parseInt32(value, origin);
  else if (spec.kind === "flag") target[spec.key] = parseFlag(value, origin);
  else {
    if (value.trim() === "") throw new UsageError(`${origin} needs a value, got an empty one`);
    target[spec.key] = value.trim();
  }
}

function readArgs(args: readonly string[]): Raw {
  const raw: Raw = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h") {
      raw.help = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = BY_FLAG.get(name);
    if (spec === undefined) {
      throw new UsageError(
        arg.startsWith("-")
          ? `Unknown option ${name}; run with --help for the list`
          : `Unexpected argument "${arg}": options start with --, e.g. --bootstrap ${arg}`,
      );
    }
    if (spec.kind === "flag") {
      assign(raw, spec, eq > 0 ? arg.slice(eq + 1) : "true", spec.flag);
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new UsageError(`${spec.flag} needs a value: ${spec.flag} ${spec.value}`);
      }
      value = next;
      i++;
    }
    assign(raw, spec, value, spec.flag);
  }
  return raw;
}

function readEnv(env: Readonly<Record<string, string | undefined>>, raw: Raw): void {
  const given = raw as Record<string, unknown>;
  for (const spec of SPECS) {
    if (spec.env === null || given[spec.key] !== undefined) continue;
    const value = env[spec.env];
    if (value === undefined || (spec.kind !== "flag" && value.trim() === "")) continue;
    assign(raw, spec, value, `${spec.env} (environment)`);
  }
}

/**
 * Parses `host:port`, `host` (port 9092) or `[ipv6]:port`.
 *
 * @param text One bootstrap server.
 * @returns Host and port.
 * @throws {UsageError} When the port is not a number in 1..65535 or the host is empty.
 */
export function parseHostPort(text: string): { host: string; port: number } {
  const t = text.trim();
  let host = t;
  let port = "9092";
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(t);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2] ?? port;
  } else if (t.split(":").length === 2) {
    [host, port] = t.split(":");
  } else if (t.includes(":")) {
    throw new UsageError(
      `--bootstrap "${text}": write IPv6 addresses in brackets, e.g. [::1]:9092`,
    );
  }
  const n = Number(port);
  if (host === "" || !/^\d+$/.test(port) || n < 1 || n > 65535) {
    throw new UsageError(
      `--bootstrap "${text}" is not HOST:PORT with a port in 1..65535, e.g. localhost:9092`,
    );
  }
  return { host, port: n };
}

function parseMapAddress(text: string | undefined): ProbeOptions["mapAddress"] {
  if (text === undefined) return [];
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "").map((pair) => {
    const [from, to, extra] = pair.split("=");
    if (to === undefined || extra !== undefined) {
      throw new UsageError(
        `--map-address "${pair}" is not ADVERTISED=DIAL, e.g. kafka-2.internal:9092=127.0.0.1:19092`,
      );
    }
    return { from: parseHostPort(from), to: parseHostPort(to) };
  });
}

function pick<T extends string>(value: string, allowed: readonly T[], origin: string): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (found === undefined) {
    throw new UsageError(`${origin} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return found;
}

function checkSasl(o: ProbeOptions): void {
  const m = o.saslMechanism;
  if (m === null) {
    if (o.username !== null || o.password !== null || o.token !== null) {
      throw new UsageError(
        `SASL credentials were given without a mechanism: add --sasl-mechanism ` +
          `${SASL_MECHANISMS.join("|")} (or KAFKA_SASL_MECHANISM)`,
      );
    }
    return;
  }
  if (m === "OAUTHBEARER") {
    if (o.token === null && o.username === null) {
      throw new UsageError(
        "OAUTHBEARER needs --token JWT, or --username USER to build an unsecured JWT for a " +
          "development broker",
      );
    }
    return;
  }
  if (o.username === null || o.password === null) {
    throw new UsageError(
      `${m} needs --username and --password (or KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD)`,
    );
  }
  if (o.token !== null) throw new UsageError(`--token is for OAUTHBEARER only, not ${m}`);
}

/**
 * Reads the probe's options from the command line, falling back to the environment for each
 * option not given there (arguments win).
 *
 * @param args The arguments after the script name.
 * @param env The environment variables.
 * @returns The validated options.
 * @throws {UsageError} Naming the offending option and what it accepts.
 */
export function parseProbeOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ProbeOptions {
  const raw = readArgs(args);
  readEnv(env, raw);
  const servers = raw.bootstrap?.split(",").map((s) => s.trim()).filter((s) => s !== "") ?? [];
  const o: ProbeOptions = {
    bootstrap: servers.length > 0 ? parseHostPort(servers[0]) : null,
    ignoredBootstrapServers: Math.max(0, servers.length - 1),
    bootstrapServers: servers.map(parseHostPort),
    mapAddress: parseMapAddress(raw.mapAddress),
    caFile: raw.ca ?? null,
    certFile: raw.cert ?? null,
    keyFile: raw.key ?? null,
    serverName: raw.serverName ?? null,
    insecureSkipVerify: raw.insecureSkipVerify ?? false,
    tls: false,
    saslMechanism: raw.saslMechanism === undefined
      ? null
      : pick(raw.saslMechanism, SASL_MECHANISMS, "--sasl-mechanism"),
    username: raw.username ?? null,
    password: raw.password ?? null,
    token: raw.token ?? null,
    clientId: raw.clientId ?? DEFAULT_CLIENT_ID,
    timeoutMs: raw.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    requestTimeoutMs: raw.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    count: raw.count ?? DEFAULT_COUNT,
    rttApi: raw.rttApi === undefined ? "ApiVersions" : pick(raw.rttApi, RTT_APIS, "--rtt-api"),
    produceCheckTopic: raw.produceCheck ?? null,
    json: raw.json ?? false,
    help: raw.help ?? false,
  };
  o.tls = (raw.tls ?? false) || o.caFile !== null || o.certFile !== null || o.keyFile !== null ||
    o.serverName !== null || o.insecureSkipVerify;
  if (o.help) return o;
  if (o.timeoutMs < 1) throw new UsageError("--timeout-ms must be at least 1");
  if (o.requestTimeoutMs < 1) throw new UsageError("--request-timeout-ms must be at least 1");
  if (o.count > MAX_COUNT) throw new UsageError(`--count must be at most ${MAX_COUNT}`);
  if ((o.certFile === null) !== (o.keyFile === null)) {
    throw new UsageError("--cert and --key go together: give both for mutual TLS, or neither");
  }
  if (o.bootstrap === null && o.tls) {
    throw new UsageError(
      "TLS options need --bootstrap: the embedded test cluster only speaks plaintext",
    );
  }
  if (o.produceCheckTopic !== null && o.bootstrap === null) {
    throw new UsageError(
      "--produce-check needs --bootstrap: the embedded cluster already runs a produce + fetch " +
        "round trip on a scratch topic of its own",
    );
  }
  if (o.produceCheckTopic === "") throw new UsageError("--produce-check needs a topic name");
  checkSasl(o);
  return o;
}
