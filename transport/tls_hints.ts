/**
 * Turns the TLS failure texts of both runtimes (rustls under Deno, BoringSSL error codes under
 * Bun) into a {@link TlsError} whose message says what to check, like the hints librdkafka
 * adds to "certificate verify failed". Runtime-neutral: adapters pass the runtime's message
 * and code as one string.
 *
 * @module
 */

import { TlsError, type TlsFailureKind } from "./errors.ts";

// Ordered: a client-certificate alert mentions "certificate" too, so it is matched first.
const PATTERNS: ReadonlyArray<readonly [TlsFailureKind, RegExp]> = [
  [
    "client-certificate",
    /alert: ?(CertificateRequired|BadCertificate|UnknownCA|CertificateUnknown|UnsupportedCertificate|AccessDenied)|ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)/i,
  ],
  ["hostname", /NotValidForName|not valid for name|ALTNAME|does not match certificate/i],
  ["expired", /Expired|NotValidYet|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i],
  [
    "untrusted",
    /UnknownIssuer|BadSignature|UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)|SELF_SIGNED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|unable to verify|invalid peer certificate/i,
  ],
  [
    "not-tls",
    /UnexpectedEof|unexpected end of file|close_notify|corrupt message|InvalidContentType|WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|disconnected before secure|ECONNRESET|connection reset|broken pipe|EPIPE/i,
  ],
];

const HINTS: Readonly<Record<TlsFailureKind, string>> = {
  "untrusted": "the server's certificate is not signed by a trusted CA: check caCerts (PEM of " +
    "the CA that signed the broker's certificate)",
  "hostname": "the certificate does not name the host that was verified: check serverName / the " +
    "certificate's SAN (subjectAltName must list the broker's DNS name or IP)",
  "expired": "the certificate is expired or not yet valid: check its dates and this machine's " +
    "clock",
  "client-certificate": "the server rejected the client certificate or requires one: check cert " +
    "and key, and that the listener trusts the CA that signed them",
  "not-tls": "the peer is not speaking TLS: connecting to a PLAINTEXT listener with TLS?",
  "other": "check the TLS settings (caCerts, serverName, cert/key) against the listener's",
};

/**
 * Guesses what a runtime's TLS failure text means.
 *
 * @param detail The runtime's message, with its error code when it has one.
 * @returns The most likely kind of failure.
 */
export function classifyTlsFailure(detail: string): TlsFailureKind {
  for (const [kind, pattern] of PATTERNS) {
    if (pattern.test(detail)) return kind;
  }
  return "other";
}

/**
 * Builds the {@link TlsError} for a failed handshake or a TLS session that broke later.
 *
 * @param target `host:port` of the peer.
 * @param detail The runtime's message, with its error code when it has one.
 * @param cause The runtime's error, kept as `cause`.
 * @param phase Whether the handshake failed or an established session did.
 * @returns The error, its `kind` the {@link TlsFailureKind} guessed and its message ending in
 *   the hint for it.
 */
export function tlsFailure(
  target: string,
  detail: string,
  cause: unknown,
  phase: "handshake" | "session" = "handshake",
): TlsError {
  const kind = classifyTlsFailure(detail);
  const what = phase === "handshake" ? "TLS handshake with" : "TLS session with";
  return new TlsError(`${what} ${target} failed (${detail}): ${HINTS[kind]}`, { cause, kind });
}
