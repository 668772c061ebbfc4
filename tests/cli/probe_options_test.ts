import assert from "node:assert/strict";
import { test } from "../harness.ts";
import {
  DEFAULT_CLIENT_ID,
  DEFAULT_COUNT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  OPTION_SPECS,
  parseHostPort,
  parseProbeOptions,
  UsageError,
} from "../../cli/probe_options.ts";
import { probeHelp } from "../../cli/probe_help.ts";

function usageError(args: string[], env: Record<string, string> = {}): UsageError {
  try {
    parseProbeOptions(args, env);
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(args)} ${JSON.stringify(env)} to be rejected`);
}

test("parseProbeOptions() defaults: embedded broker, plaintext, 100 ApiVersions round trips", () => {
  const o = parseProbeOptions([], {});
  assert.deepEqual(o, {
    bootstrap: null,
    ignoredBootstrapServers: 0,
    bootstrapServers: [],
    mapAddress: [],
    tls: false,
    caFile: null,
    certFile: null,
    keyFile: null,
    serverName: null,
    insecureSkipVerify: false,
    saslMechanism: null,
    username: null,
    password: null,
    token: null,
    clientId: DEFAULT_CLIENT_ID,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    count: DEFAULT_COUNT,
    rttApi: "ApiVersions",
    produceCheckTopic: null,
    json: false,
    help: false,
  });
});

test("parseProbeOptions() reads FLAG VALUE and FLAG=VALUE forms and boolean flags", () => {
  const o = parseProbeOptions([
    "--bootstrap",
    "broker.example.com:9096",
    "--ca=ca.pem",
    "--sasl-mechanism",
    "scram-sha-512",
    "--username=alice",
    "--password",
    "a=b c",
    "--count",
    "7",
    "--rtt-api=metadata",
    "--json",
    "--timeout-ms=250",
    "--request-timeout-ms",
    "300",
    "--client-id",
    "ops",
  ], {});
  assert.deepEqual(o.bootstrap, { host: "broker.example.com", port: 9096 });
  assert.equal(o.caFile, "ca.pem");
  assert.equal(o.tls, true, "--ca implies TLS");
  assert.equal(o.saslMechanism, "SCRAM-SHA-512", "mechanism names are case-insensitive");
  assert.equal(o.username, "alice");
  assert.equal(o.password, "a=b c", "only the first = splits FLAG=VALUE");
  assert.equal(o.count, 7);
  assert.equal(o.rttApi, "Metadata");
  assert.equal(o.json, true);
  assert.equal(o.timeoutMs, 250);
  assert.equal(o.requestTimeoutMs, 300);
  assert.equal(o.clientId, "ops");
});

test("parseProbeOptions() falls back to the environment, and arguments win over it", () => {
  const env = {
    KAFKA_BOOTSTRAP: "env-host:1234",
    KAFKA_SASL_MECHANISM: "PLAIN",
    KAFKA_SASL_USERNAME: "env-user",
    KAFKA_SASL_PASSWORD: "env-secret",
    KAFKA_TLS: "yes",
    KAFKA_PROBE_COUNT: "3",
    KAFKA_PROBE_JSON: "0",
  };
  const fromEnv = parseProbeOptions([], env);
  assert.deepEqual(fromEnv.bootstrap, { host: "env-host", port: 1234 });
  assert.equal(fromEnv.username, "env-user");
  assert.equal(fromEnv.password, "env-secret");
  assert.equal(fromEnv.tls, true);
  assert.equal(fromEnv.count, 3);
  assert.equal(fromEnv.json, false);
  const both = parseProbeOptions(["--bootstrap", "arg-host:9", "--username", "arg-user"], env);
  assert.deepEqual(both.bootstrap, { host: "arg-host", port: 9 });
  assert.equal(both.username, "arg-user");
  assert.equal(both.password, "env-secret", "options not given still come from the environment");
});

test("parseProbeOptions() ignores empty environment variables", () => {
  const o = parseProbeOptions([], { KAFKA_BOOTSTRAP: "  ", KAFKA_PROBE_COUNT: "" });
  assert.equal(o.bootstrap, null);
  assert.equal(o.count, DEFAULT_COUNT);
});

test("parseHostPort() accepts host, host:port and [ipv6]:port", () => {
  assert.deepEqual(parseHostPort("localhost"), { host: "localhost", port: 9092 });
  assert.deepEqual(parseHostPort("10.0.0.1:19092"), { host: "10.0.0.1", port: 19092 });
  assert.deepEqual(parseHostPort("[::1]:9093"), { host: "::1", port: 9093 });
  assert.deepEqual(parseHostPort("[::1]"), { host: "::1", port: 9092 });
  for (const bad of ["host:0", "host:65536", "host:x", ":9092", "::1:9092"]) {
    assert.throws(() => parseHostPort(bad), UsageError, bad);
  }
});

test("parseProbeOptions() probes the first of a bootstrap list and counts the rest", () => {
  const o = parseProbeOptions(["--bootstrap", "a:1,b:2, c:3"], {});
  assert.deepEqual(o.bootstrap, { host: "a", port: 1 });
  assert.equal(o.ignoredBootstrapServers, 2);
});

test("parseProbeOptions() rejects bad input with a message naming the option", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--nope"], {}, /Unknown option --nope; run with --help/],
    [["localhost:9092"], {}, /Unexpected argument "localhost:9092".*--bootstrap localhost:9092/],
    [["--bootstrap"], {}, /--bootstrap needs a value: --bootstrap HOST:PORT/],
    [["--bootstrap", "--json"], {}, /--bootstrap needs a value/],
    [["--count", "-1"], {}, /--count must be a whole number/],
    [["--count", "2000000"], {}, /--count must be at most 1000000/],
    [["--timeout-ms", "0"], {}, /--timeout-ms must be at least 1/],
    [["--timeout-ms", "1.5"], {}, /--timeout-ms must be a whole number/],
    [["--bootstrap", "h:99999"], {}, /not HOST:PORT with a port in 1\.\.65535/],
    [["--sasl-mechanism", "GSSAPI"], {}, /--sasl-mechanism must be one of PLAIN, SCRAM-SHA-256/],
    [["--rtt-api", "Produce"], {}, /--rtt-api must be one of ApiVersions, Metadata/],
    [["--json=maybe"], {}, /--json must be true or false/],
    [["--bootstrap", "h", "--cert", "c.pem"], {}, /--cert and --key go together/],
    [["--tls"], {}, /TLS options need --bootstrap/],
    [["--username", "alice"], {}, /credentials were given without a mechanism/],
    [["--sasl-mechanism", "PLAIN", "--username", "a"], {}, /PLAIN needs --username and --pass/],
    [["--sasl-mechanism", "OAUTHBEARER"], {}, /OAUTHBEARER needs --token JWT, or --username/],
    [
      ["--sasl-mechanism", "PLAIN", "--username", "a", "--password", "b", "--token", "t"],
      {},
      /--token is for OAUTHBEARER only/,
    ],
    [[], { KAFKA_PROBE_COUNT: "lots" }, /KAFKA_PROBE_COUNT \(environment\) must be a whole/],
    [[], { KAFKA_TLS: "perhaps" }, /KAFKA_TLS \(environment\) must be true or false/],
  ];
  for (const [args, env, message] of cases) {
    assert.match(usageError(args, env).message, message, JSON.stringify(args));
  }
});

test("parseProbeOptions() accepts --help (and -h) even beside otherwise invalid combinations", () => {
  assert.equal(parseProbeOptions(["--help", "--tls"], {}).help, true);
  assert.equal(parseProbeOptions(["-h"], {}).help, true);
});

test("OAUTHBEARER accepts a token alone or a user name for an unsecured JWT", () => {
  const token = parseProbeOptions(["--sasl-mechanism", "oauthbearer", "--token", "abc"], {});
  assert.equal(token.saslMechanism, "OAUTHBEARER");
  assert.equal(token.token, "abc");
  const user = parseProbeOptions([], {
    KAFKA_SASL_MECHANISM: "OAUTHBEARER",
    KAFKA_SASL_USERNAME: "alice",
  });
  assert.equal(user.username, "alice");
});

test("probeHelp() lists every option, every environment variable, examples and exit codes", () => {
  const help = probeHelp("probe");
  for (const spec of OPTION_SPECS) {
    assert.ok(help.includes(spec.flag), spec.flag);
    if (spec.env !== null) assert.ok(help.includes(spec.env), spec.env);
  }
  assert.match(help, /Usage: probe \[options\]/);
  assert.match(help, /embedded 3-node test cluster/);
  assert.match(help, /SASL_SSL/);
  for (let code = 0; code <= 7; code++) assert.match(help, new RegExp(`\\n  ${code}  `));
});
