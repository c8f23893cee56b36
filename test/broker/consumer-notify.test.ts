import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RequestHandler } from '../../src/remoting/connection.js';
import { buildSubscriptionData } from '../../src/client/subscription.js';
import { ConsumeFromWhere, ConsumeType, MessageModel, type HeartbeatData } from '../../src/client/headers.js';
import { newClient, request, sleep, startMQ, type TestMQ } from './helpers.js';

// When the broker tells a group's members to rebalance (NOTIFY_CONSUMER_IDS_CHANGED), as
// upstream's ConsumerManager: on a member or a subscribed topic added or dropped, unless the
// group's notifyConsumerIdsChangedEnable is off or it consumes by broadcast; and that a heartbeat
// of a group the broker does not have registers nobody.

let t: TestMQ;
let noAuto: TestMQ;
const toClose: RemotingClient[] = [];

before(async () => {
  t = await startMQ();
  noAuto = await startMQ({ brokerConfig: { autoCreateSubscriptionGroup: false } });
});

after(async () => {
  for (const c of toClose) await c.shutdown();
  await t?.close();
  await noAuto?.close();
});

/** A client that records the NOTIFY_CONSUMER_IDS_CHANGED requests the broker sends it. */
function member(): { c: RemotingClient; got: RemotingCommand[] } {
  const got: RemotingCommand[] = [];
  const onRequest: RequestHandler = (req) => {
    if (req.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED) got.push(req);
    return null;
  };
  const c = newClient(onRequest);
  toClose.push(c);
  return { c, got };
}

function hb(clientID: string, group: string, topics: string[], messageModel: HeartbeatData['consumerDataSet'][number]['messageModel'] = MessageModel.CLUSTERING): RemotingCommand {
  const data: HeartbeatData = {
    clientID,
    producerDataSet: [],
    consumerDataSet: [{
      groupName: group, consumeType: ConsumeType.CONSUME_PASSIVELY, messageModel,
      consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET,
      subscriptionDataSet: topics.map((topic) => buildSubscriptionData(topic, '*')), unitMode: false,
    }],
  };
  return request(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify(data)));
}

async function ok(c: RemotingClient, broker: string, req: RemotingCommand): Promise<RemotingCommand> {
  const res = await c.invoke(broker, req);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res;
}

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  return cond();
}

/** Long enough for a oneway notification already sent to have arrived on 127.0.0.1. */
const QUIET_MS = 300;

test('a member whose heartbeat adds or drops a topic makes the group rebalance; the same topics again do not', async () => {
  const broker = t.mq.brokerAddr;
  const a = member();
  const b = member();
  await ok(a.c, broker, hb('10.1.0.1@a', 'CG-subchange', ['SubA']));
  await ok(b.c, broker, hb('10.1.0.1@b', 'CG-subchange', ['SubA']));
  assert.ok(await until(() => a.got.length >= 1), 'a hears of b joining');
  await sleep(QUIET_MS);
  a.got.length = 0;
  b.got.length = 0;

  await ok(b.c, broker, hb('10.1.0.1@b', 'CG-subchange', ['SubA', 'SubB']));
  assert.ok(await until(() => a.got.length >= 1 && b.got.length >= 1), 'a topic added: every member is told');
  assert.equal(a.got[0]!.extFields?.consumerGroup, 'CG-subchange');

  await sleep(QUIET_MS);
  a.got.length = 0;
  await ok(b.c, broker, hb('10.1.0.1@b', 'CG-subchange', ['SubA', 'SubB']));
  await sleep(QUIET_MS);
  assert.equal(a.got.length, 0, 'nothing changed, nobody is told');

  await ok(a.c, broker, hb('10.1.0.1@a', 'CG-subchange', ['SubA']));
  assert.ok(await until(() => b.got.length >= 1), 'a topic dropped: the members are told');
  assert.deepEqual([...t.mq.broker.consumerManager.get('CG-subchange')!.subscriptions.keys()], ['SubA']);
});

test("a group with notifyConsumerIdsChangedEnable=false is not told of joins and unregisters", async () => {
  const broker = t.mq.brokerAddr;
  const a = member();
  await ok(a.c, broker, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'CG-quiet', notifyConsumerIdsChangedEnable: false }))));
  await ok(a.c, broker, hb('10.1.0.2@a', 'CG-quiet', ['QuietTopic']));
  const b = member();
  await ok(b.c, broker, hb('10.1.0.2@b', 'CG-quiet', ['QuietTopic', 'QuietTopic2']));
  await ok(b.c, broker, request(RequestCode.UNREGISTER_CLIENT, { clientID: '10.1.0.2@b', consumerGroup: 'CG-quiet' }));
  await sleep(QUIET_MS);
  assert.equal(a.got.length + b.got.length, 0, 'no notification for a quiet group');
  assert.deepEqual(t.mq.broker.consumerManager.get('CG-quiet')?.allClientIds(), ['10.1.0.2@a'], 'the members are still tracked');
});

test('a broadcasting group is not told to rebalance when a member joins or leaves', async () => {
  const broker = t.mq.brokerAddr;
  const a = member();
  await ok(a.c, broker, hb('10.1.0.3@a', 'CG-broadcast', ['BcTopic'], MessageModel.BROADCASTING));
  const b = member();
  await ok(b.c, broker, hb('10.1.0.3@b', 'CG-broadcast', ['BcTopic'], MessageModel.BROADCASTING));
  await ok(b.c, broker, request(RequestCode.UNREGISTER_CLIENT, { clientID: '10.1.0.3@b', consumerGroup: 'CG-broadcast' }));
  await ok(b.c, broker, hb('10.1.0.3@b', 'CG-broadcast', ['BcTopic'], MessageModel.BROADCASTING));
  await b.c.shutdown();
  assert.ok(await until(() => t.mq.broker.consumerManager.get('CG-broadcast')?.channels.size === 1));
  await sleep(QUIET_MS);
  assert.equal(a.got.length, 0, 'a broadcasting member reads every queue: nothing to rebalance');
});

test('a heartbeat of a group the broker does not have (autoCreateSubscriptionGroup=false) registers no consumer', async () => {
  const broker = noAuto.mq.brokerAddr;
  const a = member();
  const res = await ok(a.c, broker, hb('10.1.0.4@a', 'CG-unknown', ['UnknownGroupTopic']));
  assert.equal(res.code, ResponseCode.SUCCESS, 'the heartbeat itself succeeds, as upstream');
  const list = await a.c.invoke(broker, request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'CG-unknown' }));
  assert.equal(list.code, ResponseCode.SYSTEM_ERROR);
  assert.match(list.remark ?? '', /no consumer for this group/);
  assert.equal(noAuto.mq.broker.topicConfigManager.get('%RETRY%CG-unknown'), undefined, 'no retry topic for it either');

  // Once the group is created, the same heartbeat registers the consumer.
  await ok(a.c, broker, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'CG-unknown' }))));
  await ok(a.c, broker, hb('10.1.0.4@a', 'CG-unknown', ['UnknownGroupTopic']));
  const now = await ok(a.c, broker, request(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'CG-unknown' }));
  assert.deepEqual((JSON.parse(now.body!.toString()) as { consumerIdList: string[] }).consumerIdList, ['10.1.0.4@a']);
});
