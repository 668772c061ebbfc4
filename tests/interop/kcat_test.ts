/**
 * librdkafka (through Debian's kcat, librdkafka 2.0.2) against the embedded cluster on real
 * loopback sockets: metadata (-L), produce (-P) and consume (-C) without groups, plaintext and
 * with SASL PLAIN and SCRAM. The cluster runs in this test process, on Deno or Bun.
 */

import assert from "node:assert/strict";
import { runtime, test } from "../harness.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { MockCluster, type MockClusterOptions } from "../../testing/mod.ts";
import { available, interopRequired, run } from "./run.ts";

const { listen } = adapter;
const KCAT = "kcat";
const USERS = { alice: "alice-secret" };

function sasl(mechanism: string, password = "alice-secret"): string[] {
  return [
    "-X",
    "security.protocol=SASL_PLAINTEXT",
    "-X",
    `sasl.mechanisms=${mechanism}`,
    "-X",
    "sasl.username=alice",
    "-X",
    `sasl.password=${password}`,
  ];
}

interface KcatMessage {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

function kcatTests(): void {
  test(`[${runtime}] kcat -L reads the embedded cluster's metadata`, async () => {
    await using cluster = await MockCluster.start({
      listen,
      topics: [{ name: "orders", partitions: 4 }],
    });
    cluster.moveLeader("orders", 2, 1);
    const r = await run(KCAT, ["-b", cluster.bootstrap, "-L", "-J", "-m", "10"]);
    assert.equal(r.code, 0, r.stderr);
    const md = JSON.parse(r.stdout);
    assert.deepEqual(
      md.brokers.map((b: { id: number; name: string }) => [b.id, b.name]),
      cluster.nodes.map((n) => [n.nodeId, n.bootstrap]),
    );
    assert.equal(md.controllerid, 1);
    const orders = md.topics.find((t: { topic: string }) => t.topic === "orders");
    assert.deepEqual(
      orders.partitions.map((p: { partition: number; leader: number }) => [p.partition, p.leader]),
      [[0, 1], [1, 2], [2, 1], [3, 1]],
    );
    assert.deepEqual(orders.partitions[1].isrs.map((i: { id: number }) => i.id), [2, 3, 1]);
  }, { timeoutMs: 60_000 });

  test(
    `[${runtime}] kcat -P then -C: records produced by librdkafka come back, keys and headers too`,
    async () => {
      await using cluster = await MockCluster.start({
        listen,
        topics: [{ name: "t", partitions: 3 }],
      });
      const lines = Array.from({ length: 200 }, (_, i) => `k${i}:value-${i}`).join("\n") + "\n";
      const produced = await run(KCAT, [
        "-b",
        cluster.bootstrap,
        "-P",
        "-t",
        "t",
        "-p",
        "1",
        "-K",
        ":",
        "-H",
        "source=kcat",
      ], lines);
      assert.equal(produced.code, 0, produced.stderr);
      assert.equal(cluster.partition("t", 1).highWatermark, 200n);
      const stored = cluster.batches("t", 1).flatMap((b) => b.records);
      assert.equal(new TextDecoder().decode(stored[7].value!), "value-7");
      const consumed = await run(KCAT, [
        "-b",
        cluster.bootstrap,
        "-C",
        "-t",
        "t",
        "-p",
        "1",
        "-o",
        "beginning",
        "-e",
        "-J",
      ]);
      assert.equal(consumed.code, 0, consumed.stderr);
      const messages: KcatMessage[] = consumed.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(messages.length, 200);
      messages.forEach((m, i) => {
        assert.deepEqual([m.partition, m.offset, m.key, m.payload], [1, i, `k${i}`, `value-${i}`]);
        assert.deepEqual(m.headers, ["source", "kcat"]);
      });
    },
    { timeoutMs: 60_000 },
  );

  test(
    `[${runtime}] kcat produces compressed batches (gzip, snappy, lz4, zstd) and reads them back`,
    async () => {
      await using cluster = await MockCluster.start({
        listen,
        topics: [{ name: "z", partitions: 1 }],
      });
      const codecs = ["gzip", "snappy", "lz4", "zstd"];
      for (const codec of codecs) {
        const lines = Array.from({ length: 50 }, (_, i) => `${codec}-${i}`).join("\n") + "\n";
        const r = await run(KCAT, ["-b", cluster.bootstrap, "-P", "-t", "z", "-z", codec], lines);
        assert.equal(r.code, 0, r.stderr);
      }
      // Stored as produced, one batch per codec at least, offsets dense.
      const info = cluster.partition("z", 0);
      assert.equal(info.highWatermark, 200n);
      assert.ok(info.batches >= codecs.length, `${info.batches} batches`);
      const consumed = await run(KCAT, [
        "-b",
        cluster.bootstrap,
        "-C",
        "-t",
        "z",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o %s\n",
      ]);
      assert.equal(consumed.code, 0, consumed.stderr);
      const expected = codecs.flatMap((c) => Array.from({ length: 50 }, (_, i) => `${c}-${i}`));
      assert.equal(consumed.stdout, expected.map((v, i) => `${i} ${v}\n`).join(""));
    },
    { timeoutMs: 60_000 },
  );

  for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
    test(
      `[${runtime}] kcat with SASL ${mechanism} produces and consumes; a wrong password is refused`,
      async () => {
        const options: MockClusterOptions = {
          listen,
          nodes: 2,
          topics: [{ name: "s", partitions: 1 }],
          // librdkafka 2.0.2 repeats its client nonce: accepted as Kafka 3.x did.
          sasl: { mechanisms: [mechanism], users: USERS, scramNonceCheck: "suffix" },
        };
        await using cluster = await MockCluster.start(options);
        const b = cluster.bootstrap;
        const produced = await run(
          KCAT,
          ["-b", b, ...sasl(mechanism), "-P", "-t", "s"],
          "one\ntwo\n",
        );
        assert.equal(produced.code, 0, produced.stderr);
        const consumed = await run(KCAT, [
          "-b",
          b,
          ...sasl(mechanism),
          "-C",
          "-t",
          "s",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o=%s\n",
        ]);
        assert.equal(consumed.code, 0, consumed.stderr);
        assert.equal(consumed.stdout, "0=one\n1=two\n");
        const refused = await run(KCAT, ["-b", b, ...sasl(mechanism, "wrong"), "-L", "-m", "3"]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /Authentication failed/);
      },
      { timeoutMs: 60_000 },
    );
  }

  test(
    `[${runtime}] kcat SCRAM is refused under the default exact nonce check, as Kafka 4.x refuses it`,
    async () => {
      await using cluster = await MockCluster.start({
        listen,
        nodes: 1,
        sasl: { mechanisms: ["SCRAM-SHA-256"], users: USERS },
      });
      const r = await run(KCAT, [
        "-b",
        cluster.bootstrap,
        ...sasl("SCRAM-SHA-256"),
        "-L",
        "-m",
        "3",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /nonce does not match: it repeats the client nonce/);
    },
    { timeoutMs: 60_000 },
  );
}

if (available(KCAT, "-V")) {
  kcatTests();
} else if (interopRequired) {
  test("kcat is installed (INTEROP_REQUIRED=1)", () => {
    assert.fail("kcat is not on PATH: apt-get update && apt-get install -y kcat");
  });
} else {
  console.error("SKIPPED interop: kcat is not on PATH (apt-get install -y kcat)");
}
