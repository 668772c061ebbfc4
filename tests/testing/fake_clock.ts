/**
 * A manual clock for the test broker's timing logic: time moves only through `advance`.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../../transport/clock.ts";

interface Timer {
  at: number;
  fn: () => void;
}

/** A {@link Clock} whose time moves only when a test calls {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 0;
  readonly #timers = new Set<Timer>();

  /** @returns The fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * @param fn Runs once the fake time reaches now + `ms`.
   * @param ms Delay.
   * @returns The handle.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.#now + ms, fn };
    this.#timers.add(timer);
    return timer;
  }

  /** @param handle A handle from {@link FakeClock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as Timer);
  }

  /** The number of timers not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward, firing due timers in time order.
   *
   * @param ms How far.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.#timers) if (t.at <= end && (!next || t.at < next.at)) next = t;
      if (!next) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}
