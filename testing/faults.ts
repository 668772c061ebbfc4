/**
 * Fault injection for the test broker: delays, error codes, dropped replies and connections,
 * half-written, garbage and HTTP replies. Faults are per broker node and apply to requests
 * arriving after they are set.
 *
 * @module
 */

import { ConfigError } from "../transport/errors.ts";

/** Controls the faults the test broker injects; reached through `broker.faults`. */
export interface MockFaults {
  /**
   * Holds every reply (or only replies to `apiKey`) for `ms` milliseconds of the broker's
   * clock after its request arrived. Replies still go out in request order per connection
   * unless the broker runs with `outOfOrder`, so a delayed reply holds back later ones. Stays
   * in force until replaced, set to 0 or {@link MockFaults.clear}ed.
   *
   * @param ms The delay; 0 removes it.
   * @param apiKey Only delay this API; every API when omitted. A per-API delay wins over the
   *   delay for every API.
   */
  delay(ms: number, apiKey?: number): void;
  /**
   * Answers the next `count` requests of `apiKey` with `code` instead of success. Only for the
   * APIs the broker encodes itself: ApiVersions, Metadata (every topic carries the code),
   * SaslHandshake and SaslAuthenticate (which, like Kafka, then closes the connection), and on
   * the nodes of a `MockCluster` also Produce, Fetch and ListOffsets (every partition carries
   * the code) and CreateTopics and DeleteTopics (every topic does).
   *
   * @param apiKey The API to fail.
   * @param code The Kafka error code to answer with.
   * @param count How many requests to fail.
   */
  error(apiKey: number, code: number, count?: number): void;
  /**
   * Swallows the next `count` requests of `apiKey` (of any API when omitted): the broker reads
   * them and never answers, while the connection stays open and later replies still go out,
   * as when a reply is lost. The client's request timeout is what ends the wait.
   *
   * @param apiKey Only drop requests of this API; every API when omitted.
   * @param count How many requests to drop; 1 when omitted.
   */
  drop(apiKey?: number, count?: number): void;
  /**
   * Closes the connection, without a reply, on which the `n`th request from now arrives
   * (counting requests on all connections; 1 is the next one).
   *
   * @param n Which request triggers the close.
   */
  closeOnRequest(n: number): void;
  /**
   * Writes only the first half of the next reply frame (to `apiKey`, when given), then writes
   * nothing more on that connection until it is closed: a broker stuck mid-reply.
   *
   * @param apiKey Only stall a reply to this API; the next reply of any API when omitted.
   */
  partialThenStall(apiKey?: number): void;
  /**
   * Replaces the next reply with `bytes`, which by default start with a negative frame size
   * (0xdeadbeef) so that the client's frame guard must reject them.
   *
   * @param bytes What to send instead of the reply.
   */
  garbage(bytes?: Uint8Array): void;
  /**
   * Replaces the next reply with an HTTP "400 Bad Request" response and closes the
   * connection, as an HTTP server on a Kafka port would.
   */
  httpReply(): void;
  /** Removes every fault. */
  clear(): void;
}

/** What the faults do to one request, decided when it arrives. */
export interface FaultPlan {
  /** Milliseconds to hold the reply. */
  readonly delayMs: number;
  /** An error code to answer with instead of success. */
  readonly errorCode: number | undefined;
  /** Close the connection instead of answering. */
  readonly close: boolean;
  /** Read the request and never answer it. */
  readonly drop: boolean;
  /** Write half the reply, then stall the connection. */
  readonly partial: boolean;
  /** Bytes to send instead of the reply. */
  readonly replace: Uint8Array | undefined;
  /** Close the connection once the replacement bytes are written. */
  readonly closeAfterReplace: boolean;
}

/** The plan of a request no fault touches, shared so the common path allocates nothing. */
export const NO_FAULTS: FaultPlan = Object.freeze({
  delayMs: 0,
  errorCode: undefined,
  close: false,
  drop: false,
  partial: false,
  replace: undefined,
  closeAfterReplace: false,
});

const GARBAGE = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef]);

const HTTP_400 = new TextEncoder().encode(
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n" +
    "Connection: close\r\n\r\nBad Request",
);

/** Every fault selector that takes an API key matches this when no key is given. */
const ANY_API = -1;

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`faults.${what} must be a positive integer, got ${n}`);
  }
}

/**
 * The broker's fault state: implements {@link MockFaults} for tests and hands the broker one
 * {@link FaultPlan} per arriving request.
 */
export class FaultInjector implements MockFaults {
  readonly #encodedKeys: ReadonlySet<number>;
  readonly #delays = new Map<number, number>();
  readonly #errors = new Map<number, { code: number; left: number }>();
  readonly #drops = new Map<number, number>();
  #closeCountdown = 0;
  #partialKey: number | undefined;
  #replace: Uint8Array | undefined;
  #closeAfterReplace = false;

  /**
   * @param encodedKeys The API keys whose replies the broker encodes itself, the only ones
   *   {@link FaultInjector.error} accepts.
   */
  constructor(encodedKeys: ReadonlySet<number>) {
    this.#encodedKeys = encodedKeys;
  }

  /** @inheritdoc */
  delay(ms: number, apiKey: number = ANY_API): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new ConfigError(`faults.delay needs a finite number of milliseconds >= 0, got ${ms}`);
    }
    if (ms === 0) this.#delays.delete(apiKey);
    else this.#delays.set(apiKey, ms);
  }

  /** @inheritdoc */
  error(apiKey: number, code: number, count = 1): void {
    if (!this.#encodedKeys.has(apiKey)) {
      throw new ConfigError(
        `faults.error cannot fail API key ${apiKey}: the broker only encodes replies for API ` +
          `keys ${[...this.#encodedKeys].join(", ")}; answer with an error from your own ` +
          `broker.handle() handler instead`,
      );
    }
    if (!Number.isInteger(code) || code === 0 || code < -32768 || code > 32767) {
      throw new ConfigError(`faults.error needs a non-zero int16 Kafka error code, got ${code}`);
    }
    checkCount("error count", count);
    this.#errors.set(apiKey, { code, left: count });
  }

  /** @inheritdoc */
  drop(apiKey: number = ANY_API, count = 1): void {
    checkCount("drop count", count);
    this.#drops.set(apiKey, count);
  }

  /** @inheritdoc */
  closeOnRequest(n: number): void {
    checkCount("closeOnRequest", n);
    this.#closeCountdown = n;
  }

  /** @inheritdoc */
  partialThenStall(apiKey: number = ANY_API): void {
    this.#partialKey = apiKey;
  }

  /** @inheritdoc */
  garbage(bytes: Uint8Array = GARBAGE): void {
    this.#replace = bytes;
    this.#closeAfterReplace = false;
  }

  /** @inheritdoc */
  httpReply(): void {
    this.#replace = HTTP_400;
    this.#closeAfterReplace = true;
  }

  /** @inheritdoc */
  clear(): void {
    this.#delays.clear();
    this.#errors.clear();
    this.#drops.clear();
    this.#closeCountdown = 0;
    this.#partialKey = undefined;
    this.#replace = undefined;
    this.#closeAfterReplace = false;
  }

  /**
   * Decides what happens to a request that just arrived, consuming one-shot faults.
   *
   * @param apiKey The request's API key.
   * @returns The plan for its reply.
   */
  take(apiKey: number): FaultPlan {
    if (
      this.#delays.size === 0 && this.#errors.size === 0 && this.#drops.size === 0 &&
      this.#closeCountdown === 0 &&
      this.#partialKey === undefined && this.#replace === undefined
    ) {
      return NO_FAULTS;
    }
    if (this.#closeCountdown > 0 && --this.#closeCountdown === 0) {
      return { ...NO_FAULTS, close: true };
    }
    for (const key of [apiKey, ANY_API]) {
      const left = this.#drops.get(key);
      if (left === undefined) continue;
      if (left === 1) this.#drops.delete(key);
      else this.#drops.set(key, left - 1);
      return { ...NO_FAULTS, drop: true };
    }
    const delayMs = this.#delays.get(apiKey) ?? this.#delays.get(ANY_API) ?? 0;
    let errorCode: number | undefined;
    const error = this.#errors.get(apiKey);
    if (error) {
      errorCode = error.code;
      if (--error.left === 0) this.#errors.delete(apiKey);
    }
    let partial = false;
    if (this.#partialKey === ANY_API || this.#partialKey === apiKey) {
      partial = true;
      this.#partialKey = undefined;
    }
    const replace = this.#replace;
    const closeAfterReplace = this.#closeAfterReplace;
    this.#replace = undefined;
    this.#closeAfterReplace = false;
    return { delayMs, errorCode, close: false, drop: false, partial, replace, closeAfterReplace };
  }
}
