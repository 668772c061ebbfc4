/**
 * Reconnect backoff, as a pure function of the previous state, the time and a random number.
 *
 * @module
 */

import type { Random } from "../transport/clock.ts";

/** Reconnect backoff settings. */
export interface BackoffSettings {
  /** The initial backoff in milliseconds, at least 1 (librdkafka's `reconnect.backoff.ms`, 100). */
  readonly initialMs: number;
  /** The cap in milliseconds (librdkafka's `reconnect.backoff.max.ms`, 10 000). */
  readonly maxMs: number;
}

/** Where the backoff stands between two connection attempts. */
export interface BackoffState {
  /** The base the next delay is drawn around; doubles after each attempt up to the cap. */
  readonly currentMs: number;
  /** The earliest time the next attempt may start, on the clock used for `now`. */
  readonly nextAttemptAt: number;
}

/** The state before any attempt: no wait for the first connection. */
export const INITIAL_BACKOFF: BackoffState = { currentMs: -1, nextAttemptAt: -Infinity };

/**
 * Records a connection attempt starting at `now` and works out when the next one may start.
 *
 * Follows librdkafka: if the previously scheduled attempt time is more than `maxMs` in the past
 * the base resets to `initialMs` (a connection that stayed up a while starts over); the delay is
 * the base times a random factor in 0.75..1.5, capped at `maxMs`; then the base doubles, capped
 * at `maxMs`. The delay counts from the start of this attempt, so a connection that lived
 * longer than it may reconnect at once. The delay is at least 1 ms even where the jitter rounds
 * down to 0, so that a connector failing at once cannot spin the event loop.
 *
 * @param state The state after the previous attempt ({@link INITIAL_BACKOFF} before the first).
 * @param now The start of this attempt.
 * @param random Uniform in [0, 1); the jitter source.
 * @param settings Initial and maximum backoff.
 * @returns The new state; its `nextAttemptAt` is `now` plus the delay.
 */
export function recordAttempt(
  state: BackoffState,
  now: number,
  random: Random,
  settings: BackoffSettings,
): BackoffState {
  const base = state.currentMs < 0 || state.nextAttemptAt + settings.maxMs < now
    ? settings.initialMs
    : state.currentMs;
  const jittered = Math.max(1, Math.floor(base * (0.75 + 0.75 * random())));
  const delayMs = Math.min(settings.maxMs, jittered);
  return { currentMs: Math.min(base * 2, settings.maxMs), nextAttemptAt: now + delayMs };
}

/**
 * How long to wait before the next attempt.
 *
 * @param state The state after the last attempt.
 * @param now The current time.
 * @returns Milliseconds to wait; 0 when an attempt may start now.
 */
export function backoffDelay(state: BackoffState, now: number): number {
  return Math.max(0, state.nextAttemptAt - now);
}
