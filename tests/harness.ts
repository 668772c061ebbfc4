/**
 * One `test()` for every runtime: registers with `Deno.test` (sanitizers on) under Deno, with
 * `bun:test` under Bun and with `node:test` under Node, so every test file runs unchanged on all
 * three.
 *
 * Every test is bounded: the harness races the body against a timer ({@link DEFAULT_TIMEOUT_MS}
 * unless the test asks for more) and fails it with a {@link TestTimeoutError} naming the test.
 * The timer is cleared when the body ends, so Deno's sanitizers see nothing left behind. Bun's
 * and Node's own per-test limits are set a little longer, as a backstop.
 *
 * When `KW_TEST_EVENTS` names a file, the harness appends one tab-separated line per event to
 * it: `start` and `end` around every test, and `skip` with the suite and the reason for every
 * skipped registration. `scripts/test.sh` reads it to name the test that was running when a
 * whole run hung and to name the skipped suites in its closing lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { test } from "./harness.ts";
 *
 * test("adds", () => assert.equal(1 + 1, 2));
 * test("a slow one", async () => {}, { timeoutMs: 60_000 });
 * ```
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import process from "node:process";

/** A test body; may be async. */
export type TestFn = () => void | Promise<void>;

/** Options for a single test. */
export interface TestOptions {
  /** How long the test may run before it fails, in milliseconds ({@link DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** A runtime the suite runs on. */
export type Runtime = "deno" | "bun" | "node";

/** How long a test may run unless it says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** How much longer than the harness's own bound the runner's limit is (Bun and Node). */
const RUNNER_BACKSTOP_MS = 5_000;

/** A test ran longer than its bound. */
export class TestTimeoutError extends Error {
  /**
   * @param testName The test that ran too long.
   * @param timeoutMs Its bound.
   */
  constructor(testName: string, timeoutMs: number) {
    super(
      `test "${testName}" did not finish within ${timeoutMs} ms; if it needs longer, pass ` +
        "{ timeoutMs } to test()",
    );
    this.name = "TestTimeoutError";
  }
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The name of the runtime running the tests, for messages and runtime-specific fixtures. */
export const runtime: Runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";

/**
 * The events file the runner asked for, if any. A Deno run without `--allow-env` cannot read the
 * variable; it then writes no events, as tests that need no permissions may run that way.
 *
 * @returns The path, or `undefined`.
 */
function eventsFileFromEnv(): string | undefined {
  try {
    return process.env.KW_TEST_EVENTS || undefined;
  } catch {
    return undefined;
  }
}

const eventsFile = eventsFileFromEnv();

/**
 * Appends one line to the `KW_TEST_EVENTS` file, when there is one. Synchronous, so that the
 * line is there even if the process is killed right after.
 *
 * @param fields The event's fields.
 */
function record(...fields: string[]): void {
  if (!eventsFile) return;
  appendFileSync(eventsFile, fields.map((f) => f.replace(/[\t\r\n]+/g, " ")).join("\t") + "\n");
}

/**
 * Runs `fn`, failing with a {@link TestTimeoutError} when it has not finished after
 * `timeoutMs`; the timer is always cleared.
 *
 * @param name The test's name, for the error.
 * @param fn The body.
 * @param timeoutMs The bound.
 */
async function bounded(name: string, fn: TestFn, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestTimeoutError(name, timeoutMs)), timeoutMs);
  });
  record("start", runtime, name);
  try {
    await Promise.race([(async () => await fn())(), expired]);
  } finally {
    clearTimeout(timer);
    record("end", runtime, name);
  }
}

interface Registrar {
  /** Registers a test whose body is already bounded; `runnerMs` is the runner's own limit. */
  test(name: string, fn: () => Promise<void>, runnerMs: number): void;
  /** Registers a test the runner reports as skipped. */
  skip(name: string, reason: string): void;
}

async function loadRegistrar(): Promise<Registrar> {
  if (runtime === "deno") {
    return {
      test: (name, fn) => g.Deno.test({ name, fn }),
      skip: (name) => g.Deno.test({ name, ignore: true, fn() {} }),
    };
  }
  if (runtime === "bun") {
    // A non-literal specifier keeps Deno's type checker from resolving the Bun-only module.
    const specifier = ["bun", "test"].join(":");
    const bunTest = await import(specifier);
    return {
      test: (name, fn, runnerMs) => bunTest.test(name, fn, runnerMs),
      skip: (name) => bunTest.test.skip(name, () => {}),
    };
  }
  const nodeTest = await import("node:test");
  return {
    test: (name, fn, runnerMs) => nodeTest.test(name, { timeout: runnerMs }, fn),
    skip: (name, reason) => nodeTest.test(name, { skip: reason }, () => {}),
  };
}

const registrar = await loadRegistrar();

/**
 * Registers a test with the runtime's test runner, bounded by `options.timeoutMs`.
 *
 * @param name What the test shows, e.g. "FrameDecoder handles 1-byte chunks".
 * @param fn The test body.
 * @param options Per-test options.
 */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  registrar.test(name, () => bounded(name, fn, timeoutMs), timeoutMs + RUNNER_BACKSTOP_MS);
}

/**
 * Registers a test that does not run, so that the runner counts it as skipped and the run's
 * closing line says so; prints `SKIPPED <suite>: <reason>` on stderr.
 *
 * @param name What would have run.
 * @param suite The suite it belongs to, e.g. "integration", for the closing lines.
 * @param reason Why it does not run and how to make it run.
 */
export function skip(name: string, suite: string, reason: string): void {
  console.error(`SKIPPED ${suite}: ${reason}`);
  record("skip", runtime, suite, reason);
  registrar.skip(name, reason);
}
