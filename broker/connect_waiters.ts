/**
 * The callers of `connect()` waiting for UP, each with its own abort signal.
 *
 * @module
 */

import type { KafkaTransportError } from "../transport/errors.ts";

interface Waiter {
  resolve: () => void;
  reject: (error: KafkaTransportError) => void;
}

/** Callers waiting for a connection to reach UP. */
export class ConnectWaiters {
  #waiters: Waiter[] = [];

  /**
   * Waits for UP.
   *
   * @param signal Stops waiting.
   * @param abortError The error for an abort.
   * @returns Settles at UP, at the attempt's failure or at the abort.
   */
  wait(
    signal: AbortSignal | undefined,
    abortError: (signal: AbortSignal) => KafkaTransportError,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let onAbort: (() => void) | null = null;
      const waiter: Waiter = {
        resolve: () => {
          if (onAbort !== null) signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (error) => {
          if (onAbort !== null) signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      if (signal !== undefined) {
        onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          waiter.reject(abortError(signal));
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** The connection is UP: resolves everyone waiting. */
  resolveAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  /**
   * The attempt failed: rejects everyone waiting.
   *
   * @param error Why.
   */
  rejectAll(error: KafkaTransportError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }
}
