/**
 * Kafka client settings the way Kafka users already carry them: a properties file
 * (`--config FILE`) and kcat-style `-X key=value` overrides, turned into the probe's own
 * options. Every key is either understood or named in a clear error; none is ignored.
 *
 * @module
 */

import { UsageError } from "./probe_options.ts";

/** One `key=value` setting and where it came from. */
export interface Property {
  /** The key, e.g. "bootstrap.servers". */
  readonly key: string;
  /** The value, trimmed. */
  readonly value: string;
  /** Where it came from, for messages: "--config client.properties line 3" or "-X". */
  readonly origin: string;
}

/** The keys understood, for the error that names an unknown one. */
export const SUPPORTED_PROPERTIES: readonly string[] = [
  "bootstrap.servers",
  "security.protocol",
  "sasl.mechanism",
  "sasl.jaas.config",
  "sasl.username",
  "sasl.password",
  "ssl.ca.location",
  "ssl.certificate.location",
  "ssl.key.location",
  "client.id",
];

/**
 * Reads a Java properties file: `key=value` or `key: value` lines, `#` and `!` comments,
 * blank lines skipped. (Line continuations and escapes are not used by client configs and are
 * refused rather than misread.)
 *
 * @param text The file's text.
 * @param file The file name, for messages.
 * @returns The settings in file order.
 * @throws {UsageError} For a line without `=` or `:`, or a continued line.
 */
export function parseProperties(text: string, file: string): Property[] {
  const out: Property[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const origin = `--config ${file} line ${i + 1}`;
    if (line === "" || line.startsWith("#") || line.startsWith("!")) return;
    if (line.endsWith("\\")) {
      throw new UsageError(`${origin}: continued lines (ending in \\) are not supported`);
    }
    const at = line.search(/[=:]/);
    if (at <= 0) throw new UsageError(`${origin}: expected key=value, got "${line}"`);
    out.push({ key: line.slice(0, at).trim(), value: line.slice(at + 1).trim(), origin });
  });
  return out;
}

/**
 * Reads one `-X key=value` override.
 *
 * @param text What followed `-X`.
 * @returns The setting.
 * @throws {UsageError} Without `=`.
 */
export function parseOverride(text: string): Property {
  const at = text.indexOf("=");
  if (at <= 0) throw new UsageError(`-X needs key=value, got "${text}"`);
  return { key: text.slice(0, at).trim(), value: text.slice(at + 1).trim(), origin: "-X" };
}

const JAAS_MODULES: Readonly<Record<string, readonly string[]>> = {
  "org.apache.kafka.common.security.plain.PlainLoginModule": ["PLAIN"],
  "org.apache.kafka.common.security.scram.ScramLoginModule": ["SCRAM-SHA-256", "SCRAM-SHA-512"],
};

/** Reads `Module required username="u" password="p";` into a user and password. */
function jaas(p: Property): { username: string; password: string } {
  const m = /^\s*(\S+)\s+required\s+(.*?);?\s*$/s.exec(p.value);
  if (m === null || JAAS_MODULES[m[1]] === undefined) {
    throw new UsageError(
      `${p.origin}: sasl.jaas.config must use ${Object.keys(JAAS_MODULES).join(" or ")} ` +
        `with username="..." password="..."; OAUTHBEARER and GSSAPI login modules are not ` +
        `supported here (give --token for OAUTHBEARER)`,
    );
  }
  const options = new Map<string, string>();
  for (const o of m[2].matchAll(/(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) options.set(o[1], o[2]);
  const username = options.get("username");
  const password = options.get("password");
  if (username === undefined || password === undefined) {
    throw new UsageError(`${p.origin}: sasl.jaas.config needs username="..." and password="..."`);
  }
  return { username, password };
}

/**
 * Turns settings into the probe's command-line arguments (later ones win, as later flags do).
 *
 * @param properties The settings.
 * @returns Arguments for `parseProbeOptions`.
 * @throws {UsageError} Naming an unknown or unsupported key, or a bad value.
 */
export function propertiesToArgs(properties: readonly Property[]): string[] {
  const args: string[] = [];
  for (const p of properties) {
    switch (p.key) {
      case "bootstrap.servers":
        args.push(`--bootstrap=${p.value}`);
        break;
      case "security.protocol": {
        const v = p.value.toUpperCase();
        if (!["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].includes(v)) {
          throw new UsageError(
            `${p.origin}: security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, ` +
              `got "${p.value}"`,
          );
        }
        args.push(`--tls=${v === "SSL" || v === "SASL_SSL"}`);
        break;
      }
      case "sasl.mechanism":
        args.push(`--sasl-mechanism=${p.value}`);
        break;
      case "sasl.jaas.config": {
        const { username, password } = jaas(p);
        args.push(`--username=${username}`, `--password=${password}`);
        break;
      }
      case "sasl.username":
        args.push(`--username=${p.value}`);
        break;
      case "sasl.password":
        args.push(`--password=${p.value}`);
        break;
      case "ssl.ca.location":
        args.push(`--ca=${p.value}`);
        break;
      case "ssl.certificate.location":
        args.push(`--cert=${p.value}`);
        break;
      case "ssl.key.location":
        args.push(`--key=${p.value}`);
        break;
      case "client.id":
        args.push(`--client-id=${p.value}`);
        break;
      default:
        throw new UsageError(
          `${p.origin}: unknown or unsupported key "${p.key}"; the probe understands ` +
            `${SUPPORTED_PROPERTIES.join(", ")}`,
        );
    }
  }
  return args;
}

/** The command line split into `--config`, `-X` overrides and everything else. */
export interface ConfigArgs {
  /** The `--config` file, or `null`. */
  configFile: string | null;
  /** The `-X` overrides, in order. */
  overrides: Property[];
  /** The other arguments, in order. */
  rest: string[];
}

/**
 * Takes `--config FILE` (or `--config=FILE`) and `-X key=value` (or `-Xkey=value`) out of the
 * arguments.
 *
 * @param args The arguments.
 * @returns The parts.
 * @throws {UsageError} When `--config` or `-X` has no value, or `--config` is given twice.
 */
export function splitConfigArgs(args: readonly string[]): ConfigArgs {
  const out: ConfigArgs = { configFile: null, overrides: [], rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--config" || arg.startsWith("--config=")) {
      const value = arg === "--config" ? args[++i] : arg.slice("--config=".length);
      if (value === undefined || value === "") throw new UsageError("--config needs a FILE");
      if (out.configFile !== null) throw new UsageError("--config can be given once");
      out.configFile = value;
    } else if (arg === "-X" || (arg.startsWith("-X") && !arg.startsWith("--"))) {
      const value = arg === "-X" ? args[++i] : arg.slice(2);
      if (value === undefined) throw new UsageError("-X needs key=value");
      out.overrides.push(parseOverride(value));
    } else out.rest.push(arg);
  }
  return out;
}
