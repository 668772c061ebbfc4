/**
 * Two `FrameDecoder` implementations side by side in one process: 1 MiB frames in 64 KiB and
 * 16 KiB chunks (the reassembly path: the frame spans many chunks and is copied out of them),
 * rounds alternating between the two so machine noise hits both alike. Used to check that a change
 * to the decoder does not slow reassembly down.
 *
 * Usage (the older version is put next to the current one, then removed):
 * `git show REV:framing/decoder.ts > framing/decoder_before.ts`, then
 * `deno run --allow-read bench/decoder_ab.ts ../framing/decoder_before.ts ../framing/decoder.ts` or
 * `bun bench/decoder_ab.ts ../framing/decoder_before.ts ../framing/decoder.ts`
 * (paths relative to bench/), then `rm framing/decoder_before.ts`.
 *
 * @module
 */

import type { FrameDecoder } from "../framing/decoder.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
if (args.length !== 2) throw new Error("usage: decoder_ab.ts BEFORE_MODULE AFTER_MODULE");

type Decoder = new () => FrameDecoder;
const variants: [string, Decoder][] = [];
for (const [label, path] of [["before", args[0]], ["after", args[1]]]) {
  const module = await import(new URL(path, import.meta.url).href);
  variants.push([`${label} (${path})`, module.FrameDecoder]);
}

const SIZE = 1 << 20;
const stream = new Uint8Array(4 + SIZE);
new DataView(stream.buffer).setInt32(0, SIZE);

/**
 * The stream cut like socket reads would cut it.
 *
 * @param size Chunk size.
 * @returns Views of the stream.
 */
function cut(size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += size) out.push(stream.subarray(at, at + size));
  return out;
}

/** Decodes the chunked frame once with a fresh decoder, as a new connection would. */
function once(D: Decoder, chunks: Uint8Array[]): void {
  const d = new D();
  let frames = 0;
  for (const c of chunks) {
    d.push(c);
    while (d.next() !== null) frames++;
  }
  if (frames !== 1) throw new Error("lost the frame");
}

const FRAMES_PER_ROUND = 2000;
const ROUNDS = 15;
const runtime = g.Bun ? `bun ${g.Bun.version}` : `deno ${g.Deno.version.deno}`;
const gbps = (us: number) => (SIZE / us / 1000).toFixed(2);
// 64 KiB: the first chunk holds over 1/32 of the frame; 16 KiB: it does not, so a decoder that
// grows its buffer regrows it once.
for (const chunkSize of [64 * 1024, 16 * 1024]) {
  const chunks = cut(chunkSize);
  const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  // Round 0 warms both up and is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, D] of round % 2 === 0 ? variants : [...variants].reverse()) {
      const t0 = performance.now();
      for (let i = 0; i < FRAMES_PER_ROUND; i++) once(D, chunks);
      if (round > 0) times.get(name)!.push((performance.now() - t0) * 1000 / FRAMES_PER_ROUND);
    }
  }
  // On a shared machine the fastest round is the least disturbed; the median shows the rest.
  console.log(
    `${runtime}: 1 MiB frame in ${chunkSize / 1024} KiB chunks, ${ROUNDS} rounds of ` +
      `${FRAMES_PER_ROUND}`,
  );
  const best: number[] = [];
  const medians: number[] = [];
  for (const [name, xs] of times) {
    xs.sort((a, b) => a - b);
    best.push(xs[0]);
    medians.push(xs[xs.length >> 1]);
    console.log(
      `  ${name}: best ${xs[0].toFixed(1)} µs/frame = ${gbps(xs[0])} GB/s, median ` +
        `${xs[xs.length >> 1].toFixed(1)} µs = ${gbps(xs[xs.length >> 1])} GB/s`,
    );
  }
  console.log(
    `  after's speed / before's: best ${(best[0] / best[1]).toFixed(2)}×, median ` +
      `${(medians[0] / medians[1]).toFixed(2)}×`,
  );
}
