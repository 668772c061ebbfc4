/**
 * The replies the test broker encodes itself: ApiVersions, Metadata, SaslHandshake and
 * SaslAuthenticate, shaped the way an Apache Kafka broker shapes them.
 *
 * @module
 */

import type { Reader } from "../framing/reader.ts";
import { Writer } from "../framing/writer.ts";
import type { ServerApiSpec } from "../protocol/api.ts";
import { ApiVersions } from "../protocol/api_versions.ts";
import { ErrorCode, errorInfo } from "../protocol/errors.ts";
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  Metadata,
  type MetadataRequestTopic,
  type MetadataTopic,
} from "../protocol/metadata.ts";
import { SaslAuthenticate } from "../protocol/sasl_authenticate.ts";
import { SaslHandshake } from "../protocol/sasl_handshake.ts";
import { ZERO_UUID } from "../protocol/uuid.ts";
import type { BrokerState } from "./broker_state.ts";
import type { TopicState } from "./cluster_state.ts";
import type { SaslSession } from "./sasl_session.ts";

/** A reply body and whether the connection closes once it is written. */
export interface BuiltinAnswer {
  /** The response body, after the response header. */
  readonly body: Uint8Array;
  /** Close the connection after writing the reply. */
  readonly closeAfter: boolean;
}

/** KIP-511's rule for client software names and versions. */
const SOFTWARE_FIELD = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;

const EMPTY = new Uint8Array(0);

/**
 * Encodes a reply body.
 *
 * @param spec The API's codec.
 * @param response The reply.
 * @param version The request version.
 * @returns The body bytes.
 */
export function encode<Res>(
  spec: ServerApiSpec<unknown, Res>,
  response: Res,
  version: number,
): Uint8Array {
  const w = new Writer();
  spec.encodeResponse(w, response, version);
  return w.finish();
}

/**
 * Answers ApiVersions. A version outside the advertised range gets UNSUPPORTED_VERSION with a
 * v0 body listing only the ApiVersions range (KIP-511), so the client can retry at a version
 * both sides know; v3+ with client software fields that break KIP-511's character rule gets
 * INVALID_REQUEST.
 *
 * @param state The broker.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code to answer with, from `faults.error`.
 * @returns The response body.
 */
export function answerApiVersions(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): Uint8Array {
  const own = state.apis.range(ApiVersions.key) ?? {
    apiKey: ApiVersions.key,
    minVersion: 0,
    maxVersion: 0,
  };
  let errorCode = faultCode ?? ErrorCode.NONE;
  if (version < own.minVersion || version > own.maxVersion) {
    errorCode = ErrorCode.UNSUPPORTED_VERSION;
  } else if (errorCode === ErrorCode.NONE && version >= 3) {
    const req = ApiVersions.decodeRequest(body, version);
    if (
      !SOFTWARE_FIELD.test(req.clientSoftwareName) ||
      !SOFTWARE_FIELD.test(req.clientSoftwareVersion)
    ) {
      errorCode = ErrorCode.INVALID_REQUEST;
    }
  }
  const apiKeys = errorCode === ErrorCode.UNSUPPORTED_VERSION
    ? [own]
    : errorCode === ErrorCode.INVALID_REQUEST
    ? []
    : state.apis.advertised();
  return encode(ApiVersions, {
    errorCode,
    apiKeys,
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  }, version);
}

function describe(
  state: BrokerState,
  topic: TopicState,
  faultCode: number | undefined,
): MetadataTopic {
  const cluster = state.cluster;
  const partitions = faultCode === undefined
    ? topic.partitions.map((p) => ({
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: cluster.isr(p),
      offlineReplicas: cluster.offlineReplicas(p),
    }))
    : [];
  return {
    errorCode: faultCode ?? ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: false,
    partitions,
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function unknownTopic(wanted: MetadataRequestTopic, version: number): MetadataTopic {
  const byId = wanted.name === null;
  return {
    errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    // Names are nullable in replies from v12 only; older versions get an empty name.
    name: wanted.name ?? (version >= 12 ? null : ""),
    topicId: byId ? wanted.topicId ?? ZERO_UUID : ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function findTopic(state: BrokerState, wanted: MetadataRequestTopic): TopicState | undefined {
  if (wanted.name !== null) return state.cluster.topic(wanted.name);
  return state.cluster.topicById(wanted.topicId ?? ZERO_UUID);
}

/**
 * Answers Metadata from the cluster state: the running nodes at their advertised addresses,
 * the controller, and each partition's leader, epoch, replicas, in-sync and offline replicas
 * (LEADER_NOT_AVAILABLE while a partition has no leader). Requested topics the cluster lacks
 * come back as UNKNOWN_TOPIC_OR_PARTITION (by name) or UNKNOWN_TOPIC_ID (by id); topics are
 * never auto-created.
 *
 * @param state The node.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code every topic carries, from `faults.error`.
 * @returns The response body.
 */
export function answerMetadata(
  state: BrokerState,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): Uint8Array {
  const req = Metadata.decodeRequest(body, version);
  const cluster = state.cluster;
  const topics = req.topics === null
    ? [...cluster.topics()].map((t) => describe(state, t, faultCode))
    : req.topics.map((wanted) => {
      const topic = findTopic(state, wanted);
      return topic ? describe(state, topic, faultCode) : unknownTopic(wanted, version);
    });
  return encode(Metadata, {
    throttleTimeMs: 0,
    brokers: cluster.nodes.filter((n) => n.running).map((n) => cluster.endpoint(n)),
    clusterId: cluster.clusterId,
    controllerId: cluster.controllerId,
    topics,
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  }, version);
}

/**
 * Answers SaslHandshake. Without SASL configured it answers ILLEGAL_SASL_STATE, as a Kafka
 * PLAINTEXT listener does; a failed handshake closes the connection after the reply.
 *
 * @param session The connection's SASL state, or `undefined` without SASL.
 * @param body The request body.
 * @param version The request version.
 * @param faultCode An error code to answer with, from `faults.error`.
 * @returns The reply and whether to close after it.
 */
export function answerSaslHandshake(
  session: SaslSession | undefined,
  body: Reader,
  version: number,
  faultCode: number | undefined,
): BuiltinAnswer {
  const { mechanism } = SaslHandshake.decodeRequest(body, version);
  if (session === undefined || faultCode !== undefined) {
    const errorCode = faultCode ?? ErrorCode.ILLEGAL_SASL_STATE;
    const mechanisms = session ? [...session.mechanisms] : [];
    return {
      body: encode(SaslHandshake, { errorCode, mechanisms }, version),
      closeAfter: session !== undefined,
    };
  }
  const outcome = session.handshake(mechanism, version);
  return { body: encode(SaslHandshake, outcome.response, version), closeAfter: outcome.closeAfter };
}

/**
 * Answers SaslAuthenticate by running one step of the mechanism. Without SASL configured it
 * answers ILLEGAL_SASL_STATE, as a Kafka PLAINTEXT listener does; a failure closes the
 * connection after the reply.
 *
 * @param session The connection's SASL state, or `undefined` without SASL.
 * @param body The request body.
 * @param version The request version.
 * @param now The broker clock's current time.
 * @param faultCode An error code to answer with, from `faults.error`.
 * @returns The reply and whether to close after it.
 */
export async function answerSaslAuthenticate(
  session: SaslSession | undefined,
  body: Reader,
  version: number,
  now: number,
  faultCode: number | undefined,
): Promise<BuiltinAnswer> {
  const { authBytes } = SaslAuthenticate.decodeRequest(body, version);
  if (session === undefined || faultCode !== undefined) {
    const errorCode = faultCode ?? ErrorCode.ILLEGAL_SASL_STATE;
    const errorMessage = session === undefined
      ? "SaslAuthenticate request received on a listener without SASL"
      : `Injected fault: ${errorInfo(errorCode)?.message ?? `error ${errorCode}`}`;
    const response = { errorCode, errorMessage, authBytes: EMPTY, sessionLifetimeMs: 0 };
    return {
      body: encode(SaslAuthenticate, response, version),
      closeAfter: session !== undefined,
    };
  }
  const outcome = await session.authenticate(authBytes, now);
  return {
    body: encode(SaslAuthenticate, outcome.response, version),
    closeAfter: outcome.closeAfter,
  };
}
