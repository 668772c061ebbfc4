/**
 * The Conn contract: one set of tests every adapter's connections pass (memory pair, Deno, Bun,
 * Node, the Workers adapter over a stream pair). Each adapter supplies a {@link ContractSubject}
 * that makes connected pairs and a dial that never completes by itself; the tests name the
 * subject, e.g. "[node] contract: EOF ...".
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { Conn, ConnectOptions } from "../../transport/conn.ts";
import {
  AbortError,
  ConnectionClosedError,
  KafkaTransportError,
  TimeoutError,
} from "../../transport/errors.ts";
import { assertSameBytes, concatBytes } from "../fixtures/bytes.ts";
import { track } from "../fixtures/fake_clock.ts";
import { pattern, readExactly, readToEnd, sleep } from "./loopback.ts";

/** Two connected ends and how to clean up after them. */
export interface ContractPair {
  /** The dialling end. */
  client: Conn;
  /** The accepting end. */
  server: Conn;
  /** Closes both ends and whatever listener made them. */
  dispose(): Promise<void> | void;
}

/** A dial that hangs until it is timed out or aborted, and its cleanup. */
export interface StalledDial {
  /**
   * Starts the dial.
   *
   * @param limits The `timeoutMs` / `signal` under test.
   * @returns What the connector returns.
   */
  dial(limits: Pick<ConnectOptions, "signal" | "timeoutMs">): Promise<Conn>;
  /** Releases the silent peer. */
  dispose(): Promise<void> | void;
}

/** What one adapter brings to the contract. */
export interface ContractSubject {
  /** Shown in every test name, e.g. `"node"`. */
  name: string;
  /** Makes a connected plaintext pair. */
  pair(): Promise<ContractPair>;
  /** Makes a connected TLS pair; absent when the adapter has no TLS to test here. */
  tlsPair?: () => Promise<ContractPair>;
  /** Starts a dial that does not complete by itself. */
  stalledDial(): Promise<StalledDial>;
  /** A write this large cannot be taken in full while the peer reads nothing. */
  unreadLimitBytes: number;
}

async function withPair(
  make: () => Promise<ContractPair>,
  body: (client: Conn, server: Conn) => Promise<void>,
): Promise<void> {
  const pair = await make();
  try {
    await body(pair.client, pair.server);
  } finally {
    await pair.dispose();
  }
}

/**
 * Registers the contract's tests for one adapter.
 *
 * @param subject The adapter under test.
 */
export function connContract(subject: ContractSubject): void {
  const { name } = subject;
  const pair = () => subject.pair();
  const check = (what: string, body: () => Promise<void>) =>
    test(`[${name}] contract: ${what}`, body, { timeoutMs: 30_000 });

  check("bytes arrive intact and in order both ways", async () => {
    await withPair(pair, async (client, server) => {
      const up = [1, 2, 3, 4, 5].map((i) => pattern(100 * i, i));
      const down = [6, 7, 8].map((i) => pattern(1000 * i, i));
      const writing = Promise.all([
        ...up.map((bytes) => client.write(bytes)),
        ...down.map((bytes) => server.write(bytes)),
      ]);
      const total = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);
      const [atServer, atClient] = await Promise.all([
        readExactly(server, total(up)),
        readExactly(client, total(down)),
      ]);
      await writing;
      assertSameBytes(atServer, concatBytes(up), "client to server");
      assertSameBytes(atClient, concatBytes(down), "server to client");
    });
  });

  check("large concurrent writes arrive in order while the peer reads slowly", async () => {
    await withPair(pair, async (client, server) => {
      const size = Math.max(subject.unreadLimitBytes / 2, 64 * 1024);
      const parts = [0, 1, 2, 3].map((seed) => pattern(size, seed));
      const order: number[] = [];
      const writes = parts.map((part, i) => client.write(part).then(() => order.push(i)));
      const got = new Uint8Array(size * parts.length);
      let received = 0;
      let sinceNap = 0;
      while (received < got.length) {
        const chunk = await server.read();
        assert.ok(chunk !== null, `stream ended after ${received} bytes`);
        got.set(chunk, received);
        received += chunk.length;
        sinceNap += chunk.length;
        if (sinceNap >= size / 4) {
          sinceNap = 0;
          await sleep(2); // a slow reader: the writer must wait for it
        }
      }
      for (const [i, part] of parts.entries()) {
        assertSameBytes(got.subarray(i * size, (i + 1) * size), part, `write ${i}`);
      }
      await Promise.all(writes);
      assert.deepEqual(order, [0, 1, 2, 3]);
    });
  });

  check("a write larger than the peer buffers stays pending until the peer reads", async () => {
    await withPair(pair, async (client, server) => {
      const payload = pattern(subject.unreadLimitBytes, 9);
      const write = client.write(payload);
      const state = track(write);
      await sleep(200);
      assert.equal(state.settled, false, `${payload.length} bytes accepted although nobody reads`);
      assertSameBytes(await readExactly(server, payload.length), payload, "payload");
      await write;
    });
  });

  check("chunks handed out by read() are never overwritten by later reads", async () => {
    await withPair(pair, async (client, server) => {
      const expected: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) expected.push(pattern(100 + (i % 7) * 333, i));
      const writing = (async () => {
        for (const piece of expected) await server.write(piece);
        server.close();
      })();
      const kept: Uint8Array[] = [];
      for (let chunk = await client.read(); chunk !== null; chunk = await client.read()) {
        kept.push(chunk);
      }
      await writing;
      assertSameBytes(concatBytes(kept), concatBytes(expected), "retained chunks");
    });
  });

  check(
    "EOF: a peer closing mid-frame gives the partial bytes, then null; writes reject",
    async () => {
      await withPair(pair, async (client, server) => {
        await server.write(new Uint8Array([0, 0, 0, 10, 1, 2])); // 6 of a 14-byte frame
        server.close();
        assertSameBytes(await readToEnd(client), new Uint8Array([0, 0, 0, 10, 1, 2]), "partial");
        assert.equal(await client.closed, undefined);
        assert.equal(await client.read(), null);
        await assert.rejects(client.write(new Uint8Array([1])), ConnectionClosedError);
      });
    },
  );

  check(
    "reset: a peer closing with unread data fails the pending write, closed, reads and writes",
    async () => {
      await withPair(pair, async (client, server) => {
        const write = client.write(pattern(subject.unreadLimitBytes, 3)).then(() => null, (e) => e);
        await sleep(100); // the peer's buffers fill up, unread
        server.close(); // unread data: the link is reset, not closed cleanly
        const error = await write;
        assert.ok(error instanceof ConnectionClosedError, `write: ${error}`);
        const reason = await client.closed;
        assert.ok(reason instanceof ConnectionClosedError, `closed: ${reason}`);
        assert.equal(reason.retriable, true);
        // Reads and writes after a failure report the failure itself, so the connection above
        // classifies it the same whichever call it hears from first.
        const readError = await client.read().catch((e) => e);
        assert.equal(readError, reason);
        assert.equal(await client.write(new Uint8Array([1])).catch((e) => e), reason);
      });
    },
  );

  check("write after end rejects with ConnectionClosedError naming the reason", async () => {
    await withPair(pair, async (client) => {
      client.close(new KafkaTransportError("shutting down"));
      const error = await client.write(new Uint8Array([1])).catch((e) => e);
      assert.ok(error instanceof ConnectionClosedError, `got ${error}`);
      assert.match(error.message, /closed \(shutting down\)/);
      await assert.rejects(client.write(new Uint8Array(0)), ConnectionClosedError);
    });
  });

  check("a second concurrent read() is refused and the first still gets the data", async () => {
    await withPair(pair, async (client, server) => {
      const first = client.read();
      const second = await client.read().catch((e) => e);
      assert.ok(second instanceof KafkaTransportError, `got ${second}`);
      assert.match(second.message, /another read\(\) is pending/);
      await server.write(new Uint8Array([1]));
      assert.deepEqual(await first, new Uint8Array([1]));
    });
  });

  check("close() while a read is pending ends it with null; later reads get null", async () => {
    await withPair(pair, async (client, server) => {
      const pending = client.read();
      client.close();
      assert.equal(await pending, null);
      assert.equal(await client.read(), null);
      assert.equal(await client.closed, undefined);
      assert.equal(await server.read(), null, "the peer sees end of stream");
    });
  });

  check("close(reason) fails pending writes, settles closed with the reason once", async () => {
    await withPair(pair, async (client) => {
      const pending = client.write(pattern(subject.unreadLimitBytes, 5));
      const queued = client.write(new Uint8Array([1]));
      const reason = new KafkaTransportError("request timed out");
      client.close(reason);
      await assert.rejects(pending, ConnectionClosedError);
      await assert.rejects(queued, /closed \(request timed out\)/);
      client.close();
      client.close(new KafkaTransportError("later"));
      assert.equal(await client.closed, reason);
    });
  });

  check("a dial that does not complete in timeoutMs fails with TimeoutError", async () => {
    const stalled = await subject.stalledDial();
    try {
      const started = performance.now();
      const error = await stalled.dial({ timeoutMs: 200 }).catch((e) => e);
      const elapsed = performance.now() - started;
      assert.ok(error instanceof TimeoutError, `got ${error}`);
      assert.match(error.message, /timed out after 200 ms/);
      assert.equal(error.retriable, true);
      assert.ok(elapsed >= 190 && elapsed < 5000, `gave up after ${elapsed} ms`);
    } finally {
      await stalled.dispose();
    }
  });

  check("aborting a dial, before or during it, fails with AbortError", async () => {
    const stalled = await subject.stalledDial();
    try {
      const before = new AbortController();
      before.abort();
      await assert.rejects(stalled.dial({ signal: before.signal }), AbortError);
      const during = new AbortController();
      const dial = stalled.dial({ signal: during.signal });
      setTimeout(() => during.abort(new Error("shutting down")), 50);
      const error = await dial.catch((e) => e);
      assert.ok(error instanceof AbortError, `got ${error}`);
      assert.equal(error.retriable, false);
    } finally {
      await stalled.dispose();
    }
  });

  const tlsPair = subject.tlsPair;
  if (tlsPair !== undefined) {
    check("TLS: bytes arrive both ways over a secure connection; EOF is clean", async () => {
      await withPair(tlsPair, async (client, server) => {
        assert.equal(client.secure, true);
        assert.equal(server.secure, true);
        const up = pattern(300_000, 1);
        const writing = client.write(up);
        assertSameBytes(await readExactly(server, up.length), up, "client to server");
        await writing;
        await server.write(new Uint8Array([4, 5, 6]));
        server.close();
        assertSameBytes(await readToEnd(client), new Uint8Array([4, 5, 6]), "server to client");
        assert.equal(await client.closed, undefined);
      });
    });
  }
}
