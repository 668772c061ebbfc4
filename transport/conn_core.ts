/**
 * What every adapter's {@link Conn} has in common, written once: the end-of-stream state (how
 * the connection ended and what reads and writes see from then on), the read guard (one
 * `read()` at a time), a buffer of received chunks with pause/resume thresholds for runtimes
 * that push data, and an ordered write queue that hands the runtime one write at a time.
 * Runtime-neutral: an adapter extends {@link ConnCore} and supplies only what its runtime does
 * differently (how to send, how to ask for more bytes, how to release the socket, how its
 * errors read).
 *
 * @module
 */

import type { Conn } from "./conn.ts";
import { ConnectionClosedError, KafkaTransportError } from "./errors.ts";
import { Fifo } from "./fifo.ts";

/** How a connection ended. */
export interface Ending {
  /** Why it ended; `undefined` for a local close without reason or a clean close by the peer. */
  readonly reason: KafkaTransportError | undefined;
  /** Whether reads reject (an I/O failure) rather than report end of stream. */
  readonly failed: boolean;
}

/** Buffered unread bytes at which a pushing runtime is asked to pause until the reader catches up. */
const PAUSE_AT = 2 * 1024 * 1024;
/** Buffered unread bytes below which a paused runtime is asked to resume. */
const RESUME_BELOW = 256 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();

/** A write waiting for its turn, or handed to the runtime and not finished yet. */
interface QueuedWrite {
  readonly bytes: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: KafkaTransportError) => void;
}

/**
 * The shared part of a {@link Conn}. Subclasses deliver what the runtime receives through
 * {@link ConnCore.push}, {@link ConnCore.endOfInput} and {@link ConnCore.fail}, and implement
 * {@link ConnCore.send}, {@link ConnCore.release} and {@link ConnCore.ioError}; they override
 * {@link ConnCore.pull}, {@link ConnCore.pauseInput} and {@link ConnCore.resumeInput} where
 * their runtime needs it.
 *
 * Reads: chunks pushed while no read waits are buffered, in order; past 2 MiB unread the
 * runtime is asked to pause. After a local close reads see end of stream (what was buffered is
 * dropped); after the peer's clean close they get what was buffered, then `null`; after a
 * failure what was buffered, then the failure.
 *
 * Writes: handed to {@link ConnCore.send} one at a time, in the order `write()` was called;
 * each resolves once the runtime has taken all its bytes. Once the connection has ended,
 * pending and later writes reject with a `ConnectionClosedError` naming why it ended.
 */
export abstract class ConnCore implements Conn {
  /** Whether the bytes travel inside TLS. */
  readonly secure: boolean;
  /** Settles once, with the reason the connection ended (`undefined` for a clean end). */
  readonly closed: Promise<KafkaTransportError | undefined>;
  /** `host:port` of the peer, for messages. */
  protected readonly target: string;
  readonly #settleClosed: (reason: KafkaTransportError | undefined) => void;
  #ending: Ending | null = null;
  /** No more bytes will be pushed: end of stream seen, failed, or closed here. */
  #inputDone = false;
  #released = false;
  #chunks: Fifo<Uint8Array> | null = null;
  #buffered = 0;
  #paused = false;
  #resolveRead: ((chunk: Uint8Array | null) => void) | null = null;
  #rejectRead: ((error: KafkaTransportError) => void) | null = null;
  /** Writes waiting behind {@link ConnCore.#current}. */
  #queue: Fifo<QueuedWrite> | null = null;
  /** The write handed to `send()` and not finished, when `send()` did not finish at once. */
  #current: QueuedWrite | null = null;

  /**
   * Sets up the shared state.
   *
   * @param target `host:port` of the peer, for messages.
   * @param secure Whether the connection is TLS.
   */
  constructor(target: string, secure: boolean) {
    this.target = target;
    this.secure = secure;
    const { promise, resolve } = Promise.withResolvers<KafkaTransportError | undefined>();
    this.closed = promise;
    this.#settleClosed = resolve;
  }

  /** How the connection ended, or `null` while it is open. */
  protected get ending(): Ending | null {
    return this.#ending;
  }

  /** Whether a `read()` is waiting for bytes. */
  protected get reading(): boolean {
    return this.#resolveRead !== null;
  }

  /** Whether a write is in progress or queued. */
  get #writing(): boolean {
    return this.#current !== null || (this.#queue !== null && this.#queue.length > 0);
  }

  read(): Promise<Uint8Array | null> {
    if (this.#resolveRead !== null) {
      return Promise.reject(
        new KafkaTransportError(
          `read() on ${this.target} called while another read() is pending: await each read first`,
        ),
      );
    }
    if (this.#buffered > 0) return Promise.resolve(this.#take());
    const ending = this.#ending;
    if (ending !== null && (ending.failed || this.#inputDone)) {
      return ending.failed ? Promise.reject(ending.reason) : Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      this.#resolveRead = resolve;
      this.#rejectRead = reject;
      this.pull();
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#ending !== null) return Promise.reject(this.#writeAfterEnd());
    if (this.#writing) {
      return new Promise((resolve, reject) => {
        (this.#queue ??= new Fifo()).push({ bytes, resolve, reject });
      });
    }
    if (bytes.length === 0) return RESOLVED;
    let sent: Promise<void> | undefined;
    try {
      sent = this.send(bytes);
    } catch (error) {
      return Promise.reject(this.#writeFailed(error));
    }
    if (sent === undefined) return RESOLVED;
    return new Promise((resolve, reject) => {
      this.#current = { bytes, resolve, reject };
      sent.then(this.#sent, this.#sendFailed);
    });
  }

  close(reason?: KafkaTransportError): void {
    if (this.#ending === null) {
      this.#finish(reason, false, false);
      return;
    }
    // Ended by the peer: what is still unread is of no interest now.
    this.#dropInput();
    this.#settleRead(this.#ending);
    this.#release();
  }

  /**
   * Hands bytes to the runtime. Called one write at a time, in order; never with an empty
   * array and never after the connection ended.
   *
   * @param bytes The bytes; the caller keeps them unchanged until this finishes.
   * @returns `undefined` when the runtime took every byte at once, otherwise a promise that
   *   resolves once it has (and rejects with the runtime's error when sending failed).
   */
  protected abstract send(bytes: Uint8Array): Promise<void> | undefined;

  /**
   * Releases the runtime's socket. Called once, when nothing more will be read or written.
   */
  protected abstract release(): void;

  /**
   * Turns a runtime error from reading or writing into a transport error.
   *
   * @param error What the runtime threw or rejected with.
   * @param doing `"reading from"` or `"writing to"`, for the message.
   * @returns The error the connection fails with.
   */
  protected abstract ioError(
    error: unknown,
    doing: "reading from" | "writing to",
  ): KafkaTransportError;

  /**
   * A read is waiting and nothing is buffered: runtimes that deliver bytes only when asked
   * start a read here and {@link ConnCore.push} what it returns. Pushing runtimes need nothing.
   */
  protected pull(): void {}

  /** Asks a pushing runtime to stop delivering (the reader is 2 MiB behind). */
  protected pauseInput(): void {}

  /** Asks a paused runtime to deliver again. */
  protected resumeInput(): void {}

  /**
   * Delivers received bytes: to the waiting read, or into the buffer.
   *
   * @param chunk A non-empty chunk the connection hands out as it is (it becomes the reader's).
   */
  protected push(chunk: Uint8Array): void {
    if (this.#inputDone) return;
    const resolve = this.#resolveRead;
    if (resolve !== null) {
      this.#resolveRead = null;
      this.#rejectRead = null;
      resolve(chunk);
      return;
    }
    (this.#chunks ??= new Fifo()).push(chunk);
    this.#buffered += chunk.length;
    if (!this.#paused && this.#buffered >= PAUSE_AT) {
      this.#paused = true;
      this.pauseInput();
    }
  }

  /**
   * The peer closed its side cleanly: reads get what is buffered, then `null`. Ends the
   * connection (without a reason) unless it had ended already.
   */
  protected endOfInput(): void {
    if (this.#inputDone) return;
    this.#inputDone = true;
    if (this.#ending === null) {
      this.#finish(undefined, false, true);
    } else {
      this.#settleRead(this.#ending);
      this.#release();
    }
  }

  /**
   * The connection failed: `closed` settles with `error`, reads get what is buffered, then
   * reject with it; writes reject. Does nothing once the connection has ended.
   *
   * @param error Why it failed.
   */
  protected fail(error: KafkaTransportError): void {
    if (this.#ending === null) this.#finish(error, true, true);
  }

  /**
   * Ends the connection cleanly while the runtime may still hold received bytes: writes
   * reject at once, reads go on (through {@link ConnCore.pull}) until
   * {@link ConnCore.endOfInput}, and only then is the socket released.
   */
  protected endDraining(): void {
    if (this.#ending !== null) return;
    this.#finish(undefined, false, true, true);
  }

  /**
   * Fails a pending read with a runtime error, ending the connection; or, while draining after
   * a clean close, takes the error as the end of what there was to read.
   *
   * @param error What the runtime's read rejected with.
   */
  protected readFailed(error: unknown): void {
    if (this.#ending === null) {
      this.#finish(this.ioError(error, "reading from"), true, true);
    } else {
      this.endOfInput();
    }
  }

  /**
   * The error a write gets once the connection has ended: the failure itself when it failed
   * (as reads get it), so that a TLS alert seen by a read is reported as that `TlsError`
   * whichever of the two calls the connection hears from first; otherwise a
   * `ConnectionClosedError` naming why it ended.
   *
   * @returns The error.
   */
  #writeAfterEnd(): KafkaTransportError {
    const ending = this.#ending;
    if (ending !== null && ending.failed && ending.reason !== undefined) return ending.reason;
    const reason = ending?.reason;
    return new ConnectionClosedError(
      `Cannot write to ${this.target}: the connection is closed` +
        (reason === undefined ? "" : ` (${reason.message})`),
      { cause: reason },
    );
  }

  /** A send failed: the connection fails with the mapped error, unless it had ended. */
  #writeFailed(error: unknown): KafkaTransportError {
    if (this.#ending !== null) return this.#writeAfterEnd();
    const failure = this.ioError(error, "writing to");
    this.#finish(failure, true, true);
    return failure;
  }

  readonly #sent = (): void => {
    const current = this.#current;
    if (current === null) return; // Rejected when the connection ended meanwhile.
    this.#current = null;
    current.resolve();
    this.#next();
  };

  readonly #sendFailed = (error: unknown): void => {
    const current = this.#current;
    if (current === null) return;
    this.#current = null;
    current.reject(this.#writeFailed(error));
  };

  /** Sends queued writes in order until one has to wait or the queue is empty. */
  #next(): void {
    const queue = this.#queue;
    while (queue !== null && queue.length > 0 && this.#ending === null) {
      const item = queue.shift()!;
      if (item.bytes.length === 0) {
        item.resolve();
        continue;
      }
      let sent: Promise<void> | undefined;
      try {
        sent = this.send(item.bytes);
      } catch (error) {
        item.reject(this.#writeFailed(error));
        return;
      }
      if (sent === undefined) {
        item.resolve();
        continue;
      }
      this.#current = item;
      sent.then(this.#sent, this.#sendFailed);
      return;
    }
  }

  #take(): Uint8Array {
    const chunk = this.#chunks!.shift()!;
    this.#buffered -= chunk.length;
    if (this.#paused && this.#buffered < RESUME_BELOW && !this.#inputDone) {
      this.#paused = false;
      this.resumeInput();
    }
    return chunk;
  }

  #dropInput(): void {
    this.#inputDone = true;
    this.#chunks = null;
    this.#buffered = 0;
  }

  /** Settles a waiting read as a read after `ending` would be. */
  #settleRead(ending: Ending): void {
    const resolve = this.#resolveRead;
    const reject = this.#rejectRead!;
    if (resolve === null) return;
    this.#resolveRead = null;
    this.#rejectRead = null;
    if (ending.failed) reject(ending.reason!);
    else resolve(null);
  }

  /**
   * Ends the connection once: settles `closed`, fails every write, settles a waiting read
   * (unless draining) and releases the socket (unless draining).
   */
  #finish(
    reason: KafkaTransportError | undefined,
    failed: boolean,
    keepBuffered: boolean,
    draining = false,
  ): void {
    const ending: Ending = { reason, failed };
    this.#ending = ending;
    if (keepBuffered) {
      if (!draining) this.#inputDone = true;
    } else {
      this.#dropInput();
    }
    this.#settleClosed(reason);
    const current = this.#current;
    const queue = this.#queue;
    if (current !== null || (queue !== null && queue.length > 0)) {
      const error = this.#writeAfterEnd();
      this.#current = null;
      current?.reject(error);
      if (queue !== null) { for (const item of queue.drain()) item.reject(error); }
    }
    if (draining) return;
    this.#settleRead(ending);
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.release();
  }
}
