/**
 * Every listener of the real broker × every SASL mechanism it enables: the connection passes
 * exactly the expected states to UP and a Metadata request then succeeds.
 */

import assert from "node:assert/strict";
import type { BrokerState } from "../../broker/state.ts";
import { Metadata } from "../../protocol/metadata.ts";
import type { KafkaEnv, KafkaListener, ListenerName } from "./fixture.ts";
import {
  describeChanges,
  kafkaTest,
  mechanism,
  type MechanismName,
  MECHANISMS,
  openConnection,
  tlsFor,
  withKafka,
} from "./real_broker.ts";

/**
 * The states a first connection passes on its way to UP.
 *
 * @param listener The listener.
 * @returns The expected `to` states, from INIT on.
 */
function expectedStates(listener: KafkaListener): BrokerState[] {
  return [
    "TRY_CONNECT",
    "CONNECT",
    ...(listener.tls ? ["SSL_HANDSHAKE" as const] : []),
    "APIVERSION_QUERY",
    ...(listener.saslMechanisms.length > 0 ? ["AUTH_HANDSHAKE" as const, "AUTH_REQ" as const] : []),
    "UP",
  ];
}

/**
 * Connects, checks the states, sends Metadata and checks the reply.
 *
 * @param kafka The broker.
 * @param name The listener.
 * @param sasl The mechanism, for SASL listeners.
 */
async function connectAndDescribe(
  kafka: KafkaEnv,
  name: ListenerName,
  sasl?: MechanismName,
): Promise<void> {
  const listener = kafka.listeners[name];
  const user = kafka.users[0];
  const rec = openConnection(listener, {
    tls: tlsFor(kafka, listener),
    sasl: sasl === undefined ? undefined : mechanism(sasl, user.username, user.password),
  });
  await using conn = rec.conn;
  await conn.connect();
  assert.deepEqual(rec.states(), expectedStates(listener), describeChanges(rec.changes));
  const md = await conn.send(Metadata, { topics: null, allowAutoTopicCreation: false });
  assert.equal(md.clusterId, kafka.clusterId);
  assert.equal(md.brokers.length, 1, JSON.stringify(md.brokers));
  // The broker advertises the listener the request came in on.
  assert.equal(md.brokers[0].port, listener.port);
  assert.equal(conn.state, "UP");
  assert.equal(conn.stats().connects, 1);
  assert.equal(conn.stats().disconnects, 0);
}

withKafka((kafka) => {
  for (const name of ["PLAINTEXT", "SSL", "SSL_CLIENTAUTH"] as const) {
    kafkaTest(`${name} reaches UP and answers Metadata`, () => connectAndDescribe(kafka, name));
  }
  for (const name of ["SASL_PLAINTEXT", "SASL_SSL"] as const) {
    for (const sasl of MECHANISMS) {
      assert.ok(kafka.listeners[name].saslMechanisms.includes(sasl), `${name} lacks ${sasl}`);
      kafkaTest(
        `${name} × ${sasl} reaches UP and answers Metadata`,
        () => connectAndDescribe(kafka, name, sasl),
      );
    }
  }
}, "every listener × SASL mechanism reaches UP");
