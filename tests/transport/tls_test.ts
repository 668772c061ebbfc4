import assert from "node:assert/strict";
import { test } from "../harness.ts";
import type { Conn, Listener, TlsOptions } from "../../transport/conn.ts";
import {
  ChainVerificationRequiredError,
  ConfigError,
  TimeoutError,
  TlsError,
} from "../../transport/errors.ts";
import { testCerts } from "../fixtures/certs.ts";
import { echo, readExactly } from "./loopback.ts";
import { adapter } from "../fixtures/socket_adapter.ts";
import { assertSameBytes } from "../fixtures/bytes.ts";

const { connector, listen, name } = adapter;
const certs = testCerts();
const HELLO = new Uint8Array([0, 0, 0, 3, 1, 2, 3]);

/** Serves echo on every accepted connection until the listener closes. */
function serveEcho(listener: Listener): Promise<void> {
  const served: Promise<void>[] = [];
  const loop = (async () => {
    for (let conn = await listener.accept(); conn !== null; conn = await listener.accept()) {
      // A client that fails verification breaks its handshake; that is the test's business.
      served.push(echo(conn).catch(() => {}));
    }
  })();
  return loop.then(() => Promise.all(served)).then(() => {});
}

/** Runs `body` against a TLS echo listener, then closes it and waits for its connections. */
async function withTlsEcho(body: (port: number) => Promise<void>): Promise<void> {
  const listener = await listen({ tls: { cert: certs.serverCert, key: certs.serverKey } });
  const serving = serveEcho(listener);
  try {
    await body(listener.addr.port);
  } finally {
    listener.close();
    await serving;
  }
}

async function roundTrip(conn: Conn): Promise<void> {
  try {
    assert.equal(conn.secure, true);
    await conn.write(HELLO);
    assertSameBytes(await readExactly(conn, HELLO.length), HELLO, "echo over TLS");
  } finally {
    conn.close();
  }
}

async function dialError(port: number, tls: TlsOptions, host = "127.0.0.1"): Promise<unknown> {
  return await connector({ host, port, tls, timeoutMs: 5000 }).then(
    (conn) => {
      conn.close();
      return "connected";
    },
    (error) => error,
  );
}

test(`${name}: TLS round trip with the CA, by name and by IP`, async () => {
  await withTlsEcho(async (port) => {
    await roundTrip(
      await connector({ host: "localhost", port, tls: { caCerts: [certs.ca] }, timeoutMs: 5000 }),
    );
    await roundTrip(
      await connector({ host: "127.0.0.1", port, tls: { caCerts: [certs.ca] }, timeoutMs: 5000 }),
    );
  });
});

test(`${name}: TLS serverName may differ from the dialled host`, async () => {
  await withTlsEcho(async (port) => {
    const tls = { caCerts: [certs.ca], serverName: "localhost" };
    await roundTrip(await connector({ host: "127.0.0.1", port, tls, timeoutMs: 5000 }));
  });
});

test(`${name}: a host name mismatch is rejected at connect time with a serverName hint`, async () => {
  await withTlsEcho(async (port) => {
    const error = await dialError(port, { caCerts: [certs.ca], serverName: "wrong.example" });
    assert.ok(error instanceof TlsError, `got ${error}`);
    assert.match(error.message, /check serverName/);
    assert.equal(error.kind, "hostname");
    assert.equal(error.retriable, false);
  });
});

test(`${name}: an untrusted CA is rejected at connect time with a caCerts hint`, async () => {
  await withTlsEcho(async (port) => {
    const error = await dialError(port, { caCerts: [certs.otherCa], serverName: "localhost" });
    assert.ok(error instanceof TlsError, `got ${error}`);
    assert.match(error.message, /check caCerts/);
    assert.equal(error.kind, "untrusted");
  });
});

test(`${name}: TLS to a plaintext listener fails with the PLAINTEXT hint`, async () => {
  // Like a Kafka broker: the ClientHello's first bytes read as a huge frame size, so it hangs up.
  const listener = await listen();
  const served = listener.accept().then(async (conn) => {
    await conn!.read();
    conn!.close();
  });
  try {
    const error = await dialError(listener.addr.port, { caCerts: [certs.ca] }, "localhost");
    assert.ok(error instanceof TlsError, `got ${error}`);
    assert.match(error.message, /PLAINTEXT listener with TLS\?/);
    assert.equal(error.kind, "not-tls");
  } finally {
    await served;
    listener.close();
  }
});

/** A plaintext listener whose connections stay silent: a TLS handshake against it hangs. */
async function withSilentListener(body: (port: number) => Promise<void>): Promise<void> {
  const listener = await listen();
  const accepted: Conn[] = [];
  const accepting = (async () => {
    for (let conn = await listener.accept(); conn !== null; conn = await listener.accept()) {
      accepted.push(conn);
    }
  })();
  try {
    await body(listener.addr.port);
    assert.equal(accepted.length, 1);
    if (name === "bun") {
      // The client gave up: its socket must be closed, which the server sees as end of stream.
      for (let chunk = await accepted[0].read(); chunk !== null; chunk = await accepted[0].read()) {
        // The ClientHello.
      }
    }
    // Deno (2.9) keeps the socket of an abandoned TLS handshake open until the peer answers or
    // hangs up (its handshake task owns the socket, and TlsConn.close() does not stop it), so
    // there only the server's close below releases it.
  } finally {
    listener.close();
    await accepting;
    for (const conn of accepted) conn.close();
  }
}

test(`${name}: a TLS connect that times out fails with TimeoutError and closes its socket`, async () => {
  await withSilentListener(async (port) => {
    const started = performance.now();
    const error = await connector({
      host: "127.0.0.1",
      port,
      tls: { caCerts: [certs.ca] },
      timeoutMs: 200,
    }).catch((e) => e);
    const elapsed = performance.now() - started;
    assert.ok(error instanceof TimeoutError, `got ${error}`);
    assert.match(
      error.message,
      new RegExp(`Connect to 127\\.0\\.0\\.1:${port} timed out after 200 ms`),
    );
    assert.ok(elapsed >= 190 && elapsed < 5000, `gave up after ${elapsed} ms`);
  });
});

if (name === "bun" || name === "node") {
  test(`${name}: dangerouslyDisableVerification accepts an untrusted, mismatched certificate`, async () => {
    await withTlsEcho(async (port) => {
      const tls = { serverName: "wrong.example", dangerouslyDisableVerification: true };
      await roundTrip(await connector({ host: "127.0.0.1", port, tls, timeoutMs: 5000 }));
    });
  });

  test(`${name}: mutual TLS works with a client certificate and fails without one`, async () => {
    const listener = await listen({
      tls: {
        cert: certs.serverCert,
        key: certs.serverKey,
        caCerts: [certs.ca],
        requestClientCert: true,
      },
    });
    const serving = serveEcho(listener);
    try {
      const port = listener.addr.port;
      await roundTrip(
        await connector({
          host: "localhost",
          port,
          tls: { caCerts: [certs.ca], cert: certs.clientCert, key: certs.clientKey },
          timeoutMs: 5000,
        }),
      );
      // Under TLS 1.3 the client finishes its handshake before the server checks the client
      // certificate, so the refusal may arrive with the first read.
      const error = await connector({
        host: "localhost",
        port,
        tls: { caCerts: [certs.ca] },
        timeoutMs: 5000,
      }).then(async (conn) => {
        try {
          await conn.write(HELLO);
          return await conn.read();
        } finally {
          conn.close();
        }
      }).catch((e) => e);
      assert.ok(error instanceof TlsError, `got ${error}`);
      assert.match(error.message, /client certificate/);
      assert.equal(error.kind, "client-certificate");
    } finally {
      listener.close();
      await serving;
    }
  });
}

if (name === "node") {
  test("node: SNI is sent for host names, not for IP literals; an IP serverName is verified", async () => {
    const tls = await import("node:tls");
    const names: (string | false)[] = [];
    const server = tls.createServer({ key: certs.serverKey, cert: certs.serverCert }, (socket) => {
      names.push((socket as unknown as { servername: string | false }).servername);
      socket.on("error", () => {});
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const dial = async (host: string, serverName?: string) => {
      const conn = await connector({
        host,
        port,
        tls: { caCerts: [certs.ca], ...(serverName === undefined ? {} : { serverName }) },
        timeoutMs: 5000,
      });
      assert.equal(await conn.read(), null);
      conn.close();
    };
    try {
      await dial("localhost");
      await dial("127.0.0.1");
      await dial("127.0.0.1", "localhost");
      await dial("localhost", "127.0.0.1"); // verified against the IP SAN, without SNI
      assert.deepEqual(names, ["localhost", false, "localhost", false]);
      const error = await dialError(port, { caCerts: [certs.ca], serverName: "10.0.0.1" });
      assert.ok(error instanceof TlsError, `got ${error}`);
      assert.equal(error.kind, "hostname");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("node: unparsable TLS material is a ConfigError before dialling", async () => {
    const tls = { cert: "nope", key: "nope" };
    const error = await connector({ host: "localhost", port: 9, tls }).catch((e) => e);
    assert.ok(error instanceof ConfigError, `got ${error}`);
    assert.match(error.message, /PEM/);
    await assert.rejects(listen({ tls: { cert: "nope", key: "nope" } }), ConfigError);
  });
}

if (name === "deno") {
  const deno = await import("../../transport/deno.ts");
  const { memoryPair } = await import("../../transport/memory.ts");

  test("deno: dangerouslyDisableVerification skips the host name check", async () => {
    await withTlsEcho(async (port) => {
      const tls = {
        caCerts: [certs.ca],
        serverName: "wrong.example",
        dangerouslyDisableVerification: true,
      };
      await roundTrip(await connector({ host: "127.0.0.1", port, tls, timeoutMs: 5000 }));
    });
  });

  test("deno: dangerouslyDisableVerification with an untrusted chain explains the CLI flag", async () => {
    await withTlsEcho(async (port) => {
      const error = await dialError(port, { dangerouslyDisableVerification: true }, "localhost");
      assert.ok(error instanceof ChainVerificationRequiredError, `got ${error}`);
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /--unsafely-ignore-certificate-errors/);
    });
  });

  test("deno: mutual TLS presents the client certificate", async () => {
    const tls = await import("node:tls");
    const server = tls.createServer({
      key: certs.serverKey,
      cert: certs.serverCert,
      ca: [certs.ca],
      requestCert: true,
      rejectUnauthorized: true,
    }, (socket) => {
      socket.on("error", () => {});
      socket.on("data", (data) => {
        const subject = socket.getPeerCertificate().subject?.CN ?? "none";
        socket.end(`${data.length}:${subject}`);
      });
    });
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const conn = await connector({
        host: "localhost",
        port,
        tls: { caCerts: [certs.ca], cert: certs.clientCert, key: certs.clientKey },
        timeoutMs: 5000,
      });
      try {
        await conn.write(HELLO);
        const reply = new TextDecoder().decode(await readExactly(conn, 24));
        assert.equal(reply, "7:kafka-wire test client");
      } finally {
        conn.close();
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("deno: mutual TLS with a serverName other than the host is a ConfigError", async () => {
    const error = await connector({
      host: "127.0.0.1",
      port: 9,
      tls: { cert: certs.clientCert, key: certs.clientKey, serverName: "localhost" },
    }).catch((e) => e);
    assert.ok(error instanceof ConfigError, `got ${error}`);
    assert.match(error.message, /serverName/);
  });

  test("deno: denoListen() refuses requestClientCert with ConfigError", async () => {
    await assert.rejects(
      listen({ tls: { cert: certs.serverCert, key: certs.serverKey, requestClientCert: true } }),
      ConfigError,
    );
  });

  test("deno: startTls() upgrades a plaintext connection in place", async () => {
    // Plaintext in front, TLS behind: a relay passes the handshake through, as a STARTTLS peer
    // would see it.
    const tlsListener = await listen({ tls: { cert: certs.serverCert, key: certs.serverKey } });
    const serving = serveEcho(tlsListener);
    const relayListener = await listen();
    const relaying = relayListener.accept().then(async (front) => {
      const back = await connector({ host: "127.0.0.1", port: tlsListener.addr.port });
      const pipe = async (from: Conn, to: Conn) => {
        for (let chunk = await from.read(); chunk !== null; chunk = await from.read()) {
          await to.write(chunk);
        }
        to.close();
      };
      await Promise.all([pipe(front!, back), pipe(back, front!)]);
    });
    try {
      const plain = await connector({ host: "127.0.0.1", port: relayListener.addr.port });
      assert.equal(plain.secure, false);
      const secure = await deno.startTls(plain, { caCerts: [certs.ca] }, "localhost", {
        timeoutMs: 5000,
      });
      assert.equal(await plain.closed, undefined);
      await assert.rejects(plain.write(HELLO), /closed/);
      await roundTrip(secure);
    } finally {
      await relaying;
      relayListener.close();
      tlsListener.close();
      await serving;
    }
  });

  test("deno: startTls() verifies the certificate and refuses what it cannot do", async () => {
    await withTlsEcho(async (port) => {
      const plain = await connector({ host: "127.0.0.1", port });
      const error = await deno.startTls(plain, { caCerts: [certs.otherCa] }, "localhost")
        .catch((e) => e);
      assert.ok(error instanceof TlsError, `got ${error}`);
      assert.match(error.message, /check caCerts/);
      assert.equal(error.kind, "untrusted");

      const again = await connector({ host: "127.0.0.1", port });
      try {
        await assert.rejects(
          deno.startTls(again, { cert: certs.clientCert, key: certs.clientKey }),
          ConfigError,
        );
      } finally {
        again.close();
      }
    });
    const { client, server } = memoryPair();
    await assert.rejects(deno.startTls(client, {}), ConfigError);
    client.close();
    server.close();
  });
}
