import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from "../../sasl/base64.ts";

test("encodeBase64() and encodeBase64Url() match RFC 4648 vectors", () => {
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    const data = new TextEncoder().encode(plain);
    assert.equal(encodeBase64(data), encoded);
    assert.deepEqual(decodeBase64(encoded), data);
    assert.equal(encodeBase64Url(data), encoded.replace(/=/g, ""));
  }
  assert.equal(encodeBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
  assert.deepEqual(decodeBase64Url("-_8"), new Uint8Array([0xfb, 0xff]));
});

test("base64 decoders return null for invalid text", () => {
  for (const bad of ["Zg", "Zg=", "Z===", "Zm9v\n", "Zm 9v", "-_8=", "Zm9v====", "!!!!"]) {
    assert.equal(decodeBase64(bad), null, bad);
  }
  for (const bad of ["Zg==", "+/8", "a", "abcde", "ab.c"]) {
    assert.equal(decodeBase64Url(bad), null, bad);
  }
});

test("base64 encoders round-trip arbitrary bytes, including large ones", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      assert.deepEqual(decodeBase64(encodeBase64(data)), data);
      assert.deepEqual(decodeBase64Url(encodeBase64Url(data)), data);
    }),
    { numRuns: 300 },
  );
  const large = new Uint8Array(100_000).map((_, i) => i * 7);
  assert.deepEqual(decodeBase64(encodeBase64(large)), large);
});
