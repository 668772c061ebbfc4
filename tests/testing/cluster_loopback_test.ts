import assert from "node:assert/strict";
import { runtime, test } from "../harness.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { decodeRecordBatches } from "../../protocol/record_batch.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { MockCluster } from "../../testing/mod.ts";
import { connectTo, fetchFrom, metadata, produce, text, utf8 } from "./cluster_fixture.ts";

// The runtime's own socket adapter: the cluster must work on real sockets of every runtime.
const { connector, listen } = adapter;

test(`MockCluster on ${runtime} loopback: Metadata lists bound ports, records round-trip`, async () => {
  await using cluster = await MockCluster.start({ listen, topics: [{ name: "t", partitions: 3 }] });
  const ports = cluster.nodes.map((n) => n.port);
  assert.equal(new Set(ports).size, 3);
  assert.ok(cluster.nodes.every((n) => n.host === "127.0.0.1" && n.port > 0));
  const leader = cluster.node(cluster.partition("t", 2).leader);
  const conn = await connectTo(cluster, leader, connector);
  try {
    const md = await metadata(conn);
    assert.deepEqual(md.brokers.map((b) => b.port), ports);
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const sent = [{ key: utf8("k"), value: big }, { value: utf8("small") }];
    const res = await produce(conn, "t", 2, sent);
    assert.equal(res.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
    const got = decodeRecordBatches(
      (await fetchFrom(conn, "t", 2, 0n)).responses[0].partitions[0].records!,
    )
      .flatMap((b) => b.records);
    assert.deepEqual(got[0].value, big);
    assert.equal(text(got[1].value), "small");
  } finally {
    await conn.close();
  }
});

test(`MockCluster on ${runtime} loopback: a stopped node refuses socket dials and comes back on its port`, async () => {
  await using cluster = await MockCluster.start({
    listen,
    nodes: 2,
    topics: [{ name: "t", partitions: 2 }],
  });
  const two = cluster.node(2);
  const port = two.port;
  cluster.stopNode(2);
  await assert.rejects(connector({ host: "127.0.0.1", port }));
  await cluster.startNode(2);
  assert.equal(two.port, port);
  const conn = await connectTo(cluster, two, connector);
  try {
    assert.deepEqual((await metadata(conn)).brokers.map((b) => b.nodeId), [1, 2]);
  } finally {
    await conn.close();
  }
});

test(`MockCluster on ${runtime} loopback: advertise() makes the listed address unreachable`, async () => {
  await using cluster = await MockCluster.start({ listen, nodes: 2 });
  cluster.advertise(2, { host: "127.0.0.1", port: 1 });
  const conn = await connectTo(cluster, cluster.node(1), connector);
  try {
    const listed = (await metadata(conn)).brokers.find((b) => b.nodeId === 2)!;
    assert.deepEqual([listed.host, listed.port], ["127.0.0.1", 1]);
    await assert.rejects(connector({ host: listed.host, port: listed.port }));
    const direct = await connectTo(cluster, cluster.node(2), connector);
    await direct.close();
  } finally {
    await conn.close();
  }
});
