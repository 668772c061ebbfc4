/**
 * The clock, read at most once per microtask checkpoint for the hot path: requests submitted in
 * one turn, the batch written for them, its write completing and the replies in one chunk share
 * one reading. Reading the clock can cost more than queueing a request (on VMs without a usable
 * vDSO clock it is a system call), and within one checkpoint no I/O happens, so the reading is
 * off by at most the JavaScript run since it was taken.
 *
 * @module
 */

import type { Clock } from "../transport/clock.ts";

/** A clock reading shared by everything in one microtask checkpoint. */
export class TurnClock {
  readonly #clock: Clock;
  #now = 0;
  #fresh = false;

  /**
   * Wraps a clock.
   *
   * @param clock The connection's clock.
   */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * The time, read once per checkpoint.
   *
   * @returns The clock's reading from earlier in this checkpoint, or a new one.
   */
  now(): number {
    if (!this.#fresh) {
      this.#now = this.#clock.now();
      this.#fresh = true;
      queueMicrotask(this.#forget);
    }
    return this.#now;
  }

  readonly #forget = (): void => {
    this.#fresh = false;
  };
}
