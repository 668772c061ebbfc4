// Writes the "## Node" section of bench/RESULTS.md from one run of bench/node.sh: round trips
// (ours vs the raw socket vs kafkajs, all on Node) and Produce against the real broker (ours vs
// kafkajs vs @platformatic/kafka), medians over rounds, ratios from the same run, and the
// targets (ahead of both peers on every figure). Replaces the section in place; the rest of
// the file is kept as it is.
// Usage: node bench/node_section.mjs <run dir> <RESULTS.md>
import fs from "node:fs";
import path from "node:path";

const [dir, results] = process.argv.slice(2);
const read = (name) => {
  const f = path.join(dir, name);
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : null;
};
const jsonl = (name) =>
  (read(name) ?? "").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
const env = Object.fromEntries(
  (read("env.txt") ?? "").split("\n").filter((l) => l.includes("=")).map((l) => {
    const i = l.indexOf("=");
    return [l.slice(0, i), l.slice(i + 1)];
  }),
);
const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
const ratio = (a, b) => (a === null || b === null || b === 0 ? null : a / b);
const out = [];
const p = (s = "") => out.push(s);

p("## Node");
p();
p("Written by `bench/node_section.mjs` from one run of `bench/node.sh` (also the last step of");
p("`bench/run.sh`); every figure and ratio in this section comes from that run.");
p();
p(`- CPU: ${env.nproc} × ${env.cpu}; Node ${env.node}`);
p(
  `- Peers: kafkajs ${env.kafkajs}; @platformatic/kafka ${env.platformatic}` +
    (env.kafka ? `; broker Apache Kafka ${env.kafka}` : ""),
);
p(`- Command: \`${env.command}\` (started ${env.started}, finished ${env.finished})`);
p(`- Code: commit ${env.commit}`);
p(
  `- Load average (1/5/15 min) at start ${env.load ?? "–"}, at the end ${env.loadEnd ?? "–"}: ` +
    "on a shared machine the clients get a share of 2 cores, so read the ratios, not the levels.",
);
p();

const rt = jsonl("roundtrip.jsonl");
const rtFailed = rt.filter((r) => r.error);
const INFLIGHT = [1, 16, 128];
const cell = (client, n) => {
  const runs = rt.filter((r) => !r.error && r.client === client && r.inflight === n);
  return {
    rps: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.p50Us)),
    p99: median(runs.map((r) => r.p99Us)),
    cpu: median(runs.map((r) => r.cpuUsPerRequest)),
    all: runs.map((r) => r.reqPerSec),
  };
};
p("### Round trips on Node (requests/s, median of rounds; p50/p99 latency in µs)");
p();
p("ApiVersions v0 against `bench/responder`, the same bytes from every client.");
p();
p("| client | 1 in flight | 16 in flight | 128 in flight |");
p("|---|---:|---:|---:|");
for (const client of ["raw", "ours", "kafkajs"]) {
  const row = INFLIGHT.map((n) => {
    const c = cell(client, n);
    return c.rps === null ? "–" : `${fmt(c.rps)} (${fmt(c.p50)}/${fmt(c.p99)})`;
  });
  p(`| ${client} | ${row.join(" | ")} |`);
}
const missed = [];
for (
  const [label, peer, target] of [["ours / raw", "raw", 0.7], ["ours / kafkajs", "kafkajs", 1]]
) {
  const r = INFLIGHT.map((n) => ratio(cell("ours", n).rps, cell(peer, n).rps));
  r.forEach((x, i) => {
    if (x === null || x < target) missed.push(`${label} at ${INFLIGHT[i]} in flight`);
  });
  p(`| ${label} | ${r.map((x) => `${fmt(x, 2)}×`).join(" | ")} |`);
}
p();
p(
  `Ours, client CPU per request (µs): ${
    INFLIGHT.map((n) => `${n}: ${fmt(cell("ours", n).cpu, 1)}`).join(", ")
  }. Per-round requests/s: ${
    ["raw", "ours", "kafkajs"].map((c) =>
      `${c} ${INFLIGHT.map((n) => cell(c, n).all.map((x) => fmt(x)).join("/")).join("; ")}`
    ).join(" — ")
  }.`,
);
if (rtFailed.length > 0) {
  p();
  p(`Failed runs: ${rtFailed.map((f) => `${f.label}: ${f.error}`).join("; ")}`);
}
p();

p("### Produce against the real broker on Node");
p();
const skip = read("produce.skip");
if (skip !== null) {
  p(`Produce ${skip.trim()}`);
} else {
  p("Topic `bench-produce` (1 partition), batches of 100 records of 1 KiB, acks=1 (leader), no");
  p("compression, 5 requests in flight, 5 s after a 1 s warm-up, median of 2 rounds. Latency is");
  p("per request (100 records); CPU is the client process's user + system time over the");
  p("measured part, per record.");
  p();
  const prod = jsonl("produce.jsonl");
  const pc = (client) => {
    const runs = prod.filter((r) => !r.error && r.client === client);
    return {
      mb: median(runs.map((r) => r.mbPerSec)),
      rps: median(runs.map((r) => r.recordsPerSec)),
      p50: median(runs.map((r) => r.p50Us)),
      p99: median(runs.map((r) => r.p99Us)),
      cpu: median(runs.map((r) => r.cpuUsPerRecord)),
      errors: runs.reduce((n, r) => n + (r.errors ?? 0), 0),
    };
  };
  const clients = [["ours", "ours (./node)"], ["kafkajs", "kafkajs"], [
    "platformatic",
    "@platformatic/kafka",
  ]];
  p("| client | MB/s | records/s | p50 ms | p99 ms | CPU µs/record | produce errors |");
  p("|---|---:|---:|---:|---:|---:|---:|");
  for (const [client, name] of clients) {
    const c = pc(client);
    p(
      `| ${name} | ${fmt(c.mb, 1)} | ${fmt(c.rps)} | ${fmt(c.p50 / 1000, 2)} | ${
        fmt(c.p99 / 1000, 2)
      } | ${fmt(c.cpu, 2)} | ${c.errors} |`,
    );
  }
  const ours = pc("ours");
  for (const [client, name] of clients.slice(1)) {
    const peer = pc(client);
    const ahead = [
      ["MB/s", ours.mb > peer.mb],
      ["p50", ours.p50 < peer.p50],
      ["p99", ours.p99 < peer.p99],
      ["CPU/record", ours.cpu < peer.cpu],
    ];
    for (const [what, ok] of ahead) if (!ok) missed.push(`produce ${what} vs ${name}`);
    p(
      `| ours / ${name} | ${fmt(ratio(ours.mb, peer.mb), 2)}× | | ${
        fmt(ratio(ours.p50, peer.p50), 2)
      }× | ${fmt(ratio(ours.p99, peer.p99), 2)}× | ${fmt(ratio(ours.cpu, peer.cpu), 2)}× | |`,
    );
  }
  const failed = prod.filter((r) => r.error);
  if (failed.length > 0) {
    p();
    p(`Failed runs: ${failed.map((f) => `${f.label}: ${f.error}`).join("; ")}`);
  }
}
p();
p(
  "Targets (issue 13: ahead of kafkajs and @platformatic/kafka on every figure; ≥ 0.7× the raw " +
    `socket): ${missed.length === 0 ? "all met." : `missed: ${missed.join(", ")}.`}`,
);
p();

// The section is replaced; a hand-written "### Analysis (hand-written ..." part of it is kept.
const text = fs.existsSync(results) ? fs.readFileSync(results, "utf8") : "";
const start = text.search(/^## Node$/m);
let next;
if (start < 0) {
  next = `${text.replace(/\n*$/, "\n\n")}${out.join("\n")}`;
} else {
  const rest = text.slice(start + 1).search(/^## /m);
  const end = rest < 0 ? text.length : start + 1 + rest;
  const old = text.slice(start, end);
  const analysis = old.search(/^### Analysis \(hand-written/m);
  if (analysis >= 0) p(old.slice(analysis).replace(/\n*$/, "\n"));
  next = text.slice(0, start) + out.join("\n") + (rest < 0 ? "" : "\n" + text.slice(end));
}
fs.writeFileSync(results, next.replace(/\n*$/, "\n"));
