import assert from "node:assert/strict";
import { test } from "../harness.ts";
import {
  ExitCode,
  explainFailure,
  type FailureContext,
  stateFromMessage,
} from "../../cli/hints.ts";
import { UsageError } from "../../cli/probe_options.ts";
import { ConnectionSetupTimeoutError, RequestTimeoutError } from "../../broker/errors.ts";
import { DecodeError, FramingError } from "../../framing/errors.ts";
import { KafkaProtocolError } from "../../protocol/errors.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import {
  ChainVerificationRequiredError,
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  KafkaTransportError,
  TlsError,
} from "../../transport/errors.ts";

const plaintext: FailureContext = { state: null, tls: false, sasl: false, target: "h:9092" };
const withTls: FailureContext = { ...plaintext, tls: true };

test("stateFromMessage() reads the connection's (after N ms in state X) suffix", () => {
  assert.equal(
    stateFromMessage("lost (after 12 ms in state APIVERSION_QUERY)"),
    "APIVERSION_QUERY",
  );
  assert.equal(stateFromMessage("no suffix here"), null);
});

test("explainFailure() maps each error class to its category and exit code", () => {
  const cases: [KafkaTransportError, FailureContext, string, number, RegExp][] = [
    [new UsageError("bad"), plaintext, "usage", ExitCode.USAGE, /option/],
    [
      new ConnectionRefusedError("refused (after 1 ms in state CONNECT)"),
      plaintext,
      "refused",
      ExitCode.CONNECTION,
      /Nothing accepted the connection at h:9092/,
    ],
    [
      new ConnectionClosedError(
        "Connection to h:9092 closed by the broker: incorrect security protocol (TLS listener?) " +
          "or broker version < 0.10 (after 3 ms in state APIVERSION_QUERY)",
        { hint: "security-protocol" },
      ),
      plaintext,
      "wrong-security-protocol",
      ExitCode.TLS,
      /wrong security protocol.*add --tls/,
    ],
    [
      new ConnectionClosedError(
        "Connection to h:9092 closed by the broker: broker might require SASL authentication " +
          "(after 5 ms in state UP)",
        { hint: "sasl-required" },
      ),
      plaintext,
      "sasl-required",
      ExitCode.AUTHENTICATION,
      /SASL_PLAINTEXT \/ SASL_SSL listener; add --sasl-mechanism/,
    ],
    [
      new ConnectionClosedError("closed (after 9000 ms in state UP)"),
      { ...plaintext, sasl: true },
      "closed",
      ExitCode.CONNECTION,
      /closed the connection/,
    ],
    [
      new ConnectionClosedError("closed (after 2 ms in state AUTH_REQ)", {
        hint: "sasl-credentials",
      }),
      { ...plaintext, sasl: true },
      "authentication",
      ExitCode.AUTHENTICATION,
      /during SASL/,
    ],
    [
      new TlsError(
        "handshake failed: the peer is not speaking TLS: connecting to a PLAINTEXT " +
          "listener with TLS?",
        { kind: "not-tls" },
      ),
      withTls,
      "tls-to-plaintext",
      ExitCode.TLS,
      /listener does not speak TLS: drop --tls/,
    ],
    [
      new ConnectionClosedError(
        "lost: the peer hung up during the TLS handshake; connecting to " +
          "a PLAINTEXT listener? (after 4 ms in state SSL_HANDSHAKE)",
      ),
      withTls,
      "tls-to-plaintext",
      ExitCode.TLS,
      /drop --tls/,
    ],
    [
      new TlsError("certificate verify failed: UnknownIssuer", { kind: "untrusted" }),
      withTls,
      "tls",
      ExitCode.TLS,
      /check --ca/,
    ],
    [
      new FramingError(
        'peer is not a Kafka listener: looks like HTTP (reads "HTTP")',
        0x48545450,
        { peer: "http" },
      ),
      plaintext,
      "not-kafka",
      ExitCode.PROTOCOL,
      /h:9092 is not a Kafka listener \(it answered like an HTTP server\)/,
    ],
    [
      new FramingError("peer is not a Kafka listener: looks like TLS — TLS on a plaintext", 1, {
        peer: "tls",
      }),
      plaintext,
      "wrong-security-protocol",
      ExitCode.TLS,
      /answered with TLS.*add --tls/,
    ],
    [
      new ConnectionClosedError(
        "Connection to h:9092 lost: TLS session failed (alert: BadCertificate): the server " +
          "rejected the client certificate or requires one (after 3 ms in state APIVERSION_QUERY)",
        { cause: new TlsError("alert: BadCertificate", { kind: "client-certificate" }) },
      ),
      withTls,
      "tls",
      ExitCode.TLS,
      /requires a client certificate \(mutual TLS\).*--cert and --key/,
    ],
    [
      new ConfigError("maxInFlight must be an integer >= 1, got 0"),
      withTls,
      "usage",
      ExitCode.USAGE,
      /A setting was refused/,
    ],
    [new DecodeError("x", 3, "truncated"), plaintext, "not-kafka", ExitCode.PROTOCOL, /decoded/],
    [
      new AuthenticationError(
        "SASL PLAIN authentication failed: ... (after 3 ms in state AUTH_REQ)",
        {
          code: 58,
        },
      ),
      { ...plaintext, sasl: true },
      "authentication",
      ExitCode.AUTHENTICATION,
      /user name and password/,
    ],
    [
      new ConnectionSetupTimeoutError("APIVERSION_QUERY", 100, " (after 100 ms in state X)"),
      plaintext,
      "timeout",
      ExitCode.TIMEOUT,
      /Timed out in state APIVERSION_QUERY.*try --tls/,
    ],
    [
      new ConnectionSetupTimeoutError("CONNECT", 100, ""),
      plaintext,
      "timeout",
      ExitCode.TIMEOUT,
      /Timed out in state CONNECT: nothing answered at h:9092/,
    ],
    [
      new RequestTimeoutError(
        { apiName: "Metadata", apiVersion: 12, correlationId: 4, timeoutMs: 5 },
        false,
        " (after 5 ms in state UP)",
      ),
      plaintext,
      "timeout",
      ExitCode.TIMEOUT,
      /Timed out in state UP: the broker is slow/,
    ],
    [
      new ConnectionSetupTimeoutError("SSL_HANDSHAKE", 100, ""),
      withTls,
      "timeout",
      ExitCode.TIMEOUT,
      /Timed out in state SSL_HANDSHAKE: .*TLS \(SSL \/ SASL_SSL\) listener/,
    ],
    [new KafkaProtocolError(29, "Metadata"), plaintext, "other", ExitCode.OTHER, /code 29/],
    [new KafkaTransportError("odd"), plaintext, "other", ExitCode.OTHER, /message above/],
  ];
  for (const [error, ctx, kind, exitCode, hint] of cases) {
    const explained = explainFailure(error, ctx);
    assert.equal(explained.kind, kind, error.message);
    assert.equal(explained.exitCode, exitCode, error.message);
    assert.match(explained.hint, hint, error.message);
  }
});

test("explainFailure() prefers the state the probe saw over the message's suffix", () => {
  const error = new ConnectionClosedError("closed by the broker");
  assert.equal(explainFailure(error, { ...plaintext, state: "APIVERSION_QUERY" }).exitCode, 4);
  assert.equal(explainFailure(error, { ...plaintext, state: "CONNECT" }).exitCode, 3);
});

test("explainFailure() puts Deno's chain check under --insecure-skip-verify in the probe's terms", () => {
  const error = new ChainVerificationRequiredError(
    "TLS handshake with h:9093 failed (UnknownIssuer): dangerouslyDisableVerification can only " +
      "skip the host name check on Deno; the certificate chain is still verified.",
  );
  const hint = explainFailure(error, withTls);
  assert.equal(hint.kind, "tls");
  assert.equal(hint.exitCode, ExitCode.TLS);
  assert.match(hint.hint, /--insecure-skip-verify skips only the host name check: pass --ca/);
  assert.match(hint.hint, /--unsafely-ignore-certificate-errors/);
});

test("explainFailure() goes by the typed fields, whatever the message says", () => {
  const clientCert = /requires a client certificate \(mutual TLS\).*--cert and --key/;
  // Reworded messages with the field set: still recognised.
  const recognised: [KafkaTransportError, FailureContext, string, RegExp][] = [
    [new TlsError("reworded", { kind: "not-tls" }), withTls, "tls-to-plaintext", /drop --tls/],
    [new TlsError("reworded", { kind: "client-certificate" }), withTls, "tls", clientCert],
    [
      new ConnectionClosedError("reworded", {
        cause: new TlsError("reworded", { kind: "client-certificate" }),
      }),
      withTls,
      "tls",
      clientCert,
    ],
    [
      new FramingError("reworded", 0x16030100, { peer: "tls" }),
      plaintext,
      "wrong-security-protocol",
      /answered with TLS/,
    ],
    [
      new FramingError("reworded", 0x48545450, { peer: "http" }),
      plaintext,
      "not-kafka",
      /answered like an HTTP server/,
    ],
    [
      new ConnectionClosedError("reworded", { hint: "security-protocol" }),
      plaintext,
      "wrong-security-protocol",
      /wrong security protocol/,
    ],
    [
      new ConnectionClosedError("reworded", { hint: "sasl-required" }),
      plaintext,
      "sasl-required",
      /add --sasl-mechanism/,
    ],
    [
      new ConnectionClosedError("reworded", { hint: "sasl-credentials" }),
      { ...plaintext, sasl: true },
      "authentication",
      /during SASL/,
    ],
    [new ChainVerificationRequiredError("reworded"), withTls, "tls", /--insecure-skip-verify/],
  ];
  for (const [error, ctx, kind, hint] of recognised) {
    const explained = explainFailure(error, ctx);
    assert.equal(explained.kind, kind, `${error.name} expected as ${kind}`);
    assert.match(explained.hint, hint, `${error.name} expected as ${kind}`);
  }
  // The old keywords in the message, without the field: not recognised.
  const unrecognised: [KafkaTransportError, FailureContext, string, RegExp][] = [
    [
      new TlsError("not speaking TLS: connecting to a PLAINTEXT listener with TLS?"),
      withTls,
      "tls",
      /check --ca/,
    ],
    [
      new TlsError("the server rejected the client certificate or requires one"),
      withTls,
      "tls",
      /check --ca/,
    ],
    [
      new FramingError("peer is not a Kafka listener: looks like TLS", 0x16030100),
      plaintext,
      "not-kafka",
      /is not a Kafka listener: check the port/,
    ],
    [
      new FramingError("peer is not a Kafka listener: looks like HTTP", 0x48545450),
      plaintext,
      "not-kafka",
      /is not a Kafka listener: check the port/,
    ],
    [
      new ConnectionClosedError("closed by the broker: broker might require SASL authentication"),
      plaintext,
      "closed",
      /check its log/,
    ],
    [
      new ConnectionClosedError("closed: incorrect security protocol (TLS listener?)"),
      plaintext,
      "closed",
      /check its log/,
    ],
    [
      new ConnectionClosedError("closed: check the SASL mechanism and credentials"),
      { ...plaintext, sasl: true },
      "closed",
      /check its log/,
    ],
    [
      new ConfigError("dangerouslyDisableVerification can only skip the host name check"),
      withTls,
      "usage",
      /A setting was refused/,
    ],
  ];
  for (const [error, ctx, kind, hint] of unrecognised) {
    const explained = explainFailure(error, ctx);
    assert.equal(explained.kind, kind, error.message);
    assert.match(explained.hint, hint, error.message);
  }
});

test("the typed fields default to recognising nothing", () => {
  assert.equal(new TlsError("x").kind, "other");
  assert.equal(new FramingError("x", -1).peer, null);
  assert.equal(new ConnectionClosedError("x").hint, undefined);
  const chain = new ChainVerificationRequiredError("x");
  assert.ok(chain instanceof ConfigError);
  assert.equal(chain.name, "ChainVerificationRequiredError");
  assert.equal(chain.retriable, false);
});
