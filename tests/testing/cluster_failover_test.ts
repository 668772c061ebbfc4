import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { BrokerConnection } from "../../broker/connection.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Produce } from "../../protocol/produce.ts";
import { decodeRecordBatches, encodeRecordBatch } from "../../protocol/record_batch.ts";
import { MockCluster } from "../../testing/mod.ts";
import { connectTo, fetchFrom, text, utf8 } from "./cluster_fixture.ts";

const PARTITIONS = 6;
const RECORDS = 20_000;
const PER_BATCH = 50;

test(
  "MockCluster: 20 000 records over 6 partitions on 3 nodes, a leader move midway, none lost or duplicated",
  async () => {
    await using cluster = await MockCluster.start({
      nodes: 3,
      topics: [{ name: "load", partitions: PARTITIONS }],
    });
    const conns = new Map<number, BrokerConnection>();
    for (const node of cluster.nodes) conns.set(node.nodeId, await connectTo(cluster, node));
    // The producer's view of the leaders; refreshed from the KIP-951 hint, not from Metadata.
    const leaders = Array.from(
      { length: PARTITIONS },
      (_, p) => cluster.partition("load", p).leader,
    );
    let redirected = 0;
    try {
      const batches = RECORDS / PER_BATCH;
      for (let b = 0; b < batches; b++) {
        if (b === batches / 2) {
          cluster.moveLeader("load", 0);
          cluster.moveLeader("load", 3);
        }
        const partition = b % PARTITIONS;
        const records = Array.from({ length: PER_BATCH }, (_, i) => ({
          key: utf8(String(partition)),
          value: utf8(`r${b * PER_BATCH + i}`),
        }));
        const bytes = encodeRecordBatch({ timestamp: 1_000 + b, records });
        for (let attempt = 0;; attempt++) {
          assert.ok(attempt < 3, "the hint leads to the leader at once");
          const res = await conns.get(leaders[partition])!.send(Produce, {
            acks: -1,
            timeoutMs: 5_000,
            topicData: [{ name: "load", partitionData: [{ index: partition, records: bytes }] }],
          });
          const p = res.responses[0].partitionResponses[0];
          if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) {
            leaders[partition] = p.currentLeader!.leaderId;
            redirected++;
            continue;
          }
          assert.equal(p.errorCode, ErrorCode.NONE);
          break;
        }
      }
      assert.equal(redirected, 2, "each moved partition redirected once");
      const seen = new Set<string>();
      let total = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const info = cluster.partition("load", p);
        const conn = conns.get(info.leader)!;
        let offset = 0n;
        while (offset < info.highWatermark) {
          const res = await fetchFrom(conn, "load", p, offset, { maxBytes: 64 * 1024 });
          const part = res.responses[0].partitions[0];
          assert.equal(part.errorCode, ErrorCode.NONE);
          for (const batch of decodeRecordBatches(part.records!)) {
            for (const r of batch.records) {
              assert.equal(r.offset, offset, "offsets are dense");
              assert.equal(text(r.key), String(p));
              const value = text(r.value)!;
              assert.ok(!seen.has(value), `duplicate ${value}`);
              seen.add(value);
              offset++;
              total++;
            }
          }
        }
      }
      assert.equal(total, RECORDS);
      assert.equal(seen.size, RECORDS);
    } finally {
      for (const conn of conns.values()) await conn.close();
    }
  },
  { timeoutMs: 60_000 },
);
