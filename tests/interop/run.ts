/**
 * Runs a program written by someone else (kcat, Node with kafkajs) without blocking the event
 * loop, so the embedded cluster in this process keeps answering it.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import process from "node:process";

/** What a finished program left. */
export interface RunResult {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/**
 * Runs a program to the end, killing it after `timeoutMs`.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param input Written to its stdin, which is then closed.
 * @param timeoutMs How long it may run.
 * @returns Its exit code and output.
 */
export function run(
  command: string,
  args: string[],
  input = "",
  timeoutMs = 30_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/**
 * Whether a program can be started (`<command> <probeArg>` exits).
 *
 * @param command The executable.
 * @param probeArg An argument that makes it print its version and exit.
 * @returns `true` when it ran.
 */
export function available(command: string, probeArg: string): boolean {
  const r = spawnSync(command, [probeArg], { encoding: "utf8", timeout: 10_000 });
  return r.error === undefined;
}

/**
 * Whether CI asked for the interop suite (`INTEROP_REQUIRED=1`): then a missing peer program
 * is a failing test, not a skip.
 */
export const interopRequired: boolean = process.env.INTEROP_REQUIRED === "1";
