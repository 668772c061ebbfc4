// The Workers adapter driven by a fake `connect` built from real WHATWG streams, so its stream
// handling runs on Deno and Bun alike; tests/workers/ runs it inside workerd itself.
import assert from "node:assert/strict";
import { test } from "../harness.ts";
import {
  workersConnector,
  type WorkersSocketAddress,
  type WorkersSocketInfo,
  type WorkersSocketLike,
  type WorkersSocketOptions,
  type WorkersTlsOptions,
} from "../../transport/workers.ts";
import type { ConnectOptions } from "../../transport/conn.ts";
import {
  AbortError,
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  TimeoutError,
  TlsError,
} from "../../transport/errors.ts";
import { assertSameBytes, concatBytes } from "../fixtures/bytes.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";

/** How the fake socket's readable side is built. */
type ReadMode = "bytes" | "default";

/** A Workers socket over real streams; the test plays the peer. */
class FakeSocket implements WorkersSocketLike {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<WorkersSocketInfo>;
  readonly closed: Promise<void>;
  /** Every chunk the sink received, in order. */
  readonly received: Uint8Array[] = [];
  /** Whether the readable is a byte stream or a plain one. */
  readonly mode: ReadMode;
  /** How many chunks were put into the writable's queue (calls of the writer's write()). */
  queuedChunks = 0;
  closeCalls = 0;
  startTlsCalls: (WorkersTlsOptions | undefined)[] = [];
  /** What startTls() returns (or throws); a new socket by default. */
  upgrade: (() => FakeSocket) | undefined;
  /** While set, the sink's writes wait for it. */
  gate: PromiseWithResolvers<void> | undefined;
  /** The readable's controller; `null` once the peer's side ended. */
  #readController: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController;
  #writeController!: WritableStreamDefaultController;
  #open = Promise.withResolvers<WorkersSocketInfo>();
  #close = Promise.withResolvers<void>();

  constructor(mode: ReadMode = "bytes", highWaterMark = 1) {
    this.mode = mode;
    let controller!: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController;
    this.readable = mode === "bytes"
      ? new ReadableStream({ type: "bytes", start: (c) => void (controller = c) })
      : new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    this.#readController = controller;
    this.writable = new WritableStream<Uint8Array>({
      start: (c) => void (this.#writeController = c),
      write: async (chunk) => {
        if (this.gate !== undefined) await this.gate.promise;
        this.received.push(chunk.slice());
      },
    }, {
      highWaterMark,
      size: () => {
        this.queuedChunks++;
        return 1;
      },
    });
    this.opened = this.#open.promise;
    this.closed = this.#close.promise;
    // As workerd does: nobody has to look at these for a rejection to be fine.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  /** Completes the connect (or TLS handshake). */
  open(info: WorkersSocketInfo = { remoteAddress: "127.0.0.1:9092" }): void {
    this.#open.resolve(info);
  }

  /** Fails the connect. */
  failOpen(error: Error): void {
    this.#open.reject(error);
    this.#close.reject(error);
  }

  /** The peer sends bytes. */
  push(bytes: Uint8Array): void {
    // A byte stream takes over (detaches) the buffer enqueued: pass a copy.
    this.#readController.enqueue(bytes.slice());
  }

  /** The peer closes its side cleanly; the socket closes (allowHalfOpen false). */
  end(): void {
    this.#readController.close();
    this.#close.resolve();
  }

  /** The connection breaks. */
  fail(error: Error): void {
    this.#readController.error(error);
    this.#writeController.error(error);
    this.#close.reject(error);
  }

  close(): Promise<void> {
    this.closeCalls++;
    try {
      this.#readController.close();
    } catch {
      // Already closed or errored.
    }
    this.#writeController.error(new Error("socket closed"));
    this.#close.resolve();
    return Promise.resolve();
  }

  startTls(options?: WorkersTlsOptions): WorkersSocketLike {
    this.startTlsCalls.push(options);
    const next = this.upgrade?.() ?? new FakeSocket(this.mode);
    this.tls = next;
    return next;
  }

  /** The socket startTls() returned. */
  tls: FakeSocket | undefined;
}

interface Dial {
  address: WorkersSocketAddress;
  options: WorkersSocketOptions;
  socket: FakeSocket;
}

function fakeConnect(mode: ReadMode = "bytes", highWaterMark = 1) {
  const dials: Dial[] = [];
  let throwing: Error | undefined;
  const connect = (address: WorkersSocketAddress, options: WorkersSocketOptions) => {
    if (throwing !== undefined) throw throwing;
    const socket = new FakeSocket(mode, highWaterMark);
    dials.push({ address, options, socket });
    return socket;
  };
  return {
    connect,
    dials,
    throwNext(error: Error) {
      throwing = error;
    },
  };
}

async function connected(
  options: Partial<ConnectOptions> = {},
  mode: ReadMode = "bytes",
  highWaterMark = 1,
) {
  const fake = fakeConnect(mode, highWaterMark);
  const dial = workersConnector(fake.connect)({ host: "127.0.0.1", port: 9092, ...options });
  const socket = fake.dials[0].socket;
  socket.open();
  let active = socket;
  if (options.tls !== undefined) {
    await settle();
    active = socket.tls!;
    active.open();
  }
  const conn = await dial;
  return { fake, socket, active, conn };
}

function bytes(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);
}

test("workers adapter (fake): a plain dial, a round trip and an idempotent close", async () => {
  const { fake, socket, conn } = await connected({ noDelay: false, keepAlive: true });
  assert.deepEqual(fake.dials[0].address, { hostname: "127.0.0.1", port: 9092 });
  assert.deepEqual(fake.dials[0].options, { secureTransport: "off", allowHalfOpen: false });
  assert.equal(conn.secure, false);
  await conn.write(new Uint8Array([1, 2, 3]));
  await conn.write(new Uint8Array(0));
  assert.deepEqual(socket.received, [new Uint8Array([1, 2, 3])]);
  socket.push(new Uint8Array([4, 5]));
  assert.deepEqual(await conn.read(), new Uint8Array([4, 5]));
  const pending = conn.read();
  conn.close();
  conn.close();
  assert.equal(await pending, null, "a pending read ends with null on close()");
  assert.equal(await conn.read(), null);
  assert.equal(await conn.closed, undefined);
  assert.equal(socket.closeCalls, 1);
  await assert.rejects(conn.write(new Uint8Array([6])), ConnectionClosedError);
});

test("workers adapter (fake): IPv6 literals are dialled in brackets", async () => {
  const fake = fakeConnect();
  const dial = workersConnector(fake.connect)({ host: "::1", port: 9092 });
  assert.equal(fake.dials[0].address.hostname, "[::1]", "IPv6 literals go in brackets");
  fake.dials[0].socket.open({ remoteAddress: "[::1]:9092", localAddress: "[::1]:50123" });
  const conn = await dial;
  conn.close();
  assert.equal(await conn.closed, undefined);
});

for (const mode of ["bytes", "default"] as const) {
  test(`workers adapter (fake, ${mode} stream): chunks belong to the caller and keep their order`, async () => {
    const { socket, conn } = await connected({}, mode);
    socket.push(bytes(10, 1));
    const first = await conn.read();
    const kept = first!.slice();
    socket.push(bytes(10, 2));
    const second = await conn.read();
    assert.deepEqual(first, kept, "a later read changed a chunk already handed out");
    assert.deepEqual(second, bytes(10, 2));
    assert.notEqual(first!.buffer, second!.buffer);
    // A bulk transfer: 300 KiB in one enqueue arrives complete, in order, in reads of at most
    // 64 KiB on a byte stream.
    const big = bytes(300 * 1024, 3);
    socket.push(big);
    socket.end();
    const chunks: Uint8Array[] = [];
    for (let c = await conn.read(); c !== null; c = await conn.read()) chunks.push(c);
    // Compared after the last read: no chunk changed when later ones arrived.
    assertSameBytes(concatBytes(chunks), big, "bulk transfer");
    if (mode === "bytes") {
      assert.ok(chunks.length >= 5, `${chunks.length} reads`);
      assert.ok(chunks.every((c) => c.length <= 64 * 1024));
    }
    assert.equal(await conn.closed, undefined);
  });
}

test("workers adapter (fake): writes wait for writer.ready and complete in order", async () => {
  const { socket, conn } = await connected();
  socket.gate = Promise.withResolvers<void>();
  const order: string[] = [];
  const a = conn.write(bytes(5, 10)).then(() => order.push("a"));
  const b = conn.write(bytes(4, 20)).then(() => order.push("b"));
  const c = conn.write(bytes(3, 30)).then(() => order.push("c"));
  const stateA = track(a);
  await settle();
  assert.equal(stateA.settled, false, "resolved before the writer took the bytes");
  assert.equal(socket.queuedChunks, 1, "more than highWaterMark chunks handed to the writer");
  const gate = socket.gate;
  socket.gate = undefined;
  gate.resolve();
  await Promise.all([a, b, c]);
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.deepEqual(socket.received, [bytes(5, 10), bytes(4, 20), bytes(3, 30)]);
  assert.equal(socket.queuedChunks, 3);
  conn.close();
});

test("workers adapter (fake): a broken connection fails reads, writes and closed", async () => {
  const { socket, conn } = await connected();
  const pending = conn.read();
  socket.fail(new Error("Network connection lost."));
  const error = await pending.catch((e) => e);
  assert.ok(error instanceof ConnectionClosedError, String(error));
  assert.match(error.message, /Network connection lost/);
  assert.equal(await conn.closed, error);
  await assert.rejects(conn.read(), ConnectionClosedError);
  await assert.rejects(conn.write(new Uint8Array([1])), ConnectionClosedError);
});

test("workers adapter (fake): I/O from another request's context gets advice", async () => {
  const { socket, conn } = await connected();
  const message = "Cannot perform I/O on behalf of a different request. I/O objects (such as " +
    "streams, request/response bodies, and others) created in the context of one request " +
    "handler cannot be accessed from a different request's handler.";
  socket.fail(new Error(message));
  const error = await conn.read().catch((e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /belongs to the request .* that opened it/);
});

test("workers adapter (fake): a failed connect is a ConnectionRefusedError", async () => {
  const fake = fakeConnect();
  const dial = workersConnector(fake.connect)({ host: "127.0.0.1", port: 1 });
  const cause = new Error("proxy request failed, cannot connect to the specified address");
  fake.dials[0].socket.failOpen(cause);
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof ConnectionRefusedError, String(error));
  assert.equal(error.cause, cause);
  assert.match(error.message, /127\.0\.0\.1:1 .*is a broker listening there/);
  assert.equal(fake.dials[0].socket.closeCalls, 1);
});

test("workers adapter (fake): connect() throwing is a ConfigError with advice", async () => {
  const fake = fakeConnect();
  fake.throwNext(new Error("Disallowed operation called within global scope."));
  const error = await workersConnector(fake.connect)({ host: "h", port: 1 }).catch((e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /inside the fetch \(or other\) handler/);
  fake.throwNext(new TypeError("Specified address is empty string, contains unsupported"));
  const bad = await workersConnector(fake.connect)({ host: "h", port: 1 }).catch((e) => e);
  assert.ok(bad instanceof ConfigError, String(bad));
  assert.throws(() => workersConnector(undefined as never), ConfigError);
});

test("workers adapter (fake): timeoutMs gives up, closes the socket and leaves no timer", async () => {
  const fake = fakeConnect();
  const clock = new FakeClock();
  const dial = workersConnector(fake.connect, clock)({ host: "h", port: 1, timeoutMs: 100 });
  const outcome = dial.catch((e) => e);
  clock.advance(100);
  assert.ok((await outcome) instanceof TimeoutError);
  const socket = fake.dials[0].socket;
  assert.equal(socket.closeCalls, 1, "the socket of a timed-out dial stays open");
  socket.open(); // too late: nothing is handed out
  await settle();
  assert.equal(clock.pending, 0);
});

test("workers adapter (fake): an abort during the TLS handshake closes the TLS socket", async () => {
  const fake = fakeConnect();
  const controller = new AbortController();
  const dial = workersConnector(fake.connect)({
    host: "h",
    port: 1,
    tls: {},
    signal: controller.signal,
  }).catch((e) => e);
  fake.dials[0].socket.open();
  await settle();
  const tlsSocket = fake.dials[0].socket.tls!;
  controller.abort(new Error("user gave up"));
  const error = await dial;
  assert.ok(error instanceof AbortError, String(error));
  assert.equal(tlsSocket.closeCalls, 1);
  const already = await workersConnector(fake.connect)({
    host: "h",
    port: 1,
    signal: controller.signal,
  }).catch((e) => e);
  assert.ok(already instanceof AbortError);
  assert.equal(fake.dials.length, 1, "an aborted signal must not dial");
});

test("workers adapter (fake): TLS dials with starttls, upgrades once TCP is up, and serverName is passed on", async () => {
  const { fake, socket, active, conn } = await connected({ tls: {} });
  assert.deepEqual(fake.dials[0].options, { secureTransport: "starttls", allowHalfOpen: false });
  assert.deepEqual(socket.startTlsCalls, [undefined]);
  assert.equal(conn.secure, true);
  await conn.write(new Uint8Array([7]));
  assert.deepEqual(active.received, [new Uint8Array([7])]);
  assert.deepEqual(socket.received, [], "wrote to the plaintext socket after the upgrade");
  conn.close();
  assert.equal(active.closeCalls, 1);
  const named = await connected({ tls: { serverName: "kafka.example.com" } });
  assert.deepEqual(named.socket.startTlsCalls, [{ expectedServerHostname: "kafka.example.com" }]);
  named.conn.close();
  const same = await connected({
    host: "kafka.example.com",
    tls: { serverName: "kafka.example.com" },
  });
  assert.deepEqual(same.socket.startTlsCalls, [undefined]);
  same.conn.close();
});

test("workers adapter (fake): a failed TLS handshake is a TlsError saying what to check", async () => {
  const fake = fakeConnect();
  const dial = workersConnector(fake.connect)({ host: "127.0.0.1", port: 9093, tls: {} });
  fake.dials[0].socket.open();
  await settle();
  const tlsSocket = fake.dials[0].socket.tls!;
  tlsSocket.failOpen(new Error("internal error; reference = 9du1310l0j6g1l2psorsfdd7"));
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof TlsError, String(error));
  assert.match(error.message, /not PLAINTEXT.*public CA.*names 127\.0\.0\.1/);
  assert.equal(error.kind, "other", "the runtime did not say why");
  assert.equal(tlsSocket.closeCalls, 1);
  // A runtime that says why gets the shared hints.
  const fake2 = fakeConnect();
  const dial2 = workersConnector(fake2.connect)({ host: "h", port: 1, tls: {} });
  fake2.dials[0].socket.open();
  await settle();
  fake2.dials[0].socket.tls!.failOpen(new Error("invalid peer certificate: UnknownIssuer"));
  const hinted = await dial2.catch((e) => e);
  assert.ok(hinted instanceof TlsError);
  assert.match(hinted.message, /not signed by a trusted CA/);
  assert.equal(hinted.kind, "untrusted");
});

test("workers adapter (fake): a runtime refusing expectedServerHostname is a ConfigError", async () => {
  const fake = fakeConnect();
  const dial = workersConnector(fake.connect)({
    host: "10.0.0.1",
    port: 9093,
    tls: { serverName: "kafka" },
  });
  const socket = fake.dials[0].socket;
  socket.upgrade = () => {
    throw new TypeError("startTls called with unsupported expectedServerHostname option");
  };
  socket.open();
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /drop tls.serverName/);
  assert.equal(socket.closeCalls, 1);
});

test("workers adapter (fake): TLS settings Workers cannot honour are refused before dialling", async () => {
  const fake = fakeConnect();
  const connector = workersConnector(fake.connect);
  for (
    const tls of [
      { caCerts: ["-----BEGIN CERTIFICATE-----"] },
      { cert: "CERT", key: "KEY" },
      { dangerouslyDisableVerification: true },
    ]
  ) {
    const error = await connector({ host: "h", port: 1, tls }).catch((e) => e);
    assert.ok(error instanceof ConfigError, JSON.stringify(tls));
    assert.match(error.message, /public CAs/);
  }
  assert.equal(fake.dials.length, 0);
  // An empty CA list and an explicit "verify" are what Workers do anyway.
  const ok = connector({
    host: "h",
    port: 1,
    tls: { caCerts: [], dangerouslyDisableVerification: false },
  });
  fake.dials[0].socket.open();
  await settle();
  fake.dials[0].socket.tls!.open();
  (await ok).close();
});

test("workers adapter (fake): writes go out on a writable whose high-water mark is 0", async () => {
  // Such a writable reports no room while empty, and its `ready` settles only after a write.
  const { socket, conn } = await connected({}, "bytes", 0);
  const sends = Promise.all([conn.write(new Uint8Array([1, 2])), conn.write(new Uint8Array([3]))]);
  const written = track(sends);
  await settle();
  assert.ok(written.settled, "the writes stalled");
  await sends;
  assert.deepEqual(socket.received.map((c) => [...c]), [[1, 2], [3]]);
  conn.close();
});
