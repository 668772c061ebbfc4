/**
 * The probe's API table: every API the broker advertises, with the version this module would
 * send for the APIs it has a codec for, and the ones it cannot use.
 *
 * @module
 */

import type { VersionRange } from "../broker/errors.ts";
import type { ApiSpec } from "../protocol/api.ts";
import { apiName, ApiVersions, highestCommonVersion } from "../protocol/api_versions.ts";
import { CreateTopics } from "../protocol/create_topics.ts";
import { DeleteTopics } from "../protocol/delete_topics.ts";
import { Fetch } from "../protocol/fetch.ts";
import { ListOffsets } from "../protocol/list_offsets.ts";
import { Metadata } from "../protocol/metadata.ts";
import { Produce } from "../protocol/produce.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";

type Codec = Pick<ApiSpec<unknown, unknown>, "key" | "name" | "minVersion" | "maxVersion">;

/** The APIs this module implements a codec for, by key. */
export const IMPLEMENTED_APIS: ReadonlyMap<number, Codec> = new Map(
  ([
    ApiVersions,
    Metadata,
    SaslHandshake,
    SaslAuthenticate,
    CreateTopics,
    Produce,
    Fetch,
    ListOffsets,
    DeleteTopics,
  ] as Codec[])
    .map((c) => [c.key, c]),
);

/** One row of the API table. */
export interface ApiRow {
  /** The API key. */
  key: number;
  /** The API's name. */
  name: string;
  /** The broker's lowest version, or `null` when the broker does not advertise the API. */
  brokerMin: number | null;
  /** The broker's highest version, or `null` when the broker does not advertise the API. */
  brokerMax: number | null;
  /** Whether this module has a codec for the API. */
  implemented: boolean;
  /** The versions this module implements, or `null` when it has no codec. */
  client: VersionRange | null;
  /** The version this module would send; `null` when it has no codec or no version is common. */
  version: number | null;
  /** `false` for an implemented API with no common version (or not offered by the broker). */
  usable: boolean;
}

/**
 * Builds the API table from the broker's advertised ranges: one row per advertised API, plus
 * a row for each implemented API the broker does not advertise, ordered by key.
 *
 * @param broker The broker's version range per API key (`BrokerConnection.apiVersions`).
 * @returns The rows.
 */
export function buildApiTable(broker: ReadonlyMap<number, VersionRange>): ApiRow[] {
  const ranges = [...broker].map(([apiKey, r]) => ({
    apiKey,
    minVersion: r.min,
    maxVersion: r.max,
  }));
  const keys = new Set([...broker.keys(), ...IMPLEMENTED_APIS.keys()]);
  return [...keys].sort((a, b) => a - b).map((key) => {
    const range = broker.get(key) ?? null;
    const codec = IMPLEMENTED_APIS.get(key);
    const version = codec === undefined ? -1 : highestCommonVersion(codec, ranges);
    return {
      key,
      name: codec?.name ?? apiName(key),
      brokerMin: range?.min ?? null,
      brokerMax: range?.max ?? null,
      implemented: codec !== undefined,
      client: codec === undefined ? null : { min: codec.minVersion, max: codec.maxVersion },
      version: version >= 0 ? version : null,
      usable: codec === undefined || version >= 0,
    };
  });
}
