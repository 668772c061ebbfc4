import { test } from "./harness.ts";
import assert from "node:assert/strict";
import { Writer } from "../framing/writer.ts";
import { Reader } from "../framing/reader.ts";
test("smoke", () => { const b = new Writer().string("hé").varlong(-5n).finish(); const r = new Reader(b); assert.equal(r.string(), "hé"); assert.equal(r.varlong(), -5n); });
