import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { adapter } from "../fixtures/socket_adapter.ts";

// The runtime resolver the cluster layer's `resolve` option takes (denoResolve, bunResolve,
// nodeResolve): every address of a name, and a rejection for a name that does not exist.
test(`[${adapter.name}] resolve() gives the addresses of localhost`, async () => {
  const addresses = await adapter.resolve("localhost");
  assert.ok(addresses.length > 0, "no address for localhost");
  assert.ok(
    addresses.some((a) => a === "127.0.0.1" || a === "::1"),
    `localhost resolved to ${addresses.join(", ")}`,
  );
});

test(`[${adapter.name}] resolve() rejects a name that does not exist`, async () => {
  // .invalid is reserved (RFC 6761): it never resolves, so no query leaves the machine for it.
  await assert.rejects(adapter.resolve("kafka-wire-test.invalid"));
});
