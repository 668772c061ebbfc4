/**
 * The record the test broker keeps of every request it receives.
 *
 * @module
 */

/** One request as the test broker received it, in arrival order. */
export interface RequestRecord {
  /** The API key. */
  readonly apiKey: number;
  /** The API version. */
  readonly apiVersion: number;
  /** The correlation id from the header. */
  readonly correlationId: number;
  /** The client id from the header, or `null`. */
  readonly clientId: string | null;
  /** Arrival time on the broker's clock, in milliseconds. */
  readonly at: number;
  /** The id of the connection it arrived on, counting from 1 per broker. */
  readonly connId: number;
}
