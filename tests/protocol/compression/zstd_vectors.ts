/**
 * The zstd test vectors in `zstd_vectors/` (made by `make_zstd_vectors.py` with the zstd CLI)
 * and helpers to load and check them.
 *
 * @module
 */

import { readFileSync } from "node:fs";

/** One vector: a compressed file and what it must decompress to. */
export interface ZstdVector {
  /** The file name in `zstd_vectors/`. */
  readonly file: string;
  /** The generated input it was made from. */
  readonly input: string;
  /** The zstd CLI options it was made with. */
  readonly options: readonly string[];
  /** The decompressed size. */
  readonly size: number;
  /** The SHA-256 of the decompressed bytes, hexadecimal. */
  readonly sha256: string;
}

const dir = new URL("./zstd_vectors/", import.meta.url);

/**
 * Reads a file of `zstd_vectors/`.
 *
 * @param file The file name.
 * @returns Its bytes.
 */
export function readVector(file: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(file, dir)));
}

/** Every vector of the manifest. */
export const VECTORS: readonly ZstdVector[] = JSON.parse(
  new TextDecoder().decode(readVector("manifest.json")),
).vectors;

/**
 * The SHA-256 of some bytes, hexadecimal.
 *
 * @param data The bytes.
 * @returns 64 hex digits.
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
