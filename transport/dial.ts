/**
 * Dial-time rules shared by every connector (Deno, Bun, in-memory): checking
 * {@link ConnectOptions} before anything is opened, bounding a dial by its `timeoutMs` and
 * `signal` so that no adapter has to get the race between a late socket and a fired timer
 * right on its own, and the advice given when the operating system refuses a dial.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import type { Conn, ConnectOptions, Connector } from "./conn.ts";
import { AbortError, ConfigError, ConnectionRefusedError, TimeoutError } from "./errors.ts";

/**
 * Formats `host:port` for messages, bracketing IPv6 literals (`[::1]:9092`).
 *
 * @param host Host name or IP address.
 * @param port TCP port.
 * @returns The endpoint as users write it.
 */
export function targetOf(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Rejects options no connector can act on, before a socket is opened.
 *
 * @param options What the caller asked to dial.
 * @throws {ConfigError} When the host is empty, the port is not 1..65535, `timeoutMs` is not
 *   a non-negative number, or only one of `tls.cert` / `tls.key` is given.
 */
export function checkConnectOptions(options: ConnectOptions): void {
  const { host, port, timeoutMs, tls } = options;
  if (typeof host !== "string" || host.length === 0) {
    throw new ConfigError(
      `Invalid host ${JSON.stringify(host)}: pass the broker's host name or IP`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`Invalid port ${port} for ${host}: expected an integer in 1..65535`);
  }
  if (timeoutMs !== undefined && !(timeoutMs >= 0 && timeoutMs <= 2_147_483_647)) {
    throw new ConfigError(
      `Invalid timeoutMs ${timeoutMs}: expected milliseconds in 0..2147483647, or omit it`,
    );
  }
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(
      "tls.cert and tls.key go together: mutual TLS needs both the client certificate and its " +
        "private key (PEM)",
    );
  }
}

/**
 * Runs `dial` bounded by `options.timeoutMs` and `options.signal`.
 *
 * When the timer fires or the signal aborts first, the returned promise rejects at once with a
 * {@link TimeoutError} / {@link AbortError}, the `abort` signal handed to `dial` is aborted so
 * the adapter can cancel what is in flight, and a connection that `dial` still delivers later
 * is passed to `discard` (closed), so nothing leaks. Errors `dial` raises after that are
 * expected consequences of the cancellation and are dropped.
 *
 * @param target `host:port`, for messages.
 * @param options The caller's `timeoutMs` and `signal`.
 * @param clock Schedules the timeout.
 * @param dial Opens the connection; must give up promptly once `abort` fires.
 * @param discard Closes a connection that arrived after the dial was given up.
 * @returns What `dial` resolved with, when it won the race.
 */
export function guardDial<T>(
  target: string,
  options: Pick<ConnectOptions, "signal" | "timeoutMs">,
  clock: Clock,
  dial: (abort: AbortSignal) => Promise<T>,
  discard: (late: T) => void,
): Promise<T> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) {
    return Promise.reject(
      new AbortError(`Connect to ${target} aborted before it started`, { cause: signal.reason }),
    );
  }
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;
    let timer: TimerHandle = undefined;
    const cleanUp = (): void => {
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clock.clearTimeout(timer);
    };
    const giveUp = (error: TimeoutError | AbortError): void => {
      if (settled) return;
      settled = true;
      cleanUp();
      controller.abort(error);
      reject(error);
    };
    const onAbort = (): void =>
      giveUp(new AbortError(`Connect to ${target} aborted`, { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = clock.setTimeout(
        () =>
          giveUp(
            new TimeoutError(
              `Connect to ${target} timed out after ${timeoutMs} ms: check that the broker is ` +
                "reachable and that the port speaks the expected protocol (TLS or plaintext)",
            ),
          ),
        timeoutMs,
      );
    }
    dial(controller.signal).then(
      (value) => {
        if (settled) {
          discard(value);
          return;
        }
        settled = true;
        cleanUp();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        settled = true;
        cleanUp();
        reject(error);
      },
    );
  });
}

/**
 * Makes a {@link Connector} that checks the options ({@link checkConnectOptions}), then runs
 * `dial` under {@link guardDial}, closing a connection that arrives too late.
 *
 * @param clock Schedules the `timeoutMs` timer.
 * @param dial Opens the connection to `target` (`host:port`); must give up promptly once
 *   `abort` fires.
 * @returns The connector.
 */
export function guardedConnector(
  clock: Clock,
  dial: (options: ConnectOptions, target: string, abort: AbortSignal) => Promise<Conn>,
): Connector {
  return (options: ConnectOptions): Promise<Conn> => {
    try {
      checkConnectOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const target = targetOf(options.host, options.port);
    return guardDial<Conn>(
      target,
      options,
      clock,
      (abort) => dial(options, target, abort),
      (late) => late.close(),
    );
  };
}

/** Why the operating system failed a dial, as far as the runtime's error tells. */
export type DialFailureKind =
  /** Nothing listens there (ECONNREFUSED). */
  | "refused"
  /** The operating system gave up waiting for the peer (ETIMEDOUT). */
  | "timed-out"
  /** Anything else: the name does not resolve, no route to the host, ... */
  | "unreachable";

/**
 * The typed error, with advice, for a dial the operating system failed.
 *
 * @param kind What the runtime's error says happened.
 * @param target `host:port`, for the message.
 * @param detail The runtime's error text.
 * @param cause The runtime's error.
 * @returns A {@link ConnectionRefusedError}, or a {@link TimeoutError} for `"timed-out"`.
 */
export function dialFailure(
  kind: DialFailureKind,
  target: string,
  detail: string,
  cause: unknown,
): ConnectionRefusedError | TimeoutError {
  switch (kind) {
    case "refused":
      return new ConnectionRefusedError(
        `Connection to ${target} refused (${detail}): is a broker listening there? Check host, ` +
          "port and the broker's advertised.listeners",
        { cause },
      );
    case "timed-out":
      return new TimeoutError(
        `Connect to ${target} timed out in the operating system (${detail}): check that the host ` +
          "is reachable (firewall, routing)",
        { cause },
      );
    case "unreachable":
      return new ConnectionRefusedError(
        `Cannot connect to ${target} (${detail}): check that the host name resolves and the host ` +
          "is reachable",
        { cause },
      );
  }
}
