import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { ApiVersions, type ApiVersionsResponse } from "../../protocol/api_versions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { MockBroker } from "../../testing/mod.ts";
import { dial } from "./dial.ts";
import type { RawClient } from "./raw_client.ts";

async function apiVersions(
  client: RawClient,
  version: number,
  correlationId: number,
  software = { clientSoftwareName: "kafka-wire", clientSoftwareVersion: "0.1.0" },
): Promise<ApiVersionsResponse> {
  await client.send({
    apiKey: ApiVersions.key,
    apiVersion: version,
    correlationId,
    flexible: version >= 3,
    body: (w) => ApiVersions.encodeRequest(w, software, version),
  });
  // ApiVersions replies always carry response header v0.
  const r = await client.reply(correlationId, false);
  const res = ApiVersions.decodeResponse(r, version);
  assert.equal(r.remaining, 0, "no bytes may follow the ApiVersions body");
  return res;
}

function ranges(res: ApiVersionsResponse): number[][] {
  return res.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]);
}

const DEFAULT_RANGES = [[3, 4, 12], [17, 0, 1], [18, 0, 4], [36, 0, 2]];

test("MockBroker answers ApiVersions v3 with its ranges and a v0 response header", async () => {
  await using broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    const res = await apiVersions(client, 3, 7);
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(ranges(res), DEFAULT_RANGES);
    assert.equal(res.throttleTimeMs, 0);
  } finally {
    client.close();
  }
});

test("MockBroker answers ApiVersions v0 and v4 on the same connection", async () => {
  await using broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    assert.deepEqual(ranges(await apiVersions(client, 0, 1)), DEFAULT_RANGES);
    assert.deepEqual(ranges(await apiVersions(client, 4, 2)), DEFAULT_RANGES);
  } finally {
    client.close();
  }
});

test("MockBroker answers an ApiVersions version above its max with a v0 UNSUPPORTED_VERSION body", async () => {
  await using broker = await MockBroker.start({ apiVersions: { 18: [0, 2] } });
  const client = await dial(broker);
  try {
    const refused = await apiVersions(client, 3, 1);
    assert.equal(refused.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(ranges(refused), [[18, 0, 2]], "KIP-511: the list holds only ApiVersions");
    const retried = await apiVersions(client, 2, 2);
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.deepEqual(ranges(retried), [[3, 4, 12], [17, 0, 1], [18, 0, 2], [36, 0, 2]]);
    assert.equal(broker.connections, 1, "the connection survives the downgrade");
  } finally {
    client.close();
  }
});

test('MockBroker with apiVersions "v0-only" makes clients fall back to v0', async () => {
  await using broker = await MockBroker.start({ apiVersions: "v0-only" });
  const client = await dial(broker);
  try {
    const refused = await apiVersions(client, 3, 1);
    assert.equal(refused.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.deepEqual(ranges(refused), [[18, 0, 0]]);
    const v0 = await apiVersions(client, 0, 2);
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.deepEqual(ranges(v0), [[3, 4, 12], [17, 0, 1], [18, 0, 0], [36, 0, 2]]);
  } finally {
    client.close();
  }
});

test("MockBroker answers ApiVersions v3 with a bad client software name with INVALID_REQUEST", async () => {
  await using broker = await MockBroker.start();
  const client = await dial(broker);
  try {
    const res = await apiVersions(client, 3, 1, {
      clientSoftwareName: "bad name!",
      clientSoftwareVersion: "1.0",
    });
    assert.equal(res.errorCode, ErrorCode.INVALID_REQUEST);
    assert.deepEqual(res.apiKeys, []);
    assert.equal((await apiVersions(client, 0, 2)).errorCode, ErrorCode.NONE);
  } finally {
    client.close();
  }
});

test("MockBroker apiVersions option replaces and hides ranges; handle() advertises known APIs", async () => {
  await using broker = await MockBroker.start({ apiVersions: { 3: [9, 10], 36: null } });
  broker.handle({ key: 0, minVersion: 3, maxVersion: 11, firstFlexibleVersion: 9 }, () => {
    throw new Error("not called");
  });
  broker.handle(1, () => new Uint8Array(0));
  broker.handle(50, () => new Uint8Array(0));
  const client = await dial(broker);
  try {
    const res = await apiVersions(client, 3, 1);
    assert.deepEqual(ranges(res), [[0, 3, 11], [1, 4, 17], [3, 9, 10], [17, 0, 1], [18, 0, 4]]);
    broker.handle(0, null);
    broker.handle(1, null);
    assert.deepEqual(ranges(await apiVersions(client, 3, 2)), [[3, 9, 10], [17, 0, 1], [18, 0, 4]]);
  } finally {
    client.close();
  }
});

test("MockBroker with legacy SASL advertises SaslHandshake v0 only and no SaslAuthenticate", async () => {
  await using broker = await MockBroker.start({
    sasl: { mechanisms: ["PLAIN"], users: { alice: "secret" }, legacy: true },
  });
  const client = await dial(broker);
  try {
    assert.deepEqual(ranges(await apiVersions(client, 3, 1)), [[3, 4, 12], [17, 0, 0], [18, 0, 4]]);
  } finally {
    client.close();
  }
});

test("MockBroker faults.error fails ApiVersions the given number of times", async () => {
  await using broker = await MockBroker.start();
  broker.faults.error(18, ErrorCode.UNKNOWN_SERVER_ERROR, 2);
  const client = await dial(broker);
  try {
    assert.equal((await apiVersions(client, 3, 1)).errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.equal((await apiVersions(client, 1, 2)).errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    const ok = await apiVersions(client, 3, 3);
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.deepEqual(ranges(ok), DEFAULT_RANGES);
  } finally {
    client.close();
  }
});
