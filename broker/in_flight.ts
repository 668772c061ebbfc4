/**
 * The in-flight table of a connection: requests written and awaiting replies by correlation
 * id, the ids of requests settled before their reply (orphans, whose late replies are
 * discarded by id), and the correlation counter.
 *
 * @module
 */

import type { Pending } from "./pending.ts";

/**
 * How many settled-but-unanswered correlation ids are remembered, so that their late replies
 * count as discarded rather than unknown; older ones are forgotten first.
 */
const ORPHAN_LIMIT = 65_536;

/** Requests awaiting replies, by correlation id. */
export class InFlightTable {
  readonly #byId = new Map<number, Pending>();
  /**
   * Correlation ids of requests written and then settled without their reply (timed out,
   * aborted): they no longer take an in-flight slot, and a late reply is discarded by id.
   */
  readonly #orphans = new Set<number>();
  #nextId = 0;

  /** Requests awaiting replies. */
  get size(): number {
    return this.#byId.size;
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
    this.#byId.set(id, p);
  }

  /**
   * Takes the request a reply answers.
   *
   * @param id The reply's correlation id.
   * @returns The request, or `undefined` for an orphan or an unknown id.
   */
  take(id: number): Pending | undefined {
    const p = this.#byId.get(id);
    if (p !== undefined) this.#byId.delete(id);
    return p;
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
    if (this.#byId.get(p.correlationId) !== p) return false;
    this.#byId.delete(p.correlationId);
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
    this.#byId.delete(p.correlationId);
  }

  /** The requests awaiting replies, oldest first. */
  values(): IterableIterator<Pending> {
    return this.#byId.values();
  }

  /**
   * Empties the table (the socket is gone: no reply can come).
   *
   * @returns The requests that were in it.
   */
  clear(): Pending[] {
    const all = [...this.#byId.values()];
    this.#byId.clear();
    this.#orphans.clear();
    return all;
  }
}
