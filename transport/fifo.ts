/**
 * A first-in first-out queue over an array with a moving head, so that taking from the front
 * is O(1) without `Array.prototype.shift`'s copying. Emptying it keeps the array's slots for
 * the next items (a queue that fills and empties per batch would otherwise regrow its array
 * every time: about 18 bytes per item at 128 per batch).
 *
 * @module
 */

/** Compact the backing array once this many slots at its front are spent. */
const COMPACT_AT = 1024;

/** An emptied queue keeps its array up to this many slots; a larger one is let go. */
const KEEP_SLOTS = 1024;

/** An O(1) FIFO queue. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  /** One past the back item: slots from here on are spare (`undefined`). */
  #tail = 0;

  /** The number of items held. */
  get length(): number {
    return this.#tail - this.#head;
  }

  /**
   * Looks at the front item.
   *
   * @returns The front item without removing it, or `undefined` when empty.
   */
  peek(): T | undefined {
    return this.#head < this.#tail ? this.#items[this.#head] : undefined;
  }

  /**
   * Looks at an item without removing it.
   *
   * @param index How many places from the front (0 is the front).
   * @returns The item, or `undefined` past the back.
   */
  at(index: number): T | undefined {
    const i = this.#head + index;
    return i < this.#tail ? this.#items[i] : undefined;
  }

  /**
   * Appends an item at the back.
   *
   * @param item The item.
   */
  push(item: T): void {
    const items = this.#items;
    if (this.#tail < items.length) items[this.#tail] = item;
    else items.push(item);
    this.#tail++;
  }

  /**
   * Takes the front item.
   *
   * @returns The front item, removed, or `undefined` when empty.
   */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head === this.#tail) return undefined;
    const item = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#reset(items);
    else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#tail) {
      this.#items = items.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return item;
  }

  /**
   * Keeps only the items `keep` accepts, in order.
   *
   * @param keep Returns `true` for items to keep.
   */
  retain(keep: (item: T) => boolean): void {
    const next: (T | undefined)[] = [];
    for (let i = this.#head; i < this.#tail; i++) {
      const item = this.#items[i] as T;
      if (keep(item)) next.push(item);
    }
    this.#items = next;
    this.#head = 0;
    this.#tail = next.length;
  }

  /**
   * Takes every item.
   *
   * @returns Every item front to back; the queue is then empty.
   */
  drain(): T[] {
    const out = this.#items.slice(this.#head, this.#tail) as T[];
    this.#items = [];
    this.#head = 0;
    this.#tail = 0;
    return out;
  }

  /** Empty again: slots are reused from the front, unless the array grew past the bound. */
  #reset(items: (T | undefined)[]): void {
    if (items.length > KEEP_SLOTS) this.#items = [];
    this.#head = 0;
    this.#tail = 0;
  }
}
