/**
 * A Kafka client spoken by hand, frame by frame, for testing the test broker without the
 * project's broker connection: build a request, send it, read and check the reply.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FrameDecoder } from "../../framing/decoder.ts";
import { buildFrame, writeRequestHeader } from "../../framing/header.ts";
import { Reader } from "../../framing/reader.ts";
import type { Writer } from "../../framing/writer.ts";
import type { Conn } from "../../transport/conn.ts";
import { concatBytes } from "../fixtures/bytes.ts";

/** How long a test waits for a reply before failing (generous: two shared cores). */
export const REPLY_TIMEOUT_MS = 5_000;

/**
 * Resolves `promise`, or rejects after `ms` with a message naming `what`; never leaves a timer.
 *
 * @param promise What to wait for.
 * @param what What is awaited, for the failure message.
 * @param ms The limit.
 * @returns The promise's value.
 */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  ms = REPLY_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A request as {@link RawClient.send} takes it. */
export interface RawRequest {
  /** The API key. */
  apiKey: number;
  /** The API version. */
  apiVersion: number;
  /** The correlation id. */
  correlationId: number;
  /** Writes the request body; empty when omitted. */
  body?: (w: Writer) => void;
  /** Write request header v2; default false. */
  flexible?: boolean;
  /** The client id; default "raw-test". */
  clientId?: string | null;
}

/** A hand-driven Kafka connection. */
export class RawClient {
  /** The connection. */
  readonly conn: Conn;
  readonly #decoder = new FrameDecoder();
  #eof = false;

  /** @param conn A connection to the broker. */
  constructor(conn: Conn) {
    this.conn = conn;
  }

  /**
   * Builds the request frames and sends them in one write, so that they arrive pipelined.
   *
   * @param requests The requests.
   * @returns Resolves when written.
   */
  send(...requests: RawRequest[]): Promise<void> {
    const frames = requests.map((req) =>
      buildFrame((w) => {
        writeRequestHeader(w, {
          apiKey: req.apiKey,
          apiVersion: req.apiVersion,
          correlationId: req.correlationId,
          clientId: req.clientId === undefined ? "raw-test" : req.clientId,
        }, req.flexible ?? false);
        req.body?.(w);
      }).slice()
    );
    return this.conn.write(concatBytes(frames));
  }

  /**
   * Sends a bare `[int32 length][bytes]` frame (legacy SASL tokens).
   *
   * @param bytes The frame body.
   * @returns Resolves when written.
   */
  sendBare(bytes: Uint8Array): Promise<void> {
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setInt32(0, bytes.length);
    frame.set(bytes, 4);
    return this.conn.write(frame);
  }

  /**
   * Reads the next whole frame.
   *
   * @returns The frame body, or `null` when the broker closed the connection first.
   */
  async frame(): Promise<Uint8Array | null> {
    for (;;) {
      const frame = this.#decoder.next();
      if (frame !== null) return frame;
      if (this.#eof) return null;
      const chunk = await within(this.conn.read(), "a reply from the mock broker");
      if (chunk === null) this.#eof = true;
      else this.#decoder.push(chunk);
    }
  }

  /**
   * Reads the next frame, checks its correlation id and skips the response header.
   *
   * @param correlationId The id the reply must carry.
   * @param flexibleHeader Whether the reply has response header v1.
   * @returns A reader at the start of the response body.
   */
  async reply(correlationId: number, flexibleHeader = false): Promise<Reader> {
    const frame = await this.frame();
    assert.ok(
      frame !== null,
      `the broker closed the connection instead of answering ${correlationId}`,
    );
    const r = new Reader(frame);
    assert.equal(r.int32("correlation_id"), correlationId);
    if (flexibleHeader) r.taggedFields();
    return r;
  }

  /**
   * Reads raw bytes until the broker closes the connection.
   *
   * @returns Everything received.
   */
  async untilClosed(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const chunk = await within(this.conn.read(), "the mock broker to close the connection");
      if (chunk === null) break;
      parts.push(chunk);
    }
    return concatBytes(parts);
  }

  /**
   * Asserts that the broker closes the connection without sending anything more.
   *
   * @param why What the close is expected for, for the failure message.
   */
  async expectClosed(why: string): Promise<void> {
    const frame = await this.frame();
    assert.equal(frame, null, `expected the broker to close the connection: ${why}`);
  }

  /** Closes the connection. */
  close(): void {
    this.conn.close();
  }
}
