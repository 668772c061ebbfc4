/**
 * Latency samples for the benchmarks, in microseconds, kept in one growing Float64Array so that
 * recording costs no allocation per request. Plain JavaScript so that Node, Deno and Bun load
 * the same file.
 *
 * @module
 */

/** Collects latency samples and summarises them. */
export class LatencyRecorder {
  #samples = new Float64Array(1 << 16);
  #count = 0;

  /**
   * Adds one sample.
   *
   * @param {number} micros The latency in microseconds.
   */
  record(micros) {
    if (this.#count === this.#samples.length) {
      const next = new Float64Array(this.#samples.length * 2);
      next.set(this.#samples);
      this.#samples = next;
    }
    this.#samples[this.#count++] = micros;
  }

  /** @returns {number} How many samples were recorded. */
  get count() {
    return this.#count;
  }

  /**
   * @returns {{ p50Us: number, p99Us: number, maxUs: number }} Percentiles of the samples.
   */
  summary() {
    const s = this.#samples.subarray(0, this.#count).sort();
    const at = (q) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]);
    return { p50Us: round(at(0.5)), p99Us: round(at(0.99)), maxUs: round(at(1)) };
  }
}

/**
 * @param {number} x
 * @returns {number} x with one decimal.
 */
export function round(x) {
  return Math.round(x * 10) / 10;
}

/**
 * Parses `--name value` pairs.
 *
 * @param {string[]} argv The arguments.
 * @returns {Record<string, string>} Options by name.
 */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  return out;
}

/** The clock reading shared by every loop resumed in one microtask run; -1 once stale. */
let turnReading = -1;
const forgetReading = () => {
  turnReading = -1;
};

/**
 * `performance.now()` read once per run of microtasks: the loops resumed by one chunk of
 * replies share it, as the raw pipeline's one reading per chunk. Two readings per request
 * were a fifth of the CPU time of a fast client on Deno (where it is an op), charged to it.
 *
 * @returns {number} The shared reading, in milliseconds.
 */
function turnNow() {
  if (turnReading < 0) {
    turnReading = performance.now();
    queueMicrotask(forgetReading);
  }
  return turnReading;
}

/**
 * Runs `inflight` concurrent loops that each await `send()` back to back for `seconds`, after a
 * warm-up, and reports throughput, latency and the process's CPU time (user + system, all
 * threads) during the measured part. Used for clients with a promise per request. Times are
 * read once per run of microtasks ({@link turnNow}), for every client alike.
 *
 * @param {{ send: () => Promise<unknown>, inflight: number, seconds: number, warmupSeconds?: number }} o
 * @returns {Promise<{ requests: number, seconds: number, reqPerSec: number, p50Us: number, p99Us: number, maxUs: number, cpuUs: number }>}
 */
export async function closedLoop({ send, inflight, seconds, warmupSeconds = 1 }) {
  const warmEnd = performance.now() + warmupSeconds * 1000;
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (turnNow() < warmEnd) await send();
  }));
  const rec = new LatencyRecorder();
  const cpu = globalThis.process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: inflight }, async () => {
    for (;;) {
      const t0 = turnNow();
      if (t0 >= end) return;
      await send();
      rec.record((turnNow() - t0) * 1000);
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  const used = globalThis.process.cpuUsage(cpu);
  return {
    requests: rec.count,
    seconds: round(elapsed),
    reqPerSec: Math.round(rec.count / elapsed),
    ...rec.summary(),
    cpuUs: used.user + used.system,
  };
}
