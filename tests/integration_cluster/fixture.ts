/**
 * How the cluster suite finds the real three-node cluster started by
 * `scripts/kafka/cluster.sh start`: it reads the `endpoints.json` the script writes, and runs
 * the script to kill, stop and restart nodes without blocking the event loop (so clients keep
 * running their timers meanwhile). Without a cluster a test file registers nothing and says why,
 * or, under `KAFKA_CLUSTER_REQUIRED=1`, registers one failing test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime, test, type TestFn } from "../harness.ts";

/** One node of the cluster. */
export interface ClusterNode {
  /** Node id (1..3). */
  nodeId: number;
  /** Loopback address. */
  host: string;
  /** PLAINTEXT port. */
  port: number;
  /** MISMATCH listener port. */
  mismatchPort: number;
  /** The node's broker log. */
  log: string;
}

/** The running cluster. */
export interface ClusterEnv {
  /** Kafka version. */
  kafkaVersion: string;
  /** Cluster id. */
  clusterId: string;
  /** Bootstrap list of the PLAINTEXT listeners. */
  bootstrap: string;
  /** Bootstrap of node 1's MISMATCH listener, where node 3 advertises an unresolvable host. */
  mismatchBootstrap: string;
  /** The node that advertises it. */
  unresolvableNode: number;
  /** The host it advertises. */
  unresolvableHost: string;
  /** The nodes. */
  nodes: ClusterNode[];
}

const script = fileURLToPath(new URL("../../scripts/kafka/cluster.sh", import.meta.url));

function endpointsPath(): string {
  const dir = process.env.KAFKA_CACHE_DIR
    ? resolve(process.env.KAFKA_CACHE_DIR)
    : fileURLToPath(new URL("../../.cache/kafka", import.meta.url));
  return `${dir}/cluster/endpoints.json`;
}

/**
 * Reads the cluster's endpoints.
 *
 * @returns The cluster, or `{ skipReason }`.
 */
export function loadCluster(): ClusterEnv | { skipReason: string } {
  const path = endpointsPath();
  try {
    const file = JSON.parse(readFileSync(path, "utf8"));
    if (file.version !== 1 || !Array.isArray(file.nodes)) {
      return { skipReason: `${path} is not a cluster endpoints file this suite understands` };
    }
    return file as ClusterEnv;
  } catch (error) {
    return {
      skipReason: `no 3-node cluster: cannot read ${path} (${
        (error as Error).message
      }); start one with \`bash scripts/kafka/cluster.sh start\``,
    };
  }
}

/**
 * Registers a file's tests when the cluster runs (see the module doc otherwise).
 *
 * @param register Registers the tests.
 */
export function withCluster(register: (env: ClusterEnv) => void): void {
  const env = loadCluster();
  if (!("skipReason" in env)) register(env);
  else if (process.env.KAFKA_CLUSTER_REQUIRED === "1") {
    test("real 3-node Kafka cluster is running (KAFKA_CLUSTER_REQUIRED=1)", () => {
      assert.fail(`cluster suite did not run: ${env.skipReason}`);
    });
  } else console.error(`SKIPPED cluster integration: ${env.skipReason}`);
}

/**
 * Registers a test named with the runtime.
 *
 * @param name What it checks.
 * @param fn The body.
 * @param timeoutMs Bun's limit (Deno relies on the bounded waits inside).
 */
export function clusterTest(name: string, fn: TestFn, timeoutMs = 600_000): void {
  test(`[${runtime}] real cluster: ${name}`, fn, { timeoutMs });
}

/**
 * Runs `cluster.sh` with arguments, without blocking the event loop.
 *
 * @param args E.g. `["kill", "2"]`.
 * @returns Resolves when the script succeeded; rejects with its output otherwise.
 */
export function clusterScript(...args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    execFile(
      "bash",
      [script, ...args],
      { encoding: "utf8", timeout: 400_000 },
      (error, out, err) => {
        if (error) {
          fail(new Error(`cluster.sh ${args.join(" ")} failed: ${error.message}\n${err}${out}`));
        } else done();
      },
    );
  });
}
