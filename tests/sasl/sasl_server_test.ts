import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { bytes, text } from "./exchange.ts";
import { decodeBase64, encodeBase64 } from "../../sasl/base64.ts";
import { AuthenticationError } from "../../sasl/mechanism.ts";
import { deriveScramKeys, hmac, xorBytes } from "../../sasl/scram_crypto.ts";
import { scramSha256 } from "../../sasl/scram.ts";
import { createSaslServer, supportedSaslMechanisms } from "../../testing/sasl_server.ts";

const users = { alice: "alice-secret" };

test("createSaslServer() knows Kafka's four mechanisms and nothing else", () => {
  assert.deepEqual([...supportedSaslMechanisms], [
    "PLAIN",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
    "OAUTHBEARER",
  ]);
  for (const name of supportedSaslMechanisms) {
    assert.equal(createSaslServer(name, users)?.mechanism, name);
  }
  for (const name of ["GSSAPI", "plain", "SCRAM-SHA-1", "", "AWS_MSK_IAM"]) {
    assert.equal(createSaslServer(name, users), null, name);
  }
});

// A fixed random source: every call fills with the same recognisable pattern.
const patterned = (array: Uint8Array<ArrayBuffer>) => array.map((_, i) => i + 1);

test("SCRAM server offers a random salt, an extended nonce and the configured iterations", async () => {
  const server = createSaslServer("SCRAM-SHA-512", users, {
    getRandomValues: (array) => {
      array.set(patterned(array));
      return array;
    },
    scramIterations: 5000,
  })!;
  const step = await server.step(bytes("n,,n=alice,r=clientnonce"));
  assert.equal(step.done, false);
  const salt = encodeBase64(patterned(new Uint8Array(16)));
  const suffix = encodeBase64(patterned(new Uint8Array(24)));
  assert.equal(text(step.response), `r=clientnonce${suffix},s=${salt},i=5000`);
});

async function serverFirst(clientFirst = "n,,n=alice,r=abc") {
  const server = createSaslServer("SCRAM-SHA-256", users)!;
  const response = text((await server.step(bytes(clientFirst))).response);
  const nonce = /r=([^,]+)/.exec(response)![1];
  return { server, response, nonce, clientFirstBare: clientFirst.replace(/^[ny],[^,]*,/, "") };
}

async function proofFor(
  clientFirstBare: string,
  response: string,
  withoutProof: string,
  password = "alice-secret",
): Promise<string> {
  const salt = decodeBase64(/s=([^,]+)/.exec(response)![1])!;
  const keys = await deriveScramKeys("SHA-256", password, salt, 4096);
  const authMessage = bytes(`${clientFirstBare},${response},${withoutProof}`) as Uint8Array<
    ArrayBuffer
  >;
  return encodeBase64(xorBytes(keys.clientKey, await hmac("SHA-256", keys.storedKey, authMessage)));
}

test("SCRAM server accepts a correct hand-built proof and signs the exchange", async () => {
  const { server, response, nonce, clientFirstBare } = await serverFirst("n,a=alice,n=alice,r=abc");
  const withoutProof = `c=${encodeBase64(bytes("n,a=alice,"))},r=${nonce}`;
  const proof = await proofFor(clientFirstBare, response, withoutProof);
  const step = await server.step(bytes(`${withoutProof},p=${proof}`));
  assert.equal(step.done, true);
  assert.equal(step.user, "alice");
  assert.match(text(step.response), /^v=[A-Za-z0-9+/]{43}=$/);
  await assert.rejects(server.step(bytes("c=biws")), /already ended/);
});

test("SCRAM server rejects a client-final that does not match the exchange", async () => {
  const cases: Array<[(nonce: string, proof: string) => string, RegExp]> = [
    [(n, p) => `c=eSws,r=${n},p=${p}`, /invalid credentials/],
    [(n, p) => `c=***,r=${n},p=${p}`, /channel binding/],
    [(n, p) => `c=biws,r=${n}x,p=${p}`, /nonce does not match/],
    [(n) => `c=biws,r=${n}`, /missing the p= attribute/],
    [(n, p) => `c=biws,r=${n},p=${p},x=1`, /must end with a base64 client proof/],
    [(n) => `c=biws,r=${n},p=AAAA`, /invalid credentials with SASL mechanism SCRAM-SHA-256$/],
    [(n) => `c=biws,r=${n},p=@@@@`, /must end with a base64 client proof/],
    [(n) => `r=${n},p=AAAA`, /missing the c= attribute/],
  ];
  for (const [build, expected] of cases) {
    const { server, response, nonce, clientFirstBare } = await serverFirst();
    const proof = await proofFor(clientFirstBare, response, `c=biws,r=${nonce}`);
    const message = build(nonce, proof);
    await assert.rejects(
      server.step(bytes(message)),
      (error: unknown) => error instanceof AuthenticationError && expected.test(error.message),
      message,
    );
  }
  const { server, response, nonce, clientFirstBare } = await serverFirst();
  const wrong = await proofFor(clientFirstBare, response, `c=biws,r=${nonce}`, "guess");
  await assert.rejects(
    server.step(bytes(`c=biws,r=${nonce},p=${wrong}`)),
    /^AuthenticationError: Authentication failed during authentication due to invalid credentials/,
  );
});

test("SCRAM server checks the final nonce as Kafka 4.x (exact) or 3.x (suffix) does", async () => {
  // librdkafka 2.0.x: the client nonce again in front of the combined nonce.
  const repeated = (n: string) => `c=biws,r=abc${n}`;
  const exact = await serverFirst();
  const withoutProof = repeated(exact.nonce);
  const proof = await proofFor(exact.clientFirstBare, exact.response, withoutProof);
  await assert.rejects(
    exact.server.step(bytes(`${withoutProof},p=${proof}`)),
    /nonce does not match: it repeats the client nonce .* "suffix" accepts it/,
  );
  const accepted = [repeated, (n: string) => `c=eSws,r=${n}`];
  for (const build of accepted) {
    const server = createSaslServer("SCRAM-SHA-256", users, { scramNonceCheck: "suffix" })!;
    const response = text((await server.step(bytes("n,,n=alice,r=abc"))).response);
    const nonce = /r=([^,]+)/.exec(response)![1];
    const message = build(nonce);
    const p = await proofFor("n=alice,r=abc", response, message);
    assert.equal((await server.step(bytes(`${message},p=${p}`))).done, true, message);
  }
  // Kafka never compares c= with the GS2 header: the proof covers it.
  const cb = await serverFirst();
  const other = `c=eSws,r=${cb.nonce}`;
  const ok = await cb.server.step(
    bytes(`${other},p=${await proofFor(cb.clientFirstBare, cb.response, other)}`),
  );
  assert.equal(ok.done, true);
  // A nonce that does not end with the server's is refused either way.
  const suffix = createSaslServer("SCRAM-SHA-256", users, { scramNonceCheck: "suffix" })!;
  const first = text((await suffix.step(bytes("n,,n=alice,r=abc"))).response);
  const cut = `c=biws,r=${/r=([^,]+)/.exec(first)![1].slice(0, -1)}`;
  await assert.rejects(
    suffix.step(bytes(`${cut},p=${await proofFor("n=alice,r=abc", first, cut)}`)),
    /nonce does not match$/,
  );
});

test("SCRAM server rejects malformed client-first messages", async () => {
  const cases: Array<[string, RegExp]> = [
    ["p=tls-unique,,n=alice,r=abc", /GS2 header/],
    ["n=alice,r=abc", /GS2 header/],
    ["n,a=bob,n=alice,r=abc", /authorization id that is different/],
    ["n,,n=al=ice,r=abc", /invalid user name/],
    ["n,,r=abc", /missing the n= attribute/],
    ["n,,n=alice", /missing the r= attribute/],
    ["n,,n=alice,r=a\x7fb", /invalid nonce/],
    ["y,,n=alice,r=abc", /GS2 header: Kafka accepts only "n,"/],
    ["n,,n=\u00e5lice,r=abc", /invalid user name/],
    ["n,,n=alice,r=abc,tokenauth=true", /invalid credentials with SASL mechanism SCRAM-SHA-256$/],
    ["n,a=bob,n=carol,r=abc", /invalid credentials/],
    ["n,,n=carol,r=abc", /invalid credentials with SASL mechanism SCRAM-SHA-256$/],
    ["n,,n=__proto__,r=abc", /invalid credentials with SASL mechanism SCRAM-SHA-256$/],
  ];
  for (const [message, expected] of cases) {
    const server = createSaslServer("SCRAM-SHA-256", users)!;
    await assert.rejects(
      server.step(bytes(message)),
      (error: unknown) => error instanceof AuthenticationError && expected.test(error.message),
      message,
    );
    await assert.rejects(server.step(bytes(message)), /already ended/);
  }
});

test("SCRAM server reads client-first as Kafka does: m= and extensions pass, the bare is rebuilt", async () => {
  // Kafka signs n=<name>,r=<nonce> and the extensions: m= is read and left out.
  for (
    const [message, bare] of [
      ["n,,m=ext,n=alice,r=abc", "n=alice,r=abc"],
      ["n,,n=alice,r=abc,foo=bar", "n=alice,r=abc,foo=bar"],
    ]
  ) {
    const { server, response, nonce } = await serverFirst(message);
    const withoutProof = `c=biws,r=${nonce}`;
    const step = await server.step(
      bytes(`${withoutProof},p=${await proofFor(bare, response, withoutProof)}`),
    );
    assert.equal(step.user, "alice", message);
  }
  // Extensions in client-final are accepted but not signed, as in Kafka.
  const { server, response, nonce, clientFirstBare } = await serverFirst();
  const signed = `c=biws,r=${nonce}`;
  const step = await server.step(
    bytes(`${signed},x=1,p=${await proofFor(clientFirstBare, response, signed)}`),
  );
  assert.equal(step.done, true);
});

test("SCRAM server: the shipped client sees its signature verified", async () => {
  const exchange = await scramSha256({ username: "alice", password: "alice-secret" }).begin();
  const verifier = createSaslServer("SCRAM-SHA-256", users)!;
  const first = await verifier.step(await exchange.initial());
  const final = await verifier.step((await exchange.next(first.response))!);
  assert.equal(await exchange.next(final.response), null);
});
