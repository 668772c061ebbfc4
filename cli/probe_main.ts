/**
 * The probe's command-line behaviour, runtime-neutral: parse arguments and environment, print
 * help or usage errors, run the probe with progress output, print the report, and return the
 * exit code. The entry point (`probe.ts`) only supplies the runtime's pieces.
 *
 * @module
 */

import type { Clock } from "../transport/clock.ts";
import type { Connector, ListenFn } from "../transport/conn.ts";
import { ExitCode } from "./hints.ts";
import { parseProperties, propertiesToArgs, splitConfigArgs } from "./kafka_properties.ts";
import { probeHelp } from "./probe_help.ts";
import { parseProbeOptions, type ProbeOptions, UsageError } from "./probe_options.ts";
import { renderEvent, renderJson, renderReport } from "./probe_render.ts";
import { type ProbeReport, runProbe } from "./probe_run.ts";

/** What the command line needs from the runtime it runs on. */
export interface ProbeIo {
  /** The runtime's connector. */
  connector: Connector;
  /** The runtime's listen function, for the embedded broker; in-memory when omitted. */
  listen?: ListenFn;
  /**
   * Reads a text file.
   *
   * @param path The file.
   * @returns Its contents.
   */
  readTextFile(path: string): Promise<string>;
  /** Time source; the system clock by default. */
  clock?: Clock;
  /** The runtime's resolver (`denoResolve`, `bunResolve`), for the cluster view. */
  resolve?: (host: string) => Promise<string[]>;
  /** How to run the probe here, for `--help` (e.g. "deno run -A cli/probe.ts"). */
  command: string;
  /**
   * Writes one line of the report to standard output.
   *
   * @param line The line, without newline.
   */
  stdout(line: string): void;
  /**
   * Writes one line of diagnostics (warnings, usage errors) to standard error.
   *
   * @param line The line, without newline.
   */
  stderr(line: string): void;
}

/** What {@link probeMain} returns. */
export interface ProbeOutcome {
  /** The exit code for the process. */
  exitCode: ExitCode;
  /** The probe's report, or `null` for `--help` and usage errors. */
  report: ProbeReport | null;
}

/**
 * Expands `--config FILE` and `-X key=value` into ordinary arguments: the file's settings first,
 * then the overrides, then the command line's own flags, so that later ones win.
 */
async function withConfig(args: readonly string[], io: ProbeIo): Promise<string[]> {
  const { configFile, overrides, rest } = splitConfigArgs(args);
  let fromFile: string[] = [];
  if (configFile !== null) {
    let text: string;
    try {
      text = await io.readTextFile(configFile);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new UsageError(`Cannot read --config file "${configFile}": ${detail}`, {
        cause: error,
      });
    }
    fromFile = propertiesToArgs(parseProperties(text, configFile));
  }
  return [...fromFile, ...propertiesToArgs(overrides), ...rest];
}

/**
 * Runs the probe command line.
 *
 * @param args The arguments after the script name.
 * @param env The environment variables.
 * @param io The runtime's connector, listen function, file reader and output.
 * @returns The exit code, and the report when a probe ran.
 */
export async function probeMain(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: ProbeIo,
): Promise<ProbeOutcome> {
  let options: ProbeOptions;
  try {
    options = parseProbeOptions(await withConfig(args, io), env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`probe: ${error.message}`);
    io.stderr(`Run "${io.command} --help" for the options.`);
    return { exitCode: ExitCode.USAGE, report: null };
  }
  if (options.help) {
    io.stdout(probeHelp(io.command));
    return { exitCode: ExitCode.OK, report: null };
  }
  const json = options.json;
  const report = await runProbe(options, {
    connector: io.connector,
    listen: io.listen,
    readTextFile: io.readTextFile,
    clock: io.clock,
    resolve: io.resolve,
    onEvent: (event) => {
      // In JSON mode stdout carries the document alone; warnings still reach the person.
      if (!json) io.stdout(renderEvent(event));
      else if (event.type === "notice" && event.notice.level === "warning") {
        io.stderr(renderEvent(event));
      }
    },
  });
  io.stdout(json ? renderJson(report) : renderReport(report));
  return { exitCode: report.exitCode, report };
}
