/**
 * Drives a client mechanism against a server exchange in-process, the way the broker
 * connection and the test broker do over SaslAuthenticate.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SaslMechanism } from "../../sasl/mechanism.ts";
import type { SaslServerExchange } from "../../testing/sasl_server.ts";

const MAX_ROUNDS = 5;

/**
 * Runs one full authentication.
 *
 * @param mechanism The client side.
 * @param server The server side.
 * @returns The user the server authenticated.
 */
export async function authenticate(
  mechanism: SaslMechanism,
  server: SaslServerExchange,
): Promise<string | undefined> {
  const exchange = await mechanism.begin();
  let client = await exchange.initial();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const step = await server.step(client);
    const reply = await exchange.next(step.response);
    if (step.done) {
      assert.equal(reply, null, "the client must be done when the server is");
      return step.user;
    }
    assert.notEqual(reply, null, "the client stopped before the server was done");
    client = reply!;
  }
  assert.fail(`the exchange did not finish within ${MAX_ROUNDS} rounds`);
}

/**
 * @param text A message.
 * @returns Its UTF-8 bytes.
 */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * @param data A message.
 * @returns Its text.
 */
export function text(data: Uint8Array | null): string {
  assert.notEqual(data, null);
  return new TextDecoder().decode(data!);
}
