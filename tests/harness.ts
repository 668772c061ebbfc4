/**
 * One `test()` for both runtimes: registers with `Deno.test` (sanitizers on) under Deno and
 * with `bun:test` under Bun, so every test file runs unchanged on both.
 *
 * @module
 */

/** A test body; may be async. */
export type TestFn = () => void | Promise<void>;

/** Options for a single test. */
export interface TestOptions {
  /** Per-test timeout in milliseconds (Bun only; Deno has none and relies on bounded loops). */
  timeoutMs?: number;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The name of the runtime running the tests, for messages and runtime-specific fixtures. */
export const runtime: "deno" | "bun" = g.Bun ? "bun" : "deno";

type Register = (name: string, fn: TestFn, options: TestOptions) => void;

async function loadRegister(): Promise<Register> {
  if (runtime === "deno") {
    return (name, fn) => g.Deno.test({ name, fn });
  }
  // A non-literal specifier keeps Deno's type checker from resolving the Bun-only module.
  const specifier = ["bun", "test"].join(":");
  const bunTest = await import(specifier);
  return (name, fn, options) => bunTest.test(name, fn, options.timeoutMs ?? 30_000);
}

const register = await loadRegister();

/**
 * Registers a test with the runtime's test runner.
 *
 * @param name What the test shows, e.g. "FrameDecoder handles 1-byte chunks".
 * @param fn The test body.
 * @param options Per-test options.
 */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  register(name, fn, options);
}
