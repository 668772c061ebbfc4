import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { buildApiTable } from "../../cli/api_table.ts";
import { ExitCode } from "../../cli/hints.ts";
import {
  formatMs,
  formatTable,
  renderApiTable,
  renderEvent,
  renderJson,
  renderReport,
} from "../../cli/probe_render.ts";
import {
  type ProbeReport,
  setupPhases,
  type StateRecord,
  summarizeLatency,
} from "../../cli/probe_run.ts";

test("formatTable() pads every column to its widest cell, numbers aligned right", () => {
  const lines = formatTable(
    ["API", "key", "uses"],
    [["Produce", "0", "v11"], ["DescribeTopicPartitions", "75", "n/a"]],
    [false, true, true],
  );
  assert.deepEqual(lines, [
    "API                      key  uses",
    "Produce                    0   v11",
    "DescribeTopicPartitions   75   n/a",
  ]);
});

test("formatMs() keeps sub-millisecond precision for small values only", () => {
  assert.equal(formatMs(0.0456), "0.05");
  assert.equal(formatMs(12.345), "12.3");
  assert.equal(formatMs(4321.9), "4322");
});

test("buildApiTable() picks the highest common version and lists what cannot be used", () => {
  const rows = buildApiTable(
    new Map([
      [18, { min: 0, max: 9 }],
      [3, { min: 0, max: 8 }],
      [0, { min: 0, max: 2 }], // Produce: this module needs v3+
      [75, { min: 0, max: 0 }], // no codec here
    ]),
  );
  const byName = new Map(rows.map((r) => [r.name, r]));
  assert.deepEqual(rows.map((r) => r.key), [0, 1, 2, 3, 17, 18, 19, 20, 36, 75], "sorted by key");
  assert.equal(byName.get("ApiVersions")!.version, 4, "capped at this module's max");
  assert.equal(byName.get("Metadata")!.version, 8, "capped at the broker's max");
  assert.equal(byName.get("Produce")!.usable, false);
  assert.equal(byName.get("Produce")!.version, null);
  assert.equal(byName.get("Fetch")!.brokerMax, null, "implemented but not advertised");
  assert.equal(byName.get("DescribeTopicPartitions")!.implemented, false);
  assert.equal(byName.get("DescribeTopicPartitions")!.usable, true);

  const text = renderApiTable(rows).join("\n");
  assert.match(text, /the broker advertises 4;/);
  assert.match(text, /\n {2}Produce +0 +0 +2 +NONE\n/);
  assert.match(text, /\n {2}DescribeTopicPartitions +75 +0 +0 +n\/a/);
  assert.match(text, /\n {2}Metadata +3 +0 +8 +v8\n/);
  assert.match(text, /Produce \(key 0\): this module v3\.\.v11, broker v0\.\.v2/);
  assert.match(text, /Fetch \(key 1\): this module v\d+\.\.v\d+, not offered by the broker/);
  const columns = renderApiTable(rows).slice(1, 1 + rows.length + 1);
  const ends = new Set(columns.map((l) => l.length));
  assert.equal(ends.size, 1, `right-aligned last column ends in one place:\n${columns.join("\n")}`);
});

test("renderApiTable() says so when every implemented API is usable", () => {
  const all = new Map([0, 1, 2, 3, 17, 18, 19, 20, 36].map((k) => [k, { min: 0, max: 20 }]));
  assert.match(renderApiTable(buildApiTable(all)).join("\n"), /Every API this module implements/);
});

const states: StateRecord[] = [
  { state: "TRY_CONNECT", atMs: 0, reason: "connect() called", from: "INIT", fromMs: 5 },
  { state: "CONNECT", atMs: 0.1, reason: "dialling", from: "TRY_CONNECT", fromMs: 0.1 },
  { state: "APIVERSION_QUERY", atMs: 1.1, reason: "connected", from: "CONNECT", fromMs: 1 },
  { state: "AUTH_HANDSHAKE", atMs: 3.1, reason: "hs", from: "APIVERSION_QUERY", fromMs: 2 },
  { state: "AUTH_REQ", atMs: 3.6, reason: "auth", from: "AUTH_HANDSHAKE", fromMs: 0.5 },
  { state: "UP", atMs: 5.1, reason: "authenticated", from: "AUTH_REQ", fromMs: 1.5 },
];

test("setupPhases() sums the time spent in each setup state", () => {
  assert.deepEqual(setupPhases(states), {
    connectMs: 1,
    tlsMs: null,
    apiVersionsMs: 2,
    saslMs: 2,
    upMs: 5.1,
  });
});

test("renderReport() shows TCP connect and TLS handshake as one step", () => {
  const tls: StateRecord[] = [
    { state: "CONNECT", atMs: 0, reason: "dialling", from: "TRY_CONNECT", fromMs: 0 },
    { state: "SSL_HANDSHAKE", atMs: 0.5, reason: "tls", from: "CONNECT", fromMs: 0.5 },
    {
      state: "APIVERSION_QUERY",
      atMs: 30.5,
      reason: "connected",
      from: "SSL_HANDSHAKE",
      fromMs: 30,
    },
  ];
  const report = { ...failedReport(), tls: true, states: tls, phases: setupPhases(tls) };
  assert.match(renderReport(report), /Setup: connect\+TLS 30\.5 ms, ApiVersions -, SASL -; never/);
});

test("summarizeLatency() uses nearest-rank percentiles", () => {
  const samples = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(summarizeLatency("ApiVersions", samples), {
    api: "ApiVersions",
    count: 100,
    minMs: 1,
    p50Ms: 50,
    p99Ms: 99,
    maxMs: 100,
    avgMs: 50.5,
  });
});

test("renderEvent() shows each state with its time and how long the previous one took", () => {
  assert.equal(
    renderEvent({ type: "state", state: states[2] }),
    "  +    1.10 ms  APIVERSION_QUERY  connected  (CONNECT 1.00 ms)",
  );
  assert.equal(
    renderEvent({ type: "state", state: states[0] }),
    "  +    0.00 ms  TRY_CONNECT       connect() called",
  );
  const long = renderEvent({
    type: "state",
    state: { ...states[1], state: "DOWN", reason: "x".repeat(300) },
  });
  assert.ok(long.length < 160, "a long failure reason is shortened on the progress line");
  assert.match(
    renderEvent({ type: "notice", notice: { level: "warning", text: "careful" } }),
    /^WARNING: careful$/,
  );
});

function failedReport(): ProbeReport {
  return {
    target: "h:9092",
    embedded: false,
    tls: false,
    sasl: null,
    clientId: "c",
    ok: false,
    exitCode: ExitCode.TLS,
    notices: [],
    states: states.slice(0, 3),
    phases: setupPhases(states.slice(0, 3)),
    cluster: null,
    apis: [],
    latency: null,
    produceCheck: null,
    error: {
      name: "ConnectionClosedError",
      message: "Connection to h:9092 closed by the broker (after 2 ms in state APIVERSION_QUERY)",
      retriable: true,
      code: null,
      state: "APIVERSION_QUERY",
      kind: "wrong-security-protocol",
      hint: "add --tls",
    },
    clusterView: null,
    clusterViewError: null,
  };
}

test("renderReport() shows the typed error, its retriable flag, the hint and the exit code", () => {
  const text = renderReport(failedReport());
  assert.match(text, /Setup: connect 1\.00 ms, TLS -, ApiVersions -, SASL -; never UP/);
  assert.match(text, /FAILED: ConnectionClosedError \(retriable: yes, Kafka error code: none\)/);
  assert.match(text, /\(after 2 ms in state APIVERSION_QUERY\)/);
  assert.match(text, /Hint: add --tls/);
  assert.match(text, /Exit code 4 \(TLS \/ security protocol\)\./);
  assert.doesNotMatch(text, /^OK/m);
});

test("renderJson() is one parseable document with rounded milliseconds", () => {
  const report = failedReport();
  report.states[1] = { ...report.states[1], atMs: 0.123456789 };
  const doc = JSON.parse(renderJson(report));
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.exitCode, 4);
  assert.equal(doc.states[1].atMs, 0.123);
  assert.equal(doc.error.name, "ConnectionClosedError");
  assert.equal(doc.error.code, null);
  assert.equal(doc.latency, null);
});

test("the report counts round trips and brokers in words: 1 round trip, 2 round trips", () => {
  const one = summarizeLatency("ApiVersions", Float64Array.of(0.5));
  const ok = { ...failedReport(), ok: true, exitCode: ExitCode.OK, error: null, latency: one };
  assert.match(renderReport(ok), /^OK: h:9092 is usable \(UP in [\d.]+ ms, 1 round trip\)\.$/m);
  const two = { ...ok, latency: summarizeLatency("ApiVersions", Float64Array.of(0.5, 0.7)) };
  assert.match(renderReport(two), /, 2 round trips\)\.$/m);
  assert.equal(
    renderEvent({ type: "round-trips", api: "Metadata", count: 1 }),
    "Timing 1 Metadata round trip...",
  );
  const broker = { nodeId: 1, host: "h", port: 9092, rack: null };
  assert.equal(
    renderEvent({
      type: "cluster",
      cluster: { clusterId: "c", controllerId: 1, brokers: [broker] },
    }),
    "Cluster c: controller 1, 1 broker: 1@h:9092",
  );
});
