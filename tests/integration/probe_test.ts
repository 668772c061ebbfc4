/**
 * The probe command line against the real broker, run as a user runs it (this runtime's
 * executable on `cli/probe.ts`, certificates from files, secrets from the environment): on
 * every listener × every SASL mechanism it reaches UP through exactly the expected states and
 * reports the broker's API table, its cluster and the round trips asked for; the common
 * mistakes end with their exit code and hint; the human report reads as documented.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { BrokerState } from "../../broker/state.ts";
import { type ApiRow, buildApiTable, IMPLEMENTED_APIS } from "../../cli/api_table.ts";
import { ExitCode } from "../../cli/hints.ts";
import type { ProbeReport } from "../../cli/probe_run.ts";
import { unsecuredJwt } from "../../sasl/unsecured_jwt.ts";
import { runtime } from "../harness.ts";
import type { KafkaEnv, KafkaListener, ListenerName } from "./fixture.ts";
import {
  kafkaTest,
  type MechanismName,
  MECHANISMS,
  openConnection,
  withKafka,
} from "./real_broker.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Round trips each successful probe is asked to time. */
const COUNT = 5;

/** What one run of the probe left behind. */
interface CliRun {
  /** The exit code (`null` when killed by the time limit). */
  status: number | null;
  /** Standard output: the JSON document with `--json`. */
  stdout: string;
  /** Standard error: warnings only, in JSON mode. */
  stderr: string;
}

/**
 * Runs `cli/probe.ts` with this very runtime's executable, as a user would.
 *
 * @param args The probe's arguments.
 * @param env Variables on top of this process's environment, whose `KAFKA_*` are dropped so
 *   that nothing from the developer's shell reaches the probe.
 * @returns Exit code and output.
 */
function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const prefix = runtime === "deno" ? ["run", "-A", "cli/probe.ts"] : ["cli/probe.ts"];
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  for (const name of Object.keys(childEnv)) if (name.startsWith("KAFKA_")) delete childEnv[name];
  const r = spawnSync(process.execPath, [...prefix, ...args], {
    cwd: root,
    env: { ...childEnv, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(r.error, undefined, String(r.error));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Parses the JSON document a `--json` run printed.
 *
 * @param run The run.
 * @returns The report, with its schema version.
 */
function jsonReport(run: CliRun): ProbeReport & { schemaVersion: number } {
  try {
    return JSON.parse(run.stdout);
  } catch (error) {
    assert.fail(`stdout is not one JSON document (${error}):\n${run.stdout}\n${run.stderr}`);
  }
}

/**
 * Describes a run for assertion messages.
 *
 * @param run The run.
 * @returns Exit code, stdout and stderr.
 */
function describeRun(run: CliRun): string {
  return `exit ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/**
 * The `HOST:PORT` to pass as `--bootstrap`.
 *
 * @param listener The listener.
 * @returns Its address.
 */
function address(listener: KafkaListener): string {
  return `${listener.host}:${listener.port}`;
}

/**
 * Writes the broker's CA and the client certificate and key to PEM files, as a user has them,
 * runs `fn` with their paths, and removes them again.
 *
 * @param kafka The broker.
 * @param fn Receives the paths.
 * @returns What `fn` returns.
 */
function withPemFiles<T>(
  kafka: KafkaEnv,
  fn: (files: { ca: string; cert: string; key: string }) => T,
): T {
  const dir = mkdtempSync(join(tmpdir(), "kw-probe-"));
  try {
    const files = {
      ca: join(dir, "ca.pem"),
      cert: join(dir, "client.pem"),
      key: join(dir, "key.pem"),
    };
    writeFileSync(files.ca, kafka.caPem);
    writeFileSync(files.cert, kafka.clientCertPem);
    writeFileSync(files.key, kafka.clientKeyPem);
    return fn(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Probes a listener with the right security options: `--ca` for TLS, `--cert`/`--key` for
 * mutual TLS, and the mechanism with the first user, whose password (or, for OAUTHBEARER, an
 * unsecured JWT) goes through the environment as `--help` recommends.
 *
 * @param kafka The broker.
 * @param listener The listener.
 * @param sasl The mechanism, for SASL listeners.
 * @param extra Further arguments.
 * @returns The run.
 */
function probeListener(
  kafka: KafkaEnv,
  listener: KafkaListener,
  sasl: MechanismName | null,
  extra: string[],
): CliRun {
  return withPemFiles(kafka, (files) => {
    const args = ["--bootstrap", address(listener), ...extra];
    const env: Record<string, string> = {};
    if (listener.tls) args.push("--ca", files.ca);
    if (listener.clientAuth) args.push("--cert", files.cert, "--key", files.key);
    const user = kafka.users[0];
    if (sasl === "OAUTHBEARER") {
      args.push("--sasl-mechanism", sasl);
      env.KAFKA_SASL_TOKEN = unsecuredJwt({ sub: user.username, lifetimeMs: 60_000 });
    } else if (sasl !== null) {
      args.push("--sasl-mechanism", sasl, "--username", user.username);
      env.KAFKA_SASL_PASSWORD = user.password;
    }
    return runCli(args, env);
  });
}

/**
 * The states a first connection passes on its way to UP.
 *
 * @param listener The listener.
 * @returns The expected states, from INIT on.
 */
function expectedStates(listener: KafkaListener): BrokerState[] {
  return [
    "TRY_CONNECT",
    "CONNECT",
    ...(listener.tls ? ["SSL_HANDSHAKE" as const] : []),
    "APIVERSION_QUERY",
    ...(listener.saslMechanisms.length > 0 ? ["AUTH_HANDSHAKE" as const, "AUTH_REQ" as const] : []),
    "UP",
  ];
}

let brokerTable: ApiRow[] | null = null;

/**
 * The API table built from the ApiVersions a connection of this test process receives,
 * fetched once: what the probe must report.
 *
 * @param kafka The broker.
 * @returns The rows.
 */
async function brokerApiTable(kafka: KafkaEnv): Promise<ApiRow[]> {
  if (brokerTable === null) {
    await using conn = openConnection(kafka.listeners.PLAINTEXT).conn;
    await conn.connect();
    assert.ok(conn.apiVersions !== null);
    brokerTable = buildApiTable(conn.apiVersions);
  }
  return brokerTable;
}

/**
 * Probes a listener with `--json` and checks the whole report of a successful probe.
 *
 * @param kafka The broker.
 * @param name The listener.
 * @param sasl The mechanism, for SASL listeners.
 */
async function probeSucceeds(
  kafka: KafkaEnv,
  name: ListenerName,
  sasl: MechanismName | null,
): Promise<void> {
  const listener = kafka.listeners[name];
  const run = probeListener(kafka, listener, sasl, ["--json", "--count", String(COUNT)]);
  const why = describeRun(run);
  assert.equal(run.status, ExitCode.OK, why);
  const doc = jsonReport(run);
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.ok, true, why);
  assert.equal(doc.exitCode, 0);
  assert.equal(doc.error, null);
  assert.equal(doc.target, address(listener));
  assert.equal(doc.embedded, false);
  assert.equal(doc.tls, listener.tls);
  assert.equal(doc.sasl, sasl);

  assert.deepEqual(doc.states.map((s) => s.state), expectedStates(listener), why);
  assert.equal(doc.phases.upMs, doc.states.at(-1)!.atMs);
  assert.equal(doc.phases.tlsMs !== null, listener.tls);
  assert.equal(doc.phases.saslMs !== null, sasl !== null);

  // Every API the broker advertises, with its range, and a version for each one implemented.
  assert.deepEqual(doc.apis, await brokerApiTable(kafka));
  for (const key of IMPLEMENTED_APIS.keys()) {
    const row = doc.apis.find((a) => a.key === key)!;
    assert.ok(row.brokerMax !== null && row.client !== null, JSON.stringify(row));
    assert.equal(row.version, Math.min(row.brokerMax, row.client.max), JSON.stringify(row));
    assert.ok(row.usable && row.version >= row.brokerMin! && row.version >= row.client.min);
  }

  assert.equal(doc.cluster?.clusterId, kafka.clusterId);
  assert.deepEqual(doc.cluster?.brokers.map((b) => b.port), [listener.port]);

  const l = doc.latency;
  assert.ok(l !== null, why);
  assert.equal(l.api, "ApiVersions");
  assert.equal(l.count, COUNT);
  assert.ok(0 <= l.minMs && l.minMs <= l.p50Ms && l.p50Ms <= l.p99Ms && l.p99Ms <= l.maxMs, why);

  // stdout carries the document alone; the one warning these probes earn goes to stderr.
  const warnings = sasl === "PLAIN" && !listener.tls
    ? ["SASL PLAIN without --tls sends the password in clear text"]
    : [];
  assert.deepEqual(doc.notices, warnings.map((text) => ({ level: "warning", text })));
  assert.equal(run.stderr, warnings.map((w) => `WARNING: ${w}\n`).join(""), why);
}

/** What a failed probe must report. */
interface ExpectedFailure {
  /** The exit code. */
  exitCode: ExitCode;
  /** The error class name. */
  name: string;
  /** The failure's category. */
  kind: string;
  /** The state the connection failed in. */
  state: BrokerState;
  /** What the error message must say. */
  message: RegExp;
  /** What the hint must say. */
  hint: RegExp;
}

/**
 * Checks the report of a failed `--json` probe.
 *
 * @param run The run.
 * @param expected The failure expected.
 * @returns The report, for further checks.
 */
function assertFailure(run: CliRun, expected: ExpectedFailure): ProbeReport {
  const why = describeRun(run);
  assert.equal(run.status, expected.exitCode, why);
  const doc = jsonReport(run);
  assert.equal(doc.ok, false);
  assert.equal(doc.exitCode, expected.exitCode);
  assert.ok(doc.error !== null, why);
  assert.equal(doc.error.name, expected.name, why);
  assert.equal(doc.error.kind, expected.kind, why);
  assert.equal(doc.error.state, expected.state, why);
  assert.match(doc.error.message, expected.message);
  assert.match(doc.error.hint, expected.hint);
  assert.equal(doc.states.at(-1)?.state, "DOWN", why);
  assert.equal(doc.latency, null);
  return doc;
}

withKafka((kafka) => {
  for (const name of ["PLAINTEXT", "SSL", "SSL_CLIENTAUTH"] as const) {
    kafkaTest(
      `probe --json on ${name}: exit 0, states to UP, API table, ${COUNT} round trips`,
      () => probeSucceeds(kafka, name, null),
    );
  }
  for (const name of ["SASL_PLAINTEXT", "SASL_SSL"] as const) {
    for (const sasl of MECHANISMS) {
      kafkaTest(
        `probe --json on ${name} × ${sasl}: exit 0, states to UP, API table, ${COUNT} round trips`,
        () => probeSucceeds(kafka, name, sasl),
      );
    }
  }

  kafkaTest("probe --json without TLS on the SSL listener: exit 4, the TLS-listener hint", () => {
    const doc = assertFailure(runCli(["--json", "--bootstrap", address(kafka.listeners.SSL)]), {
      exitCode: ExitCode.TLS,
      name: "FramingError",
      kind: "wrong-security-protocol",
      state: "APIVERSION_QUERY",
      message: /looks like TLS/,
      hint: /it is an SSL \/ SASL_SSL listener; add --tls/,
    });
    assert.deepEqual(doc.apis, [], "ApiVersions never completed");
  });

  kafkaTest(
    "probe --json without SASL on a SASL listener: exit 5, the might-require-SASL hint",
    () => {
      const doc = assertFailure(
        probeListener(kafka, kafka.listeners.SASL_PLAINTEXT, null, ["--json"]),
        {
          exitCode: ExitCode.AUTHENTICATION,
          name: "ConnectionClosedError",
          kind: "sasl-required",
          state: "UP",
          message: /closed by the broker: broker might require SASL authentication/,
          hint: /probably a SASL_PLAINTEXT \/ SASL_SSL listener; add --sasl-mechanism/,
        },
      );
      // Kafka answers ApiVersions before SASL, so the table is there; Metadata is refused.
      assert.ok(doc.apis.length > 0);
      assert.equal(doc.cluster, null);
    },
  );

  kafkaTest(
    "probe --json with a wrong password on SASL_SSL × SCRAM-SHA-512: exit 5, the broker's message",
    () => {
      const listener = kafka.listeners.SASL_SSL;
      const run = withPemFiles(kafka, (files) =>
        runCli([
          "--json",
          "--bootstrap",
          address(listener),
          "--ca",
          files.ca,
          "--sasl-mechanism",
          "SCRAM-SHA-512",
          "--username",
          kafka.users[0].username,
          "--password",
          "not-the-password",
        ]));
      const doc = assertFailure(run, {
        exitCode: ExitCode.AUTHENTICATION,
        name: "AuthenticationError",
        kind: "authentication",
        state: "AUTH_REQ",
        message: /invalid credentials with SASL mechanism SCRAM-SHA-512/,
        hint: /SASL authentication failed: check the user name and password/,
      });
      assert.equal(doc.error?.code, 58, "SASL_AUTHENTICATION_FAILED");
      assert.equal(doc.error?.retriable, false);
    },
  );

  kafkaTest(
    "probe's human report on SASL_SSL × SCRAM-SHA-512 shows each step and the verdict",
    () => {
      const listener = kafka.listeners.SASL_SSL;
      const run = probeListener(kafka, listener, "SCRAM-SHA-512", ["--count", "3"]);
      const why = describeRun(run);
      assert.equal(run.status, ExitCode.OK, why);
      assert.equal(run.stderr, "", why);
      const lines = run.stdout.trimEnd().split("\n");
      const target = address(listener);
      assert.equal(lines[0], `Probing ${target} (TLS, SASL SCRAM-SHA-512)`);
      const stateLines = lines.filter((l) => /^ {2}\+ *[\d.]+ ms {2}[A-Z_]+ /.test(l));
      assert.deepEqual(
        stateLines.map((l) => l.split(/ +/)[4]),
        expectedStates(listener),
        why,
      );
      const order = [
        new RegExp(
          `^Cluster ${kafka.clusterId}: controller \\d+, 1 broker: \\d+@.+:${listener.port}$`,
        ),
        /^Timing 3 ApiVersions round trips\.\.\.$/,
        /^Setup: connect\+TLS [\d.]+ ms, ApiVersions [\d.]+ ms, SASL [\d.]+ ms; UP after [\d.]+ ms$/,
        /^APIs: the broker advertises \d+; "uses" is the version this module would send/,
        /^ {2}API +key +broker min +broker max +uses$/,
        /^ {2}Metadata +3 +\d+ +\d+ +v\d+$/,
        /^Every API this module implements has a version in common with the broker\.$/,
        /^Round trips: 3 x ApiVersions: min [\d.]+ {2}p50 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+ {2}avg [\d.]+ ms$/,
      ];
      let at = 0;
      for (const pattern of order) {
        const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
        assert.ok(found >= 0, `no line matching ${pattern} after line ${at}:\n${run.stdout}`);
        at = found + 1;
      }
      assert.match(
        lines.at(-1)!,
        new RegExp(`^OK: ${target} is usable \\(UP in [\\d.]+ ms, 3 round trips\\)\\.$`),
      );
    },
  );
}, "the probe CLI against every listener");
