/**
 * Our `BrokerConnection` against the Go responder: ApiVersions v0 round trips (the same bytes as
 * the raw and kafkajs clients: client id "bench", empty body) in a closed loop with `--inflight`
 * requests outstanding, or, with `--frame-bytes B`, request frames of B bytes whose padding body
 * the responder skips (bulk throughput, MB/s).
 *
 * Usage: `deno run -A bench/ours_client.ts --port P --inflight N --seconds S [--frame-bytes B]
 * [--codec minimal]` or the same with `bun` or `node`; `--codec minimal` reads only the reply's
 * error code instead of decoding the ApiVersions body (transport overhead apart from decoding).
 *
 * @module
 */

import { BrokerConnection, type BrokerRequest } from "../broker/connection.ts";
import type { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import { ApiVersions, type ApiVersionsResponse } from "../protocol/api_versions.ts";
import type { Connector } from "../transport/conn.ts";
import { closedLoop, parseArgs, round } from "./lib/latency.mjs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" | "node" = g.Bun ? "bun" : g.Deno ? "deno" : "node";
const a = parseArgs(g.Deno ? g.Deno.args : g.process.argv.slice(2));
const inflight = Number(a.inflight);
const seconds = Number(a.seconds);
const frameBytes = Number(a["frame-bytes"] ?? 0);

/** Each runtime's own adapter, loaded only there. */
async function connectorFor(): Promise<Connector> {
  if (runtime === "bun") return (await import("../transport/bun.ts")).bunConnector;
  if (runtime === "node") return (await import("../transport/node.ts")).nodeConnector;
  return (await import("../transport/deno.ts")).denoConnector;
}

/** A v0 request header is 10 bytes plus the client id; the frame adds the 4-byte size prefix. */
const HEADER_BYTES = 4 + 10 + "bench".length;
const padding = new Uint8Array(Math.max(0, frameBytes - HEADER_BYTES));
// Shared, pre-built codecs: nothing is allocated per request besides what the library does.
const encodeEmpty = (_w: Writer): void => {};
const encodePadding = (w: Writer): void => {
  w.raw(padding);
};
const decodeV0 = (r: Reader): ApiVersionsResponse => ApiVersions.decodeResponse(r, 0);
// `--codec minimal` reads only the error code: what the transport costs apart from decoding.
const decodeMinimal = (r: Reader): number => r.int16("errorCode");
const minimal = a.codec === "minimal";

const broker = new BrokerConnection({
  host: "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench",
  maxInFlight: inflight,
});
await broker.connect();
const req: BrokerRequest<unknown> = {
  apiKey: ApiVersions.key,
  apiVersion: 0,
  flexible: false,
  apiName: "ApiVersions",
  encodeBody: padding.length > 0 ? encodePadding : encodeEmpty,
  decodeBody: minimal ? decodeMinimal : decodeV0,
};
const result = await closedLoop({ send: () => broker.request(req), inflight, seconds });
const stats = broker.stats();
await broker.close();
const frame = HEADER_BYTES + padding.length;
console.log(JSON.stringify({
  client: minimal ? "ours-minimal" : "ours",
  runtime,
  inflight,
  ...result,
  mbPerSec: round((result.requests * frame) / result.seconds / 1e6),
  cpuUsPerRequest: round(result.cpuUs / result.requests),
  writes: stats.writes,
  requestsPerWrite: round(stats.requestsSent / Math.max(1, stats.writes)),
}));
