import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQClientError, ClientErrorCode } from '../../src/client/errors.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { skip, useStandalone, type Standalone } from '../client/standalone-fixture.js';
import { sendAroundInstant, startCollector, waitUntil } from '../client/helpers.js';

// Admin against a real NameServer + Broker in this process.

let mq: Standalone;
let admin: Admin;
let producer: Producer;
const stamp = Date.now();

useStandalone('rmq-admin-e2e-', {
  async started(s) {
    mq = s;
    admin = new Admin({ namesrvAddr: mq.namesrvAddr });
    await admin.start();
    producer = new Producer({ group: 'ADMIN_E2E_PG', namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200 });
    await producer.start();
  },
  async stopping() {
    await producer?.shutdown();
    await admin?.shutdown();
  },
});

/** Tolerates a broker that does not have the request yet (REQUEST_CODE_NOT_SUPPORTED). */
function unsupported(err: unknown): boolean {
  return err instanceof MQBrokerError && err.responseCode === ResponseCode.REQUEST_CODE_NOT_SUPPORTED;
}

test('cluster info, topic create / list / route / stats / delete', { skip }, async () => {
  const ci = await admin.examineBrokerClusterInfo();
  assert.deepEqual(Object.keys(ci.clusterAddrTable), ['DefaultCluster']);
  assert.deepEqual(await admin.masterAddrsOfCluster('DefaultCluster'), [mq.brokerAddr]);
  await assert.rejects(admin.masterAddrsOfCluster('Nope'), /cluster Nope does not exist/);
  const topic = `AdminTopic_${stamp}`;
  const { config, brokerAddrs } = await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 3, writeQueueNums: 3 }, { clusterName: 'DefaultCluster' });
  assert.deepEqual(brokerAddrs, [mq.brokerAddr]);
  assert.equal(config.perm, 6);
  await waitUntil(async () => (await admin.fetchAllTopicList()).includes(topic), 'the topic in the list');
  const route = await admin.examineTopicRouteInfo(topic);
  assert.equal(route.queueDatas[0]!.readQueueNums, 3);
  for (let i = 0; i < 5; i++) await producer.send(new Message(topic, `s${i}`), { queue: { topic, brokerName: route.queueDatas[0]!.brokerName, queueId: 1 } });
  const stats = await admin.examineTopicStats(topic);
  const byQueue = [...stats.offsetTable.values()].sort((a, b) => a.mq.queueId - b.mq.queueId).map((e) => [e.offset.minOffset, e.offset.maxOffset]);
  assert.deepEqual(byQueue, [[0, 0], [0, 5], [0, 0]]);
  assert.deepEqual(await admin.deleteTopic(topic, 'DefaultCluster'), [mq.brokerAddr]);
  await assert.rejects(admin.examineTopicRouteInfo(topic), (err: unknown) => err instanceof MQClientError && err.code === ClientErrorCode.NOT_FOUND);
});

test('consumer progress, connections and reset by time', { skip }, async () => {
  const topic = `AdminGroupTopic_${stamp}`;
  const group = `AdminGroup_${stamp}`;
  await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 2, writeQueueNums: 2 }, { brokerAddr: mq.brokerAddr });
  await waitUntil(async () => (await admin.fetchAllTopicList()).includes(topic), 'the topic in the list');
  const route = await admin.examineTopicRouteInfo(topic);
  const q0 = { topic, brokerName: route.queueDatas[0]!.brokerName, queueId: 0 };
  const middle = await sendAroundInstant((body) => producer.send(new Message(topic, body), { queue: q0 }),
    ['early-0', 'early-1', 'early-2', 'early-3'], ['late-0', 'late-1', 'late-2', 'late-3']);
  const { consumer: c, got } = await startCollector(mq.namesrvAddr, group, topic);
  try {
    await waitUntil(() => got.length === 8, 'eight messages');
    const cc = await admin.examineConsumerConnectionInfo(group);
    assert.deepEqual(cc.connectionSet.map((x) => x.clientId), [c.clientId]);
    assert.equal(cc.idsOnly, false);
    assert.equal(cc.subscriptionTable.get(topic)?.subString, '*');
    assert.ok((await admin.fetchConsumerGroups()).includes(group));
  } finally {
    await c.shutdown();
  }
  const progress = await admin.examineConsumeStats(group, topic);
  const e0 = [...progress.offsetTable.values()].find((e) => e.mq.queueId === 0)!;
  assert.deepEqual([e0.offset.brokerOffset, e0.offset.consumerOffset], [8, 8]);
  const all = await admin.examineConsumeStats(group);
  assert.ok([...all.offsetTable.values()].some((e) => e.mq.topic === topic), 'found without naming the topic');
  await assert.rejects(admin.examineConsumerConnectionInfo(group), /not online/);
  const reset = await admin.resetOffsetByTimestamp(topic, group, middle);
  // The broker answers INVOKE_BROKER_TO_RESET_OFFSET itself (also with no consumer online).
  assert.equal(reset.mode, 'broker');
  if (reset.mode === 'broker') assert.equal(reset.offsets.find((o) => o.mq.queueId === 0)?.offset, 4);
  const after = await admin.examineConsumeStats(group, topic);
  assert.equal([...after.offsetTable.values()].find((e) => e.mq.queueId === 0)!.offset.consumerOffset, 4);
  await assert.rejects(admin.examineConsumeStats(`NoSuchGroup_${stamp}`), /never committed/);
});

test('messages by offset id, by client id and by key', { skip }, async () => {
  const topic = `AdminMsg_${stamp}`;
  const r = await producer.send(new Message(topic, 'find me', { tags: 'T1', keys: ['order-1', 'user-9'], properties: { a: 'b' } }));
  const byOffset = await admin.viewMessage(r.offsetMsgId);
  assert.equal(byOffset.body.toString(), 'find me');
  assert.equal(byOffset.tags, 'T1');
  assert.equal(byOffset.propertyMap.get('a'), 'b');
  const viaQuery = await admin.queryMessageById(topic, r.offsetMsgId);
  assert.equal(viaQuery.msgId, r.msgId);
  await assert.rejects(admin.viewMessage('not-an-id'), (err: unknown) => err instanceof MQClientError && err.code === ClientErrorCode.ARGUMENT_ILLEGAL);
  try {
    const byUniq = await admin.queryMessageById(topic, r.msgId);
    assert.equal(byUniq.body.toString(), 'find me');
    await waitUntil(async () => (await admin.queryMessageByKey(topic, 'user-9')).length === 1, 'the key in the index');
    assert.deepEqual((await admin.queryMessageByKey(topic, 'order-1')).map((m) => m.msgId), [r.msgId]);
    assert.deepEqual(await admin.queryMessageByKey(topic, 'nobody'), []);
  } catch (err) {
    if (!unsupported(err)) throw err;
  }
});

test('broker runtime stats; subscription groups and producer connections where the broker has them', { skip }, async () => {
  const kv = await admin.fetchBrokerRuntimeStats(mq.brokerAddr);
  assert.ok(kv.brokerVersionDesc);
  assert.deepEqual(await admin.brokerAddrsOfCluster('DefaultCluster'), [mq.brokerAddr]);
  assert.equal(await admin.brokerNameOf(mq.brokerAddr), 'broker-a');
  const group = `AdminSubGroup_${stamp}`;
  const res = await admin.createOrUpdateSubscriptionGroup({ groupName: group, retryMaxTimes: 3 }, { clusterName: 'DefaultCluster' });
  assert.equal(res.config.retryMaxTimes, 3);
  assert.deepEqual(await admin.deleteSubscriptionGroup(group, { brokerAddr: mq.brokerAddr }), [mq.brokerAddr]);
  // The producer registers with the broker by heartbeat (every 200 ms here).
  await waitUntil(async () => (await admin.examineProducerConnectionInfo('ADMIN_E2E_PG', `AdminMsg_${stamp}`).catch(() => undefined)) !== undefined, 'the producer heartbeat');
  const pc = await admin.examineProducerConnectionInfo('ADMIN_E2E_PG', `AdminMsg_${stamp}`);
  assert.ok(pc.connectionSet.length >= 1);
  assert.ok(pc.connectionSet[0]!.clientAddr);
});
