/**
 * Memory over 1 000 000 ApiVersions v0 round trips against the responder, 128 in flight: the
 * heap after a forced GC once warmed up and again at the end (growth = leak suspicion), and
 * the bytes allocated per request, estimated from the heap's growth across single rounds of
 * 128 requests (the median over rounds, which ignores the rounds a GC ran in).
 *
 * Usage: `deno run -A --v8-flags=--expose-gc bench/memory.ts --port P [--requests N]
 * [--codec minimal]` or `bun bench/memory.ts --port P [--requests N] [--codec minimal]`; with
 * `--codec minimal` the reply body is not decoded (only its error code is read).
 *
 * @module
 */

import { BrokerConnection, type BrokerRequest } from "../broker/connection.ts";
import type { Reader } from "../framing/reader.ts";
import { ApiVersions, type ApiVersionsResponse } from "../protocol/api_versions.ts";
import type { Connector } from "../transport/conn.ts";
import { parseArgs, round } from "./lib/latency.mjs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime: "deno" | "bun" = g.Bun ? "bun" : "deno";
const a = parseArgs(g.Deno ? g.Deno.args : g.process.argv.slice(2));
const total = Number(a.requests ?? 1_000_000);
const INFLIGHT = 128;
const WARMUP = 50_000;

async function connectorFor(): Promise<Connector> {
  if (runtime === "bun") return (await import("../transport/bun.ts")).bunConnector;
  return (await import("../transport/deno.ts")).denoConnector;
}

function heapUsed(): number {
  return g.Deno ? g.Deno.memoryUsage().heapUsed : g.process.memoryUsage().heapUsed;
}

function rss(): number {
  return g.Deno ? g.Deno.memoryUsage().rss : g.process.memoryUsage().rss;
}

/** A full collection, several times so finalizers and weak references settle. */
async function fullGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    if (g.Bun) g.Bun.gc(true);
    else if (typeof g.gc === "function") g.gc();
    else throw new Error("run Deno with --v8-flags=--expose-gc");
    await new Promise((r) => setTimeout(r, 10));
  }
  return heapUsed();
}

const decodeV0 = (r: Reader): ApiVersionsResponse => ApiVersions.decodeResponse(r, 0);
// `--codec minimal` reads only the error code: what the transport costs apart from decoding.
const decodeMinimal = (r: Reader): number => r.int16("errorCode");
const minimal = a.codec === "minimal";
const req: BrokerRequest<unknown> = {
  apiKey: ApiVersions.key,
  apiVersion: 0,
  flexible: false,
  apiName: "ApiVersions",
  encodeBody: (): void => {},
  decodeBody: minimal ? decodeMinimal : decodeV0,
};

const broker = new BrokerConnection({
  host: "127.0.0.1",
  port: Number(a.port),
  connector: await connectorFor(),
  clientId: "bench",
  maxInFlight: INFLIGHT,
});
await broker.connect();
// One round: 128 requests issued at once, then awaited in order. The array is reused and an
// `await` adds only its reaction, where `Promise.all` over a fresh array added the array, a
// resolve function and a derived promise per request (about 150 bytes charged to us).
const outstanding = new Array<Promise<unknown>>(INFLIGHT);
async function round128(): Promise<void> {
  for (let i = 0; i < INFLIGHT; i++) outstanding[i] = broker.request(req);
  for (let i = 0; i < INFLIGHT; i++) await outstanding[i];
}

for (let done = 0; done < WARMUP; done += INFLIGHT) await round128();
const warmHeap = await fullGc();
const warmRss = rss();
const perRound: number[] = [];
const start = performance.now();
for (let done = 0; done < total; done += INFLIGHT) {
  const before = heapUsed();
  await round128();
  const grew = heapUsed() - before;
  if (grew > 0) perRound.push(grew / INFLIGHT);
}
const seconds = (performance.now() - start) / 1000;
const endHeap = await fullGc();
const endRss = rss();
await broker.close();
perRound.sort((x, y) => x - y);
console.log(JSON.stringify({
  runtime,
  codec: minimal ? "minimal" : "ApiVersions",
  requests: total,
  seconds: round(seconds),
  warmHeapMB: round(warmHeap / 1e6),
  endHeapMB: round(endHeap / 1e6),
  heapGrowthKB: round((endHeap - warmHeap) / 1e3),
  heapGrowthBytesPerRequest: round((endHeap - warmHeap) / total),
  warmRssMB: round(warmRss / 1e6),
  endRssMB: round(endRss / 1e6),
  // Only meaningful when most rounds ran without a collection (V8's young generation); JSC's
  // heap counter moves in large steps, so there the estimate is left out.
  allocBytesPerRequest: perRound.length * INFLIGHT * 2 < total
    ? null
    : round(perRound[perRound.length >> 1]),
  roundsSampled: perRound.length,
}));
