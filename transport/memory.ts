/**
 * An in-memory connection pair with fault injection, for tests of everything above the
 * transport (framing, broker state machine, the test broker's in-memory mode) without sockets:
 * bytes can be re-chunked (whole writes, single bytes, random splits and merges), delayed on
 * an injectable clock, stalled and resumed, or the link cut mid-frame.
 *
 * @example
 * ```ts
 * import { memoryPair } from "./memory.ts";
 *
 * const { client, server, faults } = memoryPair({ chunking: "byte" });
 * await client.write(new Uint8Array([0, 0, 0, 2, 7, 7]));
 * await server.read(); // Uint8Array [0]: one byte per read
 * faults.cut(); // both ends fail with ConnectionClosedError, mid-frame
 * ```
 *
 * @module
 */

import { type Clock, type Random, systemClock, type TimerHandle } from "./clock.ts";
import type { Conn, ConnectOptions, Connector, NetAddr } from "./conn.ts";
import { checkConnectOptions, guardDial, targetOf } from "./dial.ts";
import { ConnCore } from "./conn_core.ts";
import {
  ConfigError,
  ConnectionClosedError,
  ConnectionRefusedError,
  type KafkaTransportError,
} from "./errors.ts";
import { Fifo } from "./fifo.ts";

/**
 * How written bytes are cut into the chunks `read()` returns: `"whole"` (each write as one
 * chunk), `"byte"` (one byte per read) or `"random"` (each read takes a random number of the
 * bytes that are ready, splitting writes and merging consecutive ones, as TCP may).
 */
export type MemoryChunking = "whole" | "byte" | "random";

/** Which way bytes flow: `"toServer"` (client writes), `"toClient"` (server writes), or both. */
export type MemoryDirection = "toServer" | "toClient" | "both";

/** Options of {@link memoryPair}. */
export interface MemoryPairOptions {
  /** How bytes are chunked on delivery; default `"whole"`. */
  chunking?: MemoryChunking;
  /** Source of the random split sizes for `"random"` chunking; default `Math.random`. */
  random?: Random;
  /** Each written chunk becomes readable this many milliseconds (of `clock`) later; default 0. */
  delayMs?: number;
  /** Time source for `delayMs` (and connect delays); default the real clock. */
  clock?: Clock;
  /**
   * Bytes that may wait unread in one direction before `write()` stops resolving (backpressure):
   * the write that takes the backlog past the limit is delivered at once, but its promise
   * settles only when the backlog is back within the limit, and later writes wait behind it.
   * Closing an end while the peer's write waits for room fails that write and the peer's
   * connection with a `ConnectionClosedError` (a reset). Default: unbounded.
   */
  bufferLimit?: number;
  /** The client end's address, as the server end's messages name it; default `memory:<ephemeral port>`. */
  clientAddr?: NetAddr;
  /** The server end's address, as the client end's messages name it; default `memory:9092`. */
  serverAddr?: NetAddr;
}

/** Controls the faults of one {@link memoryPair}; changes apply to bytes delivered from then on. */
export interface MemoryFaults {
  /** How bytes are chunked on delivery; may be changed at any time. */
  chunking: MemoryChunking;
  /** Delivery delay for chunks written from now on, in milliseconds of the pair's clock. */
  delayMs: number;
  /**
   * Stops delivering: written bytes pile up unread (writes still resolve while within
   * `bufferLimit`) and pending reads wait, as on a congested link.
   *
   * @param direction Which way to stall; both when omitted.
   */
  stall(direction?: MemoryDirection): void;
  /**
   * Delivers again what piled up during {@link MemoryFaults.stall}, in order.
   *
   * @param direction Which way to resume; both when omitted.
   */
  resume(direction?: MemoryDirection): void;
  /**
   * Breaks the link abruptly: undelivered bytes are lost, and pending and later reads and
   * writes on both ends reject with a {@link ConnectionClosedError}, even mid-frame. Both ends'
   * `closed` settle with that error.
   */
  cut(): void;
  /**
   * Counts the backlog of one direction, e.g. to see bytes pile up during a stall.
   *
   * @param direction `"toServer"` or `"toClient"`.
   * @returns How many bytes were written that way and not read yet.
   */
  pendingBytes(direction: "toServer" | "toClient"): number;
}

/** The two ends of an in-memory connection and its fault controls. */
export interface MemoryPair {
  /** The dialling end. */
  client: Conn;
  /** The accepting end. */
  server: Conn;
  /** Fault injection for the link between them. */
  faults: MemoryFaults;
}

/** Options of {@link memoryConnector}: those of every pair it makes, plus a connect delay. */
export interface MemoryConnectorOptions extends MemoryPairOptions {
  /**
   * How long each dial takes, in milliseconds of `clock`, so that connect timeouts and aborts
   * can be tested; default 0.
   */
  connectDelayMs?: number;
}

/** A written chunk waiting to be read. */
interface Segment {
  bytes: Uint8Array;
  /** When it becomes readable, on the pair's clock. */
  readyAt: number;
}

interface PendingWrite {
  resolve: () => void;
  reject: (error: KafkaTransportError) => void;
}

/** Settings shared by both ends of a pair, changed through {@link MemoryFaults}. */
interface LinkSettings {
  chunking: MemoryChunking;
  delayMs: number;
  random: Random;
  clock: Clock;
  bufferLimit: number;
}

const CHUNKINGS: readonly MemoryChunking[] = ["whole", "byte", "random"];

function checkChunking(chunking: MemoryChunking): MemoryChunking {
  if (!CHUNKINGS.includes(chunking)) {
    throw new ConfigError(
      `Invalid chunking ${JSON.stringify(chunking)}: expected "whole", "byte" or "random"`,
    );
  }
  return chunking;
}

function checkMillis(name: string, value: number): number {
  if (!(value >= 0 && Number.isFinite(value))) {
    throw new ConfigError(`Invalid ${name} ${value}: expected a finite number of ms >= 0`);
  }
  return value;
}

let nextEphemeralPort = 49152;

function ephemeralAddr(): NetAddr {
  const port = nextEphemeralPort;
  nextEphemeralPort = port === 65535 ? 49152 : port + 1;
  return { hostname: "memory", port };
}

/** One end of an in-memory connection; it owns the bytes travelling towards it. */
class MemoryConn extends ConnCore {
  readonly #link: LinkSettings;
  #peer!: MemoryConn;
  // Inbound bytes, from segment `#head`, offset `#offset` within it.
  readonly #segments = new Fifo<Segment>();
  #offset = 0;
  #inbound = 0;
  #stalled = false;
  /** The peer closed: after the inbound bytes, reads see end of stream. */
  #peerDone = false;
  /** Cut by {@link MemoryFaults.cut}: both ends fail on their own, the peer sees no FIN. */
  #severed = false;
  #timer: TimerHandle = undefined;
  /** The peer's writes waiting for this end's backlog to shrink to the limit. */
  #drainWaiters: PendingWrite[] = [];

  constructor(link: LinkSettings, remoteAddr: NetAddr) {
    super(targetOf(remoteAddr.hostname, remoteAddr.port), false);
    this.#link = link;
  }

  /** Creates two connected ends and the faults object driving them. */
  static pair(options: MemoryPairOptions): MemoryPair {
    const link: LinkSettings = {
      chunking: checkChunking(options.chunking ?? "whole"),
      delayMs: checkMillis("delayMs", options.delayMs ?? 0),
      random: options.random ?? Math.random,
      clock: options.clock ?? systemClock,
      bufferLimit: options.bufferLimit ?? Infinity,
    };
    if (!(link.bufferLimit > 0)) {
      throw new ConfigError(
        `Invalid bufferLimit ${options.bufferLimit}: expected a positive number of bytes`,
      );
    }
    const clientAddr = options.clientAddr ?? ephemeralAddr();
    const serverAddr = options.serverAddr ?? { hostname: "memory", port: 9092 };
    const client = new MemoryConn(link, serverAddr);
    const server = new MemoryConn(link, clientAddr);
    client.#peer = server;
    server.#peer = client;
    const ends = (direction: MemoryDirection = "both"): MemoryConn[] =>
      direction === "both" ? [server, client] : [direction === "toServer" ? server : client];
    const faults: MemoryFaults = {
      get chunking(): MemoryChunking {
        return link.chunking;
      },
      set chunking(value: MemoryChunking) {
        link.chunking = checkChunking(value);
      },
      get delayMs(): number {
        return link.delayMs;
      },
      set delayMs(value: number) {
        link.delayMs = checkMillis("delayMs", value);
      },
      stall(direction?: MemoryDirection): void {
        for (const end of ends(direction)) end.#stall();
      },
      resume(direction?: MemoryDirection): void {
        for (const end of ends(direction)) end.#resume();
      },
      cut(): void {
        const error = new ConnectionClosedError(
          `Connection between ${targetOf(clientAddr.hostname, clientAddr.port)} and ` +
            `${targetOf(serverAddr.hostname, serverAddr.port)} was cut (MemoryFaults.cut())`,
        );
        client.#severed = true;
        server.#severed = true;
        client.fail(error);
        server.fail(error);
      },
      pendingBytes(direction: "toServer" | "toClient"): number {
        return (direction === "toServer" ? server : client).#inbound;
      },
    };
    return { client, server, faults };
  }

  protected send(bytes: Uint8Array): Promise<void> | undefined {
    const peer = this.#peer;
    if (peer.ending !== null) {
      throw new ConnectionClosedError(
        `Cannot write to ${this.target}: the peer closed the connection`,
      );
    }
    // A copy: the caller may reuse `bytes` once the write resolves, long before it is read.
    peer.#segments.push({
      bytes: bytes.slice(),
      readyAt: this.#link.clock.now() + this.#link.delayMs,
    });
    peer.#inbound += bytes.length;
    peer.#deliver();
    if (peer.#inbound <= this.#link.bufferLimit) return undefined;
    return new Promise((resolve, reject) => peer.#drainWaiters.push({ resolve, reject }));
  }

  protected ioError(error: unknown): KafkaTransportError {
    return error as KafkaTransportError; // Memory raises only its own errors.
  }

  protected override pull(): void {
    this.#deliver();
  }

  /**
   * Nothing more is read or written here: the peer reads what is on its way, then end of
   * stream (a FIN); writes of the peer still waiting for room in this end's backlog fail, as
   * on a link reset.
   */
  protected release(): void {
    this.#clearTimer();
    this.#segments.drain();
    this.#offset = 0;
    this.#inbound = 0;
    const lost = this.#drainWaiters.splice(0);
    if (lost.length > 0) {
      const error = new ConnectionClosedError(
        `Connection to ${this.#peer.target} was reset: the peer closed it with bytes unread`,
      );
      for (const waiter of lost) waiter.reject(error);
    }
    if (this.#severed) return;
    const peer = this.#peer;
    peer.#peerDone = true;
    peer.#deliver();
  }

  /** Takes the next chunk that is ready, cut per the chunking mode, or returns null. */
  #take(): Uint8Array | null {
    const first = this.#segments.peek();
    if (first === undefined) return null;
    const now = this.#link.clock.now();
    if (first.readyAt > now) return null;
    const available = first.bytes.length - this.#offset;
    let size: number;
    switch (this.#link.chunking) {
      case "whole":
        size = available;
        break;
      case "byte":
        size = 1;
        break;
      case "random": {
        let ready = available;
        const segments = this.#segments;
        for (let i = 1; i < segments.length; i++) {
          const segment = segments.at(i)!;
          if (segment.readyAt > now) break;
          ready += segment.bytes.length;
        }
        size = 1 + Math.min(ready - 1, Math.floor(this.#link.random() * ready));
        break;
      }
    }
    const chunk = size <= available
      ? first.bytes.subarray(this.#offset, this.#offset + size)
      : this.#gather(size);
    if (size <= available) this.#advance(size);
    this.#inbound -= size;
    this.#releaseWriters();
    return chunk;
  }

  /** Copies `size` bytes spanning several segments into one chunk, consuming them. */
  #gather(size: number): Uint8Array {
    const chunk = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const segment = this.#segments.peek()!.bytes;
      const n = Math.min(size - filled, segment.length - this.#offset);
      chunk.set(segment.subarray(this.#offset, this.#offset + n), filled);
      filled += n;
      this.#advance(n);
    }
    return chunk;
  }

  #advance(n: number): void {
    this.#offset += n;
    if (this.#offset < this.#segments.peek()!.bytes.length) return;
    this.#offset = 0;
    this.#segments.shift();
  }

  #releaseWriters(): void {
    if (this.#drainWaiters.length === 0 || this.#inbound > this.#link.bufferLimit) return;
    for (const waiter of this.#drainWaiters.splice(0)) waiter.resolve();
  }

  /** Hands what is ready (or end of stream) to a pending read, or arms the delay timer. */
  #deliver(): void {
    if (!this.reading || this.#stalled) return;
    const chunk = this.#take();
    if (chunk !== null) {
      this.push(chunk);
    } else if (this.#peerDone && this.#inbound === 0) {
      this.endOfInput();
    } else {
      this.#armTimer();
    }
  }

  /** One timer at most, for the head segment, and only while a read waits for it. */
  #armTimer(): void {
    const head = this.#segments.peek();
    if (this.#timer !== undefined || this.#stalled || head === undefined) return;
    const clock = this.#link.clock;
    const wait = head.readyAt - clock.now();
    if (wait <= 0) return;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#deliver();
    }, wait);
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#link.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #stall(): void {
    this.#stalled = true;
    this.#clearTimer();
  }

  #resume(): void {
    this.#stalled = false;
    this.#deliver();
  }
}

/**
 * Creates a connected pair of in-memory {@link Conn}s. What one end writes, the other reads,
 * in order, chunked and delayed as `options` and the returned {@link MemoryFaults} say.
 * `close()` on one end lets the other read what was already written, then `null`.
 *
 * @param options Chunking, delay, clock, backlog limit and addresses.
 * @returns Both ends and the fault controls.
 * @throws {ConfigError} When an option is out of range.
 */
export function memoryPair(options: MemoryPairOptions = {}): MemoryPair {
  return MemoryConn.pair(options);
}

function sleep(clock: Clock, ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abort.reason);
    };
    const timer = clock.setTimeout(() => {
      abort.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    abort.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Makes a {@link Connector} that, for each dial, creates a {@link memoryPair} (with `options`)
 * and hands the server end to `accept`, e.g. the test broker's in-memory mode. The client end's
 * messages name the dialled host and port. `timeoutMs` and `signal` are honoured
 * during `connectDelayMs`.
 *
 * @param accept Receives each new server end and its faults. If it throws, the dial fails with
 *   a `ConnectionRefusedError` (a broker that is down).
 * @param options Settings for every pair, plus the connect delay.
 * @returns The connector; it rejects with `ConfigError` when `tls` is requested (memory
 *   connections cannot be encrypted).
 */
export function memoryConnector(
  accept: (server: Conn, faults: MemoryFaults) => void,
  options: MemoryConnectorOptions = {},
): Connector {
  const clock = options.clock ?? systemClock;
  const connectDelayMs = checkMillis("connectDelayMs", options.connectDelayMs ?? 0);
  return (connect: ConnectOptions): Promise<Conn> => {
    try {
      checkConnectOptions(connect);
    } catch (error) {
      return Promise.reject(error);
    }
    const target = targetOf(connect.host, connect.port);
    if (connect.tls !== undefined) {
      return Promise.reject(
        new ConfigError(
          `Cannot dial ${target} with TLS through memoryConnector: in-memory connections are ` +
            "never encrypted; drop tls from the connect options or use a socket connector",
        ),
      );
    }
    return guardDial<Conn>(target, connect, clock, async (abort) => {
      if (connectDelayMs > 0) await sleep(clock, connectDelayMs, abort);
      const pair = memoryPair({
        ...options,
        serverAddr: { hostname: connect.host, port: connect.port },
      });
      try {
        accept(pair.server, pair.faults);
      } catch (error) {
        pair.client.close();
        pair.server.close();
        throw new ConnectionRefusedError(
          `Connection to ${target} refused by the in-memory acceptor (${
            error instanceof Error ? error.message : String(error)
          })`,
          { cause: error },
        );
      }
      return pair.client;
    }, (late) => late.close());
  };
}
