/**
 * Injectable time and randomness, so that timeouts, backoff and idle logic can be tested
 * exactly with a fake clock.
 *
 * @module
 */

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** The time source and timer facility used by the broker connection. */
export interface Clock {
  /**
   * Reads the current time.
   *
   * @returns Milliseconds on a monotonic scale (only differences matter).
   */
  now(): number;
  /**
   * Schedules `fn` once after `ms` milliseconds.
   *
   * @param fn What to run.
   * @param ms Delay in milliseconds.
   * @returns A handle for {@link Clock.clearTimeout}.
   */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /**
   * Cancels a timer; unknown or already fired handles are ignored.
   *
   * @param handle What {@link Clock.setTimeout} returned.
   */
  clearTimeout(handle: TimerHandle): void;
}

/** A source of uniformly distributed numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/** The real clock: `performance.now()` and the global timer functions, standard everywhere. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
