/** The connection's error wording, as pure functions (`broker/wording.ts`). */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { DecodeError, FramingError } from "../../framing/errors.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import {
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  KafkaTransportError,
  TimeoutError,
  TlsError,
} from "../../transport/errors.ts";
import {
  bareMessage,
  dialHint,
  encodeFailure,
  frameRelative,
  insecureConnError,
  isConnectionLoss,
  legacyRefusal,
  lossHint,
  lostError,
  partlyWrittenTimeoutError,
  queuedTimeoutReason,
  setupTimeoutError,
  socketMaxFailsError,
  where,
  withContext,
} from "../../broker/wording.ts";

test("where() rounds the time in state", () => {
  assert.equal(where(12.6, "UP"), " (after 13 ms in state UP)");
  assert.equal(where(0, "CONNECT"), " (after 0 ms in state CONNECT)");
});

test("withContext() copies an error of ours: same class and fields, original untouched", () => {
  const original = new TlsError("handshake failed", { kind: "hostname", cause: "runtime" });
  const e = withContext(original, "Connecting", " (after 3 ms in state SSL_HANDSHAKE)");
  assert.ok(e instanceof TlsError);
  assert.notEqual(e, original);
  assert.equal(e.name, "TlsError");
  assert.equal((e as TlsError).kind, "hostname");
  assert.equal(e.retriable, false);
  assert.equal(e.message, "handshake failed (after 3 ms in state SSL_HANDSHAKE)");
  assert.equal(e.cause, original);
  assert.equal(original.message, "handshake failed");
  assert.equal(original.cause, "runtime");
  assert.match(String(e.stack), /handshake failed \(after 3 ms in state SSL_HANDSHAKE\)/);
  assert.equal(bareMessage(e), "handshake failed");
});

test("withContext() adds the hint before the suffix and keeps a Kafka code", () => {
  const original = new KafkaTransportError("refused", { code: 58, retriable: true });
  const e = withContext(original, "Setup", " (after 1 ms in state AUTH_REQ)", ": check it");
  assert.equal(e.message, "refused: check it (after 1 ms in state AUTH_REQ)");
  assert.equal(e.code, 58);
  assert.equal(e.retriable, true);
  assert.equal(bareMessage(e), "refused: check it");
});

test("withContext() wraps a foreign error, naming what was being done", () => {
  const cause = new TypeError("socket is gone");
  const e = withContext(cause, "Writing to the broker", " (after 2 ms in state UP)");
  assert.equal(e.constructor, KafkaTransportError);
  assert.equal(e.message, "Writing to the broker: socket is gone (after 2 ms in state UP)");
  assert.equal(e.cause, cause);
  assert.equal(withContext("text", "Reading", "").message, "Reading: text");
});

test("withContext() twice on one error gives two copies, never a longer original", () => {
  const original = new ConnectionRefusedError("refused");
  const a = withContext(original, "x", " (after 1 ms in state CONNECT)");
  const b = withContext(original, "x", " (after 2 ms in state CONNECT)");
  assert.equal(a.message, "refused (after 1 ms in state CONNECT)");
  assert.equal(b.message, "refused (after 2 ms in state CONNECT)");
  assert.equal(original.message, "refused");
});

test("bareMessage() is the message itself for errors the wording did not build", () => {
  assert.equal(
    bareMessage(new Error("plain (after 1 ms in state UP)")),
    "plain (after 1 ms in state UP)",
  );
});

test("isConnectionLoss(): one rule for reads and writes", () => {
  const cases: [unknown, boolean, boolean][] = [
    [new TypeError("boom"), false, true],
    [new ConnectionClosedError("reset"), true, true],
    [new TimeoutError("slow"), true, true],
    [new ConfigError("socket belongs to another request"), true, false],
    [new FramingError("bad size", 3), true, false],
    [new AuthenticationError("no"), false, false],
    [new TlsError("bad certificate"), false, false],
    [new TlsError("bad record mac"), true, true],
    [new KafkaTransportError("not retriable"), true, false],
    [new KafkaTransportError("retriable", { retriable: true }), true, true],
  ];
  for (const [error, established, loss] of cases) {
    assert.equal(
      isConnectionLoss(error, established),
      loss,
      `${error} (established ${established})`,
    );
  }
});

test("lossHint() follows librdkafka's states", () => {
  const base = { clean: true, sasl: false, sinceUpMs: 10 };
  assert.equal(lossHint({ ...base, state: "APIVERSION_QUERY" })?.hint, "security-protocol");
  assert.equal(lossHint({ ...base, state: "UP" })?.hint, "sasl-required");
  assert.equal(lossHint({ ...base, state: "UP", clean: false }), null, "a reset says nothing");
  assert.equal(lossHint({ ...base, state: "UP", sasl: true }), null);
  assert.equal(lossHint({ ...base, state: "UP", sinceUpMs: 5000 }), null);
  assert.equal(lossHint({ ...base, state: "AUTH_REQ" })?.hint, "sasl-credentials");
  assert.equal(lossHint({ ...base, state: "AUTH_LEGACY" })?.hint, "sasl-credentials");
  assert.equal(lossHint({ ...base, state: "REAUTH" }), null);
});

test("lostError() quotes its cause without the cause's own suffix", () => {
  const cause = withContext(new TypeError("EPIPE"), "Writing", " (after 1 ms in state UP)");
  const ctx = { state: "UP" as const, clean: false, sasl: false, sinceUpMs: 1 };
  const e = lostError("h:9092", cause, ctx, " (after 2 ms in state UP)");
  assert.ok(e instanceof ConnectionClosedError);
  assert.equal(e.message, "Connection to h:9092 lost: Writing: EPIPE (after 2 ms in state UP)");
  assert.equal(e.cause, cause);
  assert.equal(e.hint, undefined);
  const closed = lostError("h:9092", null, { ...ctx, state: "APIVERSION_QUERY", clean: true }, "");
  assert.match(closed.message, /^Connection to h:9092 closed by the broker: incorrect security/);
  assert.equal(closed.hint, "security-protocol");
  assert.equal(
    bareMessage(lostError("h:1", null, ctx, " (x)")),
    "Connection to h:1 closed by the broker",
  );
});

test("legacyRefusal() is a non-retriable AuthenticationError", () => {
  const e = legacyRefusal("PLAIN", "h:1", " (after 1 ms in state AUTH_LEGACY)");
  assert.ok(e instanceof AuthenticationError);
  assert.equal(e.retriable, false);
  assert.match(e.message, /^SASL PLAIN authentication failed: h:1 closed the connection/);
});

test("dialHint() only for a hang-up during the TLS dial", () => {
  assert.match(dialHint("SSL_HANDSHAKE", new ConnectionClosedError("eof")), /PLAINTEXT listener/);
  assert.equal(dialHint("CONNECT", new ConnectionClosedError("eof")), "");
  assert.equal(dialHint("SSL_HANDSHAKE", new TlsError("bad")), "");
});

test("queuedTimeoutReason() tells a full pipeline, re-authentication and a failed attempt apart", () => {
  assert.match(queuedTimeoutReason("UP", null, 5), /UP but all 5 in-flight slot\(s\)/);
  assert.match(queuedTimeoutReason("REAUTH", null, 5), /re-authenticating/);
  const failure = withContext(
    new ConnectionRefusedError("refused"),
    "",
    " (after 1 ms in state CONNECT)",
  );
  assert.equal(
    queuedTimeoutReason("TRY_CONNECT", failure, 5),
    "the connection is not up; its last attempt failed: refused",
  );
  assert.match(queuedTimeoutReason("CONNECT", null, 5), /not ready/);
});

test("encodeFailure() keeps our errors and blames the request value for anything else", () => {
  const ours = new ConfigError("field x");
  assert.equal(encodeFailure(ours, "Encoding", "Produce", true), ours);
  const e = encodeFailure(
    new TypeError("undefined"),
    "Encoding Produce v9 request",
    "Produce",
    true,
  );
  assert.ok(e instanceof ConfigError);
  assert.match(e.message, /request value passed to send\(\) against the Produce request layout$/);
  assert.match(
    encodeFailure("x", "Encoding", "Echo", false).message,
    /encodeBody of request\(\)/,
  );
});

test("setupTimeoutError() hints at old brokers only for ApiVersions", () => {
  const p = { apiName: "ApiVersions", apiVersion: 3, apiKey: 18, timeoutMs: 100 };
  assert.match(setupTimeoutError(p, "").message, /older than 0\.10/);
  assert.doesNotMatch(setupTimeoutError({ ...p, apiKey: 17 }, "").message, /older/);
});

test("insecureConnError() names the connector", () => {
  function myConnector() {}
  assert.match(insecureConnError(myConnector, false, "").message, /connector myConnector returned/);
  assert.match(insecureConnError({ name: "" }, undefined, "").message, /\(anonymous\).*undefined/);
});

test("partlyWrittenTimeoutError() and socketMaxFailsError() say why the connection goes", () => {
  const partly = partlyWrittenTimeoutError(
    { apiName: "Produce", apiVersion: 11, correlationId: 42 },
    " (after 5 ms in state UP)",
  );
  assert.ok(partly instanceof TimeoutError);
  assert.match(partly.message, /^Request Produce v11 \(correlation id 42\) timed out while partly/);
  assert.match(partly.message, /spliced into it \(after 5 ms in state UP\)$/);
  const fails = socketMaxFailsError(3, 3, "");
  assert.ok(fails instanceof TimeoutError);
  assert.match(fails.message, /^3 request\(s\) timed out: disconnecting \(socketMaxFails 3\)/);
});

test("frameRelative() counts a DecodeError's offset from the frame, not the chunk", () => {
  const inChunk = new DecodeError("topics.name", 130, "runs past the end");
  const relative = frameRelative(inChunk, 100);
  assert.equal(relative.offset, 30);
  assert.equal(relative.field, "topics.name");
  assert.match(relative.message, /at byte 30: runs past the end/);
  assert.equal(frameRelative(inChunk, 0), inChunk);
});
