// kafkajs (written by someone else) against the embedded cluster: admin CreateTopics, producer,
// a groupless read through kafkajs's own Cluster/Broker classes (its consumer needs consumer
// groups, which the cluster does not serve: that attempt is reported too), ListOffsets through
// admin.fetchTopicOffsets, and DeleteTopics. Prints one JSON line with what it saw.
//
// Usage: node tests/interop/kafkajs_client.cjs <bootstrap,list> <topic> <records per partition>
"use strict";
const { Kafka, logLevel } = require("kafkajs");
const Cluster = require("kafkajs/src/cluster");
const { createLogger, LEVELS } = require("kafkajs/src/loggers");
const socketFactory = require("kafkajs/src/network/socketFactory");

const [bootstrap, topic, perPartitionText] = process.argv.slice(2);
const brokers = bootstrap.split(",");
const perPartition = Number(perPartitionText);
const PARTITIONS = 3;
const silent = () => () => {};

async function groupless() {
  const cluster = new Cluster({
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: silent }),
    socketFactory: socketFactory(),
    brokers,
    clientId: "kafkajs-interop-reader",
    connectionTimeout: 3000,
    authenticationTimeout: 3000,
    retry: { retries: 2 },
  });
  await cluster.connect();
  await cluster.addTargetTopic(topic);
  const values = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const leaders = cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    const broker = await cluster.findBroker({ nodeId });
    const res = await broker.fetch({
      maxWaitTime: 100,
      topics: [{ topic, partitions: [{ partition, fetchOffset: "0", maxBytes: 1 << 20 }] }],
    });
    for (const p of res.responses[0].partitions) {
      for (const m of p.messages) {
        values.push({
          partition,
          offset: m.offset,
          key: m.key && m.key.toString(),
          value: m.value.toString(),
          header: m.headers.h && m.headers.h.toString(),
        });
      }
    }
  }
  await cluster.disconnect();
  return values;
}

async function main() {
  const kafka = new Kafka({ clientId: "kafkajs-interop", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const messages = [];
    for (let i = 0; i < perPartition; i++) {
      messages.push({
        partition,
        key: `k${i}`,
        value: `p${partition}-v${i}`,
        headers: { h: `${i}` },
      });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets(topic);
  const read = await groupless();
  // kafkajs's consumer always joins a group: FindCoordinator comes first, which the cluster
  // answers with UNSUPPORTED_VERSION. The consumer must report that, not hang.
  const consumer = kafka.consumer({ groupId: "interop", retry: { retries: 0 } });
  const consumerError = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve("no error within 10 s: the consumer hung"), 10_000);
    consumer.on(consumer.events.CRASH, (event) => {
      clearTimeout(timer);
      resolve(`${event.payload.error.name}: ${event.payload.error.message}`);
    });
    consumer.connect()
      .then(() => consumer.subscribe({ topic, fromBeginning: true }))
      .then(() => consumer.run({ eachMessage: async () => {} }))
      .catch((error) => {
        clearTimeout(timer);
        resolve(`${error.name}: ${error.message}`);
      });
  });
  await consumer.disconnect().catch(() => {});
  await admin.deleteTopics({ topics: [topic] });
  const after = await admin.listTopics();
  await admin.disconnect();
  console.log(JSON.stringify({
    created,
    partitions: metadata.topics[0].partitions.map((p) => ({ id: p.partitionId, leader: p.leader })),
    offsets: offsets.map((o) => ({ partition: o.partition, high: o.high, low: o.low })),
    read,
    consumerError,
    topicsAfterDelete: after,
  }));
}

main().catch((error) => {
  console.error(`kafkajs interop failed: ${error.stack || error}`);
  process.exit(1);
});
