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

// Transport seam: the interfaces, clock and error classes every adapter entry point shares,
// plus what only the main entry point offers, and the in-memory pair.
export * from "./transport/adapter_exports.ts";
export { type Random, systemClock } from "./transport/clock.ts";
export { asKafkaError, ChainVerificationRequiredError } from "./transport/errors.ts";
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

// Compression codecs of record batches, passed per call in a Codecs set.
export * from "./protocol/compression/codec.ts";
export { defaultCodecs } from "./protocol/compression/defaults.ts";
export { type GzipCodec, gzipCodec } from "./protocol/compression/gzip.ts";
export {
  type SnappyCodec,
  snappyCodec,
  type SnappyOptions,
} from "./protocol/compression/snappy.ts";
export { type Lz4Codec, lz4Codec } from "./protocol/compression/lz4.ts";
export { type ZstdCodec, zstdCodec, type ZstdOptions } from "./protocol/compression/zstd.ts";
export { zstdDecompress } from "./protocol/compression/zstd_decompress.ts";
export { xxhash32 } from "./protocol/compression/xxhash32.ts";

// SASL mechanisms.
export * from "./sasl/mod.ts";

// The broker connection.
export * from "./broker/mod.ts";
