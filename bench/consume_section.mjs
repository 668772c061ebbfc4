// Writes the "## Consume and produce CPU" section of bench/RESULTS.md from one run of
// bench/consume.sh: consume MB/s and client CPU per record for every client and case (medians
// over rounds with the range), produce CPU per record, and the targets of issue 12 (at least
// librdkafka's MB/s, at most its CPU per record). Replaces the section in place, keeping a
// hand-written "### Analysis (hand-written ..." part of it; the rest of the file is kept.
// Usage: node bench/consume_section.mjs <run dir> <RESULTS.md>
import fs from "node:fs";
import path from "node:path";

const HEADING = "## Consume and produce CPU";
const [dir, results] = process.argv.slice(2);
const read = (name) => {
  const f = path.join(dir, name);
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
};
const jsonl = (name) =>
  read(name).split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
const env = Object.fromEntries(
  read("env.txt").split("\n").filter((l) => l.includes("=")).map((l) => {
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
/** Median and range of `key` over `runs`, e.g. "612 (540–700)". */
const spread = (runs, key, digits) => {
  const xs = runs.map((r) => r[key]).filter((x) => typeof x === "number");
  if (xs.length === 0) return { median: null, text: "–" };
  const m = median(xs);
  const range = xs.length > 1
    ? ` (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`
    : "";
  return { median: m, text: fmt(m, digits) + range };
};
const out = [];
const p = (s = "") => out.push(s);

p(HEADING);
p();
p("Written by `bench/consume_section.mjs` from one run of `bench/consume.sh` (also the last");
p("step of `bench/run.sh` when a broker is up); every figure comes from that run, each client");
p("and case once per round, rounds interleaved. Medians over rounds, range in brackets.");
p();
p(`- CPU: ${env.nproc} × ${env.cpu}`);
p(
  `- Runtimes: ${env.deno}; Bun ${env.bun}; Node ${env.node}; kafkajs ${env.kafkajs}; ` +
    `librdkafka ${env.librdkafka} from C; broker Apache Kafka ${env.kafka}`,
);
p(`- Command: \`${env.command}\` (started ${env.started}, finished ${env.finished})`);
p(`- Code: commit ${env.commit}`);
p(
  `- Load average (1/5/15 min) at start ${env.load ?? "–"}, at the end ${env.loadEnd ?? "–"}: ` +
    "the broker and the client share 2 loaded cores, so MB/s moves with the load; CPU per " +
    "record (process user + system time / records) is the steadier figure.",
);
p();

const consume = jsonl("consume.jsonl");
const ok = consume.filter((r) => !r.error);
const CASES = [
  ["ours", "deno", "records", true, false, "ours Deno: plain loop (decodeRecordBatches)"],
  ["ours", "deno", "values", true, true, "ours Deno: decodeRecordValues, next Fetch in flight"],
  ["ours", "deno", "values", false, true, "ours Deno: the same, checkCrc false"],
  ["ours", "bun", "records", true, false, "ours Bun: plain loop (decodeRecordBatches)"],
  ["ours", "bun", "values", true, true, "ours Bun: decodeRecordValues, next Fetch in flight"],
  ["ours", "bun", "values", false, true, "ours Bun: the same, checkCrc false"],
  ["librdkafka", null, null, true, null, "librdkafka (C): check.crcs true"],
  ["librdkafka", null, null, false, null, "librdkafka (C): check.crcs false (its default)"],
  ["kafkajs", "node", null, false, null, "kafkajs (Node 24): eachBatch, no CRC check"],
];
const TOPICS = [["none", "uncompressed"], ["lz4", "lz4"], ["zstd", "zstd"]];
const runsOf = ([client, rt, decode, crc, pipeline], topic) =>
  ok.filter((r) =>
    r.client === client && r.topic === `bench-consume-${topic}` &&
    (rt === null || r.runtime === rt) && (decode === null || r.decode === decode) &&
    r.checkCrcs === crc && (pipeline === null || r.pipeline === pipeline)
  );
const cells = new Map();
p(`### Consume: ${fmt(Number(env.records))} records of 1 KiB from one partition`);
p();
p("MB/s of record values · client CPU µs per record. Compressed topics were filled");
p("uncompressed with the topic's `compression.type` set, so the broker's Java codecs wrote");
p("the batches. kafkajs reads lz4 and zstd through the pure-JS lz4js and fzstd plugged into");
p("its `CompressionCodecs` (its own plugins for them are native addons).");
p();
p("| client and case | " + TOPICS.map(([, name]) => name).join(" | ") + " |");
p("|---|" + TOPICS.map(() => "---:|").join(""));
for (const c of CASES) {
  const row = TOPICS.map(([topic]) => {
    const runs = runsOf(c, topic);
    if (runs.length === 0) return "–";
    const mb = spread(runs, "mbPerSec", 0);
    const cpu = spread(runs, "cpuUsPerRecord", 2);
    cells.set(`${c[5]}|${topic}`, { mb: mb.median, cpu: cpu.median });
    return `${mb.text} MB/s · ${cpu.text} µs`;
  });
  p(`| ${c[5]} | ${row.join(" | ")} |`);
}
p();
p("Ours runs only the plain loop and the values form on uncompressed data; on lz4 and zstd");
p("the values form with the next Fetch in flight and CRC-32C checked.");
p();

const produce = jsonl("produce.jsonl").filter((r) => !r.error);
p("### Produce: client CPU per record");
p();
p("1 KiB records, 100 per batch, acks=1, 5 in flight, 4 s per run; bench/produce.ts (ours)");
p("and bench/c/rdkafka_produce.c (librdkafka from C, `compression.type` set).");
p();
p("| client | uncompressed | lz4 |");
p("|---|---:|---:|");
const prodCells = new Map();
for (
  const [name, match] of [
    ["ours Deno", (r) => r.client === "ours" && r.runtime === "deno"],
    ["ours Bun", (r) => r.client === "ours" && r.runtime === "bun"],
    ["librdkafka (C)", (r) => r.client === "librdkafka"],
  ]
) {
  const row = ["none", "lz4"].map((c) => {
    const runs = produce.filter((r) => match(r) && (r.compression ?? "none") === c);
    if (runs.length === 0) return "–";
    const mb = spread(runs, "mbPerSec", 0);
    const cpu = spread(runs, "cpuUsPerRecord", 2);
    prodCells.set(`${name}|${c}`, cpu.median);
    return `${mb.text} MB/s · ${cpu.text} µs`;
  });
  p(`| ${name} | ${row.join(" | ")} |`);
}
p();

// Targets: ours at least librdkafka's MB/s and at most its CPU, CRC setting for CRC setting.
const lines = [];
const target = (ours, theirs, topic, what) => {
  const a = cells.get(`${ours}|${topic}`);
  const b = cells.get(`${theirs}|${topic}`);
  if (!a || !b || a.mb === null || b.mb === null) return;
  const mbOk = a.mb >= b.mb;
  const cpuOk = a.cpu <= b.cpu;
  lines.push(
    `- ${what}: ${fmt(a.mb)} vs ${fmt(b.mb)} MB/s (${mbOk ? "met" : "missed"}), ` +
      `${fmt(a.cpu, 2)} vs ${fmt(b.cpu, 2)} µs/record (${cpuOk ? "met" : "missed"})`,
  );
};
for (const rt of ["Deno", "Bun"]) {
  const v = `ours ${rt}: decodeRecordValues, next Fetch in flight`;
  target(v, "librdkafka (C): check.crcs true", "none", `${rt}, uncompressed, CRC on`);
  target(
    `ours ${rt}: the same, checkCrc false`,
    "librdkafka (C): check.crcs false (its default)",
    "none",
    `${rt}, uncompressed, CRC off`,
  );
  for (const t of ["lz4", "zstd"]) {
    target(v, "librdkafka (C): check.crcs true", t, `${rt}, ${t}, CRC on`);
  }
}
for (const rt of ["Deno", "Bun"]) {
  for (const c of ["none", "lz4"]) {
    const a = prodCells.get(`ours ${rt}|${c}`);
    const b = prodCells.get(`librdkafka (C)|${c}`);
    if (a === undefined || b === undefined) continue;
    lines.push(
      `- produce ${rt}, ${c === "none" ? "uncompressed" : c}: ${fmt(a, 2)} vs ${fmt(b, 2)} ` +
        `µs/record (${a <= b ? "met" : "missed"})`,
    );
  }
}
p("### Targets (ours vs librdkafka from C, same CRC setting)");
p();
for (const l of lines) p(l);
const failed = [...consume, ...jsonl("produce.jsonl")].filter((r) => r.error);
if (failed.length > 0) {
  p();
  p(`Failed runs: ${failed.map((f) => `${f.label}: ${f.error}`).join("; ")}`);
}
p();

const text = fs.existsSync(results) ? fs.readFileSync(results, "utf8") : "";
const start = text.search(new RegExp(`^${HEADING}$`, "m"));
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
