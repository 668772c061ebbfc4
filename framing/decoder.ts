/**
 * Splits a received byte stream into Kafka frames (int32 big-endian size, then that many bytes)
 * with as few copies as the chunk boundaries allow.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";
import { type ForeignProtocol, FramingError } from "./errors.ts";

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * The largest frame body accepted, in bytes (librdkafka's `receive.message.max.bytes`).
   * Checked before anything is allocated for the frame. Default 100 000 000.
   */
  maxFrameSize?: number;
  /** The smallest frame body accepted, in bytes (4 for responses: the correlation id). Default 0. */
  minFrameSize?: number;
}

/** The largest size an int32 prefix can carry. */
const INT32_MAX = 0x7fffffff;

/** Returned for empty frames that cannot be a view of a chunk (no chunk is left). */
const EMPTY = new Uint8Array(0);

/**
 * The smallest buffer a spanning frame gets (when the frame is at least this large): a size
 * prefix alone must not make the decoder allocate the whole advertised frame (up to
 * `maxFrameSize`), but tiny first buffers would be regrown and copied many times.
 */
const FIRST_ALLOCATION = 64 * 1024;

/**
 * Once this fraction of a spanning frame (1/32) has arrived, its buffer is allocated at the
 * frame's full size: a 1 MiB frame read in chunks of 32 KiB or more gets its exact buffer at
 * once, as before the buffer could grow, and a peer gets at most 32 times the bytes it sent
 * held for a frame.
 */
const EXACT_AFTER_SHIFT = 5;

/** The size prefix an HTTP response starts with: ASCII "HTTP". */
const HTTP = 0x48545450;

/**
 * Tells which other protocol a size prefix is the start of. Only run on sizes already out of
 * range, so a legitimate frame is never misdiagnosed.
 *
 * @param size The rejected size prefix.
 * @returns The protocol, or `null` when the bytes look like none in particular.
 */
function foreignProtocol(size: number): ForeignProtocol | null {
  if (size === HTTP) return "http";
  const first = size >>> 24;
  // A TLS record header: content type alert (0x15) or handshake (0x16), then version 3.x.
  if ((first === 0x15 || first === 0x16) && ((size >>> 12) & 0xfff) === 0x030) return "tls";
  return null;
}

/**
 * Turns a chunked byte stream into frame bodies.
 *
 * Push chunks as they arrive, then call {@link FrameDecoder.next} until it returns `null`. A
 * frame lying inside one chunk comes back as a view of that chunk; a frame spanning chunks is
 * copied as chunks arrive into a buffer that ends up exactly its size. That buffer starts at
 * what has arrived (at least 64 KiB, at most the frame), doubles as more arrives, and takes the
 * frame's full size once 1/32 of the frame is in: a peer that announces a huge frame and sends
 * little of it pins at most 64 KiB or 32 times what it sent, not what it announced. After
 * `next()` returns `null` the decoder holds no chunk: every byte of an unfinished frame has
 * been moved into the size accumulator or that buffer. {@link FrameDecoder.nextFrame} finds
 * the same frames without making a view: it publishes the buffer and offsets of each instead.
 *
 * A bad size prefix throws a {@link FramingError}; the decoder then stays failed and every
 * further call throws the same error.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./decoder.ts";
 * const decoder = new FrameDecoder({ minFrameSize: 4 });
 * decoder.push(new Uint8Array([0, 0, 0, 4, 0, 0]));
 * decoder.next(); // null: 2 of the 4 body bytes have arrived
 * decoder.push(new Uint8Array([0, 7]));
 * decoder.next(); // Uint8Array [0, 0, 0, 7]
 * ```
 */
export class FrameDecoder {
  readonly #max: number;
  readonly #min: number;
  /** Queued chunks from index `#head`; slots before it are consumed and cleared. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Read position within `#chunks[#head]`. */
  #pos = 0;
  /** Bytes received and not yet returned as part of a frame (size prefixes included). */
  #buffered = 0;
  /** The size prefix bytes gathered so far when it is split across chunks. */
  #prefix = 0;
  #prefixLen = 0;
  /**
   * The frame being assembled from several chunks: its buffer (which may still be smaller than
   * the frame), how much of it is filled, and the frame's size.
   */
  #asm: Uint8Array | null = null;
  #asmLen = 0;
  #asmSize = 0;
  #error: FramingError | null = null;
  #frameBuffer: Uint8Array = EMPTY;
  #frameStart = 0;
  #frameEnd = 0;

  /**
   * Creates a decoder with the given frame size limits.
   *
   * @param options Frame size limits.
   * @throws {ConfigError} When a limit is not an integer in 0..2^31-1, or min exceeds max.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameSize ?? 100_000_000;
    const min = options.minFrameSize ?? 0;
    for (const [name, value] of [["maxFrameSize", max], ["minFrameSize", min]] as const) {
      if (!Number.isInteger(value) || value < 0 || value > INT32_MAX) {
        throw new ConfigError(
          `FrameDecoder ${name} must be an integer in 0..${INT32_MAX} (a Kafka size prefix is ` +
            `an int32), got ${value}`,
        );
      }
    }
    if (min > max) {
      throw new ConfigError(
        `FrameDecoder minFrameSize (${min}) is larger than maxFrameSize (${max}): no frame could ` +
          `be accepted`,
      );
    }
    this.#max = max;
    this.#min = min;
  }

  /** Bytes received and not yet returned as part of a frame, size prefixes included. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * The body size of the frame being assembled from several chunks, or -1 when there is none.
   * Together with {@link FrameDecoder.buffered} it says how far a frame had got when the
   * connection closed.
   */
  get pendingFrameSize(): number {
    return this.#asm === null ? -1 : this.#asmSize;
  }

  /**
   * Bytes allocated for the frame being assembled from several chunks, or 0 when there is
   * none. It grows with the bytes received, up to {@link FrameDecoder.pendingFrameSize}.
   */
  get pendingFrameCapacity(): number {
    return this.#asm === null ? 0 : this.#asm.length;
  }

  /** The error that failed the decoder, or `null` while it is healthy. */
  get error(): FramingError | null {
    return this.#error;
  }

  /**
   * Appends received bytes. The decoder keeps the chunk (no copy) and frames may be views of
   * it, so the caller must not reuse its memory. Bytes of a frame already being assembled are
   * copied into it right away.
   *
   * @param chunk The bytes received.
   * @throws {FramingError} When the decoder has already failed.
   */
  push(chunk: Uint8Array): void {
    if (this.#error !== null) throw this.#error;
    const n = chunk.length;
    if (n === 0) return;
    this.#buffered += n;
    let asm = this.#asm;
    if (asm !== null && this.#asmLen < this.#asmSize) {
      // While a frame is assembled the queue is empty, so these bytes come next in order.
      const filled = this.#asmLen;
      const need = this.#asmSize - filled;
      const take = n <= need ? n : need;
      if (filled + take > asm.length) asm = this.#grow(filled + take);
      if (n <= need) {
        asm.set(chunk, filled);
        this.#asmLen = filled + n;
        return;
      }
      asm.set(chunk.subarray(0, need), filled);
      this.#asmLen = this.#asmSize;
      this.#chunks.push(chunk);
      this.#pos = need;
      return;
    }
    this.#chunks.push(chunk);
  }

  /**
   * The buffer holding the frame {@link FrameDecoder.nextFrame} last found: a pushed chunk, or
   * the frame's own assembly buffer when it spanned chunks. Valid until the next `push()`.
   */
  get frameBuffer(): Uint8Array {
    return this.#frameBuffer;
  }

  /** Where that frame's body starts in {@link FrameDecoder.frameBuffer}. */
  get frameStart(): number {
    return this.#frameStart;
  }

  /** Where that frame's body ends (exclusive) in {@link FrameDecoder.frameBuffer}. */
  get frameEnd(): number {
    return this.#frameEnd;
  }

  /**
   * Returns the next complete frame body (the bytes after the size prefix), or `null` when
   * more bytes are needed.
   *
   * @returns The frame body, a view of a pushed chunk when it lay inside one, or `null`.
   * @throws {FramingError} When a size prefix is out of range or is another protocol; also on
   *   every call after that.
   */
  next(): Uint8Array | null {
    if (!this.nextFrame()) return null;
    const buf = this.frameBuffer;
    const start = this.frameStart;
    const end = this.frameEnd;
    return start === 0 && end === buf.length ? buf : buf.subarray(start, end);
  }

  /**
   * Finds the next complete frame without making a view of it: on `true` its body is
   * `frameBuffer[frameStart..frameEnd)`. A connection reads the correlation id and decodes the
   * body in place, so a reply costs no `Uint8Array` of its own (about 100 bytes per reply).
   *
   * @returns Whether a frame is complete; `false` when more bytes are needed.
   * @throws {FramingError} As {@link FrameDecoder.next}.
   */
  nextFrame(): boolean {
    if (this.#findFrame()) return true;
    // Holding no chunk once every frame is out, as the class promises.
    this.#frameBuffer = EMPTY;
    return false;
  }

  #findFrame(): boolean {
    if (this.#error !== null) throw this.#error;
    const asm = this.#asm;
    if (asm !== null) {
      if (this.#asmLen < this.#asmSize) return false;
      this.#asm = null;
      this.#buffered -= asm.length + 4;
      return this.#found(asm, 0, asm.length);
    }
    const chunks = this.#chunks;
    if (this.#head === chunks.length) return false;
    const chunk = chunks[this.#head];
    let pos = this.#pos;
    let size: number;
    if (this.#prefixLen === 0 && chunk.length - pos >= 4) {
      size = (chunk[pos] << 24) | (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) | chunk[pos + 3];
      if (size < this.#min || size > this.#max) this.#check(size);
      pos += 4;
      // The common case: the whole frame is in the head chunk.
      if (pos + size <= chunk.length) return this.#inChunk(chunk, pos, size);
      this.#pos = pos;
      if (pos === chunk.length) this.#advance();
    } else {
      if (!this.#gatherPrefix()) return false;
      size = this.#check(this.#prefix | 0);
      this.#prefix = 0;
      this.#prefixLen = 0;
    }
    // The body starts at the head chunk, if any: still in place when it lies inside it.
    if (this.#head < chunks.length) {
      const head = chunks[this.#head];
      pos = this.#pos;
      if (pos + size <= head.length) return this.#inChunk(head, pos, size);
    }
    const whole = this.#assemble(size);
    return whole !== null && this.#found(whole, 0, whole.length);
  }

  /** Publishes the frame found; always `true`. */
  #found(buf: Uint8Array, start: number, end: number): boolean {
    this.#frameBuffer = buf;
    this.#frameStart = start;
    this.#frameEnd = end;
    return true;
  }

  /**
   * Publishes a frame lying inside `chunk` and steps past it.
   *
   * @param chunk The head chunk.
   * @param pos Where the body starts in it.
   * @param size The body size.
   * @returns `true`.
   */
  #inChunk(chunk: Uint8Array, pos: number, size: number): boolean {
    const end = pos + size;
    this.#buffered -= size + 4;
    if (end === chunk.length) this.#advance();
    else this.#pos = end;
    return this.#found(chunk, pos, end);
  }

  /**
   * Moves the bytes of a size prefix split across chunks into the accumulator.
   *
   * @returns Whether all 4 bytes are now there.
   */
  #gatherPrefix(): boolean {
    const chunks = this.#chunks;
    while (this.#prefixLen < 4) {
      if (this.#head === chunks.length) return false;
      const chunk = chunks[this.#head];
      // Multiplying keeps the value unsigned until all 4 bytes are in.
      this.#prefix = this.#prefix * 256 + chunk[this.#pos++];
      this.#prefixLen++;
      if (this.#pos === chunk.length) this.#advance();
    }
    return true;
  }

  /** Steps past the fully consumed head chunk, letting go of it. */
  #advance(): void {
    const chunks = this.#chunks;
    chunks[this.#head++] = EMPTY;
    this.#pos = 0;
    if (this.#head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    }
  }

  /**
   * The buffer size for a frame of `size` bytes of which `needed` must fit now: the full size
   * once 1/32 of the frame is needed, otherwise `needed` rounded up by doubling `current`.
   *
   * @param size The frame's body size.
   * @param needed Bytes that must fit.
   * @param current The present buffer size (0 before the first).
   * @returns The size to allocate.
   */
  static #capacity(size: number, needed: number, current: number): number {
    if (needed >= size >>> EXACT_AFTER_SHIFT) return size;
    return Math.min(size, Math.max(needed, current * 2, FIRST_ALLOCATION));
  }

  /**
   * Replaces the buffer of the frame being assembled by a larger one holding its bytes.
   *
   * @param needed The capacity required: more than the buffer has, at most the frame's size.
   * @returns The buffer to write into.
   */
  #grow(needed: number): Uint8Array {
    const asm = this.#asm!;
    const grown = new Uint8Array(FrameDecoder.#capacity(this.#asmSize, needed, asm.length));
    grown.set(asm.subarray(0, this.#asmLen));
    this.#asm = grown;
    return grown;
  }

  /**
   * Starts a frame whose body does not lie inside the head chunk: allocates its first buffer
   * for the bytes queued so far and copies in every queued byte that belongs to it.
   *
   * @param size The validated body size.
   * @returns The frame when the queue held all of it, otherwise `null`.
   */
  #assemble(size: number): Uint8Array | null {
    if (size === 0) {
      this.#buffered -= 4;
      return EMPTY;
    }
    // Everything buffered after this frame's prefix is this frame's body or later frames'.
    const queued = this.#buffered - 4;
    const asm = new Uint8Array(FrameDecoder.#capacity(size, Math.min(queued, size), 0));
    const chunks = this.#chunks;
    let filled = 0;
    while (filled < size && this.#head < chunks.length) {
      const chunk = chunks[this.#head];
      const pos = this.#pos;
      const take = Math.min(chunk.length - pos, size - filled);
      asm.set(
        pos === 0 && take === chunk.length ? chunk : chunk.subarray(pos, pos + take),
        filled,
      );
      filled += take;
      if (pos + take === chunk.length) this.#advance();
      else this.#pos = pos + take;
    }
    if (filled === size) {
      this.#buffered -= size + 4;
      return asm;
    }
    this.#asm = asm;
    this.#asmLen = filled;
    this.#asmSize = size;
    return null;
  }

  /**
   * Validates a size prefix, failing the decoder when it is out of range.
   *
   * @param size The size prefix as a signed int32.
   * @returns The size, when it is acceptable.
   * @throws {FramingError} When it is not.
   */
  #check(size: number): number {
    if (size >= this.#min && size <= this.#max) return size;
    const peer = foreignProtocol(size);
    const error = new FramingError(this.#describe(size, peer), size, { peer });
    this.#error = error;
    this.#chunks = [];
    this.#head = 0;
    this.#pos = 0;
    throw error;
  }

  /**
   * Explains a rejected size prefix.
   *
   * @param size The rejected size prefix.
   * @param peer The protocol it was recognised as, if any.
   * @returns The error message.
   */
  #describe(size: number, peer: ForeignProtocol | null): string {
    const hex = `0x${(size >>> 0).toString(16).padStart(8, "0")}`;
    if (peer === "http") {
      return `peer is not a Kafka listener: looks like HTTP (the frame size prefix ${hex} ` +
        `reads "HTTP", the start of an HTTP response): check that the address and port are ` +
        `those of a Kafka listener, not a web server or proxy`;
    }
    if (peer === "tls") {
      const record = size >>> 24 === 0x15 ? "alert" : "handshake";
      return `peer is not a Kafka listener: looks like TLS — TLS on a plaintext connection? ` +
        `Enable TLS for this listener (the frame size prefix ${hex} is a TLS ${record} record ` +
        `header)`;
    }
    const range = `(allowed ${this.#min}..${this.#max})`;
    if (size > this.#max) {
      return `Invalid frame size ${size} ${range}: increase maxFrameSize ` +
        `(receive.message.max.bytes) if the broker really sends frames this large`;
    }
    return `Invalid frame size ${size} ${range}: the stream is corrupt or the peer does not ` +
      `speak the Kafka protocol`;
  }
}
