import assert from "node:assert/strict";
import { test } from "../harness.ts";
import {
  buildFrame,
  readRequestHeader,
  skipResponseHeaderTags,
  writeRequestHeader,
  writeResponseHeader,
} from "../../framing/header.ts";
import { FrameDecoder } from "../../framing/decoder.ts";
import { Reader } from "../../framing/reader.ts";
import { Writer } from "../../framing/writer.ts";

// Layouts from RequestHeader.json (v1: int16 api key, int16 api version, int32 correlation id,
// nullable int16-length client id; v2 adds tagged fields, the client id stays non-compact) and
// ResponseHeader.json (v0: int32 correlation id; v1 adds tagged fields).

const METADATA_V1 = { apiKey: 3, apiVersion: 1, correlationId: 0x01020304, clientId: "abc" };
const METADATA_V1_BYTES = [0, 3, 0, 1, 1, 2, 3, 4, 0, 3, 0x61, 0x62, 0x63];

test("writeRequestHeader writes header v1 byte for byte", () => {
  const w = new Writer();
  writeRequestHeader(w, METADATA_V1, false);
  assert.deepEqual([...w.finish()], METADATA_V1_BYTES);
});

test("writeRequestHeader writes header v2: v1 plus an empty tagged-field section", () => {
  const w = new Writer();
  writeRequestHeader(
    w,
    { apiKey: 18, apiVersion: 3, correlationId: -1, clientId: "é" },
    true,
  );
  assert.deepEqual([...w.finish()], [0, 18, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 2, 0xc3, 0xa9, 0]);
});

test("writeRequestHeader writes a null client id as length -1", () => {
  for (const flexible of [false, true]) {
    const w = new Writer();
    writeRequestHeader(w, { apiKey: 0, apiVersion: 9, correlationId: 7, clientId: null }, flexible);
    const expected = [0, 0, 0, 9, 0, 0, 0, 7, 0xff, 0xff, ...(flexible ? [0] : [])];
    assert.deepEqual([...w.finish()], expected);
  }
});

test("readRequestHeader reads v1 and v2 headers and stops at the body", () => {
  const flexible = (apiKey: number, apiVersion: number) => apiKey === 18 && apiVersion >= 3;
  const v1 = new Reader(new Uint8Array([...METADATA_V1_BYTES, 0xee]));
  assert.deepEqual(readRequestHeader(v1, flexible), METADATA_V1);
  assert.equal(v1.int8(), -0x12);

  // A v2 header whose tagged-field section carries an unknown tag, which is skipped.
  const v2 = new Reader(
    new Uint8Array([0, 18, 0, 3, 0, 0, 0, 9, 0xff, 0xff, 1, 4, 2, 0xaa, 0xbb, 0xee]),
  );
  assert.deepEqual(readRequestHeader(v2, flexible), {
    apiKey: 18,
    apiVersion: 3,
    correlationId: 9,
    clientId: null,
  });
  assert.equal(v2.remaining, 1);
});

test("writeResponseHeader writes header v0 and v1 byte for byte", () => {
  const v0 = new Writer();
  writeResponseHeader(v0, 0x0a0b0c0d, false);
  assert.deepEqual([...v0.finish()], [0x0a, 0x0b, 0x0c, 0x0d]);
  const v1 = new Writer();
  writeResponseHeader(v1, 0x0a0b0c0d, true);
  assert.deepEqual([...v1.finish()], [0x0a, 0x0b, 0x0c, 0x0d, 0]);
});

test("skipResponseHeaderTags skips v1 tags and reads nothing for v0", () => {
  const bytes = new Uint8Array([0, 0, 0, 5, 2, 0, 1, 9, 7, 0, 0x42]);
  const v1 = new Reader(bytes);
  assert.equal(v1.int32("correlation_id"), 5);
  skipResponseHeaderTags(v1, true);
  assert.equal(v1.int8(), 0x42);

  const v0 = new Reader(new Uint8Array([0, 0, 0, 5, 0x42]));
  v0.int32("correlation_id");
  skipResponseHeaderTags(v0, false);
  assert.equal(v0.int8(), 0x42);
});

test("buildFrame prefixes the body with its int32 size", () => {
  const frame = buildFrame((w) => {
    writeRequestHeader(w, METADATA_V1, false);
    w.int32(-1); // Metadata v1: all topics
  });
  const size = METADATA_V1_BYTES.length + 4;
  assert.deepEqual([...frame], [0, 0, 0, size, ...METADATA_V1_BYTES, 0xff, 0xff, 0xff, 0xff]);

  const d = new FrameDecoder();
  d.push(frame);
  const body = d.next()!;
  assert.deepEqual(readRequestHeader(new Reader(body), () => false), METADATA_V1);
});

test("buildFrame appends to a writer already holding bytes and survives its growth", () => {
  const w = new Writer(8).int32(0x11111111);
  const big = new Uint8Array(70_000).fill(3);
  const frame = buildFrame((w) => w.raw(big), w);
  assert.equal(frame.length, 4 + big.length);
  assert.equal(new Reader(frame).int32(), big.length);
  assert.deepEqual(frame.subarray(4), big);
  assert.equal(new Reader(w.finish()).int32(), 0x11111111);

  const empty = buildFrame(() => {});
  assert.deepEqual([...empty], [0, 0, 0, 0]);
});
