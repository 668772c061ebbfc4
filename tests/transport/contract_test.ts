// Registers the Conn contract (./contract.ts) for every adapter this runtime has: the memory
// pair and the Workers adapter over a stream pair run everywhere; the socket adapter is the
// runtime's own (Deno's on Deno, Bun's on Bun, Node's on Node) and its tests say so in their
// names ("[node only] contract: ...").
import assert from "node:assert/strict";
import type { Conn, ListenOptions } from "../../transport/conn.ts";
import { memoryConnector, memoryPair } from "../../transport/memory.ts";
import { testCerts } from "../fixtures/certs.ts";
import { workersStreamSubject } from "../fixtures/workers_streams.ts";
import { connContract, type ContractPair, type ContractSubject } from "./contract.ts";
import { adapter } from "../fixtures/socket_adapter.ts";

const memory: ContractSubject = {
  name: "memory",
  unreadLimitBytes: 4 * 1024 * 1024,
  pair: () => {
    const { client, server } = memoryPair({ bufferLimit: 1024 * 1024 });
    return Promise.resolve({
      client,
      server,
      dispose: () => {
        client.close();
        server.close();
      },
    });
  },
  stalledDial: () => {
    const connector = memoryConnector(() => {}, { connectDelayMs: 60_000 });
    return Promise.resolve({
      dial: (limits) => connector({ host: "broker", port: 9092, ...limits }),
      dispose: () => {},
    });
  },
};

/** The runtime's own socket adapter over loopback. */
function socketSubject(): ContractSubject {
  const { connector, listen, name } = adapter;
  const connected = async (
    listenOptions: ListenOptions,
    dial: (port: number) => Promise<Conn>,
  ): Promise<ContractPair> => {
    const listener = await listen(listenOptions);
    const accepted = listener.accept();
    let client: Conn;
    try {
      client = await dial(listener.addr.port);
    } catch (error) {
      listener.close();
      throw error;
    }
    const server = await accepted;
    assert.ok(server !== null);
    return {
      client,
      server,
      dispose: () => {
        client.close();
        server.close();
        listener.close();
      },
    };
  };
  return {
    name: `${name} only`,
    unreadLimitBytes: 16 * 1024 * 1024,
    pair: () => connected({}, (port) => connector({ host: "127.0.0.1", port, timeoutMs: 5000 })),
    tlsPair: () => {
      const certs = testCerts();
      return connected(
        { tls: { cert: certs.serverCert, key: certs.serverKey } },
        (port) =>
          connector({ host: "localhost", port, tls: { caCerts: [certs.ca] }, timeoutMs: 5000 }),
      );
    },
    // A plaintext listener that never answers: a TLS handshake against it hangs.
    stalledDial: async () => {
      const listener = await listen();
      const accepted: Conn[] = [];
      const accepting = (async () => {
        for (let conn = await listener.accept(); conn !== null; conn = await listener.accept()) {
          accepted.push(conn);
        }
      })();
      const tls = { caCerts: [testCerts().ca] };
      return {
        dial: (limits) =>
          connector({ host: "127.0.0.1", port: listener.addr.port, tls, ...limits }),
        dispose: async () => {
          listener.close();
          await accepting;
          for (const conn of accepted) conn.close();
        },
      };
    },
  };
}

const subjects = [memory, workersStreamSubject, socketSubject()];

for (const subject of subjects) connContract(subject);
