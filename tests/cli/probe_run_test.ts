import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { probeMain, type ProbeOutcome } from "../../cli/probe_main.ts";
import { MockBroker, MockCluster } from "../../testing/mod.ts";
import type { Connector } from "../../transport/conn.ts";

interface Captured extends ProbeOutcome {
  stdout: string;
  stderr: string;
}

/** Runs the command line against `connector`, capturing what it prints. */
async function probe(
  args: string[],
  connector: Connector,
  env: Record<string, string> = {},
): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const outcome = await probeMain(args, env, {
    connector,
    readTextFile: (path) => Promise.reject(new Error(`ENOENT: no such file ${path}`)),
    command: "probe",
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
  });
  return { ...outcome, stdout: out.join("\n"), stderr: err.join("\n") };
}

const users = { alice: "alice-secret" };

test("probe against a MockBroker: states as they happen, API table, latency, exit 0", async () => {
  await using broker = await MockBroker.start({ topics: [{ name: "orders", partitions: 2 }] });
  const r = await probe(["--bootstrap", broker.bootstrap, "--count", "25"], broker.connector);
  assert.equal(r.exitCode, 0, r.stdout);
  const lines = r.stdout.split("\n");
  const order = ["TRY_CONNECT", "CONNECT", "APIVERSION_QUERY", "UP"].map((s) =>
    lines.findIndex((l) => new RegExp(`^  \\+ *[\\d.]+ ms  ${s} `).test(l))
  );
  assert.ok(order.every((i, n) => i > 0 && (n === 0 || i > order[n - 1])), r.stdout);
  assert.ok(!/ {2}DOWN {2}/.test(r.stdout), "the probe's own close is not reported as a state");
  assert.match(r.stdout, /Probing mock-broker-1:9092 \(plaintext, no SASL\)/);
  assert.match(r.stdout, /Cluster mock-cluster: controller 1, 1 broker: /);
  assert.match(
    r.stdout,
    /Setup: connect [\d.]+ ms, TLS -, ApiVersions [\d.]+ ms, SASL -; UP after/,
  );
  assert.match(r.stdout, /\n {2}API +key +broker min +broker max +uses\n/);
  assert.match(r.stdout, /\n {2}ApiVersions +18 +0 +4 +v4\n/);
  assert.match(r.stdout, /\n {2}Metadata +3 +\d+ +\d+ +v\d+\n/);
  assert.match(r.stdout, /Round trips: 25 x ApiVersions: min [\d.]+ {2}p50 [\d.]+ {2}p99 [\d.]+/);
  assert.match(r.stdout, /OK: mock-broker-1:9092 is usable/);
  assert.equal(r.report?.latency?.count, 25);
  // ApiVersions once for setup, Metadata once for the cluster, then the timed round trips;
  // then the cluster view: its bootstrap connection (ApiVersions, Metadata), and the learned
  // broker's connection (ApiVersions, Metadata, one timed Metadata).
  assert.deepEqual(
    broker.requests.map((q) => q.apiKey),
    [18, 3, ...Array(25).fill(18), 18, 3, 18, 3, 3],
  );
  assert.match(r.stdout, /Cluster view: mock-cluster, controller 1, every broker dialled/);
  assert.match(
    r.stdout,
    /\n {2}1 \(controller\) +mock-broker-1:9092 +- +yes +[\d.]+ ms +[\d.]+ ms\n/,
  );
});

test("probe --json prints one JSON document with states, API table and latency", async () => {
  await using broker = await MockBroker.start();
  const r = await probe(
    ["--bootstrap", broker.bootstrap, "--json", "--count", "3", "--rtt-api", "Metadata"],
    broker.connector,
  );
  assert.equal(r.exitCode, 0);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.error, null);
  assert.deepEqual(
    doc.states.map((s: { state: string }) => s.state),
    ["TRY_CONNECT", "CONNECT", "APIVERSION_QUERY", "UP"],
  );
  assert.equal(typeof doc.phases.upMs, "number");
  assert.equal(doc.latency.api, "Metadata");
  assert.equal(doc.latency.count, 3);
  assert.ok(doc.latency.minMs <= doc.latency.p50Ms && doc.latency.p99Ms <= doc.latency.maxMs);
  const apiVersions = doc.apis.find((a: { key: number }) => a.key === 18);
  assert.deepEqual(
    [apiVersions.name, apiVersions.brokerMin, apiVersions.version],
    ["ApiVersions", 0, 4],
  );
  // 1 + 3 timed, then 3 for the cluster view.
  assert.equal(broker.requests.filter((q) => q.apiKey === 3).length, 7);
  assert.equal(doc.clusterView.brokers[0].reachable, true);
});

test("probe with SASL PLAIN reports AUTH_HANDSHAKE and AUTH_REQ and succeeds", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  const r = await probe(
    ["--bootstrap", broker.bootstrap, "--sasl-mechanism", "PLAIN", "--count", "2"],
    broker.connector,
    { KAFKA_SASL_USERNAME: "alice", KAFKA_SASL_PASSWORD: "alice-secret" },
  );
  assert.equal(r.exitCode, 0, r.stdout);
  assert.match(r.stdout, / {2}AUTH_HANDSHAKE +SaslHandshake v1 for PLAIN/);
  assert.match(r.stdout, / {2}AUTH_REQ +/);
  assert.match(r.stdout, /SASL [\d.]+ ms; UP after/);
  assert.match(r.stdout, /WARNING: SASL PLAIN without --tls sends the password in clear text/);
});

test("probe with a wrong SASL password exits 5 with the broker's message", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  const r = await probe(
    ["--bootstrap", broker.bootstrap, "--sasl-mechanism", "PLAIN", "--username", "alice"],
    broker.connector,
    { KAFKA_SASL_PASSWORD: "wrong" },
  );
  assert.equal(r.exitCode, 5, r.stdout);
  assert.match(r.stdout, /FAILED: AuthenticationError \(retriable: no, Kafka error code: 58\)/);
  assert.match(r.stdout, /SASL_AUTHENTICATION_FAILED \(58\): Authentication failed/);
  assert.match(r.stdout, /\(after \d+ ms in state AUTH_REQ\)/);
  assert.match(r.stdout, /Hint: SASL authentication failed: check the user name and password/);
  assert.match(r.stdout, /Exit code 5 \(authentication\)/);
  assert.equal(r.report?.error?.state, "AUTH_REQ");
});

test("probe without SASL against a SASL listener exits 5: SASL required", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users } });
  const r = await probe(["--bootstrap", broker.bootstrap, "--json"], broker.connector);
  assert.equal(r.exitCode, 5, r.stdout);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.kind, "sasl-required");
  assert.equal(doc.error.name, "ConnectionClosedError");
  assert.match(doc.error.hint, /add --sasl-mechanism/);
});

test("probe of an HTTP server exits 7: not a Kafka listener", async () => {
  await using broker = await MockBroker.start();
  broker.faults.httpReply();
  const r = await probe(["--bootstrap", broker.bootstrap], broker.connector);
  assert.equal(r.exitCode, 7, r.stdout);
  assert.match(r.stdout, /FAILED: FramingError \(retriable: no/);
  assert.match(r.stdout, /looks like HTTP/);
  assert.match(r.stdout, /Hint: mock-broker-1:9092 is not a Kafka listener \(it answered like an/);
  assert.match(r.stdout, /Exit code 7 \(not a Kafka listener\)/);
});

test("probe that gets no ApiVersions reply in time exits 6 naming the state", async () => {
  await using broker = await MockBroker.start();
  broker.faults.delay(5_000, 18);
  const r = await probe(["--bootstrap", broker.bootstrap, "--timeout-ms", "50"], broker.connector);
  assert.equal(r.exitCode, 6, r.stdout);
  assert.match(r.stdout, /in state APIVERSION_QUERY/);
  assert.match(r.stdout, /Hint: Timed out in state APIVERSION_QUERY/);
});

test("probe of a refused address exits 3", async () => {
  await using broker = await MockBroker.start();
  broker.down();
  const r = await probe(["--bootstrap", broker.bootstrap, "--json"], broker.connector);
  assert.equal(r.exitCode, 3);
  assert.equal(JSON.parse(r.stdout).error.kind, "refused");
});

test("probe with an unreadable --ca file exits 2 before dialling", async () => {
  let dialled = false;
  const connector: Connector = () => {
    dialled = true;
    return Promise.reject(new Error("must not dial"));
  };
  const r = await probe(["--bootstrap", "h:1", "--ca", "/nonexistent/ca.pem"], connector);
  assert.equal(r.exitCode, 2);
  assert.match(r.stdout, /Cannot read --ca file "\/nonexistent\/ca\.pem"/);
  assert.equal(dialled, false);
});

test("probe usage errors go to stderr with exit 2; --help to stdout with exit 0", async () => {
  const never: Connector = () => Promise.reject(new Error("must not dial"));
  const bad = await probe(["--count", "many"], never);
  assert.equal(bad.exitCode, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /probe: --count must be a whole number.*\nRun "probe --help"/s);
  const help = await probe(["--help"], never);
  assert.equal(help.exitCode, 0);
  assert.match(help.stdout, /^kafka-wire probe: /);
});

test("probe without --bootstrap starts the embedded 3-node cluster (in memory without listen)", async () => {
  const never: Connector = () => Promise.reject(new Error("must not dial"));
  const r = await probe(
    ["--count", "2", "--sasl-mechanism", "SCRAM-SHA-256", "--username", "u", "--password", "p"],
    never,
  );
  assert.equal(r.exitCode, 0, r.stdout);
  assert.match(
    r.stdout,
    /note: No --bootstrap: started the embedded 3-node test cluster \(MockCluster\)/,
  );
  assert.match(r.stdout, /\[embedded cluster\]/);
  assert.match(r.stdout, /SASL SCRAM-SHA-256/);
  assert.match(r.stdout, /\n {2}Produce +0 +3 +11 +v11\n/);
  assert.match(r.stdout, /\n {2}Fetch +1 +4 +17 +v17\n/);
  assert.match(r.stdout, /Every API this module implements has a version in common/);
  assert.match(
    r.stdout,
    /Produce \+ Fetch: 1 record to probe-scratch\[0\] on node 1 at offset 0, fetched back unchanged: produce [\d.]+ ms, fetch [\d.]+ ms/,
  );
  assert.equal(r.report?.embedded, true);
  assert.equal(r.report?.cluster?.brokers.length, 3);
  assert.equal(r.report?.produceCheck?.offset, 0);
});

test("probe --produce-check writes to a real broker only when asked, via the partition leader", async () => {
  await using cluster = await MockCluster.start({ topics: [{ name: "checked", partitions: 1 }] });
  cluster.moveLeader("checked", 0, 2);
  const plain = await probe(
    ["--bootstrap", cluster.node(1).bootstrap, "--count", "0"],
    cluster.connector,
  );
  assert.equal(plain.exitCode, 0, plain.stdout);
  assert.equal(plain.report?.produceCheck, null);
  assert.equal(cluster.partition("checked", 0).highWatermark, 0n, "nothing written by default");
  const r = await probe(
    ["--bootstrap", cluster.node(1).bootstrap, "--count", "0", "--produce-check", "checked"],
    cluster.connector,
  );
  assert.equal(r.exitCode, 0, r.stdout);
  assert.deepEqual([r.report?.produceCheck?.leader, r.report?.produceCheck?.offset], [2, 0]);
  assert.equal(cluster.partition("checked", 0).highWatermark, 1n);
  const missing = await probe(
    ["--bootstrap", cluster.node(1).bootstrap, "--count", "0", "--produce-check", "absent"],
    cluster.connector,
  );
  assert.notEqual(missing.exitCode, 0);
  assert.match(missing.stdout, /UNKNOWN_TOPIC_OR_PARTITION/);
});

test("probe with OAUTHBEARER and no token says it uses an unsecured JWT", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["OAUTHBEARER"], users } });
  const r = await probe(
    ["--bootstrap", broker.bootstrap, "--sasl-mechanism", "OAUTHBEARER", "--username", "alice"],
    broker.connector,
    { KAFKA_PROBE_COUNT: "1", KAFKA_PROBE_JSON: "1" },
  );
  assert.equal(r.exitCode, 0, r.stdout);
  assert.match(r.stderr, /WARNING: No --token: authenticating with an unsecured JWT/);
  assert.equal(JSON.parse(r.stdout).notices[0].level, "warning");
});
