/**
 * The words every socket adapter uses for an established connection that failed, so that a
 * lost connection or an operating-system timeout reads the same on Deno, Node and Workers.
 *
 * @module
 */

import { ConnectionClosedError, TimeoutError } from "./errors.ts";

/**
 * The error for a connection the operating system timed out (TCP retransmissions gave up).
 *
 * @param target `host:port`.
 * @param doing What the connection was doing, e.g. "reading from".
 * @param detail The runtime's own text.
 * @param cause The runtime's error.
 * @returns The error.
 */
export function osTimeoutError(
  target: string,
  doing: string,
  detail: string,
  cause: unknown,
): TimeoutError {
  return new TimeoutError(
    `The operating system timed out ${doing} ${target} (${detail}): the network path to the ` +
      "broker is broken",
    { cause },
  );
}

/**
 * The error for a connection lost while reading or writing.
 *
 * @param target `host:port`.
 * @param doing What the connection was doing, e.g. "writing to".
 * @param detail The runtime's own text.
 * @param cause The runtime's error.
 * @returns The error.
 */
export function connectionLostError(
  target: string,
  doing: string,
  detail: string,
  cause: unknown,
): ConnectionClosedError {
  return new ConnectionClosedError(
    `Connection to ${target} was lost while ${doing} it (${detail})`,
    { cause },
  );
}
