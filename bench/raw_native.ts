/**
 * Raw-socket ceiling on Deno (`Deno.connect`) or Bun (`Bun.connect`): the runtime's own socket
 * API driving the shared raw pipeline, with no framing library in between.
 *
 * Usage: `deno run -A bench/raw_native.ts --port P --inflight N --seconds S [--frame-bytes B]`
 * or the same with `bun`.
 *
 * @module
 */

import { parseArgs } from "./lib/latency.mjs";
import { rawPipeline } from "./lib/raw_pipeline.mjs";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const args: string[] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const a = parseArgs(args);
const inflight = Number(a.inflight);
const seconds = Number(a.seconds);
const frameBytes = Number(a["frame-bytes"] ?? 0);
const port = Number(a.port);

let result;
if (g.Bun) {
  let pending: Uint8Array[] = [];
  const flush = () => {
    while (pending.length > 0) {
      const chunk = pending[0];
      const n = sock.write(chunk);
      if (n === chunk.length) pending.shift();
      else {
        pending[0] = chunk.subarray(Math.max(n, 0));
        return;
      }
    }
  };
  const sock = await g.Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s: unknown, chunk: Uint8Array) => pipe.onData(chunk),
      drain: () => flush(),
    },
  });
  sock.setNoDelay(true);
  const pipe = rawPipeline({
    inflight,
    seconds,
    frameBytes,
    write: (bytes: Uint8Array) => {
      if (pending.length > 0) pending.push(bytes.slice());
      else {
        const n = sock.write(bytes);
        if (n < bytes.length) pending = [bytes.slice(Math.max(n, 0))];
      }
    },
  });
  pipe.start();
  result = await pipe.done;
  sock.end();
} else {
  const conn = await g.Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let writing: Promise<void> = Promise.resolve();
  const writeAll = async (bytes: Uint8Array) => {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  };
  const pipe = rawPipeline({
    inflight,
    seconds,
    frameBytes,
    // Writes are chained so they stay in order; the batch buffer is reused, so copy it when a
    // previous write is still in progress.
    write: (bytes: Uint8Array) => {
      const copy = bytes.slice();
      writing = writing.then(() => writeAll(copy));
    },
  });
  // The pipeline finishes inside onData, so the loop checks after each chunk instead of
  // waiting on a read that would never complete.
  let finished = false;
  pipe.done.then(() => (finished = true));
  pipe.start();
  const buf = new Uint8Array(1 << 18);
  while (!finished) {
    const n = await conn.read(buf);
    if (n === null) break;
    pipe.onData(buf.subarray(0, n));
    await Promise.resolve();
  }
  result = await pipe.done;
  conn.close();
}
const runtime = g.Bun ? "bun" : "deno";
console.log(JSON.stringify({ client: "raw", runtime, inflight, ...result }));
