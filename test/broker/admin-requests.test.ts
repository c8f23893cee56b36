import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { createRequest, createResponse } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { buildTagSubscription } from '../../src/common/subscription.js';
import { skip, useStandalone, type Standalone } from '../client/standalone-fixture.js';
import { waitUntil } from '../client/helpers.js';

// The broker's admin requests over sockets (GET_TOPIC_STATS_INFO, GET_CONSUME_STATS, connection
// lists, QUERY_TOPIC_CONSUME_BY_WHO, subscription groups, INVOKE_BROKER_TO_RESET_OFFSET and the
// relay of GET_CONSUMER_RUNNING_INFO / CONSUME_MESSAGE_DIRECTLY to a client).

let mq: Standalone;
let admin: Admin;
let api: MQClientAPI;
let producer: Producer;
const stamp = Date.now();
const PG = `AR_PG_${stamp}`;

useStandalone('rmq-admin-requests-', {
  async started(s) {
    mq = s;
    admin = new Admin({ namesrvAddr: mq.namesrvAddr });
    await admin.start();
    api = admin.api;
    producer = new Producer({ group: PG, namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200 });
    await producer.start();
  },
  async stopping() {
    await producer?.shutdown();
    await admin?.shutdown();
  },
});

async function raw(code: number, ext: Record<string, string | number | boolean> = {}, body?: Buffer) {
  return api.remoting.invoke(mq.brokerAddr, createRequest(code, { extFields: ext, body }), 5000);
}

async function newTopic(topic: string, queues: number): Promise<string> {
  await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: queues, writeQueueNums: queues }, { brokerAddr: mq.brokerAddr });
  await waitUntil(async () => (await admin.fetchAllTopicList()).includes(topic), 'the topic in the list');
  return (await admin.examineTopicRouteInfo(topic)).queueDatas[0]!.brokerName;
}

test('GET_TOPIC_STATS_INFO: per-queue min/max/last update, MessageQueue keys as quoted JSON', { skip }, async () => {
  const topic = `AR_Stats_${stamp}`;
  const brokerName = await newTopic(topic, 2);
  const before = Date.now();
  for (let i = 0; i < 3; i++) await producer.send(new Message(topic, `m${i}`), { queue: { topic, brokerName, queueId: 1 } });
  const res = await raw(RequestCode.GET_TOPIC_STATS_INFO, { topic });
  assert.equal(res.code, ResponseCode.SUCCESS);
  const body = JSON.parse(res.body!.toString()) as { offsetTable: Record<string, unknown>; topicPutTps: number };
  assert.deepEqual(Object.keys(body.offsetTable), [0, 1].map((queueId) => JSON.stringify({ brokerName, queueId, topic })));
  assert.equal(body.topicPutTps, 0);
  const stats = await api.getTopicStatsInfo(mq.brokerAddr, topic);
  const q = [...stats.offsetTable.values()].sort((a, b) => a.mq.queueId - b.mq.queueId);
  assert.deepEqual(q.map((e) => [e.mq.queueId, e.offset.minOffset, e.offset.maxOffset]), [[0, 0, 0], [1, 0, 3]]);
  assert.equal(q[0]!.offset.lastUpdateTimestamp, 0);
  assert.ok(q[1]!.offset.lastUpdateTimestamp >= before - 1000);
  const missing = await raw(RequestCode.GET_TOPIC_STATS_INFO, { topic: `AR_None_${stamp}` });
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
});

test('consume stats, connections, consume-by-who, producer connections; reset pushed to an online consumer', { skip }, async () => {
  const topic = `AR_Group_${stamp}`;
  const group = `AR_G_${stamp}`;
  const brokerName = await newTopic(topic, 2);
  const q0 = { topic, brokerName, queueId: 0 };
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
    const cc = await api.getConsumerConnectionList(mq.brokerAddr, group);
    assert.deepEqual(cc.connectionSet.map((x) => x.clientId), [c.clientId]);
    assert.match(cc.connectionSet[0]!.clientAddr, /:\d+$/);
    assert.ok(cc.connectionSet[0]!.language);
    assert.ok(cc.connectionSet[0]!.version > 0);
    assert.equal(cc.subscriptionTable.get(topic)?.subString, '*');
    assert.equal(cc.consumeType, 'CONSUME_PASSIVELY');
    assert.equal(cc.messageModel, 'CLUSTERING');
    assert.ok(cc.consumeFromWhere);
    const info = await admin.examineConsumerConnectionInfo(group);
    assert.equal(info.idsOnly, false);

    assert.ok((await api.queryTopicConsumeByWho(mq.brokerAddr, topic)).includes(group));

    await waitUntil(async () => {
      const cs = await api.getConsumeStats(mq.brokerAddr, group, topic);
      return [...cs.offsetTable.values()].find((e) => e.mq.queueId === 0)?.offset.consumerOffset === 8;
    }, 'the committed offset');
    const cs = await api.getConsumeStats(mq.brokerAddr, group, topic);
    const e0 = [...cs.offsetTable.values()].find((e) => e.mq.queueId === 0)!;
    assert.equal(e0.offset.brokerOffset, 8);
    assert.ok(e0.offset.lastTimestamp >= middle);
    const all = await api.getConsumeStats(mq.brokerAddr, group);
    assert.ok([...all.offsetTable.values()].some((e) => e.mq.topic === topic));

    // The reset commits the offsets and pushes them to the consumer, which consumes the late ones again.
    got.length = 0;
    const reset = await api.invokeBrokerToResetOffset(mq.brokerAddr, topic, group, middle, true);
    assert.deepEqual([...reset.values()].sort((a, b) => a.mq.queueId - b.mq.queueId).map((e) => e.offset), [4, 0]);
    await waitUntil(() => got.length >= 4, 'the late messages again');
    assert.deepEqual([...got].sort(), ['late-0', 'late-1', 'late-2', 'late-3']);
    const viaAdmin = await admin.resetOffsetByTimestamp(topic, group, middle);
    assert.equal(viaAdmin.mode, 'broker');
  } finally {
    await c.shutdown();
  }
  await assert.rejects(api.getConsumerConnectionList(mq.brokerAddr, group), (err: unknown) => err instanceof MQBrokerError && err.responseCode === ResponseCode.CONSUMER_NOT_ONLINE);
  // Offline, the group still counts as a consumer of the topic through its offsets.
  assert.ok((await api.queryTopicConsumeByWho(mq.brokerAddr, topic)).includes(group));
  // Offline reset: committed on the broker, nothing pushed; a non-forced reset only moves back.
  const back = await api.invokeBrokerToResetOffset(mq.brokerAddr, topic, group, 0, false);
  assert.equal([...back.values()].find((e) => e.mq.queueId === 0)?.offset, 0);
  const fwd = await api.invokeBrokerToResetOffset(mq.brokerAddr, topic, group, -1, false);
  assert.equal([...fwd.values()].find((e) => e.mq.queueId === 0)?.offset, 0);
  const one = await api.remoting.invoke(mq.brokerAddr, createRequest(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { extFields: { topic, group, timestamp: 0, isForce: true, queueId: 0, offset: 6 } }), 5000);
  assert.equal(one.code, ResponseCode.SUCCESS);
  assert.equal(await api.queryConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0 }), 6);

  await waitUntil(async () => (await api.getProducerConnectionList(mq.brokerAddr, PG).catch(() => undefined)) !== undefined, 'the producer heartbeat');
  const pc = await api.getProducerConnectionList(mq.brokerAddr, PG);
  assert.equal(pc.connectionSet.length, 1);
  assert.ok(pc.connectionSet[0]!.clientId);
  await assert.rejects(api.getProducerConnectionList(mq.brokerAddr, `AR_NoPG_${stamp}`), (err: unknown) => err instanceof MQBrokerError && err.responseCode === ResponseCode.SYSTEM_ERROR);
});

test('subscription groups: create, list, delete with cleanOffset', { skip }, async () => {
  const group = `AR_Sub_${stamp}`;
  const topic = `AR_SubTopic_${stamp}`;
  await newTopic(topic, 1);
  await api.createSubscriptionGroup(mq.brokerAddr, { groupName: group, consumeEnable: false, consumeFromMinEnable: true, consumeBroadcastEnable: true, consumeMessageOrderly: true,
    retryQueueNums: 1, retryMaxTimes: 3, brokerId: 0, whichBrokerWhenConsumeSlowly: 1, notifyConsumerIdsChangedEnable: true });
  const list = async (): Promise<{ subscriptionGroupTable: Record<string, { retryMaxTimes: number; consumeEnable: boolean; consumeMessageOrderly: boolean }>; forbiddenTable: unknown; dataVersion: { counter: number } }> => {
    const res = await raw(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    assert.equal(res.code, ResponseCode.SUCCESS);
    return JSON.parse(res.body!.toString());
  };
  const l1 = await list();
  assert.deepEqual(l1.forbiddenTable, {});
  assert.deepEqual([l1.subscriptionGroupTable[group]!.retryMaxTimes, l1.subscriptionGroupTable[group]!.consumeEnable, l1.subscriptionGroupTable[group]!.consumeMessageOrderly], [3, false, true]);
  await api.updateConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0, commitOffset: 0 });
  assert.ok((await api.queryTopicConsumeByWho(mq.brokerAddr, topic)).includes(group));
  await api.deleteSubscriptionGroup(mq.brokerAddr, group, true);
  const l2 = await list();
  assert.equal(l2.subscriptionGroupTable[group], undefined);
  assert.ok(l2.dataVersion.counter > l1.dataVersion.counter);
  assert.ok(!(await api.queryTopicConsumeByWho(mq.brokerAddr, topic)).includes(group), 'offsets removed');
  const bad = await raw(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from('{"groupName":"bad name!"}'));
  assert.equal(bad.code, ResponseCode.INVALID_PARAMETER);
  assert.equal((await raw(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)).code, ResponseCode.INVALID_PARAMETER);
});

test('GET_CONSUMER_RUNNING_INFO / CONSUME_MESSAGE_DIRECTLY are relayed to the client, with clear errors', { skip }, async () => {
  const group = `AR_Relay_${stamp}`;
  const topic = `AR_RelayTopic_${stamp}`;
  await newTopic(topic, 1);
  const sent = await producer.send(new Message(topic, 'direct'));
  const client = new MQClientAPI();
  const clientID = `127.0.0.1@relay-${stamp}`;
  const seen: Array<{ code: number; ext: Record<string, string> | undefined; body?: Buffer }> = [];
  let answer = true;
  const handler = async (req: Parameters<Parameters<MQClientAPI['registerRequestHandler']>[1]>[0]) => {
    seen.push({ code: req.code, ext: req.extFields, body: req.body });
    if (!answer) return new Promise<never>(() => undefined);
    const body = req.code === RequestCode.GET_CONSUMER_RUNNING_INFO
      ? Buffer.from(JSON.stringify({ properties: { PROP_CONSUME_TYPE: 'CONSUME_PASSIVELY' }, subscriptionSet: [], mqTable: {}, statusTable: {} }))
      : Buffer.from(JSON.stringify({ order: false, autoCommit: true, consumeResult: 'CR_SUCCESS', remark: 'ok', spentTimeMills: 1 }));
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body });
  };
  client.registerRequestHandler(RequestCode.GET_CONSUMER_RUNNING_INFO, handler);
  client.registerRequestHandler(RequestCode.CONSUME_MESSAGE_DIRECTLY, handler);
  try {
    await client.sendHeartbeat(mq.brokerAddr, {
      clientID, producerDataSet: [],
      consumerDataSet: [{ groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', subscriptionDataSet: [buildTagSubscription(topic, '*')], unitMode: false }],
    });
    const running = await raw(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: group, clientId: clientID, jstackEnable: false });
    assert.equal(running.code, ResponseCode.SUCCESS, running.remark);
    assert.equal(JSON.parse(running.body!.toString()).properties.PROP_CONSUME_TYPE, 'CONSUME_PASSIVELY');
    assert.equal(seen[0]!.ext?.clientId, clientID);

    const direct = await raw(RequestCode.CONSUME_MESSAGE_DIRECTLY, { consumerGroup: group, clientId: clientID, msgId: sent.offsetMsgId, topic });
    assert.equal(direct.code, ResponseCode.SUCCESS, direct.remark);
    assert.equal(JSON.parse(direct.body!.toString()).consumeResult, 'CR_SUCCESS');
    assert.ok(seen[1]!.ext?.brokerName, 'the broker adds its name');
    assert.ok(seen[1]!.body!.includes(Buffer.from('direct')), 'the stored record is the body');

    const offline = await raw(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: group, clientId: 'nobody@0' });
    assert.equal(offline.code, ResponseCode.SYSTEM_ERROR);
    assert.match(offline.remark ?? '', /not online/);
    const badId = await raw(RequestCode.CONSUME_MESSAGE_DIRECTLY, { consumerGroup: group, clientId: clientID, msgId: 'xyz' });
    assert.equal(badId.code, ResponseCode.SYSTEM_ERROR);

    // A client that never answers: the broker answers SYSTEM_ERROR after its relay timeout.
    answer = false;
    const t0 = Date.now();
    const silent = await raw(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: group, clientId: clientID, jstackEnable: false });
    assert.equal(silent.code, ResponseCode.SYSTEM_ERROR);
    assert.match(silent.remark ?? '', /did not answer within \d+ ms/);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await client.shutdown();
  }
});
