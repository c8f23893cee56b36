import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { buildSubscriptionData } from '../../src/client/subscription.js';
import { ConsumeFromWhere, ConsumeType, MessageModel, type HeartbeatData } from '../../src/client/headers.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';

// MQClientAPI's admin and client-management calls against a real NameServer + Broker.

let mq: Standalone;
let api: MQClientAPI;
const stamp = Date.now();

useStandalone('rmq-client-api-e2e-', {
  started(s) {
    mq = s;
    api = new MQClientAPI();
  },
  async stopping() {
    await api?.shutdown();
  },
});

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

test('cluster info lists the broker; TBW102 has a route', { skip }, async () => {
  const ci = await api.getBrokerClusterInfo(mq.namesrvAddr);
  const brokers = Object.values(ci.brokerAddrTable);
  assert.equal(brokers.length, 1);
  assert.equal(brokers[0]!.brokerAddrs['0'], mq.brokerAddr);
  assert.deepEqual(Object.values(ci.clusterAddrTable).flat(), [brokers[0]!.brokerName]);
  const tbw = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'TBW102');
  assert.ok(tbw.queueDatas.length > 0);
});

test('create, list, route and delete a topic', { skip }, async () => {
  const topic = `E2E_Admin_${stamp}`;
  await api.createTopic(mq.brokerAddr, 'TBW102', {
    topicName: topic, readQueueNums: 3, writeQueueNums: 3, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
  });
  const all = await api.getAllTopicConfig(mq.brokerAddr);
  assert.equal(all.topicConfigTable[topic]?.writeQueueNums, 3);
  assert.equal(all.topicConfigTable[topic]?.perm, 6);
  const route = await eventually(async () => {
    const r = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, topic);
    return r.queueDatas.length > 0 ? r : undefined;
  }, 35_000);
  assert.ok(route, 'the new topic was never routed by the NameServer');
  assert.equal(route.queueDatas[0]!.writeQueueNums, 3);
  await api.deleteTopicInBroker(mq.brokerAddr, topic);
  await api.deleteTopicInNameServer(mq.namesrvAddr, topic);
  assert.equal((await api.getAllTopicConfig(mq.brokerAddr)).topicConfigTable[topic], undefined);
  await assert.rejects(api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, topic),
    (e: unknown) => e instanceof MQBrokerError && e.responseCode === ResponseCode.TOPIC_NOT_EXIST);
});

test('heartbeat registers a consumer; lock and unlock its queues; unregister', { skip }, async () => {
  const group = `E2E_HB_${stamp}`;
  const topic = `E2E_HB_Topic_${stamp}`;
  await api.createTopic(mq.brokerAddr, 'TBW102', {
    topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
  });
  const clientID = `127.0.0.1@e2e-${stamp}`;
  const hb: HeartbeatData = {
    clientID,
    producerDataSet: [],
    consumerDataSet: [{
      groupName: group, consumeType: ConsumeType.CONSUME_ACTIVELY, messageModel: MessageModel.CLUSTERING,
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET, subscriptionDataSet: [buildSubscriptionData(topic, '*')], unitMode: false,
    }],
  };
  const res = await api.sendHeartbeat(mq.brokerAddr, hb);
  assert.ok(res.version > 0);
  assert.deepEqual(await api.getConsumerIdListByGroup(mq.brokerAddr, group), [clientID]);
  const brokerName = Object.keys((await api.getBrokerClusterInfo(mq.namesrvAddr)).brokerAddrTable)[0]!;
  const mqSet = [0, 1].map((queueId) => ({ topic, brokerName, queueId }));
  const locked = await api.lockBatchMQ(mq.brokerAddr, { consumerGroup: group, clientId: clientID, mqSet });
  assert.deepEqual(locked.map((q) => q.queueId).sort(), [0, 1]);
  const other = await api.lockBatchMQ(mq.brokerAddr, { consumerGroup: group, clientId: 'someone-else', mqSet });
  assert.deepEqual(other, []);
  await api.unlockBatchMQ(mq.brokerAddr, { consumerGroup: group, clientId: clientID, mqSet });
  const after = await api.lockBatchMQ(mq.brokerAddr, { consumerGroup: group, clientId: 'someone-else', mqSet });
  assert.equal(after.length, 2);
  await api.unregisterClient(mq.brokerAddr, clientID, undefined, group);
  await assert.rejects(api.getConsumerIdListByGroup(mq.brokerAddr, group), MQBrokerError);
});

test('runtime info and KV config', { skip }, async () => {
  const info = await api.getBrokerRuntimeInfo(mq.brokerAddr);
  assert.ok(Object.keys(info).length > 0);
  await api.putKVConfig(mq.namesrvAddr, 'E2E_NS', 'k', 'v1');
  assert.equal(await api.getKVConfig(mq.namesrvAddr, 'E2E_NS', 'k'), 'v1');
  assert.equal(await api.getKVConfig(mq.namesrvAddr, 'E2E_NS', 'missing'), undefined);
  await api.deleteKVConfig(mq.namesrvAddr, 'E2E_NS', 'k');
  assert.equal(await api.getKVConfig(mq.namesrvAddr, 'E2E_NS', 'k'), undefined);
});
