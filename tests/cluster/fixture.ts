/**
 * What the embedded cluster-layer tests share: a `MockCluster` with topics, a `Cluster` on it
 * with short backoffs that records its events, and request counts over every node.
 *
 * @module
 */

import { Cluster } from "../../cluster/cluster.ts";
import type { ClusterEvent } from "../../cluster/events.ts";
import type { ClusterOptions } from "../../cluster/options.ts";
import { MockCluster } from "../../testing/mock_cluster.ts";

/**
 * Starts a 3-node embedded cluster.
 *
 * @param topics Topic name → partition count (replication factor 3).
 * @returns The cluster.
 */
export function startMock(topics: Record<string, number> = {}): Promise<MockCluster> {
  return MockCluster.start({
    nodes: 3,
    topics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
  });
}

/**
 * A client for the embedded cluster, with backoffs short enough for tests.
 *
 * @param mock The embedded cluster.
 * @param extra More options.
 * @returns The client and the events it emitted.
 */
export function openCluster(
  mock: MockCluster,
  extra: Partial<ClusterOptions> = {},
): { cluster: Cluster; events: ClusterEvent[] } {
  const events: ClusterEvent[] = [];
  const cluster = new Cluster({
    bootstrap: mock.bootstrap,
    connector: mock.connector,
    onEvent: (e) => events.push(e),
    connection: { reconnectBackoffMs: 5, reconnectBackoffMaxMs: 20 },
    fastRefreshMs: 5,
    fastRefreshMaxMs: 40,
    sendTimeoutMs: 5000,
    ...extra,
  });
  return { cluster, events };
}

/**
 * Requests of one API received by every node so far.
 *
 * @param mock The embedded cluster.
 * @param apiKey The API key.
 * @returns The count.
 */
export function requestsOf(mock: MockCluster, apiKey: number): number {
  return mock.nodes.reduce(
    (n, node) => n + node.requests.filter((r) => r.apiKey === apiKey).length,
    0,
  );
}
