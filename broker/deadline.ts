/**
 * The one timer behind every request deadline of a connection: armed for the earliest
 * deadline, and only moved earlier (a scan re-arms it for the next one), instead of a timer per
 * request.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../transport/clock.ts";

/** A single timer armed for the earliest of many deadlines. */
export class DeadlineTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #timer: TimerHandle | null = null;
  #at = Infinity;

  /**
   * Creates the timer, unarmed.
   *
   * @param clock The time source.
   * @param fire Called when the armed deadline is reached (the timer is then unarmed).
   */
  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /** Whether it is armed. */
  get armed(): boolean {
    return this.#timer !== null;
  }

  /**
   * Makes sure the timer fires by `deadline`.
   *
   * @param deadline A time on the clock.
   */
  arm(deadline: number): void {
    if (deadline >= this.#at) return;
    const clock = this.#clock;
    if (this.#timer !== null) clock.clearTimeout(this.#timer);
    this.#at = deadline;
    this.#timer = clock.setTimeout(this.#onTimer, Math.max(0, deadline - clock.now()));
  }

  /** Stops the timer. */
  disarm(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = Infinity;
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#at = Infinity;
    this.#fire();
  };
}
