import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { Metadata } from "../../protocol/metadata.ts";
import {
  SaslAuthenticate,
  type SaslAuthenticateResponse,
} from "../../protocol/sasl_authenticate.ts";
import { SaslHandshake, type SaslHandshakeResponse } from "../../protocol/sasl_handshake.ts";
import type { SaslMechanism } from "../../sasl/mechanism.ts";
import { plain } from "../../sasl/plain.ts";
import { scramSha256, scramSha512 } from "../../sasl/scram.ts";
import { MockBroker } from "../../testing/mod.ts";
import { dial } from "./dial.ts";
import { FakeClock } from "../fixtures/fake_clock.ts";
import type { RawClient } from "./raw_client.ts";

const USERS = { alice: "alice-secret", bob: "bob-secret" };

async function handshake(
  client: RawClient,
  mechanism: string,
  version: number,
  correlationId: number,
): Promise<SaslHandshakeResponse> {
  await client.send({
    apiKey: SaslHandshake.key,
    apiVersion: version,
    correlationId,
    body: (w) => SaslHandshake.encodeRequest(w, { mechanism }, version),
  });
  return SaslHandshake.decodeResponse(await client.reply(correlationId), version);
}

async function authenticate(
  client: RawClient,
  token: Uint8Array,
  version: number,
  correlationId: number,
): Promise<SaslAuthenticateResponse> {
  const flexible = version >= SaslAuthenticate.firstFlexibleVersion;
  await client.send({
    apiKey: SaslAuthenticate.key,
    apiVersion: version,
    correlationId,
    flexible,
    body: (w) => SaslAuthenticate.encodeRequest(w, { authBytes: token }, version),
  });
  return SaslAuthenticate.decodeResponse(await client.reply(correlationId, flexible), version);
}

/**
 * Runs SaslHandshake v1 and the SaslAuthenticate exchange; returns the last response (the
 * failure, or the final success).
 */
async function login(
  client: RawClient,
  mechanism: SaslMechanism,
  version: number,
  firstCorrelationId = 100,
): Promise<SaslAuthenticateResponse> {
  let id = firstCorrelationId;
  const hs = await handshake(client, mechanism.name, 1, id++);
  assert.equal(hs.errorCode, ErrorCode.NONE);
  const exchange = await mechanism.begin();
  let token: Uint8Array | null = await exchange.initial();
  for (let round = 0; round < 5; round++) {
    const res = await authenticate(client, token, version, id++);
    if (res.errorCode !== ErrorCode.NONE) return res;
    token = await exchange.next(res.authBytes);
    if (token === null) return res;
  }
  assert.fail("the SASL exchange did not finish within 5 rounds");
}

async function metadataWorks(client: RawClient, correlationId: number): Promise<void> {
  await client.send({
    apiKey: Metadata.key,
    apiVersion: 4,
    correlationId,
    body: (w) => Metadata.encodeRequest(w, { topics: null, allowAutoTopicCreation: false }, 4),
  });
  const res = Metadata.decodeResponse(await client.reply(correlationId), 4);
  assert.equal(res.brokers.length, 1);
}

test("MockBroker authenticates SASL/PLAIN over SaslAuthenticate v2, then serves Metadata", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users: USERS } });
  let seenUser: string | undefined;
  broker.handle(50, (req) => {
    seenUser = req.conn.user;
    return new Uint8Array([0]);
  });
  const client = await dial(broker);
  try {
    const res = await login(client, plain({ username: "alice", password: "alice-secret" }), 2);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.sessionLifetimeMs, 0, "no lifetime configured");
    await metadataWorks(client, 1);
    await client.send({ apiKey: 50, apiVersion: 0, correlationId: 2 });
    await client.reply(2);
    assert.equal(seenUser, "alice");
  } finally {
    client.close();
  }
});

test("MockBroker rejects a wrong SASL/PLAIN password with SASL_AUTHENTICATION_FAILED, then closes", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users: USERS } });
  const client = await dial(broker);
  try {
    const res = await login(client, plain({ username: "alice", password: "wrong" }), 1);
    assert.equal(res.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(res.errorMessage ?? "", /Authentication failed/);
    await client.expectClosed("Kafka closes the connection after a failed authentication");
  } finally {
    client.close();
  }
});

test("MockBroker authenticates SCRAM-SHA-256 and returns the session lifetime in v1", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["SCRAM-SHA-256", "PLAIN"], users: USERS, sessionLifetimeMs: 60_000 },
  });
  const client = await dial(broker);
  try {
    const res = await login(client, scramSha256({ username: "bob", password: "bob-secret" }), 1);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(res.sessionLifetimeMs, 60_000);
    await metadataWorks(client, 1);
  } finally {
    client.close();
  }
});

test("MockBroker rejects a wrong SCRAM-SHA-512 password, then closes", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["SCRAM-SHA-512"], users: USERS },
  });
  const client = await dial(broker);
  try {
    const res = await login(client, scramSha512({ username: "bob", password: "nope" }), 2);
    assert.equal(res.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.ok(res.errorMessage, "the failure carries a message");
    await client.expectClosed("Kafka closes the connection after a failed authentication");
  } finally {
    client.close();
  }
});

test("MockBroker closes a connection that sends Metadata before authenticating", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users: USERS } });
  const client = await dial(broker);
  try {
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 1 });
    await client.reply(1);
    await client.send({
      apiKey: Metadata.key,
      apiVersion: 4,
      correlationId: 2,
      body: (w) => Metadata.encodeRequest(w, { topics: null, allowAutoTopicCreation: false }, 4),
    });
    await client.expectClosed("requests before SASL authentication close the connection");
    assert.deepEqual(broker.requests.map((r) => r.apiKey), [18, 3]);
  } finally {
    client.close();
  }
});

test("MockBroker answers an unknown mechanism with UNSUPPORTED_SASL_MECHANISM and the list", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-512"], users: USERS },
  });
  const client = await dial(broker);
  try {
    const res = await handshake(client, "PLAIN", 1, 1);
    assert.equal(res.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    assert.deepEqual(res.mechanisms, ["SCRAM-SHA-256", "SCRAM-SHA-512"]);
    await client.expectClosed("a failed handshake closes the connection");
  } finally {
    client.close();
  }
});

test("MockBroker without SASL answers SaslHandshake with ILLEGAL_SASL_STATE and stays open", async () => {
  await using broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    const res = await handshake(client, "PLAIN", 1, 1);
    assert.equal(res.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await metadataWorks(client, 2);
  } finally {
    client.close();
  }
});

test("MockBroker legacy SASL exchanges bare token frames after SaslHandshake v0", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN", "SCRAM-SHA-256"], users: USERS, legacy: true },
  });
  for (
    const mechanism of [
      plain({ username: "alice", password: "alice-secret" }),
      scramSha256({ username: "alice", password: "alice-secret" }),
    ]
  ) {
    const client = await dial(broker);
    try {
      const hs = await handshake(client, mechanism.name, 0, 1);
      assert.equal(hs.errorCode, ErrorCode.NONE);
      const exchange = await mechanism.begin();
      let token: Uint8Array | null = await exchange.initial();
      for (let round = 0; token !== null; round++) {
        assert.ok(round < 5, "the legacy exchange must finish within 5 rounds");
        await client.sendBare(token);
        const reply = await client.frame();
        assert.ok(reply !== null, `${mechanism.name}: the broker closed during the exchange`);
        token = await exchange.next(reply);
      }
      await metadataWorks(client, 2);
    } finally {
      client.close();
    }
  }
});

test("MockBroker legacy SASL closes the connection on a wrong password, without a reply", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users: USERS, legacy: true },
  });
  const client = await dial(broker);
  try {
    assert.equal((await handshake(client, "PLAIN", 0, 1)).errorCode, ErrorCode.NONE);
    const exchange = await plain({ username: "alice", password: "wrong" }).begin();
    await client.sendBare(await exchange.initial());
    await client.expectClosed("legacy SASL failures cannot be reported");
  } finally {
    client.close();
  }
});

test("MockBroker closes a connection whose SASL session expired; re-authentication extends it", async () => {
  const clock = new FakeClock();
  await using broker = await MockBroker.start({
    clock,
    sasl: { mechanisms: ["PLAIN"], users: USERS, sessionLifetimeMs: 1_000 },
  });
  const alice = plain({ username: "alice", password: "alice-secret" });
  const client = await dial(broker);
  try {
    assert.equal((await login(client, alice, 1)).sessionLifetimeMs, 1_000);
    clock.advance(900);
    await metadataWorks(client, 1);
    assert.equal((await login(client, alice, 1, 200)).errorCode, ErrorCode.NONE);
    clock.advance(900);
    await metadataWorks(client, 2);
    clock.advance(100);
    await client.send({ apiKey: 18, apiVersion: 0, correlationId: 3 });
    await client.expectClosed("the session expired 1000 ms after re-authentication");
  } finally {
    client.close();
  }
});

test("MockBroker refuses re-authentication as a different user", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users: USERS } });
  const client = await dial(broker);
  try {
    await login(client, plain({ username: "alice", password: "alice-secret" }), 2);
    const res = await login(client, plain({ username: "bob", password: "bob-secret" }), 2, 200);
    assert.equal(res.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.match(res.errorMessage ?? "", /Cannot change principals/);
    await client.expectClosed("a failed re-authentication closes the connection");
  } finally {
    client.close();
  }
});

test("MockBroker faults.error fails SaslAuthenticate and closes", async () => {
  await using broker = await MockBroker.start({ sasl: { mechanisms: ["PLAIN"], users: USERS } });
  broker.faults.error(36, ErrorCode.ILLEGAL_SASL_STATE);
  const client = await dial(broker);
  try {
    const res = await login(client, plain({ username: "alice", password: "alice-secret" }), 2);
    assert.equal(res.errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    assert.match(res.errorMessage ?? "", /Injected fault/);
    await client.expectClosed("failed authentication closes");
  } finally {
    client.close();
  }
});
