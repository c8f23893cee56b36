import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { ForbiddenType, RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { buildTagSubscription } from '../../src/common/subscription.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// Group read forbidding (UPDATE_AND_GET_GROUP_FORBIDDEN, 353) and what the pull path does with it,
// the forbiddenType of every NO_PERMISSION pull answer, litePullMessageEnable, and
// QUERY_CORRECTION_OFFSET (308), against a real NameServer + Broker, restarted on the same store.

const tmp = tempDir('rmq-forbidden-');
const stamp = Date.now();
const topic = `GF_Topic_${stamp}`;
const group = `GF_Group_${stamp}`;
let mq: Standalone | undefined;

after(async () => {
  await mq?.shutdown();
  tmp.cleanup();
});

async function start(): Promise<{ mq: Standalone; admin: Admin; api: MQClientAPI; raw: (code: number, ext?: Record<string, string>) => Promise<RemotingCommand> }> {
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false });
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  const api = new MQClientAPI();
  const addr = mq.brokerAddr;
  const raw = (code: number, ext: Record<string, string> = {}): Promise<RemotingCommand> => api.remoting.invoke(addr, createRequest(code, { extFields: ext }), 5000);
  return { mq, admin, api, raw };
}

/** A pull as a push consumer sends it: the subscription comes from its heartbeat (no subscription flag). */
function pushPull(raw: (code: number, ext?: Record<string, string>) => Promise<RemotingCommand>, code: number = RequestCode.PULL_MESSAGE, g = group): Promise<RemotingCommand> {
  return raw(code, { consumerGroup: g, topic, queueId: '0', queueOffset: '0', maxMsgNums: '32', sysFlag: '0', commitOffset: '0', suspendTimeoutMillis: '0', subVersion: '0' });
}

test('a group forbidden to read a topic gets NO_PERMISSION with SUBSCRIPTION_FORBIDDEN until allowed again; the table survives a restart', async () => {
  let s = await start();
  const producer = new Producer({ group: `GF_PG_${stamp}`, namesrvAddr: s.mq.namesrvAddr });
  try {
    await s.admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1 }, { brokerAddr: s.mq.brokerAddr });
    await producer.start();
    await producer.send(new Message(topic, 'kept'));
    const heartbeat = (api: MQClientAPI, addr: string): Promise<unknown> => api.sendHeartbeat(addr, {
      clientID: `gf@${stamp}`, producerDataSet: [],
      consumerDataSet: [{ groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', subscriptionDataSet: [buildTagSubscription(topic, '*')], unitMode: false }],
    });
    await heartbeat(s.api, s.mq.brokerAddr);
    assert.equal((await pushPull(s.raw)).code, ResponseCode.SUCCESS);

    // Only reading: nothing is forbidden yet.
    assert.deepEqual(await s.admin.updateAndGetGroupReadForbidden(s.mq.brokerAddr, group, topic), { group, topic, readable: true });
    assert.deepEqual(await s.admin.updateAndGetGroupReadForbidden(s.mq.brokerAddr, group, topic, false), { group, topic, readable: false });
    const refused = await pushPull(s.raw);
    assert.equal(refused.code, ResponseCode.NO_PERMISSION);
    assert.equal(refused.extFields?.forbiddenType, String(ForbiddenType.SUBSCRIPTION_FORBIDDEN));
    assert.equal(refused.remark, `the consumer group[${group}] is forbidden for topic[${topic}]`, 'upstream\'s remark to the letter');
    // A pull carrying its own subscription (a lite pull consumer's) is not checked, as upstream.
    const other = await s.raw(RequestCode.PULL_MESSAGE, {
      consumerGroup: group, topic, queueId: '0', queueOffset: '0', maxMsgNums: '32', sysFlag: '4', subscription: '*', subVersion: '0',
    });
    assert.equal(other.code, ResponseCode.SUCCESS);
    const wrapper = JSON.parse((await s.raw(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).body!.toString()) as { forbiddenTable: Record<string, Record<string, number>> };
    assert.deepEqual(wrapper.forbiddenTable[group], { [topic]: 4 }, 'bit INDEX_PERM_READ, as upstream');

    await s.admin.shutdown();
    await s.api.shutdown();
    await producer.shutdown();
    await s.mq.shutdown();
    s = await start();
    await heartbeat(s.api, s.mq.brokerAddr);
    assert.equal((await pushPull(s.raw)).code, ResponseCode.NO_PERMISSION, 'still forbidden after a restart');
    assert.deepEqual(await s.admin.updateAndGetGroupReadForbidden(s.mq.brokerAddr, group, topic, true), { group, topic, readable: true });
    const allowed = await pushPull(s.raw);
    assert.equal(allowed.code, ResponseCode.SUCCESS);
    assert.ok(allowed.body!.includes(Buffer.from('kept')));
    const cleared = JSON.parse((await s.raw(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).body!.toString()) as { forbiddenTable: Record<string, unknown> };
    assert.deepEqual(cleared.forbiddenTable, {});

    // Bad headers: a clear error, and the broker keeps serving.
    for (const ext of [{ topic }, { group }, {}] as Array<Record<string, string>>) {
      const res = await s.raw(RequestCode.UPDATE_AND_GET_GROUP_FORBIDDEN, ext);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
      assert.match(res.remark ?? '', /<(group|topic)> is null/);
    }
    assert.equal((await pushPull(s.raw)).code, ResponseCode.SUCCESS);
  } finally {
    await producer.shutdown();
    await s.admin.shutdown();
    await s.api.shutdown();
  }
});

test('every NO_PERMISSION pull names its reason in forbiddenType, and litePullMessageEnable=false refuses lite pulls', async () => {
  const s = await start();
  try {
    const b = s.mq.brokerAddr;
    await s.admin.updateBrokerConfig(b, new Map([['litePullMessageEnable', 'false']]));
    const lite = await pushPull(s.raw, RequestCode.LITE_PULL_MESSAGE);
    assert.equal(lite.code, ResponseCode.NO_PERMISSION);
    assert.equal(lite.extFields?.forbiddenType, String(ForbiddenType.BROKER_FORBIDDEN));
    assert.match(lite.remark ?? '', /for lite pull consumer is forbidden/);
    await s.admin.updateBrokerConfig(b, new Map([['litePullMessageEnable', 'true']]));
    assert.notEqual((await pushPull(s.raw, RequestCode.LITE_PULL_MESSAGE)).code, ResponseCode.NO_PERMISSION);

    const disabled = `GF_Disabled_${stamp}`;
    await s.admin.createOrUpdateSubscriptionGroup({ groupName: disabled, consumeEnable: false }, { brokerAddr: b });
    const g = await pushPull(s.raw, RequestCode.PULL_MESSAGE, disabled);
    assert.equal(g.code, ResponseCode.NO_PERMISSION);
    assert.equal(g.extFields?.forbiddenType, String(ForbiddenType.GROUP_FORBIDDEN));

    await s.admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 2 }, { brokerAddr: b });
    const t = await pushPull(s.raw);
    assert.equal(t.code, ResponseCode.NO_PERMISSION);
    assert.equal(t.extFields?.forbiddenType, String(ForbiddenType.TOPIC_FORBIDDEN));
    await s.admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 6 }, { brokerAddr: b });

    await s.admin.updateBrokerConfig(b, new Map([['brokerPermission', '2']]));
    const br = await pushPull(s.raw);
    assert.equal(br.code, ResponseCode.NO_PERMISSION);
    assert.equal(br.extFields?.forbiddenType, String(ForbiddenType.BROKER_FORBIDDEN));
    await s.admin.updateBrokerConfig(b, new Map([['brokerPermission', '6']]));
  } finally {
    await s.admin.shutdown();
    await s.api.shutdown();
    await s.mq.shutdown();
  }
});

test('QUERY_CORRECTION_OFFSET: per queue the lowest offset of the groups not filtered, Long.MAX_VALUE where the compare group is behind', async () => {
  const s = await start();
  try {
    const b = s.mq.brokerAddr;
    const t = `GF_Corr_${stamp}`;
    await s.admin.createOrUpdateTopic({ topicName: t, readQueueNums: 2, writeQueueNums: 2 }, { brokerAddr: b });
    const producer = new Producer({ group: `GF_CP_${stamp}`, namesrvAddr: s.mq.namesrvAddr });
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send(new Message(t, `m${i}`), { queue: { topic: t, brokerName: 'broker-a', queueId: i % 2 } });
    await producer.shutdown();
    const commit = (g: string, queueId: number, offset: number): Promise<void> =>
      s.api.updateConsumerOffset(b, { consumerGroup: g, topic: t, queueId, commitOffset: offset });
    await commit('GA', 0, 4);
    await commit('GA', 1, 2);
    await commit('GB', 0, 3);
    await commit('GB', 1, 5);
    await commit('GC', 0, 1);

    assert.deepEqual(await s.admin.queryCorrectionOffset(b, t, 'GA'), new Map([[0, 1], [1, 2]]));
    // GC filtered: queue 0's lowest is GB's 3, which GA (4) is not behind.
    assert.deepEqual(await s.admin.queryCorrectionOffset(b, t, 'GA', ['GC']), new Map([[0, 3], [1, 2]]));
    // GA filtered, compared: GA is behind the others on queue 1 (2 < 5), so Long.MAX_VALUE there.
    const res = await s.raw(RequestCode.QUERY_CORRECTION_OFFSET, { topic: t, compareGroup: 'GA', filterGroups: 'GA,GC' });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.body!.toString(), '{"correctionOffsets":{"0":3,"1":9223372036854775807}}');
    assert.deepEqual(await s.admin.queryCorrectionOffset(b, t, 'GA', ['GA', 'GC']), new Map([[0, 3], [1, Infinity]]));
    // The query changes no offsets (upstream's removes the filtered groups' while it reads).
    assert.equal(await s.api.queryConsumerOffset(b, { consumerGroup: 'GC', topic: t, queueId: 0 }), 1);
    // A topic without offsets, and bad headers.
    assert.equal((await s.raw(RequestCode.QUERY_CORRECTION_OFFSET, { topic: 'GF_None', compareGroup: 'GA' })).body!.toString(), '{"correctionOffsets":{}}');
    for (const ext of [{ topic: t }, { compareGroup: 'GA' }] as Array<Record<string, string>>) {
      const bad = await s.raw(RequestCode.QUERY_CORRECTION_OFFSET, ext);
      assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
      assert.match(bad.remark ?? '', /<(topic|compareGroup)> is null/);
    }
    assert.deepEqual(await s.admin.queryCorrectionOffset(b, t, 'GA'), new Map([[0, 1], [1, 2]]));
  } finally {
    await s.admin.shutdown();
    await s.api.shutdown();
    await s.mq.shutdown();
  }
});
