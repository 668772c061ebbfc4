/**
 * The checks an embedded cluster node makes on the `records` of a Produce partition before
 * appending them, with the error codes Kafka answers for each failure.
 *
 * @module
 */

import { crc32c } from "../protocol/crc32c.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { decodeRecordBatch } from "../protocol/record_batch.ts";

/** A batch that passed the checks. */
export interface CheckedBatch {
  /** The batch bytes: a view into the request, copied when appended. */
  readonly bytes: Uint8Array;
  /** Its record count. */
  readonly count: number;
  /** Its largest timestamp, as the producer set it. */
  readonly maxTimestamp: number;
}

/** The outcome of checking one partition's `records`. */
export type BatchCheck =
  | { readonly ok: true; readonly batches: CheckedBatch[] }
  | { readonly ok: false; readonly errorCode: number; readonly message: string };

/** Kafka's default `max.message.bytes`: the largest batch a topic accepts. */
export const MAX_MESSAGE_BYTES = 1_048_588;

const HEADER_SIZE = 61;
const LOG_OVERHEAD = 12;
const ATTR_COMPRESSION = 0x07;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;

function fail(errorCode: number, message: string): BatchCheck {
  return { ok: false, errorCode, message };
}

/**
 * Checks every batch in a Produce partition's `records`, as Kafka's log validation does for a
 * client append: whole batches only (CORRUPT_MESSAGE otherwise), magic 2 (INVALID_RECORD),
 * the CRC-32C (CORRUPT_MESSAGE), base offset 0, at least one record, a last offset delta and
 * (for uncompressed batches) records that agree with the record count (INVALID_RECORD), no
 * control batches (INVALID_RECORD), no transactional batches, since transactions are not
 * served (INVALID_TXN_STATE), and at most {@link MAX_MESSAGE_BYTES} per batch
 * (MESSAGE_TOO_LARGE). Compressed batches are checked as far as their header goes.
 *
 * @param records The partition's `records` bytes, or `null`.
 * @returns The batches, or the error code and a message for the reply.
 */
export function checkBatches(records: Uint8Array | null): BatchCheck {
  if (records === null || records.length === 0) {
    return fail(ErrorCode.INVALID_RECORD, "the produce request carries no record batch");
  }
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const batches: CheckedBatch[] = [];
  let start = 0;
  while (start < records.length) {
    if (records.length - start < HEADER_SIZE) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `a batch header at byte ${start} is cut short`);
    }
    const size = LOG_OVERHEAD + view.getInt32(start + 8);
    const end = start + size;
    if (size < HEADER_SIZE || end > records.length) {
      return fail(
        ErrorCode.CORRUPT_MESSAGE,
        `the batch at byte ${start} claims ${size} bytes, ${records.length - start} are there`,
      );
    }
    const checked = checkOne(records.subarray(start, end), view, start);
    if (!("bytes" in checked)) return checked;
    batches.push(checked);
    start = end;
  }
  return { ok: true, batches };
}

function checkOne(bytes: Uint8Array, view: DataView, at: number): CheckedBatch | BatchCheck {
  const magic = view.getInt8(at + 16);
  if (magic !== 2) {
    return fail(ErrorCode.INVALID_RECORD, `magic ${magic}: produce v3+ takes RecordBatch v2 only`);
  }
  if (bytes.length > MAX_MESSAGE_BYTES) {
    return fail(
      ErrorCode.MESSAGE_TOO_LARGE,
      `the batch is ${bytes.length} bytes, above max.message.bytes ${MAX_MESSAGE_BYTES}`,
    );
  }
  const stored = view.getUint32(at + 17);
  if (crc32c(bytes, 21) !== stored) {
    return fail(ErrorCode.CORRUPT_MESSAGE, "the batch failed its CRC-32C check");
  }
  const baseOffset = view.getBigInt64(at);
  if (baseOffset !== 0n) {
    return fail(ErrorCode.INVALID_RECORD, `the batch's base offset is ${baseOffset}, not 0`);
  }
  const attributes = view.getInt16(at + 21);
  if ((attributes & ATTR_CONTROL) !== 0) {
    return fail(ErrorCode.INVALID_RECORD, "clients may not write control batches");
  }
  if ((attributes & ATTR_TRANSACTIONAL) !== 0) {
    return fail(
      ErrorCode.INVALID_TXN_STATE,
      "transactional batch: the embedded cluster does not serve transactions",
    );
  }
  const count = view.getInt32(at + 57);
  const lastOffsetDelta = view.getInt32(at + 23);
  if (count < 1 || lastOffsetDelta !== count - 1) {
    return fail(
      ErrorCode.INVALID_RECORD,
      `record count ${count} and last offset delta ${lastOffsetDelta} disagree`,
    );
  }
  if ((attributes & ATTR_COMPRESSION) === 0) {
    let decodedCount: number;
    try {
      const decoded = decodeRecordBatch(bytes);
      decodedCount = decoded.records.length;
      for (let i = 0; i < decodedCount; i++) {
        if (decoded.records[i].offset !== BigInt(i)) {
          return fail(
            ErrorCode.INVALID_RECORD,
            `record ${i} has offset delta ${decoded.records[i].offset}`,
          );
        }
      }
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return fail(ErrorCode.CORRUPT_MESSAGE, `the records do not decode: ${detail}`);
    }
    if (decodedCount !== count) {
      return fail(ErrorCode.INVALID_RECORD, `record count ${count}, ${decodedCount} records`);
    }
  }
  return { bytes, count, maxTimestamp: Number(view.getBigInt64(at + 35)) };
}
