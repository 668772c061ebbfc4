import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { authenticate, bytes, text } from "./exchange.ts";
import { encodeBase64Url } from "../../sasl/base64.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { oauthBearer } from "../../sasl/oauthbearer.ts";
import { unsecuredJwt } from "../../sasl/unsecured_jwt.ts";
import { createSaslServer } from "../../testing/sasl_server.ts";
import { ConfigError } from "../../transport/errors.ts";

const NOW = 1_700_000_000_000;
const server = () => createSaslServer("OAUTHBEARER", {}, { nowMs: () => NOW })!;
const validToken = () => unsecuredJwt({ sub: "alice", lifetimeMs: 60_000, issuedAtMs: NOW - 1000 });

test("oauthBearer() sends the RFC 7628 initial response with extensions", async () => {
  const mechanism = oauthBearer({
    token: "abc.def.",
    extensions: { traceId: "x y", cluster: "lkc-1" },
  });
  assert.equal(mechanism.name, "OAUTHBEARER");
  const exchange = await mechanism.begin();
  assert.equal(
    text(await exchange.initial()),
    "n,,\x01auth=Bearer abc.def.\x01traceId=x y\x01cluster=lkc-1\x01\x01",
  );
  assert.equal(await exchange.next(new Uint8Array(0)), null);
  const bare = await oauthBearer({ token: "t0k3n-_.~+/==" }).begin();
  assert.equal(text(await bare.initial()), "n,,\x01auth=Bearer t0k3n-_.~+/==\x01\x01");
});

test("oauthBearer() merges a token's own extensions over the static ones", async () => {
  const mechanism = oauthBearer({
    token: () => Promise.resolve({ value: "tok", extensions: { cluster: "lkc-2", extra: "1" } }),
    extensions: { cluster: "lkc-1", traceId: "t" },
  });
  const exchange = await mechanism.begin();
  assert.equal(
    text(await exchange.initial()),
    "n,,\x01auth=Bearer tok\x01cluster=lkc-2\x01traceId=t\x01extra=1\x01\x01",
  );
});

test("oauthBearer() rejects invalid extension names and values with ConfigError", () => {
  const names = ["auth", "AUTH", "trace1", "trace-id", "", "spa ce", "ünï"];
  for (const name of names) {
    assert.throws(
      () => oauthBearer({ token: "t", extensions: { [name]: "v" } }),
      (error: unknown) => error instanceof ConfigError && error.message.includes("extension name"),
      name,
    );
  }
  const values = ["", "a\x01b", "nul\0", "é", "del\x7f", "\x00"];
  for (const value of values) {
    assert.throws(
      () => oauthBearer({ token: "t", extensions: { key: value } }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.includes('value of extension "key"'),
      value,
    );
  }
  // Every character RFC 7628 allows in a value.
  let allowed = " \t\r\n";
  for (let c = 0x21; c <= 0x7e; c++) allowed += String.fromCharCode(c);
  oauthBearer({ token: "t", extensions: { key: allowed } });
});

test("oauthBearer() checks the token and its extensions on begin()", async () => {
  for (const token of ["", "has space", "tab\t", "a=b", "ü"]) {
    await assert.rejects(oauthBearer({ token }).begin(), ConfigError, token);
  }
  await assert.rejects(
    oauthBearer({ token: { value: "t", extensions: { auth: "x" } } }).begin(),
    /extension name "auth" in the token/,
  );
  await assert.rejects(
    oauthBearer({ token: (() => Promise.resolve({})) as never }).begin(),
    ConfigError,
  );
});

test("oauthBearer() calls the token provider on every begin()", async () => {
  let calls = 0;
  const mechanism = oauthBearer({
    token: async () => {
      await Promise.resolve();
      calls++;
      return unsecuredJwt({ sub: `user${calls}`, lifetimeMs: 60_000, issuedAtMs: NOW - 1000 });
    },
  });
  assert.equal(await authenticate(mechanism, server()), "user1");
  assert.equal(await authenticate(mechanism, server()), "user2");
  assert.equal(calls, 2);
});

test("oauthBearer() answers a server error with one %x01, then fails", async () => {
  const exchange = await oauthBearer({ token: "t" }).begin();
  await exchange.initial();
  const reply = await exchange.next(bytes('{"status":"invalid_token"}'));
  assert.deepEqual(reply, new Uint8Array([1]));
  await assert.rejects(
    exchange.next(new Uint8Array(0)),
    (error: unknown) =>
      error instanceof AuthenticationError && error.message.includes('{"status":"invalid_token"}'),
  );
  await assert.rejects(exchange.next(new Uint8Array(0)), /used out of order/);
  await assert.rejects(exchange.initial(), /used out of order/);
});

test("OAUTHBEARER authenticates an unsecured JWT against the test broker's verifier", async () => {
  assert.equal(await authenticate(oauthBearer({ token: validToken() }), server()), "alice");
  const scoped = unsecuredJwt({ sub: "svc", lifetimeMs: 1000, scope: ["a", "b"], issuedAtMs: NOW });
  assert.equal(
    await authenticate(oauthBearer({ token: scoped, extensions: { traceId: "1" } }), server()),
    "svc",
  );
});

function jws(header: unknown, claims: unknown, signature = ""): string {
  const part = (value: unknown) => encodeBase64Url(bytes(JSON.stringify(value)));
  return `${part(header)}.${part(claims)}.${signature}`;
}

test("OAUTHBEARER server rejects bad tokens with RFC 7628 error JSON, then fails", async () => {
  const alive = { sub: "alice", exp: NOW / 1000 + 60 };
  const cases: Array<[string, RegExp]> = [
    [unsecuredJwt({ sub: "alice", lifetimeMs: 1000, issuedAtMs: NOW - 5000 }), /expired/],
    [jws({ alg: "HS256" }, alive), /alg "none"/],
    [jws({ alg: "none" }, alive, "c2ln"), /not an unsecured JWS/],
    [jws({ alg: "none" }, { exp: alive.exp }), /no sub/],
    [jws({ alg: "none" }, { sub: "", exp: alive.exp }), /no sub/],
    [jws({ alg: "none" }, { sub: "alice" }), /no numeric exp/],
    [jws({ alg: "none" }, { ...alive, iat: NOW / 1000 + 30 }), /iat/],
    [jws({ alg: "none" }, ["not", "an", "object"]), /claims are not a JSON object/],
    ["abc.def.", /header/],
    ["opaque-token", /not an unsecured JWS/],
  ];
  for (const [token, reason] of cases) {
    const verifier = server();
    const exchange = await oauthBearer({ token }).begin();
    const step = await verifier.step(await exchange.initial());
    assert.equal(step.done, false);
    assert.deepEqual(JSON.parse(text(step.response)), { status: "invalid_token" });
    const ack = await exchange.next(step.response);
    assert.deepEqual(ack, new Uint8Array([1]));
    await assert.rejects(
      verifier.step(ack!),
      (error: unknown) =>
        error instanceof AuthenticationError &&
        error.message.startsWith('{"status":"invalid_token"}: ') && reason.test(error.message),
      token,
    );
    await assert.rejects(verifier.step(ack!), /already ended/);
  }
});

test("OAUTHBEARER server rejects malformed client messages at once", async () => {
  const messages = [
    "n,,\x01auth=Bearer t\x01",
    "y,,\x01auth=Bearer t\x01\x01",
    "n,,\x01\x01",
    "n,,\x01auth=Basic dXNlcg==\x01\x01",
    "n,,\x01auth=Bearer \x01\x01",
    "n,,\x01key1=v\x01auth=Bearer t\x01\x01",
    "",
  ];
  for (const message of messages) {
    await assert.rejects(
      server().step(bytes(message)),
      AuthenticationError,
      JSON.stringify(message),
    );
  }
  const step = await server().step(
    bytes(`n,a=alice,\x01auth=bearer  ${validToken()}\x01x=1\x01\x01`),
  );
  assert.equal(step.user, "alice");
});
