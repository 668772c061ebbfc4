import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { KafkaTransportError } from "../../transport/errors.ts";
import {
  ErrorCode,
  errorInfo,
  errorName,
  kafkaErrorFor,
  KafkaProtocolError,
} from "../../protocol/errors.ts";

test("errorName() and errorInfo() follow the broker's table", () => {
  assert.equal(errorName(35), "UNSUPPORTED_VERSION");
  assert.equal(errorName(-1), "UNKNOWN_SERVER_ERROR");
  assert.equal(errorName(128), "INVALID_REGULAR_EXPRESSION");
  assert.equal(errorName(99), "UNKNOWN_ERROR_CODE_99");
  assert.deepEqual(errorInfo(3), {
    code: 3,
    name: "UNKNOWN_TOPIC_OR_PARTITION",
    retriable: true,
    message: "This server does not host this topic-partition.",
  });
  assert.equal(errorInfo(0)?.name, "NONE");
  assert.equal(errorInfo(9999), undefined);
});

test("ErrorCode constants match the table names", () => {
  for (const [name, code] of Object.entries(ErrorCode)) assert.equal(errorName(code), name);
});

test("kafkaErrorFor() builds a typed error with name, code, retriable and message", () => {
  const err = kafkaErrorFor(6, "Produce to orders[0]");
  assert.ok(err instanceof KafkaProtocolError);
  assert.ok(err instanceof KafkaTransportError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "KafkaProtocolError");
  assert.equal(err.code, 6);
  assert.equal(err.errorName, "NOT_LEADER_OR_FOLLOWER");
  assert.equal(err.retriable, true);
  assert.equal(err.brokerMessage, null);
  assert.match(err.message, /^Produce to orders\[0\]: NOT_LEADER_OR_FOLLOWER \(6\): For requests/);
});

test("kafkaErrorFor() appends the broker's own message and keeps non-retriable codes so", () => {
  const err = kafkaErrorFor(58, "SASL PLAIN", "Invalid username or password");
  assert.equal(err.retriable, false);
  assert.equal(err.brokerMessage, "Invalid username or password");
  assert.equal(
    err.message,
    "SASL PLAIN: SASL_AUTHENTICATION_FAILED (58): SASL Authentication failed. " +
      "Broker said: Invalid username or password",
  );
});

test("kafkaErrorFor() handles codes newer than the table", () => {
  const err = kafkaErrorFor(4242, "Metadata");
  assert.equal(err.errorName, "UNKNOWN_ERROR_CODE_4242");
  assert.equal(err.retriable, false);
  assert.match(err.message, /^Metadata: UNKNOWN_ERROR_CODE_4242 \(4242\): an error code/);
});
