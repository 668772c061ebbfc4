/**
 * A Kafka wire-protocol transport for Deno, Bun and Cloudflare Workers: connections,
 * length-prefixed framing, and the per-broker connection state machine (connect, TLS,
 * ApiVersions, SASL, pipelined requests matched by correlation id), with librdkafka's semantics
 * and no runtime dependencies.
 *
 * This entry point is runtime-neutral. Pass a connector from `@kafka-wire/transport/deno`,
 * `@kafka-wire/transport/bun` or `@kafka-wire/transport/workers` (or your own) to each
 * {@link BrokerConnection}.
 *
 * @example
 * ```ts ignore
 * import { BrokerConnection, Metadata } from "@kafka-wire/transport";
 * import { denoConnector } from "@kafka-wire/transport/deno";
 *
 * await using broker = new BrokerConnection({
 *   host: "127.0.0.1",
 *   port: 9092,
 *   connector: denoConnector,
 * });
 * const metadata = await broker.send(Metadata, { topics: null, allowAutoTopicCreation: false });
 * console.log(metadata.brokers);
 * ```
 *
 * @module
 */

// Transport seam: interfaces, clock, errors, in-memory pair.
export type {
  Conn,
  ConnectOptions,
  Connector,
  Listener,
  ListenFn,
  ListenOptions,
  NetAddr,
  Readable,
  TlsOptions,
  Writable,
} from "./transport/conn.ts";
export { type Clock, type Random, systemClock, type TimerHandle } from "./transport/clock.ts";
export {
  AbortError,
  asKafkaError,
  ChainVerificationRequiredError,
  ConfigError,
  ConnectionClosedError,
  type ConnectionClosedErrorOptions,
  type ConnectionLossHint,
  ConnectionRefusedError,
  type KafkaErrorOptions,
  KafkaTransportError,
  TimeoutError,
  TlsError,
  type TlsErrorOptions,
  type TlsFailureKind,
} from "./transport/errors.ts";
export {
  type MemoryChunking,
  memoryConnector,
  type MemoryConnectorOptions,
  type MemoryDirection,
  type MemoryFaults,
  type MemoryPair,
  memoryPair,
  type MemoryPairOptions,
} from "./transport/memory.ts";

// Framing: primitives, frames, headers.
export * from "./framing/mod.ts";

// Protocol: API codecs and Kafka error codes.
export {
  type ApiSpec,
  hasFlexibleResponseHeader,
  isFlexible,
  type ServerApiSpec,
} from "./protocol/api.ts";
export { isZeroUuid, uuidToString, ZERO_UUID } from "./protocol/uuid.ts";
export type { LeaderIdAndEpoch, NodeEndpoint } from "./protocol/leader_discovery.ts";
export * from "./protocol/api_versions.ts";
export * from "./protocol/errors.ts";
export * from "./protocol/metadata.ts";
export * from "./protocol/sasl_handshake.ts";
export * from "./protocol/sasl_authenticate.ts";
export * from "./protocol/create_topics.ts";
export * from "./protocol/produce.ts";
export * from "./protocol/fetch.ts";
export * from "./protocol/record_batch.ts";
export { crc32c } from "./protocol/crc32c.ts";

// SASL mechanisms.
export * from "./sasl/mod.ts";

// The broker connection.
export * from "./broker/mod.ts";
