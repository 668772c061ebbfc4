/**
 * What every runtime adapter's entry point re-exports beside its connector: the seam types its
 * API refers to, so the entry point documents them and users can name them, and the error
 * classes its connections reject with, as values so that `instanceof` works for code importing
 * only that entry point. They are the same types and classes as the main entry point's.
 *
 * @module
 */

export type { Clock, TimerHandle } from "./clock.ts";
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
} from "./conn.ts";
export {
  AbortError,
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
} from "./errors.ts";
