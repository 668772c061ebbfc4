/**
 * A manual {@link Clock} for the transport tests: time moves only through
 * {@link FakeClock.advance}, which fires due timers in order.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../../transport/clock.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  /** @returns The fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * @param fn Runs once the fake time reaches now + `ms`.
   * @param ms Delay in milliseconds.
   * @returns The handle.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.#now + ms, seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  /** @param handle A handle from {@link FakeClock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as Timer);
  }

  /** @returns How many timers are scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward, firing every timer that falls due, earliest first.
   *
   * @param ms How far to move.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers) {
        if (
          timer.at <= end && (next === undefined || timer.at < next.at ||
            (timer.at === next.at && timer.seq < next.seq))
        ) next = timer;
      }
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}

/**
 * Lets queued promise callbacks run: a few real macrotask turns.
 *
 * @param turns How many turns to yield.
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/**
 * Observes whether a promise has settled, without consuming its outcome.
 *
 * @param promise The promise to watch.
 * @returns An object whose `settled` turns true once the promise settles.
 */
export function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  promise.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}
