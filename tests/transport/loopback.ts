/**
 * Small helpers for loopback tests of the runtime's socket adapter
 * (`tests/fixtures/socket_adapter.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Conn } from "../../transport/conn.ts";
import { concatBytes } from "../fixtures/bytes.ts";

/**
 * Waits on the real clock.
 *
 * @param ms How long.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Deterministic test bytes that differ per `seed` and position.
 *
 * @param size How many bytes.
 * @param seed Distinguishes payloads.
 * @returns The bytes.
 */
export function pattern(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 8) + seed * 101) & 0xff;
  return bytes;
}

/**
 * Reads exactly `size` bytes.
 *
 * @param conn Where to read.
 * @param size How many bytes.
 * @returns The bytes, in one array.
 */
export async function readExactly(conn: Conn, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const chunk = await conn.read();
    assert.ok(chunk !== null, `stream ended after ${filled} of ${size} bytes`);
    assert.ok(chunk.length > 0, "read() returned an empty chunk");
    assert.ok(filled + chunk.length <= size, "more bytes than were sent");
    out.set(chunk, filled);
    filled += chunk.length;
  }
  return out;
}

/**
 * Reads until the peer closes.
 *
 * @param conn Where to read.
 * @returns Everything read.
 */
export async function readToEnd(conn: Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) chunks.push(chunk);
  return concatBytes(chunks);
}

/**
 * Echoes everything read back to the sender until the peer closes, then closes.
 *
 * @param conn The server end.
 */
export async function echo(conn: Conn): Promise<void> {
  try {
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
      await conn.write(chunk);
    }
  } finally {
    conn.close();
  }
}
