import assert from "node:assert/strict";
import fc from "fast-check";
import { test } from "../harness.ts";
import { Reader } from "../../framing/reader.ts";
import { Writer } from "../../framing/writer.ts";
import { DecodeError, EncodeError } from "../../framing/errors.ts";

const bytesOf = (...b: number[]): Uint8Array => new Uint8Array(b);

/** Asserts `fn` throws a DecodeError for `field`, and returns it. */
function throwsDecode(fn: () => unknown, field: string): DecodeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DecodeError, `expected DecodeError, got ${error}`);
    assert.equal(error.field, field);
    assert.ok(error.message.includes(`"${field}"`), error.message);
    return error;
  }
  assert.fail(`expected a DecodeError for "${field}", nothing was thrown`);
}

test("Writer/Reader round-trip fixed-width integers at their limits", () => {
  const w = new Writer(0);
  w.int8(-128).int8(127).int16(-32768).int16(32767).int32(-(2 ** 31)).int32(2 ** 31 - 1);
  w.uint32(0).uint32(2 ** 32 - 1).int64(-(2n ** 63n)).int64(2n ** 63n - 1n);
  w.boolean(true).boolean(false).float64(-0).float64(Number.NaN).float64(1.5e300);
  const bytes = w.finish();
  assert.equal(bytes.length, 1 + 1 + 2 + 2 + 4 + 4 + 4 + 4 + 8 + 8 + 1 + 1 + 8 * 3);
  assert.deepEqual([...bytes.subarray(0, 6)], [0x80, 0x7f, 0x80, 0x00, 0x7f, 0xff]);
  const r = new Reader(bytes);
  assert.equal(r.int8(), -128);
  assert.equal(r.int8(), 127);
  assert.equal(r.int16(), -32768);
  assert.equal(r.int16(), 32767);
  assert.equal(r.int32(), -(2 ** 31));
  assert.equal(r.int32(), 2 ** 31 - 1);
  assert.equal(r.uint32(), 0);
  assert.equal(r.uint32(), 2 ** 32 - 1);
  assert.equal(r.int64(), -(2n ** 63n));
  assert.equal(r.int64(), 2n ** 63n - 1n);
  assert.equal(r.boolean(), true);
  assert.equal(r.boolean(), false);
  assert.ok(Object.is(r.float64(), -0));
  assert.ok(Number.isNaN(r.float64()));
  assert.equal(r.float64(), 1.5e300);
  assert.equal(r.remaining, 0);
});

test("Writer writes varints with the zigzag bytes Kafka uses", () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [-1, [0x01]],
    [1, [0x02]],
    [-64, [0x7f]],
    [64, [0x80, 0x01]],
    [2 ** 31 - 1, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
    [-(2 ** 31), [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ];
  for (const [value, expected] of cases) {
    const bytes = new Writer().varint(value).finish();
    assert.deepEqual([...bytes], expected, `varint ${value}`);
    assert.equal(new Reader(bytes).varint(), value);
  }
});

test("Writer/Reader round-trip varlongs at their limits", () => {
  const cases: [bigint, number[]][] = [
    [0n, [0x00]],
    [-1n, [0x01]],
    [1n, [0x02]],
    [2n ** 63n - 1n, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [-(2n ** 63n), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];
  for (const [value, expected] of cases) {
    const bytes = new Writer().varlong(value).finish();
    assert.deepEqual([...bytes], expected, `varlong ${value}`);
    assert.equal(new Reader(bytes).varlong(), value);
  }
});

test("Writer/Reader round-trip unsigned varints across every length boundary", () => {
  const cases: [number, number][] = [
    [0, 1],
    [127, 1],
    [128, 2],
    [2 ** 14 - 1, 2],
    [2 ** 14, 3],
    [2 ** 21 - 1, 3],
    [2 ** 21, 4],
    [2 ** 28 - 1, 4],
    [2 ** 28, 5],
    [2 ** 32 - 1, 5],
  ];
  for (const [value, length] of cases) {
    const bytes = new Writer().uvarint(value).finish();
    assert.equal(bytes.length, length, `uvarint ${value}`);
    const r = new Reader(bytes);
    assert.equal(r.uvarint(), value);
    assert.equal(r.remaining, 0);
  }
});

test("Writer/Reader round-trip random integers (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      (u, i, l) => {
        const bytes = new Writer(1).uvarint(u).varint(i).varlong(l).int32(i).int64(l).uint32(u)
          .finish();
        const r = new Reader(bytes);
        assert.equal(r.uvarint(), u);
        assert.equal(r.varint(), i);
        assert.equal(r.varlong(), l);
        assert.equal(r.int32(), i);
        assert.equal(r.int64(), l);
        assert.equal(r.uint32(), u);
        assert.equal(r.remaining, 0);
      },
    ),
  );
});

test("Reader rejects varints that are too long or exceed their width", () => {
  throwsDecode(() => new Reader(bytesOf(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).uvarint("n"), "n");
  throwsDecode(() => new Reader(bytesOf(0xff, 0xff, 0xff, 0xff, 0x10)).uvarint("n"), "n");
  throwsDecode(() => new Reader(bytesOf(0xff, 0xff, 0xff, 0xff, 0x10)).varint("v"), "v");
  const eleven = new Uint8Array(11).fill(0x80);
  throwsDecode(() => new Reader(eleven).varlong("l"), "l");
  const wide = bytesOf(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02);
  throwsDecode(() => new Reader(wide).varlong("l"), "l");
});

const STRINGS = [
  "",
  "kafka",
  "hé",
  "日本語のトピック",
  "emoji 😀🎉",
  "\uFEFFleading BOM",
  "nul\0inside",
];

test("Writer/Reader round-trip strings, including non-ASCII, empty and null", () => {
  for (const s of STRINGS) {
    const w = new Writer(0).string(s).compactString(s).string(null).compactString(null);
    const r = new Reader(w.finish());
    assert.equal(r.string(), s);
    assert.equal(r.compactString(), s);
    assert.equal(r.nullableString(), null);
    assert.equal(r.compactNullableString(), null);
    assert.equal(r.remaining, 0);
  }
  assert.deepEqual([...new Writer().string("hé").finish()], [0, 3, 0x68, 0xc3, 0xa9]);
  assert.deepEqual([...new Writer().compactString("hé").finish()], [4, 0x68, 0xc3, 0xa9]);
  assert.deepEqual([...new Writer().string(null).compactString(null).finish()], [0xff, 0xff, 0]);
  throwsDecode(() => new Reader(bytesOf(0xff, 0xff)).string("topic"), "topic");
  throwsDecode(() => new Reader(bytesOf(0)).compactString("topic"), "topic");
  throwsDecode(() => new Reader(bytesOf(0xff, 0xfe)).nullableString("topic"), "topic");
});

test("Writer.compactString gets the length prefix right around varint boundaries", () => {
  // 126 bytes + 1 fits one prefix byte, 127 + 1 needs two; the non-ASCII cases reserve room for
  // three bytes per character and move the text back.
  for (
    const s of ["a".repeat(126), "a".repeat(127), "a".repeat(50), "é".repeat(63), "é".repeat(64)]
  ) {
    const bytes = new Writer(0).compactString(s).int8(7).finish();
    const n = new TextEncoder().encode(s).length;
    const prefix = n + 1 < 128 ? 1 : 2;
    assert.equal(bytes.length, prefix + n + 1, `length ${n}`);
    const r = new Reader(bytes);
    assert.equal(r.uvarint(), n + 1);
    r.skip(n);
    assert.equal(r.int8(), 7);
    assert.equal(new Reader(bytes).compactString(), s);
  }
});

test("Writer/Reader round-trip random strings (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.integer({ min: 0, max: 8 }),
      (s, cap) => {
        const r = new Reader(new Writer(cap).string(s).compactString(s).finish());
        assert.equal(r.string(), s);
        assert.equal(r.compactString(), s);
        assert.equal(r.remaining, 0);
      },
    ),
  );
});

test("Writer.string rejects text longer than an int16 length and writes nothing", () => {
  const w = new Writer().int8(1);
  assert.throws(() => w.string("x".repeat(32768)), EncodeError);
  assert.equal(w.length, 1);
  const max = "x".repeat(32767);
  assert.equal(new Reader(w.string(max).finish(), 1).string(), max);
});

test("Reader rejects invalid UTF-8", () => {
  throwsDecode(() => new Reader(bytesOf(0, 2, 0xc3, 0x28)).string("client_id"), "client_id");
  throwsDecode(() => new Reader(bytesOf(2, 0xff)).compactString("name"), "name");
});

test("Writer/Reader round-trip bytes, compact bytes and null", () => {
  for (const b of [new Uint8Array(0), bytesOf(1, 2, 3), new Uint8Array(300).fill(9)]) {
    const w = new Writer(0).bytes(b).compactBytes(b).bytes(null).compactBytes(null);
    const bytes = w.finish();
    const r = new Reader(bytes);
    const plain = r.bytes();
    assert.deepEqual(plain, b);
    assert.equal(plain.buffer, bytes.buffer, "bytes are read as a view");
    assert.deepEqual(r.compactBytes(), b);
    assert.equal(r.nullableBytes(), null);
    assert.equal(r.compactNullableBytes(), null);
    assert.equal(r.remaining, 0);
  }
  assert.deepEqual([...new Writer().bytes(bytesOf(7)).compactBytes(bytesOf(7)).finish()], [
    0,
    0,
    0,
    1,
    7,
    2,
    7,
  ]);
  throwsDecode(() => new Reader(bytesOf(0xff, 0xff, 0xff, 0xff)).bytes("key"), "key");
  throwsDecode(() => new Reader(bytesOf(0xff, 0xff, 0xff, 0xfe)).nullableBytes("key"), "key");
  throwsDecode(() => new Reader(bytesOf(0)).compactBytes("key"), "key");
});

test("Writer/Reader round-trip arrays and compact arrays, empty and null", () => {
  const each = (w: Writer, v: number) => w.int32(v);
  for (const items of [[], [1], [1, -2, 2 ** 31 - 1]]) {
    const w = new Writer().array(items, each).compactArray(items, each).array(null, each)
      .compactArray(null, each);
    const r = new Reader(w.finish());
    assert.deepEqual(r.array((r) => r.int32()), items);
    assert.deepEqual(r.compactArray((r) => r.int32()), items);
    assert.equal(r.nullableArray((r) => r.int32()), null);
    assert.equal(r.compactNullableArray((r) => r.int32()), null);
    assert.equal(r.remaining, 0);
  }
  assert.deepEqual([...new Writer().array([5], each).finish()], [0, 0, 0, 1, 0, 0, 0, 5]);
  assert.deepEqual([...new Writer().compactArray([5], each).finish()], [2, 0, 0, 0, 5]);
  assert.deepEqual([...new Writer().array(null, each).compactArray(null, each).finish()], [
    0xff,
    0xff,
    0xff,
    0xff,
    0,
  ]);
  throwsDecode(
    () => new Reader(bytesOf(0xff, 0xff, 0xff, 0xff)).array((r) => r.int8(), "ps"),
    "ps",
  );
  throwsDecode(() => new Reader(bytesOf(0)).compactArray((r) => r.int8(), "ps"), "ps");
  throwsDecode(
    () => new Reader(bytesOf(0xff, 0xff, 0xff, 0xfe)).nullableArray((r) => r.int8(), "ps"),
    "ps",
  );
  // A garbage count is refused before an array of that size is allocated.
  throwsDecode(
    () => new Reader(bytesOf(0x7f, 0xff, 0xff, 0xff, 1)).array((r) => r.int8(), "ps"),
    "ps",
  );
  throwsDecode(
    () => new Reader(bytesOf(0xff, 0xff, 0xff, 0xff, 0x0f)).compactArray((r) => r.int8(), "ps"),
    "ps",
  );
});

test("Writer/Reader round-trip UUIDs; Writer rejects other lengths", () => {
  const id = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const r = new Reader(new Writer().uuid(id).uuid(new Uint8Array(16)).finish());
  assert.deepEqual(r.uuid(), id);
  assert.deepEqual(r.uuid(), new Uint8Array(16));
  assert.throws(() => new Writer().uuid(new Uint8Array(15)), EncodeError);
  throwsDecode(() => new Reader(new Uint8Array(15)).uuid("topic_id"), "topic_id");
});

test("Writer writes tagged fields sorted; Reader reads them and skips unknown ones", () => {
  const enc = new TextEncoder();
  const bytes = new Writer().taggedFields([
    { tag: 300, data: enc.encode("late") },
    { tag: 0, data: bytesOf(1, 2) },
    { tag: 5, data: new Uint8Array(0) },
  ]).int8(42).taggedFields().finish();
  assert.deepEqual([...bytes], [
    3,
    ...[0, 2, 1, 2],
    ...[5, 0],
    ...[0xac, 0x02, 4, ...enc.encode("late")],
    42,
    0,
  ]);

  const seen: [number, number[]][] = [];
  const r = new Reader(bytes);
  r.taggedFields((tag, field) => {
    if (tag === 0) seen.push([tag, [field.int8(), field.int8()]]);
    if (tag === 300) seen.push([tag, [...field.raw(field.remaining)]]);
  });
  assert.deepEqual(seen, [[0, [1, 2]], [300, [...enc.encode("late")]]]);
  assert.equal(r.int8(), 42);
  r.taggedFields();
  assert.equal(r.remaining, 0);

  const skipping = new Reader(bytes);
  skipping.taggedFields();
  assert.equal(skipping.int8(), 42);
});

test("Reader.taggedFields rejects out-of-order tags and fields that overrun", () => {
  throwsDecode(() => new Reader(bytesOf(2, 5, 0, 3, 0)).taggedFields(undefined, "tags"), "tags");
  throwsDecode(() => new Reader(bytesOf(2, 5, 0, 5, 0)).taggedFields(undefined, "tags"), "tags");
  throwsDecode(() => new Reader(bytesOf(1, 3, 9, 0)).taggedFields(undefined, "tags"), "tags[3]");
  // A reader handed to the callback cannot read past its field.
  throwsDecode(
    () => new Reader(bytesOf(1, 3, 1, 7, 8)).taggedFields((_, f) => f.int16("inner")),
    "inner",
  );
});

/** One encoded value per Reader method, with the call that reads it back. */
const FIELDS: [string, Uint8Array, (r: Reader, field: string) => unknown][] = [
  ["int8", new Writer().int8(1).finish(), (r, f) => r.int8(f)],
  ["boolean", new Writer().boolean(true).finish(), (r, f) => r.boolean(f)],
  ["int16", new Writer().int16(1).finish(), (r, f) => r.int16(f)],
  ["int32", new Writer().int32(1).finish(), (r, f) => r.int32(f)],
  ["uint32", new Writer().uint32(1).finish(), (r, f) => r.uint32(f)],
  ["int64", new Writer().int64(1n).finish(), (r, f) => r.int64(f)],
  ["float64", new Writer().float64(1).finish(), (r, f) => r.float64(f)],
  ["uvarint", new Writer().uvarint(2 ** 32 - 1).finish(), (r, f) => r.uvarint(f)],
  ["varint", new Writer().varint(-(2 ** 31)).finish(), (r, f) => r.varint(f)],
  ["varlong", new Writer().varlong(-(2n ** 63n)).finish(), (r, f) => r.varlong(f)],
  ["string", new Writer().string("héllo").finish(), (r, f) => r.string(f)],
  ["nullableString", new Writer().string("abc").finish(), (r, f) => r.nullableString(f)],
  ["compactString", new Writer().compactString("héllo").finish(), (r, f) => r.compactString(f)],
  [
    "compactNullableString",
    new Writer().compactString("x").finish(),
    (r, f) => r.compactNullableString(f),
  ],
  ["bytes", new Writer().bytes(bytesOf(1, 2)).finish(), (r, f) => r.bytes(f)],
  ["nullableBytes", new Writer().bytes(bytesOf(1)).finish(), (r, f) => r.nullableBytes(f)],
  ["compactBytes", new Writer().compactBytes(bytesOf(1, 2)).finish(), (r, f) => r.compactBytes(f)],
  [
    "compactNullableBytes",
    new Writer().compactBytes(bytesOf(3)).finish(),
    (r, f) => r.compactNullableBytes(f),
  ],
  ["raw", bytesOf(1, 2, 3), (r, f) => r.raw(3, f)],
  ["skip", bytesOf(1, 2, 3), (r, f) => r.skip(3, f)],
  ["uuid", new Uint8Array(16), (r, f) => r.uuid(f)],
  [
    "array",
    new Writer().array([1, 2], (w, v) => w.int16(v)).finish(),
    (r, f) => r.array((r) => r.int16(f), f),
  ],
  [
    "nullableArray",
    new Writer().array([1], (w, v) => w.int16(v)).finish(),
    (r, f) => r.nullableArray((r) => r.int16(f), f),
  ],
  [
    "compactArray",
    new Writer().compactArray([1, 2], (w, v) => w.int16(v)).finish(),
    (r, f) => r.compactArray((r) => r.int16(f), f),
  ],
  [
    "compactNullableArray",
    new Writer().compactArray([1], (w, v) => w.int16(v)).finish(),
    (r, f) => r.compactNullableArray((r) => r.int16(f), f),
  ],
  [
    "taggedFields",
    new Writer().taggedFields([{ tag: 1, data: bytesOf(1, 2) }]).finish(),
    (r, f) => r.taggedFields(undefined, f),
  ],
];

test("Reader names the field when the input is truncated, for every method", () => {
  for (const [name, full, read] of FIELDS) {
    read(new Reader(full), name);
    for (let n = 0; n < full.length; n++) {
      const field = `${name}_field`;
      const error = (() => {
        try {
          read(new Reader(full.subarray(0, n)), field);
        } catch (e) {
          return e;
        }
        assert.fail(`${name} truncated to ${n} bytes did not throw`);
      })();
      assert.ok(error instanceof DecodeError, `${name}/${n}: ${error}`);
      // Tagged-field bodies are named after their tag inside the section.
      assert.ok(
        error.field === field || error.field === `${field}[1]`,
        `${name}/${n}: ${error.field}`,
      );
    }
  }
});

test("Reader only ever throws DecodeError on random bytes, from every method (fast-check)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 64 }), (bytes, n) => {
      const calls: ((r: Reader) => unknown)[] = [
        ...FIELDS.map(([name, , read]) => (r: Reader) => read(r, name)),
        (r) => r.raw(n - 8),
        (r) => r.skip(n - 8),
        (r) => r.taggedFields((_, f) => f.compactString()),
        (r) => r.compactArray((r) => r.taggedFields((_, f) => f.varlong())),
      ];
      for (const call of calls) {
        const r = new Reader(bytes);
        try {
          for (let i = 0; i < 4 && r.remaining > 0; i++) call(r);
        } catch (error) {
          assert.ok(error instanceof DecodeError, `unexpected ${error}`);
        }
      }
    }),
    { numRuns: 500 },
  );
});

test("Reader refuses negative lengths and ranges outside its bytes", () => {
  const r = new Reader(bytesOf(1, 2, 3, 4), 2);
  throwsDecode(() => r.raw(-1, "records"), "records");
  throwsDecode(() => r.skip(-2, "gap"), "gap");
  assert.equal(r.offset, 2);
  assert.equal(r.int8(), 3);
  throwsDecode(() => new Reader(bytesOf(1), 0, 2), "reader");
  throwsDecode(() => new Reader(bytesOf(1), 2), "reader");
  throwsDecode(() => new Reader(bytesOf(1, 2), 2, 1), "reader");
  const bounded = new Reader(bytesOf(1, 2, 3, 4), 1, 3);
  assert.equal(bounded.int16(), 0x0203);
  throwsDecode(() => bounded.int8("past_end"), "past_end");
});

test("Reader reads views over subarrays at the right offsets", () => {
  const backing = new Uint8Array(20);
  const frame = backing.subarray(5, 15);
  new DataView(frame.buffer, frame.byteOffset).setInt32(0, 0x01020304);
  frame.set([0, 2, 0xaa, 0xbb], 4);
  const r = new Reader(frame);
  assert.equal(r.int32(), 0x01020304);
  const b = r.raw(2);
  assert.equal(r.offset, 6);
  assert.equal(b.buffer, backing.buffer);
  assert.deepEqual([...r.raw(2)], [0xaa, 0xbb]);
});

test("Writer grows from any capacity, patches int32s, and resets", () => {
  const w = new Writer(0);
  for (let i = 0; i < 1000; i++) w.int32(i);
  assert.equal(w.length, 4000);
  w.patchInt32(0, -7);
  const r = new Reader(w.finish());
  assert.equal(r.int32(), -7);
  assert.equal(r.int32(), 1);
  assert.throws(() => w.patchInt32(3997, 1), EncodeError);
  assert.throws(() => w.patchInt32(-1, 1), EncodeError);
  w.reset();
  assert.equal(w.length, 0);
  assert.throws(() => w.patchInt32(0, 1), EncodeError);
  assert.deepEqual([...w.int8(5).finish()], [5]);
});

test("Writer.string() round-trips strings around the ASCII fast-path limit, ASCII or not", () => {
  for (const n of [0, 1, 63, 64, 65, 200]) {
    for (const tail of ["", "é", "€", "😀"]) {
      const value = "k".repeat(n) + tail;
      const w = new Writer(8);
      w.string(value).compactString(value);
      const r = new Reader(w.finish());
      assert.equal(r.string("s"), value);
      assert.equal(r.compactString("cs"), value);
      assert.equal(r.remaining, 0);
    }
  }
});

test("Reader.uuid() returns a 16-byte copy that does not share or pin the source buffer", () => {
  const frame = new Uint8Array(4096);
  const id = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  frame.set(id, 100);
  const r = new Reader(frame, 100);
  const got = r.uuid("topic_id");
  assert.equal(r.offset, 116);
  assert.deepEqual(got, id);
  assert.notEqual(got.buffer, frame.buffer);
  assert.equal(got.buffer.byteLength, 16);
  assert.equal(got.byteOffset, 0);
  frame.fill(0xee, 100, 116); // a reused receive buffer being overwritten
  assert.deepEqual(got, id);
});
