// The Bun adapter driven by a fake `Bun` object, so its event handling runs on any runtime.
import assert from "node:assert/strict";
import { runtime, test } from "../harness.ts";
import {
  bunConnector,
  type BunLike,
  type BunListenerLike,
  type BunSocketHandlers,
  type BunSocketLike,
  type BunTlsOptions,
  createBunConnector,
  createBunListen,
} from "../../transport/bun.ts";
import type { ConnectOptions } from "../../transport/conn.ts";
import {
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  TimeoutError,
  TlsError,
} from "../../transport/errors.ts";
import { FakeClock, settle, track } from "../fixtures/fake_clock.ts";

class FakeSocket implements BunSocketLike {
  data: unknown;
  readonly localAddress = "127.0.0.1";
  readonly localPort = 50000;
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 9092;
  /** Bytes accepted per write() call; Infinity takes everything. */
  capacity = Infinity;
  written: number[] = [];
  closed = false;
  paused = false;
  terminated = false;
  noDelay: boolean | undefined;
  keepAlive: boolean | undefined;

  readonly handlers: BunSocketHandlers;

  constructor(handlers: BunSocketHandlers) {
    this.handlers = handlers;
  }

  write(data: Uint8Array): number {
    if (this.closed) return -1;
    const n = Math.min(this.capacity, data.length);
    this.written.push(...data.subarray(0, n));
    return n;
  }
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.close(this); // Bun calls it synchronously
  }
  terminate(): void {
    this.terminated = true;
    this.end();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  setNoDelay(noDelay: boolean): boolean {
    this.noDelay = noDelay;
    return true;
  }
  setKeepAlive(enable: boolean): boolean {
    this.keepAlive = enable;
    return true;
  }
}

interface Dial {
  options: { hostname: string; port: number; tls?: BunTlsOptions };
  socket: FakeSocket;
  settle: { resolve: (s: BunSocketLike) => void; reject: (e: unknown) => void };
}

class FakeBun implements BunLike {
  dials: Dial[] = [];
  listens: {
    options: { hostname: string; port: number; tls?: BunTlsOptions };
    handlers: BunSocketHandlers;
    stopped: boolean | undefined;
  }[] = [];
  listenError: Error | undefined;

  connect(
    options: {
      hostname: string;
      port: number;
      tls?: BunTlsOptions;
      data?: unknown;
      socket: BunSocketHandlers;
    },
  ): Promise<BunSocketLike> {
    const socket = new FakeSocket(options.socket);
    socket.data = options.data;
    const { promise, resolve, reject } = Promise.withResolvers<BunSocketLike>();
    this.dials.push({ options, socket, settle: { resolve, reject } });
    return promise;
  }

  listen(
    options: { hostname: string; port: number; tls?: BunTlsOptions; socket: BunSocketHandlers },
  ): BunListenerLike {
    if (this.listenError !== undefined) throw this.listenError;
    const entry = { options, handlers: options.socket, stopped: undefined as boolean | undefined };
    this.listens.push(entry);
    return {
      hostname: options.hostname,
      port: options.port === 0 ? 40000 : options.port,
      stop: (closeActive?: boolean) => (entry.stopped = closeActive ?? false),
    };
  }

  /** Completes the TCP connect of dial `i`. */
  open(i = 0): FakeSocket {
    const { socket, settle } = this.dials[i];
    socket.handlers.open(socket);
    settle.resolve(socket);
    return socket;
  }
}

function codeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

async function connected(options: Partial<ConnectOptions> = {}) {
  const bun = new FakeBun();
  const dial = createBunConnector(bun)({ host: "127.0.0.1", port: 9092, ...options });
  const socket = bun.open();
  if (options.tls !== undefined) socket.handlers.handshake(socket, true, null);
  const conn = await dial;
  return { bun, socket, conn };
}

test("bun adapter (fake): a plain dial resolves on open with socket options applied", async () => {
  const { bun, socket, conn } = await connected({ keepAlive: true });
  assert.equal(bun.dials[0].options.hostname, "127.0.0.1");
  assert.equal(bun.dials[0].options.tls, undefined);
  assert.equal(socket.noDelay, true);
  assert.equal(socket.keepAlive, true);
  assert.equal(conn.secure, false);
  conn.close();
  assert.equal(socket.closed, true);
  assert.equal(await conn.closed, undefined);
});

test("bun adapter (fake): partial writes continue on drain, in order, resolving in order", async () => {
  const { socket, conn } = await connected();
  socket.capacity = 3;
  const order: string[] = [];
  const a = conn.write(new Uint8Array([1, 2, 3, 4, 5])).then(() => order.push("a"));
  const b = conn.write(new Uint8Array([6, 7, 8, 9])).then(() => order.push("b"));
  const stateA = track(a);
  await settle();
  assert.deepEqual(socket.written, [1, 2, 3]);
  assert.equal(stateA.settled, false, "resolved before all bytes were accepted");
  socket.handlers.drain(socket); // 4, 5 (a done), then 6, 7, 8 of b once a has resolved
  await settle();
  assert.deepEqual(socket.written, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(order, ["a"]);
  socket.capacity = Infinity;
  socket.handlers.drain(socket);
  await Promise.all([a, b]);
  assert.deepEqual(socket.written, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(order, ["a", "b"]);
  conn.close();
});

test("bun adapter (fake): a refused write (-1) fails the connection", async () => {
  const { socket, conn } = await connected();
  socket.closed = true;
  const error = await conn.write(new Uint8Array([1])).catch((e) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(await conn.closed, error);
});

test("bun adapter (fake): data chunks are handed over as they are, without copies", async () => {
  const { socket, conn } = await connected();
  const first = new Uint8Array([1, 2]);
  const second = new Uint8Array([3]);
  socket.handlers.data(socket, first);
  const pending = conn.read();
  assert.equal(await pending, first);
  const waiting = conn.read();
  socket.handlers.data(socket, second);
  assert.equal(await waiting, second);
  conn.close();
});

test("bun adapter (fake): a reader falling behind pauses the socket until it catches up", async () => {
  const { socket, conn } = await connected();
  for (let i = 0; i < 4; i++) socket.handlers.data(socket, new Uint8Array(1024 * 1024));
  assert.equal(socket.paused, true);
  for (let i = 0; i < 3; i++) await conn.read();
  assert.equal(socket.paused, true, "resumed with 1 MiB still buffered");
  await conn.read();
  assert.equal(socket.paused, false);
  conn.close();
});

test("bun adapter (fake): a reset fails pending and later reads with ConnectionClosedError", async () => {
  const { socket, conn } = await connected();
  const pending = conn.read();
  socket.closed = true;
  socket.handlers.close(socket, codeError("ECONNRESET", "connection reset by peer"));
  const error = await pending.catch((e) => e);
  assert.ok(error instanceof ConnectionClosedError);
  assert.match(error.message, /ECONNRESET/);
  await assert.rejects(conn.read(), ConnectionClosedError);
  assert.equal(await conn.closed, error);
});

test("bun adapter (fake): connectError ECONNREFUSED becomes ConnectionRefusedError", async () => {
  const bun = new FakeBun();
  const dial = createBunConnector(bun)({ host: "127.0.0.1", port: 9 });
  const { socket, settle } = bun.dials[0];
  const refused = codeError("ECONNREFUSED", "Failed to connect");
  socket.handlers.connectError(socket, refused);
  settle.reject(refused);
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof ConnectionRefusedError);
  assert.equal(error.cause, refused);
});

test("bun adapter (fake): TLS options are passed to Bun and the handshake gates the dial", async () => {
  const bun = new FakeBun();
  const dial = createBunConnector(bun)({
    host: "127.0.0.1",
    port: 9093,
    tls: { caCerts: ["CA"], cert: "CERT", key: "KEY", serverName: "kafka" },
  });
  assert.deepEqual(bun.dials[0].options.tls, {
    ca: ["CA"],
    cert: "CERT",
    key: "KEY",
    serverName: "kafka",
    rejectUnauthorized: true,
  });
  const socket = bun.open();
  const state = track(dial);
  await settle();
  assert.equal(state.settled, false, "resolved before the TLS handshake");
  socket.handlers.handshake(socket, true, null);
  const conn = await dial;
  assert.equal(conn.secure, true);
  conn.close();
});

test("bun adapter (fake): an untrusted certificate fails the dial with TlsError", async () => {
  const bun = new FakeBun();
  const dial = createBunConnector(bun)({ host: "h", port: 1, tls: { caCerts: ["CA"] } });
  const socket = bun.open();
  socket.handlers.handshake(
    socket,
    false,
    codeError("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"),
  );
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof TlsError);
  assert.match(error.message, /check caCerts/);
  assert.equal(error.kind, "untrusted");
  assert.equal(socket.closed, true);
});

test("bun adapter (fake): dangerouslyDisableVerification waves through certificate errors only", async () => {
  const bun = new FakeBun();
  const connector = createBunConnector(bun);
  const tls = { dangerouslyDisableVerification: true };
  const ok = connector({ host: "h", port: 1, tls });
  assert.equal(bun.dials[0].options.tls?.rejectUnauthorized, false);
  const first = bun.open(0);
  first.handlers.handshake(
    first,
    false,
    codeError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match"),
  );
  (await ok).close();
  const plain = connector({ host: "h", port: 1, tls });
  const second = bun.open(1);
  second.handlers.handshake(
    second,
    false,
    codeError("ECONNRESET", "socket disconnected before secure TLS connection"),
  );
  const error = await plain.catch((e) => e);
  assert.ok(error instanceof TlsError);
  assert.match(error.message, /PLAINTEXT listener/);
  assert.equal(error.kind, "not-tls");
});

test("bun adapter (fake): a close during the handshake gets the PLAINTEXT hint", async () => {
  const bun = new FakeBun();
  const dial = createBunConnector(bun)({ host: "h", port: 1, tls: {} });
  const socket = bun.open();
  socket.closed = true;
  socket.handlers.close(socket);
  const error = await dial.catch((e) => e);
  assert.ok(error instanceof TlsError);
  assert.match(error.message, /PLAINTEXT listener/);
  assert.equal(error.kind, "not-tls");
});

test("bun adapter (fake): a timed-out dial terminates the socket that opens late", async () => {
  const bun = new FakeBun();
  const clock = new FakeClock();
  const dial = createBunConnector(bun, clock)({ host: "h", port: 1, timeoutMs: 100 }).catch((e) =>
    e
  );
  clock.advance(100);
  assert.ok((await dial) instanceof TimeoutError);
  const late = bun.open();
  assert.equal(late.terminated, true);
  assert.equal(clock.pending, 0);
});

test("bun adapter (fake): createBunListen() queues accepted connections and stops on close", async () => {
  const bun = new FakeBun();
  const listener = await createBunListen(bun)({ port: 0 });
  assert.deepEqual(listener.addr, { hostname: "127.0.0.1", port: 40000 });
  const { handlers } = bun.listens[0];
  const socket = new FakeSocket(handlers);
  handlers.open(socket);
  const conn = await listener.accept();
  assert.ok(conn !== null);
  assert.equal(conn.secure, false);
  handlers.data(socket, new Uint8Array([4]));
  assert.deepEqual(await conn.read(), new Uint8Array([4]));
  const pending = listener.accept();
  listener.close();
  assert.equal(await pending, null);
  assert.equal(bun.listens[0].stopped, false, "accepted connections must stay open");
  conn.close();
});

test("bun adapter (fake): a TLS listener hands out connections only after a good handshake, and closes the rest", async () => {
  const bun = new FakeBun();
  const listener = await createBunListen(bun)({
    tls: { cert: "C", key: "K", caCerts: ["CA"], requestClientCert: true },
  });
  const { handlers, options } = bun.listens[0];
  assert.deepEqual(options.tls, {
    cert: "C",
    key: "K",
    ca: ["CA"],
    requestCert: true,
    rejectUnauthorized: true,
  });
  const rejected = new FakeSocket(handlers);
  handlers.open(rejected);
  handlers.handshake(rejected, false, codeError("EPROTO", "peer did not return a certificate"));
  assert.equal(rejected.closed, true);
  const good = new FakeSocket(handlers);
  handlers.open(good);
  const accepted = listener.accept();
  const state = track(accepted);
  await settle();
  assert.equal(state.settled, false);
  handlers.handshake(good, true, null);
  const conn = await accepted;
  assert.equal(conn?.secure, true);
  const silent = new FakeSocket(handlers);
  handlers.open(silent);
  listener.close();
  assert.equal(silent.closed, true, "a handshaking connection outlived its listener");
  assert.equal(good.closed, false, "an accepted connection was closed with the listener");
  conn?.close();
});

test("bun adapter (fake): an address in use is a ConfigError", async () => {
  const bun = new FakeBun();
  bun.listenError = codeError("EADDRINUSE", "Failed to listen at 127.0.0.1");
  const error = await createBunListen(bun)({ port: 9092 }).catch((e) => e);
  assert.ok(error instanceof ConfigError);
  assert.match(error.message, /in use/);
});

if (runtime === "deno") {
  test("bunConnector outside Bun fails with ConfigError", async () => {
    const error = await bunConnector({ host: "h", port: 1 }).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /denoConnector/);
  });
}
