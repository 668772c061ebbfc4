/**
 * Calls into the user's observers (`BrokerHooks`): what they throw is ignored, since an
 * observer must not break the connection it observes.
 *
 * @module
 */

import type { KafkaTransportError } from "../transport/errors.ts";
import type { RequestEvent } from "./options.ts";
import type { Pending } from "./pending.ts";

/**
 * Tells the `onBytes` hook.
 *
 * @param onBytes The hook.
 * @param direction "in" or "out".
 * @param n How many bytes.
 */
export function emitBytes(
  onBytes: (direction: "in" | "out", n: number) => void,
  direction: "in" | "out",
  n: number,
): void {
  try {
    onBytes(direction, n);
  } catch {
    // Hooks observe; a failing observer must not break the connection.
  }
}

/**
 * Tells the `onRequest` hook how a request settled.
 *
 * @param onRequest The hook.
 * @param p The request.
 * @param error Its error, or `null` on success.
 * @param repliedAt When its reply arrived, or -1.
 */
export function emitRequest(
  onRequest: (event: RequestEvent) => void,
  p: Pending,
  error: KafkaTransportError | null,
  repliedAt: number,
): void {
  const event: RequestEvent = {
    apiKey: p.apiKey,
    apiVersion: p.apiVersion,
    correlationId: p.correlationId,
    queuedAt: p.queuedAt,
    writtenAt: p.writtenAt,
    repliedAt,
    bytesOut: p.bytesOut,
    bytesIn: p.bytesIn,
    ...(error === null ? {} : { error }),
  };
  try {
    onRequest(event);
  } catch {
    // Hooks observe; a failing observer must not break the connection.
  }
}
