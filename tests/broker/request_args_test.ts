/**
 * What `request()` and `selectVersion()` refuse before anything is queued or written, and that
 * a refused call loses nothing else.
 */

import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { MockBroker, NO_REPLY } from "../../testing/mod.ts";
import type { BrokerRequest } from "../../broker/connection.ts";
import { UnsupportedVersionError } from "../../broker/errors.ts";
import { ApiVersions } from "../../protocol/api_versions.ts";
import { ConfigError, KafkaTransportError } from "../../transport/errors.ts";
import { connectionTo, Echo, serveEcho } from "./echo_api.ts";
import { settleLog, waitFor } from "./observe.ts";

/** An Echo request through the low-level entry point, with some fields replaced. */
function echoRequest(overrides: Partial<BrokerRequest<number>> = {}): BrokerRequest<number> {
  return {
    apiKey: Echo.key,
    apiVersion: 0,
    flexible: false,
    encodeBody: (w) => w.int32(5),
    decodeBody: (r) => r.int32("echo"),
    ...overrides,
  };
}

test("request() refuses a key or version outside int16 and a missing decodeBody, up front", async () => {
  await using broker = await MockBroker.start();
  serveEcho(broker);
  const log = settleLog();
  await using conn = connectionTo(broker, { hooks: log.hooks });
  const cases: [Partial<BrokerRequest<number>>, RegExp][] = [
    [{ apiKey: -1 }, /API key must be an integer in 0\.\.32767, got -1/],
    [{ apiKey: 32768 }, /API key must be an integer in 0\.\.32767, got 32768/],
    [{ apiKey: 1.5 }, /API key must be an integer in 0\.\.32767, got 1\.5/],
    [{ apiKey: NaN }, /API key must be an integer/],
    [{ apiVersion: -1 }, /API version must be an integer in 0\.\.32767, got -1/],
    [{ apiVersion: 40_000 }, /API version must be an integer in 0\.\.32767, got 40000/],
    [{ decodeBody: undefined }, /request\(\) for API key 1000 needs decodeBody/],
    [{ timeoutMs: 0 }, /timeoutMs must be a positive number, got 0/],
    [{ timeoutMs: Infinity }, /timeoutMs must be a positive number, got Infinity/],
  ];
  for (const [override, message] of cases) {
    const error = await conn.request(echoRequest(override)).then(() => null, (e) => e);
    const label = JSON.stringify(override, (_, v) => (typeof v === "number" ? String(v) : v));
    assert.ok(error instanceof ConfigError, `${label}: ${error}`);
    assert.equal(error.retriable, false, label);
    assert.match(error.message, message, label);
  }
  // Nothing was queued, dialled or written for them; the connection is untouched.
  assert.equal(conn.state, "INIT");
  assert.equal(conn.stats().queued, 0);
  assert.equal(broker.requests.length, 0);
  // And a good request after them goes through.
  assert.equal(await conn.request(echoRequest()), 5);
  assert.equal(log.count(Echo.key), 1);
  assert.equal(broker.requests.filter((r) => r.apiKey === Echo.key).length, 1);
});

test("request() without decodeBody is fine when no reply is expected", async () => {
  await using broker = await MockBroker.start();
  const values: number[] = [];
  broker.handle(Echo, (req) => {
    values.push(req.body.int32("value"));
    return NO_REPLY;
  });
  await using conn = connectionTo(broker);
  const value = await conn.request(
    echoRequest({ decodeBody: undefined, expectResponse: false }),
  );
  assert.equal(value, undefined);
  assert.equal(conn.stats().inFlight, 0);
  await waitFor(() => values.length === 1, "the request at the broker");
  assert.deepEqual(values, [5]);
});

test("selectVersion() before the ApiVersions reply says to connect first; after, it picks the highest", async () => {
  await using broker = await MockBroker.start({ apiVersions: { [Echo.key]: [0, 1] } });
  serveEcho(broker);
  await using conn = connectionTo(broker);
  const before = (() => {
    try {
      conn.selectVersion(Echo);
    } catch (error) {
      return error;
    }
    return null;
  })();
  assert.ok(before instanceof KafkaTransportError, String(before));
  assert.ok(!(before instanceof UnsupportedVersionError), "not a version mismatch");
  assert.equal(before.retriable, true);
  assert.match(before.message, /Cannot pick a version of Echo before the broker's ApiVersions/);
  assert.match(before.message, /await connect\(\) first/);
  assert.equal(broker.requests.length, 0, "selectVersion() does not dial");
  await conn.connect();
  assert.equal(conn.selectVersion(Echo), 1, "the broker's max, below ours");
  assert.equal(conn.selectVersion(ApiVersions), 4);
  assert.throws(
    () => conn.selectVersion({ key: 1001, name: "Unknown", minVersion: 0, maxVersion: 3 }),
    UnsupportedVersionError,
  );
});
