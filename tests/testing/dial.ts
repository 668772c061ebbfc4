/**
 * Opens raw connections to a test broker.
 *
 * @module
 */

import type { MockBroker } from "../../testing/mod.ts";
import { RawClient } from "./raw_client.ts";

/**
 * Dials the broker through its in-memory connector.
 *
 * @param broker The broker.
 * @returns A raw client on the new connection.
 */
export async function dial(broker: MockBroker): Promise<RawClient> {
  return new RawClient(await broker.connector({ host: broker.host, port: broker.port }));
}
