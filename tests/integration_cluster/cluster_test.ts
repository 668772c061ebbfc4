import assert from "node:assert/strict";
import { BrokerState } from "../../broker/state.ts";
import { AddressResolutionError, type ClusterRequestError } from "../../cluster/errors.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { sleep } from "../cluster/traffic.ts";
import { clusterScript, clusterTest, withCluster } from "./fixture.ts";
import { probeMain } from "../../cli/probe_main.ts";
import {
  connector,
  createTopic,
  openCluster,
  resolveHost,
  SteadyFetcher,
  SteadyProducer,
  uniqueTopic,
  verifyLog,
} from "./helpers.ts";

/** Loops to stop before a test's cluster closes, also when the test failed half-way. */
const stopLater: (() => Promise<void>)[] = [];

async function stopLoops(): Promise<void> {
  await Promise.all(stopLater.splice(0).map((stop) => stop()));
}

withCluster((env) => {
  clusterTest(
    "bootstrap learns all three brokers; CreateTopics goes to the controller",
    async () => {
      const { cluster, events } = openCluster(env.bootstrap);
      try {
        const topic = uniqueTopic("discover");
        await createTopic(cluster, topic);
        assert.equal(cluster.clusterId, env.clusterId);
        assert.deepEqual(cluster.brokers().map((b) => b.nodeId), [1, 2, 3]);
        assert.ok(cluster.controllerId >= 1);
        const info = cluster.cachedTopic(topic)!;
        assert.equal(info.partitions.length, 6);
        assert.ok(info.partitions.every((p) => p.replicas.length === 3));
        assert.ok(events.some((e) => e.type === "broker-decommissioned" && e.nodeId < 0));
      } finally {
        await stopLoops();
        await cluster.close();
      }
    },
  );

  clusterTest(
    "SIGKILL of a leader under acks=all produce: every record settles once, acked ones are all read back",
    async () => {
      const { cluster, events } = openCluster(env.bootstrap);
      try {
        const topic = uniqueTopic("kill");
        await createTopic(cluster, topic);
        const victim = cluster.cachedTopic(topic)!.partitions[0].leaderId;
        const producer = new SteadyProducer(cluster, topic, 6, true);
        stopLater.push(() => producer.stop());
        for (let i = 0; i < 200 && producer.acked < 300; i++) await sleep(50);
        const ackedBefore = producer.acked;
        const killedAt = performance.now();
        await clusterScript("kill", String(victim));
        // Partitions the victim led must be acked again, through their new leaders.
        const led = cluster.cachedTopic(topic)!.partitions.filter((p) => p.leaderId === victim).map(
          (p) => p.partition,
        );
        let recoveredMs = -1;
        for (let i = 0; i < 400 && recoveredMs < 0; i++) {
          await sleep(50);
          const after = producer.outcomes.slice(ackedBefore);
          const back = led.every((p) => after.some((o) => o.partition === p && o.outcome.ok));
          if (back && cluster.cachedTopic(topic)!.partitions.every((p) => p.leaderId !== victim)) {
            recoveredMs = performance.now() - killedAt;
          }
        }
        await producer.stop();
        assert.ok(
          recoveredMs >= 0,
          "the partitions of the killed leader were not produced to again within 20 s",
        );
        await clusterScript("restart", String(victim));
        const { duplicates, acked, failed, ambiguous, answered } = await verifyLog(
          cluster,
          topic,
          producer,
        );
        const hinted = events.filter((e) =>
          e.type === "leader-moved" && e.source === "hint"
        ).length;
        console.error(
          `[kill] node ${victim} killed: ${acked} acked, ${failed} failed (typed, retriable), ` +
            `${duplicates} duplicates (${ambiguous} ambiguous re-sends, ${answered} re-sends ` +
            `after error replies), new leaders in ${recoveredMs.toFixed(0)} ms, ` +
            `${hinted} KIP-951 hints, ${cluster.stats().metadataRefreshes} metadata refreshes`,
        );
        assert.ok(acked > ackedBefore);
      } finally {
        await stopLoops();
        await cluster.close();
      }
    },
  );

  clusterTest(
    "rolling restart of all three under produce and fetch: nothing hangs or is lost, refreshes bounded",
    async () => {
      const { cluster } = openCluster(env.bootstrap);
      try {
        const topic = uniqueTopic("rolling");
        await createTopic(cluster, topic);
        const producer = new SteadyProducer(cluster, topic, 6, false);
        const fetcher = new SteadyFetcher(cluster, topic, 6);
        stopLater.push(() => producer.stop(), () => fetcher.stop());
        const refreshesBefore = cluster.stats().metadataRefreshes;
        const started = performance.now();
        for (const n of [1, 2, 3]) {
          await clusterScript("stopnode", String(n));
          await sleep(1000);
          await clusterScript("restart", String(n));
          await sleep(2000);
        }
        await producer.stop();
        const fetchedBeforeStop = fetcher.records;
        await fetcher.stop();
        const elapsedS = (performance.now() - started) / 1000;
        const refreshes = cluster.stats().metadataRefreshes - refreshesBefore;
        const { duplicates, acked, failed, ambiguous, answered } = await verifyLog(
          cluster,
          topic,
          producer,
        );
        console.error(
          `[rolling] ${
            elapsedS.toFixed(0)
          } s: ${acked} acked, ${failed} failed (typed, retriable), ` +
            `${duplicates} duplicates (${ambiguous} ambiguous re-sends, ${answered} re-sends ` +
            `after error replies), ${refreshes} metadata refreshes, ` +
            `${cluster.stats().hintsApplied} KIP-951 hints applied; fetcher read ${fetchedBeforeStop} ` +
            `records (${fetcher.failures} failed fetches)`,
        );
        assert.ok(fetchedBeforeStop > acked / 2, "the fetcher kept reading through the restarts");
        assert.equal(ambiguous, 0, "no re-send of ambiguous produces was allowed");
        assert.ok(duplicates <= answered, "every duplicate follows a re-send after an error reply");
        assert.ok(refreshes < elapsedS * 12, `${refreshes} refreshes in ${elapsedS} s is a storm`);
      } finally {
        await stopLoops();
        await cluster.close();
      }
    },
  );

  clusterTest("controller killed: controller-routed requests follow", async () => {
    const { cluster } = openCluster(env.bootstrap);
    await cluster.refreshMetadata();
    const controller = cluster.controllerId;
    await clusterScript("kill", String(controller));
    try {
      const reply = await cluster.send(CreateTopics, {
        topics: [{ name: uniqueTopic("after-controller"), numPartitions: 3, replicationFactor: 3 }],
        timeoutMs: 15_000,
      }, { route: { kind: "controller" }, timeoutMs: 30_000 });
      const result = reply.response.topics[0];
      assert.equal(result.errorCode, 0, result.errorMessage ?? "");
      assert.notEqual(reply.nodeId, controller, "answered by a live node");
      assert.ok(reply.attempts > 1, "the first attempt went to the dead controller");
    } finally {
      await clusterScript("restart", String(controller));
      await cluster.close();
    }
  });

  clusterTest("a node stopped for good is decommissioned once Metadata drops it", async () => {
    const { cluster, events } = openCluster(env.bootstrap);
    try {
      await cluster.refreshMetadata();
      await cluster.nodeConnection(3).then((c) => c.connect());
      await clusterScript("stopnode", "3");
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        await cluster.refreshMetadata().catch(() => {});
        gone = events.some((e) => e.type === "broker-decommissioned" && e.nodeId === 3);
        if (!gone) await sleep(200);
      }
      assert.ok(gone, "node 3 was not decommissioned within 20 s");
      assert.ok(!cluster.brokers().some((b) => b.nodeId === 3 && b.state === BrokerState.UP));
    } finally {
      await clusterScript("restart", "3");
      await cluster.close();
    }
  });

  clusterTest("an advertised listener that does not resolve is reported with a hint", async () => {
    const { cluster, events } = openCluster(env.mismatchBootstrap, { sendTimeoutMs: 3000 });
    try {
      await cluster.refreshMetadata();
      const node = cluster.brokers().find((b) => b.nodeId === env.unresolvableNode)!;
      assert.equal(node.host, env.unresolvableHost);
      await assert.rejects(
        cluster.send(Metadata, { topics: [], allowAutoTopicCreation: false }, {
          route: { kind: "node", nodeId: env.unresolvableNode },
        }),
        (e: ClusterRequestError) => e.cause instanceof AddressResolutionError && !e.mayHaveReached,
      );
      const report = events.find((e) =>
        e.type === "broker-unreachable" && e.nodeId === env.unresolvableNode
      );
      assert.ok(report?.type === "broker-unreachable", "no broker-unreachable event");
      assert.match(report.hint, /does not resolve from here: check advertised\.listeners/);
    } finally {
      await stopLoops();
      await cluster.close();
    }
  });

  clusterTest(
    "the probe names the advertised listener that does not resolve (exit 8)",
    async () => {
      const out: string[] = [];
      const outcome = await probeMain(
        ["--bootstrap", env.mismatchBootstrap, "--count", "1", "--timeout-ms", "3000"],
        {},
        {
          connector,
          resolve: resolveHost,
          readTextFile: () => Promise.reject(new Error("no files")),
          command: "probe",
          stdout: (line) => out.push(line),
          stderr: (line) => out.push(line),
        },
      );
      const text = out.join("\n");
      assert.equal(outcome.exitCode, 8, text);
      assert.ok(
        text.includes(
          `Hint: broker ${env.unresolvableNode} advertises ${env.unresolvableHost}:` +
            `${
              env.nodes[env.unresolvableNode - 1].mismatchPort
            }, which does not resolve from here: ` +
            "check advertised.listeners, or map it with --map-address",
        ),
        text,
      );
    },
  );
});
