/**
 * Dial-time rules shared by every connector (Deno, Bun, in-memory): checking
 * {@link ConnectOptions} before anything is opened, and bounding a dial by its `timeoutMs` and
 * `signal` so that no adapter has to get the race between a late socket and a fired timer
 * right on its own.
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import type { ConnectOptions } from "./conn.ts";
import { AbortError, ConfigError, TimeoutError } from "./errors.ts";

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
