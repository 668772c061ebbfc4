/**
 * The Worker that tests/workers/workerd_test.ts bundles and runs on workerd: its fetch handler
 * opens a `BrokerConnection` through `workersConnector(connect)` to the broker named in the
 * request, lets it run ApiVersions (and SASL, when asked), sends Metadata, and answers with what
 * happened as JSON. Written as a user would write it: `connect` from `cloudflare:sockets`
 * (left external when bundling; workerd provides it), the module's main entry point, and one
 * connection per request, closed by `await using` before the response goes out.
 *
 * `GET /kafka?host=H&port=P` with optional `tls=1`, `serverName=N`, `caCert=1` (asks for a
 * custom CA, which Workers cannot honour), `mechanism=PLAIN|SCRAM-SHA-256|SCRAM-SHA-512`,
 * `username=U`, `password=W`. The answer is {@link KafkaReport}.
 *
 * `GET /dial?host=H&port=P` (optional `tls=1`, `serverName=N`) dials with the connector itself,
 * sends ApiVersions v0 and reads one chunk: {@link DialReport}.
 *
 * `GET /codecs` round-trips a record batch through every codec written here (gzip through
 * workerd's `CompressionStream`, snappy, lz4) and decodes a zstd batch: {@link CodecReport}.
 *
 * `GET /reuse?step=1|2&host=H&port=P` keeps one connection in a module-level variable across two
 * requests, which Workers do not allow: step 2 reports how the adapter explains that.
 *
 * @module
 */

import { connect } from "cloudflare:sockets";
import {
  BrokerConnection,
  crc32c,
  decodeRecordBatchAsync,
  encodeRecordBatch,
  encodeRecordBatchAsync,
  gzipCodec,
  type KafkaTransportError,
  lz4Codec,
  Metadata,
  plain,
  type SaslMechanism,
  scramSha256,
  scramSha512,
  snappyCodec,
  type TlsOptions,
} from "../../mod.ts";
import { workersConnector } from "../../transport/workers.ts";

const connector = workersConnector(connect);

/** What `/kafka` and `/reuse` answer. */
export interface KafkaReport {
  /** Whether Metadata succeeded. */
  ok: boolean;
  /** The states the connection entered, in order. */
  states: string[];
  /** How many APIs the broker advertised in ApiVersions. */
  apiCount?: number;
  /** The cluster id from Metadata. */
  clusterId?: string | null;
  /** The brokers Metadata listed, as `host:port`. */
  brokers?: string[];
  /** How many topics Metadata listed. */
  topicCount?: number;
  /** Why it failed. */
  error?: { name: string; message: string; retriable?: boolean };
  /** The runtime, as the Worker sees it. */
  userAgent: string;
}

function mechanismFrom(params: URLSearchParams): SaslMechanism | undefined {
  const name = params.get("mechanism");
  if (name === null) return undefined;
  const credentials = {
    username: params.get("username") ?? "",
    password: params.get("password") ?? "",
  };
  switch (name) {
    case "PLAIN":
      return plain(credentials);
    case "SCRAM-SHA-256":
      return scramSha256(credentials);
    case "SCRAM-SHA-512":
      return scramSha512(credentials);
    default:
      throw new Error(`unknown mechanism ${name}`);
  }
}

function tlsFrom(params: URLSearchParams): TlsOptions | undefined {
  if (params.get("tls") !== "1") return undefined;
  const tls: TlsOptions = {};
  const serverName = params.get("serverName");
  if (serverName !== null) tls.serverName = serverName;
  if (params.get("caCert") === "1") tls.caCerts = ["-----BEGIN CERTIFICATE-----\n..."];
  return tls;
}

function open(params: URLSearchParams, states: string[]): BrokerConnection {
  const broker = new BrokerConnection({
    host: params.get("host") ?? "",
    port: Number(params.get("port")),
    connector,
    tls: tlsFrom(params),
    sasl: mechanismFrom(params),
    clientId: "kafka-wire-workerd-test",
    connectionSetupTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
  });
  broker.onStateChange((change) => states.push(change.to));
  return broker;
}

async function metadata(broker: BrokerConnection, states: string[]): Promise<KafkaReport> {
  const userAgent = typeof navigator === "undefined" ? "" : navigator.userAgent;
  try {
    // connect() reports the first failed attempt; send() alone would keep redialling until its
    // request timeout.
    await broker.connect();
    const reply = await broker.send(Metadata, { topics: null, allowAutoTopicCreation: false });
    return {
      ok: true,
      states,
      apiCount: broker.apiVersions?.size ?? 0,
      clusterId: reply.clusterId,
      brokers: reply.brokers.map((b) => `${b.host}:${b.port}`),
      topicCount: reply.topics.length,
      userAgent,
    };
  } catch (error) {
    const e = error as KafkaTransportError;
    return {
      ok: false,
      states,
      error: { name: e.name, message: e.message, retriable: e.retriable },
      userAgent,
    };
  }
}

/** What `/dial` answers. */
export interface DialReport {
  /** Whether the dial and one ApiVersions v0 round trip succeeded. */
  ok: boolean;
  /** The connection's `secure`, `remoteAddr` and `localAddr`. */
  conn?: { secure: boolean; remoteAddr: string; localAddr: string };
  /** The first bytes of the reply: its size prefix and correlation id. */
  replyHead?: number[];
  /** Why it failed. */
  error?: { name: string; message: string; retriable?: boolean };
}

// ApiVersions v0, correlation id 1, client id "me".
const API_VERSIONS_V0 = new Uint8Array([0, 0, 0, 12, 0, 18, 0, 0, 0, 0, 0, 1, 0, 2, 109, 101]);

async function dial(params: URLSearchParams): Promise<DialReport> {
  try {
    const conn = await connector({
      host: params.get("host") ?? "",
      port: Number(params.get("port")),
      tls: tlsFrom(params),
      timeoutMs: 10_000,
    });
    try {
      await conn.write(API_VERSIONS_V0);
      const chunk = await conn.read();
      const addr = (a: { hostname: string; port: number }) => `${a.hostname}:${a.port}`;
      return {
        ok: chunk !== null,
        conn: {
          secure: conn.secure,
          remoteAddr: addr(conn.remoteAddr),
          localAddr: addr(conn.localAddr),
        },
        replyHead: chunk === null ? [] : [...chunk.subarray(0, 8)],
      };
    } finally {
      conn.close();
    }
  } catch (error) {
    const e = error as KafkaTransportError;
    return { ok: false, error: { name: e.name, message: e.message, retriable: e.retriable } };
  }
}

/** What `/codecs` answers: per codec, whether the records came back, or the error. */
export interface CodecReport {
  /** Codec name to "ok" or the error's name and message. */
  results: Record<string, string>;
}

async function codecs(): Promise<CodecReport> {
  const enc = new TextEncoder();
  const records = Array.from({ length: 50 }, (_, i) => ({
    key: enc.encode(`key-${i}`),
    value: enc.encode(JSON.stringify({ i, text: "workerd ".repeat(20) })),
  }));
  const want = JSON.stringify(records.map((r) => [...r.value]));
  const results: Record<string, string> = {};
  for (const codec of [gzipCodec(), snappyCodec(), lz4Codec()]) {
    try {
      const bytes = await encodeRecordBatchAsync({ records }, { compression: codec });
      const batch = await decodeRecordBatchAsync(bytes);
      const got = JSON.stringify(batch.records.map((r) => [...(r.value ?? [])]));
      results[codec.name] = got === want ? "ok" : "records differ";
    } catch (error) {
      results[codec.name] = `${(error as Error).name}: ${(error as Error).message}`;
    }
  }
  try {
    const batch = await decodeRecordBatchAsync(zstdBatch("hi"));
    const value = new TextDecoder().decode(batch.records[0].value ?? new Uint8Array());
    results.zstd = value === "hi" ? "ok" : `records differ: ${value}`;
  } catch (error) {
    results.zstd = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return { results };
}

/**
 * A zstd batch of one record: its records section as one zstd frame with a raw block (the
 * format allows uncompressed blocks), so that no zstd encoder is needed in the Worker.
 */
function zstdBatch(value: string): Uint8Array {
  const plain = encodeRecordBatch({
    records: [{ value: new TextEncoder().encode(value) }],
    timestamp: 0,
  });
  const inner = plain.subarray(61);
  const n = inner.length;
  // Magic, header (single segment, one-byte content size), block header (last, raw, size n).
  const frame = [0x28, 0xb5, 0x2f, 0xfd, 0x20, n, ((n << 3) | 1) & 0xff, (n >> 5) & 0xff, n >> 13];
  const out = new Uint8Array(61 + frame.length + n);
  out.set(plain.subarray(0, 61));
  out.set(frame, 61);
  out.set(inner, 61 + frame.length);
  const view = new DataView(out.buffer);
  view.setInt32(8, out.length - 12);
  view.setInt16(21, 4);
  view.setUint32(17, crc32c(out, 21, out.length));
  return out;
}

let kept: { broker: BrokerConnection; states: string[] } | undefined;

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const params = url.searchParams;
    if (url.pathname === "/kafka") {
      const states: string[] = [];
      await using broker = open(params, states);
      return Response.json(await metadata(broker, states));
    }
    if (url.pathname === "/dial") return Response.json(await dial(params));
    if (url.pathname === "/codecs") return Response.json(await codecs());
    if (url.pathname === "/reuse") {
      if (params.get("step") === "1") {
        await kept?.broker.close({ graceful: false });
        const states: string[] = [];
        kept = { broker: open(params, states), states };
        return Response.json(await metadata(kept.broker, states));
      }
      if (kept === undefined) return new Response("call step=1 first", { status: 400 });
      const { broker, states } = kept;
      kept = undefined;
      const report = await metadata(broker, states);
      await broker.close({ graceful: false });
      return Response.json(report);
    }
    return new Response("not found", { status: 404 });
  },
};
