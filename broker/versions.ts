/**
 * The broker's API versions from its latest ApiVersions reply, and the one place a request's
 * version is chosen: the highest both sides support, looked up once per codec and reply.
 *
 * @module
 */

import type { ApiSpec } from "../protocol/api.ts";
import { type ApiVersionRange, highestCommonVersion } from "../protocol/api_versions.ts";
import { KafkaTransportError } from "../transport/errors.ts";
import { UnsupportedVersionError, type VersionRange } from "./errors.ts";

/** What a version is chosen for: an API's identity and the versions this client implements. */
export type VersionedApi = Pick<
  ApiSpec<unknown, unknown>,
  "key" | "name" | "minVersion" | "maxVersion"
>;

/** The API versions a broker advertised. */
export class BrokerVersions {
  #apis: ApiVersionRange[] | null = null;
  #ranges: ReadonlyMap<number, VersionRange> | null = null;
  readonly #chosen = new Map<VersionedApi, number>();

  /** The ranges per API key, or `null` before the first reply. */
  get ranges(): ReadonlyMap<number, VersionRange> | null {
    return this.#ranges;
  }

  /** The reply's list, or `null` before the first reply. */
  get apis(): ApiVersionRange[] | null {
    return this.#apis;
  }

  /**
   * Takes a new ApiVersions reply (every new connection gets one).
   *
   * @param apis The broker's ranges.
   */
  update(apis: ApiVersionRange[]): void {
    this.#apis = apis;
    this.#chosen.clear();
    this.#ranges = new Map(apis.map((a) => [a.apiKey, { min: a.minVersion, max: a.maxVersion }]));
  }

  /**
   * Picks the version of `api` to send: the highest that both this client and the broker
   * support (never the lowest: Kafka 4.x advertises versions it then refuses, KAFKA-18659).
   *
   * @param api The API.
   * @returns The version.
   * @throws {UnsupportedVersionError} When no version is common to both.
   * @throws {KafkaTransportError} When no ApiVersions reply has been received yet.
   */
  select(api: VersionedApi): number {
    const apis = this.#apis;
    if (apis === null) {
      throw new KafkaTransportError(
        `Cannot pick a version of ${api.name} before the broker's ApiVersions reply: await ` +
          `connect() first (or use send(), which does)`,
        { retriable: true },
      );
    }
    const version = highestCommonVersion(api, apis);
    if (version >= 0) return version;
    const range = this.#ranges?.get(api.key) ?? null;
    throw new UnsupportedVersionError(
      api.name,
      api.key,
      { min: api.minVersion, max: api.maxVersion },
      range,
    );
  }

  /**
   * {@link BrokerVersions.select}, remembered per codec until the next reply: what the
   * pipeline calls as it writes each `send()`.
   *
   * @param api The codec.
   * @returns The version.
   */
  versionOf(api: VersionedApi): number {
    const known = this.#chosen.get(api);
    if (known !== undefined) return known;
    const version = this.select(api);
    this.#chosen.set(api, version);
    return version;
  }
}
