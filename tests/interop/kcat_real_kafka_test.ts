/**
 * The same kcat (librdkafka 2.0.2) against the real Apache Kafka broker's SASL listener: the
 * reference for what the embedded cluster's SCRAM check must accept and refuse. PLAIN works;
 * SCRAM fails, because librdkafka 2.0.2 repeats its client nonce in client-final and Kafka 4.x
 * compares the nonce exactly (Kafka 3.x only checked that it ended with the server's nonce).
 */

import assert from "node:assert/strict";
import { kafkaTest, withKafka } from "../integration/real_broker.ts";
import { available, run } from "./run.ts";

withKafka((kafka) => {
  if (!available("kcat", "-V")) {
    console.error("SKIPPED interop with the real broker: kcat is not on PATH");
    return;
  }
  const l = kafka.listeners.SASL_PLAINTEXT;
  const user = kafka.users[0];
  const args = (mechanism: string) => [
    "-b",
    `${l.host}:${l.port}`,
    "-X",
    "security.protocol=SASL_PLAINTEXT",
    "-X",
    `sasl.mechanisms=${mechanism}`,
    "-X",
    `sasl.username=${user.username}`,
    "-X",
    `sasl.password=${user.password}`,
    "-L",
    "-m",
    "5",
  ];
  kafkaTest(
    `kcat (librdkafka 2.0.2) authenticates with PLAIN; Kafka ${kafka.kafkaVersion} refuses its SCRAM`,
    async () => {
      const plain = await run("kcat", args("PLAIN"));
      assert.equal(plain.code, 0, plain.stderr);
      const scram = await run("kcat", args("SCRAM-SHA-256"));
      assert.notEqual(scram.code, 0, "Kafka 4.x refuses the repeated client nonce");
      assert.match(scram.stderr, /invalid credentials with SASL mechanism SCRAM-SHA-256/);
    },
  );
});
