/**
 * The output buffer a connection encodes its batches into, and the policy that keeps it: one
 * buffer reused for every batch (a batch is written as a view of it, one write at a time),
 * replaced when large requests grew it and have stopped coming, or when a write still pending
 * on a lost socket may yet read it.
 *
 * @module
 */

import { Writer } from "../framing/writer.ts";

/** Requests are encoded into one batch, written in one call, until it reaches this size. */
export const COALESCE_LIMIT = 64 * 1024;

/** Initial size of the output writer that batches are encoded in. */
const OUT_CAPACITY = COALESCE_LIMIT + 4096;

/** An output writer grown past this by large requests is replaced once they stop coming. */
const OUT_KEEP_LIMIT = 4 * COALESCE_LIMIT;

/**
 * How many batches in a row that fit the initial capacity give a grown output writer back. A
 * stream of large requests keeps its buffer (growing one anew for every 1 MiB request cost a
 * third of the CPU of a bulk stream), while a single burst does not pin it for long.
 */
const OUT_SHRINK_AFTER = 16;

/** The reusable batch buffer of one connection. */
export class OutBuffer {
  #w = new Writer(OUT_CAPACITY);
  /** Batches in a row that fitted {@link OUT_CAPACITY} while the writer was grown. */
  #smallBatches = 0;

  /**
   * The writer for the next batch, emptied.
   *
   * @returns The writer.
   */
  next(): Writer {
    if (this.#w.capacity > OUT_KEEP_LIMIT && this.#smallBatches >= OUT_SHRINK_AFTER) {
      this.#w = new Writer(OUT_CAPACITY);
      this.#smallBatches = 0;
    }
    this.#w.reset();
    return this.#w;
  }

  /** Records the size of the batch just encoded, for the shrink policy. */
  batchDone(): void {
    const w = this.#w;
    if (w.capacity > OUT_KEEP_LIMIT) {
      this.#smallBatches = w.length <= OUT_CAPACITY ? this.#smallBatches + 1 : 0;
    }
  }

  /**
   * The socket is gone. A write still pending on it may yet read the buffer, and a buffer
   * grown by large requests need not outlive it: start a new one in either case.
   *
   * @param writing Whether a write was pending.
   */
  socketLost(writing: boolean): void {
    if (writing || this.#w.capacity > OUT_KEEP_LIMIT) {
      this.#w = new Writer(OUT_CAPACITY);
      this.#smallBatches = 0;
    }
  }
}
