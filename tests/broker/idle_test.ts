import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker } from "../../testing/mod.ts";
import type { StateChange } from "../../broker/state.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { SettlingFakeClock as FakeClock, track } from "../fixtures/fake_clock.ts";

test("connectionsMaxIdleMs closes quietly at the limit minus jitter, not before", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  const clock = new FakeClock();
  // random 0.5 → jitter floor(0.5 × 2000) = 1000 ms: the limit is 4000 ms.
  await using conn = connectionTo(broker, { clock, random: () => 0.5, connectionsMaxIdleMs: 5000 });
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  assert.equal(await conn.send(Echo, 1), 1);
  await clock.advance(3000);
  assert.equal(conn.state, "UP", "no close at 3 s");
  assert.equal(await conn.send(Echo, 2), 2); // activity restarts the idle period
  await clock.advance(3999);
  assert.equal(conn.state, "UP");
  await clock.advance(1);
  assert.equal(conn.state, "DOWN");
  const down = changes.at(-1)!;
  assert.equal(down.reason, "idle");
  assert.equal(down.from, "UP");
  assert.equal(conn.stats().lastError, null, "an idle close is not an error");
  assert.equal(broker.connections, 0);
  // The next request dials again.
  assert.equal(await conn.send(Echo, 3), 3);
  assert.equal(conn.stats().connects, 2);
});

test("connectionsMaxIdleMs never closes while a request is waiting for its reply", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  // The reply comes 250 ms (of the shared fake clock) after the request: 2.5 idle periods.
  serveEcho(broker, () => 250, clock);
  await using conn = connectionTo(broker, { clock, random: () => 0, connectionsMaxIdleMs: 100 });
  await conn.connect();
  const pending = track(conn.send(Echo, 1));
  await clock.advance(249);
  assert.equal(pending.settled, false, "the reply is not due yet");
  assert.equal(conn.state, "UP", "no idle close while a reply is awaited");
  await clock.advance(1);
  assert.equal(pending.settled, true);
  assert.equal(conn.state, "UP");
  // Idle from the reply on: closed once a full period has passed without activity.
  await clock.advance(99);
  assert.equal(conn.state, "UP");
  await clock.advance(101);
  assert.equal(conn.state, "DOWN");
});
