/**
 * A made-up API for pipeline tests: the request carries an int32 and the reply echoes it, so
 * every caller can check it got its own reply. Served by the test broker through `handle()`.
 *
 * @module
 */

import type { ApiSpec } from "../../protocol/api.ts";
import type { MockBroker, MockRequest } from "../../testing/mod.ts";
import { Writer } from "../../framing/writer.ts";
import { BrokerConnection } from "../../broker/connection.ts";
import type { BrokerConnectionOptions } from "../../broker/options.ts";
import { type Clock, systemClock } from "../../transport/clock.ts";

/** The echo API: key 1000 (unused by Kafka), versions 0..2, flexible from 2. */
export const Echo: ApiSpec<number, number> = {
  key: 1000,
  name: "Echo",
  minVersion: 0,
  maxVersion: 2,
  firstFlexibleVersion: 2,
  encodeRequest(w, value) {
    w.int32(value);
  },
  decodeResponse(r) {
    return r.int32("echo");
  },
};

/**
 * Serves {@link Echo} on `broker`, each reply after `delayMs(value)` milliseconds of `clock`.
 *
 * @param broker The test broker.
 * @param delayMs Reply delay per value; none when omitted.
 * @param clock Whose milliseconds: a test's fake clock, or real time when omitted.
 */
export function serveEcho(
  broker: MockBroker,
  delayMs?: (value: number) => number,
  clock: Clock = systemClock,
): void {
  broker.handle(Echo, async (req: MockRequest) => {
    const value = req.body.int32("value");
    const ms = delayMs?.(value) ?? 0;
    if (ms > 0) await new Promise<void>((r) => clock.setTimeout(r, ms));
    return new Writer(8).int32(value).finish().slice();
  });
}

/**
 * A connection to `broker` through its in-memory connector.
 *
 * @param broker The test broker.
 * @param options Further options.
 * @returns The connection (not yet connected).
 */
export function connectionTo(
  broker: MockBroker,
  options: Partial<BrokerConnectionOptions> = {},
): BrokerConnection {
  return new BrokerConnection({
    host: broker.host,
    port: broker.port,
    connector: broker.connector,
    ...options,
  });
}
