/**
 * One partition's log in memory: the record batches as the broker stored them (base offset
 * and leader epoch assigned, CRC recomputed when the append time was stamped), with the log
 * start and end offsets, reads by offset and byte limit, and lookups by timestamp.
 *
 * @module
 */

import { crc32c } from "../protocol/crc32c.ts";

/** A stored batch and the header fields reads and lookups need. */
export interface StoredBatch {
  /** The offset of its first record. */
  readonly baseOffset: bigint;
  /** The offset of its last record. */
  readonly lastOffset: bigint;
  /** The batch's largest timestamp (the append time with LogAppendTime). */
  readonly maxTimestamp: number;
  /** The batch bytes as stored and served. */
  readonly bytes: Uint8Array;
}

// Offsets of header fields from the start of a RecordBatch v2.
const LEADER_EPOCH_AT = 12;
const CRC_AT = 17;
const ATTRIBUTES_AT = 21;
const MAX_TIMESTAMP_AT = 35;
const ATTR_LOG_APPEND_TIME = 0x08;

/** A partition's records. */
export class PartitionLog {
  readonly #batches: StoredBatch[] = [];
  #logStartOffset = 0n;
  #logEndOffset = 0n;

  /** The first offset still in the log. */
  get logStartOffset(): bigint {
    return this.#logStartOffset;
  }

  /** The offset the next record gets; also the high watermark, every replica being in sync. */
  get logEndOffset(): bigint {
    return this.#logEndOffset;
  }

  /** The stored batches, oldest first (a live view; do not modify). */
  get batches(): readonly StoredBatch[] {
    return this.#batches;
  }

  /**
   * Appends validated batches, assigning consecutive offsets from the log end.
   *
   * @param batches Each batch's bytes (copied) and record count, in order.
   * @param leaderEpoch The leader epoch stamped on every batch.
   * @param appendTime The broker's time to stamp (LogAppendTime), or `undefined` to keep the
   *   producer's timestamps.
   * @returns The offset of the first appended record.
   */
  append(
    batches: readonly { bytes: Uint8Array; count: number; maxTimestamp: number }[],
    leaderEpoch: number,
    appendTime: number | undefined,
  ): bigint {
    const base = this.#logEndOffset;
    let next = base;
    for (const b of batches) {
      const bytes = b.bytes.slice();
      const view = new DataView(bytes.buffer);
      view.setBigInt64(0, next);
      view.setInt32(LEADER_EPOCH_AT, leaderEpoch);
      let maxTimestamp = b.maxTimestamp;
      if (appendTime !== undefined) {
        view.setInt16(ATTRIBUTES_AT, view.getInt16(ATTRIBUTES_AT) | ATTR_LOG_APPEND_TIME);
        view.setBigInt64(MAX_TIMESTAMP_AT, BigInt(appendTime));
        view.setUint32(CRC_AT, crc32c(bytes.subarray(ATTRIBUTES_AT)));
        maxTimestamp = appendTime;
      }
      const lastOffset = next + BigInt(b.count - 1);
      this.#batches.push({ baseOffset: next, lastOffset, maxTimestamp, bytes });
      next = lastOffset + 1n;
    }
    this.#logEndOffset = next;
    return base;
  }

  /**
   * Drops whole batches that end below `offset` and moves the log start there, as
   * DeleteRecords does.
   *
   * @param offset The new log start offset, at most the log end.
   */
  truncateBefore(offset: bigint): void {
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = offset < this.#logEndOffset ? offset : this.#logEndOffset;
    let drop = 0;
    while (drop < this.#batches.length && this.#batches[drop].lastOffset < offset) drop++;
    this.#batches.splice(0, drop);
  }

  /**
   * The batches to return to a fetch from `offset`: whole batches from the one holding it,
   * while they fit in `maxBytes`; the first one even when it alone is larger if `minOne`
   * (KIP-74), so a consumer never gets stuck behind a batch bigger than its limit.
   *
   * @param offset The fetch offset, within the log.
   * @param maxBytes The byte limit.
   * @param minOne Return the first batch even if it exceeds the limit.
   * @returns The batches, oldest first.
   */
  read(offset: bigint, maxBytes: number, minOne: boolean): StoredBatch[] {
    const out: StoredBatch[] = [];
    let size = 0;
    for (let i = this.#firstHolding(offset); i < this.#batches.length; i++) {
      const b = this.#batches[i];
      if (size + b.bytes.length > maxBytes && !(minOne && out.length === 0)) break;
      out.push(b);
      size += b.bytes.length;
    }
    return out;
  }

  /**
   * The first batch whose largest timestamp reaches `timestamp`, where ListOffsets finds the
   * first record at or after a time.
   *
   * @param timestamp Milliseconds since the epoch.
   * @returns The batch, or `undefined` when every record is older.
   */
  firstBatchAtOrAfter(timestamp: number): StoredBatch | undefined {
    return this.#batches.find((b) => b.maxTimestamp >= timestamp);
  }

  /**
   * The batch holding the largest timestamp (the first such, as Kafka reports it).
   *
   * @returns The batch, or `undefined` for an empty log.
   */
  maxTimestampBatch(): StoredBatch | undefined {
    let best: StoredBatch | undefined;
    for (const b of this.#batches) {
      if (best === undefined || b.maxTimestamp > best.maxTimestamp) best = b;
    }
    return best;
  }

  /** Index of the batch holding `offset` (or the first after it), by binary search. */
  #firstHolding(offset: bigint): number {
    let lo = 0;
    let hi = this.#batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#batches[mid].lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
