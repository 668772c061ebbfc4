/**
 * The socket adapter of the runtime running the tests (Deno's under Deno, Bun's under Bun,
 * Node's under Node), and small helpers for loopback tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Conn, Connector, ListenFn } from "../../transport/conn.ts";
import { concatBytes } from "../fixtures/bytes.ts";

/** The adapter under test. */
export interface SocketAdapter {
  /** `"deno"`, `"bun"` or `"node"`. */
  name: string;
  /** Its connector. */
  connector: Connector;
  /** Its listen function. */
  listen: ListenFn;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime running the tests, told by its global (Deno and Bun also define `process`). */
export const socketRuntime: "deno" | "bun" | "node" = g.Deno !== undefined
  ? "deno"
  : g.Bun !== undefined
  ? "bun"
  : "node";

/** The adapter of the current runtime. */
export const adapter: SocketAdapter = socketRuntime === "deno"
  ? await import("../../transport/deno.ts").then((m) => ({
    name: "deno",
    connector: m.denoConnector,
    listen: m.denoListen,
  }))
  : socketRuntime === "bun"
  ? await import("../../transport/bun.ts").then((m) => ({
    name: "bun",
    connector: m.bunConnector,
    listen: m.bunListen,
  }))
  : await import("../../transport/node.ts").then((m) => ({
    name: "node",
    connector: m.nodeConnector,
    listen: m.nodeListen,
  }));

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
