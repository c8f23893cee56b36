import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { RPC_ONEWAY, type RemotingCommand } from '../../src/remoting/command.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { buildSubscriptionData } from '../../src/client/subscription.js';
import { ConsumeFromWhere, ConsumeType, MessageModel, type HeartbeatData } from '../../src/client/headers.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { bodies, newClient, pullRequest, request, sendRequest, sleep, startMQ, type TestMQ } from './helpers.js';

// HEART_BEAT, UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP, NOTIFY_CONSUMER_IDS_CHANGED and
// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ against a real broker.

let t: TestMQ;
let broker: string;
const toClose: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  t = await startMQ();
  broker = t.mq.brokerAddr;
});

after(async () => {
  for (const c of toClose) await c.shutdown();
  await t?.close();
});

function client(onRequest?: Parameters<typeof newClient>[0]): RemotingClient {
  const c = newClient(onRequest);
  toClose.push(c);
  return c;
}

function heartbeat(clientID: string, opts: { consumerGroup?: string; producerGroup?: string; topic?: string; sub?: string } = {}): HeartbeatData {
  return {
    clientID,
    producerDataSet: opts.producerGroup ? [{ groupName: opts.producerGroup }] : [],
    consumerDataSet: opts.consumerGroup ? [{
      groupName: opts.consumerGroup,
      consumeType: ConsumeType.CONSUME_PASSIVELY,
      messageModel: MessageModel.CLUSTERING,
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
      subscriptionDataSet: opts.topic ? [buildSubscriptionData(opts.topic, opts.sub ?? '*')] : [],
      unitMode: false,
    }] : [],
  };
}

function hbRequest(data: HeartbeatData, st: 0 | 1 = SerializeType.ROCKETMQ): RemotingCommand {
  return request(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(data)), st);
}

async function consumerList(c: RemotingClient, group: string): Promise<RemotingCommand> {
  return c.invoke(broker, request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: group }));
}

function ids(res: RemotingCommand): string[] {
  return ((JSON.parse(res.body!.toString()) as { consumerIdList: string[] }).consumerIdList).slice().sort();
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  return cond();
}

test('HEART_BEAT registers producer and consumer (with subscriptions); UNREGISTER_CLIENT removes them', async () => {
  const c = client();
  const res = await c.invoke(broker, hbRequest(heartbeat('10.0.0.1@hb', { producerGroup: 'PG-hb', consumerGroup: 'CG-hb', topic: 'HbTopic', sub: 'TagA || TagB' }), SerializeType.JSON));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.serializeType, SerializeType.JSON);

  const b = t.mq.broker;
  assert.ok(b.producerManager.getAvailableChannel('PG-hb'), 'producer group registered');
  const info = b.consumerManager.get('CG-hb');
  assert.ok(info, 'consumer group registered');
  const sub = info.subscriptions.get('HbTopic');
  assert.equal(sub?.subString, 'TagA || TagB');
  assert.deepEqual(sub?.tagsSet, ['TagA', 'TagB']);
  assert.equal(info.consumeFromWhere, 'CONSUME_FROM_FIRST_OFFSET');
  assert.deepEqual(ids(await consumerList(c, 'CG-hb')), ['10.0.0.1@hb']);

  // As upstream: the group's retry topic exists once its consumer has sent a heartbeat.
  const all = await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG));
  assert.ok('%RETRY%CG-hb' in (JSON.parse(all.body!.toString()) as { topicConfigTable: Record<string, unknown> }).topicConfigTable);

  const un = await c.invoke(broker, request(RequestCode.UNREGISTER_CLIENT, { clientID: '10.0.0.1@hb', producerGroup: 'PG-hb', consumerGroup: 'CG-hb' }));
  assert.equal(un.code, ResponseCode.SUCCESS);
  assert.equal(b.producerManager.getAvailableChannel('PG-hb'), undefined);
  assert.equal(b.consumerManager.get('CG-hb'), undefined);
  const none = await consumerList(c, 'CG-hb');
  assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
  assert.match(none.remark ?? '', /no consumer for this group/);
});

test('a pull without FLAG_SUBSCRIPTION uses the heartbeat subscription (its tag filter)', async () => {
  const c = client();
  const hb = await c.invoke(broker, hbRequest(heartbeat('10.0.0.2@sub', { consumerGroup: 'CG-sub', topic: 'SubTopic', sub: 'keep' })));
  assert.equal(hb.code, ResponseCode.SUCCESS);
  for (const [body, tags] of [['k1', 'keep'], ['d1', 'drop'], ['k2', 'keep']]) {
    assert.equal((await c.invoke(broker, sendRequest({ topic: 'SubTopic', body: body!, tags, queueId: 0 }))).code, ResponseCode.SUCCESS);
  }
  const req = pullRequest({ topic: 'SubTopic', group: 'CG-sub' });
  req.extFields!.sysFlag = '0';
  delete req.extFields!.subscription;
  req.extFields!.subVersion = '0';
  const res = await c.invoke(broker, req);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.deepEqual(bodies(res), ['k1', 'k2']);
  // A pull asking for a newer subscription than the broker has is SUBSCRIPTION_NOT_LATEST.
  req.extFields!.subVersion = String(Date.now() + 60_000);
  assert.equal((await c.invoke(broker, req)).code, ResponseCode.SUBSCRIPTION_NOT_LATEST);
});

test('GET_CONSUMER_LIST_BY_GROUP lists every live member; a closed connection drops its member', async () => {
  const a = client();
  const b = client();
  await a.invoke(broker, hbRequest(heartbeat('10.0.0.3@a', { consumerGroup: 'CG-list', topic: 'ListTopic' })));
  await b.invoke(broker, hbRequest(heartbeat('10.0.0.3@b', { consumerGroup: 'CG-list', topic: 'ListTopic' })));
  assert.deepEqual(ids(await consumerList(a, 'CG-list')), ['10.0.0.3@a', '10.0.0.3@b']);
  await b.shutdown();
  assert.ok(await until(() => t.mq.broker.consumerManager.get('CG-list')?.channels.size === 1));
  assert.deepEqual(ids(await consumerList(a, 'CG-list')), ['10.0.0.3@a']);
});

test('NOTIFY_CONSUMER_IDS_CHANGED (40) reaches existing members when a consumer joins and when one leaves', async () => {
  const got: RemotingCommand[] = [];
  const first = client((req) => { got.push(req); return null; });
  await first.invoke(broker, hbRequest(heartbeat('10.0.0.4@first', { consumerGroup: 'CG-notify', topic: 'NotifyTopic' })));
  await sleep(50);
  got.length = 0; // whatever the first registration itself caused

  // Joining by heartbeat.
  const second = client();
  await second.invoke(broker, hbRequest(heartbeat('10.0.0.4@second', { consumerGroup: 'CG-notify', topic: 'NotifyTopic' })));
  assert.ok(await until(() => got.length >= 1), 'the first member is told about the join');
  const n = got[0]!;
  assert.equal(n.code, RequestCode.NOTIFY_CONSUMER_IDS_CHANGED);
  assert.equal(n.extFields?.consumerGroup, 'CG-notify');
  assert.notEqual(n.flag & RPC_ONEWAY, 0, 'the notification is oneway');
  assert.equal(n.flag & 1, 0, 'and a request, not a response');

  // A repeated heartbeat of a known member changes nothing and notifies nobody.
  got.length = 0;
  await second.invoke(broker, hbRequest(heartbeat('10.0.0.4@second', { consumerGroup: 'CG-notify', topic: 'NotifyTopic' })));
  await sleep(100);
  assert.equal(got.length, 0);

  // Leaving by UNREGISTER_CLIENT.
  await second.invoke(broker, request(RequestCode.UNREGISTER_CLIENT, { clientID: '10.0.0.4@second', consumerGroup: 'CG-notify' }));
  assert.ok(await until(() => got.length >= 1), 'the first member is told about the unregister');
  assert.equal(got[0]!.extFields?.consumerGroup, 'CG-notify');

  // Joining and leaving by closing the connection.
  const third = client();
  got.length = 0;
  await third.invoke(broker, hbRequest(heartbeat('10.0.0.4@third', { consumerGroup: 'CG-notify', topic: 'NotifyTopic' })));
  assert.ok(await until(() => got.length >= 1));
  got.length = 0;
  await third.shutdown();
  assert.ok(await until(() => got.length >= 1), 'the first member is told when a member disconnects');
  assert.ok(got.every((r) => r.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED && r.extFields?.consumerGroup === 'CG-notify'));
  assert.deepEqual(ids(await consumerList(first, 'CG-notify')), ['10.0.0.4@first']);
});

test('LOCK_BATCH_MQ / UNLOCK_BATCH_MQ: a queue held by one client cannot be locked by another until unlocked', async () => {
  const apiA = new MQClientAPI();
  const apiB = new MQClientAPI({ serializeType: 'JSON' });
  toClose.push(apiA, apiB);
  const mq = (queueId: number): { topic: string; brokerName: string; queueId: number } => ({ topic: 'LockTopic', brokerName: 'broker-a', queueId });
  const sortQ = (l: Array<{ queueId: number }>): number[] => l.map((m) => m.queueId).sort();

  const lockedA = await apiA.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'A', mqSet: [mq(0), mq(1)] });
  assert.deepEqual(sortQ(lockedA), [0, 1]);
  const lockedB = await apiB.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'B', mqSet: [mq(0), mq(1), mq(2)] });
  assert.deepEqual(sortQ(lockedB), [2], 'B only gets the queue nobody holds');
  // Re-locking what one holds renews it.
  assert.deepEqual(sortQ(await apiA.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'A', mqSet: [mq(0)] })), [0]);
  // Another group is independent.
  assert.deepEqual(sortQ(await apiB.lockBatchMQ(broker, { consumerGroup: 'CG-lock-other', clientId: 'B', mqSet: [mq(0)] })), [0]);

  // B cannot release A's lock.
  await apiB.unlockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'B', mqSet: [mq(0)] });
  assert.deepEqual(sortQ(await apiB.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'B', mqSet: [mq(0)] })), []);

  await apiA.unlockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'A', mqSet: [mq(0)] });
  assert.deepEqual(sortQ(await apiB.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'B', mqSet: [mq(0), mq(1)] })), [0]);

  // The oneway unlock works too.
  await apiA.unlockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'A', mqSet: [mq(1)] }, 3000, true);
  let got: number[] = [];
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    got = sortQ(await apiB.lockBatchMQ(broker, { consumerGroup: 'CG-lock', clientId: 'B', mqSet: [mq(1)] }));
    if (got.length === 1) break;
    await sleep(10);
  }
  assert.deepEqual(got, [1]);
});

test('MQClientAPI heartbeat and consumer list round trip (the client SDK against the broker)', async () => {
  const api = new MQClientAPI();
  toClose.push(api);
  await api.sendHeartbeat(broker, heartbeat('10.0.0.5@sdk', { consumerGroup: 'CG-sdk', producerGroup: 'PG-sdk', topic: 'SdkTopic' }));
  assert.deepEqual(await api.getConsumerIdListByGroup(broker, 'CG-sdk'), ['10.0.0.5@sdk']);
  await api.unregisterClient(broker, '10.0.0.5@sdk', 'PG-sdk', 'CG-sdk');
  await assert.rejects(api.getConsumerIdListByGroup(broker, 'CG-sdk'), (err: unknown) => err instanceof MQBrokerError && err.responseCode === ResponseCode.SYSTEM_ERROR);
});

test('CHECK_CLIENT_CONFIG (46): TAG passes; SQL92 needs enablePropertyFilter and an expression that compiles', async () => {
  const c = client();
  const check = (sub: unknown, raw?: Buffer): Promise<RemotingCommand> => c.invoke(broker, request(RequestCode.CHECK_CLIENT_CONFIG, {},
    raw ?? Buffer.from(JSON.stringify({ clientId: '10.0.0.9@check', group: 'CG-check', subscriptionData: sub }))));
  const sql = (expr: string): unknown => buildSubscriptionData('TopicCheck', expr, 'SQL92');
  assert.equal((await check(buildSubscriptionData('TopicCheck', 'TagA || TagB'))).code, ResponseCode.SUCCESS);
  assert.equal((await check(undefined)).code, ResponseCode.SUCCESS, 'no subscription: nothing to check, as upstream');
  // The broker of this test starts with enablePropertyFilter=false (the default).
  const off = await check(sql('a > 5'));
  assert.equal(off.code, ResponseCode.SYSTEM_ERROR);
  assert.equal(off.remark, 'The broker does not support consumer to filter message by SQL92');

  const upd = await c.invoke(broker, request(RequestCode.UPDATE_BROKER_CONFIG, {}, Buffer.from('enablePropertyFilter=true\n')));
  assert.equal(upd.code, ResponseCode.SUCCESS, upd.remark);
  try {
    assert.equal((await check(sql("a > 5 AND region = 'eu'"))).code, ResponseCode.SUCCESS);
    const bad = await check(sql('a > > 5'));
    assert.equal(bad.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.ok(bad.remark && bad.remark.length > 0, 'the parse error is the remark');
    const other = await check({ ...buildSubscriptionData('TopicCheck', 'x'), expressionType: 'CLASS' });
    assert.equal(other.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    assert.match(other.remark ?? '', /expression type CLASS is not supported/);
    // Bad bodies are a clear error, and the broker keeps serving.
    const none = await c.invoke(broker, request(RequestCode.CHECK_CLIENT_CONFIG, {}));
    assert.equal(none.code, ResponseCode.SYSTEM_ERROR);
    assert.match(none.remark ?? '', /has no body/);
    const junk = await check(undefined, Buffer.from('{not json'));
    assert.equal(junk.code, ResponseCode.SYSTEM_ERROR);
    assert.match(junk.remark ?? '', /not valid JSON/);
    assert.equal((await check(sql('a = 1'))).code, ResponseCode.SUCCESS);
  } finally {
    await c.invoke(broker, request(RequestCode.UPDATE_BROKER_CONFIG, {}, Buffer.from('enablePropertyFilter=false\n')));
  }
});
