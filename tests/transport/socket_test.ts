import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { Conn, Listener } from "../../transport/conn.ts";
import {
  AbortError,
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  KafkaTransportError,
  TimeoutError,
} from "../../transport/errors.ts";
import { echo, pattern, readExactly, readToEnd, sleep } from "./loopback.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { assertSameBytes } from "../fixtures/bytes.ts";
import { concatBytes } from "../fixtures/bytes.ts";
import { track } from "../fixtures/fake_clock.ts";

const { connector, listen, name } = adapter;

/** Runs `body` with a plaintext listener and a connected client/server pair, then cleans up. */
async function withPair(body: (client: Conn, server: Conn, listener: Listener) => Promise<void>) {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  let client: Conn | undefined;
  let server: Conn | null = null;
  try {
    const accepted = listener.accept();
    client = await connector({ host: "127.0.0.1", port: listener.addr.port, timeoutMs: 5000 });
    server = await accepted;
    assert.ok(server !== null);
    await body(client, server, listener);
  } finally {
    client?.close();
    server?.close();
    listener.close();
  }
}

test(`${name}: echo round trip, addresses and socket options`, async () => {
  const listener = await listen();
  assert.equal(listener.addr.hostname, "127.0.0.1");
  assert.ok(listener.addr.port > 0);
  const served = listener.accept().then((conn) => echo(conn!));
  const conn = await connector({ host: "127.0.0.1", port: listener.addr.port, timeoutMs: 5000 });
  try {
    assert.equal(conn.secure, false);
    assert.deepEqual(conn.remoteAddr, { hostname: "127.0.0.1", port: listener.addr.port });
    assert.equal(conn.localAddr.hostname, "127.0.0.1");
    conn.setNoDelay(true);
    conn.setKeepAlive(true);
    const frame = new Uint8Array([0, 0, 0, 5, 104, 101, 108, 108, 111]);
    await conn.write(frame);
    assertSameBytes(await readExactly(conn, frame.length), frame, "echo");
  } finally {
    conn.close();
    await served;
    listener.close();
  }
  assert.equal(await conn.closed, undefined);
});

test(`${name}: 8 MiB in four concurrent writes arrives intact and in order while the peer reads slowly`, async () => {
  await withPair(async (client, server) => {
    const parts = [0, 1, 2, 3].map((seed) => pattern(2 * 1024 * 1024, seed));
    const order: number[] = [];
    const writes = parts.map((part, i) => client.write(part).then(() => order.push(i)));
    const total = parts.length * parts[0].length;
    const got = new Uint8Array(total);
    let received = 0;
    let sinceNap = 0;
    while (received < total) {
      const chunk = await server.read();
      assert.ok(chunk !== null, `stream ended after ${received} bytes`);
      got.set(chunk, received);
      received += chunk.length;
      sinceNap += chunk.length;
      if (sinceNap >= 512 * 1024) {
        sinceNap = 0;
        await sleep(2); // a slow reader: the writer must wait for it
      }
    }
    for (const [i, part] of parts.entries()) {
      assertSameBytes(got.subarray(i * part.length, (i + 1) * part.length), part, `write ${i}`);
    }
    await Promise.all(writes);
    assert.deepEqual(order, [0, 1, 2, 3]);
  });
});

test(`${name}: a large write stays pending while the peer does not read (backpressure)`, async () => {
  await withPair(async (client, server) => {
    const payload = pattern(16 * 1024 * 1024, 9);
    const write = client.write(payload);
    const state = track(write);
    await sleep(300);
    assert.equal(state.settled, false, "16 MiB were accepted although nobody reads");
    assertSameBytes(await readExactly(server, payload.length), payload, "payload");
    await write;
  });
});

test(`${name}: chunks handed out by read() are never overwritten by later reads`, async () => {
  await withPair(async (client, server) => {
    const kept: Uint8Array[] = [];
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) expected.push(pattern(100 + (i % 7) * 333, i));
    const writing = (async () => {
      for (const piece of expected) await server.write(piece);
      server.close();
    })();
    for (let chunk = await client.read(); chunk !== null; chunk = await client.read()) {
      kept.push(chunk);
    }
    await writing;
    assertSameBytes(concatBytes(kept), concatBytes(expected), "retained chunks");
  });
});

test(`${name}: a peer closing mid-frame gives the partial bytes, then null; writes then reject`, async () => {
  await withPair(async (client, server) => {
    await server.write(new Uint8Array([0, 0, 0, 10, 1, 2])); // 6 of a 14-byte frame
    server.close();
    assertSameBytes(await readToEnd(client), new Uint8Array([0, 0, 0, 10, 1, 2]), "partial");
    assert.equal(await client.closed, undefined);
    assert.equal(await client.read(), null);
    await assert.rejects(client.write(new Uint8Array([1])), ConnectionClosedError);
  });
});

test(`${name}: a peer resetting the connection fails a pending write with ConnectionClosedError`, async () => {
  await withPair(async (client, server) => {
    const write = client.write(pattern(16 * 1024 * 1024, 3)).then(() => null, (e) => e);
    await sleep(100); // the server's buffers fill up, unread
    server.close(); // unread data makes the kernel answer with a reset
    const error = await write;
    assert.ok(error instanceof ConnectionClosedError, `got ${error}`);
    const reason = await client.closed;
    assert.ok(reason instanceof ConnectionClosedError, `closed: ${reason}`);
    await assert.rejects(client.write(new Uint8Array([1])), ConnectionClosedError);
  });
});

test(`${name}: close() is idempotent, ends a pending read with null and fails later writes`, async () => {
  await withPair(async (client, server) => {
    const pending = client.read();
    const reason = new KafkaTransportError("request timed out");
    client.close(reason);
    client.close();
    assert.equal(await pending, null);
    assert.equal(await client.closed, reason);
    assert.equal(await client.read(), null);
    const error = await client.write(new Uint8Array([1])).catch((e) => e);
    assert.ok(error instanceof ConnectionClosedError);
    assert.match(error.message, /closed/);
    assert.equal(await server.read(), null);
  });
});

test(`${name}: a second concurrent read() is rejected`, async () => {
  await withPair(async (client, server) => {
    const first = client.read();
    await assert.rejects(client.read(), KafkaTransportError);
    await server.write(new Uint8Array([1]));
    assert.deepEqual(await first, new Uint8Array([1]));
  });
});

test(`${name}: connecting to a closed port fails with ConnectionRefusedError`, async () => {
  const listener = await listen();
  const port = listener.addr.port;
  listener.close();
  const error = await connector({ host: "127.0.0.1", port, timeoutMs: 5000 }).catch((e) => e);
  assert.ok(error instanceof ConnectionRefusedError, `got ${error}`);
  assert.equal(error.retriable, true);
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

test(`${name}: invalid connect options fail with ConfigError before dialling`, async () => {
  await assert.rejects(connector({ host: "127.0.0.1", port: 0 }), ConfigError);
  await assert.rejects(connector({ host: "127.0.0.1", port: 1, timeoutMs: -5 }), ConfigError);
});

test(`${name}: an already aborted signal fails with AbortError without dialling`, async () => {
  const listener = await listen();
  try {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      connector({ host: "127.0.0.1", port: listener.addr.port, signal: controller.signal }),
      AbortError,
    );
  } finally {
    listener.close();
  }
});

test(`${name}: listener.close() ends a pending accept() with null`, async () => {
  const listener = await listen();
  const pending = listener.accept();
  listener.close();
  listener.close();
  assert.equal(await pending, null);
  assert.equal(await listener.accept(), null);
});

test(`${name}: listening on a port in use fails with ConfigError`, async () => {
  const first = await listen();
  try {
    const error = await listen({ port: first.addr.port }).catch((e) => e);
    assert.ok(error instanceof ConfigError, `got ${error}`);
    assert.match(error.message, /in use/);
  } finally {
    first.close();
  }
});

if (name === "deno") {
  test("deno: a TCP connect stuck behind a full accept queue times out and is cancelled", async () => {
    // With the listener's backlog full, the kernel drops further SYNs: the connect hangs.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, tcpBacklog: 1 });
    const port = (listener.addr as Deno.NetAddr).port;
    const fillers: Conn[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 16 && error === undefined; i++) {
        try {
          fillers.push(await connector({ host: "127.0.0.1", port, timeoutMs: 300 }));
        } catch (e) {
          error = e;
        }
      }
      assert.ok(error instanceof TimeoutError, `got ${error} after ${fillers.length} connects`);
      assert.match(error.message, /timed out after 300 ms/);
    } finally {
      for (const conn of fillers) conn.close();
      listener.close();
    }
  });
}
