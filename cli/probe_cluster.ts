/**
 * The probe's cluster view: bootstraps a {@link Cluster} from every listed server, then dials
 * every broker Metadata lists at the address it advertises (through `--map-address` and the
 * runtime's resolver), timing each connection's states and one round trip, and explains the
 * brokers this machine cannot reach — above all the bootstrap-answers-but-advertised-listener-
 * does-not mistake. Runtime-neutral: connector and resolver are parameters.
 *
 * @module
 */

import type { StateChange } from "../broker/state.ts";
import { Cluster } from "../cluster/cluster.ts";
import type { ClusterRequestError } from "../cluster/errors.ts";
import type { BrokerUnreachableEvent } from "../cluster/events.ts";
import { unreachableHint } from "../cluster/membership.ts";
import type { HostPort, Resolver } from "../cluster/options.ts";
import { Metadata } from "../protocol/metadata.ts";
import type { SaslMechanism } from "../sasl/mechanism.ts";
import type { Clock } from "../transport/clock.ts";
import type { Connector, TlsOptions } from "../transport/conn.ts";
import { asKafkaError } from "../transport/errors.ts";
import type { ProbeOptions } from "./probe_options.ts";

/** One broker as the cluster view saw it. */
export interface BrokerReach {
  /** Node id. */
  nodeId: number;
  /** Advertised `host:port`. */
  address: string;
  /** Where it was dialled instead, when `--map-address` matched; else `null`. */
  mappedTo: string | null;
  /** Rack, or `null`. */
  rack: string | null;
  /** Whether Metadata names it the controller. */
  controller: boolean;
  /** Whether it reached UP. */
  reachable: boolean;
  /** Milliseconds from the first dial until UP, or `null`. */
  upMs: number | null;
  /** The states its connection went through, with the time spent in each. */
  states: { state: string; ms: number }[];
  /** One Metadata round trip once UP, in milliseconds, or `null`. */
  rttMs: number | null;
  /** The failure, or `null`. */
  error: { name: string; message: string } | null;
  /** What to check when it is not reachable. */
  hint: string | null;
}

/** What the cluster view found. */
export interface ClusterView {
  /** The cluster id. */
  clusterId: string | null;
  /** The controller id Metadata names. */
  controllerId: number;
  /** Every broker Metadata lists, by node id. */
  brokers: BrokerReach[];
  /** How many of them are not reachable from here. */
  unreachable: number;
}

/** What the cluster view needs. */
export interface ClusterViewDeps {
  /** The runtime's connector. */
  connector: Connector;
  /** The runtime's resolver; names are dialled as they are without one. */
  resolve?: Resolver;
  /** Time source. */
  clock: Clock;
}

function text(hp: HostPort): string {
  return `${hp.host.includes(":") ? `[${hp.host}]` : hp.host}:${hp.port}`;
}

/**
 * Runs the cluster view.
 *
 * @param o The probe's options (bootstrap list, map, timeouts, client id).
 * @param tls TLS settings, as for the first broker.
 * @param sasl The SASL mechanism, as for the first broker.
 * @param deps Connector, resolver, clock.
 * @returns The view. Rejects when no bootstrap server answers Metadata.
 */
export async function probeCluster(
  o: ProbeOptions,
  tls: TlsOptions | undefined,
  sasl: SaslMechanism | undefined,
  deps: ClusterViewDeps,
): Promise<ClusterView> {
  const unreachable = new Map<number, BrokerUnreachableEvent>();
  const mapped = new Map(o.mapAddress.map((m) => [text(m.from), m.to]));
  const cluster = new Cluster({
    bootstrap: o.bootstrapServers.map(text),
    connector: deps.connector,
    resolve: deps.resolve,
    mapAddress: (a) => mapped.get(text(a)) ?? null,
    tls,
    sasl,
    clock: deps.clock,
    connection: {
      clientId: o.clientId,
      connectionSetupTimeoutMs: o.timeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
    },
    sendTimeoutMs: o.timeoutMs,
    maxAttempts: 1,
    metadataRefreshIntervalMs: 0,
    onEvent: (e) => {
      if (e.type === "broker-unreachable") unreachable.set(e.nodeId, e);
    },
  });
  try {
    await cluster.refreshMetadata();
    const brokers = cluster.brokers().filter((b) => b.learned);
    const view: ClusterView = {
      clusterId: cluster.clusterId,
      controllerId: cluster.controllerId,
      brokers: [],
      unreachable: 0,
    };
    // Later Metadata replies may name another controller (KRaft brokers name any live broker);
    // the view shows the first answer's.
    // One at a time: the timings then say what each broker costs, not what they cost together.
    for (const b of brokers) {
      const address = text(b);
      const to = mapped.get(address);
      const reach: BrokerReach = {
        nodeId: b.nodeId,
        address,
        mappedTo: to === undefined ? null : text(to),
        rack: b.rack,
        controller: b.nodeId === view.controllerId,
        reachable: false,
        upMs: null,
        states: [],
        rttMs: null,
        error: null,
        hint: null,
      };
      const conn = await cluster.nodeConnection(b.nodeId);
      const started = deps.clock.now();
      const off = conn.onStateChange((c: StateChange) => {
        reach.states.push({ state: c.from, ms: c.elapsedMs });
        if (c.to === "UP") reach.upMs = c.at - started;
      });
      const route = { kind: "node" as const, nodeId: b.nodeId };
      const request = { topics: [], allowAutoTopicCreation: false };
      try {
        await cluster.send(Metadata, request, { route });
        const t = deps.clock.now();
        await cluster.send(Metadata, request, { route });
        reach.rttMs = deps.clock.now() - t;
        reach.reachable = true;
      } catch (caught) {
        const error = (caught as ClusterRequestError).cause ?? caught;
        const e = asKafkaError(error, `broker ${b.nodeId}`);
        reach.error = { name: e.name, message: e.message };
        const event = unreachable.get(b.nodeId);
        reach.hint = event === undefined
          ? `broker ${b.nodeId} at ${address} failed: ${e.message}`
          : unreachableHint(b.nodeId, address, event.kind, event.error, "--map-address");
        view.unreachable++;
      } finally {
        off();
      }
      view.brokers.push(reach);
    }
    return view;
  } finally {
    await cluster.close(false);
  }
}
