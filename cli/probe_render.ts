/**
 * The probe's output: progress lines as states change, the aligned API table and latency
 * summary for people, and one JSON document for scripts.
 *
 * @module
 */

import type { ClusterView } from "./probe_cluster.ts";
import type { ApiRow } from "./api_table.ts";
import { ExitCode } from "./hints.ts";
import type { ProbeEvent, ProbeReport, SetupPhases } from "./probe_run.ts";

/** Version of the JSON document's layout; bumped when a field changes meaning or goes away. */
export const JSON_SCHEMA_VERSION = 1;

/** Longest state-change reason shown on a progress line. */
const MAX_REASON = 90;

const EXIT_NAMES: Readonly<Record<number, string>> = {
  [ExitCode.OK]: "ok",
  [ExitCode.OTHER]: "other failure",
  [ExitCode.USAGE]: "usage",
  [ExitCode.CONNECTION]: "connection refused or closed",
  [ExitCode.TLS]: "TLS / security protocol",
  [ExitCode.AUTHENTICATION]: "authentication",
  [ExitCode.TIMEOUT]: "timeout",
  [ExitCode.PROTOCOL]: "not a Kafka listener",
  [ExitCode.ADVERTISED_UNREACHABLE]: "advertised listener unreachable",
};

/**
 * Formats milliseconds with a precision that suits their size (loopback round trips are
 * fractions of a millisecond; setup through a WAN is hundreds).
 *
 * @param ms Milliseconds.
 * @returns E.g. "0.12", "12.3", "1234".
 */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return ms.toFixed(0);
}

/**
 * A count with its noun, in the plural unless the count is 1.
 *
 * @param n How many.
 * @param noun The singular noun, e.g. "round trip".
 * @returns E.g. "1 round trip", "5 round trips".
 */
function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * Lays out rows in columns padded to the widest cell, two spaces apart.
 *
 * @param header The column titles.
 * @param rows The cells, one array per row, as long as `header`.
 * @param rightAligned Per column, whether to align right (numbers) instead of left.
 * @returns One string per line (header first), without trailing spaces.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAligned: readonly boolean[],
): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * One progress line for an event, printed as it happens.
 *
 * @param event What happened.
 * @returns The line (without newline).
 */
export function renderEvent(event: ProbeEvent): string {
  switch (event.type) {
    case "notice":
      return event.notice.level === "warning"
        ? `WARNING: ${event.notice.text}`
        : `note: ${event.notice.text}`;
    case "start": {
      const security = `${event.tls ? "TLS" : "plaintext"}, ${
        event.sasl === null ? "no SASL" : `SASL ${event.sasl}`
      }`;
      return `Probing ${event.target} (${security})${event.embedded ? " [embedded cluster]" : ""}`;
    }
    case "state": {
      const s = event.state;
      const took = s.from === "INIT" ? "" : `  (${s.from} ${formatMs(s.fromMs)} ms)`;
      // A failure's reason is its whole message, printed in full with the verdict below.
      const reason = s.reason.length > MAX_REASON
        ? `${s.reason.slice(0, MAX_REASON - 3)}...`
        : s.reason;
      return `  +${formatMs(s.atMs).padStart(8)} ms  ${s.state.padEnd(16)}  ${reason}${took}`;
    }
    case "cluster": {
      const c = event.cluster;
      const brokers = c.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`).join(", ");
      return `Cluster ${c.clusterId ?? "(no id)"}: controller ${c.controllerId}, ` +
        `${counted(c.brokers.length, "broker")}: ${brokers}`;
    }
    case "round-trips":
      return `Timing ${counted(event.count, `${event.api} round trip`)}...`;
    case "produce-check":
      return `Producing one record to ${event.topic} partition 0 and fetching it back...`;
  }
}

function phaseLine(p: SetupPhases): string {
  const part = (name: string, ms: number | null): string =>
    `${name} ${ms === null ? "-" : `${formatMs(ms)} ms`}`;
  // The connector dials TCP and completes the TLS handshake in one call: one figure for both.
  const dial = p.tlsMs === null
    ? `${part("connect", p.connectMs)}, TLS -`
    : part("connect+TLS", (p.connectMs ?? 0) + p.tlsMs);
  return `Setup: ${dial}, ` +
    `${part("ApiVersions", p.apiVersionsMs)}, ${part("SASL", p.saslMs)}; ` +
    `${p.upMs === null ? "never UP" : `UP after ${formatMs(p.upMs)} ms`}`;
}

function versionCell(row: ApiRow): string {
  if (!row.implemented) return "n/a";
  return row.version === null ? "NONE" : `v${row.version}`;
}

/**
 * Renders the API table: name, key, broker min/max, the version this module would use.
 *
 * @param apis The rows.
 * @returns The lines, including the "cannot use" summary.
 */
export function renderApiTable(apis: readonly ApiRow[]): string[] {
  const advertised = apis.filter((a) => a.brokerMax !== null).length;
  const rows = apis.map((a) => [
    a.name,
    String(a.key),
    a.brokerMin === null ? "-" : String(a.brokerMin),
    a.brokerMax === null ? "-" : String(a.brokerMax),
    versionCell(a),
  ]);
  const lines = [
    `APIs: the broker advertises ${advertised}; "uses" is the version this module would send ` +
    `("n/a": no codec here)`,
    ...formatTable(
      ["API", "key", "broker min", "broker max", "uses"],
      rows,
      [false, true, true, true, true],
    ).map((l) => `  ${l}`),
  ];
  const unusable = apis.filter((a) => !a.usable);
  if (unusable.length === 0) {
    lines.push("Every API this module implements has a version in common with the broker.");
  } else {
    lines.push("Cannot use (no version in common):");
    for (const a of unusable) {
      const client = a.client === null ? "" : `this module v${a.client.min}..v${a.client.max}, `;
      const broker = a.brokerMax === null
        ? "not offered by the broker"
        : `broker v${a.brokerMin}..v${a.brokerMax}`;
      lines.push(`  ${a.name} (key ${a.key}): ${client}${broker}`);
    }
  }
  return lines;
}

/**
 * The human report printed after the progress lines: setup timings, API table, latency, and
 * the verdict or the failure with its hint.
 *
 * @param report The probe's findings.
 * @returns The text (lines joined with newlines, no trailing newline).
 */
export function renderReport(report: ProbeReport): string {
  const lines: string[] = ["", phaseLine(report.phases)];
  if (report.apis.length > 0) lines.push("", ...renderApiTable(report.apis));
  const l = report.latency;
  if (l !== null) {
    lines.push(
      "",
      `Round trips: ${l.count} x ${l.api}: min ${formatMs(l.minMs)}  p50 ${formatMs(l.p50Ms)}  ` +
        `p99 ${formatMs(l.p99Ms)}  max ${formatMs(l.maxMs)}  avg ${formatMs(l.avgMs)} ms`,
    );
  }
  const pc = report.produceCheck;
  if (pc !== null) {
    lines.push(
      "",
      `Produce + Fetch: 1 record to ${pc.topic}[${pc.partition}] on node ${pc.leader} at offset ` +
        `${pc.offset}, fetched back unchanged: produce ${formatMs(pc.produceMs)} ms, fetch ` +
        `${formatMs(pc.fetchMs)} ms (${formatMs(pc.produceMs + pc.fetchMs)} ms together)`,
    );
  }
  if (report.clusterView !== null) lines.push("", ...renderClusterView(report.clusterView));
  if (report.clusterViewError !== null) {
    lines.push("", `Cluster view failed: ${report.clusterViewError}`);
  }
  lines.push("");
  const e = report.error;
  const view = report.clusterView;
  if (e === null && view !== null && view.unreachable > 0) {
    lines.push(
      `PARTLY: ${report.target} answers, but ${
        counted(view.unreachable, "broker")
      } it lists cannot be reached from here (see the hints above).`,
      `Exit code ${report.exitCode} (${EXIT_NAMES[report.exitCode]}).`,
    );
  } else if (e === null) {
    lines.push(
      `OK: ${report.target} is usable (UP in ${formatMs(report.phases.upMs ?? 0)} ms` +
        `${l === null ? "" : `, ${counted(l.count, "round trip")}`}).`,
    );
  } else {
    const code = e.code === null ? "none" : String(e.code);
    lines.push(
      `FAILED: ${e.name} (retriable: ${e.retriable ? "yes" : "no"}, Kafka error code: ${code})`,
      `  ${e.message}`,
      `Hint: ${e.hint}`,
      `Exit code ${report.exitCode} (${EXIT_NAMES[report.exitCode]}).`,
    );
  }
  return lines.join("\n");
}

/**
 * Renders the cluster view: one row per broker Metadata lists, with reachability, setup time
 * and round trip, then a hint per unreachable broker.
 *
 * @param view The view.
 * @returns The lines.
 */
export function renderClusterView(view: ClusterView): string[] {
  const rows = view.brokers.map((b) => [
    `${b.nodeId}${b.controller ? " (controller)" : ""}`,
    b.address + (b.mappedTo === null ? "" : ` -> ${b.mappedTo}`),
    b.rack ?? "-",
    b.reachable ? "yes" : "NO",
    b.upMs === null ? "-" : `${formatMs(b.upMs)} ms`,
    b.rttMs === null ? "-" : `${formatMs(b.rttMs)} ms`,
  ]);
  const lines = [
    `Cluster view: ${view.clusterId ?? "(no id)"}, controller ${view.controllerId}, every ` +
    `broker dialled at its advertised address:`,
    ...formatTable(
      ["node", "advertised", "rack", "reachable", "UP after", "Metadata RTT"],
      rows,
      [false, false, false, false, true, true],
    ).map((line) => `  ${line}`),
  ];
  for (const b of view.brokers) {
    if (b.hint !== null) lines.push(`Hint: ${b.hint}`);
  }
  return lines;
}

/**
 * The report as one JSON document, milliseconds rounded to microseconds.
 *
 * @param report The probe's findings.
 * @returns Pretty-printed JSON.
 */
export function renderJson(report: ProbeReport): string {
  return JSON.stringify(
    { schemaVersion: JSON_SCHEMA_VERSION, ...report },
    (_key, value) =>
      typeof value === "number" && !Number.isInteger(value)
        ? Math.round(value * 1000) / 1000
        : value,
    2,
  );
}
