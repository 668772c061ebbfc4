/**
 * kafkajs (npm, run on Node) against the embedded cluster on real loopback sockets: admin
 * CreateTopics, Metadata, ListOffsets and DeleteTopics, the producer, and a read without groups
 * through kafkajs's own Fetch. kafkajs's consumer always joins a consumer group, which the
 * cluster does not serve: the test checks that it fails at once with kafkajs's
 * group-coordinator error rather than hanging.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runtime, test } from "../harness.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { MockCluster } from "../../testing/mod.ts";
import { available, interopRequired, run } from "./run.ts";

const { listen } = adapter;
const script = fileURLToPath(new URL("./kafkajs_client.cjs", import.meta.url));
const PER_PARTITION = 50;

interface Seen {
  created: boolean;
  partitions: { id: number; leader: number }[];
  offsets: { partition: number; high: string; low: string }[];
  read: { partition: number; offset: string; key: string; value: string; header: string }[];
  consumerError: string | null;
  topicsAfterDelete: string[];
}

if (available("node", "--version")) {
  test(
    `[${runtime}] kafkajs on Node: admin, producer and a groupless fetch against the embedded cluster`,
    async () => {
      await using cluster = await MockCluster.start({ listen });
      const r = await run(
        "node",
        [script, cluster.bootstrap, "kafkajs-t", String(PER_PARTITION)],
        "",
        60_000,
      );
      assert.equal(r.code, 0, r.stderr);
      const seen: Seen = JSON.parse(r.stdout);
      assert.equal(seen.created, true);
      assert.deepEqual(seen.partitions.map((p) => p.leader).sort(), [1, 2, 3]);
      assert.deepEqual(
        seen.offsets.map((o) => [o.partition, o.low, o.high]).sort(),
        [[0, "0", "50"], [1, "0", "50"], [2, "0", "50"]],
      );
      assert.equal(seen.read.length, 3 * PER_PARTITION);
      for (const m of seen.read) {
        const i = Number(m.offset);
        assert.deepEqual([m.key, m.value, m.header], [`k${i}`, `p${m.partition}-v${i}`, `${i}`]);
      }
      assert.match(seen.consumerError ?? "", /KafkaJSGroupCoordinatorNotFound|coordinator/i);
      assert.deepEqual(seen.topicsAfterDelete, []);
      assert.ok(cluster.node(1).requests.some((r) => r.apiKey === 0), "kafkajs produced");
    },
    { timeoutMs: 90_000 },
  );
} else if (interopRequired) {
  test("node is installed (INTEROP_REQUIRED=1)", () => assert.fail("node is not on PATH"));
} else {
  console.error("SKIPPED interop: node is not on PATH");
}
