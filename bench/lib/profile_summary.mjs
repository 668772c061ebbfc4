/**
 * Summarises a V8/JSC `.cpuprofile` (from `deno run --cpu-prof` or `bun --cpu-prof`): self time
 * per function, as shares of all samples. Plain JavaScript so the report generator (on Node)
 * loads it.
 *
 * @module
 */

import fs from "node:fs";

/**
 * @param {string} file Path of a .cpuprofile.
 * @param {number} top How many functions to keep.
 * @returns {{ fn: string, where: string, percent: number }[]} Heaviest first.
 */
export function summariseProfile(file, top = 15) {
  const p = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const dt = p.timeDeltas?.[i] ?? 1;
    total += dt;
    const cf = node.callFrame;
    const where = cf.url ? `${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}` : "";
    const key = `${cf.functionName || "(anonymous)"}\u0000${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([key, t]) => {
      const [fn, where] = key.split("\u0000");
      return { fn, where, percent: Math.round((1000 * t) / total) / 10 };
    });
}
