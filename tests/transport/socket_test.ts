// What the runtime's socket adapter does beyond the Conn contract (contract_test.ts).
import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { Conn } from "../../transport/conn.ts";
import { ConfigError, ConnectionRefusedError, TimeoutError } from "../../transport/errors.ts";
import { echo, readExactly } from "./loopback.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { assertSameBytes } from "../fixtures/bytes.ts";

const { connector, listen, name } = adapter;

test(`${name}: echo round trip on the listener's address`, async () => {
  const listener = await listen();
  assert.equal(listener.addr.hostname, "127.0.0.1");
  assert.ok(listener.addr.port > 0);
  const served = listener.accept().then((conn) => echo(conn!));
  const conn = await connector({ host: "127.0.0.1", port: listener.addr.port, timeoutMs: 5000 });
  try {
    assert.equal(conn.secure, false);
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
