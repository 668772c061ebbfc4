/**
 * The setup conversation on a new connection: ApiVersions negotiation with downgrade and v0
 * fallback, then SASL (SaslHandshake + SaslAuthenticate, or legacy raw token frames). Written
 * against a small {@link SetupChannel} so that the sequencing is separate from the pipeline. The
 * errors thrown here carry no connection context: the connection adds its "(after N ms in
 * state X)" suffix once, where it catches them.
 *
 * @module
 */

import type { ApiSpec } from "../protocol/api.ts";
import {
  type ApiVersionRange,
  ApiVersions,
  highestCommonVersion,
} from "../protocol/api_versions.ts";
import { ErrorCode, errorName, kafkaErrorFor } from "../protocol/errors.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";
import { AuthenticationError, type SaslMechanism } from "../sasl/mechanism.ts";
import type { BrokerState } from "./state.ts";

/** What the setup steps need from the connection they run on. */
export interface SetupChannel {
  /**
   * Sends a setup request ahead of queued requests, alone on the wire, and awaits its reply.
   *
   * @param api The API.
   * @param version The version to send.
   * @param request The request value.
   * @param timeoutMs Its timeout; the connection's request timeout when omitted.
   * @returns The decoded reply.
   */
  call<Req, Res>(
    api: ApiSpec<Req, Res>,
    version: number,
    request: Req,
    timeoutMs?: number,
  ): Promise<Res>;
  /**
   * Writes one raw `[int32 len][token]` frame and awaits the next raw frame (AUTH_LEGACY).
   *
   * @param token The token to send.
   * @returns The body of the broker's next frame.
   */
  legacyRoundTrip(token: Uint8Array): Promise<Uint8Array>;
  /**
   * Moves the connection to a new state.
   *
   * @param state The state entered.
   * @param reason Why.
   */
  enter(state: BrokerState, reason: string): void;
  /**
   * Throws if the connection this setup runs on has since failed, so a step that awaited
   * something outside the pipeline (a SASL mechanism) stops there.
   */
  check(): void;
}

/** The ApiVersions version sent first; see {@link negotiateApiVersions}. */
export const FIRST_API_VERSIONS_VERSION = 3;

/** Bound on ApiVersions attempts on one connection (3 → 2 → 1 → 0 at most, plus slack). */
const MAX_API_VERSIONS_ATTEMPTS = 5;

/** Bound on SASL round trips, so a mechanism that never finishes cannot loop forever. */
const MAX_SASL_ROUND_TRIPS = 32;

/**
 * Runs ApiVersions on a new connection and returns the broker's API ranges.
 *
 * Starts at v3, as librdkafka does: it carries the client software name and version (KIP-511)
 * and every broker since 2.4 answers it in one round trip; v4 only changes how feature ranges
 * are reported, which this client does not use, and would cost older brokers an extra round
 * trip. UNSUPPORTED_VERSION is retried at min(requested − 1, the broker's own ApiVersions max),
 * or v0 when the reply carried no list; INVALID_REQUEST (brokers that reject the KIP-511 fields)
 * is retried at v0.
 *
 * @param ch The setup channel.
 * @param softwareName The sanitised client software name.
 * @param softwareVersion The sanitised client software version.
 * @param timeoutMs The ApiVersions request timeout.
 * @returns The broker's supported ranges.
 */
export async function negotiateApiVersions(
  ch: SetupChannel,
  softwareName: string,
  softwareVersion: string,
  timeoutMs: number,
): Promise<ApiVersionRange[]> {
  let version = FIRST_API_VERSIONS_VERSION;
  const request = { clientSoftwareName: softwareName, clientSoftwareVersion: softwareVersion };
  for (let attempt = 0; attempt < MAX_API_VERSIONS_ATTEMPTS; attempt++) {
    const res = await ch.call(ApiVersions, version, request, timeoutMs);
    if (res.errorCode === ErrorCode.NONE) return res.apiKeys;
    let next = -1;
    if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      const own = res.apiKeys.find((k) => k.apiKey === ApiVersions.key);
      next = own === undefined ? 0 : Math.min(version - 1, own.maxVersion);
    } else if (res.errorCode === ErrorCode.INVALID_REQUEST) {
      next = 0;
    }
    if (next < 0 || next >= version) {
      throw kafkaErrorFor(
        res.errorCode,
        `ApiVersions v${version} refused by the broker; no lower version left to try`,
      );
    }
    version = next;
  }
  throw kafkaErrorFor(
    ErrorCode.UNSUPPORTED_VERSION,
    `ApiVersions negotiation did not settle after ${MAX_API_VERSIONS_ATTEMPTS} attempts`,
  );
}

/**
 * Authenticates with `mechanism`: SaslHandshake (v1, or v0 when the broker lacks
 * SaslAuthenticate), then the token exchange inside SaslAuthenticate (AUTH_REQ) or as raw
 * frames (AUTH_LEGACY). Used on a new connection and again for KIP-368 re-authentication.
 *
 * @param ch The setup channel.
 * @param mechanism The configured mechanism.
 * @param brokerApis The broker's ApiVersions ranges.
 * @returns The session lifetime the broker granted in ms (0: none, no re-authentication).
 */
export async function authenticate(
  ch: SetupChannel,
  mechanism: SaslMechanism,
  brokerApis: readonly ApiVersionRange[],
): Promise<number> {
  const authVersion = highestCommonVersion(SaslAuthenticate, brokerApis);
  const handshakeVersion = authVersion >= 0 ? 1 : 0;
  ch.enter("AUTH_HANDSHAKE", `SaslHandshake v${handshakeVersion} for ${mechanism.name}`);
  const hs = await ch.call(SaslHandshake, handshakeVersion, { mechanism: mechanism.name });
  if (hs.errorCode !== ErrorCode.NONE) {
    // A listener without SASL (PLAINTEXT/SSL) answers ILLEGAL_SASL_STATE with no mechanisms:
    // "configure one of []" would not help, dropping the SASL setting (or the port) would.
    const advice = hs.mechanisms.length === 0
      ? "the listener does not accept SASL (a PLAINTEXT or SSL listener?): remove the sasl " +
        "option or connect to the broker's SASL_PLAINTEXT / SASL_SSL port"
      : `the listener enables [${hs.mechanisms.join(", ")}]: configure one of those`;
    throw new AuthenticationError(
      `SASL mechanism ${mechanism.name} refused by the broker: ${errorName(hs.errorCode)} ` +
        `(${hs.errorCode}); ${advice}`,
      { code: hs.errorCode },
    );
  }
  const exchange = await mechanism.begin();
  ch.check();
  let token: Uint8Array | null = await exchange.initial();
  ch.check();
  let lifetimeMs = 0;
  if (authVersion < 0) {
    ch.enter("AUTH_LEGACY", "broker lacks SaslAuthenticate: raw SASL token frames");
  } else ch.enter("AUTH_REQ", `SaslAuthenticate v${authVersion}`);
  for (let round = 0; token !== null; round++) {
    if (round === MAX_SASL_ROUND_TRIPS) {
      throw new AuthenticationError(
        `SASL ${mechanism.name} did not finish within ${MAX_SASL_ROUND_TRIPS} round trips: the ` +
          `mechanism and the broker disagree`,
      );
    }
    let server: Uint8Array;
    if (authVersion < 0) server = await ch.legacyRoundTrip(token);
    else {
      const res = await ch.call(SaslAuthenticate, authVersion, { authBytes: token });
      if (res.errorCode !== ErrorCode.NONE) {
        // The broker's own message says which check failed; pass it on verbatim.
        throw new AuthenticationError(
          `SASL ${mechanism.name} authentication failed: ${errorName(res.errorCode)} ` +
            `(${res.errorCode}): ${res.errorMessage ?? "no message from the broker"}`,
          { code: res.errorCode },
        );
      }
      lifetimeMs = Number(res.sessionLifetimeMs);
      server = res.authBytes;
    }
    token = await exchange.next(server);
    ch.check();
  }
  return lifetimeMs;
}
