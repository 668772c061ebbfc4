import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { backoffDelay, INITIAL_BACKOFF, recordAttempt } from "../../broker/backoff.ts";

const settings = { initialMs: 100, maxMs: 10_000 };

test("recordAttempt() allows the first attempt at once and then waits 75%..150% of 100 ms", () => {
  assert.equal(backoffDelay(INITIAL_BACKOFF, 0), 0);
  const low = recordAttempt(INITIAL_BACKOFF, 0, () => 0, settings);
  const high = recordAttempt(INITIAL_BACKOFF, 0, () => 0.999999, settings);
  assert.equal(backoffDelay(low, 0), 75);
  assert.equal(backoffDelay(high, 0), 149);
  assert.equal(low.currentMs, 200);
});

test("recordAttempt() doubles the base up to the cap and caps the delay", () => {
  let state = INITIAL_BACKOFF;
  let now = 0;
  const bases: number[] = [];
  for (let i = 0; i < 10; i++) {
    const before = state.currentMs < 0 ? settings.initialMs : state.currentMs;
    state = recordAttempt(state, now, () => 0.5, settings);
    const delay = backoffDelay(state, now);
    assert.ok(delay >= Math.floor(before * 0.75) && delay <= Math.min(10_000, before * 1.5));
    bases.push(state.currentMs);
    now = state.nextAttemptAt;
  }
  assert.deepEqual(bases, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000]);
  assert.equal(backoffDelay(recordAttempt(state, now, () => 0.999, settings), now), 10_000);
});

test("recordAttempt() resets to the initial backoff after a long quiet period", () => {
  let state = recordAttempt(INITIAL_BACKOFF, 0, () => 0, settings);
  for (let i = 0; i < 4; i++) state = recordAttempt(state, state.nextAttemptAt, () => 0, settings);
  assert.equal(state.currentMs, 3200);
  // Still within maxMs of the scheduled time: keeps growing.
  const near = recordAttempt(state, state.nextAttemptAt + 10_000, () => 0, settings);
  assert.equal(near.currentMs, 6400);
  const later = recordAttempt(state, state.nextAttemptAt + 10_001, () => 0, settings);
  assert.equal(later.currentMs, 200);
  assert.equal(backoffDelay(later, state.nextAttemptAt + 10_001), 75);
});

test("backoffDelay() counts from the attempt start, so a long-lived connection redials at once", () => {
  const state = recordAttempt(INITIAL_BACKOFF, 0, () => 0.5, settings);
  assert.equal(backoffDelay(state, 50), 62);
  assert.equal(backoffDelay(state, 5000), 0);
});
