import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { Reader } from "../../framing/reader.ts";
import { Writer } from "../../framing/writer.ts";
import { ConfigError, ConnectionRefusedError } from "../../transport/errors.ts";
import { MockBroker, type MockRequest, NO_REPLY } from "../../testing/mod.ts";
import { dial } from "./dial.ts";
import { FakeClock } from "../fixtures/fake_clock.ts";

test("MockBroker down() closes connections and refuses dials until up()", async () => {
  await using broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await client.reply(1);
    assert.equal(broker.connections, 1);
    broker.down();
    assert.ok(broker.isDown);
    await client.expectClosed("down() closes every connection");
    await assert.rejects(dial(broker), ConnectionRefusedError);
    await broker.up();
    const again = await dial(broker);
    try {
      await again.send({ apiKey: 18, apiVersion: 0, correlationId: 2 });
      await again.reply(2);
      assert.equal(broker.connections, 1);
    } finally {
      again.close();
    }
  } finally {
    client.close();
  }
});

test("MockBroker logs every request with its header, clock time and connection id", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({ clock });
  const a = await dial(broker);
  const b = await dial(broker);
  try {
    clock.advance(5);
    await a.send({
      apiKey: 18,
      apiVersion: 3,
      correlationId: 10,
      flexible: true,
      clientId: "one",
      body: (w) => w.uvarint(1).uvarint(1).uvarint(0),
    });
    await a.reply(10);
    clock.advance(10);
    await b.send({ apiKey: 18, apiVersion: 0, correlationId: 20, clientId: null });
    await b.reply(20);
    assert.deepEqual(broker.requests, [
      { apiKey: 18, apiVersion: 3, correlationId: 10, clientId: "one", at: 5, connId: 1 },
      { apiKey: 18, apiVersion: 0, correlationId: 20, clientId: null, at: 15, connId: 2 },
    ]);
  } finally {
    a.close();
    b.close();
  }
});

test("MockBroker handle() serves flexible versions with header v2 in and v1 out", async () => {
  await using broker = await MockBroker.start();
  const seen: MockRequest[] = [];
  broker.handle({ key: 0, minVersion: 3, maxVersion: 11, firstFlexibleVersion: 9 }, (req) => {
    seen.push(req);
    const value = req.body.int32("value");
    return new Writer().int32(value * 2).finish().slice();
  });
  const client = await dial(broker);
  try {
    await client.send(
      { apiKey: 0, apiVersion: 9, correlationId: 1, flexible: true, body: (w) => w.int32(21) },
      { apiKey: 0, apiVersion: 8, correlationId: 2, body: (w) => w.int32(5) },
    );
    assert.equal((await client.reply(1, true)).int32(), 42);
    const r = await client.reply(2, false);
    assert.equal(r.int32(), 10);
    assert.equal(r.remaining, 0);
    assert.deepEqual(seen.map((s) => [s.header.apiVersion, s.header.clientId, s.conn.id]), [
      [9, "raw-test", 1],
      [8, "raw-test", 1],
    ]);
    await client.send({ apiKey: 0, apiVersion: 12, correlationId: 3, flexible: true });
    await client.expectClosed("v12 is above the handler's advertised range");
  } finally {
    client.close();
  }
});

test("MockBroker handle() by bare key frames a known API's flexible versions", async () => {
  await using broker = await MockBroker.start();
  broker.handle(0, () => new Uint8Array([7]));
  const client = await dial(broker);
  try {
    await client.send({ apiKey: 0, apiVersion: 9, correlationId: 1, flexible: true });
    const r = await client.reply(1, true);
    assert.equal(r.int8(), 7);
    assert.equal(r.remaining, 0);
    await client.send({ apiKey: 0, apiVersion: 2, correlationId: 2 });
    await client.expectClosed("Produce v2 is below the codec's range");
  } finally {
    client.close();
  }
});

test("MockBroker handle() keeps request order across NO_REPLY and async handlers", async () => {
  await using broker = await MockBroker.start();
  broker.handle(50, async (req) => {
    const wait = req.body.int32("wait");
    await new Promise((resolve) => setTimeout(resolve, wait));
    return new Uint8Array([wait]);
  });
  broker.handle(51, () => NO_REPLY);
  const client = await dial(broker);
  try {
    await client.send(
      { apiKey: 50, apiVersion: 0, correlationId: 1, body: (w) => w.int32(30) },
      { apiKey: 51, apiVersion: 0, correlationId: 2 },
      { apiKey: 50, apiVersion: 0, correlationId: 3, body: (w) => w.int32(1) },
    );
    assert.deepEqual([...(await client.reply(1)).raw(1)], [30]);
    assert.deepEqual([...(await client.reply(3)).raw(1)], [1]);
  } finally {
    client.close();
  }
});

test("MockBroker answers 200 pipelined requests in order", async () => {
  await using broker = await MockBroker.start();
  broker.handle(60, (req) => new Writer().int32(req.header.correlationId).finish().slice());
  const client = await dial(broker);
  try {
    const requests = Array.from(
      { length: 200 },
      (_, i) => ({ apiKey: 60, apiVersion: 0, correlationId: i }),
    );
    await client.send(...requests);
    for (let i = 0; i < 200; i++) assert.equal((await client.reply(i)).int32(), i);
  } finally {
    client.close();
  }
});

test("MockBroker closes the connection on an API it does not serve, and when a handler throws", async () => {
  await using broker = await MockBroker.start();
  broker.handle(61, () => {
    throw new Error("boom");
  });
  broker.handle(62, () => Promise.reject(new Error("async boom")));
  for (const apiKey of [0, 61, 62]) {
    const client = await dial(broker);
    try {
      await client.send({ apiKey, apiVersion: 0, correlationId: 1 });
      await client.expectClosed(`API ${apiKey} cannot be answered`);
    } finally {
      client.close();
    }
  }
  const client = await dial(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    assert.ok(
      new Reader(await client.frame() ?? new Uint8Array()).int32() === 1,
      "the broker still serves",
    );
  } finally {
    client.close();
  }
});

test("MockBroker close() ends every connection, is idempotent, and refuses later dials", async () => {
  const broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    await broker.close();
    assert.equal(broker.connections, 0);
    await client.expectClosed("close() closes every connection");
    await broker.close();
    await assert.rejects(dial(broker), ConnectionRefusedError);
  } finally {
    client.close();
  }
});

test("MockBroker.start rejects invalid options with ConfigError", async () => {
  await assert.rejects(MockBroker.start({ topics: [{ name: "t", partitions: 0 }] }), ConfigError);
  await assert.rejects(
    MockBroker.start({ topics: [{ name: "t", partitions: 1 }, { name: "t", partitions: 1 }] }),
    ConfigError,
  );
  await assert.rejects(MockBroker.start({ apiVersions: { 3: [5, 4] } }), ConfigError);
  await assert.rejects(
    MockBroker.start({ sasl: { mechanisms: ["GSSAPI"], users: {} } }),
    ConfigError,
  );
  await assert.rejects(MockBroker.start({ sasl: { mechanisms: [], users: {} } }), ConfigError);
  await assert.rejects(MockBroker.start({ nodeId: -1 }), ConfigError);
  const broker = await MockBroker.start();
  try {
    assert.throws(
      () =>
        broker.handle(
          { key: 0, minVersion: 3, maxVersion: 2, firstFlexibleVersion: 9 },
          () => NO_REPLY,
        ),
      ConfigError,
    );
    assert.equal(broker.bootstrap, `${broker.host}:${broker.port}`);
  } finally {
    await broker.close();
  }
});

test("MockBroker serves requests split into 1-byte chunks, and can skip the request log", async () => {
  await using broker = await MockBroker.start({ memory: { chunking: "byte" }, logRequests: false });
  broker.handle(60, (req) => new Writer().int32(req.header.correlationId).finish().slice());
  const client = await dial(broker);
  try {
    const requests = Array.from({ length: 20 }, (_, i) => ({
      apiKey: 60,
      apiVersion: 0,
      correlationId: i,
      body: (w: Writer) => w.int32(i),
    }));
    await client.send(...requests);
    for (let i = 0; i < 20; i++) assert.equal((await client.reply(i)).int32(), i);
    assert.deepEqual(broker.requests, []);
  } finally {
    client.close();
  }
});
