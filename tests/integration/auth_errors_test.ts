/**
 * A wrong password against the real broker: `connect()` and every queued request reject with
 * the same typed `AuthenticationError` carrying the broker's own message, and the connection
 * does not keep re-dialling (authentication failures are not retriable).
 */

import assert from "node:assert/strict";
import { Metadata } from "../../protocol/metadata.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import type { KafkaEnv, ListenerName } from "./fixture.ts";
import {
  describeChanges,
  kafkaTest,
  mechanism,
  type MechanismName,
  openConnection,
  sleep,
  tlsFor,
  withKafka,
} from "./real_broker.ts";

/** What Kafka 4.x answers per mechanism (its SaslAuthenticate error message). */
const BROKER_MESSAGES: Record<Exclude<MechanismName, "OAUTHBEARER">, RegExp> = {
  "PLAIN": /Authentication failed: Invalid username or password/,
  "SCRAM-SHA-256": /invalid credentials with SASL mechanism SCRAM-SHA-256/,
  "SCRAM-SHA-512": /invalid credentials with SASL mechanism SCRAM-SHA-512/,
};

/** How long to watch for re-dials after the failure. */
const WATCH_MS = 1500;

/**
 * Connects with a wrong password while requests are queued, checks every rejection, then
 * watches the connection stay down.
 *
 * @param kafka The broker.
 * @param name The listener.
 * @param sasl The mechanism.
 */
async function wrongPassword(
  kafka: KafkaEnv,
  name: ListenerName,
  sasl: Exclude<MechanismName, "OAUTHBEARER">,
): Promise<void> {
  const listener = kafka.listeners[name];
  const rec = openConnection(listener, {
    tls: tlsFor(kafka, listener),
    sasl: mechanism(sasl, kafka.users[0].username, "not-the-password"),
    reconnectBackoffMs: 50,
    reconnectBackoffMaxMs: 200,
  });
  await using conn = rec.conn;
  const outcomes = await Promise.allSettled([
    conn.connect(),
    ...Array.from(
      { length: 5 },
      () => conn.send(Metadata, { topics: null, allowAutoTopicCreation: false }),
    ),
  ]);
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    const error = (outcome as PromiseRejectedResult).reason;
    assert.ok(error instanceof AuthenticationError, String(error));
    assert.equal(error.retriable, false);
    assert.equal(error.code, 58, "SASL_AUTHENTICATION_FAILED");
    assert.match(error.message, BROKER_MESSAGES[sasl]);
    assert.match(error.message, /in state AUTH_REQ\)$/);
  }
  // Nothing is queued any more, so nothing may re-dial, however short the backoff.
  await sleep(WATCH_MS);
  assert.equal(rec.count("CONNECT"), 1, describeChanges(rec.changes));
  assert.equal(conn.state, "DOWN");
  assert.ok(conn.stats().lastError instanceof AuthenticationError);
  // The next request dials once more and fails the same way, once.
  const again = await conn.send(Metadata, { topics: null, allowAutoTopicCreation: false }).then(
    () => null,
    (error) => error,
  );
  assert.ok(again instanceof AuthenticationError, String(again));
  await sleep(300);
  assert.equal(rec.count("CONNECT"), 2, describeChanges(rec.changes));
  assert.equal(conn.stats().connects, 0, "never reached UP");
}

withKafka((kafka) => {
  for (const sasl of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    kafkaTest(
      `SASL_PLAINTEXT × ${sasl} with a wrong password: AuthenticationError with the broker's message, no re-dial`,
      () => wrongPassword(kafka, "SASL_PLAINTEXT", sasl),
    );
  }
  kafkaTest(
    "SASL_SSL × SCRAM-SHA-512 with a wrong password: AuthenticationError with the broker's message, no re-dial",
    () => wrongPassword(kafka, "SASL_SSL", "SCRAM-SHA-512"),
  );
}, "wrong passwords fail with AuthenticationError");
