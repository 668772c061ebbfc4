/**
 * The Node {@link Conn}: a `node:net` socket (or `node:tls` socket, already handshaken) under
 * the shared {@link ConnCore}, and the mapping of Node's socket errors onto the transport
 * error classes.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { Conn } from "../conn.ts";
import { ConnCore } from "../conn_core.ts";
import { dialFailure } from "../dial.ts";
import { ConnectionClosedError, KafkaTransportError } from "../errors.ts";
import { tlsFailure } from "../tls_hints.ts";
import { connectionLostError, osTimeoutError } from "../io_errors.ts";

/**
 * Node's error code (`ECONNRESET`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...), if it has one.
 *
 * @param error What Node reported.
 * @returns The code, or `undefined`.
 */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Node's error as one line, its code first: the TLS hints match on either.
 *
 * @param error What Node reported.
 * @returns `CODE: message`, or the message alone.
 */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  return code === undefined || error.message.startsWith(code)
    ? error.message
    : `${code}: ${error.message}`;
}

/**
 * Maps a failure of the TCP connect (before any TLS handshake).
 *
 * @param error What Node reported.
 * @param target `host:port`, for the message.
 * @returns A `ConnectionRefusedError`, or a `TimeoutError` when the operating system gave up.
 */
export function connectFailure(error: unknown, target: string): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const code = errorCode(error);
  const kind = code === "ECONNREFUSED"
    ? "refused"
    : code === "ETIMEDOUT"
    ? "timed-out"
    : "unreachable";
  return dialFailure(kind, target, errorText(error), error);
}

/**
 * Maps a failure of an established connection (or of a TLS session after its handshake).
 *
 * @param error What Node reported.
 * @param target `host:port`, for the message.
 * @param doing What the connection was doing, for the message.
 * @param secure Whether the connection is TLS: TLS alerts then become a `TlsError`.
 * @returns The error the connection fails with.
 */
export function ioFailure(
  error: unknown,
  target: string,
  doing: string,
  secure: boolean,
): KafkaTransportError {
  if (error instanceof KafkaTransportError) return error;
  const detail = errorText(error);
  if (secure && /^ERR_SSL_|^ERR_TLS_/.test(errorCode(error) ?? "")) {
    return tlsFailure(target, detail, error, "session");
  }
  if (errorCode(error) === "ETIMEDOUT") {
    return osTimeoutError(target, doing, detail, error);
  }
  return connectionLostError(target, doing, detail, error);
}

/**
 * A {@link Conn} over a connected Node socket. Its `error` listener stays on the socket for
 * the socket's whole life, so a late error (after a close) never reaches Node's
 * unhandled-error path.
 */
export class NodeConn extends ConnCore implements Conn {
  readonly #socket: Socket;
  /** Write callbacks Node has called (they come in write order). */
  #acked = 0;
  /** Writes handed to Node. */
  #issued = 0;
  /** The write (by its number) whose callback the pending send waits for. */
  #awaited = 0;
  #resolveSend: (() => void) | null = null;
  #rejectSend: ((error: unknown) => void) | null = null;

  /**
   * Wraps a connected (with TLS: handshaken) socket; from here on its events drive this
   * connection.
   *
   * @param socket The socket.
   * @param target `host:port` of the peer, for messages.
   * @param secure Whether it is a TLS socket.
   */
  constructor(socket: Socket, target: string, secure: boolean) {
    super(target, secure);
    this.#socket = socket;
    socket.on("error", this.#onError);
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
  }

  /**
   * Node keeps a reference to the bytes until its write callback runs, unless the kernel took
   * them at once (nothing is left buffered): only then may the caller reuse them. Waiting for
   * the callback is also the backpressure: it runs once the bytes reached the kernel, so Node
   * never holds more than this one write (where waiting for `drain` would let writes below the
   * high-water mark resolve while Node still holds them). A close or error while waiting ends
   * the write through the connection's own listeners, so a callback that never comes cannot
   * hang it.
   */
  protected send(bytes: Uint8Array): Promise<void> | undefined {
    const socket = this.#socket;
    this.#issued++;
    socket.write(bytes, this.#written);
    if (socket.writableLength === 0) return undefined;
    this.#awaited = this.#issued;
    return new Promise((resolve, reject) => {
      this.#resolveSend = resolve;
      this.#rejectSend = reject;
    });
  }

  protected release(): void {
    this.#socket.destroy();
  }

  protected ioError(error: unknown, doing: "reading from" | "writing to"): KafkaTransportError {
    return ioFailure(error, this.target, doing, this.secure);
  }

  protected override pauseInput(): void {
    this.#socket.pause();
  }

  protected override resumeInput(): void {
    this.#socket.resume();
  }

  readonly #written = (error?: Error | null): void => {
    const n = ++this.#acked;
    if (n !== this.#awaited || this.#resolveSend === null) return;
    const resolve = this.#resolveSend;
    const reject = this.#rejectSend!;
    this.#resolveSend = null;
    this.#rejectSend = null;
    if (error === undefined || error === null) resolve();
    else reject(error);
  };

  readonly #onData = (data: Uint8Array): void => {
    // A plain Uint8Array view: a Buffer's slice() does not copy, and callers may rely on it.
    this.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };

  readonly #onEnd = (): void => this.endOfInput();

  readonly #onError = (error: Error): void => {
    this.fail(ioFailure(error, this.target, "talking to", this.secure));
  };

  readonly #onClose = (): void => {
    // After `end` or `error` this does nothing; otherwise the socket was destroyed under us.
    this.fail(new ConnectionClosedError(`Connection to ${this.target} was closed by the runtime`));
  };
}
