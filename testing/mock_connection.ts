/**
 * One connection served by the test broker: splits the byte stream into requests, applies
 * the SASL gate and the faults, routes each request to a custom handler or a built-in answer,
 * and writes the replies in request order (or as they become ready, with `outOfOrder`),
 * coalescing replies that are ready together into one write.
 *
 * @module
 */

import { FrameDecoder } from "../framing/decoder.ts";
import { readRequestHeader, type RequestHeader } from "../framing/header.ts";
import { Reader } from "../framing/reader.ts";
import { apiName, ApiVersions } from "../protocol/api_versions.ts";
import { Metadata } from "../protocol/metadata.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";
import type { TimerHandle } from "../transport/clock.ts";
import type { Conn } from "../transport/conn.ts";
import { asKafkaError, ConnectionClosedError, KafkaTransportError } from "../transport/errors.ts";
import type { BrokerState } from "./broker_state.ts";
import {
  answerApiVersions,
  answerMetadata,
  answerSaslAuthenticate,
  answerSaslHandshake,
} from "./builtin_apis.ts";
import { answerDataApi, isDataApi } from "./data_apis.ts";
import { type FaultPlan, NO_FAULTS } from "./faults.ts";
import { type MockConnectionInfo, type MockReply, NO_REPLY } from "./handler.ts";
import { SaslSession } from "./sasl_session.ts";
import { answerUnserved } from "./unserved_apis.ts";

/** A reply waiting for its turn on the wire. */
interface Slot {
  readonly correlationId: number;
  /** Write response header v1 (with tagged fields) instead of v0. */
  readonly flexibleHeader: boolean;
  /** A bare SASL token frame: no response header at all. */
  readonly raw: boolean;
  readonly plan: FaultPlan;
  /** The response body; `undefined` until the answer is ready. */
  body: MockReply | undefined;
  /** A fault delay is still holding the reply. */
  held: boolean;
  /** Close the connection once this reply is written. */
  closeAfter: boolean;
}

function isSaslKey(apiKey: number): boolean {
  return apiKey === SaslHandshake.key || apiKey === SaslAuthenticate.key;
}

function isReady(slot: Slot): boolean {
  return slot.body !== undefined && !slot.held;
}

/** The bytes a slot puts on the wire, before any partial-write fault cuts them. */
function wireSize(slot: Slot): number {
  if (slot.plan.replace) return slot.plan.replace.length;
  const body = slot.body as MockReply;
  if (body === NO_REPLY) return 0;
  const header = slot.raw ? 0 : slot.flexibleHeader ? 5 : 4;
  return 4 + header + body.length;
}

/** Writes a slot's bytes at `pos` and returns the position after them. */
function writeSlot(slot: Slot, buf: Uint8Array, view: DataView, pos: number): number {
  if (slot.plan.replace) {
    buf.set(slot.plan.replace, pos);
    return pos + slot.plan.replace.length;
  }
  const body = slot.body as MockReply;
  if (body === NO_REPLY) return pos;
  const start = pos;
  pos += 4;
  if (!slot.raw) {
    view.setInt32(pos, slot.correlationId);
    pos += 4;
    // An empty tagged-field section is the single byte 0.
    if (slot.flexibleHeader) buf[pos++] = 0;
  }
  buf.set(body, pos);
  pos += body.length;
  view.setInt32(start, pos - start - 4);
  return pos;
}

/** One accepted connection of the test broker. */
export class MockConnection implements MockConnectionInfo {
  /** The connection id, counting from 1 per broker. */
  readonly id: number;
  /** Settles once the connection is closed and its read loop has ended. */
  readonly done: Promise<void>;
  readonly #conn: Conn;
  readonly #state: BrokerState;
  readonly #sasl: SaslSession | undefined;
  readonly #decoder = new FrameDecoder();
  /** Replies not yet written, in request order. */
  readonly #pending: Slot[] = [];
  readonly #timers = new Set<TimerHandle>();
  /** Cancels the long polls of fetches still waiting, when the connection closes. */
  readonly #polls = new Set<() => void>();
  #closed = false;
  /** A reply that ends the connection is being written: nothing more is read or written. */
  #closing = false;
  /** A partial-write fault fired: nothing more is written until the connection closes. */
  #stalled = false;
  #flushQueued = false;

  /**
   * Starts serving `conn`.
   *
   * @param id The connection id.
   * @param conn The server end of the connection.
   * @param state The broker's shared state.
   */
  constructor(id: number, conn: Conn, state: BrokerState) {
    this.id = id;
    this.#conn = conn;
    this.#state = state;
    this.#sasl = state.sasl ? new SaslSession(state.sasl) : undefined;
    this.done = this.#run();
  }

  /** Whether SASL authentication succeeded on this connection. */
  get authenticated(): boolean {
    return this.#sasl?.authenticated ?? false;
  }

  /** The authenticated user, once SASL succeeded. */
  get user(): string | undefined {
    return this.#sasl?.user;
  }

  /**
   * Closes the connection, dropping replies not yet written and their delay timers.
   *
   * @param reason Why, reported through the server end's `closed` promise.
   */
  close(reason?: KafkaTransportError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) this.#state.clock.clearTimeout(timer);
    this.#timers.clear();
    for (const cancel of [...this.#polls]) cancel();
    this.#polls.clear();
    this.#pending.length = 0;
    this.#conn.close(reason);
  }

  readonly #isFlexible = (apiKey: number, apiVersion: number): boolean =>
    this.#state.apis.isFlexible(apiKey, apiVersion);

  readonly #onWriteError = (error: unknown): void => {
    this.close(asKafkaError(error, `Mock broker connection ${this.id}: write failed`));
  };

  readonly #closeNow = (): void => this.close();

  async #run(): Promise<void> {
    try {
      while (!this.#closed) {
        const chunk = await this.#conn.read();
        if (chunk === null) break;
        this.#decoder.push(chunk);
        for (let frame = this.#decoder.next(); frame !== null; frame = this.#decoder.next()) {
          if (this.#closed || this.#closing) break;
          // Only SASL steps return a promise here: later requests must see their outcome.
          const step = this.#onFrame(frame);
          if (step) await step;
        }
      }
      this.close();
    } catch (error) {
      this.close(asKafkaError(error, `Mock broker connection ${this.id}: bad request stream`));
    }
  }

  #onFrame(frame: Uint8Array): Promise<void> | undefined {
    const sasl = this.#sasl;
    if (sasl?.raw) return this.#onRawToken(sasl, frame);
    const state = this.#state;
    const body = new Reader(frame);
    const header = readRequestHeader(body, this.#isFlexible);
    const { apiKey, apiVersion, correlationId } = header;
    state.requests?.push({
      apiKey,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      at: state.clock.now(),
      connId: this.id,
    });
    const plan = state.faults.take(apiKey);
    const refusal = plan.close ? "faults.closeOnRequest fired" : this.#refusal(header);
    if (refusal !== undefined) {
      this.close(
        new ConnectionClosedError(
          `Mock broker closed connection ${this.id} at ${apiName(apiKey)} v${apiVersion} ` +
            `(correlation id ${correlationId}): ${refusal}`,
        ),
      );
      return undefined;
    }
    const slot: Slot = {
      correlationId,
      flexibleHeader: apiKey !== ApiVersions.key && state.apis.isFlexible(apiKey, apiVersion),
      raw: false,
      plan,
      body: undefined,
      held: false,
      closeAfter: false,
    };
    this.#enqueue(slot);
    if (plan.drop) {
      this.#settle(slot, NO_REPLY, false);
      return undefined;
    }
    const custom = plan.errorCode === undefined ? state.apis.handler(apiKey) : undefined;
    if (custom !== undefined) {
      let reply: MockReply | Promise<MockReply>;
      try {
        reply = custom({ header, body, conn: this });
      } catch (error) {
        this.#handlerFailed(header, error);
        return undefined;
      }
      if (reply instanceof Promise) {
        reply.then(
          (b) => this.#settle(slot, b, false),
          (error) => this.#handlerFailed(header, error),
        );
      } else {
        this.#settle(slot, reply, false);
      }
      return undefined;
    }
    switch (apiKey) {
      case ApiVersions.key:
        this.#settle(slot, answerApiVersions(state, body, apiVersion, plan.errorCode), false);
        return undefined;
      case Metadata.key:
        this.#settle(slot, answerMetadata(state, body, apiVersion, plan.errorCode), false);
        return undefined;
      case SaslHandshake.key: {
        const answer = answerSaslHandshake(this.#sasl, body, apiVersion, plan.errorCode);
        this.#settle(slot, answer.body, answer.closeAfter);
        return undefined;
      }
      case SaslAuthenticate.key:
        return answerSaslAuthenticate(
          this.#sasl,
          body,
          apiVersion,
          state.clock.now(),
          plan.errorCode,
        ).then(
          (answer) => this.#settle(slot, answer.body, answer.closeAfter),
          (error) => this.#handlerFailed(header, error),
        );
      default:
        // #refusal lets through only built-in, data and unserved APIs here.
        if (isDataApi(apiKey)) {
          this.#answerData(slot, header, body, plan.errorCode);
        } else {
          this.#settle(slot, answerUnserved(apiKey, apiVersion, body, plan.errorCode), false);
        }
        return undefined;
    }
  }

  #answerData(
    slot: Slot,
    header: RequestHeader,
    body: Reader,
    faultCode: number | undefined,
  ): void {
    let reply: MockReply | Promise<MockReply>;
    try {
      reply = answerDataApi(this.#state, header, body, faultCode, this.#polls);
    } catch (error) {
      this.#handlerFailed(header, error);
      return;
    }
    if (reply instanceof Promise) {
      reply.then(
        (b) => this.#settle(slot, b, false),
        (error) => this.#handlerFailed(header, error),
      );
    } else {
      this.#settle(slot, reply, false);
    }
  }

  /**
   * Why Kafka would close the connection instead of answering this request, if it would.
   *
   * @returns The reason, or `undefined` to answer.
   */
  #refusal(header: RequestHeader): string | undefined {
    const { apiKey, apiVersion } = header;
    const sasl = this.#sasl;
    if (sasl && !isSaslKey(apiKey)) {
      if (!sasl.authenticated && apiKey !== ApiVersions.key) {
        return "the request arrived before SASL authentication completed";
      }
      if (sasl.expired(this.#state.clock.now())) {
        return "the SASL session expired (sessionLifetimeMs) without re-authentication";
      }
    }
    const apis = this.#state.apis;
    const custom = apis.handler(apiKey) !== undefined;
    const range = apis.range(apiKey);
    if (range === undefined) {
      if (apis.isUnserved(apiKey, apiVersion)) return undefined;
      return custom ? undefined : "the broker does not support this API (register a handler " +
        "with broker.handle() or advertise it with the apiVersions option)";
    }
    if (apiKey === ApiVersions.key && !custom) return undefined;
    if (apiVersion < range.minVersion || apiVersion > range.maxVersion) {
      return `the version is outside the advertised range ${range.minVersion}..${range.maxVersion}`;
    }
    if (!custom && !apis.isBuiltin(apiKey)) {
      return "the API is advertised (apiVersions option) but has no handler (broker.handle())";
    }
    return undefined;
  }

  #onRawToken(sasl: SaslSession, frame: Uint8Array): Promise<void> {
    const slot: Slot = {
      correlationId: 0,
      flexibleHeader: false,
      raw: true,
      plan: NO_FAULTS,
      body: undefined,
      held: false,
      closeAfter: false,
    };
    this.#enqueue(slot);
    return sasl.rawToken(frame, this.#state.clock.now()).then((token) => {
      if (token !== null) {
        this.#settle(slot, token, false);
        return;
      }
      this.close(
        new ConnectionClosedError(
          `Mock broker closed connection ${this.id}: SASL authentication failed ` +
            "(bare token frames after SaslHandshake v0 cannot carry an error)",
        ),
      );
    });
  }

  #enqueue(slot: Slot): void {
    this.#pending.push(slot);
    const ms = slot.plan.delayMs;
    if (ms <= 0) return;
    slot.held = true;
    const timer = this.#state.clock.setTimeout(() => {
      this.#timers.delete(timer);
      slot.held = false;
      this.#scheduleFlush();
    }, ms);
    this.#timers.add(timer);
  }

  #settle(slot: Slot, body: MockReply, closeAfter: boolean): void {
    if (this.#closed) return;
    if (body !== NO_REPLY && !(body instanceof Uint8Array)) {
      this.close(
        new KafkaTransportError(
          `Mock broker handler returned ${typeof body} for correlation id ${slot.correlationId}: ` +
            "a handler must return the response body as a Uint8Array, or NO_REPLY",
        ),
      );
      return;
    }
    slot.body = body;
    slot.closeAfter = closeAfter;
    if (!slot.held) this.#scheduleFlush();
  }

  #handlerFailed(header: RequestHeader, error: unknown): void {
    this.close(
      asKafkaError(
        error,
        `Mock broker handler for ${apiName(header.apiKey)} v${header.apiVersion} ` +
          `(correlation id ${header.correlationId}) failed`,
      ),
    );
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // Replies that become ready in the same turn (pipelined requests in one chunk) go out
    // together in one write.
    queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#closed || this.#closing || this.#stalled) return;
    const out = this.#takeReady();
    if (out.length === 0) return;
    let size = 0;
    let limit = -1;
    let count = 0;
    let closeAfter = false;
    for (const slot of out) {
      const n = wireSize(slot);
      count++;
      if (slot.plan.partial) {
        limit = size + Math.floor(n / 2);
        size += n;
        this.#stalled = true;
        break;
      }
      size += n;
      if (slot.closeAfter || slot.plan.closeAfterReplace) {
        closeAfter = true;
        this.#closing = true;
        break;
      }
    }
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    let pos = 0;
    for (let i = 0; i < count; i++) pos = writeSlot(out[i], buf, view, pos);
    const bytes = limit >= 0 ? buf.subarray(0, limit) : buf;
    if (bytes.length === 0) {
      if (closeAfter) this.close();
      return;
    }
    this.#conn.write(bytes).then(closeAfter ? this.#closeNow : undefined, this.#onWriteError);
  };

  /** Removes and returns the replies that may be written now. */
  #takeReady(): Slot[] {
    const pending = this.#pending;
    if (this.#state.outOfOrder) {
      const ready: Slot[] = [];
      let kept = 0;
      for (const slot of pending) {
        if (isReady(slot)) ready.push(slot);
        else pending[kept++] = slot;
      }
      pending.length = kept;
      return ready;
    }
    let n = 0;
    while (n < pending.length && isReady(pending[n])) n++;
    return pending.splice(0, n);
  }
}
