/**
 * One socket of a broker connection, from the dial that made it to its loss: the `Conn`, its
 * frame decoder and read loop, the connection-setup timer, the legacy SASL exchange and a loss
 * held back behind a setup reply. A new one is made on every dial and dropped with its socket,
 * so whatever it reports after that is recognised by identity (`socket === current`) and ignored.
 *
 * @module
 */

import { FrameDecoder } from "../framing/decoder.ts";
import { AuthenticationError } from "../sasl/mechanism.ts";
import type { Clock, TimerHandle } from "../transport/clock.ts";
import type { Conn } from "../transport/conn.ts";
import type { KafkaTransportError } from "../transport/errors.ts";

/** The smallest reply frame: its correlation id. */
const MIN_REPLY_SIZE = 4;

/** What a socket reports to the connection that dialled it. */
export interface SocketOwner {
  /**
   * One reply frame (outside legacy SASL), in place: its body (after the size prefix) is
   * `buf[start..end)`, at least 4 bytes, valid during the call only.
   *
   * @param buf The bytes holding it.
   * @param start Where the body starts.
   * @param end Where it ends.
   * @param now When the chunk holding it arrived.
   * @returns Whether it answered a setup request.
   */
  reply(buf: Uint8Array, start: number, end: number, now: number): boolean;
  /**
   * A chunk was read.
   *
   * @param bytes Its length.
   * @returns The time it arrived, read once for every frame in it.
   */
  received(bytes: number): number;
  /** Every frame of the last chunk was handled. */
  chunkDone(): void;
  /**
   * The read loop ended.
   *
   * @param socket This socket.
   * @param error What `read()` or the decoder threw, or `null` for a clean close by the peer.
   */
  readEnded(socket: BrokerSocket, error: unknown): void;
}

/** A socket's part of a broker connection, from the start of its dial. */
export class BrokerSocket {
  #conn: Conn | null = null;
  readonly #dial = new AbortController();
  readonly #owner: SocketOwner;
  readonly #clock: Clock;
  readonly #maxFrameSize: number;
  #decoder: FrameDecoder;
  #dead = false;
  #setupTimer: TimerHandle | null = null;
  /** Set while AUTH_LEGACY: raw token frames, which have no correlation id, go here. */
  #legacy = false;
  #legacyWaiter:
    | { resolve: (frame: Uint8Array) => void; reject: (e: KafkaTransportError) => void }
    | null = null;
  /** A setup reply was delivered and the setup steps have not acted on it yet. */
  #setupReplyPending = false;
  /** A loss held back until the setup steps act on the reply before it. */
  #deferredLoss: KafkaTransportError | null = null;

  /**
   * Starts a socket's life as a dial; {@link BrokerSocket.open} gives it the connection.
   *
   * @param owner Who is told about replies and the end of the read loop.
   * @param clock The time source (setup timer).
   * @param maxFrameSize The largest reply accepted.
   */
  constructor(owner: SocketOwner, clock: Clock, maxFrameSize: number) {
    this.#owner = owner;
    this.#clock = clock;
    this.#maxFrameSize = maxFrameSize;
    this.#decoder = new FrameDecoder({ maxFrameSize, minFrameSize: MIN_REPLY_SIZE });
  }

  /** Whether the connection has dropped this socket. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Whether a legacy SASL token awaits the broker's answer (a hang-up then refuses it). */
  get awaitingLegacyReply(): boolean {
    return this.#legacyWaiter !== null;
  }

  /** Aborts the dial when the socket is dropped before the connector resolved. */
  get dialSignal(): AbortSignal {
    return this.#dial.signal;
  }

  /**
   * Takes the dialled connection.
   *
   * @param conn What the connector resolved with.
   * @returns `false` (and closes it) when the socket was dropped meanwhile.
   */
  open(conn: Conn): boolean {
    this.#conn = conn;
    if (!this.#dead) return true;
    closeQuietly(conn, undefined);
    return false;
  }

  /** Starts the read loop. */
  start(): void {
    void this.#readLoop(this.#conn!);
  }

  /**
   * Writes bytes. A `Conn` is the user's to implement and may throw instead of rejecting; that
   * becomes a rejection, so the failure path runs instead of an exception escaping a microtask.
   *
   * @param bytes What to write.
   * @returns The write.
   */
  write(bytes: Uint8Array): Promise<void> {
    try {
      return this.#conn!.write(bytes);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Arms the setup timer (connection setup, or re-authentication after the drain).
   *
   * @param ms The limit.
   * @param fire Called when it expires on this socket.
   */
  armSetupTimer(ms: number, fire: () => void): void {
    this.clearSetupTimer();
    this.#setupTimer = this.#clock.setTimeout(() => {
      this.#setupTimer = null;
      if (!this.#dead) fire();
    }, ms);
  }

  /** Stops the setup timer. */
  clearSetupTimer(): void {
    if (this.#setupTimer !== null) this.#clock.clearTimeout(this.#setupTimer);
    this.#setupTimer = null;
  }

  /** Marks that a setup reply was delivered and awaits the setup steps. */
  setupReplyDelivered(): void {
    this.#setupReplyPending = true;
  }

  /**
   * A broker answers a failed setup step (SASL error, refused ApiVersions) and then closes the
   * connection; the close can be read before the setup steps have looked at the answer. The
   * loss is then held back, so that the answer's error (say, the broker's authentication
   * message) is the one reported; {@link BrokerSocket.takeDeferredLoss} applies it.
   *
   * @param error The loss.
   * @param fail Fails the connection with it, now or later.
   */
  lose(error: KafkaTransportError, fail: (error: KafkaTransportError) => void): void {
    if (this.#setupReplyPending) this.#deferredLoss = error;
    else fail(error);
  }

  /**
   * Called when the setup steps move on from a reply.
   *
   * @returns The loss held back behind it, or `null`.
   */
  takeDeferredLoss(): KafkaTransportError | null {
    this.#setupReplyPending = false;
    const lost = this.#deferredLoss;
    this.#deferredLoss = null;
    return lost;
  }

  /**
   * Switches the read path to raw SASL token frames (AUTH_LEGACY) or back. Token frames may be
   * empty, so they get a decoder without the reply minimum; the exchange is strictly one frame
   * per token, so no bytes are buffered when it switches.
   *
   * @param on Whether token frames are expected.
   */
  setLegacy(on: boolean): void {
    if (this.#legacy === on) return;
    this.#legacy = on;
    this.#decoder = new FrameDecoder({
      maxFrameSize: this.#maxFrameSize,
      minFrameSize: on ? 0 : MIN_REPLY_SIZE,
    });
  }

  /**
   * Writes one raw `[int32 len][token]` frame and waits for the broker's next frame.
   *
   * @param token The token.
   * @param written Told how many bytes went out once the write completed.
   * @param writeFailed Told when the write failed.
   * @returns The body of the broker's next frame.
   */
  legacyRoundTrip(
    token: Uint8Array,
    written: (bytes: number) => void,
    writeFailed: (error: unknown) => void,
  ): Promise<Uint8Array> {
    const frame = new Uint8Array(4 + token.length);
    new DataView(frame.buffer).setInt32(0, token.length);
    frame.set(token, 4);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#legacyWaiter = { resolve, reject };
      this.write(frame).then(() => {
        if (!this.#dead) written(frame.length);
      }, (error) => {
        if (!this.#dead) writeFailed(error);
      });
    });
  }

  /**
   * Drops the socket: closes it, stops its timer and fails a legacy exchange in progress.
   *
   * @param error Why; rejects the legacy exchange.
   * @param reason Passed to `Conn.close` (none for a quiet close).
   */
  kill(error: KafkaTransportError, reason: KafkaTransportError | undefined): void {
    if (this.#dead) return;
    this.#dead = true;
    this.clearSetupTimer();
    this.#deferredLoss = null;
    this.#legacyWaiter?.reject(error);
    this.#legacyWaiter = null;
    if (this.#conn === null) this.#dial.abort(error);
    else closeQuietly(this.#conn, reason);
  }

  /** One frame while AUTH_LEGACY: the answer to the token sent. */
  #legacyFrame(frame: Uint8Array): void {
    const waiter = this.#legacyWaiter;
    if (waiter === null) {
      throw new AuthenticationError(
        "Broker sent an unexpected frame during legacy SASL authentication",
      );
    }
    this.#legacyWaiter = null;
    this.#setupReplyPending = true;
    waiter.resolve(frame);
  }

  async #readLoop(conn: Conn): Promise<void> {
    const owner = this.#owner;
    try {
      while (true) {
        const chunk = await conn.read();
        if (this.#dead) return;
        if (chunk === null) {
          owner.readEnded(this, null);
          return;
        }
        const now = owner.received(chunk.length);
        // Frames are taken as offsets into the chunk, never as views: no object per reply.
        const decoder = this.#decoder;
        decoder.push(chunk);
        while (decoder.nextFrame()) {
          const buf = decoder.frameBuffer;
          const start = decoder.frameStart;
          const end = decoder.frameEnd;
          if (this.#legacy) this.#legacyFrame(buf.subarray(start, end));
          else if (owner.reply(buf, start, end, now)) this.#setupReplyPending = true;
          if (this.#dead) return;
        }
        owner.chunkDone();
      }
    } catch (error) {
      if (!this.#dead) owner.readEnded(this, error);
    }
  }
}

/** Closes a connection whose `close()` might throw: teardown must run to its end regardless. */
function closeQuietly(conn: Conn, reason: KafkaTransportError | undefined): void {
  try {
    conn.close(reason);
  } catch {
    // The connection is dropped either way; how its close failed changes nothing here.
  }
}
