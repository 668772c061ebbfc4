/**
 * When KIP-368 re-authentication starts: at 90 % of the session lifetime the broker granted
 * (librdkafka's rule), on a timer that dies with the connection.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../transport/clock.ts";

/** Re-authenticate at this fraction of the session lifetime (librdkafka; KIP-368). */
export const REAUTH_AT = 0.9;

/**
 * How long after authenticating re-authentication starts.
 *
 * @param lifetimeMs The session lifetime the broker granted.
 * @returns The delay in milliseconds.
 */
export function reauthDelay(lifetimeMs: number): number {
  return Math.floor(lifetimeMs * REAUTH_AT);
}

/** The re-authentication timer of one connection. */
export class ReauthSchedule {
  readonly #clock: Clock;
  #timer: TimerHandle | null = null;

  /**
   * Creates the schedule, unarmed.
   *
   * @param clock The time source.
   */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Schedules re-authentication for a session that lasts `lifetimeMs`.
   *
   * @param lifetimeMs The session lifetime; 0 or less schedules nothing.
   * @param start Starts re-authentication.
   */
  arm(lifetimeMs: number, start: (lifetimeMs: number) => void): void {
    this.cancel();
    if (!(lifetimeMs > 0)) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      start(lifetimeMs);
    }, reauthDelay(lifetimeMs));
  }

  /** Cancels a scheduled re-authentication. */
  cancel(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
