/**
 * Misconfigured security against the real broker: each mistake fails with a typed error whose
 * message names the likely cause (wrong CA, wrong host name, TLS on or off by mistake, SASL
 * missing or not offered, no or an untrusted client certificate).
 */

import assert from "node:assert/strict";
import type { BrokerConnectionOptions } from "../../broker/options.ts";
import type { BrokerState } from "../../broker/state.ts";
import { type ForeignProtocol, FramingError } from "../../framing/errors.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import {
  ConnectionClosedError,
  type ConnectionLossHint,
  type KafkaTransportError,
  TlsError,
  type TlsFailureKind,
} from "../../transport/errors.ts";
import type { KafkaListener } from "./fixture.ts";
import { describeChanges, kafkaTest, mechanism, openConnection, withKafka } from "./real_broker.ts";

/** What a misconfiguration must produce. */
interface Expected {
  /** The error class. */
  type: new (...args: never[]) => KafkaTransportError;
  /** The hint the message must carry. */
  hint: RegExp;
  /** The state the connection was in when it failed. */
  failedIn: BrokerState;
  /** Whether the error says that retrying can help. */
  retriable: boolean;
  /**
   * What the error's typed field says was recognised: `TlsError.kind`, `FramingError.peer`
   * or `ConnectionClosedError.hint`, whichever its class has.
   */
  recognised: { kind?: TlsFailureKind; peer?: ForeignProtocol | null; hint?: ConnectionLossHint };
}

/**
 * Connects, sends one Metadata request, and checks the error it fails with.
 *
 * @param listener The listener.
 * @param options The (wrong) security options.
 * @param expected The error expected.
 */
async function expectFailure(
  listener: KafkaListener,
  options: Partial<BrokerConnectionOptions>,
  expected: Expected,
): Promise<void> {
  const rec = openConnection(listener, options);
  await using conn = rec.conn;
  const error = await conn.connect()
    .then(() => conn.send(Metadata, { topics: null, allowAutoTopicCreation: false }))
    .then(() => null, (e) => e);
  const log = describeChanges(rec.changes);
  assert.ok(error instanceof expected.type, `${error}\n${log}`);
  assert.match(error.message, expected.hint, log);
  assert.equal(error.retriable, expected.retriable, error.message);
  const recognised = {
    ...(error instanceof TlsError ? { kind: error.kind } : {}),
    ...(error instanceof FramingError ? { peer: error.peer } : {}),
    ...(error instanceof ConnectionClosedError ? { hint: error.hint } : {}),
  };
  assert.deepEqual(recognised, expected.recognised, error.message);
  assert.ok(
    error.message.endsWith(`in state ${expected.failedIn})`),
    `${error.message}\n${log}`,
  );
  assert.equal(conn.state, "DOWN");
  // Every failure happened on the first and only connection attempt.
  assert.equal(rec.count("CONNECT"), 1, log);
}

withKafka((kafka) => {
  const { SSL, SSL_CLIENTAUTH, PLAINTEXT, SASL_PLAINTEXT } = kafka.listeners;
  const user = kafka.users[0];

  kafkaTest(
    "SSL trusting the wrong CA: TlsError with the CA hint",
    () =>
      expectFailure(SSL, { tls: { caCerts: [kafka.wrongCaPem] } }, {
        type: TlsError,
        hint: /not signed by a trusted CA: check caCerts/,
        failedIn: "SSL_HANDSHAKE",
        retriable: false,
        recognised: { kind: "untrusted" },
      }),
  );

  kafkaTest(
    "SSL verified as wrong.example: TlsError with the host name hint",
    () =>
      expectFailure(SSL, { tls: { caCerts: [kafka.caPem], serverName: "wrong.example" } }, {
        type: TlsError,
        hint: /wrong\.example[\s\S]*check serverName/,
        failedIn: "SSL_HANDSHAKE",
        retriable: false,
        recognised: { kind: "hostname" },
      }),
  );

  kafkaTest("SSL dialled as localhost, a name the certificate lists, connects", async () => {
    await using conn = openConnection({ ...SSL, host: "localhost" }, {
      tls: { caCerts: [kafka.caPem] },
    }).conn;
    await conn.connect();
    assert.equal(conn.state, "UP");
  });

  kafkaTest("plaintext client on the SSL listener: the TLS-listener hint", () =>
    // Kafka answers the ApiVersions bytes with a TLS alert, which framing recognises.
    expectFailure(SSL, {}, {
      type: FramingError,
      hint: /looks like TLS[\s\S]*Enable TLS for this listener/,
      failedIn: "APIVERSION_QUERY",
      retriable: false,
      recognised: { peer: "tls" },
    }));

  kafkaTest(
    "TLS client on the PLAINTEXT listener: TlsError with the PLAINTEXT-listener hint",
    () =>
      // Kafka reads the ClientHello as an oversized frame and hangs up.
      expectFailure(PLAINTEXT, { tls: { caCerts: [kafka.caPem] } }, {
        type: TlsError,
        hint: /not speaking TLS: connecting to a PLAINTEXT listener with TLS\?/,
        failedIn: "SSL_HANDSHAKE",
        retriable: false,
        recognised: { kind: "not-tls" },
      }),
  );

  kafkaTest("SASL listener without SASL configured: the might-require-SASL hint", () =>
    // Kafka answers ApiVersions before SASL, then closes on the first other request.
    expectFailure(SASL_PLAINTEXT, {}, {
      type: ConnectionClosedError,
      hint: /closed by the broker: broker might require SASL authentication/,
      failedIn: "UP",
      retriable: true,
      recognised: { hint: "sasl-required" },
    }));

  kafkaTest(
    "SASL configured against the PLAINTEXT listener: the no-SASL-here hint",
    () =>
      expectFailure(PLAINTEXT, { sasl: mechanism("PLAIN", user.username, user.password) }, {
        type: AuthenticationError,
        hint: /ILLEGAL_SASL_STATE[\s\S]*does not accept SASL/,
        failedIn: "AUTH_HANDSHAKE",
        retriable: false,
        recognised: {},
      }),
  );

  kafkaTest("mTLS listener without a client certificate: TlsError with the client-cert hint", () =>
    // With TLS 1.3 the server checks the client's certificate after the client's handshake is
    // done, so the alert arrives during ApiVersions.
    expectFailure(SSL_CLIENTAUTH, { tls: { caCerts: [kafka.caPem] } }, {
      type: TlsError,
      hint: /rejected the client certificate or requires one: check cert and key/,
      failedIn: "APIVERSION_QUERY",
      retriable: false,
      recognised: { kind: "client-certificate" },
    }));

  kafkaTest(
    "mTLS listener with a certificate from another CA: TlsError with the client-cert hint",
    () =>
      expectFailure(SSL_CLIENTAUTH, {
        tls: {
          caCerts: [kafka.caPem],
          cert: kafka.wrongClientCertPem,
          key: kafka.wrongClientKeyPem,
        },
      }, {
        type: TlsError,
        hint: /rejected the client certificate or requires one: check cert and key/,
        failedIn: "APIVERSION_QUERY",
        retriable: false,
        recognised: { kind: "client-certificate" },
      }),
  );
}, "misconfigured security is named");
