import assert from "node:assert/strict";
import type { BrokerNode } from "../../cluster/broker_node.ts";
import { clusterConnector, isIpLiteral } from "../../cluster/dial.ts";
import { AddressResolutionError } from "../../cluster/errors.ts";
import type { ClusterEvent } from "../../cluster/events.ts";
import { MetadataCache } from "../../cluster/metadata_cache.ts";
import { resolveClusterOptions } from "../../cluster/options.ts";
import { MetadataRefresher } from "../../cluster/refresher.ts";
import { brokerSelection } from "../../cluster/selection.ts";
import { ClusterCounters } from "../../cluster/stats.ts";
import type { MetadataResponse } from "../../protocol/metadata.ts";
import { ZERO_UUID } from "../../protocol/uuid.ts";
import type { Conn, ConnectOptions } from "../../transport/conn.ts";
import { ConfigError, ConnectionRefusedError } from "../../transport/errors.ts";
import { FakeClock } from "../fixtures/fake_clock.ts";
import { test } from "../harness.ts";

test("every address of a name is tried in turn; TLS keeps the name for SNI", async () => {
  const dialled: ConnectOptions[] = [];
  const fakeConn = {} as Conn;
  const connector = clusterConnector(
    { host: "kafka.example", port: 9093 },
    (o) => {
      dialled.push(o);
      return o.host === "10.0.0.1"
        ? Promise.reject(new ConnectionRefusedError("refused"))
        : Promise.resolve(fakeConn);
    },
    (host) => Promise.resolve(host === "kafka.example" ? ["10.0.0.1", "10.0.0.2"] : []),
    undefined,
  );
  const conn = await connector({ host: "ignored", port: 1, tls: {} });
  assert.equal(conn, fakeConn);
  assert.deepEqual(dialled.map((o) => [o.host, o.port, o.tls?.serverName]), [
    ["10.0.0.1", 9093, "kafka.example"],
    ["10.0.0.2", 9093, "kafka.example"],
  ]);
});

test("a name that resolves to nothing is an AddressResolutionError naming it; IPs are not resolved", async () => {
  let resolved = 0;
  const resolve = (_: string) => (resolved++, Promise.resolve([] as string[]));
  const none = clusterConnector(
    { host: "gone.example", port: 1 },
    () => Promise.reject(),
    resolve,
    undefined,
  );
  await assert.rejects(
    none({ host: "x", port: 1 }),
    (e: AddressResolutionError) =>
      e instanceof AddressResolutionError && e.host === "gone.example" && e.retriable,
  );
  const dialled: string[] = [];
  const ip = clusterConnector(
    { host: "::1", port: 1 },
    (o) => {
      dialled.push(o.host);
      return Promise.resolve({} as Conn);
    },
    resolve,
    undefined,
  );
  await ip({ host: "x", port: 1 });
  assert.deepEqual(dialled, ["::1"]);
  assert.equal(resolved, 1);
  assert.ok(isIpLiteral("127.0.0.1") && isIpLiteral("fe80::1") && !isIpLiteral("localhost"));
});

test("any usable broker: UP first, learned over bootstrap, most recently used, random tie", () => {
  const node = (nodeId: number, up: boolean, learned: boolean, lastUsed: number) =>
    ({ nodeId, up, learned, lastUsed }) as unknown as BrokerNode;
  const pick = (nodes: BrokerNode[], r = 0) => brokerSelection(nodes, () => r).usable?.nodeId;
  assert.equal(pick([node(-1, true, false, 50), node(1, true, true, 10)]), 1, "learned wins");
  assert.equal(pick([node(1, true, true, 10), node(2, true, true, 30)]), 2, "recently used wins");
  assert.equal(pick([node(1, false, true, 99), node(-1, true, false, 0)]), -1, "only UP counts");
  assert.equal(pick([node(1, false, true, 0)]), undefined);
  const ties = [node(1, true, true, 5), node(2, true, true, 5), node(3, true, true, 5)];
  assert.equal(pick(ties, 0), 3);
  assert.equal(pick(ties, 0.99), 1);
  const down = brokerSelection([node(1, false, true, 0), node(2, false, true, 0)], () => 0);
  assert.deepEqual(down.learned.map((n) => n.nodeId).sort(), [1, 2]);
});

function metadata(leaderId: number, leaderEpoch: number): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [],
    clusterId: "c",
    controllerId: 1,
    clusterAuthorizedOperations: 0,
    topics: [{
      errorCode: 0,
      name: "t",
      topicId: ZERO_UUID,
      isInternal: false,
      topicAuthorizedOperations: 0,
      partitions: [{
        errorCode: 0,
        partitionIndex: 0,
        leaderId,
        leaderEpoch,
        replicaNodes: [1, 2],
        isrNodes: [1, 2],
        offlineReplicas: [],
      }],
    }],
  };
}

test("leader epochs: an older epoch never replaces a newer one", () => {
  const cache = new MetadataCache();
  cache.applyMetadata(metadata(1, 5), 0);
  assert.deepEqual(cache.applyLeader("t", 0, 2, 6), {
    topic: "t",
    partition: 0,
    from: 1,
    to: 2,
    epoch: 6,
  });
  assert.equal(cache.applyLeader("t", 0, 1, 5), null, "a stale hint is ignored");
  assert.deepEqual(cache.applyMetadata(metadata(1, 5), 1), [], "a stale Metadata reply too");
  assert.equal(cache.topic("t")!.partitions[0].leaderId, 2);
  assert.deepEqual(cache.applyMetadata(metadata(3, 7), 2), [
    { topic: "t", partition: 0, from: 2, to: 3, epoch: 7 },
  ]);
  assert.ok(cache.loseLeader("t", 0, 3) !== null && cache.hasLeaderless);
  assert.equal(cache.loseLeader("t", 0), null, "already unknown");
});

test("fast refresh after a lost leader backs off from fastRefreshMs to fastRefreshMaxMs", async () => {
  const clock = new FakeClock();
  const options = resolveClusterOptions({
    bootstrap: "h:1",
    connector: () => Promise.reject(new Error("unused")),
    clock,
  });
  const fetchedAt: number[] = [];
  const events: ClusterEvent[] = [];
  const refresher = new MetadataRefresher(options, {
    fetch: () => {
      fetchedAt.push(clock.now());
      return Promise.resolve({ response: metadata(-1, 0), nodeId: 1 });
    },
    apply: () => {},
    cachedTopics: () => ["t"],
    leaderless: () => true,
    emit: (e) => events.push(e),
    counters: new ClusterCounters(),
  });
  refresher.soon("leader-lost");
  for (let i = 0; i < 60; i++) {
    clock.advance(50);
    for (let j = 0; j < 5; j++) await Promise.resolve();
  }
  refresher.close();
  const gaps = fetchedAt.slice(1).map((t, i) => t - fetchedAt[i]);
  assert.equal(fetchedAt[0], 100);
  assert.deepEqual(gaps.slice(0, 4), [200, 400, 800, 1000]);
  assert.ok(gaps.every((g) => g <= 1000));
  assert.ok(
    events.every((e) => e.type === "metadata-refreshed" && e.reasons.includes("leader-lost")),
  );
});

test("cluster options are checked and name what is wrong", () => {
  const connector = () => Promise.reject(new Error("unused"));
  assert.throws(
    () => resolveClusterOptions({ bootstrap: "h:1" } as never),
    /connector must be a function/,
  );
  assert.throws(
    () => resolveClusterOptions({ bootstrap: "h:1", connector, fastRefreshMs: 0 }),
    (e: Error) => e instanceof ConfigError && /fastRefreshMs/.test(e.message),
  );
  assert.throws(
    () => resolveClusterOptions({ bootstrap: "h:1", connector, resolve: "dns" as never }),
    /resolve must be a function/,
  );
  const o = resolveClusterOptions({ bootstrap: "h:1", connector });
  assert.deepEqual(
    [
      o.metadataRefreshIntervalMs,
      o.metadataMaxAgeMs,
      o.fastRefreshMs,
      o.fastRefreshMaxMs,
      o.rebootstrapAfterMs,
    ],
    [300_000, 900_000, 100, 1000, 300_000],
  );
});
