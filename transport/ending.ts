/**
 * How a connection ended and what its reads see from then on, shared by the adapters (Deno,
 * Bun, in-memory) so that end of stream and failures look the same on every one.
 *
 * @module
 */

import type { KafkaTransportError } from "./errors.ts";

/** How a connection ended. */
export interface Ending {
  /** Why it ended; `undefined` for a local close without reason or a clean close by the peer. */
  reason: KafkaTransportError | undefined;
  /** Whether reads should reject (an I/O failure) rather than report end of stream. */
  failed: boolean;
}

/** A `read()` waiting for data. */
export interface PendingRead {
  /** Completes the read with a chunk, or `null` for end of stream. */
  resolve: (chunk: Uint8Array | null) => void;
  /** Fails the read. */
  reject: (error: KafkaTransportError) => void;
}

/**
 * What `read()` returns once the connection has ended.
 *
 * @param ending How it ended.
 * @returns End of stream (`null`), or a rejection with the reason when it failed.
 */
export function readAfterEnd(ending: Ending): Promise<null> {
  return ending.failed ? Promise.reject(ending.reason) : Promise.resolve(null);
}

/**
 * Settles a read that was waiting when the connection ended, as {@link readAfterEnd} would.
 *
 * @param reader The waiting read.
 * @param ending How the connection ended.
 */
export function endPendingRead(reader: PendingRead, ending: Ending): void {
  if (ending.failed) reader.reject(ending.reason!);
  else reader.resolve(null);
}
