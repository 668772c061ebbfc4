import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { authenticate, bytes, text } from "./exchange.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { plain } from "../../sasl/plain.ts";
import { createSaslServer } from "../../testing/sasl_server.ts";
import { ConfigError } from "../../transport/errors.ts";

const users = { alice: "alice-secret", "bob smith": "ünïcode" };

test("plain() sends \\0user\\0password with an empty authorization id, then is done", async () => {
  const mechanism = plain({ username: "alice", password: "alice-secret" });
  assert.equal(mechanism.name, "PLAIN");
  const exchange = await mechanism.begin();
  assert.deepEqual(await exchange.initial(), bytes("\0alice\0alice-secret"));
  assert.equal(await exchange.next(new Uint8Array(0)), null);
});

test("PLAIN authenticates against the test broker's verifier", async () => {
  const server = createSaslServer("PLAIN", users)!;
  assert.equal(
    await authenticate(plain({ username: "alice", password: "alice-secret" }), server),
    "alice",
  );
  assert.equal(
    await authenticate(
      plain({ username: "bob smith", password: "ünïcode" }),
      createSaslServer("PLAIN", users)!,
    ),
    "bob smith",
  );
});

test("PLAIN with a wrong password or unknown user fails with Kafka's message", async () => {
  for (
    const attempt of [
      { username: "alice", password: "wrong" },
      { username: "alice", password: "alice-secre" },
      { username: "mallory", password: "alice-secret" },
      { username: "__proto__", password: "x" },
      { username: "toString", password: "x" },
    ]
  ) {
    await assert.rejects(
      authenticate(plain(attempt), createSaslServer("PLAIN", users)!),
      (error: unknown) =>
        error instanceof AuthenticationError && !error.retriable &&
        error.message === "Authentication failed: Invalid username or password",
    );
  }
});

test("PLAIN server rejects malformed messages and reuse", async () => {
  const cases: Array<[string, RegExp]> = [
    ["alice\0alice-secret", /expected 3 tokens, got 2/],
    ["\0alice\0alice-secret\0", /expected 3 tokens, got 4/],
    ["\0\0alice-secret", /username not specified/],
    ["\0alice\0", /password not specified/],
    ["bob\0alice\0alice-secret", /authorization id that is different from username/],
    // As in Kafka, the password is checked before the authorization id.
    ["bob\0alice\0wrong", /Invalid username or password/],
  ];
  for (const [message, expected] of cases) {
    await assert.rejects(
      createSaslServer("PLAIN", users)!.step(bytes(message)),
      (error: unknown) => error instanceof AuthenticationError && expected.test(error.message),
    );
  }
  await assert.rejects(
    createSaslServer("PLAIN", users)!.step(new Uint8Array([0, 0xff, 0, 0x41])),
    /UTF-8/,
  );
  const server = createSaslServer("PLAIN", users)!;
  const step = await server.step(bytes("alice\0alice\0alice-secret"));
  assert.deepEqual({ ...step, response: text(step.response) }, {
    response: "",
    done: true,
    user: "alice",
  });
  await assert.rejects(server.step(bytes("\0alice\0alice-secret")), /already ended/);
});

test("plain() calls an async credential provider on every begin()", async () => {
  const passwords = ["expired", "alice-secret"];
  let calls = 0;
  const mechanism = plain(async () => {
    await Promise.resolve();
    return { username: "alice", password: passwords[calls++] };
  });
  await assert.rejects(
    authenticate(mechanism, createSaslServer("PLAIN", users)!),
    AuthenticationError,
  );
  assert.equal(await authenticate(mechanism, createSaslServer("PLAIN", users)!), "alice");
  assert.equal(calls, 2);
  let syncCalls = 0;
  const synchronous = plain(() => ({ username: `u${++syncCalls}`, password: "p" }));
  assert.deepEqual(await (await synchronous.begin()).initial(), bytes("\0u1\0p"));
  assert.deepEqual(await (await synchronous.begin()).initial(), bytes("\0u2\0p"));
});

test("plain() rejects unusable credentials with ConfigError", async () => {
  for (
    const credentials of [
      { username: "", password: "p" },
      { username: "u", password: "" },
      { username: "a\0b", password: "p" },
      { username: "u", password: "p\0" },
    ]
  ) {
    await assert.rejects(
      plain(credentials).begin(),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith("PLAIN: "),
    );
  }
  await assert.rejects(plain((() => null) as never).begin(), ConfigError);
});

test("plain() wraps provider failures but keeps our own errors", async () => {
  await assert.rejects(
    plain(() => Promise.reject("boom")).begin(),
    (error: unknown) =>
      error instanceof AuthenticationError && error.cause === "boom" &&
      /PLAIN credential provider failed: boom/.test(error.message),
  );
  const own = new ConfigError("no credentials configured");
  await assert.rejects(plain(() => Promise.reject(own)).begin(), (error: unknown) => error === own);
});
