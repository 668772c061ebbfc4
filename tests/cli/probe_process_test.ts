import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime, test } from "../harness.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Runs cli/probe.ts with this very runtime's executable, as a user would. */
function runCli(args: string[]): SpawnSyncReturns<string> {
  const prefix = runtime === "deno" ? ["run", "-A", "cli/probe.ts"] : ["cli/probe.ts"];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1" };
  // The embedded broker must be used: no bootstrap may leak in from the developer's shell.
  for (const name of Object.keys(env)) if (name.startsWith("KAFKA_")) delete env[name];
  return spawnSync(process.execPath, [...prefix, ...args], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
}

test(`the probe CLI on ${runtime} probes its embedded broker over real loopback: --json --count 5`, () => {
  const r = runCli(["--json", "--count", "5"]);
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.status, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.ok, true);
  assert.equal(doc.embedded, true);
  assert.match(doc.target, /^127\.0\.0\.1:\d+$/, "a real loopback port, not the in-memory name");
  assert.equal(doc.latency.count, 5);
  assert.equal(doc.states.at(-1).state, "UP");
  assert.ok(doc.apis.some((a: { name: string; version: number }) => a.name === "Metadata"));
});

test(`the probe CLI on ${runtime} exits 2 on a bad option and 0 on --help`, () => {
  const bad = runCli(["--bogus"]);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /Unknown option --bogus/);
  const help = runCli(["--help"]);
  assert.equal(help.status, 0, help.stderr);
  const command = { deno: "deno run -A", bun: "bun", node: "node" }[runtime];
  assert.match(help.stdout, new RegExp(`Usage: ${command} cli`));
});
