import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { decodeBase64Url } from "../../sasl/base64.ts";
import { unsecuredJwt } from "../../sasl/unsecured_jwt.ts";
import { ConfigError } from "../../transport/errors.ts";

function decodePart(part: string): unknown {
  return JSON.parse(new TextDecoder().decode(decodeBase64Url(part)!));
}

test("unsecuredJwt() builds header.claims. with alg none and times in seconds", () => {
  const token = unsecuredJwt({ sub: "alice", lifetimeMs: 60_000, issuedAtMs: 1_700_000_000_500 });
  const parts = token.split(".");
  assert.equal(parts.length, 3);
  assert.equal(parts[2], "");
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.$/);
  assert.deepEqual(decodePart(parts[0]), { alg: "none" });
  assert.deepEqual(decodePart(parts[1]), {
    sub: "alice",
    iat: 1_700_000_000.5,
    exp: 1_700_000_060.5,
  });
});

test("unsecuredJwt() encodes scopes as a JSON array and defaults iat to now", () => {
  const before = Date.now() / 1000;
  const token = unsecuredJwt({ sub: "ü/+?", lifetimeMs: 1000, scope: ["read", "write:topic"] });
  const after = Date.now() / 1000;
  const claims = decodePart(token.split(".")[1]) as Record<string, unknown>;
  assert.equal(claims.sub, "ü/+?");
  assert.deepEqual(claims.scope, ["read", "write:topic"]);
  assert.ok((claims.iat as number) >= before && (claims.iat as number) <= after);
  assert.ok(Math.abs((claims.exp as number) - (claims.iat as number) - 1) < 1e-6);
});

test("unsecuredJwt() rejects bad options with ConfigError", () => {
  const bad = [
    { sub: "", lifetimeMs: 1000 },
    { sub: "a", lifetimeMs: 0 },
    { sub: "a", lifetimeMs: -5 },
    { sub: "a", lifetimeMs: NaN },
    { sub: "a", lifetimeMs: Infinity },
    { sub: "a", lifetimeMs: 1000, issuedAtMs: NaN },
    { sub: "a", lifetimeMs: 1000, scope: ["two words"] },
    { sub: "a", lifetimeMs: 1000, scope: [""] },
    { sub: "a", lifetimeMs: 1000, scope: ['quo"te'] },
  ];
  for (const options of bad) {
    assert.throws(() => unsecuredJwt(options), ConfigError, JSON.stringify(options));
  }
});
