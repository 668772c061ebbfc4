/**
 * The states of one broker connection and the event reported when it moves between them.
 *
 * @module
 */

/**
 * Where a {@link BrokerConnection} is in its lifecycle. The names and order follow librdkafka's
 * broker states so that diagnostics read the same to Kafka users; every state from `UP` on can
 * carry ordinary requests. librdkafka's `UPDATE` state (broker identity being updated) was
 * removed upstream in 2.10 and is not reproduced: a connection here has one fixed address.
 */
export const BrokerState = {
  /** Created; no connection wanted yet (the first request or `connect()` starts one). */
  INIT: "INIT",
  /** The connection was lost, failed, idled out or closed; pending work was failed or kept. */
  DOWN: "DOWN",
  /** Waiting out the reconnect backoff before dialling. */
  TRY_CONNECT: "TRY_CONNECT",
  /** The connector is dialling TCP. */
  CONNECT: "CONNECT",
  /** The connector is dialling with TLS configured: TCP connect and TLS handshake together. */
  SSL_HANDSHAKE: "SSL_HANDSHAKE",
  /** The ApiVersions request is in flight (always, on every new connection). */
  APIVERSION_QUERY: "APIVERSION_QUERY",
  /** The SaslHandshake request is in flight. */
  AUTH_HANDSHAKE: "AUTH_HANDSHAKE",
  /** SASL tokens are being exchanged inside SaslAuthenticate requests. */
  AUTH_REQ: "AUTH_REQ",
  /** SASL tokens are being exchanged as raw `[int32 len][token]` frames (SaslHandshake v0). */
  AUTH_LEGACY: "AUTH_LEGACY",
  /** Operational: requests are written and answered. */
  UP: "UP",
  /** KIP-368 re-authentication on the live connection; new requests are held meanwhile. */
  REAUTH: "REAUTH",
} as const;

/** One of the {@link BrokerState} names. */
export type BrokerState = typeof BrokerState[keyof typeof BrokerState];

/** A move from one state to another, as reported to state listeners and hooks. */
export interface StateChange {
  /** The state left. */
  readonly from: BrokerState;
  /** The state entered. */
  readonly to: BrokerState;
  /** Why, e.g. "connect() called", "idle", or the message of the error that ended the connection. */
  readonly reason: string;
  /** Milliseconds spent in `from`. */
  readonly elapsedMs: number;
  /** When the change happened, on the connection's clock. */
  readonly at: number;
}
