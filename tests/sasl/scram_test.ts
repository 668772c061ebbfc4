import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import { authenticate, bytes, text } from "./exchange.ts";
import { decodeBase64 } from "../../sasl/base64.ts";
import { AuthenticationError, type SaslMechanism } from "../../sasl/mechanism.ts";
import { createScramMechanism, scramSha256, scramSha512 } from "../../sasl/scram.ts";
import { escapeSaslName, unescapeSaslName } from "../../sasl/scram_message.ts";
import { createSaslServer } from "../../testing/sasl_server.ts";
import { ConfigError } from "../../transport/errors.ts";

const fixedNonce = (nonce: string) => () => decodeBase64(nonce)!;

// RFC 7677 §3.
const RFC7677 = {
  clientNonce: "rOprNGfwEbeRWgbNEkqO",
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==," +
    "i=4096",
  clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

// RFC 5802 §5 (SCRAM-SHA-1).
const RFC5802 = {
  clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
  clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

const credentials = { username: "user", password: "pencil" };

test("scramSha256() reproduces the RFC 7677 test vector", async () => {
  const mechanism = scramSha256(credentials, { getRandomValues: fixedNonce(RFC7677.clientNonce) });
  assert.equal(mechanism.name, "SCRAM-SHA-256");
  const exchange = await mechanism.begin();
  assert.equal(text(await exchange.initial()), RFC7677.clientFirst);
  assert.equal(text(await exchange.next(bytes(RFC7677.serverFirst))), RFC7677.clientFinal);
  assert.equal(await exchange.next(bytes(RFC7677.serverFinal)), null);
});

test("createScramMechanism() reproduces the RFC 5802 SCRAM-SHA-1 test vector", async () => {
  const mechanism = createScramMechanism("SCRAM-SHA-1", "SHA-1", credentials, {
    getRandomValues: fixedNonce(RFC5802.clientNonce),
  });
  const exchange = await mechanism.begin();
  assert.equal(text(await exchange.initial()), RFC5802.clientFirst);
  assert.equal(text(await exchange.next(bytes(RFC5802.serverFirst))), RFC5802.clientFinal);
  assert.equal(await exchange.next(bytes(RFC5802.serverFinal)), null);
});

async function vectorExchangeAfterServerFirst(serverFirst: string): Promise<Uint8Array | null> {
  const mechanism = scramSha256(credentials, { getRandomValues: fixedNonce(RFC7677.clientNonce) });
  const exchange = await mechanism.begin();
  await exchange.initial();
  return await exchange.next(bytes(serverFirst));
}

test("scram rejects a server nonce that does not extend the client nonce", async () => {
  for (
    const nonce of [
      "XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj",
      RFC7677.clientNonce, // nothing appended by the server
      "prefix" + RFC7677.clientNonce,
    ]
  ) {
    await assert.rejects(
      vectorExchangeAfterServerFirst(`r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`),
      (error: unknown) =>
        error instanceof AuthenticationError &&
        error.message.includes("server nonce does not extend the client nonce"),
    );
  }
});

test("scram rejects iteration counts below 4096 and malformed server-first messages", async () => {
  const r = `r=${RFC7677.clientNonce}abc`;
  const cases: Array<[string, RegExp]> = [
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095`, /iteration count i=4095/],
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1`, /iteration count i=1;/],
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999`, /iteration count/],
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096.5`, /iteration count/],
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==`, /missing the i= attribute \(iteration count\)/],
    [`${r},i=4096`, /missing the s= attribute \(salt\)/],
    [`s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /missing the r= attribute \(nonce\)/],
    [`${r},s=not base64!,i=4096`, /salt/],
    [`${r},s=,i=4096`, /salt/],
    [`m=ext,${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /mandatory extension/],
    [`${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,i=4096`, /appears twice/],
    [`${r},garbage`, /not of the form a=value/],
    [`e=other-error`, /the broker answered "other-error"/],
  ];
  for (const [serverFirst, message] of cases) {
    await assert.rejects(
      vectorExchangeAfterServerFirst(serverFirst),
      (error: unknown) => error instanceof AuthenticationError && message.test(error.message),
      serverFirst,
    );
  }
  await assert.rejects(
    (async () => {
      const exchange = await scramSha256(credentials).begin();
      await exchange.initial();
      return exchange.next(new Uint8Array([0xff, 0xfe]));
    })(),
    /not valid UTF-8/,
  );
});

test("scram caps the iteration count at 1 000 000 before deriving any key", async () => {
  // 1 000 001 passes the syntax check (up to 10 digits), so only the cap stops it; a server
  // asking for that many rounds would otherwise cost the client seconds of PBKDF2 per login.
  const serverFirst = `r=${RFC7677.clientNonce}abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001`;
  await assert.rejects(
    vectorExchangeAfterServerFirst(serverFirst),
    (error: unknown) =>
      error instanceof AuthenticationError &&
      /iteration count i=1000001; accepted are 4096 to 1000000/.test(error.message),
  );
});

test("scram rejects a server offering fewer than 4096 iterations", async () => {
  const server = createSaslServer("SCRAM-SHA-256", { alice: "secret" }, { scramIterations: 1024 })!;
  await assert.rejects(
    authenticate(scramSha256({ username: "alice", password: "secret" }), server),
    (error: unknown) => error instanceof AuthenticationError && /i=1024/.test(error.message),
  );
});

test("scram rejects a tampered or missing server signature", async () => {
  const mechanism = scramSha256(credentials, { getRandomValues: fixedNonce(RFC7677.clientNonce) });
  const tampered = RFC7677.serverFinal.replace("v=6", "v=7");
  for (const serverFinal of [tampered, "v=AAAA", "v=%%%"]) {
    const exchange = await mechanism.begin();
    await exchange.initial();
    await exchange.next(bytes(RFC7677.serverFirst));
    await assert.rejects(
      exchange.next(bytes(serverFinal)),
      (error: unknown) =>
        error instanceof AuthenticationError && !error.retriable &&
        error.message.includes(
          "server signature mismatch — the broker could not prove it knows the password " +
            "(man in the middle?)",
        ),
    );
  }
  const exchange = await mechanism.begin();
  await exchange.initial();
  await exchange.next(bytes(RFC7677.serverFirst));
  await assert.rejects(exchange.next(bytes("x=1")), /missing the v= attribute/);
});

test("scram reports the server's e= error text", async () => {
  const exchange = await scramSha256(credentials, {
    getRandomValues: fixedNonce(RFC7677.clientNonce),
  }).begin();
  await exchange.initial();
  await exchange.next(bytes(RFC7677.serverFirst));
  await assert.rejects(
    exchange.next(bytes("e=invalid-proof")),
    (error: unknown) =>
      error instanceof AuthenticationError && error.name === "AuthenticationError" &&
      error.message.includes('the broker answered "invalid-proof"'),
  );
});

test("scram exchanges are single use and ordered", async () => {
  const mechanism = scramSha256(credentials, { getRandomValues: fixedNonce(RFC7677.clientNonce) });
  const early = await mechanism.begin();
  await assert.rejects(early.next(bytes(RFC7677.serverFirst)), /used out of order/);
  const exchange = await mechanism.begin();
  await exchange.initial();
  await assert.rejects(exchange.initial(), /used out of order/);
  await exchange.next(bytes(RFC7677.serverFirst));
  assert.equal(await exchange.next(bytes(RFC7677.serverFinal)), null);
  await assert.rejects(exchange.next(bytes(RFC7677.serverFinal)), AuthenticationError);
});

const mechanisms: Array<[string, (c: { username: string; password: string }) => SaslMechanism]> = [
  ["SCRAM-SHA-256", (c) => scramSha256(c)],
  ["SCRAM-SHA-512", (c) => scramSha512(c)],
];

for (const [name, make] of mechanisms) {
  test(`${name} authenticates against the test broker's verifier`, async () => {
    const users = { alice: "alice-secret", "bob,=x": "pässwörd,=" };
    assert.equal(
      await authenticate(
        make({ username: "alice", password: "alice-secret" }),
        createSaslServer(name, users)!,
      ),
      "alice",
    );
    assert.equal(
      await authenticate(
        make({ username: "bob,=x", password: "pässwörd,=" }),
        createSaslServer(name, users)!,
      ),
      "bob,=x",
    );
  });

  test(`${name} with a wrong password or unknown user fails with AuthenticationError`, async () => {
    const users = { alice: "alice-secret" };
    for (
      const attempt of [{ username: "alice", password: "wrong" }, {
        username: "carol",
        password: "x",
      }]
    ) {
      await assert.rejects(
        authenticate(make(attempt), createSaslServer(name, users)!),
        (error: unknown) =>
          error instanceof AuthenticationError &&
          error.message ===
            "Authentication failed during authentication due to invalid credentials with " +
              `SASL mechanism ${name}`,
      );
    }
  });
}

test("SCRAM mechanisms do not authenticate across hash functions", async () => {
  await assert.rejects(
    authenticate(
      scramSha512({ username: "alice", password: "s" }),
      createSaslServer("SCRAM-SHA-256", { alice: "s" })!,
    ),
    AuthenticationError,
  );
});

test("escapeSaslName() escapes = and , and unescapeSaslName() reverses it", () => {
  assert.equal(escapeSaslName("a,b=c"), "a=2Cb=3Dc");
  assert.equal(escapeSaslName("=2C"), "=3D2C");
  assert.equal(unescapeSaslName("=3D2C"), "=2C");
  assert.equal(unescapeSaslName("a=2Cb=3Dc"), "a,b=c");
  assert.equal(unescapeSaslName("a=2"), null);
  assert.equal(unescapeSaslName("a,b"), null);
  assert.equal(unescapeSaslName("a=3d"), null);
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom("a", "=", ",", "2", "C", "3", "D", "é") }),
      (name) => {
        const escaped = escapeSaslName(name);
        assert.ok(!escaped.includes(","));
        assert.equal(unescapeSaslName(escaped), name);
      },
    ),
    { numRuns: 500 },
  );
});

test("scram sends the escaped user name in client-first", async () => {
  const exchange = await scramSha256({ username: "a,b=c", password: "p" }, {
    getRandomValues: fixedNonce(RFC7677.clientNonce),
  }).begin();
  assert.equal(text(await exchange.initial()), `n,,n=a=2Cb=3Dc,r=${RFC7677.clientNonce}`);
});

test("scram draws a fresh printable nonce from crypto.getRandomValues by default", async () => {
  const mechanism = scramSha512({ username: "u", password: "p" });
  const first = text(await (await mechanism.begin()).initial());
  const second = text(await (await mechanism.begin()).initial());
  const nonce = /^n,,n=u,r=([\x21-\x2B\x2D-\x7E]{32})$/;
  assert.match(first, nonce);
  assert.match(second, nonce);
  assert.notEqual(first, second);
});

test("scram calls an async credential provider on every begin()", async () => {
  const passwords = ["old-secret", "new-secret"];
  let calls = 0;
  const mechanism = scramSha256(async () => {
    await Promise.resolve();
    return { username: "alice", password: passwords[Math.min(calls++, passwords.length - 1)] };
  });
  const users = { alice: "new-secret" };
  await assert.rejects(
    authenticate(mechanism, createSaslServer("SCRAM-SHA-256", users)!),
    AuthenticationError,
  );
  assert.equal(calls, 1);
  assert.equal(await authenticate(mechanism, createSaslServer("SCRAM-SHA-256", users)!), "alice");
  assert.equal(calls, 2);
});

test("scram rejects bad credentials and failing providers with typed errors", async () => {
  await assert.rejects(scramSha256({ username: "", password: "p" }).begin(), ConfigError);
  await assert.rejects(scramSha256({ username: "u", password: "" }).begin(), ConfigError);
  await assert.rejects(scramSha512((() => Promise.resolve({})) as never).begin(), ConfigError);
  const cause = new Error("vault unreachable");
  await assert.rejects(
    scramSha256(() => Promise.reject(cause)).begin(),
    (error: unknown) =>
      error instanceof AuthenticationError && error.cause === cause &&
      error.message.includes("SCRAM-SHA-256 credential provider failed: vault unreachable"),
  );
});
