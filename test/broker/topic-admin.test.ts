import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { createTopicRequest, newClient, request, sendRequest, startMQ, useMQWithClient, type TestMQ } from './helpers.js';

// Topic and group administration as an operator sees it (mqadmin topicStatus, consumerProgress,
// deleteTopic, resetOffsetByTime), compared with upstream AdminBrokerProcessor.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s));

const stamp = Date.now();

async function ok(req: RemotingCommand): Promise<RemotingCommand> {
  const res = await c.invoke(broker, req);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res;
}

async function commitOffset(group: string, topic: string, queueId: number, commitOffset: number): Promise<void> {
  await ok(request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId, commitOffset }));
}

function queuesOf(res: RemotingCommand): Array<[string, number]> {
  const body = JSON.parse(res.body!.toString()) as { offsetTable: Record<string, unknown> };
  return Object.keys(body.offsetTable).map((k) => JSON.parse(k) as { topic: string; queueId: number }).map((mq) => [mq.topic, mq.queueId] as [string, number])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
}

test('GET_TOPIC_STATS_INFO covers max(read, write) queues, as upstream', async () => {
  const topic = `TA_Stats_${stamp}`;
  await ok(createTopicRequest(topic, 4, 2));
  const res = await ok(request(RequestCode.GET_TOPIC_STATS_INFO, { topic }));
  assert.deepEqual(queuesOf(res).map(([, q]) => q), [0, 1, 2, 3]);
});

test('GET_CONSUME_STATS with topicList reports exactly the listed topics', async () => {
  const group = `TA_G_${stamp}`;
  const topics = ['A', 'B', 'C'].map((x) => `TA_CS_${x}_${stamp}`);
  for (const topic of topics) {
    await ok(createTopicRequest(topic, 1, 1));
    await ok(sendRequest({ topic, body: 'x' }));
    await commitOffset(group, topic, 0, 1);
  }
  const all = await ok(request(RequestCode.GET_CONSUME_STATS, { consumerGroup: group }));
  assert.deepEqual(queuesOf(all).map(([tp]) => tp), topics);
  const listed = await ok(request(RequestCode.GET_CONSUME_STATS, { consumerGroup: group, topic: topics[2], topicList: `${topics[0]};${topics[1]};` }));
  assert.deepEqual(queuesOf(listed).map(([tp]) => tp), [topics[0], topics[1]], 'topicList wins over topic and over the offsets the group has');
  const body = JSON.parse(listed.body!.toString()) as { offsetTable: Record<string, { brokerOffset: number; consumerOffset: number; lastTimestamp: number }> };
  for (const o of Object.values(body.offsetTable)) {
    assert.equal(o.brokerOffset, 1);
    assert.equal(o.consumerOffset, 1);
    assert.ok(o.lastTimestamp > 0, 'lastTimestamp is the store time of the last consumed message');
  }
});

test('DELETE_TOPIC_IN_BROKER removes the POP retry topics of the groups on it; system topics refused as upstream', async () => {
  const topic = `TA_Del_${stamp}`;
  const group = `TA_DelG_${stamp}`;
  const retry = `%RETRY%${group}_${topic}`;
  const other = `%RETRY%${group}_TA_Other_${stamp}`;
  await ok(createTopicRequest(topic, 1, 1));
  await ok(sendRequest({ topic, body: 'x' }));
  await commitOffset(group, topic, 0, 1);
  // The POP retry topics the broker makes when it revives popped messages (upstream KeyBuilder).
  await ok(createTopicRequest(retry, 1, 1));
  await ok(createTopicRequest(other, 1, 1));
  await commitOffset(group, retry, 0, 0);
  await ok(request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic }));
  const tcm = t.mq.broker.topicConfigManager;
  assert.equal(tcm.get(topic), undefined);
  assert.equal(tcm.get(retry), undefined, 'the group\'s POP retry topic of the deleted topic goes with it');
  assert.ok(tcm.get(other), 'a POP retry topic of another topic stays');
  assert.deepEqual(t.mq.broker.consumerOffsetManager.whichTopicByGroup(group), [], 'no offsets left on either');

  for (const sys of ['TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC']) {
    const res = await c.invoke(broker, request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: sys }));
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER, sys);
    assert.equal(res.remark, `The topic[${sys}] is conflict with system topic.`);
    assert.ok(tcm.get(sys), `${sys} is kept`);
  }

  // clearRetryTopicWhenDeleteTopic=false (changed at run time, as upstream reads it per request) keeps them.
  const kept = `%RETRY%${group}_${topic}2`;
  await ok(createTopicRequest(`${topic}2`, 1, 1));
  await ok(createTopicRequest(kept, 1, 1));
  await commitOffset(group, `${topic}2`, 0, 0);
  await ok(request(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from('clearRetryTopicWhenDeleteTopic=false')));
  try {
    await ok(request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: `${topic}2` }));
    assert.equal(tcm.get(`${topic}2`), undefined);
    assert.ok(tcm.get(kept), 'the POP retry topic stays when clearRetryTopicWhenDeleteTopic=false');
  } finally {
    await ok(request(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from('clearRetryTopicWhenDeleteTopic=true')));
  }

  const blank = await c.invoke(broker, request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: ' ' }));
  assert.equal(blank.code, ResponseCode.INVALID_PARAMETER);
  assert.equal(blank.remark, 'The specified topic is blank.');
});

test('INVOKE_BROKER_TO_RESET_OFFSET: unknown group, offset out of the queue, negative timestamp, read queues only', async () => {
  const topic = `TA_Reset_${stamp}`;
  const group = `TA_ResetG_${stamp}`;
  await ok(createTopicRequest(topic, 2, 3));
  for (let i = 0; i < 3; i++) await ok(sendRequest({ topic, body: `m${i}`, queueId: 0 }));
  const reset = (ext: Record<string, string | number | boolean>) => c.invoke(broker, request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, isForce: true, ...ext }));

  const unknown = await reset({ timestamp: -1 });
  assert.equal(unknown.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, unknown.remark);
  assert.deepEqual(t.mq.broker.consumerOffsetManager.whichTopicByGroup(group), [], 'nothing committed for a group the broker does not know');

  await ok(request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from(JSON.stringify({ groupName: group }))));
  const beyond = await reset({ timestamp: 0, queueId: 0, offset: 9 });
  assert.equal(beyond.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(beyond.remark, 'Target offset 9 not in consume queue range [0-3]');
  assert.equal(t.mq.broker.consumerOffsetManager.queryOffset(group, topic, 0), -1, 'an offset outside the queue is refused, not clamped');

  const one = await reset({ timestamp: 0, queueId: 0, offset: 2 });
  assert.equal(one.code, ResponseCode.SUCCESS, one.remark);
  assert.equal(t.mq.broker.consumerOffsetManager.queryOffset(group, topic, 0), 2);

  // Any negative timestamp is "now": the max offset of every read queue (2 of the 3 queues).
  const latest = await reset({ timestamp: -2 });
  assert.equal(latest.code, ResponseCode.SUCCESS, latest.remark);
  assert.deepEqual(queuesOf(latest).map(([, q]) => q), [0, 1]);
  const table = (JSON.parse(latest.body!.toString()) as { offsetTable: Record<string, number> }).offsetTable;
  assert.deepEqual(Object.values(table), [3, 0]);

  // A timestamp as far as Java's Long.MAX_VALUE is a time after every message: the max offset.
  await ok(request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, isForce: true, timestamp: '0' }));
  const far = await reset({ timestamp: '9223372036854775807' });
  assert.equal(far.code, ResponseCode.SUCCESS, far.remark);
  assert.equal(t.mq.broker.consumerOffsetManager.queryOffset(group, topic, 0), 3);
  assert.equal((await reset({ timestamp: '9223372036854775808' })).code, ResponseCode.SYSTEM_ERROR, 'past Java\'s long: refused');
});

test('UPDATE_AND_CREATE_TOPIC takes retry/DLQ topics up to 255 characters, others up to 127, as upstream TopicValidator', async () => {
  const group = 'G'.repeat(100);
  const popRetry = `%RETRY%${group}_${'T'.repeat(120)}`;
  assert.equal(popRetry.length, 228);
  await ok(createTopicRequest(popRetry, 1, 1));
  assert.ok(t.mq.broker.topicConfigManager.get(popRetry));
  const tooLong = await c.invoke(broker, createTopicRequest(`%DLQ%${'D'.repeat(251)}`, 1, 1));
  assert.equal(tooLong.code, ResponseCode.INVALID_PARAMETER);
  assert.match(tooLong.remark ?? '', /max length 255/);
  const plain = await c.invoke(broker, createTopicRequest('P'.repeat(128), 1, 1));
  assert.equal(plain.code, ResponseCode.INVALID_PARAMETER);
  assert.match(plain.remark ?? '', /max length 127/);
});

test('UPDATE_BROKER_CONFIG refuses the keys of the broker\'s configBlackList as well as the fixed ones', async () => {
  const own = await startMQ({ brokerConfig: { configBlackList: 'autoCreateTopicEnable; brokerPermission' } });
  const client = newClient();
  try {
    const update = (text: string) => client.invoke(own.mq.brokerAddr, request(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from(text)));
    for (const text of ['autoCreateTopicEnable=false', 'brokerPermission=4', 'rocketmqHome=/tmp', 'configBlackList=', 'brokerConfigPath=/tmp/b.conf']) {
      const res = await update(text);
      assert.equal(res.code, ResponseCode.NO_PERMISSION, text);
      assert.match(res.remark ?? '', /^Can not update config in black list/);
    }
    assert.equal(own.mq.broker.brokerConfig.autoCreateTopicEnable, true, 'a refused key keeps its value');
    const allowed = await update('maxMessageSize=1048576');
    assert.equal(allowed.code, ResponseCode.SUCCESS, allowed.remark);
    const got = await client.invoke(own.mq.brokerAddr, request(RequestCode.GET_BROKER_CONFIG));
    assert.match(got.body!.toString(), /^configBlackList=autoCreateTopicEnable; brokerPermission$/m);
  } finally {
    await client.shutdown();
    await own.close();
  }
});

test('INVOKE_BROKER_TO_RESET_OFFSET is refused by a slave, as upstream', async () => {
  const slave = await startMQ({ brokerConfig: { brokerRole: 'SLAVE', brokerId: 1 } });
  const client = newClient();
  try {
    const topic = 'TBW102';
    const group = `TA_SlaveG_${stamp}`;
    // A slave takes its groups from the master (SlaveSynchronize) and refuses to create one.
    const created = await client.invoke(slave.mq.brokerAddr, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from(JSON.stringify({ groupName: group }))));
    assert.equal(created.code, ResponseCode.SYSTEM_ERROR, created.remark);
    const res = await client.invoke(slave.mq.brokerAddr, request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic, group, timestamp: -1, isForce: true }));
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'Can not reset offset in slave broker');
    assert.deepEqual(slave.mq.broker.consumerOffsetManager.whichTopicByGroup(group), []);
  } finally {
    await client.shutdown();
    await slave.close();
  }
});

test('validateSystemTopicWhenUpdateTopic=false lets an operator update a system topic, as upstream', async () => {
  const sys = 'rmq_sys_TA_ops';
  const refused = await c.invoke(broker, createTopicRequest(sys, 1, 1));
  assert.equal(refused.code, ResponseCode.INVALID_PARAMETER);
  assert.equal(refused.remark, `The topic[${sys}] is conflict with system topic.`, 'upstream\'s remark, which tools match on');
  assert.equal(t.mq.broker.topicConfigManager.get(sys), undefined);
  await ok(request(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from('validateSystemTopicWhenUpdateTopic=false')));
  try {
    await ok(createTopicRequest(sys, 2, 2));
    assert.equal(t.mq.broker.topicConfigManager.get(sys)?.readQueueNums, 2);
    await ok(request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: sys }));
    assert.equal(t.mq.broker.topicConfigManager.get(sys), undefined);
  } finally {
    await ok(request(RequestCode.UPDATE_BROKER_CONFIG, undefined, Buffer.from('validateSystemTopicWhenUpdateTopic=true')));
  }
  const again = await c.invoke(broker, createTopicRequest(sys, 1, 1));
  assert.equal(again.code, ResponseCode.INVALID_PARAMETER, 'refused again once the check is back on');
});
