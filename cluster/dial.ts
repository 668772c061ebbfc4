/**
 * The connector a cluster hands to each of its connections: applies the address mapping,
 * resolves the name through the runtime's resolver and tries every address in turn
 * (`client.dns.lookup=use_all_dns_ips`), keeping the advertised host name for TLS SNI and
 * verification.
 *
 * @module
 */

import type { Connector, TlsOptions } from "../transport/conn.ts";
import { KafkaTransportError } from "../transport/errors.ts";
import { AddressResolutionError } from "./errors.ts";
import type { AddressMapper, HostPort, Resolver } from "./options.ts";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Whether a host is an IP literal (never resolved).
 *
 * @param host The host.
 * @returns `true` for IPv4 dotted quads and anything with a colon (IPv6).
 */
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(":");
}

/**
 * Builds the dialling connector for one advertised address.
 *
 * @param advertised The address a broker advertises, or a bootstrap entry.
 * @param connector The user's connector.
 * @param resolve The resolver, or `undefined` to dial names as they are.
 * @param mapAddress The address mapping hook, or `undefined`.
 * @returns A connector that ignores the host and port it is asked for and dials `advertised`.
 */
export function clusterConnector(
  advertised: HostPort,
  connector: Connector,
  resolve: Resolver | undefined,
  mapAddress: AddressMapper | undefined,
): Connector {
  return async (options) => {
    const target = mapAddress?.(advertised) ?? advertised;
    const tls: TlsOptions | undefined = options.tls === undefined
      ? undefined
      : { ...options.tls, serverName: options.tls.serverName ?? target.host };
    let addresses = [target.host];
    if (resolve !== undefined && !isIpLiteral(target.host)) {
      try {
        addresses = await resolve(target.host);
      } catch (error) {
        throw new AddressResolutionError(
          target.host,
          `${target.host} does not resolve from here (${
            error instanceof Error ? error.message : String(error)
          })`,
          { cause: error },
        );
      }
      if (addresses.length === 0) {
        throw new AddressResolutionError(target.host, `${target.host} resolves to no address`);
      }
    }
    let last: unknown;
    for (const host of addresses) {
      try {
        return await connector({ ...options, host, port: target.port, tls });
      } catch (error) {
        last = error;
        if (error instanceof KafkaTransportError && !error.retriable) throw error;
      }
    }
    throw last;
  };
}
