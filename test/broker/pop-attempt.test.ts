import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { PopResponseCode } from '../../src/broker/pop/pop-processors.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { popReceipts } from '../../src/remoting/protocol/pop-message-header.js';
import { createTopicRequest, newClient, records, request, sendRequest } from './helpers.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// Orderly POP with upstream's attemptId (ConsumerOrderInfoManager / OrderInfo.needBlock): a 5.x
// client reuses a receive's attempt id when it retries a receive whose answer it never got, and a
// FIFO queue blocked by that attempt's pop gives the same messages again, with new receipts and
// without counting a delivery; any other attempt still finds the queue blocked. Over real
// sockets, through POP_MESSAGE and NOTIFICATION, and across a restart of the broker.

interface Ctx { mq: Standalone; c: RemotingClient; broker: string }

async function started(dir: string): Promise<Ctx> {
  const mq = await startStandalone({
    storeDir: dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, brokerConfig: { autoCreateSubscriptionGroup: false },
  });
  return { mq, c: newClient(), broker: mq.brokerAddr };
}

async function stop(x: Ctx): Promise<void> {
  await x.c.shutdown();
  await x.mq.shutdown();
}

/** Codes past 16 bits travel with JSON headers. */
function raw(x: Ctx, code: number, ext: Record<string, string | number | boolean | undefined>): Promise<RemotingCommand> {
  return x.c.invoke(x.broker, request(code, ext, undefined, SerializeType.JSON), 30_000);
}

async function setup(x: Ctx, topic: string, group: string, bodies: string[]): Promise<void> {
  assert.equal((await x.c.invoke(x.broker, createTopicRequest(topic, 1, 1))).code, ResponseCode.SUCCESS);
  const g = await x.c.invoke(x.broker, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: group }))));
  assert.equal(g.code, ResponseCode.SUCCESS, g.remark);
  for (const body of bodies) assert.equal((await x.c.invoke(x.broker, sendRequest({ topic, body, queueId: 0 }))).code, ResponseCode.SUCCESS);
}

interface Popped { bodies: string[]; receipts: Array<{ extraInfo: string; consumedTimes?: number }> }

/** An orderly POP of queue 0 that answers at once: what it gave (empty when nothing). */
async function popOrderly(x: Ctx, topic: string, group: string, attemptId?: string): Promise<Popped> {
  const res = await raw(x, RequestCode.POP_MESSAGE, {
    consumerGroup: group, topic, queueId: 0, maxMsgNums: 32, invisibleTime: 60_000, pollTime: 0, bornTime: Date.now(),
    initMode: 0, expType: 'TAG', exp: '*', order: true, attemptId,
  });
  if (res.code === PopResponseCode.POLLING_TIMEOUT) return { bodies: [], receipts: [] };
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const recs = records(res);
  return { bodies: recs.map((m) => m.body.toString()), receipts: popReceipts(res.extFields!, recs, 'broker-a', true) };
}

function ack(x: Ctx, topic: string, group: string, extraInfo: string): Promise<RemotingCommand> {
  return raw(x, RequestCode.ACK_MESSAGE, { consumerGroup: group, topic, queueId: 0, extraInfo, offset: Number(extraInfo.split(' ').pop()) });
}

async function hasMsg(x: Ctx, topic: string, group: string, attemptId?: string): Promise<boolean> {
  const res = await raw(x, RequestCode.NOTIFICATION, {
    consumerGroup: group, topic, queueId: -1, pollTime: 0, bornTime: Date.now(), order: true, attemptId,
  });
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res.extFields?.hasMsg === 'true';
}

test('an orderly POP retried with its attemptId gets its block again, uncounted, with new receipts; other attempts stay blocked', async () => {
  const tmp = tempDir('rmq-pop-attempt-');
  const x = await started(tmp.dir);
  try {
    const topic = 'AttemptFifo';
    const group = 'AttemptFifoG';
    await setup(x, topic, group, ['o1', 'o2']);
    const first = await popOrderly(x, topic, group, 'attempt-1');
    assert.deepEqual(first.bodies, ['o1', 'o2']);
    assert.deepEqual(first.receipts.map((r) => r.consumedTimes), [0, 0]);

    assert.deepEqual((await popOrderly(x, topic, group, 'attempt-2')).bodies, [], 'another attempt: the block is out');
    assert.deepEqual((await popOrderly(x, topic, group)).bodies, [], 'no attempt id: the block is out');
    assert.equal(await hasMsg(x, topic, group, 'attempt-2'), false);
    assert.equal(await hasMsg(x, topic, group), false);
    assert.equal(await hasMsg(x, topic, group, 'attempt-1'), true, 'NOTIFICATION of the same attempt: a POP would find the block');

    const again = await popOrderly(x, topic, group, 'attempt-1');
    assert.deepEqual(again.bodies, ['o1', 'o2'], 'the same messages, in order');
    assert.deepEqual(again.receipts.map((r) => r.consumedTimes), [0, 0], 'a retried receive is not a further delivery');
    assert.notDeepEqual(again.receipts.map((r) => r.extraInfo), first.receipts.map((r) => r.extraInfo), 'new receipts');
    assert.deepEqual((await popOrderly(x, topic, group, 'attempt-2')).bodies, [], 'blocked again for other attempts');

    // As upstream, an ack that finds no check point is answered SUCCESS: it acks nothing.
    assert.equal((await ack(x, topic, group, first.receipts[0]!.extraInfo)).code, ResponseCode.SUCCESS);
    assert.equal((await ack(x, topic, group, again.receipts[1]!.extraInfo)).code, ResponseCode.SUCCESS);
    assert.deepEqual((await popOrderly(x, topic, group, 'attempt-2')).bodies, [], 'o1 is still out: the first answer\'s receipt acked nothing');
    assert.equal((await ack(x, topic, group, again.receipts[0]!.extraInfo)).code, ResponseCode.SUCCESS);
    assert.equal((await x.c.invoke(x.broker, sendRequest({ topic, body: 'o3', queueId: 0 }))).code, ResponseCode.SUCCESS);
    assert.deepEqual((await popOrderly(x, topic, group, 'attempt-3')).bodies, ['o3'], 'acked: the queue moved past o1 and o2');
  } finally {
    await stop(x);
    tmp.cleanup();
  }
});

test('a retried attempt after a partial ack gets what was not acked; after a restart the attempt still holds', async () => {
  const tmp = tempDir('rmq-pop-attempt-');
  let x = await started(tmp.dir);
  try {
    const topic = 'AttemptFifoPart';
    const group = 'AttemptFifoPartG';
    await setup(x, topic, group, ['p1', 'p2', 'p3']);
    const first = await popOrderly(x, topic, group, 'a-1');
    assert.deepEqual(first.bodies, ['p1', 'p2', 'p3']);
    assert.equal((await ack(x, topic, group, first.receipts[1]!.extraInfo)).code, ResponseCode.SUCCESS, 'p2 acked');
    const again = await popOrderly(x, topic, group, 'a-1');
    assert.deepEqual(again.bodies, ['p1', 'p3'], 'p2 was acked: not given again');
    assert.deepEqual(again.receipts.map((r) => r.consumedTimes), [0, 0]);

    await stop(x);
    x = await started(tmp.dir);
    assert.deepEqual((await popOrderly(x, topic, group, 'a-2')).bodies, [], 'after the restart the block is still out');
    const third = await popOrderly(x, topic, group, 'a-1');
    assert.deepEqual(third.bodies, ['p1', 'p3'], 'and its attempt still gets it');
    for (const r of third.receipts) assert.equal((await ack(x, topic, group, r.extraInfo)).code, ResponseCode.SUCCESS);
    assert.equal((await x.c.invoke(x.broker, sendRequest({ topic, body: 'p4', queueId: 0 }))).code, ResponseCode.SUCCESS);
    assert.deepEqual((await popOrderly(x, topic, group)).bodies, ['p4']);
  } finally {
    await stop(x);
    tmp.cleanup();
  }
});
