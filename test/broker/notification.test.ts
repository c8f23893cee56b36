import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { popReceipts } from '../../src/remoting/protocol/pop-message-header.js';
import { createTopicRequest, newClient, records, request, sendRequest, useMQWithClient, type TestMQ } from './helpers.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { waitUntil } from '../helpers/wait.js';

// NOTIFICATION (200054) and POLLING_INFO (200055), as upstream's proxy sends them before it
// pops, against a real broker: answered at once when a POP would find a message (the topic's
// queues, one queue, the group's POP retry topic, orderly blocks), long-polled until one
// arrives otherwise, POPs waiting counted per topic, group and queue, and bad input refused.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s), { brokerConfig: { autoCreateSubscriptionGroup: false } });

/** Codes past 16 bits travel with JSON headers. */
function raw(code: number, ext: Record<string, string | number | boolean | undefined>, client = c): Promise<RemotingCommand> {
  return client.invoke(broker, request(code, ext, undefined, SerializeType.JSON), 30_000);
}

async function setup(topic: string, group: string, queues = 1): Promise<void> {
  assert.equal((await c.invoke(broker, createTopicRequest(topic, queues, queues))).code, ResponseCode.SUCCESS);
  const g = await c.invoke(broker, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: group }))));
  assert.equal(g.code, ResponseCode.SUCCESS, g.remark);
}

async function send(topic: string, body: string, queueId = 0): Promise<void> {
  const s = await c.invoke(broker, sendRequest({ topic, body, queueId }));
  assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
}

function notify(topic: string, group: string, opts: { queueId?: number; pollTime?: number; order?: boolean; bornTime?: number } = {}, client = c): Promise<RemotingCommand> {
  return raw(RequestCode.NOTIFICATION, {
    consumerGroup: group, topic, queueId: opts.queueId ?? -1, pollTime: opts.pollTime ?? 0, bornTime: opts.bornTime ?? Date.now(), order: opts.order ?? false,
  }, client);
}

async function hasMsg(topic: string, group: string, opts: { queueId?: number; pollTime?: number; order?: boolean } = {}): Promise<boolean> {
  const res = await notify(topic, group, opts);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.extFields?.pollingFull, 'false');
  assert.ok(res.extFields?.hasMsg === 'true' || res.extFields?.hasMsg === 'false', `hasMsg is a boolean: ${JSON.stringify(res.extFields)}`);
  return res.extFields.hasMsg === 'true';
}

function pop(topic: string, group: string, opts: { queueId?: number; max?: number; invisibleTime?: number; pollTime?: number; order?: boolean } = {}): Promise<RemotingCommand> {
  return raw(RequestCode.POP_MESSAGE, {
    consumerGroup: group, topic, queueId: opts.queueId ?? -1, maxMsgNums: opts.max ?? 32, invisibleTime: opts.invisibleTime ?? 60_000,
    pollTime: opts.pollTime ?? 0, bornTime: Date.now(), initMode: 0, expType: 'TAG', exp: '*', order: opts.order ?? false,
  });
}

test('NOTIFICATION answers at once whether a POP would find a message: every queue or one, until the group has popped them', async () => {
  const topic = 'NotifyNow';
  const group = 'NotifyNowG';
  await setup(topic, group, 2);
  assert.equal(await hasMsg(topic, group), false, 'an empty topic');
  await send(topic, 'q1', 1);
  assert.equal(await hasMsg(topic, group), true, 'any queue');
  assert.equal(await hasMsg(topic, group, { queueId: 1 }), true);
  assert.equal(await hasMsg(topic, group, { queueId: 0 }), false, 'queue 0 is empty');
  const popped = await pop(topic, group);
  assert.equal(popped.code, ResponseCode.SUCCESS, popped.remark);
  assert.deepEqual(records(popped).map((m) => m.body.toString()), ['q1']);
  assert.equal(await hasMsg(topic, group), false, 'popped: nothing left for the group');
});

test('NOTIFICATION long-polls up to pollTime: an arriving message answers it early, otherwise it answers hasMsg=false at the deadline', async () => {
  const topic = 'NotifyPoll';
  const group = 'NotifyPollG';
  await setup(topic, group);
  const t0 = Date.now();
  assert.equal(await hasMsg(topic, group, { pollTime: 400 }), false);
  assert.ok(Date.now() - t0 >= 350, `waited out the poll time (${Date.now() - t0} ms)`);

  const t1 = Date.now();
  const waiting = notify(topic, group, { pollTime: 20_000 });
  await new Promise((r) => setTimeout(r, 200));
  await send(topic, 'arrived');
  const res = await waiting;
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.extFields?.hasMsg, 'true');
  assert.ok(Date.now() - t1 < 15_000, 'answered by the arrival, not the poll time');

  // A bornTime far in the past: the poll time is already spent, as upstream counts it from bornTime.
  const spent = await notify(topic, `${group}`, { pollTime: 5000, bornTime: Date.now() - 60_000, queueId: 0 });
  assert.equal(spent.extFields?.hasMsg, 'true', 'a message is there: answered at once');
  const popped = await pop(topic, group);
  assert.equal(records(popped).length, 1);
  const t2 = Date.now();
  const past = await notify(topic, group, { pollTime: 5000, bornTime: Date.now() - 60_000 });
  assert.equal(past.extFields?.hasMsg, 'false');
  assert.ok(Date.now() - t2 < 4000, 'no wait once bornTime + pollTime has passed');
});

test('NOTIFICATION sees the group\'s POP retry topic: a message whose invisible time ran out wakes a waiting notification', async () => {
  const topic = 'NotifyRetry';
  const group = 'NotifyRetryG';
  await setup(topic, group);
  await send(topic, 'again');
  const popped = await pop(topic, group, { invisibleTime: 1000 });
  assert.equal(records(popped).length, 1);
  assert.equal(await hasMsg(topic, group), false, 'invisible: nothing to pop');
  // Not acked: revived onto %RETRY%group_topic after 1 s, which wakes the notification.
  const t0 = Date.now();
  assert.equal(await hasMsg(topic, group, { pollTime: 20_000 }), true);
  assert.ok(Date.now() - t0 < 15_000);
  assert.equal(await hasMsg(topic, group, { queueId: 0 }), true, 'one queue: the retry topic still counts, as upstream');
  const again = await pop(topic, group, { pollTime: 5000 });
  assert.deepEqual(records(again).map((m) => [m.body.toString(), m.reconsumeTimes]), [['again', 1]]);
});

test('NOTIFICATION with order=true: a queue whose FIFO block is out has nothing; the ack that ends the block wakes the notification', async () => {
  const topic = 'NotifyOrder';
  const group = 'NotifyOrderG';
  await setup(topic, group);
  await send(topic, 'o1');
  await send(topic, 'o2');
  const first = await pop(topic, group, { max: 1, order: true, queueId: 0 });
  assert.deepEqual(records(first).map((m) => m.body.toString()), ['o1']);
  assert.equal(await hasMsg(topic, group, { order: true }), false, 'the block is out');
  assert.equal(await hasMsg(topic, group, { order: true, queueId: 0 }), false);
  assert.equal(await hasMsg(topic, group), true, 'a plain POP is not held by the block');

  const waiting = notify(topic, group, { order: true, pollTime: 20_000 });
  await new Promise((r) => setTimeout(r, 200));
  const [receipt] = popReceipts(first.extFields!, records(first), t.mq.broker.brokerConfig.brokerName, true);
  const ack = await raw(RequestCode.ACK_MESSAGE, { consumerGroup: group, topic, queueId: 0, extraInfo: receipt!.extraInfo, offset: 0 });
  assert.equal(ack.code, ResponseCode.SUCCESS, ack.remark);
  const woken = await waiting;
  assert.equal(woken.extFields?.hasMsg, 'true', 'o2 is next');
});

test('POLLING_INFO counts the POPs waiting per topic, group and queue (−1: POPs of every queue)', async () => {
  const topic = 'PollInfo';
  const group = 'PollInfoG';
  await setup(topic, group, 2);
  const count = async (queueId: number): Promise<number> => {
    const res = await raw(RequestCode.POLLING_INFO, { consumerGroup: group, topic, queueId });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    return Number(res.extFields?.pollingNum);
  };
  assert.equal(await count(-1), 0);
  const pops = [pop(topic, group, { pollTime: 20_000 }), pop(topic, group, { pollTime: 20_000 }), pop(topic, group, { pollTime: 20_000, queueId: 1 })];
  await waitUntil(async () => (await count(-1)) === 2 && (await count(1)) === 1, 'three POPs waiting', 10_000);
  assert.equal(await count(0), 0);
  assert.equal(await count(-5), 2, 'any negative queue id is −1, as upstream');
  // A notification waits too, but is no POP: not counted, as upstream counts the POP processor's polls only.
  const n = notify(topic, group, { pollTime: 20_000 });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await count(-1), 2);
  const api = new MQClientAPI();
  try {
    assert.equal(await api.pollingInfo(broker, { consumerGroup: group, topic, queueId: 1 }), 1);
    for (let i = 0; i < 3; i++) await send(topic, `p${i}`, 1);
    const got = await Promise.all(pops);
    assert.equal(got.reduce((s, r) => s + records(r).length, 0), 3, 'every POP got a message');
    assert.equal((await n).code, ResponseCode.SUCCESS, 'the notification is answered too');
  } finally {
    await api.shutdown();
  }
  await waitUntil(async () => (await count(-1)) === 0 && (await count(1)) === 0, 'no POP waiting', 10_000);
});

test('many notifications waiting on one connection (as a proxy keeps them) are all woken, without a listener-leak warning', async () => {
  const topic = 'NotifyMany';
  const group = 'NotifyManyG';
  await setup(topic, group);
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { warnings.push(w); };
  process.on('warning', onWarning);
  try {
    const waiting = Array.from({ length: 25 }, () => notify(topic, group, { pollTime: 20_000 }));
    await new Promise((r) => setTimeout(r, 300));
    await send(topic, 'for all');
    const answers = await Promise.all(waiting);
    assert.deepEqual(answers.map((r) => r.extFields?.hasMsg), answers.map(() => 'true'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  } finally {
    process.off('warning', onWarning);
  }
});

test('MQClientAPI.notification, as upstream\'s MQClientAPIExt: the response header read as {hasMsg, pollingFull}', async () => {
  const topic = 'NotifyApi';
  const group = 'NotifyApiG';
  await setup(topic, group);
  const api = new MQClientAPI();
  try {
    assert.deepEqual(await api.notification(broker, { consumerGroup: group, topic, queueId: -1, pollTime: 0, order: false }, 5000), { hasMsg: false, pollingFull: false });
    await send(topic, 'x');
    assert.deepEqual(await api.notification(broker, { consumerGroup: group, topic, queueId: 0, pollTime: 1000, order: false }, 5000), { hasMsg: true, pollingFull: false });
  } finally {
    await api.shutdown();
  }
});

test('bad NOTIFICATION and POLLING_INFO requests get upstream\'s codes and a clear remark; a client leaving mid-poll harms nothing', async () => {
  const topic = 'NotifyBad';
  const group = 'NotifyBadG';
  await setup(topic, group, 2);
  const full = { consumerGroup: group, topic, queueId: 0, pollTime: 0 };
  for (const code of [RequestCode.NOTIFICATION, RequestCode.POLLING_INFO]) {
    const fields = code === RequestCode.NOTIFICATION ? ['consumerGroup', 'topic', 'queueId', 'pollTime'] : ['consumerGroup', 'topic', 'queueId'];
    for (const missing of fields) {
      const ext: Record<string, string | number> = { ...full };
      delete ext[missing];
      const res = await raw(code, ext);
      assert.equal(res.code, ResponseCode.SYSTEM_ERROR, `${code} without ${missing}`);
      assert.match(res.remark ?? '', new RegExp(`<${missing}> is null`));
    }
    const nan = await raw(code, { ...full, queueId: 'abc' });
    assert.equal(nan.code, ResponseCode.SYSTEM_ERROR);
    assert.match(nan.remark ?? '', /<queueId> = "abc" is not an integer/);
    const unknownTopic = await raw(code, { ...full, topic: 'NotifyNoSuchTopic' });
    assert.equal(unknownTopic.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(unknownTopic.remark ?? '', /topic\[NotifyNoSuchTopic\] not exist, apply first please!/);
    const badQueue = await raw(code, { ...full, queueId: 2 });
    assert.equal(badQueue.code, ResponseCode.INVALID_PARAMETER);
    assert.match(badQueue.remark ?? '', /queueId\[2\] is illegal, topic:\[NotifyBad\] topicConfig.readQueueNums:\[2\]/);
    const unknownGroup = await raw(code, { ...full, consumerGroup: 'NotifyNoSuchGroup' });
    assert.equal(unknownGroup.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    assert.match(unknownGroup.remark ?? '', /subscription group \[NotifyNoSuchGroup\] does not exist/);
  }

  const disabled = `${group}Off`;
  await c.invoke(broker, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: disabled, consumeEnable: false }))));
  const off = await raw(RequestCode.NOTIFICATION, { ...full, consumerGroup: disabled });
  assert.equal(off.code, ResponseCode.NO_PERMISSION);
  assert.equal(off.remark, `subscription group no permission, ${disabled}`);
  assert.equal((await c.invoke(broker, createTopicRequest('NotifyWriteOnly', 1, 1, 2))).code, ResponseCode.SUCCESS);
  const wo = await raw(RequestCode.POLLING_INFO, { ...full, topic: 'NotifyWriteOnly' });
  assert.equal(wo.code, ResponseCode.NO_PERMISSION);
  assert.equal(wo.remark, 'the topic[NotifyWriteOnly] peeking message is forbidden');
  const cfg = (v: string): Promise<RemotingCommand> => c.invoke(broker, request(RequestCode.UPDATE_BROKER_CONFIG, {}, Buffer.from(`brokerPermission=${v}\n`)));
  assert.equal((await cfg('2')).code, ResponseCode.SUCCESS);
  try {
    const nb = await raw(RequestCode.NOTIFICATION, full);
    assert.equal(nb.code, ResponseCode.NO_PERMISSION);
    assert.match(nb.remark ?? '', /^the broker\[.+\] peeking message is forbidden$/);
  } finally {
    assert.equal((await cfg('6')).code, ResponseCode.SUCCESS);
  }

  // A client that leaves while its notification waits: the broker lets the poll go and keeps serving.
  const leaving = newClient();
  const gone = notify(topic, group, { pollTime: 20_000 }, leaving).catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 200));
  await leaving.shutdown();
  assert.ok((await gone) instanceof Error, 'the leaving client gets no answer');
  await send(topic, 'still');
  assert.equal(await hasMsg(topic, group), true);
  assert.equal(await hasMsg(topic, group, { queueId: 0, pollTime: 100 }), true);
});
