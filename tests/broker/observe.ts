/**
 * Observing a connection from a test without racing it: a log of settlements taken from the
 * `onRequest` hook (which sees a second settlement of a request, where a promise's `.then`
 * never can), and bounded waits for a condition that advance by event-loop turns, not by
 * wall-clock time, so that a loaded machine only makes them slower.
 *
 * @module
 */

import type { BrokerHooks, RequestEvent } from "../../broker/options.ts";
import { settle, type SettlingFakeClock } from "../fixtures/fake_clock.ts";

/** Every settlement the connection reported through its `onRequest` hook. */
export interface SettleLog {
  /** Pass as (or merge into) the connection's `hooks`. */
  readonly hooks: BrokerHooks;
  /** The events, in settlement order. */
  readonly events: RequestEvent[];
  /**
   * Counts the settlements of one API.
   *
   * @param apiKey The API key.
   * @returns How many of its requests settled, successes and failures.
   */
  count(apiKey: number): number;
  /**
   * Counts the failed settlements of one API.
   *
   * @param apiKey The API key.
   * @returns How many of its requests settled with an error.
   */
  failed(apiKey: number): number;
}

/**
 * A fresh settlement log.
 *
 * @returns The log; hand `log.hooks` to the connection.
 */
export function settleLog(): SettleLog {
  const events: RequestEvent[] = [];
  return {
    hooks: { onRequest: (e) => events.push(e) },
    events,
    count: (apiKey) => events.filter((e) => e.apiKey === apiKey).length,
    failed: (apiKey) => events.filter((e) => e.apiKey === apiKey && e.error !== undefined).length,
  };
}

/**
 * Lets async work run until `condition` holds, for at most `turns` event-loop turns.
 *
 * @param condition What to wait for.
 * @param what Names it in the failure message.
 * @param turns The bound; the in-memory broker needs a few turns per round trip.
 * @throws {Error} When the condition still does not hold after `turns` turns.
 */
export async function waitFor(condition: () => boolean, what: string, turns = 2000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) {
    // Promise-driven work (the in-memory link) first: a timer turn costs far more.
    for (let j = 0; j < 20 && !condition(); j++) await Promise.resolve();
    if (!condition()) await settle(1);
  }
  if (!condition()) throw new Error(`still waiting for ${what} after ${turns} event-loop turns`);
}

/**
 * Waits for a real-socket event that may take wall-clock time (a TCP connect, a peer's close):
 * polls `condition` every few milliseconds up to a bound that is generous on a loaded machine.
 *
 * @param condition What to wait for.
 * @param what Names it in the failure message.
 * @param boundMs How long before giving up; far above what the event normally takes.
 * @throws {Error} When the condition still does not hold after `boundMs`.
 */
export async function waitForSocket(
  condition: () => boolean,
  what: string,
  boundMs = 10_000,
): Promise<void> {
  const until = performance.now() + boundMs;
  while (!condition() && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 2));
  }
  if (!condition()) throw new Error(`still waiting for ${what} after ${boundMs} ms`);
}

/**
 * Moves a settling fake clock forward in steps until `condition` holds, bounded in steps.
 *
 * @param clock The clock the connection (and broker) run on.
 * @param condition What to wait for.
 * @param what Names it in the failure message.
 * @param stepMs How far each step moves the clock.
 * @param steps The bound.
 * @throws {Error} When the condition still does not hold after `steps` steps.
 */
export async function advanceUntil(
  clock: SettlingFakeClock,
  condition: () => boolean,
  what: string,
  stepMs = 10,
  steps = 1000,
): Promise<void> {
  for (let i = 0; i < steps && !condition(); i++) await clock.advance(stepMs);
  if (!condition()) {
    throw new Error(`still waiting for ${what} after ${steps} steps of ${stepMs} fake ms`);
  }
}
