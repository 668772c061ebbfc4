/**
 * A hand-scripted Kafka peer on in-memory connections, for cases the test broker does on
 * purpose not do: replies with unknown correlation ids, malformed bodies, ApiVersions errors
 * without a list, stalls at exact points.
 *
 * @module
 */

import { FrameDecoder } from "../../framing/decoder.ts";
import { buildFrame } from "../../framing/header.ts";
import { Reader } from "../../framing/reader.ts";
import type { Writer } from "../../framing/writer.ts";
import { ApiVersions } from "../../protocol/api_versions.ts";
import type { Conn, Connector } from "../../transport/conn.ts";
import {
  memoryConnector,
  type MemoryConnectorOptions,
  type MemoryFaults,
} from "../../transport/memory.ts";
import { Echo } from "./echo_api.ts";

/** One request as the scripted server read it. */
export interface ScriptedRequest {
  /** The API key. */
  apiKey: number;
  /** The API version. */
  apiVersion: number;
  /** The correlation id. */
  correlationId: number;
  /** Positioned after the client id (header tagged fields are not skipped). */
  body: Reader;
  /** The index of the connection it came on, from 0. */
  connIndex: number;
}

/** What a script answers: frames to write (whole, with size prefix), possibly none. */
export type Script = (req: ScriptedRequest, server: ScriptedServer) => Uint8Array[];

/**
 * Builds a reply frame.
 *
 * @param correlationId The id to answer.
 * @param body Writes the body.
 * @param flexibleHeader Response header v1 (tagged fields) when true.
 * @returns The frame.
 */
export function replyFrame(
  correlationId: number,
  body: (w: Writer) => void,
  flexibleHeader = false,
): Uint8Array {
  return buildFrame((w) => {
    w.int32(correlationId);
    if (flexibleHeader) w.taggedFields();
    body(w);
  }).slice();
}

/**
 * The ApiVersions reply of a healthy broker supporting ApiVersions 0..3 and Echo 0..2.
 *
 * @param req The ApiVersions request.
 * @returns The reply frame.
 */
export function apiVersionsOk(req: ScriptedRequest): Uint8Array {
  return replyFrame(req.correlationId, (w) =>
    ApiVersions.encodeResponse?.(w, {
      errorCode: 0,
      apiKeys: [
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
        { apiKey: Echo.key, minVersion: 0, maxVersion: 2 },
      ],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }, req.apiVersion));
}

/**
 * Echo reply to an Echo request (v0/v1: header v0).
 *
 * @param req The Echo request.
 * @param correlationId The id to use instead of the request's.
 * @returns The reply frame.
 */
export function echoReply(req: ScriptedRequest, correlationId = req.correlationId): Uint8Array {
  const value = req.body.int32("value");
  return replyFrame(correlationId, (w) => w.int32(value), req.apiVersion >= 2);
}

/** A scripted peer: dial it through {@link ScriptedServer.connector}. */
export class ScriptedServer {
  /** Answers each request. */
  readonly script: Script;
  /** Dials a new in-memory connection served by the script. */
  readonly connector: Connector;
  /** Every request read, in order. */
  readonly requests: ScriptedRequest[] = [];
  /** Server ends and faults of every connection, in dial order. */
  readonly links: { conn: Conn; faults: MemoryFaults }[] = [];
  readonly #loops: Promise<void>[] = [];

  /**
   * @param script Answers each request.
   * @param options Settings of the memory pairs (clock, buffer limit, connect delay).
   */
  constructor(script: Script, options: MemoryConnectorOptions = {}) {
    this.script = script;
    this.connector = memoryConnector((conn, faults) => {
      const index = this.links.length;
      this.links.push({ conn, faults });
      this.#loops.push(this.#serve(conn, index));
    }, options);
  }

  /**
   * Writes a frame on connection `index` outside any request.
   *
   * @param index The connection.
   * @param frame What to write.
   */
  async push(index: number, frame: Uint8Array): Promise<void> {
    await this.links[index].conn.write(frame);
  }

  async #serve(conn: Conn, connIndex: number): Promise<void> {
    const decoder = new FrameDecoder({ minFrameSize: 0 });
    try {
      for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
        decoder.push(chunk);
        for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
          const r = new Reader(frame);
          const req: ScriptedRequest = {
            apiKey: r.int16(),
            apiVersion: r.int16(),
            correlationId: r.int32(),
            body: r,
            connIndex,
          };
          r.nullableString();
          const flexible = (req.apiKey === Echo.key && req.apiVersion >= 2) ||
            (req.apiKey === ApiVersions.key && req.apiVersion >= 3);
          if (flexible) r.taggedFields();
          this.requests.push(req);
          for (const out of this.script(req, this)) await conn.write(out);
        }
      }
    } catch {
      // The client closed or the test cut the link: this connection is over.
    }
    conn.close();
  }

  /** Closes every connection and waits for their loops. */
  async close(): Promise<void> {
    for (const link of this.links) link.conn.close();
    await Promise.all(this.#loops);
  }
}
