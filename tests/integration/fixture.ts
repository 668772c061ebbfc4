/**
 * How integration tests find the real Kafka broker started by `scripts/kafka/start.sh`: it
 * reads the `endpoints.json` that script writes (listeners, certificate paths, users), checks
 * that the broker process recorded there is still alive, and loads the PEM files. When there is
 * no usable broker it says why instead, and {@link withKafka} registers a skipped test with that
 * reason (or, under `KAFKA_REQUIRED=1` or `true`, a failing one).
 *
 * Uses only `node:` modules, which Deno, Bun and Node all provide.
 *
 * @example
 * ```ts
 * import { withKafka } from "./fixture.ts";
 * import { test } from "../harness.ts";
 * withKafka((kafka) => {
 *   test("the broker has a PLAINTEXT port", () => {
 *     if (!(kafka.listeners.PLAINTEXT.port > 0)) throw new Error("no port");
 *   });
 * }, "the example");
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime, skip, test } from "../harness.ts";

/** The client-facing listeners of the test broker (the controller listener is not listed). */
export type ListenerName =
  | "PLAINTEXT"
  | "SSL"
  | "SSL_CLIENTAUTH"
  | "SASL_PLAINTEXT"
  | "SASL_SSL"
  | "SASL_REAUTH";

/** Every {@link ListenerName}, in port order. */
export const LISTENER_NAMES: readonly ListenerName[] = [
  "PLAINTEXT",
  "SSL",
  "SSL_CLIENTAUTH",
  "SASL_PLAINTEXT",
  "SASL_SSL",
  "SASL_REAUTH",
];

/** One listener of the test broker. */
export interface KafkaListener {
  /** Address to dial (always loopback). */
  host: string;
  /** TCP port. */
  port: number;
  /** Kafka's security protocol for the listener. */
  securityProtocol: "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
  /** Whether the listener speaks TLS (server certificate from {@link KafkaEnv.caPem}). */
  tls: boolean;
  /** Whether the listener requires a client certificate signed by {@link KafkaEnv.caPem}. */
  clientAuth: boolean;
  /** SASL mechanisms enabled on the listener; empty for listeners without SASL. */
  saslMechanisms: string[];
  /** The session lifetime handed out on authentication (KIP-368), or 0 for none. */
  reauthMs: number;
}

/** A SASL user known to the broker for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
export interface KafkaUser {
  /** The user name. */
  username: string;
  /** The password. */
  password: string;
}

/** A running test broker and everything needed to connect to each of its listeners. */
export interface KafkaEnv {
  /** The Kafka version running, e.g. "4.1.1". */
  kafkaVersion: string;
  /** The cluster id the storage was formatted with. */
  clusterId: string;
  /** The broker's process id. */
  pid: number;
  /** Each listener by name. */
  listeners: Record<ListenerName, KafkaListener>;
  /** The CA that signed the broker's certificate and {@link KafkaEnv.clientCertPem}. */
  caPem: string;
  /** A client certificate the SSL_CLIENTAUTH listener accepts. */
  clientCertPem: string;
  /** The private key of {@link KafkaEnv.clientCertPem} (PKCS#8). */
  clientKeyPem: string;
  /** An unrelated CA: trusting only it must fail to verify the broker. */
  wrongCaPem: string;
  /** A client certificate from {@link KafkaEnv.wrongCaPem}, which SSL_CLIENTAUTH refuses. */
  wrongClientCertPem: string;
  /** The private key of {@link KafkaEnv.wrongClientCertPem} (PKCS#8). */
  wrongClientKeyPem: string;
  /**
   * Users valid for PLAIN and both SCRAM mechanisms on every SASL listener. OAUTHBEARER takes
   * any unsigned JWT (`alg: "none"`) with a `sub` claim.
   */
  users: KafkaUser[];
  /** The broker's log file, worth quoting when a test fails. */
  logFile: string;
}

/** Why no broker can be used: not started, stopped, killed, or its files unreadable. */
export interface KafkaUnavailable {
  /** What is missing and how to start the broker. */
  skipReason: string;
}

/** The scripts' exit statuses or outputs were not what a fixture helper needed. */
export class KafkaFixtureError extends Error {
  /**
   * @param message What failed, with the script's output.
   */
  constructor(message: string) {
    super(message);
    this.name = "KafkaFixtureError";
  }
}

const scriptsDir = fileURLToPath(new URL("../../scripts/kafka/", import.meta.url));

/**
 * The cache directory the scripts use: `KAFKA_CACHE_DIR` when set (as for the scripts, relative
 * to the working directory), else `.cache/kafka` in the repository.
 *
 * @returns The absolute path of the cache directory.
 */
function cacheDir(): string {
  const fromEnv = process.env.KAFKA_CACHE_DIR;
  if (fromEnv) return resolve(fromEnv);
  return fileURLToPath(new URL("../../.cache/kafka", import.meta.url));
}

/** The parts of `endpoints.json` the fixture reads. */
interface EndpointsFile {
  version: number;
  kafkaVersion: string;
  clusterId: string;
  pid: number;
  listeners: Record<ListenerName, KafkaListener>;
  certs: Record<
    "ca" | "clientCert" | "clientKey" | "wrongCa" | "wrongClientCert" | "wrongClientKey",
    string
  >;
  users: KafkaUser[];
  logFile: string;
}

/**
 * Whether process `pid` exists (signal 0 only checks; EPERM means it exists under another
 * user).
 *
 * @param pid A process id.
 * @returns `true` when the process exists.
 */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * Reads the broker's endpoints and TLS material.
 *
 * Cheap and synchronous (a few small files, no network), so test files can call it at the top
 * level to decide which tests to register.
 *
 * @returns The broker's details, or `{ skipReason }` saying why there is no usable broker.
 */
export function loadKafka(): KafkaEnv | KafkaUnavailable {
  const dir = cacheDir();
  const path = `${dir}/endpoints.json`;
  const start = "start one with `bash scripts/kafka/start.sh` (needs Java 17+, Maven, openssl)";
  let file: EndpointsFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") {
      return { skipReason: `no Kafka broker running: ${path} not found; ${start}` };
    }
    return { skipReason: `cannot read ${path}: ${(error as Error).message}; ${start}` };
  }
  if (file.version !== 1 || typeof file.pid !== "number" || !file.listeners?.PLAINTEXT) {
    return { skipReason: `${path} is not an endpoints file this fixture understands; ${start}` };
  }
  let pidFile = "";
  try {
    pidFile = readFileSync(`${dir}/broker.pid`, "utf8").trim();
  } catch {
    // Missing after kill.sh: reported below together with a dead process.
  }
  if (pidFile !== String(file.pid) || !processExists(file.pid)) {
    return {
      skipReason: `the Kafka broker recorded in ${path} (pid ${file.pid}) is not running ` +
        `(killed or crashed; see ${file.logFile}); restart it with ` +
        "`bash scripts/kafka/restart.sh` or `bash scripts/kafka/start.sh --fresh`",
    };
  }
  try {
    const pem = (key: keyof EndpointsFile["certs"]) => readFileSync(file.certs[key], "utf8");
    return {
      kafkaVersion: file.kafkaVersion,
      clusterId: file.clusterId,
      pid: file.pid,
      listeners: file.listeners,
      caPem: pem("ca"),
      clientCertPem: pem("clientCert"),
      clientKeyPem: pem("clientKey"),
      wrongCaPem: pem("wrongCa"),
      wrongClientCertPem: pem("wrongClientCert"),
      wrongClientKeyPem: pem("wrongClientKey"),
      users: file.users,
      logFile: file.logFile,
    };
  } catch (error) {
    return {
      skipReason: `the broker's certificates are unreadable (${(error as Error).message}); ` +
        "remake them with `bash scripts/kafka/certs.sh --force` and restart the broker",
    };
  }
}

/**
 * Whether a missing broker is a failure: `KAFKA_REQUIRED` is `1` or `true` (as in CI).
 *
 * @returns `true` when the real-broker suites must run.
 */
export function kafkaRequired(): boolean {
  const value = (process.env.KAFKA_REQUIRED ?? "").trim().toLowerCase();
  return value === "1" || value === "true";
}

/**
 * Registers a file's real-broker tests when a broker is running. Without one it registers one
 * skipped test named for the file's tests, with the reason (so the run's closing line counts it
 * and names the suite), or, when {@link kafkaRequired}, one test that fails with the reason.
 *
 * @param register Registers the file's tests for the running broker.
 * @param what What the file's tests check, for the skipped test's name.
 */
export function withKafka(register: (kafka: KafkaEnv) => void, what = "real-broker tests"): void {
  const kafka = loadKafka();
  if (!("skipReason" in kafka)) {
    register(kafka);
  } else if (kafkaRequired()) {
    test(`[${runtime}] real Kafka broker is running (KAFKA_REQUIRED): ${what}`, () => {
      assert.fail(`integration suite did not run: ${kafka.skipReason}`);
    });
  } else {
    skip(`[${runtime}] real Kafka: ${what}`, "integration", kafka.skipReason);
  }
}

/**
 * Runs one of `scripts/kafka/*.sh` to completion.
 *
 * @param script The script's file name.
 * @param timeoutMs How long it may take.
 * @returns The script's stdout.
 */
function runScript(script: string, timeoutMs: number): string {
  const result = spawnSync("bash", [`${scriptsDir}${script}`], {
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.error || result.status !== 0) {
    const why = result.error
      ? result.error.message
      : `exit status ${result.status ?? `signal ${result.signal}`}`;
    throw new KafkaFixtureError(
      `scripts/kafka/${script} failed (${why}):\n${result.stderr ?? ""}${result.stdout ?? ""}`,
    );
  }
  return result.stdout;
}

/**
 * Kills the broker with SIGKILL, as a crash would, and waits until the process is gone. The
 * storage is kept for {@link restartBroker}. Blocks the calling thread (about 1–2 s).
 *
 * @throws {KafkaFixtureError} When no broker was running or it did not die.
 */
export function killBroker(): void {
  runScript("kill.sh", 60_000);
}

/**
 * Starts the broker again on the storage of the previous start (same cluster, topics and
 * data) and waits until every listener answers. Blocks the calling thread; after
 * {@link killBroker} this takes about 10–15 s, mostly the controller waiting out the old
 * broker's session (`broker.session.timeout.ms`, 9 s).
 *
 * @returns The broker's details after the restart (same ports, new pid).
 * @throws {KafkaFixtureError} When the restart failed or the broker is still unusable.
 */
export function restartBroker(): KafkaEnv {
  runScript("restart.sh", 180_000);
  const env = loadKafka();
  if ("skipReason" in env) {
    throw new KafkaFixtureError(`the broker restarted but is not usable: ${env.skipReason}`);
  }
  return env;
}

/**
 * {@link restartBroker} without blocking the calling thread, so that connections keep running
 * their timers (say, reconnect backoff against the dead port) while the broker starts.
 *
 * @returns The broker's details after the restart (same ports, new pid).
 * @throws {KafkaFixtureError} When the restart failed or the broker is still unusable.
 */
export function restartBrokerInBackground(): Promise<KafkaEnv> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [`${scriptsDir}restart.sh`],
      { encoding: "utf8", timeout: 180_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new KafkaFixtureError(
              `scripts/kafka/restart.sh failed (${error.message}):\n${stderr}${stdout}`,
            ),
          );
          return;
        }
        const env = loadKafka();
        if ("skipReason" in env) {
          reject(
            new KafkaFixtureError(`the broker restarted but is not usable: ${env.skipReason}`),
          );
        } else resolve(env);
      },
    );
  });
}
