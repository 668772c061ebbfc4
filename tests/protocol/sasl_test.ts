import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { SASL_AUTHENTICATE_KEY, SaslAuthenticate } from "../../protocol/sasl_authenticate.ts";
import { SASL_HANDSHAKE_KEY, SaslHandshake } from "../../protocol/sasl_handshake.ts";
import {
  assertDeclares,
  assertTruncationsFail,
  readAll,
  requestRoundTrip,
  responseRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const token = new Uint8Array([0, 0x61, 0x6c, 0x69, 0x63, 0x65, 0, 0x70, 0x77]);

test("SaslHandshake declares key 17, versions 0-1, never flexible", () => {
  assertDeclares(SaslHandshake, SASL_HANDSHAKE_KEY, [17, 0, 1], Infinity);
});

test("SaslHandshake request and response round trip at every version", () => {
  for (const v of versionsOf(SaslHandshake)) {
    const req = { mechanism: "SCRAM-SHA-512" };
    const { decoded, bytes } = requestRoundTrip(SaslHandshake, req, v);
    assert.deepEqual(decoded, req);
    assert.deepEqual(bytes, new Uint8Array([0, 13, ...new TextEncoder().encode("SCRAM-SHA-512")]));
    const res = { errorCode: 33, mechanisms: ["PLAIN", "SCRAM-SHA-256", "OAUTHBEARER"] };
    const out = responseRoundTrip(SaslHandshake, res, v);
    assert.deepEqual(out.decoded, res);
    assertTruncationsFail(out.bytes, (r) => SaslHandshake.decodeResponse(r, v));
  }
});

test("SaslAuthenticate declares key 36, versions 0-2, flexible from 2", () => {
  assertDeclares(SaslAuthenticate, SASL_AUTHENTICATE_KEY, [36, 0, 2], 2);
});

test("SaslAuthenticate request is int32 bytes below v2 and compact bytes + tags at v2", () => {
  assert.deepEqual(
    requestRoundTrip(SaslAuthenticate, { authBytes: token }, 1).bytes,
    new Uint8Array([0, 0, 0, 9, ...token]),
  );
  assert.deepEqual(
    requestRoundTrip(SaslAuthenticate, { authBytes: token }, 2).bytes,
    new Uint8Array([10, ...token, 0]),
  );
});

test("SaslAuthenticate request and response round trip at every version", () => {
  for (const v of versionsOf(SaslAuthenticate)) {
    assert.deepEqual(requestRoundTrip(SaslAuthenticate, { authBytes: token }, v).decoded, {
      authBytes: token,
    });
    for (const errorMessage of [null, "Authentication failed: Invalid username or password"]) {
      const res = {
        errorCode: errorMessage === null ? 0 : 58,
        errorMessage,
        authBytes: token,
        sessionLifetimeMs: v >= 1 ? 3_600_000 : 0,
      };
      const { decoded, bytes } = responseRoundTrip(SaslAuthenticate, res, v);
      assert.deepEqual(decoded, res, `v${v}`);
      assertTruncationsFail(bytes, (r) => SaslAuthenticate.decodeResponse(r, v));
    }
  }
});

test("SaslAuthenticate v1 response reads the session lifetime from hand-built bytes", () => {
  const body = new Uint8Array([
    ...[0, 0], // error code
    ...[0xff, 0xff], // null error message
    ...[0, 0, 0, 2, 0x6f, 0x6b], // auth bytes "ok"
    ...[0, 0, 0, 0, 0, 0, 0x27, 0x10], // session lifetime 10000 ms
  ]);
  const res = readAll(body, (r) => SaslAuthenticate.decodeResponse(r, 1));
  assert.equal(res.errorMessage, null);
  assert.deepEqual(res.authBytes, new Uint8Array([0x6f, 0x6b]));
  assert.equal(res.sessionLifetimeMs, 10_000);
});
