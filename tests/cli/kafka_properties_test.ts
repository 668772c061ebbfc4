import assert from "node:assert/strict";
import { parseProperties, propertiesToArgs, splitConfigArgs } from "../../cli/kafka_properties.ts";
import { probeMain } from "../../cli/probe_main.ts";
import { parseProbeOptions, UsageError } from "../../cli/probe_options.ts";
import { test } from "../harness.ts";

const file = `# client.properties as a Kafka user has it
bootstrap.servers=b1:9093,b2:9093
security.protocol=SASL_SSL
sasl.mechanism: SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cr=t";
ssl.ca.location=/etc/kafka/ca.pem
! another comment style
client.id=orders-probe
`;

test("a Kafka client properties file becomes the probe's options", () => {
  const o = parseProbeOptions(propertiesToArgs(parseProperties(file, "client.properties")), {});
  assert.deepEqual(o.bootstrapServers, [{ host: "b1", port: 9093 }, { host: "b2", port: 9093 }]);
  assert.equal(o.tls, true);
  assert.equal(o.saslMechanism, "SCRAM-SHA-512");
  assert.equal(o.username, "alice");
  assert.equal(o.password, "s3cr=t");
  assert.equal(o.caFile, "/etc/kafka/ca.pem");
  assert.equal(o.clientId, "orders-probe");
});

test("-X overrides the file and flags override both", () => {
  const split = splitConfigArgs([
    "--config",
    "c.properties",
    "-X",
    "client.id=from-x",
    "-Xsasl.username=bob",
    "-Xsasl.password=pw",
    "-X",
    "sasl.mechanism=PLAIN",
    "--count",
    "1",
  ]);
  assert.equal(split.configFile, "c.properties");
  assert.deepEqual(split.rest, ["--count", "1"]);
  const args = [
    ...propertiesToArgs(parseProperties("client.id=from-file\nbootstrap.servers=h:1", "c")),
    ...propertiesToArgs(split.overrides),
    "--client-id",
    "from-flag",
  ];
  const o = parseProbeOptions(args, {});
  assert.equal(o.clientId, "from-flag");
  assert.equal(o.username, "bob");
});

test("unknown or unsupported keys are named, never ignored", () => {
  assert.throws(
    () => propertiesToArgs(parseProperties("bootstrap.servers=h:1\nlinger.ms=5", "p.conf")),
    (e: Error) =>
      e instanceof UsageError &&
      /--config p\.conf line 2: unknown or unsupported key "linger\.ms"; the probe understands bootstrap\.servers/
        .test(e.message),
  );
  assert.throws(
    () =>
      propertiesToArgs([{
        key: "sasl.jaas.config",
        value: "com.sun.security.auth.module.Krb5LoginModule required;",
        origin: "-X",
      }]),
    /GSSAPI login modules are not supported/,
  );
  assert.throws(() => splitConfigArgs(["-X", "novalue"]), /-X needs key=value/);
  assert.throws(() => parseProperties("just words", "f"), /f line 1: expected key=value/);
});

test("probe --config reads the file through the runtime and reports a missing one as usage", async () => {
  const err: string[] = [];
  const outcome = await probeMain(["--config", "missing.properties"], {}, {
    connector: () => Promise.reject(new Error("unused")),
    readTextFile: () => Promise.reject(new Error("ENOENT: no such file")),
    command: "probe",
    stdout: () => {},
    stderr: (line) => err.push(line),
  });
  assert.equal(outcome.exitCode, 2);
  assert.match(err.join("\n"), /Cannot read --config file "missing\.properties": ENOENT/);
});
