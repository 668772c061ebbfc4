import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { TlsError } from "../../transport/errors.ts";
import { classifyTlsFailure, tlsFailure } from "../../transport/tls_hints.ts";

// Texts as Deno (rustls) and Bun (BoringSSL) report them.
const CASES: Array<[string, ReturnType<typeof classifyTlsFailure>]> = [
  ["InvalidData: invalid peer certificate: UnknownIssuer", "untrusted"],
  ["UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate", "untrusted"],
  ["DEPTH_ZERO_SELF_SIGNED_CERT: self signed certificate", "untrusted"],
  [
    'InvalidData: invalid peer certificate: certificate not valid for name "wrong.example"; ' +
    'certificate is only valid for DnsName("localhost")',
    "hostname",
  ],
  [
    "ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate's altnames",
    "hostname",
  ],
  ["InvalidData: invalid peer certificate: Expired", "expired"],
  ["CERT_HAS_EXPIRED: certificate has expired", "expired"],
  ["InvalidData: received fatal alert: CertificateRequired", "client-certificate"],
  [
    "EPROTO: error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED",
    "client-certificate",
  ],
  ["UnexpectedEof: unexpected end of file", "not-tls"],
  ["InvalidData: received corrupt message of type InvalidContentType", "not-tls"],
  [
    "ECONNRESET: Client network socket disconnected before secure TLS connection was established",
    "not-tls",
  ],
  ["EPROTO: error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER", "not-tls"],
  ["something new", "other"],
];

test("classifyTlsFailure() recognises both runtimes' texts", () => {
  for (const [detail, kind] of CASES) assert.equal(classifyTlsFailure(detail), kind, detail);
});

test("tlsFailure() names the target, the detail and the hint, keeping the cause", () => {
  const cause = new Error("x");
  const error = tlsFailure("localhost:9093", "UnexpectedEof: unexpected end of file", cause);
  assert.ok(error instanceof TlsError);
  assert.equal(error.retriable, false);
  assert.equal(error.cause, cause);
  assert.equal(error.kind, "not-tls");
  assert.match(error.message, /^TLS handshake with localhost:9093 failed \(UnexpectedEof/);
  assert.match(error.message, /PLAINTEXT listener with TLS\?/);
  assert.match(tlsFailure("h:1", "UnknownIssuer", null).message, /check caCerts/);
  assert.match(tlsFailure("h:1", "not valid for name", null).message, /check serverName/);
  assert.match(tlsFailure("h:1", "alert: BadCertificate", null, "session").message, /^TLS session/);
  // The kind is the classification of the same text.
  for (const [detail, kind] of CASES) assert.equal(tlsFailure("h:1", detail, null).kind, kind);
});
