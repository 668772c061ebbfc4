import assert from "node:assert/strict";
import { probeMain } from "../../cli/probe_main.ts";
import { MockCluster } from "../../testing/mock_cluster.ts";
import { test } from "../harness.ts";

/** Resolves like DNS would: names under .invalid (RFC 6761) never resolve. */
function resolve(host: string): Promise<string[]> {
  return host.endsWith(".invalid")
    ? Promise.reject(new Error(`${host}: Name or service not known`))
    : Promise.resolve([host]);
}

async function probe(mock: MockCluster, ...extra: string[]) {
  const out: string[] = [];
  const outcome = await probeMain(
    ["--bootstrap", mock.nodes[0].bootstrap, "--count", "1", "--timeout-ms", "500", ...extra],
    {},
    {
      connector: mock.connector,
      resolve,
      readTextFile: () => Promise.reject(new Error("no files")),
      command: "probe",
      stdout: (line) => out.push(line),
      stderr: (line) => out.push(line),
    },
  );
  return { ...outcome, stdout: out.join("\n") };
}

test("probe cluster view: every broker with its advertised address, reachability and RTT", async () => {
  await using mock = await MockCluster.start({ nodes: 3 });
  const r = await probe(mock);
  assert.equal(r.exitCode, 0, r.stdout);
  assert.match(r.stdout, /Cluster view: mock-cluster, controller 1, every broker dialled/);
  for (const id of [1, 2, 3]) {
    assert.match(r.stdout, new RegExp(`\\n  ${id}[ (a-z)]* +mock-broker-${id}:9092 +- +yes `));
  }
  assert.deepEqual(r.report?.clusterView?.brokers.map((b) => b.reachable), [true, true, true]);
  assert.ok(r.report!.clusterView!.brokers.every((b) => b.rttMs !== null && b.upMs !== null));
});

test("probe cluster view: an advertised listener that does not resolve gets the hint and exit 8", async () => {
  await using mock = await MockCluster.start({ nodes: 3 });
  mock.advertise(2, { host: "kafka-2.internal.invalid", port: 9092 });
  const r = await probe(mock);
  assert.equal(r.exitCode, 8, r.stdout);
  assert.match(r.stdout, /\n {2}2 +kafka-2\.internal\.invalid:9092 +- +NO /);
  assert.match(
    r.stdout,
    /Hint: broker 2 advertises kafka-2\.internal\.invalid:9092, which does not resolve from here: check advertised\.listeners, or map it with --map-address/,
  );
  assert.match(r.stdout, /PARTLY: .* 1 broker it lists cannot be reached from here/);
  assert.match(r.stdout, /Exit code 8 \(advertised listener unreachable\)/);
  // Mapped to where it really listens, the same cluster is fine.
  const mapped = await probe(
    mock,
    "--map-address",
    "kafka-2.internal.invalid:9092=mock-broker-2:9092",
  );
  assert.equal(mapped.exitCode, 0, mapped.stdout);
  assert.match(mapped.stdout, /kafka-2\.internal\.invalid:9092 -> mock-broker-2:9092 +- +yes/);
});

test("--map-address must be ADVERTISED=DIAL", async () => {
  await using mock = await MockCluster.start({ nodes: 1 });
  const r = await probe(mock, "--map-address", "a:1");
  assert.equal(r.exitCode, 2);
  assert.match(r.stdout, /--map-address "a:1" is not ADVERTISED=DIAL/);
});
