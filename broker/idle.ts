/**
 * Idle reaping (`connectionsMaxIdleMs`): closes a connection once nothing has moved on it for
 * the idle limit, checking on a timer instead of on every request.
 *
 * @module
 */

import type { Clock, Random, TimerHandle } from "../transport/clock.ts";

/** What the reaper asks the connection. */
export interface IdleSubject {
  /** Whether anything is queued, in flight, being written, or the connection is not UP. */
  busy(): boolean;
  /** When bytes last moved, on the connection's clock. */
  lastActivity(): number;
  /**
   * Closes the connection as idle.
   *
   * @param idleMs How long it was idle.
   */
  reap(idleMs: number): void;
}

/** The idle timer of one connection. */
export class IdleReaper {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #maxIdleMs: number;
  readonly #subject: IdleSubject;
  #timer: TimerHandle | null = null;
  #limit = 0;

  /**
   * Creates the reaper, stopped.
   *
   * @param clock The time source.
   * @param random The jitter source.
   * @param maxIdleMs `connectionsMaxIdleMs`; 0 never reaps.
   * @param subject The connection.
   */
  constructor(clock: Clock, random: Random, maxIdleMs: number, subject: IdleSubject) {
    this.#clock = clock;
    this.#random = random;
    this.#maxIdleMs = maxIdleMs;
    this.#subject = subject;
  }

  /** Starts watching a connection that just reached UP. */
  start(): void {
    const ms = this.#maxIdleMs;
    if (ms === 0) return;
    // librdkafka subtracts up to 2 s so that many connections do not all close at once; at
    // most half the setting here, so that small settings keep their meaning.
    this.#limit = ms - Math.floor(this.#random() * Math.min(2000, ms / 2));
    this.#timer = this.#clock.setTimeout(this.#check, this.#limit);
  }

  /** Stops watching (the connection went down). */
  stop(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  readonly #check = (): void => {
    this.#timer = null;
    const busy = this.#subject.busy();
    const idle = this.#clock.now() - this.#subject.lastActivity();
    if (!busy && idle >= this.#limit) {
      this.#subject.reap(idle);
      return;
    }
    this.#timer = this.#clock.setTimeout(this.#check, busy ? this.#limit : this.#limit - idle);
  };
}
