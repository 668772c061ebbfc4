import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import { crc32c } from "../../protocol/crc32c.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

/** The bit-at-a-time definition, to check the table-driven version against. */
function reference(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

test("crc32c() matches the published check value and RFC 3720 vectors", () => {
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(new Uint8Array(32).map((_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(new Uint8Array(32).map((_, i) => 31 - i)), 0x113fdb5c);
});

test("crc32c() checksums a range and continues an earlier checksum", () => {
  const data = ascii("xx123456789yy");
  assert.equal(crc32c(data, 2, 11), 0xe3069283);
  assert.equal(crc32c(data, 6, 11, crc32c(data, 2, 6)), 0xe3069283);
});

test("crc32c() agrees with the bitwise definition on random data and offsets", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(40), (data, cut) => {
      assert.equal(crc32c(data), reference(data));
      const start = Math.min(cut, data.length);
      assert.equal(crc32c(data, start), reference(data.subarray(start)));
    }),
    { numRuns: 300 },
  );
});

test("crc32c() agrees with the bitwise definition on views at every alignment", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 64, maxLength: 2000 }),
      fc.integer({ min: 0, max: 7 }),
      fc.nat(70),
      (bytes, shift, cut) => {
        // A view starting `shift` bytes into its buffer, as frames inside a read chunk are.
        const backing = new Uint8Array(bytes.length + shift);
        backing.set(bytes, shift);
        const view = backing.subarray(shift);
        const start = Math.min(cut, view.length);
        assert.equal(crc32c(view, start), reference(bytes.subarray(start)));
        assert.equal(
          crc32c(view, 0, view.length - start),
          reference(bytes.subarray(0, view.length - start)),
        );
      },
    ),
    { numRuns: 300 },
  );
});
