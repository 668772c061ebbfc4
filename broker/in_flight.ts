/**
 * The in-flight table of a connection: requests written and awaiting replies by correlation
 * id, the ids of requests settled before their reply (orphans, whose late replies are
 * discarded by id), and the correlation counter.
 *
 * Ids are handed out in sequence, so the requests in flight occupy a run of consecutive ids:
 * they live in a ring indexed by the id's low bits, which costs no allocation per request (a
 * `Map` rehashes as entries come and go: about 90 bytes per request at 128 in flight). An id
 * whose slot is still taken (more than {@link RING_SIZE} in flight) goes to an overflow map.
 *
 * @module
 */

import type { Pending } from "./pending.ts";

/**
 * How many settled-but-unanswered correlation ids are remembered, so that their late replies
 * count as discarded rather than unknown; older ones are forgotten first.
 */
const ORPHAN_LIMIT = 65_536;

/** Slots of the ring: a power of two. */
const RING_SIZE = 1024;
const RING_MASK = RING_SIZE - 1;

/** Requests awaiting replies, by correlation id. */
export class InFlightTable {
  readonly #ring: (Pending | undefined)[] = new Array(RING_SIZE).fill(undefined);
  readonly #overflow = new Map<number, Pending>();
  #size = 0;
  /**
   * Correlation ids of requests written and then settled without their reply (timed out,
   * aborted): they no longer take an in-flight slot, and a late reply is discarded by id.
   */
  readonly #orphans = new Set<number>();
  #nextId = 0;

  /** Requests awaiting replies. */
  get size(): number {
    return this.#size;
  }

  /** The correlation id the next request written gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /**
   * Registers a request written with {@link InFlightTable.nextId}, and moves the counter on:
   * a 31-bit counter that wraps and never resets per socket, so ids stay positive int32s.
   *
   * @param p The request.
   */
  add(p: Pending): void {
    const id = this.#nextId;
    this.#nextId = (id + 1) & 0x7fffffff;
    p.correlationId = id;
    const slot = id & RING_MASK;
    if (this.#ring[slot] === undefined) this.#ring[slot] = p;
    else this.#overflow.set(id, p);
    this.#size++;
  }

  /**
   * Takes the request a reply answers.
   *
   * @param id The reply's correlation id.
   * @returns The request, or `undefined` for an orphan or an unknown id.
   */
  take(id: number): Pending | undefined {
    const slot = id & RING_MASK;
    const p = this.#ring[slot];
    if (p !== undefined && p.correlationId === id) {
      this.#ring[slot] = undefined;
      this.#size--;
      return p;
    }
    if (this.#overflow.size === 0) return undefined;
    const q = this.#overflow.get(id);
    if (q !== undefined) {
      this.#overflow.delete(id);
      this.#size--;
    }
    return q;
  }

  /**
   * Forgets an orphan whose late reply arrived.
   *
   * @param id The reply's correlation id.
   * @returns Whether it was an orphan.
   */
  claimOrphan(id: number): boolean {
    return this.#orphans.delete(id);
  }

  /**
   * Frees the slot of a request settled before its reply (or needing none).
   *
   * @param p The request.
   * @returns Whether it was in the table.
   */
  release(p: Pending): boolean {
    if (!this.#holds(p)) return false;
    this.take(p.correlationId);
    if (p.expectResponse) {
      if (this.#orphans.size >= ORPHAN_LIMIT) {
        this.#orphans.delete(this.#orphans.values().next().value!);
      }
      this.#orphans.add(p.correlationId);
    }
    return true;
  }

  /**
   * Removes a request that needs no reply once written.
   *
   * @param p The request.
   */
  remove(p: Pending): void {
    if (this.#holds(p)) this.take(p.correlationId);
  }

  /**
   * The requests awaiting replies, oldest first (used on timeouts and teardown, not per
   * request).
   *
   * @returns A snapshot: settling them while iterating is safe.
   */
  values(): Pending[] {
    const all: Pending[] = [];
    if (this.#size === 0) return all;
    for (const p of this.#ring) if (p !== undefined) all.push(p);
    for (const p of this.#overflow.values()) all.push(p);
    // Age in ids, which stays right across the 31-bit wrap.
    const next = this.#nextId;
    return all.sort((a, b) =>
      ((next - b.correlationId) & 0x7fffffff) - ((next - a.correlationId) & 0x7fffffff)
    );
  }

  #holds(p: Pending): boolean {
    const id = p.correlationId;
    return this.#ring[id & RING_MASK] === p || this.#overflow.get(id) === p;
  }

  /**
   * Empties the table (the socket is gone: no reply can come).
   *
   * @returns The requests that were in it.
   */
  clear(): Pending[] {
    const all = this.values();
    this.#ring.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
    this.#orphans.clear();
    return all;
  }
}
