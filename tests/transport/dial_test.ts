import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { checkConnectOptions, guardDial, targetOf } from "../../transport/dial.ts";
import {
  AbortError,
  ConfigError,
  ConnectionRefusedError,
  TimeoutError,
} from "../../transport/errors.ts";
import { FakeClock } from "../fixtures/fake_clock.ts";

test("targetOf() brackets IPv6 literals", () => {
  assert.equal(targetOf("localhost", 9092), "localhost:9092");
  assert.equal(targetOf("::1", 9092), "[::1]:9092");
});

test("checkConnectOptions() rejects what no connector can dial", () => {
  checkConnectOptions({ host: "h", port: 1, timeoutMs: 0, tls: { cert: "c", key: "k" } });
  for (
    const bad of [
      { host: "", port: 1 },
      { host: "h", port: 0 },
      { host: "h", port: 65536 },
      { host: "h", port: 1.5 },
      { host: "h", port: 1, timeoutMs: -1 },
      { host: "h", port: 1, timeoutMs: NaN },
      { host: "h", port: 1, tls: { cert: "c" } },
      { host: "h", port: 1, tls: { key: "k" } },
    ]
  ) {
    assert.throws(() => checkConnectOptions(bad), ConfigError, JSON.stringify(bad));
  }
});

test("guardDial() times out, aborts the dial and closes a connection that arrives late", async () => {
  const clock = new FakeClock();
  let seen: AbortSignal | undefined;
  let deliver: (value: string) => void = () => {};
  const discarded: string[] = [];
  const result = guardDial("h:1", { timeoutMs: 100 }, clock, (abort) => {
    seen = abort;
    return new Promise<string>((resolve) => (deliver = resolve));
  }, (late) => discarded.push(late)).catch((e) => e);
  clock.advance(99);
  assert.equal(seen?.aborted, false);
  clock.advance(1);
  const error = await result;
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.message.startsWith("Connect to h:1 timed out after 100 ms"), true);
  assert.equal(seen?.aborted, true);
  assert.equal(seen?.reason, error);
  deliver("late socket");
  await Promise.resolve();
  assert.deepEqual(discarded, ["late socket"]);
});

test("guardDial() resolves with the dial's result and clears its timer", async () => {
  const clock = new FakeClock();
  const value = await guardDial("h:1", { timeoutMs: 100 }, clock, () => Promise.resolve(7), () => {
    throw new Error("must not discard");
  });
  assert.equal(value, 7);
  assert.equal(clock.pending, 0);
});

test("guardDial() passes the dial's own error through and clears its timer", async () => {
  const clock = new FakeClock();
  const refused = new ConnectionRefusedError("refused");
  await assert.rejects(
    guardDial("h:1", { timeoutMs: 100 }, clock, () => Promise.reject(refused), () => {}),
    (e) => e === refused,
  );
  assert.equal(clock.pending, 0);
});

test("guardDial() rejects with AbortError on abort and drops the dial's later error", async () => {
  const clock = new FakeClock();
  const controller = new AbortController();
  let fail: (e: unknown) => void = () => {};
  const result = guardDial(
    "h:1",
    { signal: controller.signal, timeoutMs: 1000 },
    clock,
    () => new Promise<never>((_, reject) => (fail = reject)),
    () => {},
  );
  controller.abort(new Error("user gave up"));
  const error = await result.catch((e) => e);
  assert.ok(error instanceof AbortError);
  assert.equal((error.cause as Error).message, "user gave up");
  assert.equal(clock.pending, 0);
  fail(new Error("cancelled")); // must not surface as an unhandled rejection
});

test("guardDial() does not start the dial when the signal is already aborted", async () => {
  let started = false;
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    guardDial("h:1", { signal: controller.signal }, new FakeClock(), () => {
      started = true;
      return Promise.resolve(1);
    }, () => {}),
    AbortError,
  );
  assert.equal(started, false);
});
