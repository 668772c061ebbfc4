/**
 * An embedded Kafka-protocol test broker for your own tests, in the spirit of librdkafka's
 * mock cluster and franz-go's kfake. It runs in-process on Deno and Bun, serves connections
 * in memory ({@link MockBroker.connector}) or on real loopback sockets (the `listen` option
 * with `denoListen` from `@kafka-wire/transport/deno` or `bunListen` from
 * `@kafka-wire/transport/bun`), answers ApiVersions, Metadata and SASL (PLAIN, SCRAM-SHA-256/512,
 * OAUTHBEARER, legacy bare frames) itself, serves any other API through
 * {@link MockBroker.handle}, logs every request, and injects faults: delays, error codes, dropped
 * connections, half-written, garbage or HTTP replies, and a broker that goes down and comes back.
 *
 * @example
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
export { supportedSaslMechanisms } from "./sasl_server.ts";
