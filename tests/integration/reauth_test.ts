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
  type RecordedConnection,
  withKafka,
} from "./real_broker.ts";

/** The load stops here even if fewer re-authentications happened (then it fails). */
const LOAD_CAP_MS = 15_000;
/** How long a re-authentication that started as the load stopped may take to finish. */
const SETTLE_MS = 10_000;
const LOOPS = 4;
const WANTED_REAUTHS = 2;

/**
 * Resolves at the first state change that makes `done()` true, or with `false` after `ms`.
 *
 * @param rec The connection and its state log.
 * @param done Checked after every state change (and once at once).
 * @param ms The bound.
 * @returns `true` when `done()` became true in time.
 */
function whenState(rec: RecordedConnection, done: () => boolean, ms: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), ms);
    // Registered after the recorder's listener, so `rec` already holds the change.
    const unsubscribe = rec.conn.onStateChange(() => {
      if (done()) finish(true);
    });
  });
}

/**
 * Runs the load and checks the state log and every request's outcome.
 *
 * The load runs until the connection is back UP after its second re-authentication, then
 * stops; the checks read the logs only while the connection is UP, never in the middle of a
 * re-authentication that the session timer started as the load was stopping.
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
  let stop = false;
  const loop = async (n: number) => {
    for (let i = 0; !stop && failures.length === 0; i++) {
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
  const reauthenticated = () =>
    rec.count("REAUTH") >= WANTED_REAUTHS && rec.changes.at(-1)?.to === "UP";
  const loops = Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)));
  const reached = await Promise.race([
    whenState(rec, () => reauthenticated() || rec.count("DOWN") > 0, LOAD_CAP_MS),
    loops.then(() => false),
  ]);
  stop = true;
  await loops;
  const elapsed = Date.now() - start;
  assert.deepEqual(failures, [], describeChanges(rec.changes));
  assert.ok(
    reached,
    `not back UP after ${WANTED_REAUTHS} re-authentications within ${LOAD_CAP_MS} ms\n` +
      describeChanges(rec.changes),
  );
  // The session timer may have started the next re-authentication meanwhile: let it finish.
  const up = await whenState(rec, () => conn.state === "UP", SETTLE_MS);
  assert.ok(up, `stuck in ${conn.state}\n${describeChanges(rec.changes)}`);
  const log = describeChanges(rec.changes);
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
  assert.ok(answered > 100, `only ${answered} requests in ${elapsed} ms`);
}

withKafka((kafka) => {
  for (const sasl of ["PLAIN", "SCRAM-SHA-256", "OAUTHBEARER"] as const) {
    kafkaTest(
      `SASL_REAUTH × ${sasl}: re-authenticates ≥ ${WANTED_REAUTHS}× under load, no reconnect`,
      () => reauthUnderLoad(kafka, sasl),
      30_000,
    );
  }
}, "KIP-368 re-authentication under load");
