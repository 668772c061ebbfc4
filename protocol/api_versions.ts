/**
 * ApiVersions (key 18), versions 0–4: the first request on every connection, asking the broker
 * which versions of each API it speaks. Also the table of API names and version negotiation.
 *
 * Two quirks of this API, both handled here:
 * - Its response header is always v0 (no tagged fields), even for flexible versions 3+, because
 *   a client must be able to read the reply before it knows what the broker supports.
 * - A broker that does not support the requested version answers UNSUPPORTED_VERSION (35) with a
 *   v0-shaped body (error code, then an int32-counted array), whatever version was asked for.
 *   {@link ApiVersions}.decodeResponse therefore reads the error code first and, when it is 35,
 *   reads the rest as v0, as librdkafka and franz-go do. The list it then carries (KIP-511) holds
 *   the broker's own ApiVersions range, so the caller can retry at a version both sides know.
 *   {@link ApiVersions}.encodeResponse mirrors this: a reply with error 35 is written as v0.
 *
 * @example
 * ```ts
 * import { ApiVersions } from "./api_versions.ts";
 * import { type TaggedField, Writer } from "../framing/writer.ts";
 * const w = new Writer();
 * ApiVersions.encodeRequest(w, { clientSoftwareName: "kafka-wire", clientSoftwareVersion: "0.1.0" }, 3);
 * ```
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { type TaggedField, Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "./api.ts";
import { ErrorCode } from "./errors.ts";

/** The API key of ApiVersions. */
export const API_VERSIONS_KEY = 18;

const FIRST_FLEXIBLE = 3;

/** An ApiVersions request. */
export interface ApiVersionsRequest {
  /**
   * The client library's name (KIP-511), sent from v3; brokers accept only
   * `[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?`. Decodes as "" below v3.
   */
  clientSoftwareName: string;
  /** The client library's version, sent from v3, same character rules; "" below v3. */
  clientSoftwareVersion: string;
}

/** The range of versions a broker supports for one API. */
export interface ApiVersionRange {
  /** The API key. */
  apiKey: number;
  /** The lowest supported version, inclusive. */
  minVersion: number;
  /** The highest supported version, inclusive. */
  maxVersion: number;
}

/** A feature and the range of its versions (the broker's supported or finalized features). */
export interface FeatureRange {
  /** The feature name, e.g. "metadata.version". */
  name: string;
  /** The lowest version (level), inclusive. */
  minVersion: number;
  /** The highest version (level), inclusive. */
  maxVersion: number;
}

/** An ApiVersions response. */
export interface ApiVersionsResponse {
  /** The top-level error code; 35 (UNSUPPORTED_VERSION) means the body was v0-shaped. */
  errorCode: number;
  /** The APIs the broker supports. With error 35, at least the ApiVersions range. */
  apiKeys: ApiVersionRange[];
  /** How long the broker throttled the request (v1+; 0 otherwise). */
  throttleTimeMs: number;
  /** Features the broker supports (v3+ tagged field 0; empty when absent). */
  supportedFeatures: FeatureRange[];
  /** The epoch of the finalized features, -1 when unknown (v3+ tagged field 1). */
  finalizedFeaturesEpoch: bigint;
  /** Cluster-wide finalized features (v3+ tagged field 2; empty when absent). */
  finalizedFeatures: FeatureRange[];
  /** Whether a KRaft controller is ready for ZooKeeper migration (v3+ tagged field 3). */
  zkMigrationReady: boolean;
}

function readRangeV0(r: Reader): ApiVersionRange {
  return {
    apiKey: r.int16("api_keys.api_key"),
    minVersion: r.int16("api_keys.min_version"),
    maxVersion: r.int16("api_keys.max_version"),
  };
}

function readRangeFlexible(r: Reader): ApiVersionRange {
  const range = readRangeV0(r);
  r.taggedFields(undefined, "api_keys.tagged_fields");
  return range;
}

function readSupportedFeature(r: Reader): FeatureRange {
  const name = r.compactString("supported_features.name");
  const minVersion = r.int16("supported_features.min_version");
  const maxVersion = r.int16("supported_features.max_version");
  r.taggedFields(undefined, "supported_features.tagged_fields");
  return { name, minVersion, maxVersion };
}

// The finalized-feature layout puts the max level before the min level.
function readFinalizedFeature(r: Reader): FeatureRange {
  const name = r.compactString("finalized_features.name");
  const maxVersion = r.int16("finalized_features.max_version_level");
  const minVersion = r.int16("finalized_features.min_version_level");
  r.taggedFields(undefined, "finalized_features.tagged_fields");
  return { name, minVersion, maxVersion };
}

function writeRange(w: Writer, range: ApiVersionRange): void {
  w.int16(range.apiKey).int16(range.minVersion).int16(range.maxVersion);
}

function writeRangeFlexible(w: Writer, range: ApiVersionRange): void {
  writeRange(w, range);
  w.taggedFields();
}

function writeSupportedFeature(w: Writer, f: FeatureRange): void {
  w.compactString(f.name).int16(f.minVersion).int16(f.maxVersion).taggedFields();
}

function writeFinalizedFeature(w: Writer, f: FeatureRange): void {
  w.compactString(f.name).int16(f.maxVersion).int16(f.minVersion).taggedFields();
}

/**
 * Writes the response's tagged fields, each only when it differs from its default, as the
 * broker does.
 */
function writeResponseTags(w: Writer, res: ApiVersionsResponse): void {
  const fields: TaggedField[] = [];
  if (res.supportedFeatures.length > 0) {
    const data = new Writer().compactArray(res.supportedFeatures, writeSupportedFeature).finish();
    fields.push({ tag: 0, data });
  }
  if (res.finalizedFeaturesEpoch !== -1n) {
    fields.push({ tag: 1, data: new Writer(8).int64(res.finalizedFeaturesEpoch).finish() });
  }
  if (res.finalizedFeatures.length > 0) {
    const data = new Writer().compactArray(res.finalizedFeatures, writeFinalizedFeature).finish();
    fields.push({ tag: 2, data });
  }
  if (res.zkMigrationReady) fields.push({ tag: 3, data: new Uint8Array([1]) });
  w.taggedFields(fields);
}

/**
 * The ApiVersions codec, versions 0–4 (flexible from 3). See the module doc for the
 * UNSUPPORTED_VERSION quirk and the always-v0 response header.
 */
export const ApiVersions: ServerApiSpec<ApiVersionsRequest, ApiVersionsResponse> = {
  key: API_VERSIONS_KEY,
  name: "ApiVersions",
  minVersion: 0,
  maxVersion: 4,
  firstFlexibleVersion: FIRST_FLEXIBLE,

  encodeRequest(w: Writer, request: ApiVersionsRequest, version: number): void {
    if (version < FIRST_FLEXIBLE) return;
    w.compactString(request.clientSoftwareName)
      .compactString(request.clientSoftwareVersion)
      .taggedFields();
  },

  decodeRequest(r: Reader, version: number): ApiVersionsRequest {
    if (version < FIRST_FLEXIBLE) return { clientSoftwareName: "", clientSoftwareVersion: "" };
    const clientSoftwareName = r.compactString("client_software_name");
    const clientSoftwareVersion = r.compactString("client_software_version");
    r.taggedFields(undefined, "tagged_fields");
    return { clientSoftwareName, clientSoftwareVersion };
  },

  encodeResponse(w: Writer, response: ApiVersionsResponse, version: number): void {
    const v = response.errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : version;
    w.int16(response.errorCode);
    if (v >= FIRST_FLEXIBLE) w.compactArray(response.apiKeys, writeRangeFlexible);
    else w.array(response.apiKeys, writeRange);
    if (v >= 1) w.int32(response.throttleTimeMs);
    if (v >= FIRST_FLEXIBLE) writeResponseTags(w, response);
  },

  decodeResponse(r: Reader, version: number): ApiVersionsResponse {
    const errorCode = r.int16("error_code");
    // Brokers answer an unsupported ApiVersions version with a v0 body (see the module doc).
    const v = errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : version;
    const res: ApiVersionsResponse = {
      errorCode,
      apiKeys: v >= FIRST_FLEXIBLE
        ? r.compactArray(readRangeFlexible, "api_keys")
        : r.array(readRangeV0, "api_keys"),
      throttleTimeMs: v >= 1 ? r.int32("throttle_time_ms") : 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
    if (v >= FIRST_FLEXIBLE) {
      r.taggedFields((tag, tr) => {
        if (tag === 0) {
          res.supportedFeatures = tr.compactArray(readSupportedFeature, "supported_features");
        } else if (tag === 1) res.finalizedFeaturesEpoch = tr.int64("finalized_features_epoch");
        else if (tag === 2) {
          res.finalizedFeatures = tr.compactArray(readFinalizedFeature, "finalized_features");
        } else if (tag === 3) res.zkMigrationReady = tr.boolean("zk_migration_ready");
      }, "tagged_fields");
    }
    return res;
  },
};

/**
 * The highest version of `api` that both this codec and the broker support: always the
 * highest, never the lowest, since Kafka 4.x advertises some versions it then refuses
 * (KAFKA-18659).
 *
 * @param api The codec (its `key`, `minVersion` and `maxVersion` are used).
 * @param brokerApis The `apiKeys` of the broker's ApiVersions response.
 * @returns The version to use, or -1 when the broker lacks the API or the ranges do not meet.
 */
export function highestCommonVersion(
  api: { key: number; minVersion: number; maxVersion: number },
  brokerApis: readonly ApiVersionRange[],
): number {
  for (const range of brokerApis) {
    if (range.apiKey !== api.key) continue;
    const v = Math.min(api.maxVersion, range.maxVersion);
    return v >= Math.max(api.minVersion, range.minVersion) ? v : -1;
  }
  return -1;
}

/** The name of every Kafka API by key, from the Apache Kafka message definitions. */
export const API_KEYS: Readonly<Record<number, string>> = {
  0: "Produce",
  1: "Fetch",
  2: "ListOffsets",
  3: "Metadata",
  4: "LeaderAndIsr",
  5: "StopReplica",
  6: "UpdateMetadata",
  7: "ControlledShutdown",
  8: "OffsetCommit",
  9: "OffsetFetch",
  10: "FindCoordinator",
  11: "JoinGroup",
  12: "Heartbeat",
  13: "LeaveGroup",
  14: "SyncGroup",
  15: "DescribeGroups",
  16: "ListGroups",
  17: "SaslHandshake",
  18: "ApiVersions",
  19: "CreateTopics",
  20: "DeleteTopics",
  21: "DeleteRecords",
  22: "InitProducerId",
  23: "OffsetForLeaderEpoch",
  24: "AddPartitionsToTxn",
  25: "AddOffsetsToTxn",
  26: "EndTxn",
  27: "WriteTxnMarkers",
  28: "TxnOffsetCommit",
  29: "DescribeAcls",
  30: "CreateAcls",
  31: "DeleteAcls",
  32: "DescribeConfigs",
  33: "AlterConfigs",
  34: "AlterReplicaLogDirs",
  35: "DescribeLogDirs",
  36: "SaslAuthenticate",
  37: "CreatePartitions",
  38: "CreateDelegationToken",
  39: "RenewDelegationToken",
  40: "ExpireDelegationToken",
  41: "DescribeDelegationToken",
  42: "DeleteGroups",
  43: "ElectLeaders",
  44: "IncrementalAlterConfigs",
  45: "AlterPartitionReassignments",
  46: "ListPartitionReassignments",
  47: "OffsetDelete",
  48: "DescribeClientQuotas",
  49: "AlterClientQuotas",
  50: "DescribeUserScramCredentials",
  51: "AlterUserScramCredentials",
  52: "Vote",
  53: "BeginQuorumEpoch",
  54: "EndQuorumEpoch",
  55: "DescribeQuorum",
  56: "AlterPartition",
  57: "UpdateFeatures",
  58: "Envelope",
  59: "FetchSnapshot",
  60: "DescribeCluster",
  61: "DescribeProducers",
  62: "BrokerRegistration",
  63: "BrokerHeartbeat",
  64: "UnregisterBroker",
  65: "DescribeTransactions",
  66: "ListTransactions",
  67: "AllocateProducerIds",
  68: "ConsumerGroupHeartbeat",
  69: "ConsumerGroupDescribe",
  70: "ControllerRegistration",
  71: "GetTelemetrySubscriptions",
  72: "PushTelemetry",
  73: "AssignReplicasToDirs",
  74: "ListClientMetricsResources",
  75: "DescribeTopicPartitions",
  76: "ShareGroupHeartbeat",
  77: "ShareGroupDescribe",
  78: "ShareFetch",
  79: "ShareAcknowledge",
  80: "AddRaftVoter",
  81: "RemoveRaftVoter",
  82: "UpdateRaftVoter",
  83: "InitializeShareGroupState",
  84: "ReadShareGroupState",
  85: "WriteShareGroupState",
  86: "DeleteShareGroupState",
  87: "ReadShareGroupStateSummary",
  // Kafka 4.1 advertises these; they are newer than the schemas in this repository's reference.
  88: "StreamsGroupHeartbeat",
  89: "StreamsGroupDescribe",
  90: "DescribeShareGroupOffsets",
  91: "AlterShareGroupOffsets",
  92: "DeleteShareGroupOffsets",
};

/**
 * The name of an API key, for logs and the probe's table.
 *
 * @param key An API key.
 * @returns E.g. "Metadata", or "Unknown(<key>)" for a key newer than this table.
 */
export function apiName(key: number): string {
  return API_KEYS[key] ?? `Unknown(${key})`;
}
