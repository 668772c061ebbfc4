/**
 * Telling state listeners about changes in order: every listener is told of a change before
 * any is told of the next, including a change a listener causes while it is being told (a
 * `send()` from a DOWN listener that dials), which waits its turn.
 *
 * @module
 */

import type { StateChange } from "./state.ts";

/** The state listeners of one connection. */
export class StateEvents {
  readonly #listeners = new Set<(change: StateChange) => void>();
  /** Changes not yet told to every listener. */
  readonly #pending: StateChange[] = [];
  #emitting = false;

  /**
   * Subscribes a listener.
   *
   * @param listener Called synchronously on every change.
   * @returns A function that unsubscribes.
   */
  on(listener: (change: StateChange) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Tells every listener, then `hook`, about a change; what they throw is ignored.
   *
   * @param change The change.
   * @param hook The `onStateChange` hook, if any.
   */
  emit(change: StateChange, hook: ((change: StateChange) => void) | undefined): void {
    const pending = this.#pending;
    pending.push(change);
    if (this.#emitting) return;
    this.#emitting = true;
    try {
      for (let i = 0; i < pending.length; i++) {
        const c = pending[i];
        for (const listener of this.#listeners) {
          try {
            listener(c);
          } catch {
            // Listeners observe; a failing one must not break the state machine.
          }
        }
        try {
          hook?.(c);
        } catch {
          // As above.
        }
      }
    } finally {
      pending.length = 0;
      this.#emitting = false;
    }
  }
}
