/**
 * The SCRAM key derivation and signatures of RFC 5802 §3 on WebCrypto, shared by the client
 * mechanisms and the test broker's verifier.
 *
 * @module
 */

/** The hash functions SCRAM is defined over (SHA-1 only for RFC 5802's test vector). */
export type ScramHash = "SHA-1" | "SHA-256" | "SHA-512";

/** The keys derived from a password; the server stores only `storedKey` and `serverKey`. */
export interface ScramKeys {
  /** HMAC(SaltedPassword, "Client Key"). */
  clientKey: Uint8Array<ArrayBuffer>;
  /** H(ClientKey). */
  storedKey: Uint8Array<ArrayBuffer>;
  /** HMAC(SaltedPassword, "Server Key"). */
  serverKey: Uint8Array<ArrayBuffer>;
}

const HASH_BITS: Record<ScramHash, number> = { "SHA-1": 160, "SHA-256": 256, "SHA-512": 512 };
const encoder = new TextEncoder();
const CLIENT_KEY = encoder.encode("Client Key");
const SERVER_KEY = encoder.encode("Server Key");

/**
 * Computes HMAC with the SCRAM hash.
 *
 * @param hash The SCRAM hash.
 * @param key The HMAC key.
 * @param data The message.
 * @returns HMAC(key, data).
 */
export async function hmac(
  hash: ScramHash,
  key: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/**
 * Derives the SCRAM keys: SaltedPassword = Hi(password, salt, i) (which is PBKDF2 with HMAC
 * and one output block), then the client, stored and server keys from it.
 *
 * @param hash The SCRAM hash.
 * @param password The UTF-8 password (not SASLprep-normalized, like Kafka's own clients, so
 *   that non-ASCII passwords match credentials created with Kafka's tools).
 * @param salt The salt from the server-first message.
 * @param iterations The iteration count from the server-first message.
 * @returns The derived keys.
 */
export async function deriveScramKeys(
  hash: ScramHash,
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<ScramKeys> {
  const passwordKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash, salt, iterations },
      passwordKey,
      HASH_BITS[hash],
    ),
  );
  const clientKey = await hmac(hash, salted, CLIENT_KEY);
  const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
  const serverKey = await hmac(hash, salted, SERVER_KEY);
  return { clientKey, storedKey, serverKey };
}

/**
 * Hashes with the SCRAM hash, H() in RFC 5802.
 *
 * @param hash The SCRAM hash.
 * @param data What to hash.
 * @returns H(data).
 */
export async function digest(
  hash: ScramHash,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest(hash, data));
}

/**
 * XORs two byte strings of the same length.
 *
 * @param a First operand.
 * @param b Second operand, of the same length.
 * @returns a XOR b, as used for ClientProof = ClientKey XOR ClientSignature.
 */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Compares in time independent of where the first difference is, so that a signature or
 * proof check does not leak how many leading bytes were right.
 *
 * @param a First byte string.
 * @param b Second byte string.
 * @returns Whether both have the same length and contents.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
