/**
 * The real broker is SIGKILLed with many requests in flight on a PLAINTEXT and a SASL_SSL
 * connection: every one of them settles with a typed, retriable error, each connection goes
 * DOWN and, while a request is queued, re-dials with growing backoff against the dead port;
 * once the broker is restarted both come back UP on their own and requests succeed again.
 *
 * This file kills the shared broker, so `scripts/test.sh` runs it in a runner invocation of its
 * own after every other file, on each runtime: no other test can see the broker down, whatever
 * order a runner picks for files or however many it runs at once. It restarts the broker even
 * when the test fails, so a run that includes it among other files (a plain `deno test tests/`,
 * which runs files one at a time) finds the broker up again afterwards.
 */

import assert from "node:assert/strict";
import { Fetch } from "../../protocol/fetch.ts";
import { Metadata, type MetadataResponse, type MetadataTopic } from "../../protocol/metadata.ts";
import { ConnectionClosedError, KafkaTransportError } from "../../transport/errors.ts";
import {
  type KafkaEnv,
  killBroker,
  loadKafka,
  restartBroker,
  restartBrokerInBackground,
} from "./fixture.ts";
import {
  createTopic,
  describeChanges,
  kafkaTest,
  mechanism,
  openConnection,
  type RecordedConnection,
  sleep,
  tlsFor,
  uniqueTopic,
  withKafka,
} from "./real_broker.ts";

const METADATA_REQUESTS = 500;
const LONG_POLLS = 20;
/** How long to watch the re-dials against the dead port. */
const BACKOFF_WATCH_MS = 2500;
const BACKOFF_MS = 100;
const BACKOFF_MAX_MS = 1000;

/** The restart under way, so that cleanup after a failure waits for it instead of racing it. */
let restarting: Promise<KafkaEnv> | null = null;

/**
 * Waits for `promise`, failing after `ms` instead of hanging the run.
 *
 * @param promise What to wait for.
 * @param ms The bound.
 * @param what What is awaited, for the message.
 * @returns What `promise` resolves to.
 */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** One connection under test and what it has outstanding. */
interface Victim {
  /** Its label for messages. */
  label: string;
  /** The connection and its state log. */
  rec: RecordedConnection;
  /** The requests in flight when the broker dies. */
  pending: Promise<unknown>[];
  /**
   * Their outcomes, taken as soon as they are sent: a rejection must never be unhandled, or
   * the runner aborts the file and skips the restart in `finally`.
   */
  settled?: Promise<PromiseSettledResult<unknown>[]>;
  /** The request queued while the broker is down. */
  afterRestart?: Promise<MetadataResponse>;
}

/**
 * Fills a connection's pipeline: long polls on an empty topic hold the broker's side (Kafka
 * handles one request per connection at a time), so everything behind them is surely in
 * flight when the broker dies.
 *
 * @param victim The connection.
 * @param topic The empty topic, with its id.
 */
async function fillPipeline(victim: Victim, topic: MetadataTopic): Promise<void> {
  const conn = victim.rec.conn;
  await conn.connect();
  const fetch = (maxWaitMs: number) =>
    conn.send(Fetch, {
      maxWaitMs,
      minBytes: 1,
      topics: [{
        topic: topic.name!,
        topicId: topic.topicId,
        partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }],
      }],
    });
  // A fetch that fails (a new partition the fetch path does not know yet) returns at once
  // instead of parking: wait until a short poll succeeds, so the long polls surely park.
  for (let i = 0;; i++) {
    const res = await fetch(0);
    const code = res.errorCode || res.responses[0]?.partitions[0]?.errorCode;
    if (code === 0) break;
    assert.ok(i < 100, `${victim.label}: Fetch keeps failing with error code ${code}`);
    await sleep(100);
  }
  for (let i = 0; i < LONG_POLLS; i++) victim.pending.push(fetch(30_000));
  for (let i = 0; i < METADATA_REQUESTS; i++) {
    victim.pending.push(conn.send(Metadata, { topics: null, allowAutoTopicCreation: false }));
  }
  victim.settled = Promise.allSettled(victim.pending);
  for (let i = 0; i < 200 && conn.stats().inFlight < victim.pending.length; i++) await sleep(10);
  assert.equal(conn.stats().inFlight, victim.pending.length, `${victim.label}: all in flight`);
}

/**
 * Checks that every request in flight at the kill failed with a retriable connection error
 * and that the connection went DOWN and stayed there (nothing queued).
 *
 * @param victim The connection.
 */
async function checkSettled(victim: Victim): Promise<void> {
  const { rec, label } = victim;
  const outcomes = await within(victim.settled!, 15_000, `${label} settling`);
  const log = `${label}\n${describeChanges(rec.changes)}`;
  for (const [i, outcome] of outcomes.entries()) {
    const what = i < LONG_POLLS ? `long poll ${i}` : `Metadata ${i - LONG_POLLS}`;
    assert.equal(outcome.status, "rejected", `${what} was answered before the kill\n${log}`);
    const error = (outcome as PromiseRejectedResult).reason;
    assert.ok(error instanceof KafkaTransportError, `${label}: ${error}`);
    assert.ok(error instanceof ConnectionClosedError, `${label}: ${error.name}: ${error.message}`);
    assert.equal(error.retriable, true, error.message);
    assert.match(error.message, /127\.0\.0\.1:\d+ (closed by the broker|lost)/);
    // A crash says nothing about SASL, whatever the connection's age.
    assert.doesNotMatch(error.message, /might require SASL/);
  }
  assert.equal(rec.conn.state, "DOWN", log);
  assert.equal(rec.conn.stats().inFlight, 0);
  assert.equal(rec.count("CONNECT"), 1, log);
}

/**
 * Checks the re-dials against the dead port: spaced by a growing backoff, not a storm.
 *
 * @param victim The connection.
 * @param connectsBefore CONNECT entries before the request that made it re-dial.
 */
function checkBackoff(victim: Victim, connectsBefore: number): void {
  const { rec, label } = victim;
  const log = `${label}\n${describeChanges(rec.changes)}`;
  const attempts = rec.changes.filter((c) => c.to === "CONNECT").slice(connectsBefore);
  // 100, 200, 400, 800, 1000 ms (×0.75..1.5, capped): 3 to 6 attempts in 2.5 s, not a storm.
  assert.ok(attempts.length >= 3 && attempts.length <= 7, `${attempts.length} attempts\n${log}`);
  const gaps = attempts.slice(1).map((c, i) => c.at - attempts[i].at);
  assert.ok(gaps.every((gap) => gap >= BACKOFF_MS * 0.7), `gaps ${gaps}\n${log}`);
  assert.ok(gaps.at(-1)! > gaps[0], `backoff did not grow: gaps ${gaps}\n${log}`);
  assert.ok(
    rec.changes.some((c) => c.to === "TRY_CONNECT" && /reconnect backoff \d+ ms$/.test(c.reason)),
    log,
  );
  assert.equal(rec.conn.stats().lastError?.name, "ConnectionRefusedError", log);
}

/**
 * Kills the broker mid-pipeline under a plaintext and a SASL_SSL connection, watches them
 * re-dial, restarts the broker, and checks that both recover on their own.
 *
 * @param kafka The broker.
 */
async function killAndRestart(kafka: KafkaEnv): Promise<void> {
  const options = {
    reconnectBackoffMs: BACKOFF_MS,
    reconnectBackoffMaxMs: BACKOFF_MAX_MS,
    requestTimeoutMs: 120_000,
  };
  const user = kafka.users[0];
  const victims: Victim[] = [
    { label: "PLAINTEXT", rec: openConnection(kafka.listeners.PLAINTEXT, options), pending: [] },
    {
      label: "SASL_SSL × SCRAM-SHA-256",
      rec: openConnection(kafka.listeners.SASL_SSL, {
        ...options,
        tls: tlsFor(kafka, kafka.listeners.SASL_SSL),
        sasl: mechanism("SCRAM-SHA-256", user.username, user.password),
      }),
      pending: [],
    },
  ];
  await using _plain = victims[0].rec.conn;
  await using _secure = victims[1].rec.conn;
  const topic = await createTopic(victims[0].rec.conn, uniqueTopic("kill"));
  for (const victim of victims) await fillPipeline(victim, topic);

  killBroker();
  for (const victim of victims) await checkSettled(victim);
  // Nothing queued: a sparse connection stays down until asked for.
  await sleep(300);
  for (const { rec, label } of victims) {
    assert.equal(rec.count("CONNECT"), 1, `${label}\n${describeChanges(rec.changes)}`);
  }

  // A queued request makes each re-dial, with backoff, until the broker is back.
  const connectsBefore = victims.map((v) => v.rec.count("CONNECT"));
  for (const victim of victims) {
    victim.afterRestart = victim.rec.conn.send(Metadata, {
      topics: [{ name: topic.name }],
      allowAutoTopicCreation: false,
    });
    // Awaited below; this keeps an earlier failed assertion from leaving it unhandled.
    victim.afterRestart.catch(() => undefined);
  }
  await sleep(BACKOFF_WATCH_MS);
  victims.forEach((victim, i) => checkBackoff(victim, connectsBefore[i]));

  restarting = restartBrokerInBackground();
  await restarting;
  for (const { rec, label, afterRestart } of victims) {
    const md = await within(afterRestart!, 30_000, `${label}: the queued request`);
    assert.equal(md.topics[0].errorCode, 0, "the topic survived the crash");
    assert.equal(rec.conn.state, "UP");
    assert.equal(rec.conn.stats().connects, 2);
    const again = await rec.conn.send(Metadata, { topics: null, allowAutoTopicCreation: false });
    assert.equal(again.clusterId, kafka.clusterId);
  }
}

withKafka((kafka) => {
  kafkaTest("broker SIGKILLed mid-pipeline, then restarted: all settle, reconnects", async () => {
    try {
      await killAndRestart(kafka);
    } finally {
      // Others use this broker: leave it running whatever happened above.
      await restarting?.catch(() => undefined);
      if ("skipReason" in loadKafka()) restartBroker();
    }
  }, 180_000);
}, "broker SIGKILLed and restarted");
