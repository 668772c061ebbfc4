import assert from "node:assert/strict";
import { runtime, test } from "../harness.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { ConnectionRefusedError } from "../../transport/errors.ts";
import { MockBroker } from "../../testing/mod.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { RawClient } from "./raw_client.ts";

// The runtime's own socket adapter: the test broker must work on real sockets of every runtime.
const { connector, listen } = adapter;

async function dialTcp(broker: MockBroker): Promise<RawClient> {
  return new RawClient(await connector({ host: broker.host, port: broker.port }));
}

test(`MockBroker serves ApiVersions and Metadata on a real ${runtime} loopback socket`, async () => {
  await using broker = await MockBroker.start({
    listen,
    topics: [{ name: "orders", partitions: 2 }],
  });
  assert.equal(broker.host, "127.0.0.1");
  assert.ok(broker.port > 0);
  assert.equal(broker.bootstrap, `127.0.0.1:${broker.port}`);
  const client = await dialTcp(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    assert.equal((await client.reply(1)).int16("error_code"), 0);
    await client.send({
      apiKey: Metadata.key,
      apiVersion: 12,
      correlationId: 2,
      flexible: true,
      body: (w) => Metadata.encodeRequest(w, { topics: null, allowAutoTopicCreation: false }, 12),
    });
    const res = Metadata.decodeResponse(await client.reply(2, true), 12);
    assert.deepEqual(res.brokers, [{
      nodeId: 1,
      host: "127.0.0.1",
      port: broker.port,
      rack: null,
    }]);
    assert.deepEqual(res.topics.map((t) => t.name), ["orders"]);
    const memory = new RawClient(await broker.connector({ host: broker.host, port: broker.port }));
    try {
      await memory.send({ apiKey: 18, apiVersion: 0, correlationId: 3 });
      await memory.reply(3);
      assert.equal(broker.connections, 2, "in-memory and socket connections side by side");
    } finally {
      memory.close();
    }
  } finally {
    client.close();
  }
});

test(`MockBroker down() refuses ${runtime} socket dials; up() listens on the same port again`, async () => {
  await using broker = await MockBroker.start({ listen });
  const port = broker.port;
  const client = await dialTcp(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await client.reply(1);
    broker.down();
    await client.expectClosed("down() closes socket connections too");
    await assert.rejects(dialTcp(broker), ConnectionRefusedError);
    await broker.up();
    assert.equal(broker.port, port);
    const again = await dialTcp(broker);
    try {
      await again.send({ apiKey: 18, apiVersion: 0, correlationId: 2 });
      await again.reply(2);
    } finally {
      again.close();
    }
  } finally {
    client.close();
  }
});

test(`MockBroker close() closes ${runtime} socket connections and the listener`, async () => {
  const broker = await MockBroker.start({ listen });
  const client = await dialTcp(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await client.reply(1);
    await broker.close();
    await client.expectClosed("close() closes every connection");
    await assert.rejects(dialTcp(broker), ConnectionRefusedError);
  } finally {
    client.close();
  }
});
