/**
 * A first-in first-out queue over an array with a moving head, so that taking from the front
 * is O(1) without `Array.prototype.shift`'s copying.
 *
 * @module
 */

/** Compact the backing array once this many slots at its front are spent. */
const COMPACT_AT = 1024;

/** An O(1) FIFO queue. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** The number of items held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Looks at the front item.
   *
   * @returns The front item without removing it, or `undefined` when empty.
   */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /**
   * Looks at an item without removing it.
   *
   * @param index How many places from the front (0 is the front).
   * @returns The item, or `undefined` past the back.
   */
  at(index: number): T | undefined {
    const i = this.#head + index;
    return i < this.#items.length ? this.#items[i] : undefined;
  }

  /**
   * Appends an item at the back.
   *
   * @param item The item.
   */
  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Takes the front item.
   *
   * @returns The front item, removed, or `undefined` when empty.
   */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head === items.length) return undefined;
    const item = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
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
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (keep(item)) next.push(item);
    }
    this.#items = next;
    this.#head = 0;
  }

  /**
   * Takes every item.
   *
   * @returns Every item front to back; the queue is then empty.
   */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}
