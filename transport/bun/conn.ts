/**
 * The Bun `Conn`: a Bun socket under the shared {@link ConnCore}, driven by the socket
 * handlers Bun calls, and the mapping of Bun's socket errors onto the transport error classes.
 *
 * @module
 */

import { ConnCore } from "../conn_core.ts";
import { dialFailure } from "../dial.ts";
import { ConnectionClosedError, KafkaTransportError } from "../errors.ts";
import { classifyTlsFailure, tlsFailure } from "../tls_hints.ts";
import type { BunSocketHandlers, BunSocketLike } from "./types.ts";

/** What a connection needs to know about its own setup. */
export interface BunConnSetup {
  target: string;
  secure: boolean;
  /** Client: reject untrusted certificates. Server: require a trusted client certificate. */
  verify: boolean;
  noDelay: boolean;
  keepAlive: boolean;
  /** Called once the connection is usable (TCP open, and TLS handshake done). */
  established: (conn: BunConn) => void;
  /** Called when the connection fails before it was established. */
  failed: (error: KafkaTransportError) => void;
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function connectFailure(error: unknown, target: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const code = errorCode(error);
  const kind = code === "ECONNREFUSED"
    ? "refused"
    : code === "ETIMEDOUT"
    ? "timed-out"
    : "unreachable";
  return dialFailure(kind, target, errorText(error), error);
}

/** A `Conn` over a Bun socket; it is the socket's `data`, driven by the handlers. */
export class BunConn extends ConnCore {
  readonly #setup: BunConnSetup;
  #socket: BunSocketLike | null = null;
  #established = false;
  /** The write Bun took only in part: the rest goes out on `drain`. */
  #partial: Uint8Array | null = null;
  #resolveSend: (() => void) | null = null;

  constructor(setup: BunConnSetup) {
    super(setup.target, setup.secure);
    this.#setup = setup;
  }

  onOpen(socket: BunSocketLike): void {
    this.#socket = socket;
    if (this.ending !== null) {
      // Given up (timeout, abort) while Bun was still connecting.
      socket.terminate();
      return;
    }
    socket.setNoDelay(this.#setup.noDelay);
    if (this.#setup.keepAlive) socket.setKeepAlive(true);
    if (!this.secure) this.#establish();
  }

  onHandshake(success: boolean, authorizationError: Error | null): void {
    if (this.ending !== null || this.#established) return;
    const { verify, target } = this.#setup;
    if (authorizationError !== null) {
      // Bun reports a peer that hung up or spoke no TLS here too; only certificate problems
      // may be waved through, and only when verification is off.
      const detail = errorText(authorizationError);
      const kind = classifyTlsFailure(detail);
      if (verify || (kind !== "untrusted" && kind !== "hostname" && kind !== "expired")) {
        this.fail(tlsFailure(target, detail, authorizationError));
        return;
      }
    } else if (verify && !success) {
      // A server requesting client certificates: success says whether the client was authorized.
      this.fail(tlsFailure(target, "the peer's certificate was not authorized", null));
      return;
    }
    this.#establish();
  }

  onData(chunk: Uint8Array): void {
    this.push(chunk);
  }

  onDrain(): void {
    const rest = this.#partial;
    if (rest === null || this.ending !== null) return;
    const accepted = this.#socket!.write(rest);
    if (accepted < 0) {
      this.#writeLost();
      return;
    }
    if (accepted < rest.length) {
      this.#partial = rest.subarray(accepted);
      return;
    }
    this.#partial = null;
    const resolve = this.#resolveSend!;
    this.#resolveSend = null;
    resolve();
  }

  onEnd(): void {
    this.endOfInput();
  }

  onClose(error: Error | undefined): void {
    if (this.ending !== null) return;
    const { target } = this.#setup;
    if (!this.#established && this.secure && this.#socket !== null) {
      const detail = error === undefined
        ? "ECONNRESET: the peer closed the connection during the handshake"
        : errorText(error);
      this.fail(tlsFailure(target, detail, error));
      return;
    }
    if (error === undefined) {
      this.endOfInput();
      return;
    }
    this.fail(
      new ConnectionClosedError(`Connection to ${target} was lost (${errorText(error)})`, {
        cause: error,
      }),
    );
  }

  onError(error: Error): void {
    if (this.ending !== null) return;
    const { target } = this.#setup;
    this.fail(
      this.secure
        ? tlsFailure(target, errorText(error), error, this.#established ? "session" : "handshake")
        : new ConnectionClosedError(`Connection to ${target} failed (${errorText(error)})`, {
          cause: error,
        }),
    );
  }

  onConnectError(error: unknown): void {
    if (this.ending === null) this.fail(connectFailure(error, this.#setup.target));
  }

  protected send(bytes: Uint8Array): Promise<void> | undefined {
    const accepted = this.#socket!.write(bytes);
    if (accepted === bytes.length) return undefined;
    if (accepted < 0) throw this.#lostWhileWriting();
    this.#partial = bytes.subarray(accepted);
    return new Promise((resolve) => {
      this.#resolveSend = resolve;
    });
  }

  /**
   * Bun may call the close handler synchronously from `end()`; the connection has ended by
   * then, so that call is ignored.
   */
  protected release(): void {
    this.#partial = null;
    this.#resolveSend = null;
    if (!this.#established) {
      this.#setup.failed(
        this.ending?.reason ??
          new ConnectionClosedError(`Connection to ${this.#setup.target} was closed`),
      );
    }
    this.#socket?.end();
  }

  protected ioError(error: unknown): KafkaTransportError {
    return error instanceof KafkaTransportError ? error : new ConnectionClosedError(
      `Connection to ${this.#setup.target} was lost while writing to it (${errorText(error)})`,
      { cause: error },
    );
  }

  protected override pauseInput(): void {
    this.#socket!.pause();
  }

  protected override resumeInput(): void {
    this.#socket!.resume();
  }

  #establish(): void {
    this.#established = true;
    this.#setup.established(this);
  }

  #lostWhileWriting(): ConnectionClosedError {
    return new ConnectionClosedError(
      `Connection to ${this.#setup.target} was lost while writing to it (the socket is closed)`,
    );
  }

  /** Bun refused the rest of a write (socket already closed): the connection is gone. */
  #writeLost(): void {
    this.fail(this.#lostWhileWriting());
  }
}

function connOf(socket: BunSocketLike): BunConn {
  return socket.data as BunConn;
}

/** Handlers shared by every socket, dispatching to the connection stored in `socket.data`. */
export const HANDLERS: BunSocketHandlers = {
  binaryType: "uint8array",
  open: (socket) => connOf(socket).onOpen(socket),
  handshake: (socket, success, error) => connOf(socket).onHandshake(success, error),
  data: (socket, chunk) => connOf(socket).onData(chunk),
  drain: (socket) => connOf(socket).onDrain(),
  end: (socket) => connOf(socket).onEnd(),
  close: (socket, error) => connOf(socket).onClose(error),
  error: (socket, error) => connOf(socket).onError(error),
  connectError: (socket, error) => connOf(socket).onConnectError(error),
};
