import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message } from '../../src/client/message.js';
import { MQClientError, ClientErrorCode } from '../../src/client/errors.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { skip, useStandalone, type Standalone } from '../client/standalone-fixture.js';
import { waitUntil } from '../client/helpers.js';

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
    producer = new Producer({ group: 'ADMIN_E2E_PG', namesrvAddr: mq.namesrvAddr });
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
  for (let i = 0; i < 4; i++) await producer.send(new Message(topic, `early-${i}`), { queue: q0 });
  await new Promise((r) => setTimeout(r, 20));
  const middle = Date.now();
  for (let i = 0; i < 4; i++) await producer.send(new Message(topic, `late-${i}`), { queue: q0 });
  const got: string[] = [];
  const c = new PushConsumer({ group, namesrvAddr: mq.namesrvAddr });
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently(async (msgs) => { for (const m of msgs) got.push(m.body.toString()); });
  await c.start();
  try {
    await waitUntil(() => got.length === 8, 'eight messages');
    const cc = await admin.examineConsumerConnectionInfo(group);
    assert.deepEqual(cc.connectionSet.map((x) => x.clientId), [c.clientId]);
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
  if (reset.mode === 'offsets') {
    const r0 = reset.rollbackStats.find((r) => r.queueId === 0)!;
    assert.deepEqual([r0.brokerOffset, r0.consumerOffset, r0.timestampOffset, r0.rollbackOffset], [8, 8, 4, 4]);
  } else {
    assert.equal(reset.offsets.find((o) => o.mq.queueId === 0)?.offset, 4);
  }
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
  await admin.createOrUpdateSubscriptionGroup({ groupName: group, retryMaxTimes: 3 }, { clusterName: 'DefaultCluster' }).then(
    (res) => assert.equal(res.config.retryMaxTimes, 3),
    (err: unknown) => assert.ok(unsupported(err), String(err)));
  await admin.deleteSubscriptionGroup(group, { brokerAddr: mq.brokerAddr }).then(
    (addrs) => assert.deepEqual(addrs, [mq.brokerAddr]),
    (err: unknown) => assert.ok(unsupported(err), String(err)));
  await admin.examineProducerConnectionInfo('ADMIN_E2E_PG', `AdminMsg_${stamp}`).then(
    (pc) => assert.ok(pc.connectionSet.length >= 1),
    (err: unknown) => assert.ok(unsupported(err), String(err)));
});
