/**
 * Smoke test against the real broker: this runtime's connector sends a hand-built ApiVersions
 * v0 request over plain TCP, TLS, and mutual TLS, and the replies must make sense. It needs
 * only the framing and the runtime's adapter, not the broker layer. Without a broker it
 * registers a skipped test, or under `KAFKA_REQUIRED=1` a failing one (`withKafka`).
 */

import assert from "node:assert/strict";
import { FrameDecoder } from "../../framing/decoder.ts";
import { buildFrame, writeRequestHeader } from "../../framing/header.ts";
import { Reader } from "../../framing/reader.ts";
import type { TlsOptions } from "../../transport/conn.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { runtime, test } from "../harness.ts";
import { type KafkaEnv, type KafkaListener, withKafka } from "./fixture.ts";

const API_VERSIONS = 18;
const REPLY_DEADLINE_MS = 15_000;

/** One entry of an ApiVersions reply. */
interface ApiRange {
  key: number;
  min: number;
  max: number;
}

const { connector } = adapter;

/**
 * Sends ApiVersions v0 on a new connection and decodes the reply.
 *
 * @param listener Where to connect.
 * @param tls TLS settings for TLS listeners.
 * @returns The error code and API ranges from the reply, and whether the connection was TLS.
 */
async function apiVersionsV0(
  listener: KafkaListener,
  tls?: TlsOptions,
): Promise<{ errorCode: number; apis: ApiRange[]; secure: boolean }> {
  const conn = await connector({
    host: listener.host,
    port: listener.port,
    tls,
    timeoutMs: REPLY_DEADLINE_MS,
  });
  // A broker that never answers must fail the test, not hang it: closing makes read() end.
  const deadline = setTimeout(() => conn.close(), REPLY_DEADLINE_MS);
  try {
    const correlationId = 0x5eed;
    await conn.write(buildFrame((w) =>
      writeRequestHeader(
        w,
        { apiKey: API_VERSIONS, apiVersion: 0, correlationId, clientId: `smoke-${runtime}` },
        false,
      )
    ));
    const decoder = new FrameDecoder({ minFrameSize: 4 });
    let frame: Uint8Array | null = null;
    while (frame === null) {
      const chunk = await conn.read();
      assert.ok(chunk, `the broker on ${listener.port} closed the connection before replying`);
      decoder.push(chunk);
      frame = decoder.next();
    }
    const r = new Reader(frame);
    assert.equal(r.int32("correlation_id"), correlationId);
    const errorCode = r.int16("error_code");
    const apis = r.array((e) => ({
      key: e.int16("api_key"),
      min: e.int16("min_version"),
      max: e.int16("max_version"),
    }), "api_keys");
    assert.equal(r.remaining, 0, "ApiVersions v0 has no fields after api_keys");
    return { errorCode, apis, secure: conn.secure };
  } finally {
    clearTimeout(deadline);
    conn.close();
    await conn.closed;
  }
}

/**
 * Checks that an ApiVersions reply lists what a Kafka 4.x broker must offer.
 *
 * @param apis The API ranges from the reply.
 */
function assertSaneApis(apis: ApiRange[]): void {
  const byKey = new Map(apis.map((a) => [a.key, a]));
  assert.ok(apis.length >= 20, `only ${apis.length} APIs advertised`);
  for (const a of apis) assert.ok(a.min <= a.max, `API ${a.key}: min ${a.min} > max ${a.max}`);
  // ApiVersions 3+ (flexible), Metadata, Produce, Fetch, SaslHandshake, SaslAuthenticate.
  assert.ok((byKey.get(API_VERSIONS)?.max ?? -1) >= 3, "ApiVersions v3 not offered");
  for (const key of [0, 1, 3, 17, 36]) assert.ok(byKey.has(key), `API ${key} not offered`);
}

/**
 * Registers the smoke tests for a running broker.
 *
 * @param kafka The broker's details.
 */
function registerTests(kafka: KafkaEnv): void {
  test(`[${runtime}] real Kafka ${kafka.kafkaVersion}: ApiVersions v0 over PLAINTEXT`, async () => {
    const reply = await apiVersionsV0(kafka.listeners.PLAINTEXT);
    assert.equal(reply.errorCode, 0);
    assert.equal(reply.secure, false);
    assertSaneApis(reply.apis);
  });

  test(`[${runtime}] real Kafka: ApiVersions v0 over SSL, verified against the test CA`, async () => {
    const reply = await apiVersionsV0(kafka.listeners.SSL, { caCerts: [kafka.caPem] });
    assert.equal(reply.errorCode, 0);
    assert.equal(reply.secure, true);
    assertSaneApis(reply.apis);
  });

  test(`[${runtime}] real Kafka: ApiVersions v0 over SSL_CLIENTAUTH with a client certificate`, async () => {
    const reply = await apiVersionsV0(kafka.listeners.SSL_CLIENTAUTH, {
      caCerts: [kafka.caPem],
      cert: kafka.clientCertPem,
      key: kafka.clientKeyPem,
    });
    assert.equal(reply.errorCode, 0);
    assert.equal(reply.secure, true);
    assertSaneApis(reply.apis);
  });
}

withKafka(registerTests, "ApiVersions v0 over PLAINTEXT, SSL and SSL_CLIENTAUTH");
