/**
 * The broker probe command line: connects to a Kafka broker and shows, as it happens, each
 * state the connection passes through with its timing, then the broker's API table and
 * round-trip latency (and with `--produce-check TOPIC` a timed produce + fetch), or the typed
 * error with a hint. Without `--bootstrap` it probes the embedded 3-node test cluster, started
 * in-process on loopback ports, and runs the produce + fetch round trip on a scratch topic.
 *
 * Run it with `deno run -A cli/probe.ts [options]`, `bun cli/probe.ts [options]` or
 * `node cli/probe.ts [options]` (Node 24.2 or later: it runs the TypeScript and knows
 * `import.meta.main`); `--help` lists the
 * options, environment variables and exit codes. This file only supplies the
 * runtime's pieces (arguments, environment, socket adapter, files, exit code); the probe
 * itself is runtime-neutral and can be driven from code through {@link probeMain} or
 * {@link runProbe}.
 *
 * @example
 * ```ts ignore
 * import { probeMain } from "@kafka-wire/transport/probe";
 * import { denoConnector, denoListen } from "@kafka-wire/transport/deno";
 *
 * const { exitCode, report } = await probeMain(["--bootstrap", "localhost:9092", "--count", "10"], {}, {
 *   connector: denoConnector,
 *   listen: denoListen,
 *   readTextFile: (path) => Deno.readTextFile(path),
 *   command: "probe",
 *   stdout: (line) => console.log(line),
 *   stderr: (line) => console.error(line),
 * });
 * console.log(exitCode, report?.latency);
 * ```
 *
 * @module
 */

import { type ProbeIo, probeMain } from "./probe_main.ts";

export { type ProbeIo, probeMain, type ProbeOutcome } from "./probe_main.ts";
export {
  type ClusterInfo,
  type LatencySummary,
  type ProbeDeps,
  type ProbeEvent,
  type ProbeFailure,
  type ProbeNotice,
  type ProbeReport,
  runProbe,
  type SetupPhases,
  type StateRecord,
} from "./probe_run.ts";
export {
  parseProbeOptions,
  type ProbeOptions,
  RTT_APIS,
  type RttApiName,
  SASL_MECHANISMS,
  type SaslMechanismName,
  UsageError,
} from "./probe_options.ts";
export {
  ExitCode,
  explainFailure,
  type FailureContext,
  type FailureHint,
  type FailureKind,
} from "./hints.ts";
export type { ApiRow } from "./api_table.ts";
export type { ProduceCheck } from "./produce_check.ts";
export type { BrokerReach, ClusterView, ClusterViewDeps } from "./probe_cluster.ts";

/** The `process` global of Bun and Node, as far as the entry point uses it. */
interface ProcessGlobal {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode: number | undefined;
}

/** Bun's globals the entry point uses, typed structurally (no Bun type package needed). */
interface BunGlobals {
  Bun: { file(path: string): { text(): Promise<string> } };
  process: ProcessGlobal;
}

/** What tells the runtimes apart: Deno and Bun also define `process`. */
interface RuntimeGlobals {
  Bun?: unknown;
  Deno?: unknown;
  process?: ProcessGlobal;
}

/** What the entry point takes from the runtime it runs on. */
interface Host {
  args: string[];
  env: Record<string, string | undefined>;
  io: ProbeIo;
  setExitCode(code: number): void;
}

const print = (line: string): void => console.log(line);
const printError = (line: string): void => console.error(line);

async function hostRuntime(): Promise<Host> {
  const g = globalThis as unknown as RuntimeGlobals;
  if (g.Deno === undefined && g.Bun === undefined && g.process !== undefined) {
    const process = g.process;
    const [{ nodeConnector, nodeListen, nodeResolve }, { readFile }] = await Promise.all([
      import("../transport/node.ts"),
      import("node:fs/promises"),
    ]);
    return {
      args: process.argv.slice(2),
      env: process.env,
      io: {
        connector: nodeConnector,
        resolve: nodeResolve,
        listen: nodeListen,
        readTextFile: (path) => readFile(path, "utf8"),
        command: "node cli/probe.ts",
        stdout: print,
        stderr: printError,
      },
      setExitCode: (code) => {
        process.exitCode = code;
      },
    };
  }
  if (g.Bun !== undefined && g.process !== undefined) {
    const { Bun, process } = g as BunGlobals;
    const { bunConnector, bunListen, bunResolve } = await import("../transport/bun.ts");
    return {
      args: process.argv.slice(2),
      env: process.env,
      io: {
        connector: bunConnector,
        resolve: bunResolve,
        listen: bunListen,
        readTextFile: (path) => Bun.file(path).text(),
        command: "bun cli/probe.ts",
        stdout: print,
        stderr: printError,
      },
      setExitCode: (code) => {
        process.exitCode = code;
      },
    };
  }
  const { denoConnector, denoListen, denoResolve } = await import("../transport/deno.ts");
  return {
    args: Deno.args,
    env: Deno.env.toObject(),
    io: {
      connector: denoConnector,
      resolve: denoResolve,
      listen: denoListen,
      readTextFile: (path) => Deno.readTextFile(path),
      command: "deno run -A cli/probe.ts",
      stdout: print,
      stderr: printError,
    },
    setExitCode: (code) => {
      Deno.exitCode = code;
    },
  };
}

/**
 * Runs the probe on the current runtime (Deno, Bun or Node) with the process's arguments and
 * environment, and sets the process exit code.
 *
 * @returns The exit code.
 */
export async function main(): Promise<number> {
  const host = await hostRuntime();
  const { exitCode } = await probeMain(host.args, host.env, host.io);
  host.setExitCode(exitCode);
  return exitCode;
}

if (import.meta.main) await main();
