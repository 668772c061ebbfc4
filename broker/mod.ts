/**
 * The per-broker connection: librdkafka's state machine and request pipeline.
 *
 * @example
 * ```ts ignore
 * import { BrokerConnection } from "@kafka-wire/transport";
 * import { denoConnector } from "@kafka-wire/transport/deno";
 *
 * await using broker = new BrokerConnection({ host: "127.0.0.1", port: 9092, connector: denoConnector });
 * await broker.connect();
 * console.log(broker.state, broker.stats());
 * ```
 *
 * @module
 */

export {
  BrokerConnection,
  type BrokerRequest,
  type CloseOptions,
  type SendOptions,
} from "./connection.ts";
export { BrokerState, type StateChange } from "./state.ts";
export {
  BrokerClosedError,
  ConnectionSetupTimeoutError,
  QueueFullError,
  RequestTimeoutError,
  type TimedOutRequest,
  UnsupportedVersionError,
  type VersionRange,
} from "./errors.ts";
export {
  type BrokerConnectionOptions,
  type BrokerHooks,
  CLIENT_SOFTWARE_NAME,
  CLIENT_SOFTWARE_VERSION,
  type RequestEvent,
} from "./options.ts";
export type { BrokerStats, RttStats } from "./stats.ts";
export {
  backoffDelay,
  type BackoffSettings,
  type BackoffState,
  INITIAL_BACKOFF,
  recordAttempt,
} from "./backoff.ts";
