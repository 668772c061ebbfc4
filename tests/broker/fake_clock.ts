/**
 * A manual clock for the broker connection's timing logic, plus helpers that let the async
 * machinery (promises, in-memory sockets) run between fake timer firings.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../../transport/clock.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Lets pending promise callbacks and zero-delay real timers run: one real macrotask turn,
 * repeated `turns` times.
 *
 * @param turns How many macrotask turns to yield.
 */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** A {@link Clock} whose time moves only through {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  #now = 1000;
  #seq = 0;
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
    const timer = { at: this.#now + ms, seq: this.#seq++, fn };
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

  /** The delays (from now) of the timers pending, ascending. */
  get delays(): number[] {
    return [...this.#timers].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order and letting async work run
   * after each one.
   *
   * @param ms How far.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
        }
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}
