/**
 * The per-dial socket of a broker connection (`broker/socket.ts`) on its own: the decoder's
 * reply minimum, legacy SASL frames on the same read path, a loss held behind a setup reply,
 * and silence once it is dropped.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { FakeClock, settle } from "../fixtures/fake_clock.ts";
import { FramingError } from "../../framing/errors.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { ConnectionClosedError } from "../../transport/errors.ts";
import { memoryPair } from "../../transport/memory.ts";
import { BrokerSocket } from "../../broker/socket.ts";

function rig() {
  const clock = new FakeClock(0);
  const seen = { replies: [] as Uint8Array[], ended: [] as unknown[] };
  const socket = new BrokerSocket(
    {
      reply: (frame) => {
        seen.replies.push(frame.slice());
        return false;
      },
      received: () => clock.now(),
      chunkDone: () => {},
      readEnded: (_s, error) => void seen.ended.push(error),
    },
    clock,
    1000,
  );
  const { client, server } = memoryPair();
  assert.equal(socket.open(client), true);
  socket.start();
  return { clock, socket, server, seen };
}

test("BrokerSocket: a reply frame shorter than a correlation id fails the read path", async () => {
  const { server, seen } = rig();
  await server.write(new Uint8Array([0, 0, 0, 2, 1, 2]));
  await settle(2);
  assert.equal(seen.replies.length, 0);
  assert.ok(seen.ended[0] instanceof FramingError, String(seen.ended[0]));
  assert.match((seen.ended[0] as Error).message, /allowed 4\.\.1000/);
});

test("BrokerSocket: legacy SASL frames, empty ones included, answer the token sent", async () => {
  const { socket, server, seen } = rig();
  socket.setLegacy(true);
  let written = 0;
  const answer = socket.legacyRoundTrip(new Uint8Array([7, 8]), (n) => (written = n), () => {});
  assert.equal(socket.awaitingLegacyReply, true);
  assert.deepEqual([...(await server.read())!], [0, 0, 0, 2, 7, 8]);
  await server.write(new Uint8Array([0, 0, 0, 0]));
  assert.deepEqual([...await answer], []);
  assert.equal(written, 6);
  assert.equal(socket.awaitingLegacyReply, false);
  assert.equal(seen.replies.length, 0, "not handed to the pipeline");
  // A reply held back behind the token answer: the loss waits for the setup steps.
  const loss = new ConnectionClosedError("gone");
  let failed: unknown = null;
  socket.lose(loss, (e) => (failed = e));
  assert.equal(failed, null);
  assert.equal(socket.takeDeferredLoss(), loss);
  assert.equal(socket.takeDeferredLoss(), null);
  socket.setLegacy(false);
  await server.write(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 9]));
  await settle(2);
  assert.equal(seen.replies.length, 1, "back to replies after legacy SASL");
});

test("BrokerSocket: a frame nobody asked for during legacy SASL is an authentication failure", async () => {
  const { socket, server, seen } = rig();
  socket.setLegacy(true);
  await server.write(new Uint8Array([0, 0, 0, 1, 5]));
  await settle(2);
  assert.ok(seen.ended[0] instanceof AuthenticationError, String(seen.ended[0]));
  assert.match((seen.ended[0] as Error).message, /unexpected frame during legacy SASL/);
});

test("BrokerSocket: once killed it reports nothing and its setup timer is gone", async () => {
  const { clock, socket, server, seen } = rig();
  let timedOut = false;
  socket.armSetupTimer(100, () => (timedOut = true));
  const token = socket.legacyRoundTrip(new Uint8Array([1]), () => {}, () => {});
  const error = new ConnectionClosedError("dropped");
  socket.kill(error, undefined);
  await assert.rejects(token, (e) => e === error);
  assert.equal(socket.dead, true);
  clock.advance(200);
  assert.equal(timedOut, false);
  assert.equal(clock.pending, 0);
  await server.write(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 1])).catch(() => {});
  await settle(2);
  assert.deepEqual(seen, { replies: [], ended: [] });
});

test("BrokerSocket: dropped while dialling, it aborts the dial and closes a late connection", async () => {
  const socket = new BrokerSocket(
    {
      reply: () => false,
      received: () => 0,
      chunkDone: () => {},
      readEnded: () => {},
    },
    new FakeClock(0),
    1000,
  );
  const error = new ConnectionClosedError("superseded");
  socket.kill(error, undefined);
  assert.equal(socket.dialSignal.aborted, true);
  assert.equal(socket.dialSignal.reason, error);
  const { client } = memoryPair();
  assert.equal(socket.open(client), false);
  assert.equal(await client.closed, undefined);
});
