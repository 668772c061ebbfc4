/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batches,
 * computed eight bytes at a time with the slicing-by-8 tables.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 *
 * @module
 */

// The tables are Int32Array, not Uint32Array: the same bits, but every entry an int32. Entries
// of 2^31 and above in a Uint32Array are not int32 values; over real record batches Bun's
// JavaScriptCore then ran this loop twenty times slower (1.1 ms instead of 51 µs for a 100 KiB
// batch). V8 runs both alike. The result is made unsigned once, at the end.
function makeTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c;
  }
  const tables = [t0];
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1];
    const next = new Int32Array(256);
    for (let n = 0; n < 256; n++) next[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    tables.push(next);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = makeTables();

/**
 * Computes the CRC-32C of `data[start..end)`, optionally continuing an earlier one.
 *
 * @param data The bytes.
 * @param start Where to start; 0 when omitted.
 * @param end Where to stop (exclusive); the end of `data` when omitted.
 * @param previous The CRC of the bytes before `start`, to checksum in pieces; 0 to start afresh.
 * @returns The CRC as an unsigned 32-bit integer.
 */
export function crc32c(
  data: Uint8Array,
  start = 0,
  end: number = data.length,
  previous = 0,
): number {
  let crc = ~previous;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc = T7[a & 0xff] ^ T6[(a >>> 8) & 0xff] ^ T5[(a >>> 16) & 0xff] ^ T4[a >>> 24] ^
      T3[data[i + 4]] ^ T2[data[i + 5]] ^ T1[data[i + 6]] ^ T0[data[i + 7]];
  }
  for (; i < end; i++) crc = T0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
