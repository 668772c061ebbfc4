import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { Conn, Listener, ListenFn } from "../../transport/conn.ts";
import { KafkaTransportError } from "../../transport/errors.ts";
import { MockBroker } from "../../testing/mod.ts";
import { dial } from "./dial.ts";

/** A fake listener whose `accept()` is settled by the test, and which records `close()`. */
class FakeListener implements Listener {
  readonly addr = { hostname: "127.0.0.1", port: 40_001 };
  readonly failWith: unknown;
  closes = 0;
  readonly closed: Promise<void>;
  readonly #onClosed: () => void;
  #pending: { reject: (error: unknown) => void } | null = null;
  readonly #rejectOnClose: unknown;

  /**
   * @param failWith What every `accept()` rejects with at once; `undefined` to keep `accept()`
   *   pending until `close()` instead.
   * @param rejectOnClose What a pending `accept()` rejects with on `close()` (as a runtime may
   *   do for a listener closed under it); it resolves `null` when `undefined`.
   */
  constructor(failWith: unknown, rejectOnClose?: unknown) {
    this.failWith = failWith;
    this.#rejectOnClose = rejectOnClose;
    let onClosed!: () => void;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.#onClosed = onClosed;
  }

  accept(): Promise<Conn | null> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    if (this.closes > 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#pending = {
        reject: (error) => error === undefined ? resolve(null) : reject(error),
      };
    });
  }

  close(): void {
    this.closes++;
    this.#pending?.reject(this.#rejectOnClose);
    this.#pending = null;
    this.#onClosed();
  }
}

function fakeListen(make: () => FakeListener): { listen: ListenFn; made: FakeListener[] } {
  const made: FakeListener[] = [];
  const listen: ListenFn = () => {
    const listener = make();
    made.push(listener);
    return Promise.resolve(listener);
  };
  return { listen, made };
}

test("MockBroker records a listener whose accept() rejects, closes it, and close() rejects with it", async () => {
  const cause = new Error("EMFILE: too many open files");
  const { listen, made } = fakeListen(() => new FakeListener(cause));
  const broker = await MockBroker.start({ listen, nodeId: 7 });
  await made[0].closed; // the broker closes the failed listener
  const error = broker.listenerError;
  assert.ok(error instanceof KafkaTransportError);
  assert.equal(error.cause, cause);
  assert.match(
    error.message,
    /^Mock broker 7 stopped accepting connections on 127\.0\.0\.1:40001: its listener's accept\(\) failed \(Error: EMFILE: too many open files\)/,
  );
  assert.equal(made[0].closes, 1);
  assert.equal(broker.isDown, false);
  // In-memory dials are unaffected.
  const client = await dial(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await client.reply(1);
  } finally {
    client.close();
  }
  await assert.rejects(broker.close(), (e) => e === error);
  await assert.rejects(broker.close(), (e) => e === error, "close() stays idempotent");
});

test("MockBroker down() then up() binds a new listener and clears listenerError", async () => {
  let failing = true;
  const { listen, made } = fakeListen(() =>
    new FakeListener(failing ? new Error("boom") : undefined)
  );
  const broker = await MockBroker.start({ listen });
  await made[0].closed;
  assert.ok(broker.listenerError instanceof KafkaTransportError);
  failing = false;
  broker.down();
  await broker.up();
  assert.equal(made.length, 2);
  assert.equal(broker.listenerError, undefined);
  await broker.close(); // resolves: the new listener did not fail
  assert.equal(made[1].closes, 1);
});

test("MockBroker ignores an accept() rejected because down() or close() closed the listener", async () => {
  const closedUnderIt = new Error("BadResource: listener closed");
  const { listen, made } = fakeListen(() => new FakeListener(undefined, closedUnderIt));
  const broker = await MockBroker.start({ listen });
  broker.down();
  await made[0].closed;
  assert.equal(broker.listenerError, undefined);
  await broker.up();
  await broker.close(); // resolves
  assert.equal(made[1].closes, 1);
  assert.equal(broker.listenerError, undefined);
});
