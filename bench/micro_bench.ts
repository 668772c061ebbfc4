/**
 * Micro-benchmarks of the hot paths under the connection: frame splitting, request encoding,
 * primitives and a Metadata response decode. Each group has a baseline: a plain memcpy
 * (`Uint8Array.prototype.set`) of the same bytes for the decoder, the smallest equivalent
 * hand-written code for the rest.
 *
 * Run: `deno bench bench/micro_bench.ts` (bench/run.sh parses its JSON output).
 *
 * @module
 */

import { FrameDecoder } from "../framing/decoder.ts";
import { writeRequestHeader } from "../framing/header.ts";
import { Reader } from "../framing/reader.ts";
import { Writer } from "../framing/writer.ts";
import { ApiVersions } from "../protocol/api_versions.ts";
import { Metadata, type MetadataResponse } from "../protocol/metadata.ts";

/**
 * `count` back-to-back frames of `bodySize` bytes each.
 *
 * @param bodySize Bytes after each size prefix.
 * @param count How many frames.
 * @returns The concatenated frames.
 */
function frames(bodySize: number, count: number): Uint8Array {
  const out = new Uint8Array((4 + bodySize) * count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setInt32(i * (4 + bodySize), bodySize);
  return out;
}

/**
 * Cuts `bytes` into chunks of `size` (the last one shorter), like socket reads would.
 *
 * @param bytes The stream.
 * @param size Chunk size.
 * @returns Views of `bytes`.
 */
function split(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/**
 * Pushes every chunk and takes every frame out.
 *
 * @param chunks The stream, chunked.
 * @returns How many frames came out (so the work cannot be optimised away).
 */
function decodeAll(chunks: Uint8Array[]): number {
  const d = new FrameDecoder();
  let n = 0;
  for (const c of chunks) {
    d.push(c);
    while (d.next() !== null) n++;
  }
  return n;
}

// 64 B frames: 1024 of them (68 KiB) per iteration, whole, and in 1500-byte chunks (MTU-like)
// so that about one frame in 23 spans two chunks.
const small = frames(64, 1024);
const smallSplit = split(small, 1500);
const smallSink = new Uint8Array(small.length);

Deno.bench("memcpy 1024 × 68 B (baseline)", { group: "frames-64B", baseline: true }, () => {
  smallSink.set(small);
});
Deno.bench("FrameDecoder 1024 × 64 B, one chunk", { group: "frames-64B" }, () => {
  if (decodeAll([small]) !== 1024) throw new Error("lost frames");
});
Deno.bench("FrameDecoder 1024 × 64 B, 1500 B chunks", { group: "frames-64B" }, () => {
  if (decodeAll(smallSplit) !== 1024) throw new Error("lost frames");
});

// 1 MiB frames: one whole (a view, no copy), and in 64 KiB chunks (assembled with one copy).
const big = frames(1 << 20, 1);
const bigSplit = split(big, 64 * 1024);
const bigSink = new Uint8Array(big.length);

Deno.bench("memcpy 1 MiB (baseline)", { group: "frames-1MiB", baseline: true }, () => {
  bigSink.set(big);
});
Deno.bench("FrameDecoder 1 MiB, one chunk", { group: "frames-1MiB" }, () => {
  if (decodeAll([big]) !== 1) throw new Error("lost frame");
});
Deno.bench("FrameDecoder 1 MiB, 64 KiB chunks", { group: "frames-1MiB" }, () => {
  if (decodeAll(bigSplit) !== 1) throw new Error("lost frame");
});

// A request frame as the connection builds it: size prefix, header v1, ApiVersions v0 body.
const prebuilt = new Uint8Array([
  0,
  0,
  0,
  19,
  0,
  18,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  5,
  98,
  101,
  110,
  99,
  104,
]);
let correlation = 0;
const reused = new Writer();

Deno.bench("copy a pre-built frame (baseline)", { group: "request-encode", baseline: true }, () => {
  const f = prebuilt.slice();
  f[11] = correlation++ & 0xff;
});
Deno.bench("header + ApiVersions v0, new Writer", { group: "request-encode" }, () => {
  const w = new Writer();
  w.int32(0);
  writeRequestHeader(w, {
    apiKey: 18,
    apiVersion: 0,
    correlationId: correlation++,
    clientId: "bench",
  }, false);
  ApiVersions.encodeRequest(w, { clientSoftwareName: "", clientSoftwareVersion: "" }, 0);
  w.patchInt32(0, w.length - 4);
  w.finish();
});
Deno.bench("header + ApiVersions v3, reused Writer", { group: "request-encode" }, () => {
  reused.reset();
  reused.int32(0);
  writeRequestHeader(reused, {
    apiKey: 18,
    apiVersion: 3,
    correlationId: correlation++,
    clientId: "bench",
  }, true);
  ApiVersions.encodeRequest(reused, {
    clientSoftwareName: "kafka-wire",
    clientSoftwareVersion: "0.1.0",
  }, 3);
  reused.patchInt32(0, reused.length - 4);
  reused.finish().slice();
});

// Primitives: 1000 values per iteration into a reused writer, then read back.
const prim = new Writer(64 * 1024);
const dv = new DataView(new ArrayBuffer(4000));

Deno.bench("DataView.setInt32 × 1000 (baseline)", { group: "primitives", baseline: true }, () => {
  for (let i = 0; i < 1000; i++) dv.setInt32(i * 4, i * 7919);
});
Deno.bench("Writer.int32 × 1000", { group: "primitives" }, () => {
  prim.reset();
  for (let i = 0; i < 1000; i++) prim.int32(i * 7919);
});
Deno.bench("Writer.varint × 1000", { group: "primitives" }, () => {
  prim.reset();
  for (let i = 0; i < 1000; i++) prim.varint(i * 7919 - 4_000_000);
});
Deno.bench("Writer.string (12 ASCII chars) × 1000", { group: "primitives" }, () => {
  prim.reset();
  for (let i = 0; i < 1000; i++) prim.string("bench-topic1");
});
Deno.bench("Writer.compactString (12 ASCII chars) × 1000", { group: "primitives" }, () => {
  prim.reset();
  for (let i = 0; i < 1000; i++) prim.compactString("bench-topic1");
});

const ints = new Writer();
for (let i = 0; i < 1000; i++) ints.int32(i * 7919);
const intBytes = ints.finish().slice();
const varints = new Writer();
for (let i = 0; i < 1000; i++) varints.varint(i * 7919 - 4_000_000);
const varintBytes = varints.finish().slice();
const strings = new Writer();
for (let i = 0; i < 1000; i++) strings.string("bench-topic1");
const stringBytes = strings.finish().slice();

Deno.bench("Reader.int32 × 1000", { group: "primitives" }, () => {
  const r = new Reader(intBytes);
  let s = 0;
  for (let i = 0; i < 1000; i++) s += r.int32();
  if (s === 0.5) throw new Error("unreachable");
});
Deno.bench("Reader.varint × 1000", { group: "primitives" }, () => {
  const r = new Reader(varintBytes);
  let s = 0;
  for (let i = 0; i < 1000; i++) s += r.varint();
  if (s === 0.5) throw new Error("unreachable");
});
Deno.bench("Reader.string (12 ASCII chars) × 1000", { group: "primitives" }, () => {
  const r = new Reader(stringBytes);
  let s = 0;
  for (let i = 0; i < 1000; i++) s += r.string().length;
  if (s !== 12_000) throw new Error("bad strings");
});

// A Metadata v12 response of a 3-broker cluster with 20 topics × 12 partitions, RF 3.
const metadata: MetadataResponse = {
  throttleTimeMs: 0,
  brokers: [1, 2, 3].map((id) => ({
    nodeId: id,
    host: `broker-${id}.example`,
    port: 9092,
    rack: null,
  })),
  clusterId: "3jTBd_VfDAmwEpxqX5TBDA",
  controllerId: 1,
  topics: Array.from({ length: 20 }, (_, t) => ({
    errorCode: 0,
    name: `topic-${t}`,
    topicId: new Uint8Array(16).fill(t + 1),
    isInternal: false,
    partitions: Array.from({ length: 12 }, (_, p) => ({
      errorCode: 0,
      partitionIndex: p,
      leaderId: 1 + (p % 3),
      leaderEpoch: 7,
      replicaNodes: [1, 2, 3],
      isrNodes: [1, 2, 3],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: -2147483648,
  })),
  clusterAuthorizedOperations: -2147483648,
};
const mw = new Writer();
Metadata.encodeResponse(mw, metadata, 12);
const metadataBytes = mw.finish().slice();
const metadataSink = new Uint8Array(metadataBytes.length);

Deno.bench(`memcpy ${metadataBytes.length} B (baseline)`, {
  group: "metadata-decode",
  baseline: true,
}, () => {
  metadataSink.set(metadataBytes);
});
Deno.bench("Metadata v12 decode, 20 topics × 12 partitions", { group: "metadata-decode" }, () => {
  const m = Metadata.decodeResponse(new Reader(metadataBytes), 12);
  if (m.topics.length !== 20) throw new Error("bad decode");
});
