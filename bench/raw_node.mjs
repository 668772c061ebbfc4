// Raw-socket ceiling on Node: node:net plus the shared raw pipeline.
// Usage: node bench/raw_node.mjs --port P --inflight N --seconds S [--frame-bytes B]
import net from "node:net";
import { parseArgs } from "./lib/latency.mjs";
import { rawPipeline } from "./lib/raw_pipeline.mjs";

const a = parseArgs(process.argv.slice(2));
const socket = net.connect({ host: "127.0.0.1", port: Number(a.port), noDelay: true });
await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
const p = rawPipeline({
  inflight: Number(a.inflight),
  seconds: Number(a.seconds),
  frameBytes: Number(a["frame-bytes"] ?? 0),
  write: (bytes) => socket.write(bytes),
});
socket.on("data", p.onData);
p.start();
const result = await p.done;
socket.destroy();
console.log(
  JSON.stringify({ client: "raw", runtime: "node", inflight: Number(a.inflight), ...result }),
);
