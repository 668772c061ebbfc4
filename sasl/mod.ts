/**
 * Client-side SASL mechanisms for Kafka brokers: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and
 * OAUTHBEARER, each taking static credentials or an async provider re-read on every
 * authentication, plus an unsecured-JWT builder for test brokers.
 *
 * @example
 * ```ts
 * import { oauthBearer, plain, scramSha512, unsecuredJwt } from "@kafka-wire/transport";
 *
 * const byPassword = plain({ username: "alice", password: "alice-secret" });
 * const byScram = scramSha512(async () => ({ username: "alice", password: "alice-secret" }));
 * const byToken = oauthBearer({ token: () => unsecuredJwt({ sub: "alice", lifetimeMs: 60_000 }) });
 * ```
 *
 * @module
 */

export { AuthenticationError, type SaslExchange, type SaslMechanism } from "./mechanism.ts";
export type { CredentialSource } from "./credentials.ts";
export { plain, type PlainCredentials } from "./plain.ts";
export { type ScramCredentials, type ScramOptions, scramSha256, scramSha512 } from "./scram.ts";
export {
  oauthBearer,
  type OAuthBearerOptions,
  type OAuthBearerToken,
  type OAuthBearerTokenValue,
} from "./oauthbearer.ts";
export { unsecuredJwt, type UnsecuredJwtOptions } from "./unsecured_jwt.ts";
