/**
 * Embedded Kafka for your own tests, in the spirit of franz-go's kfake and librdkafka's mock
 * cluster, running in-process on Deno and Bun, in memory ({@link MockCluster.connector}) or on
 * real loopback sockets (the `listen` option with `denoListen` from
 * `@kafka-wire/transport/deno` or `bunListen` from `@kafka-wire/transport/bun`).
 *
 * - {@link MockCluster}: N broker nodes sharing topics, partitions (leader, epoch, replicas,
 *   ISR) and in-memory logs. Every node serves ApiVersions, Metadata, SASL (PLAIN,
 *   SCRAM-SHA-256/512, OAUTHBEARER), Produce, Fetch (with long polls), ListOffsets,
 *   CreateTopics and DeleteTopics as a Kafka 4.x broker does. Tests move leaders, stop and
 *   start nodes, list a node at an address where it does not listen, and inject faults per
 *   node. Transactions, consumer groups, fetch sessions and replication are not served; the
 *   group and transaction entry points get a well-formed UNSUPPORTED_VERSION reply.
 * - {@link MockBroker}: one broker answering ApiVersions, Metadata and SASL itself and any other
 *   API through {@link MockBroker.handle}, with the same faults (delays, error codes, dropped
 *   replies and connections, half-written, garbage or HTTP replies, down and up).
 *
 * @example Producing and fetching against the embedded cluster
 * ```ts
 * import { BrokerConnection, encodeRecordBatch, Fetch, Produce } from "@kafka-wire/transport";
 * import { MockCluster } from "@kafka-wire/transport/testing";
 *
 * await using cluster = await MockCluster.start({
 *   nodes: 3,
 *   topics: [{ name: "orders", partitions: 3 }],
 * });
 * const leader = cluster.node(cluster.partition("orders", 0).leader);
 * await using conn = new BrokerConnection({
 *   host: leader.host,
 *   port: leader.port,
 *   connector: cluster.connector,
 * });
 * const records = encodeRecordBatch({ timestamp: Date.now(), records: [{ value: null }] });
 * await conn.send(Produce, {
 *   acks: -1,
 *   timeoutMs: 5_000,
 *   topicData: [{ name: "orders", partitionData: [{ index: 0, records }] }],
 * });
 * const fetched = await conn.send({ ...Fetch, maxVersion: 12 }, {
 *   maxWaitMs: 500,
 *   minBytes: 1,
 *   topics: [{
 *     topic: "orders",
 *     partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
 *   }],
 * });
 * console.log(fetched.responses[0].partitions[0].highWatermark); // 1n
 *
 * cluster.moveLeader("orders", 0); // the old leader answers NOT_LEADER_OR_FOLLOWER + KIP-951
 * cluster.stopNode(2); // refuses dials, cuts connections, its partitions fail over
 * await cluster.startNode(2);
 * cluster.node(1).faults.delay(200, Fetch.key); // node 1's Fetch replies take 200 ms
 * console.log(cluster.node(1).requests.map((r) => r.apiKey)); // what node 1 received
 * ```
 *
 * @example A single broker with SASL and faults
 * ```ts
 * import { MockBroker } from "@kafka-wire/transport/testing";
 *
 * await using broker = await MockBroker.start({
 *   topics: [{ name: "orders", partitions: 3 }],
 *   sasl: { mechanisms: ["SCRAM-SHA-256"], users: { alice: "alice-secret" } },
 * });
 *
 * // Hand `broker.connector` and `broker.bootstrap` to the client under test, then:
 * broker.faults.delay(500, 3); // Metadata replies take 500 ms
 * broker.faults.closeOnRequest(2); // the second request from now drops its connection
 * broker.down(); // every dial is refused...
 * await broker.up(); // ...until the broker is back
 *
 * console.log(broker.requests.map((r) => r.apiKey)); // what the client sent
 * ```
 *
 * @module
 */

export { MockBroker, type MockBrokerOptions, type MockSaslOptions } from "./mock_broker.ts";
export {
  MockCluster,
  type MockClusterOptions,
  type MockPartitionInfo,
  type StopNodeOptions,
} from "./mock_cluster.ts";
export { MockClusterNode } from "./cluster_node.ts";
export type { MockTopic } from "./cluster_state.ts";
export type { MockFaults } from "./faults.ts";
export {
  type MockApi,
  type MockConnectionInfo,
  type MockHandler,
  type MockReply,
  type MockRequest,
  NO_REPLY,
  type NoReply,
} from "./handler.ts";
export type { RequestRecord } from "./request_log.ts";
export { type ScramNonceCheck, supportedSaslMechanisms } from "./sasl_server.ts";
