/**
 * The probe's `--help` text, built from the option table so every option and environment
 * variable is listed.
 *
 * @module
 */

import { ExitCode } from "./hints.ts";
import { OPTION_SPECS } from "./probe_options.ts";

/**
 * Builds the help text.
 *
 * @param command How to run the probe on this runtime, e.g. "deno run -A cli/probe.ts".
 * @returns The text, ending without a newline.
 */
export function probeHelp(command: string): string {
  const flags = OPTION_SPECS.map((s) => `${s.flag}${s.value === null ? "" : ` ${s.value}`}`);
  const width = Math.max(...flags.map((f) => f.length));
  const options = OPTION_SPECS.map((s, i) => `  ${flags[i].padEnd(width)}  ${s.help}`);
  const envs = OPTION_SPECS.filter((s) => s.env !== null).map((s) =>
    `  ${s.env!.padEnd(32)}${s.flag}`
  );
  return [
    "kafka-wire probe: is this Kafka broker reachable and usable, and how fast?",
    "",
    "Connects to one broker and prints, as it happens, each state the connection goes through",
    "with its timing (TCP connect, TLS, ApiVersions, SASL, UP); then the broker's API table",
    "(which version of each API this module would use, and which it cannot use); then times",
    "round trips (min/p50/p99/max). On failure it prints the typed error and a hint (wrong",
    "security protocol, TLS listener, SASL required, not a Kafka listener, timeout in state X).",
    "",
    "Without --bootstrap it starts the embedded 3-node test cluster in this process on loopback",
    "ports and probes its first node, including a produce + fetch round trip on a scratch topic,",
    "so it works on a fresh machine with nothing else running. --produce-check TOPIC runs that",
    "round trip against a real broker (it writes one record, so only when asked).",
    "",
    `Usage: ${command} [options]`,
    "",
    "Options (FLAG VALUE or FLAG=VALUE):",
    ...options,
    "",
    "Kafka client settings, as Kafka users carry them (flags above win over both):",
    "  --config FILE     a client properties file: bootstrap.servers, security.protocol,",
    "                    sasl.mechanism, sasl.jaas.config (PLAIN, SCRAM) or sasl.username and",
    "                    sasl.password, ssl.ca.location, ssl.certificate.location,",
    "                    ssl.key.location, client.id; any other key is an error",
    "  -X key=value      one such setting, as kcat takes it (wins over --config)",
    "",
    "Environment (used when the option is not given; options win; flags take 1/0, true/false):",
    ...envs,
    "",
    "Examples:",
    `  ${command}`,
    "      probe the embedded test cluster (nothing to install or start)",
    `  ${command} --bootstrap localhost:9092`,
    "      a PLAINTEXT listener",
    `  ${command} --bootstrap localhost:9092 --json --count 10 | jq .latency`,
    "      the same, as JSON for a script",
    `  KAFKA_SASL_PASSWORD=alice-secret ${command} --bootstrap broker.example.com:9096 \\`,
    "      --ca ca.pem --sasl-mechanism SCRAM-SHA-512 --username alice",
    "      a SASL_SSL listener (--ca implies --tls; the password comes from the environment)",
    `  ${command} --bootstrap localhost:9095 --sasl-mechanism OAUTHBEARER --username alice`,
    "      OAUTHBEARER with an unsecured JWT, for development brokers only",
    "",
    "Exit codes:",
    `  ${ExitCode.OK}  the broker reached UP and every round trip succeeded`,
    `  ${ExitCode.OTHER}  other failure (e.g. the broker answered with a Kafka error code)`,
    `  ${ExitCode.USAGE}  bad options or unreadable certificate files`,
    `  ${ExitCode.CONNECTION}  connection refused, or closed by the broker`,
    `  ${ExitCode.TLS}  TLS failed, or TLS/plaintext mismatch between this client and the listener`,
    `  ${ExitCode.AUTHENTICATION}  SASL failed, or the listener requires SASL and none was given`,
    `  ${ExitCode.TIMEOUT}  connection setup or a request timed out`,
    `  ${ExitCode.PROTOCOL}  the port is not a Kafka listener (e.g. HTTP), or sent non-Kafka bytes`,
    `  ${ExitCode.ADVERTISED_UNREACHABLE}  the bootstrap answered, but a broker it lists is not reachable at its advertised address`,
  ].join("\n");
}
