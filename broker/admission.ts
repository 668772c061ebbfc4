/**
 * Admission to a bounded out queue, first come first served: a caller that finds the queue full
 * waits in line, and room that frees up is reserved for the first in line before it is woken,
 * so a synchronous caller arriving meanwhile cannot take the slot it was woken for.
 *
 * @module
 */

import type { KafkaTransportError } from "../transport/errors.ts";
import { Fifo } from "./fifo.ts";

interface Waiter {
  resolve: () => void;
  reject: (error: KafkaTransportError) => void;
  /** Whether it is still in line (not woken, aborted or rejected). */
  waiting: boolean;
}

/** The line of callers waiting for room in a queue of at most `max` requests. */
export class QueueAdmission {
  readonly #max: number;
  readonly #line = new Fifo<Waiter>();
  /** Callers still in line (the FIFO may hold aborted ones not yet taken off). */
  #waiting = 0;
  /** Slots handed to woken callers that have not queued their request yet. */
  #reserved = 0;

  /**
   * Creates the line.
   *
   * @param max The queue bound (`maxQueued`).
   */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Whether a new caller must wait: the queue is full counting reserved slots, or others are
   * already waiting (who come first).
   *
   * @param queued Requests in the queue now.
   * @returns `true` when the caller must wait (or be refused).
   */
  mustWait(queued: number): boolean {
    return this.#waiting > 0 || queued + this.#reserved >= this.#max;
  }

  /**
   * Waits in line for a slot. Once the promise resolves a slot is reserved for the caller,
   * who must {@link QueueAdmission.claim} it before queueing (or giving up).
   *
   * @param signal Aborts the wait.
   * @param onAbort The error to reject with when `signal` aborts.
   * @returns Resolves with a slot reserved.
   */
  wait(
    signal: AbortSignal | undefined,
    onAbort: (signal: AbortSignal) => KafkaTransportError,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const abort = () => {
        if (!waiter.waiting) return;
        waiter.waiting = false;
        this.#waiting--;
        reject(onAbort(signal!));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener("abort", abort);
          reject(error);
        },
        waiting: true,
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.#line.push(waiter);
      this.#waiting++;
    });
  }

  /** Takes the slot reserved for a woken caller: it now counts as queued (or is given up). */
  claim(): void {
    this.#reserved--;
  }

  /**
   * Wakes the callers first in line for the room there is, reserving a slot for each.
   *
   * @param queued Requests in the queue now.
   */
  wake(queued: number): void {
    while (this.#waiting > 0 && queued + this.#reserved < this.#max) {
      const w = this.#line.shift()!;
      if (!w.waiting) continue;
      w.waiting = false;
      this.#waiting--;
      this.#reserved++;
      w.resolve();
    }
  }

  /**
   * Rejects everyone in line (the connection is closing).
   *
   * @param error The error for each.
   */
  rejectAll(error: () => KafkaTransportError): void {
    for (const w of this.#line.drain()) {
      if (!w.waiting) continue;
      w.waiting = false;
      w.reject(error());
    }
    this.#waiting = 0;
  }
}
