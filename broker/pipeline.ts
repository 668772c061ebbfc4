/**
 * The request pipeline of a broker connection: the out queue and the setup queue, the
 * in-flight table with its orphans and the correlation counter, batching into one output
 * buffer, reply matching, timeouts, settling and draining. It writes to whichever socket the
 * connection attached last and knows nothing of dialling or states beyond what its host tells.
 *
 * @module
 */

import { DecodeError } from "../framing/errors.ts";
import {
  type RequestHeader,
  skipResponseHeaderTags,
  writeRequestHeader,
} from "../framing/header.ts";
import { Reader } from "../framing/reader.ts";
import type { Writer } from "../framing/writer.ts";
import { type ApiSpec, isFlexible, responseHeaderFlexible } from "../protocol/api.ts";
import { asKafkaError, type KafkaTransportError } from "../transport/errors.ts";
import { QueueAdmission } from "./admission.ts";
import { DeadlineTimer } from "./deadline.ts";
import { RequestTimeoutError } from "./errors.ts";
import { Fifo } from "./fifo.ts";
import { emitBytes, emitRequest } from "./hooks.ts";
import { InFlightTable } from "./in_flight.ts";
import type { ResolvedBrokerOptions } from "./options.ts";
import { COALESCE_LIMIT, OutBuffer } from "./out_buffer.ts";
import { Batch, IN_FLIGHT, type Pending, QUEUED, WRITING } from "./pending.ts";
import type { BrokerSocket } from "./socket.ts";
import type { Counters } from "./stats.ts";
import type { TurnClock } from "./turn_clock.ts";
import {
  encodeFailure,
  frameRelative,
  partlyWrittenTimeoutError,
  setupTimeoutError,
  socketMaxFailsError,
} from "./wording.ts";

/** What the pipeline needs from the connection it serves. */
export interface PipelineHost {
  /** Whether ordinary requests may be written (state UP). */
  isUp(): boolean;
  /** The connection's "(after N ms in state X)" suffix. */
  where(): string;
  /**
   * Picks the version of a `send()` when it is written: the one place versions are chosen.
   *
   * @param api The codec.
   * @returns The version; throws `UnsupportedVersionError` when none is common.
   */
  versionOf(api: ApiSpec<unknown, unknown>): number;
  /**
   * Why a queued request timed out, for its message, and the failure to give as its cause.
   *
   * @returns The reason and the cause.
   */
  queuedTimeout(): { reason: string; cause: KafkaTransportError | null };
  /**
   * A request was queued while the connection is not up.
   *
   * @param reason Why a connection is wanted.
   */
  wantConnection(reason: string): void;
  /**
   * Timeouts call for a new connection: fail this one.
   *
   * @param error Why.
   */
  teardown(error: KafkaTransportError): void;
  /**
   * A write on `socket` failed.
   *
   * @param socket The socket written to.
   * @param error What the write rejected with.
   */
  writeFailed(socket: BrokerSocket, error: unknown): void;
}

/** The queue, the in-flight table and the writes of one broker connection. */
export class Pipeline {
  readonly #o: ResolvedBrokerOptions;
  readonly #host: PipelineHost;
  readonly #counters: Counters;
  readonly #admission: QueueAdmission;
  readonly #timer: DeadlineTimer;
  readonly #turn: TurnClock;

  #socket: BrokerSocket | null = null;
  readonly #queue = new Fifo<Pending>();
  /**
   * Whether the queue's deadlines rise from front to back, as they do while every request has
   * the same timeout: the timeout scan then takes expired requests off the front instead of
   * walking the whole queue (which a long outage with a steady producer would make costly).
   */
  #queueOrdered = true;
  /** The deadline of the request queued last, to keep {@link #queueOrdered} up to date. */
  #queueTailDeadline = -Infinity;
  #setupQueue: Pending[] = [];
  readonly #inFlight = new InFlightTable();
  #queued = 0;
  /** Ordinary requests accepted and not yet settled. */
  #outstanding = 0;
  readonly #out = new OutBuffer();
  /**
   * The requests of the batch being written, in encoding order: one array for every batch (one
   * write is outstanding at a time), so a batch does not regrow an array of its own.
   */
  #batchItems: (Pending | undefined)[] = [];
  #batchSize = 0;
  /** The other array: settling a written batch may start the next one before it is done. */
  #spareItems: (Pending | undefined)[] = [];
  #writing = false;
  #pumpScheduled = false;
  #consecutiveTimeouts = 0;
  #lastActivity = 0;
  readonly #header: RequestHeader;
  /** Reset onto each reply: codecs read synchronously and do not keep their reader. */
  readonly #reader = new Reader(new Uint8Array(0));
  #drainWaiter: { resolve: () => void; reject: (e: KafkaTransportError) => void } | null = null;
  #onEmpty: (() => void) | null = null;

  /**
   * Creates an empty pipeline.
   *
   * @param o The connection's options.
   * @param host The connection.
   * @param counters The connection's counters.
   * @param turn The clock reading shared within a turn (write and write-completion times).
   */
  constructor(
    o: ResolvedBrokerOptions,
    host: PipelineHost,
    counters: Counters,
    turn: TurnClock,
  ) {
    this.#o = o;
    this.#turn = turn;
    this.#host = host;
    this.#counters = counters;
    this.#admission = new QueueAdmission(o.maxQueued);
    this.#timer = new DeadlineTimer(o.clock, this.#scanTimeouts);
    this.#header = { apiKey: 0, apiVersion: 0, correlationId: 0, clientId: o.clientId };
  }

  /** Requests waiting to be written. */
  get queued(): number {
    return this.#queued;
  }

  /** Requests written and awaiting replies. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Ordinary requests accepted and not yet settled. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** When bytes last moved. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /** The line for room in a full queue. */
  get admission(): QueueAdmission {
    return this.#admission;
  }

  /** Whether nothing is queued, in flight or being written. */
  get idle(): boolean {
    return this.#outstanding === 0 && this.#inFlight.size === 0 && !this.#writing;
  }

  /**
   * Whether a new request must wait for queue room.
   *
   * @returns `true` when the queue is full or others wait for room first.
   */
  mustWait(): boolean {
    return this.#admission.mustWait(this.#queued);
  }

  /**
   * Attaches a newly dialled socket: setup requests and then ordinary ones are written to it.
   *
   * @param socket The socket.
   */
  attach(socket: BrokerSocket): void {
    this.#socket = socket;
    this.#consecutiveTimeouts = 0;
  }

  /**
   * Marks activity (a read, or reaching UP) for idle reaping.
   *
   * @param now The time.
   */
  touch(now: number): void {
    this.#lastActivity = now;
  }

  /**
   * Queues an ordinary request.
   *
   * @param p The request.
   */
  enqueue(p: Pending): void {
    if (this.#queue.length === 0) this.#queueOrdered = true;
    else if (p.deadline < this.#queueTailDeadline) this.#queueOrdered = false;
    this.#queueTailDeadline = p.deadline;
    this.#queue.push(p);
    this.#queued++;
    this.#outstanding++;
    this.#timer.arm(p.deadline);
    if (this.#host.isUp()) this.schedulePump();
    else this.#host.wantConnection("request queued");
  }

  /**
   * Queues a setup request ahead of ordinary requests.
   *
   * @param p The request.
   */
  enqueueSetup(p: Pending): void {
    this.#setupQueue.push(p);
    this.#timer.arm(p.deadline);
    this.schedulePump();
  }

  /**
   * Waits until nothing is in flight (re-authentication). Bounded by the requests' own
   * timeouts, which settle them; rejected when the socket is lost.
   *
   * @returns Resolves once the in-flight table is empty.
   */
  drainInFlight(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiter = { resolve, reject };
      this.schedulePump();
    });
  }

  /**
   * Calls `fn` once no ordinary request is outstanding (graceful close).
   *
   * @param fn Called once, or never if replaced with `null`.
   */
  onEmpty(fn: (() => void) | null): void {
    this.#onEmpty = fn;
  }

  /**
   * Settles a request exactly once and tells the hook.
   *
   * @param p The request.
   * @param error Its error, or `null` for success.
   * @param value Its value on success.
   * @param repliedAt When its reply arrived, for the hook; -1 without one.
   */
  settle(p: Pending, error: KafkaTransportError | null, value: unknown, repliedAt = -1): void {
    if (p.settled) return;
    p.settled = true;
    if (p.onAbort !== null) {
      p.signal?.removeEventListener("abort", p.onAbort);
      p.onAbort = null;
    }
    if (!p.setup) {
      this.#outstanding--;
      if (p.stage === QUEUED) {
        this.#queued--;
        this.#admission.wake(this.#queued);
      }
    }
    // Settled before its reply: free the slot at once and remember the id for the reply.
    if (p.stage !== QUEUED && this.#inFlight.release(p)) this.schedulePump();
    // Without a socket nothing else keeps the process alive, so the timer must not either.
    if (this.#socket === null) this.#disarmIfIdle();
    if (error === null) p.resolve(value);
    else p.reject(error);
    const onRequest = this.#o.hooks.onRequest;
    if (onRequest !== undefined) emitRequest(onRequest, p, error, repliedAt);
    if (this.#onEmpty !== null && this.#outstanding === 0) this.#onEmpty();
  }

  /**
   * Drops the socket: fails what is in flight or in the setup queue with `error`; queued
   * requests stay for the next socket.
   *
   * @param error Why.
   */
  detach(error: KafkaTransportError): void {
    this.#socket = null;
    this.#out.socketLost(this.#writing);
    this.#writing = false;
    this.#drainWaiter?.reject(error);
    this.#drainWaiter = null;
    for (const p of this.#inFlight.clear()) this.settle(p, error, undefined);
    const setup = this.#setupQueue;
    this.#setupQueue = [];
    for (const p of setup) this.settle(p, error, undefined);
  }

  /**
   * Fails every queued request.
   *
   * @param error The error for each.
   */
  failQueued(error: KafkaTransportError): void {
    for (const p of this.#queue.drain()) this.settle(p, error, undefined);
  }

  /** Clears the request timer once nothing has a deadline (the connection is down). */
  disarmIfIdle(): void {
    this.#disarmIfIdle();
  }

  /** Stops the request timer for good (final close). */
  stop(): void {
    this.#timer.disarm();
  }

  /** Writes what may be written, in a microtask, so a burst goes out in one write. */
  schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(this.#pump);
  }

  /**
   * Matches one reply frame to its request and settles it. The frame is read in place, with
   * the one reader of the pipeline, so a reply allocates nothing before its codec runs.
   *
   * @param buf The bytes holding the frame.
   * @param start Where its body (after the size prefix) starts: at least 4 bytes before `end`
   *   (the decoder's minimum).
   * @param end Where it ends.
   * @param now When the chunk holding it arrived.
   * @returns Whether it answered a setup request.
   */
  reply(buf: Uint8Array, start: number, end: number, now: number): boolean {
    const id = ((buf[start] << 24) | (buf[start + 1] << 16) | (buf[start + 2] << 8) |
      buf[start + 3]) | 0;
    const p = this.#inFlight.take(id);
    const c = this.#counters;
    if (p === undefined) {
      if (this.#inFlight.claimOrphan(id)) {
        this.#consecutiveTimeouts = 0;
        c.discardedReplies++;
      } else c.unknownReplies++;
      return false;
    }
    this.#consecutiveTimeouts = 0;
    p.bytesIn = end - start + 4;
    const batch = p.batch!;
    if (batch.writtenAt < 0) batch.writtenAt = now;
    if (p.stage === WRITING) p.stage = IN_FLIGHT;
    c.rtt.record(now - batch.sentAt);
    c.replied++;
    let value: unknown;
    try {
      const r = this.#reader.reset(buf, start + 4, end);
      skipResponseHeaderTags(r, responseHeaderFlexible(p.apiKey, p.flexible));
      value = p.api !== null ? p.api.decodeResponse(r, p.apiVersion) : p.decodeBody!(r);
    } catch (error) {
      // Frames are length-delimited, so a bad body fails only this request; the stream is fine.
      this.settle(
        p,
        error instanceof DecodeError
          ? frameRelative(error, start)
          : asKafkaError(error, `Decoding ${p.apiName} v${p.apiVersion} response`),
        undefined,
        now,
      );
      return p.setup;
    }
    this.settle(p, null, value, now);
    return p.setup;
  }

  /**
   * Only needed without a socket: while connected, the socket keeps the process alive anyway,
   * and a timer left armed fires once and finds nothing, which is cheaper than clearing and
   * re-arming it for every burst of requests.
   */
  #disarmIfIdle(): void {
    if (
      this.#timer.armed && this.#outstanding === 0 && this.#inFlight.size === 0 &&
      this.#setupQueue.length === 0
    ) this.#timer.disarm();
  }

  /**
   * Writes what may be written now: setup requests alone, ordinary ones in UP, coalesced into
   * one write. Only one write is outstanding at a time, so the batch is encoded straight into
   * the output writer and sent as a view of it.
   */
  readonly #pump = (): void => {
    this.#pumpScheduled = false;
    const socket = this.#socket;
    if (socket === null || this.#writing) return;
    const inFlight = this.#inFlight;
    const w = this.#out.next();
    // A batch whose write never completed (its socket was lost) lets go of its requests here.
    this.#clearBatch();
    const batch = new Batch();
    if (this.#setupQueue.length > 0) {
      // Setup requests go one at a time, never beside other requests (max in-flight 1).
      if (inFlight.size > 0) return;
      this.#addToBatch(w, batch, this.#setupQueue.shift()!);
    } else if (this.#host.isUp()) {
      let room = this.#o.maxInFlight - inFlight.size;
      if (room <= 0 || this.#queued === 0) return;
      const queue = this.#queue;
      // The batch may end one frame past the limit: a frame is only measured once encoded.
      while (room > 0 && w.length < COALESCE_LIMIT) {
        const p = queue.shift();
        if (p === undefined) break;
        // Settled while queued (aborted, timed out): settle() already counted it out.
        if (p.settled) continue;
        if (this.#addToBatch(w, batch, p) && p.expectResponse) room--;
      }
      this.#admission.wake(this.#queued);
    } else {
      if (this.#drainWaiter !== null && inFlight.size === 0) {
        const waiter = this.#drainWaiter;
        this.#drainWaiter = null;
        waiter.resolve();
      }
      return;
    }
    if (this.#batchSize === 0) return;
    this.#out.batchDone();
    this.#write(socket, batch, w.finish());
  };

  /**
   * Encodes one request into the batch with the next correlation id and registers it as in
   * flight. A `send()` gets its version here; a request whose version or body fails is settled
   * with the error and left out. Requests are encoded only when written, straight into the
   * buffer the write sends, so a request's bytes are produced once and never copied.
   *
   * @returns Whether the request joined the batch.
   */
  #addToBatch(w: Writer, batch: Batch, p: Pending): boolean {
    const id = this.#inFlight.nextId;
    const start = w.length;
    let step = "Choosing the version of";
    try {
      if (p.apiVersion < 0) {
        const api = p.api!;
        const version = this.#host.versionOf(api);
        p.apiVersion = version;
        p.flexible = isFlexible(api, version);
      }
      step = "Encoding";
      w.int32(0);
      // One header object for every request: writeRequestHeader only reads it.
      const header = this.#header;
      header.apiKey = p.apiKey;
      header.apiVersion = p.apiVersion;
      header.correlationId = id;
      writeRequestHeader(w, header, p.flexible);
      if (p.api !== null) p.api.encodeRequest(w, p.request, p.apiVersion);
      else p.encodeBody!(w);
      w.patchInt32(start, w.length - start - 4);
    } catch (error) {
      w.truncate(start);
      const what = p.apiVersion >= 0
        ? `${step} ${p.apiName} v${p.apiVersion} request`
        : `${step} ${p.apiName} request`;
      this.settle(p, encodeFailure(error, what, p.apiName, p.api !== null), undefined);
      return false;
    }
    if (!p.setup) this.#queued--;
    p.stage = WRITING;
    p.bytesOut = w.length - start;
    this.#inFlight.add(p);
    p.batch = batch;
    this.#batchItems[this.#batchSize++] = p;
    return true;
  }

  /** Writes an encoded batch in one call and tracks it until the runtime accepted it. */
  #write(socket: BrokerSocket, batch: Batch, bytes: Uint8Array): void {
    batch.sentAt = this.#turn.now();
    this.#writing = true;
    this.#counters.writes++;
    this.#counters.sent += this.#batchSize;
    const total = bytes.length;
    socket.write(bytes).then(
      () => this.#onWritten(socket, batch, total),
      (error) => {
        if (socket === this.#socket) this.#host.writeFailed(socket, error);
      },
    );
  }

  #onWritten(socket: BrokerSocket, batch: Batch, total: number): void {
    if (socket !== this.#socket) return;
    const now = this.#turn.now();
    this.#writing = false;
    this.#counters.bytesOut += total;
    this.#lastActivity = now;
    const onBytes = this.#o.hooks.onBytes;
    if (onBytes !== undefined) emitBytes(onBytes, "out", total);
    batch.writtenAt = now;
    const items = this.#batchItems;
    const n = this.#batchSize;
    this.#batchItems = this.#spareItems;
    this.#spareItems = items;
    this.#batchSize = 0;
    for (let i = 0; i < n; i++) {
      const p = items[i]!;
      items[i] = undefined;
      if (p.stage === WRITING) p.stage = IN_FLIGHT;
      if (!p.expectResponse) {
        this.#inFlight.remove(p);
        this.settle(p, null, undefined);
      }
    }
    this.#pump();
  }

  #clearBatch(): void {
    const items = this.#batchItems;
    for (let i = 0; i < this.#batchSize; i++) items[i] = undefined;
    this.#batchSize = 0;
  }

  /**
   * The one request timer: fails every expired request, then re-arms for the earliest
   * remaining deadline.
   */
  readonly #scanTimeouts = (): void => {
    const now = this.#o.clock.now();
    const host = this.#host;
    const where = host.where();
    let next = Infinity;
    let teardown: KafkaTransportError | null = null;
    let expiredInFlight = 0;
    let queuedWhy: { reason: string; cause: KafkaTransportError | null } | null = null;
    const expire = (p: Pending): void => {
      this.#counters.timedOut++;
      queuedWhy ??= host.queuedTimeout();
      this.settle(
        p,
        new RequestTimeoutError(p, true, where, queuedWhy.cause, queuedWhy.reason),
        undefined,
      );
    };
    const queue = this.#queue;
    if (this.#queueOrdered) {
      // Deadlines rise from the front: only the front can have expired.
      for (let p = queue.peek(); p !== undefined; p = queue.peek()) {
        if (!p.settled && p.deadline > now) {
          next = p.deadline;
          break;
        }
        queue.shift();
        if (!p.settled) expire(p);
      }
    } else {
      let ordered = true;
      let last = -Infinity;
      queue.retain((p) => {
        if (p.settled) return false;
        if (p.deadline <= now) {
          expire(p);
          return false;
        }
        if (p.deadline < next) next = p.deadline;
        if (p.deadline < last) ordered = false;
        last = p.deadline;
        return true;
      });
      // The requests with shorter timeouts usually expire first, which restores the order.
      this.#queueOrdered = ordered;
      this.#queueTailDeadline = last;
    }
    for (const p of this.#setupQueue) {
      if (p.deadline <= now) teardown ??= setupTimeoutError(p, where);
      else if (p.deadline < next) next = p.deadline;
    }
    for (const p of this.#inFlight.values()) {
      if (p.settled) continue;
      if (p.deadline > now) {
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      this.#counters.timedOut++;
      this.settle(p, new RequestTimeoutError(p, false, where), undefined);
      if (p.setup) teardown ??= setupTimeoutError(p, where);
      else if (p.stage === WRITING) {
        // Another request written after a partly written one would be spliced into it.
        teardown ??= partlyWrittenTimeoutError(p, where);
      } else expiredInFlight++;
    }
    if (teardown === null && expiredInFlight > 0) {
      this.#consecutiveTimeouts += expiredInFlight;
      const limit = this.#o.socketMaxFails;
      if (limit > 0 && this.#consecutiveTimeouts >= limit) {
        teardown = socketMaxFailsError(this.#consecutiveTimeouts, limit, where);
      }
    }
    if (teardown !== null) host.teardown(teardown);
    // Deadlines that remain re-arm the timer. The teardown settled what was in flight, so
    // `next` may belong to a settled request: re-arm only while something still waits (an
    // early firing then just re-arms for the real next deadline).
    const waiting = this.#outstanding > 0 || this.#inFlight.size > 0 ||
      this.#setupQueue.length > 0;
    if (next < Infinity && waiting) this.#timer.arm(next);
  };
}
