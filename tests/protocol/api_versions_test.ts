import assert from "node:assert/strict";
import { test } from "../harness.ts";
import { DecodeError } from "../../framing/errors.ts";
import { buildFrame, writeRequestHeader } from "../../framing/header.ts";
import { Reader } from "../../framing/reader.ts";
import { hasFlexibleResponseHeader, isFlexible } from "../../protocol/api.ts";
import {
  API_KEYS,
  API_VERSIONS_KEY,
  apiName,
  ApiVersions,
  type ApiVersionsResponse,
  highestCommonVersion,
} from "../../protocol/api_versions.ts";
import { Metadata } from "../../protocol/metadata.ts";
import { Produce } from "../../protocol/produce.ts";
import {
  assertResponseRoundTrips,
  readAll,
  requestRoundTrip,
  responseRoundTrip,
  versionsOf,
} from "./codec_check.ts";

const software = { clientSoftwareName: "kw", clientSoftwareVersion: "1.0" };

function frame(version: number): Uint8Array {
  return buildFrame((w) => {
    const header = { apiKey: 18, apiVersion: version, correlationId: 7, clientId: "cli" };
    writeRequestHeader(w, header, isFlexible(ApiVersions, version));
    ApiVersions.encodeRequest(w, software, version);
  }).slice();
}

function response(overrides: Partial<ApiVersionsResponse> = {}): ApiVersionsResponse {
  return {
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
    ...overrides,
  };
}

test("ApiVersions v0 request frame is byte-exact (empty body, header v1)", () => {
  assert.deepEqual(
    frame(0),
    new Uint8Array([
      ...[0, 0, 0, 13], // size
      ...[0, 18, 0, 0], // api key 18, version 0
      ...[0, 0, 0, 7], // correlation id
      ...[0, 3, 0x63, 0x6c, 0x69], // client id "cli"
    ]),
  );
});

test("ApiVersions v3 request frame is byte-exact (header v2, compact strings, tags)", () => {
  assert.deepEqual(
    frame(3),
    new Uint8Array([
      ...[0, 0, 0, 22], // size
      ...[0, 18, 0, 3], // api key 18, version 3
      ...[0, 0, 0, 7], // correlation id
      ...[0, 3, 0x63, 0x6c, 0x69], // client id "cli" stays an int16 string
      0, // header tagged fields
      ...[3, 0x6b, 0x77], // client_software_name "kw"
      ...[4, 0x31, 0x2e, 0x30], // client_software_version "1.0"
      0, // body tagged fields
    ]),
  );
});

test("ApiVersions request round trips at every version", () => {
  for (const v of versionsOf(ApiVersions)) {
    const { decoded } = requestRoundTrip(ApiVersions, software, v);
    assert.deepEqual(
      decoded,
      v >= 3 ? software : { clientSoftwareName: "", clientSoftwareVersion: "" },
    );
  }
});

test("ApiVersions response round trips at every version", () => {
  assertResponseRoundTrips(ApiVersions, (v) => response({ throttleTimeMs: v >= 1 ? 25 : 0 }));
});

test("ApiVersions v3+ response carries features in tagged fields", () => {
  const res = response({
    supportedFeatures: [{ name: "metadata.version", minVersion: 1, maxVersion: 25 }],
    finalizedFeaturesEpoch: 42n,
    finalizedFeatures: [{ name: "metadata.version", minVersion: 1, maxVersion: 22 }],
    zkMigrationReady: true,
  });
  for (const v of [3, 4]) assert.deepEqual(responseRoundTrip(ApiVersions, res, v).decoded, res);
  // Below v3 the features are not on the wire.
  assert.deepEqual(responseRoundTrip(ApiVersions, res, 2).decoded.supportedFeatures, []);
});

test("ApiVersions decoder skips unknown tagged fields", () => {
  const body = new Uint8Array([
    ...[0, 0], // error code
    ...[2, 0, 18, 0, 0, 0, 4, 0], // compact array of 1: key 18, 0..4, no tags
    ...[0, 0, 0, 0], // throttle
    ...[2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 9, 7, 2, 0xab, 0xcd], // tag 1 epoch 9; unknown tag 7
  ]);
  const decoded = readAll(body, (r) => ApiVersions.decodeResponse(r, 3));
  assert.deepEqual(decoded.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 4 }]);
  assert.equal(decoded.finalizedFeaturesEpoch, 9n);
});

test("ApiVersions UNSUPPORTED_VERSION reply is v0-shaped whatever version was asked", () => {
  // What a broker sends to a v5 request: v0 body, error 35, its own ApiVersions range.
  const body = new Uint8Array([0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 3]);
  for (const v of versionsOf(ApiVersions)) {
    const decoded = readAll(body, (r) => ApiVersions.decodeResponse(r, v));
    assert.equal(decoded.errorCode, 35);
    assert.deepEqual(decoded.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    assert.equal(decoded.throttleTimeMs, 0);
  }
  // The server side writes the same v0 shape when told v4.
  const unsupported = response({
    errorCode: 35,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }],
  });
  assert.deepEqual(responseRoundTrip(ApiVersions, unsupported, 4).bytes, body);
  // An old broker's reply with an empty list decodes too.
  const empty = readAll(
    new Uint8Array([0, 35, 0, 0, 0, 0]),
    (r) => ApiVersions.decodeResponse(r, 3),
  );
  assert.deepEqual(empty.apiKeys, []);
});

test("ApiVersions decoder names the field of a corrupt array length", () => {
  const body = new Uint8Array([0, 0, 0x7f, 0xff, 0xff, 0xff]);
  assert.throws(
    () => ApiVersions.decodeResponse(new Reader(body), 2),
    (e) => e instanceof DecodeError && e.field === "api_keys",
  );
});

test("hasFlexibleResponseHeader() is false for ApiVersions, the flexible rule otherwise", () => {
  assert.equal(hasFlexibleResponseHeader(ApiVersions, 4), false);
  assert.equal(hasFlexibleResponseHeader(Metadata, 9), true);
  assert.equal(hasFlexibleResponseHeader(Metadata, 8), false);
});

test("highestCommonVersion() picks the highest version both sides support", () => {
  const broker = [
    { apiKey: 0, minVersion: 0, maxVersion: 12 },
    { apiKey: 3, minVersion: 0, maxVersion: 3 },
  ];
  assert.equal(highestCommonVersion(Produce, broker), Produce.maxVersion);
  assert.equal(highestCommonVersion(Metadata, broker), -1); // ranges do not meet
  assert.equal(highestCommonVersion(ApiVersions, broker), -1); // broker lacks it
  assert.equal(
    highestCommonVersion(Metadata, [{ apiKey: 3, minVersion: 0, maxVersion: 10 }]),
    10,
  );
});

test("apiName() names every key and reports unknown ones", () => {
  assert.equal(API_VERSIONS_KEY, 18);
  assert.equal(apiName(18), "ApiVersions");
  assert.equal(apiName(0), "Produce");
  assert.equal(apiName(87), "ReadShareGroupStateSummary");
  assert.equal(apiName(999), "Unknown(999)");
  assert.equal(apiName(92), "DeleteShareGroupOffsets");
  assert.equal(Object.keys(API_KEYS).length, 93);
});
