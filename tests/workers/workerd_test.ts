/**
 * End to end on Cloudflare's runtime: tests/workers/worker.ts is bundled (`bun build --target
 * browser`, `cloudflare:sockets` left external) and served by workerd (the npm package
 * `workerd`, a devDependency), whose network service may reach loopback addresses and trusts
 * the test CAs; the test then asks the Worker to talk Kafka, through `workersConnector(connect)`,
 * to MockBrokers started in this process on loopback ports and, when one is running, to the real
 * broker of scripts/kafka/start.sh (skipped loudly without it; a failure under
 * `KAFKA_REQUIRED=1`, as in tests/integration/).
 *
 * A missing workerd binary fails the tests with the reason: it is a dev dependency, so not
 * finding it is a broken setup, not an optional feature. Each test bundles, starts one workerd
 * on a port it reports over `--control-fd`, and always stops it; every wait is bounded.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { MockBroker, type MockBrokerOptions } from "../../testing/mod.ts";
import type { ListenFn } from "../../transport/conn.ts";
import { testCerts } from "../fixtures/certs.ts";
import type { KafkaEnv } from "../integration/fixture.ts";
import { withKafka } from "../integration/real_broker.ts";
import { runtime, test } from "../harness.ts";
import type { CodecReport, DialReport, KafkaReport } from "./worker.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** workerd's compatibility date for the test Worker: fixed, so that runs are reproducible. */
const COMPATIBILITY_DATE = "2025-06-01";
const START_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const MAX_LOG = 64 * 1024;

const listen: ListenFn = runtime === "deno"
  ? (await import("../../transport/deno.ts")).denoListen
  : (await import("../../transport/bun.ts")).bunListen;

/** The workerd binary: `WORKERD_BIN`, else the devDependency's. Fails the test when missing. */
function workerdBinary(): string {
  const path = process.env.WORKERD_BIN ?? join(ROOT, "node_modules/.bin/workerd");
  if (!existsSync(path)) {
    assert.fail(
      `workerd not found at ${path}: it is a devDependency (npm package "workerd"); run ` +
        "`npm install`, or point WORKERD_BIN at a workerd binary",
    );
  }
  return path;
}

/** Bun, for bundling: this process under Bun, else the devDependency's. */
function bunBinary(): string {
  if (runtime === "bun") return process.execPath;
  const path = join(ROOT, "node_modules/.bin/bun");
  if (!existsSync(path)) assert.fail(`bun not found at ${path} (needed to bundle the Worker)`);
  return path;
}

/** Bundles the Worker into `dir`/worker.js. */
function bundle(dir: string): void {
  const result = spawnSync(bunBinary(), [
    "build",
    join(ROOT, "tests/workers/worker.ts"),
    "--target",
    "browser",
    "--external",
    "cloudflare:sockets",
    "--outfile",
    join(dir, "worker.js"),
  ], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  if (result.error || result.status !== 0) {
    assert.fail(
      `bundling tests/workers/worker.ts failed (${
        result.error?.message ?? `exit ${result.status}`
      }):\n` +
        `${result.stderr}${result.stdout}`,
    );
  }
}

/** The workerd config: the Worker, an HTTP socket on a free port, loopback-only outbound. */
function config(caFiles: string[]): string {
  const trusted = caFiles.map((f) => `embed "${f}"`).join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The Worker's global outbound: connect() may reach loopback addresses only, and TLS
    # trusts the test CAs, as the operator of a workerd may configure (a Worker cannot).
    (name = "loopback", network = (
      allow = ["local"],
      tlsOptions = (trustBrowserCas = false, trustedCertificates = [${trusted}]),
    )),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.js")],
  compatibilityDate = "${COMPATIBILITY_DATE}",
  globalOutbound = "loopback",
);
`;
}

/** Settles as `until` does, or rejects after `ms`; the timer is cleared either way. */
function within<T>(until: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([until, timeout]).finally(() => clearTimeout(timer));
}

/** A running workerd serving the test Worker. */
class Workerd implements AsyncDisposable {
  private constructor(
    readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
    /** Settles once workerd exited and its pipes closed. */
    readonly exited: Promise<void>,
    /** What workerd printed so far (its own errors and the Worker's console). */
    readonly logs: () => string,
  ) {}

  /**
   * Bundles the Worker and starts workerd with it.
   *
   * @param caPems CAs the runtime's TLS trusts.
   * @returns The running workerd; stop it with `await using`.
   */
  static async start(caPems: string[] = []): Promise<Workerd> {
    const binary = workerdBinary();
    const dir = mkdtempSync(join(tmpdir(), "kafka-wire-workerd-"));
    let child: ChildProcess | undefined;
    try {
      bundle(dir);
      const caFiles = caPems.map((pem, i) => {
        writeFileSync(join(dir, `ca-${i}.pem`), pem);
        return `ca-${i}.pem`;
      });
      writeFileSync(join(dir, "config.capnp"), config(caFiles));
      const spawned = spawn(binary, ["serve", "--control-fd=3", "config.capnp"], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe", "pipe"],
      });
      child = spawned;
      let log = "";
      const append = (chunk: Uint8Array | string) => {
        if (log.length < MAX_LOG) log += chunk.toString();
      };
      spawned.stdout!.on("data", append);
      spawned.stderr!.on("data", append);
      const exited = new Promise<void>((resolve) => spawned.once("close", () => resolve()));
      const control = spawned.stdio[3] as Readable;
      const listening = new Promise<number>((resolve, reject) => {
        let text = "";
        control.on("data", (chunk: Uint8Array | string) => {
          text += chunk.toString();
          for (const line of text.split("\n")) {
            if (line.trim() === "") continue;
            try {
              const message = JSON.parse(line);
              if (message.event === "listen" && message.socket === "http") resolve(message.port);
            } catch {
              // A partial line: wait for the rest.
            }
          }
        });
        spawned.once(
          "error",
          (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)),
        );
        exited.then(() =>
          reject(new Error(`workerd exited before listening (exit ${spawned.exitCode}):\n${log}`))
        );
      });
      const port = await within(listening, START_TIMEOUT_MS, "workerd start").catch((error) => {
        throw new Error(`${error.message}\n${log}`);
      });
      return new Workerd(spawned, dir, port, exited, () => log);
    } catch (error) {
      if (child !== undefined) await stop(child);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Asks the Worker something.
   *
   * @param path `/kafka`, `/dial` or `/reuse`.
   * @param params The query.
   * @returns The Worker's JSON answer.
   */
  async get<T = KafkaReport>(path: string, params: Record<string, string | number>): Promise<T> {
    const query = new URLSearchParams(
      Object.entries(params).map(([k, v]) => [k, String(v)]),
    );
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}${path}?${query}`, {
        signal: controller.signal,
      });
      const text = await response.text();
      assert.equal(response.status, 200, `${path}?${query}: HTTP ${response.status}: ${text}`);
      return JSON.parse(text) as T;
    } catch (error) {
      throw new Error(`${path}?${query} failed: ${(error as Error).message}\n${this.logs()}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await stop(this.child, this.exited);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stops workerd: SIGTERM, then SIGKILL; waits (bounded) until its pipes are closed. */
async function stop(child: ChildProcess, exited?: Promise<void>): Promise<void> {
  const closed = exited ?? new Promise<void>((resolve) => child.once("close", () => resolve()));
  if (child.exitCode !== null || child.signalCode !== null) {
    await within(closed, STOP_TIMEOUT_MS, "workerd pipes").catch(() => {});
    return;
  }
  child.kill("SIGTERM");
  try {
    await within(closed, STOP_TIMEOUT_MS, "workerd stop");
  } catch {
    child.kill("SIGKILL");
    await within(closed, STOP_TIMEOUT_MS, "workerd kill");
  }
}

function describe(report: KafkaReport | DialReport): string {
  return JSON.stringify(report, null, 2);
}

function assertUp(report: KafkaReport, what: string): void {
  assert.equal(report.ok, true, `${what}: ${describe(report)}`);
  assert.equal(report.userAgent, "Cloudflare-Workers", "not running on workerd?");
  assert.equal(report.states.at(-1), "UP", `${what}: ${describe(report)}`);
  assert.ok((report.apiCount ?? 0) > 0, `${what}: no APIs: ${describe(report)}`);
}

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const listener = await listen({ port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

function mockBroker(options: MockBrokerOptions = {}): Promise<MockBroker> {
  return MockBroker.start({ listen, clusterId: "workerd-mock", ...options });
}

const USERS = { alice: "alice-secret" };

test(
  `[${runtime}] workerd: a Worker speaks Kafka through workersConnector to MockBroker (plaintext, SASL, errors)`,
  async () => {
    const topics = Array.from({ length: 2000 }, (_, i) => ({ name: `topic-${i}`, partitions: 3 }));
    await using plainBroker = await mockBroker({ topics });
    await using saslBroker = await mockBroker({
      sasl: { mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], users: USERS },
    });
    await using workerd = await Workerd.start();
    const plain = { host: plainBroker.host, port: plainBroker.port };

    // ApiVersions + Metadata; the reply (~200 KB for 2000 topics) spans many socket reads.
    const up = await workerd.get("/kafka", plain);
    assertUp(up, "plaintext");
    assert.deepEqual(up.states, ["TRY_CONNECT", "CONNECT", "APIVERSION_QUERY", "UP"]);
    assert.equal(up.clusterId, "workerd-mock");
    assert.deepEqual(up.brokers, [`127.0.0.1:${plainBroker.port}`]);
    assert.equal(up.topicCount, 2000);

    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      const report = await workerd.get("/kafka", {
        host: saslBroker.host,
        port: saslBroker.port,
        mechanism,
        username: "alice",
        password: "alice-secret",
      });
      assertUp(report, mechanism);
      assert.ok(report.states.includes("AUTH_REQ"), `${mechanism}: ${describe(report)}`);
    }
    const denied = await workerd.get("/kafka", {
      host: saslBroker.host,
      port: saslBroker.port,
      mechanism: "SCRAM-SHA-256",
      username: "alice",
      password: "wrong",
    });
    assert.equal(denied.error?.name, "AuthenticationError", describe(denied));

    // The Conn itself: one ApiVersions v0 round trip, addresses as workerd reports them.
    const raw = await workerd.get<DialReport>("/dial", plain);
    assert.equal(raw.ok, true, describe(raw));
    assert.deepEqual(raw.conn, {
      secure: false,
      remoteAddr: `127.0.0.1:${plainBroker.port}`,
      localAddr: ":0", // workerd does not report the local address
    });
    assert.deepEqual(raw.replyHead?.slice(4, 8), [0, 0, 0, 1], "correlation id 1");

    const refused = await workerd.get<DialReport>("/dial", {
      host: "127.0.0.1",
      port: await freePort(),
    });
    assert.equal(refused.error?.name, "ConnectionRefusedError", describe(refused));
    assert.match(refused.error!.message, /is a broker listening there/);

    // A connection kept across requests: Workers refuse, the adapter says what to do.
    assertUp(await workerd.get("/reuse", { step: 1, ...plain }), "reuse, first request");
    const reused = await workerd.get("/reuse", { step: 2 });
    assert.equal(reused.ok, false, describe(reused));
    assert.equal(reused.error?.name, "ConfigError", describe(reused));
    assert.match(reused.error!.message, /belongs to the request/);
  },
  { timeoutMs: 60_000 },
);

test(
  `[${runtime}] workerd: compressed record batches (gzip, snappy, lz4, zstd) in a Worker`,
  async () => {
    await using workerd = await Workerd.start();
    const report = await workerd.get<CodecReport>("/codecs", {});
    assert.deepEqual(report.results, { gzip: "ok", snappy: "ok", lz4: "ok", zstd: "ok" });
  },
  { timeoutMs: 60_000 },
);

test(
  `[${runtime}] workerd: TLS from a Worker (starttls, verified by the runtime) to MockBroker`,
  async () => {
    const certs = testCerts();
    const tlsListen: ListenFn = (options) =>
      listen({ ...options, tls: { cert: certs.serverCert, key: certs.serverKey } });
    await using tlsBroker = await mockBroker({ listen: tlsListen });
    await using plainBroker = await mockBroker();
    await using workerd = await Workerd.start([certs.ca]);
    const target = { host: tlsBroker.host, port: tlsBroker.port, tls: 1 };

    const up = await workerd.get("/kafka", target);
    assertUp(up, "TLS");
    assert.deepEqual(up.states, [
      "TRY_CONNECT",
      "CONNECT",
      "SSL_HANDSHAKE",
      "APIVERSION_QUERY",
      "UP",
    ]);
    // The certificate names localhost and 127.0.0.1: verified as either.
    assertUp(await workerd.get("/kafka", { ...target, host: "localhost" }), "TLS via localhost");
    assertUp(
      await workerd.get("/kafka", { ...target, serverName: "localhost" }),
      "TLS with serverName (expectedServerHostname)",
    );
    const raw = await workerd.get<DialReport>("/dial", target);
    assert.equal(raw.ok, true, describe(raw));
    assert.equal(raw.conn?.secure, true);

    const wrongName = await workerd.get("/kafka", { ...target, serverName: "kafka.example.com" });
    assert.equal(wrongName.error?.name, "TlsError", describe(wrongName));
    const plaintext = await workerd.get("/kafka", { ...target, port: plainBroker.port });
    assert.equal(plaintext.error?.name, "TlsError", describe(plaintext));
    assert.match(plaintext.error!.message, /not PLAINTEXT/);
    const customCa = await workerd.get("/kafka", { ...target, caCert: 1 });
    assert.equal(customCa.error?.name, "ConfigError", describe(customCa));
    assert.match(customCa.error!.message, /public CAs/);
  },
  { timeoutMs: 60_000 },
);

withKafka((kafka: KafkaEnv) => {
  test(
    `[${runtime}] workerd: a Worker talks to the real Kafka ${kafka.kafkaVersion} broker (PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL)`,
    async () => {
      await using workerd = await Workerd.start([kafka.caPem]);
      const { PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL } = kafka.listeners;
      const user = kafka.users[0];
      const credentials = { username: user.username, password: user.password };

      const plain = await workerd.get("/kafka", { host: PLAINTEXT.host, port: PLAINTEXT.port });
      assertUp(plain, "PLAINTEXT");
      assert.equal(plain.clusterId, kafka.clusterId);
      for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
        const report = await workerd.get("/kafka", {
          host: SASL_PLAINTEXT.host,
          port: SASL_PLAINTEXT.port,
          mechanism,
          ...credentials,
        });
        assertUp(report, `SASL_PLAINTEXT ${mechanism}`);
        assert.equal(report.clusterId, kafka.clusterId);
      }
      const ssl = await workerd.get("/kafka", { host: SSL.host, port: SSL.port, tls: 1 });
      assertUp(ssl, "SSL");
      assert.ok(ssl.states.includes("SSL_HANDSHAKE"), describe(ssl));
      const saslSsl = await workerd.get("/kafka", {
        host: SASL_SSL.host,
        port: SASL_SSL.port,
        tls: 1,
        mechanism: "SCRAM-SHA-256",
        ...credentials,
      });
      assertUp(saslSsl, "SASL_SSL SCRAM-SHA-256");
      const denied = await workerd.get("/kafka", {
        host: SASL_PLAINTEXT.host,
        port: SASL_PLAINTEXT.port,
        mechanism: "SCRAM-SHA-512",
        username: user.username,
        password: "wrong",
      });
      assert.equal(denied.error?.name, "AuthenticationError", describe(denied));
    },
    { timeoutMs: 60_000 },
  );
});
