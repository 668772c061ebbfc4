/**
 * What the integration tests share: this runtime's connector, registration that skips (or fails
 * under `KAFKA_REQUIRED=1`) without a broker, SASL mechanisms by name, broker connections that
 * record the states they pass, and unique topic names per run and runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { BrokerConnection } from "../../broker/connection.ts";
import type { BrokerConnectionOptions } from "../../broker/options.ts";
import type { BrokerState, StateChange } from "../../broker/state.ts";
import { CreateTopics } from "../../protocol/create_topics.ts";
import { Metadata, type MetadataTopic } from "../../protocol/metadata.ts";
import type { SaslMechanism } from "../../sasl/mechanism.ts";
import { oauthBearer } from "../../sasl/oauthbearer.ts";
import { plain } from "../../sasl/plain.ts";
import { scramSha256, scramSha512 } from "../../sasl/scram.ts";
import { unsecuredJwt } from "../../sasl/unsecured_jwt.ts";
import type { Connector, TlsOptions } from "../../transport/conn.ts";
import { runtime, test, type TestFn } from "../harness.ts";
import { type KafkaEnv, type KafkaListener, loadKafka } from "./fixture.ts";

/** This runtime's connector; each adapter is loaded only on its own runtime. */
export const connector: Connector = runtime === "deno"
  ? (await import("../../transport/deno.ts")).denoConnector
  : (await import("../../transport/bun.ts")).bunConnector;

/** The SASL mechanisms every SASL listener of the test broker enables. */
export const MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;

/** One of {@link MECHANISMS}. */
export type MechanismName = typeof MECHANISMS[number];

/**
 * Registers a file's tests when a broker is running. Without one it registers nothing and
 * says why on stderr, or, under `KAFKA_REQUIRED=1`, registers one test that fails with the
 * reason (as the smoke test does).
 *
 * @param register Registers the file's tests for the running broker.
 */
export function withKafka(register: (kafka: KafkaEnv) => void): void {
  const kafka = loadKafka();
  if (!("skipReason" in kafka)) {
    register(kafka);
  } else if (process.env.KAFKA_REQUIRED === "1") {
    test("real Kafka broker is running (KAFKA_REQUIRED=1)", () => {
      assert.fail(`integration suite did not run: ${kafka.skipReason}`);
    });
  } else {
    console.error(`SKIPPED integration: ${kafka.skipReason}`);
  }
}

/**
 * Registers a test whose name says the runtime, with a Bun timeout of `timeoutMs`.
 *
 * @param name What the test checks.
 * @param fn The test body.
 * @param timeoutMs Bun's per-test limit (Deno relies on the bounded loops inside).
 */
export function kafkaTest(name: string, fn: TestFn, timeoutMs = 60_000): void {
  test(`[${runtime}] real Kafka: ${name}`, fn, { timeoutMs });
}

/**
 * Makes a SASL mechanism by name for a user.
 *
 * @param name The mechanism.
 * @param username The user (the JWT's `sub` for OAUTHBEARER).
 * @param password The password (unused by OAUTHBEARER).
 * @returns The mechanism.
 */
export function mechanism(name: MechanismName, username: string, password: string): SaslMechanism {
  switch (name) {
    case "PLAIN":
      return plain({ username, password });
    case "SCRAM-SHA-256":
      return scramSha256({ username, password });
    case "SCRAM-SHA-512":
      return scramSha512({ username, password });
    case "OAUTHBEARER":
      // A provider, so that every (re-)authentication gets a token that is still valid.
      return oauthBearer({ token: () => unsecuredJwt({ sub: username, lifetimeMs: 60_000 }) });
  }
}

/**
 * The TLS settings that verify the test broker (and, for SSL_CLIENTAUTH, present the client
 * certificate), or `undefined` for a plaintext listener.
 *
 * @param kafka The broker.
 * @param listener The listener.
 * @returns The TLS settings.
 */
export function tlsFor(kafka: KafkaEnv, listener: KafkaListener): TlsOptions | undefined {
  if (!listener.tls) return undefined;
  if (!listener.clientAuth) return { caCerts: [kafka.caPem] };
  return { caCerts: [kafka.caPem], cert: kafka.clientCertPem, key: kafka.clientKeyPem };
}

/** A connection and the states it has passed, in order. */
export interface RecordedConnection {
  /** The connection. */
  conn: BrokerConnection;
  /** Every state change so far. */
  changes: StateChange[];
  /**
   * The states entered so far.
   *
   * @returns The `to` of every change, in order.
   */
  states(): BrokerState[];
  /**
   * Counts how often a state was entered.
   *
   * @param state The state.
   * @returns How many changes entered it.
   */
  count(state: BrokerState): number;
}

/**
 * Opens (lazily) a connection to a listener of the test broker and records its states.
 *
 * @param listener The listener.
 * @param options Options on top of host, port and this runtime's connector.
 * @returns The connection and its state log.
 */
export function openConnection(
  listener: KafkaListener,
  options: Partial<BrokerConnectionOptions> = {},
): RecordedConnection {
  const conn = new BrokerConnection({
    host: listener.host,
    port: listener.port,
    connector,
    clientId: `integration-${runtime}`,
    connectionSetupTimeoutMs: 20_000,
    requestTimeoutMs: 20_000,
    ...options,
  });
  const changes: StateChange[] = [];
  conn.onStateChange((change) => changes.push(change));
  return {
    conn,
    changes,
    states: () => changes.map((c) => c.to),
    count: (state) => changes.filter((c) => c.to === state).length,
  };
}

/**
 * Describes the state log for assertion messages.
 *
 * @param changes The state changes.
 * @returns One line per change with its reason.
 */
export function describeChanges(changes: readonly StateChange[]): string {
  return changes.map((c) => `${c.from}→${c.to}: ${c.reason}`).join("\n");
}

let topicCounter = 0;

/**
 * A topic name no earlier run or other runtime uses, so that runs against the same broker
 * (Deno, then Bun, then again) never see each other's records.
 *
 * @param what What the topic is for.
 * @returns The name.
 */
export function uniqueTopic(what: string): string {
  const random = Math.floor(Math.random() * 0xffffff).toString(16);
  return `kw-${what}-${runtime}-${Date.now()}-${random}-${topicCounter++}`;
}

/**
 * Sleeps on the real clock.
 *
 * @param ms How long.
 * @returns Resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Creates a one-partition topic and waits until Metadata shows it with a leader, so that
 * Produce and Fetch do not race the controller.
 *
 * @param conn A connection to any listener.
 * @param name The topic name.
 * @param configs Topic configs, e.g. `{ "compression.type": "lz4" }`; none by default.
 * @returns The topic as Metadata describes it (with its id).
 */
export async function createTopic(
  conn: BrokerConnection,
  name: string,
  configs: Record<string, string> = {},
): Promise<MetadataTopic> {
  const created = await conn.send(CreateTopics, {
    topics: [{
      name,
      numPartitions: 1,
      replicationFactor: 1,
      configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
    }],
    timeoutMs: 15_000,
  });
  const result = created.topics[0];
  assert.equal(result.errorCode, 0, `CreateTopics ${name}: ${result.errorMessage}`);
  let last: MetadataTopic | undefined;
  for (let i = 0; i < 100; i++) {
    const md = await conn.send(Metadata, { topics: [{ name }], allowAutoTopicCreation: false });
    last = md.topics[0];
    if (last?.errorCode === 0 && last.partitions[0]?.leaderId >= 0) return last;
    await sleep(100);
  }
  assert.fail(`topic ${name} has no leader after 10 s: ${JSON.stringify(last)}`);
}
