/**
 * KIP-368 re-authentication against the real broker's SASL_REAUTH listener (3 s sessions):
 * under a steady load of pipelined requests the connection re-authenticates at least twice on
 * the same socket, never goes DOWN, and answers every request exactly once.
 */

import assert from "node:assert/strict";
import type { RequestEvent } from "../../broker/options.ts";
import { ApiVersions } from "../../protocol/api_versions.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { SaslAuthenticate } from "../../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../../protocol/sasl_handshake.ts";
import type { KafkaEnv } from "./fixture.ts";
import {
  describeChanges,
  kafkaTest,
  mechanism,
  type MechanismName,
  openConnection,
  withKafka,
} from "./real_broker.ts";

/** How long the load runs at least. */
const LOAD_MS = 8000;
/** The load stops here even if fewer than two re-authentications happened (then it fails). */
const LOAD_CAP_MS = 15_000;
const LOOPS = 4;
const WANTED_REAUTHS = 2;

/**
 * Runs the load and checks the state log and every request's outcome.
 *
 * @param kafka The broker.
 * @param sasl The mechanism.
 */
async function reauthUnderLoad(kafka: KafkaEnv, sasl: MechanismName): Promise<void> {
  const listener = kafka.listeners.SASL_REAUTH;
  assert.ok(listener.reauthMs > 0 && listener.reauthMs <= 3000, `reauthMs ${listener.reauthMs}`);
  const user = kafka.users[1];
  const events: RequestEvent[] = [];
  const rec = openConnection(listener, {
    sasl: mechanism(sasl, user.username, user.password),
    hooks: { onRequest: (event) => events.push(event) },
  });
  await using conn = rec.conn;
  await conn.connect();
  const start = Date.now();
  const failures: unknown[] = [];
  let answered = 0;
  const keepGoing = () => {
    const elapsed = Date.now() - start;
    return failures.length === 0 && elapsed < LOAD_CAP_MS &&
      (elapsed < LOAD_MS || rec.count("REAUTH") < WANTED_REAUTHS);
  };
  const loop = async (n: number) => {
    for (let i = 0; keepGoing(); i++) {
      try {
        if ((n + i) % 2 === 0) {
          const md = await conn.send(Metadata, { topics: [], allowAutoTopicCreation: false });
          assert.equal(md.clusterId, kafka.clusterId);
        } else {
          const av = await conn.send(ApiVersions, {
            clientSoftwareName: "integration",
            clientSoftwareVersion: "1",
          });
          assert.equal(av.errorCode, 0);
        }
        answered++;
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)));
  const log = describeChanges(rec.changes);
  assert.deepEqual(failures, [], log);
  assert.ok(rec.count("REAUTH") >= WANTED_REAUTHS, `only ${rec.count("REAUTH")} REAUTH\n${log}`);
  assert.equal(rec.count("DOWN"), 0, log);
  assert.equal(rec.count("CONNECT"), 1, log);
  // Every REAUTH went through the SASL steps and back to UP on the same socket.
  const afterConnect = rec.states().slice(rec.states().indexOf("UP") + 1);
  for (let i = 0; i < afterConnect.length; i += 4) {
    assert.deepEqual(afterConnect.slice(i, i + 4), ["REAUTH", "AUTH_HANDSHAKE", "AUTH_REQ", "UP"]);
  }
  // One hook event per request, each with its reply: the load's requests plus the setup's
  // (ApiVersions once, the SASL requests of every authentication).
  const sasls = events.filter((e) => e.apiKey === SaslHandshake.key);
  assert.equal(sasls.length, 1 + rec.count("REAUTH"));
  const ordinary = events.filter((e) =>
    e.apiKey !== SaslHandshake.key && e.apiKey !== SaslAuthenticate.key
  );
  assert.equal(ordinary.length, answered + 1);
  assert.ok(events.every((e) => e.error === undefined && e.repliedAt >= 0));
  assert.equal(new Set(events.map((e) => e.correlationId)).size, events.length);
  const stats = conn.stats();
  assert.equal(stats.connects, 1);
  assert.equal(stats.disconnects, 0);
  assert.equal(stats.requestsTimedOut, 0);
  assert.equal(stats.unknownReplies, 0);
  assert.ok(answered > 100, `only ${answered} requests in ${Date.now() - start} ms`);
}

withKafka((kafka) => {
  for (const sasl of ["PLAIN", "SCRAM-SHA-256", "OAUTHBEARER"] as const) {
    kafkaTest(
      `SASL_REAUTH × ${sasl}: re-authenticates ≥ ${WANTED_REAUTHS}× under load, no reconnect`,
      () => reauthUnderLoad(kafka, sasl),
      30_000,
    );
  }
});
