/**
 * Drives one probe: starts the embedded test cluster when no bootstrap is given, connects a
 * {@link BrokerConnection} while reporting each state change as it happens, reads the broker's
 * API table and cluster facts, times round trips, and explains a failure. Runtime-neutral: the
 * connector, listen function, file reader and clock are parameters.
 *
 * @module
 */

import { BrokerConnection } from "../broker/connection.ts";
import { CLIENT_SOFTWARE_NAME, CLIENT_SOFTWARE_VERSION } from "../broker/options.ts";
import type { BrokerState, StateChange } from "../broker/state.ts";
import { ApiVersions } from "../protocol/api_versions.ts";
import { kafkaErrorFor } from "../protocol/errors.ts";
import { Metadata } from "../protocol/metadata.ts";
import type { SaslMechanism } from "../sasl/mechanism.ts";
import { oauthBearer, plain, scramSha256, scramSha512, unsecuredJwt } from "../sasl/mod.ts";
import { MockCluster, type MockSaslOptions } from "../testing/mod.ts";
import { type ProduceCheck, produceCheck } from "./produce_check.ts";
import { type Clock, systemClock } from "../transport/clock.ts";
import type { Connector, ListenFn, TlsOptions } from "../transport/conn.ts";
import { asKafkaError, type KafkaTransportError } from "../transport/errors.ts";
import type { Resolver } from "../cluster/options.ts";
import { type ApiRow, buildApiTable } from "./api_table.ts";
import { type ClusterView, probeCluster } from "./probe_cluster.ts";
import { ExitCode, explainFailure, type FailureKind } from "./hints.ts";
import { type ProbeOptions, UsageError } from "./probe_options.ts";

/** A message for the person running the probe. */
export interface ProbeNotice {
  /** "warning" for what weakens security or may mislead; "info" otherwise. */
  level: "info" | "warning";
  /** The text. */
  text: string;
}

/** One state the connection entered. */
export interface StateRecord {
  /** The state entered. */
  state: BrokerState;
  /** Milliseconds since the probe started connecting. */
  atMs: number;
  /** Why the connection moved. */
  reason: string;
  /** The state left. */
  from: BrokerState;
  /** Milliseconds spent in the state left. */
  fromMs: number;
}

/** How long each setup step took, in milliseconds; `null` for steps that did not happen. */
export interface SetupPhases {
  /** TCP connect (CONNECT). With TLS it is part of `tlsMs`, as the connector does both. */
  connectMs: number | null;
  /** TCP connect and TLS handshake together (SSL_HANDSHAKE). */
  tlsMs: number | null;
  /** The ApiVersions exchange (APIVERSION_QUERY). */
  apiVersionsMs: number | null;
  /** SaslHandshake and the token exchange (AUTH_*). */
  saslMs: number | null;
  /** From the start of the probe until UP. */
  upMs: number | null;
}

/** What Metadata says about the cluster. */
export interface ClusterInfo {
  /** The cluster id, or `null`. */
  clusterId: string | null;
  /** The controller's broker id, -1 when unknown. */
  controllerId: number;
  /** The live brokers. */
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
}

/** Round-trip latency summary, in milliseconds. */
export interface LatencySummary {
  /** The API timed. */
  api: string;
  /** Round trips completed. */
  count: number;
  /** Fastest. */
  minMs: number;
  /** Median (nearest rank). */
  p50Ms: number;
  /** 99th percentile (nearest rank). */
  p99Ms: number;
  /** Slowest. */
  maxMs: number;
  /** Mean. */
  avgMs: number;
}

/** The failure a probe ended with, explained. */
export interface ProbeFailure {
  /** The error class name, e.g. "ConnectionClosedError". */
  name: string;
  /** Its message, including "(after N ms in state X)" when it came from the connection. */
  message: string;
  /** Whether trying again may succeed. */
  retriable: boolean;
  /** The Kafka error code, or `null`. */
  code: number | null;
  /** The state the connection was in, or `null`. */
  state: string | null;
  /** The failure's category. */
  kind: FailureKind;
  /** What to check. */
  hint: string;
}

/** Everything a probe found out. */
export interface ProbeReport {
  /** `host:port` probed. */
  target: string;
  /** Whether it was the embedded test cluster. */
  embedded: boolean;
  /** Whether TLS was used. */
  tls: boolean;
  /** The SASL mechanism, or `null`. */
  sasl: string | null;
  /** The client id sent. */
  clientId: string;
  /** `true` when the broker reached UP and every round trip succeeded. */
  ok: boolean;
  /** The process exit code; see {@link ExitCode}. */
  exitCode: ExitCode;
  /** Messages shown along the way. */
  notices: ProbeNotice[];
  /** Every state entered, in order. */
  states: StateRecord[];
  /** Setup step timings, once UP was reached (or failed). */
  phases: SetupPhases;
  /** Cluster facts from Metadata; `null` when not reached. */
  cluster: ClusterInfo | null;
  /** The API table; empty when ApiVersions did not complete. */
  apis: ApiRow[];
  /** Round-trip latency; `null` when no round trip completed. */
  latency: LatencySummary | null;
  /** The produce + fetch round trip; `null` when none ran (or it failed). */
  produceCheck: ProduceCheck | null;
  /** The failure, or `null` on success. */
  error: ProbeFailure | null;
  /**
   * Every broker Metadata lists, dialled at its advertised address; `null` for the embedded
   * broker and when the first broker failed.
   */
  clusterView: ClusterView | null;
  /** Why the cluster view could not be made, or `null`. */
  clusterViewError: string | null;
}

/** What the probe reports as it happens, for progress output. */
export type ProbeEvent =
  | { type: "notice"; notice: ProbeNotice }
  | { type: "start"; target: string; embedded: boolean; tls: boolean; sasl: string | null }
  | { type: "state"; state: StateRecord }
  | { type: "cluster"; cluster: ClusterInfo }
  | { type: "round-trips"; api: string; count: number }
  | { type: "produce-check"; topic: string };

/** What the probe needs from its environment. */
export interface ProbeDeps {
  /** Dials the broker (the runtime's connector, or a test broker's). */
  connector: Connector;
  /**
   * Binds the embedded test cluster to real loopback ports; without it the embedded cluster is
   * reached through its in-memory connector.
   */
  listen?: ListenFn;
  /**
   * Reads a PEM file named by an option.
   *
   * @param path The file.
   * @returns Its text.
   */
  readTextFile(path: string): Promise<string>;
  /** Time source for timings and timeouts; the system clock by default. */
  clock?: Clock;
  /** The runtime's resolver for the cluster view; names are dialled as they are without one. */
  resolve?: Resolver;
  /**
   * Receives progress as it happens.
   *
   * @param event What happened.
   */
  onEvent?(event: ProbeEvent): void;
}

/** Lifetime of the unsecured JWT built for OAUTHBEARER without a token. */
const DEV_JWT_LIFETIME_MS = 3_600_000;

/** The scratch topic of the embedded cluster's produce + fetch round trip. */
const SCRATCH_TOPIC = "probe-scratch";

/** Topics of the embedded cluster: one for Metadata to show, one to write to. */
const EMBEDDED_TOPICS = [{ name: "probe-demo", partitions: 3 }, {
  name: SCRATCH_TOPIC,
  partitions: 1,
}];

/** Nodes of the embedded cluster. */
const EMBEDDED_NODES = 3;

async function readPem(deps: ProbeDeps, flag: string, path: string): Promise<string> {
  try {
    return await deps.readTextFile(path);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UsageError(`Cannot read ${flag} file "${path}": ${detail}`, { cause: error });
  }
}

async function tlsOptions(o: ProbeOptions, deps: ProbeDeps): Promise<TlsOptions | undefined> {
  if (!o.tls) return undefined;
  const tls: TlsOptions = {};
  if (o.caFile !== null) tls.caCerts = [await readPem(deps, "--ca", o.caFile)];
  if (o.certFile !== null) tls.cert = await readPem(deps, "--cert", o.certFile);
  if (o.keyFile !== null) tls.key = await readPem(deps, "--key", o.keyFile);
  if (o.serverName !== null) tls.serverName = o.serverName;
  if (o.insecureSkipVerify) tls.dangerouslyDisableVerification = true;
  return tls;
}

function saslMechanism(
  o: ProbeOptions,
  notify: (n: ProbeNotice) => void,
): SaslMechanism | undefined {
  const credentials = { username: o.username ?? "", password: o.password ?? "" };
  switch (o.saslMechanism) {
    case null:
      return undefined;
    case "PLAIN":
      return plain(credentials);
    case "SCRAM-SHA-256":
      return scramSha256(credentials);
    case "SCRAM-SHA-512":
      return scramSha512(credentials);
    case "OAUTHBEARER": {
      if (o.token !== null) return oauthBearer({ token: o.token });
      const sub = o.username ?? "";
      notify({
        level: "warning",
        text: `No --token: authenticating with an unsecured JWT (alg "none", sub "${sub}"), ` +
          `which only development brokers using Kafka's default unsecured validator accept`,
      });
      return oauthBearer({ token: () => unsecuredJwt({ sub, lifetimeMs: DEV_JWT_LIFETIME_MS }) });
    }
  }
}

function embeddedSasl(o: ProbeOptions): MockSaslOptions | undefined {
  if (o.saslMechanism === null) return undefined;
  const users: Record<string, string> = {};
  if (o.username !== null && o.password !== null) users[o.username] = o.password;
  return { mechanisms: [o.saslMechanism], users };
}

/**
 * Nearest-rank percentile of sorted samples.
 *
 * @param sorted Ascending samples, at least one.
 * @param q The quantile in (0, 1].
 * @returns The sample at that rank.
 */
export function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
}

/**
 * Summarises round-trip samples.
 *
 * @param api The API timed.
 * @param samples Durations in milliseconds, at least one.
 * @returns Min, p50, p99, max and mean.
 */
export function summarizeLatency(api: string, samples: Float64Array): LatencySummary {
  const sorted = samples.slice().sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    api,
    count: sorted.length,
    minMs: sorted[0],
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted[sorted.length - 1],
    avgMs: sum / sorted.length,
  };
}

/**
 * Works out how long each setup step took from the states entered.
 *
 * @param states The states, in order.
 * @returns The step timings.
 */
export function setupPhases(states: readonly StateRecord[]): SetupPhases {
  const time = new Map<string, number>();
  for (const s of states) time.set(s.from, (time.get(s.from) ?? 0) + s.fromMs);
  const sum = (...names: string[]): number | null => {
    const found = names.filter((n) => time.has(n));
    return found.length === 0 ? null : found.reduce((t, n) => t + time.get(n)!, 0);
  };
  return {
    connectMs: sum("CONNECT"),
    tlsMs: sum("SSL_HANDSHAKE"),
    apiVersionsMs: sum("APIVERSION_QUERY"),
    saslMs: sum("AUTH_HANDSHAKE", "AUTH_REQ", "AUTH_LEGACY"),
    upMs: states.find((s) => s.state === "UP")?.atMs ?? null,
  };
}

/**
 * Runs one probe. Never throws for a broker problem: failures are explained in the report
 * (only a programming error in a dependency escapes).
 *
 * @param o The parsed options.
 * @param deps Connector, listen function, file reader, clock and progress sink.
 * @returns What the probe found, with its exit code.
 */
export async function runProbe(o: ProbeOptions, deps: ProbeDeps): Promise<ProbeReport> {
  const clock = deps.clock ?? systemClock;
  const notices: ProbeNotice[] = [];
  const emit = (event: ProbeEvent): void => deps.onEvent?.(event);
  const notify = (notice: ProbeNotice): void => {
    notices.push(notice);
    emit({ type: "notice", notice });
  };
  const report: ProbeReport = {
    target: o.bootstrap === null ? "" : `${o.bootstrap.host}:${o.bootstrap.port}`,
    embedded: o.bootstrap === null,
    tls: o.tls,
    sasl: o.saslMechanism,
    clientId: o.clientId,
    ok: false,
    exitCode: ExitCode.OTHER,
    notices,
    states: [],
    phases: setupPhases([]),
    cluster: null,
    apis: [],
    latency: null,
    produceCheck: null,
    error: null,
    clusterView: null,
    clusterViewError: null,
  };
  let failedIn: string | null = null;
  let embedded: MockCluster | null = null;
  let conn: BrokerConnection | null = null;
  let unsubscribe = (): void => {};
  let samples: Float64Array | null = null;
  let done = 0;
  try {
    if (o.ignoredBootstrapServers > 0) {
      notify({
        level: "info",
        text: `Probing the first bootstrap server only (${o.ignoredBootstrapServers} more listed)`,
      });
    }
    if (o.insecureSkipVerify) {
      notify({
        level: "warning",
        text: "--insecure-skip-verify: the broker's certificate is NOT verified. Anyone on the " +
          "network path can read and alter this traffic. Use for local experiments only.",
      });
    }
    if (o.saslMechanism === "PLAIN" && !o.tls && o.bootstrap !== null) {
      notify({
        level: "warning",
        text: "SASL PLAIN without --tls sends the password in clear text",
      });
    }
    const tls = await tlsOptions(o, deps);
    const sasl = saslMechanism(o, notify);
    let host: string;
    let port: number;
    let connector = deps.connector;
    if (o.bootstrap === null) {
      embedded = await MockCluster.start({
        nodes: EMBEDDED_NODES,
        listen: deps.listen,
        topics: EMBEDDED_TOPICS,
        sasl: embeddedSasl(o),
        clock,
      });
      if (deps.listen === undefined) connector = embedded.connector;
      const first = embedded.nodes[0];
      host = first.host;
      port = first.port;
      report.target = first.bootstrap;
      notify({
        level: "info",
        text: `No --bootstrap: started the embedded ${EMBEDDED_NODES}-node test cluster ` +
          `(MockCluster) on ${embedded.bootstrap}${
            deps.listen === undefined ? " (in memory)" : ""
          }, in this process; probing node ${first.nodeId}. Pass --bootstrap HOST:PORT to ` +
          "probe a real broker",
      });
    } else {
      ({ host, port } = o.bootstrap);
    }
    emit({
      type: "start",
      target: report.target,
      embedded: report.embedded,
      tls: o.tls,
      sasl: o.saslMechanism,
    });
    // Some runtimes set up their timer machinery on the first timer (about 6 ms under Deno);
    // paying that here keeps it out of the CONNECT time reported below.
    clock.clearTimeout(clock.setTimeout(() => {}, 0));
    const started = clock.now();
    const open = (toHost: string, toPort: number): BrokerConnection =>
      new BrokerConnection({
        host: toHost,
        port: toPort,
        connector,
        tls,
        sasl,
        clientId: o.clientId,
        connectionSetupTimeoutMs: o.timeoutMs,
        apiVersionRequestTimeoutMs: o.timeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        clock,
      });
    conn = open(host, port);
    unsubscribe = conn.onStateChange((change: StateChange) => {
      const record: StateRecord = {
        state: change.to,
        atMs: change.at - started,
        reason: change.reason,
        from: change.from,
        fromMs: change.elapsedMs,
      };
      if (change.to === "DOWN" && failedIn === null) failedIn = change.from;
      report.states.push(record);
      emit({ type: "state", state: record });
    });
    try {
      await conn.connect();
    } finally {
      report.phases = setupPhases(report.states);
      if (conn.apiVersions !== null) report.apis = buildApiTable(conn.apiVersions);
    }
    const metadata = await conn.send(Metadata, { topics: [], allowAutoTopicCreation: false });
    report.cluster = {
      clusterId: metadata.clusterId,
      controllerId: metadata.controllerId,
      brokers: metadata.brokers.map((b) => ({ ...b })),
    };
    emit({ type: "cluster", cluster: report.cluster });
    if (o.count > 0) {
      emit({ type: "round-trips", api: o.rttApi, count: o.count });
      samples = new Float64Array(o.count);
      for (let i = 0; i < o.count; i++) {
        const t = clock.now();
        if (o.rttApi === "Metadata") {
          await conn.send(Metadata, { topics: [], allowAutoTopicCreation: false });
        } else {
          const res = await conn.send(ApiVersions, {
            clientSoftwareName: CLIENT_SOFTWARE_NAME,
            clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
          });
          if (res.errorCode !== 0) throw kafkaErrorFor(res.errorCode, "ApiVersions round trip");
        }
        samples[i] = clock.now() - t;
        done++;
      }
    }
    const checkTopic = embedded === null ? o.produceCheckTopic : SCRATCH_TOPIC;
    if (checkTopic !== null) {
      emit({ type: "produce-check", topic: checkTopic });
      report.produceCheck = await produceCheck(
        conn,
        { host, port },
        checkTopic,
        clock,
        async (h, p) => {
          const leader = open(h, p);
          await leader.connect();
          return leader;
        },
      );
    }
    report.ok = true;
    report.exitCode = ExitCode.OK;
    if (!report.embedded) {
      try {
        const view = await probeCluster(o, tls, sasl, { ...deps, clock });
        report.clusterView = view;
        if (view.unreachable > 0) report.exitCode = ExitCode.ADVERTISED_UNREACHABLE;
      } catch (error) {
        report.clusterViewError = asKafkaError(error, "Cluster view").message;
      }
    }
  } catch (caught) {
    const error: KafkaTransportError = asKafkaError(caught, "Probe failed");
    const explained = explainFailure(error, {
      state: failedIn,
      tls: o.tls,
      sasl: o.saslMechanism !== null,
      target: report.target,
    });
    report.exitCode = explained.exitCode;
    report.error = {
      name: error.name,
      message: error.message,
      retriable: error.retriable,
      code: error.code ?? null,
      state: failedIn,
      kind: explained.kind,
      hint: explained.hint,
    };
  } finally {
    // Round trips completed before a failure still tell how the broker was doing.
    if (samples !== null && done > 0) {
      report.latency = summarizeLatency(o.rttApi, samples.subarray(0, done));
    }
    // The probe's own close is not part of what the broker did.
    unsubscribe();
    await conn?.close({ graceful: false });
    await embedded?.close();
  }
  return report;
}
