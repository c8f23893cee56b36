import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { FilterExpression, Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { MQClientAPI, PullStatus } from '../../src/client/index.js';
import { buildPullSysFlag } from '../../src/common/sysflag.js';
import { createGroup, createTopic, eventually, quietLogger, startProxyStandalone, uniq, type ProxyFixture, receiveN } from './helpers.js';

// Priority 2: the SimpleConsumer over POP — batches, long polling, invisible time, ack,
// change of invisible time, tag and SQL filters, redelivery with a higher attempt, the DLQ
// after the group's maximum, and all of it across a broker restart.

let fx: ProxyFixture;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({ brokerConfig: { enablePropertyFilter: true } });
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

async function producerFor(address: string, topic: string): Promise<Producer> {
  const p = new Producer({ endpoints: address, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  return p;
}

async function consumerFor(address: string, group: string, subs: Map<string, string | FilterExpression>, awaitDuration = 1000): Promise<SimpleConsumer> {
  const c = new SimpleConsumer({ endpoints: address, namespace: '', consumerGroup: group, subscriptions: subs, awaitDuration, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  return c;
}

async function pullAll(api: MQClientAPI, topic: string, queueId: number): Promise<string[]> {
  if (!fx.mq.broker.topicConfigManager.get(topic)) return [];
  const r = await api.pullMessage(fx.mq.brokerAddr, {
    consumerGroup: uniq('Inspect'), topic, queueId, queueOffset: 0, maxMsgNums: 32, sysFlag: buildPullSysFlag(false, false, true),
    commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0, expressionType: 'TAG',
  }, 3000);
  return r.pullStatus === PullStatus.FOUND ? r.msgFoundList.map((m) => m.msgId) : [];
}

test('a batch is received, acked, and not received again', async () => {
  const topic = uniq('Batch');
  createTopic(fx.mq, topic, 4);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const ids = new Set<string>();
  for (let i = 0; i < 10; i++) ids.add((await p.send({ topic, tag: 'a', body: Buffer.from(`m${i}`) })).messageId);
  const c = await consumerFor(fx.mq.proxyAddr, uniq('BatchG'), new Map([[topic, '*']]), 500);
  const got = await receiveN(c, 10, 30_000);
  assert.deepEqual(new Set(got.map((m) => m.messageId)), ids);
  for (const m of got) await c.ack(m);
  assert.deepEqual(await c.receive(32, 30_000), []);
  assert.equal(fx.mq.broker.popMessageService.inflightCheckPoints, 0);
});

test('a receive waits (long polling) and returns as soon as a message arrives', async () => {
  const topic = uniq('LongPoll');
  createTopic(fx.mq, topic, 2);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const c = await consumerFor(fx.mq.proxyAddr, uniq('LongPollG'), new Map([[topic, '*']]), 10_000);
  const t0 = Date.now();
  const pending = c.receive(8, 30_000);
  setTimeout(() => void p.send({ topic, body: Buffer.from('late') }), 300);
  const got = await pending;
  const took = Date.now() - t0;
  assert.equal(got.length, 1);
  assert.ok(took >= 250 && took < 5000, `the receive answered after ${took} ms`);
  await c.ack(got[0]!);
});

test('an unacked message comes back after its invisible time with the next delivery attempt; changeInvisibleDuration moves that time', async () => {
  const topic = uniq('Redeliver');
  createTopic(fx.mq, topic, 2);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const sent = await p.send({ topic, tag: 't', keys: ['kk'], body: Buffer.from('again') });
  const c = await consumerFor(fx.mq.proxyAddr, uniq('RedeliverG'), new Map([[topic, 't']]), 500);
  const [first] = await receiveN(c, 1, 1000);
  assert.equal(first?.messageId, sent.messageId);
  assert.equal(first.deliveryAttempt, 1);
  const t0 = Date.now();
  const [second] = await receiveN(c, 1, 1500);
  assert.ok(Date.now() - t0 >= 700, 'not before its invisible time ran out');
  assert.equal(second?.messageId, sent.messageId);
  assert.equal(second.deliveryAttempt, 2);
  assert.equal(second.tag, 't');
  assert.deepEqual(second.keys, ['kk']);
  // Renew: 3 s more from now; it must not show up in the next 1.5 s.
  const oldHandle = second.receiptHandle;
  await c.changeInvisibleDuration(second, 3000);
  assert.notEqual(second.receiptHandle, oldHandle);
  const t1 = Date.now();
  const during = await receiveN(c, 1, 1000, 1500);
  assert.deepEqual(during, []);
  const [third] = await receiveN(c, 1, 5000);
  assert.ok(Date.now() - t1 >= 2500, 'it came back after the changed invisible time');
  assert.equal(third?.deliveryAttempt, 3);
  await c.ack(third);
  await assert.rejects(c.ack(first), (e: Error & { code?: number }) => e.code === D.Code.INVALID_RECEIPT_HANDLE, 'a handle whose time ran out is refused');
});

test('after the group\'s maximum attempts the message goes to %DLQ%<group>', async () => {
  const topic = uniq('ToDlq');
  const group = uniq('DlqG');
  createTopic(fx.mq, topic, 1);
  createGroup(fx.mq, group, { retryMaxTimes: 1 }); // max attempts 2
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const sent = await p.send({ topic, body: Buffer.from('poison') });
  const c = await consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 500);
  const attempts: number[] = [];
  for (const m of await receiveN(c, 1, 1000)) attempts.push(m.deliveryAttempt!);
  for (const m of await receiveN(c, 1, 1000)) attempts.push(m.deliveryAttempt!);
  assert.deepEqual(attempts, [1, 2]);
  // The third delivery would exceed the maximum: it goes to the DLQ instead.
  const api = new MQClientAPI();
  try {
    const dlq = await eventually(async () => {
      const none = await c.receive(32, 1000);
      assert.deepEqual(none, []);
      const ids = await pullAll(api, `%DLQ%${group}`, 0);
      return ids.length > 0 ? ids : undefined;
    }, 10_000, 'the DLQ message');
    assert.deepEqual(dlq, [sent.messageId]);
  } finally {
    await api.shutdown();
  }
});

test('SQL92 filters select by user properties', async () => {
  const topic = uniq('Sql');
  createTopic(fx.mq, topic, 2);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  for (let i = 0; i < 6; i++) await p.send({ topic, tag: i % 2 ? 'odd' : 'even', properties: new Map([['n', String(i)]]), body: Buffer.from(`n${i}`) });
  const c = await consumerFor(fx.mq.proxyAddr, uniq('SqlG'), new Map([[topic, new FilterExpression('n >= 3 AND TAGS = \'odd\'', D.FilterType.SQL)]]), 500);
  const got = await receiveN(c, 2, 30_000, 4000);
  assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['n3', 'n5']);
  for (const m of got) await c.ack(m);
});

test('in-flight messages survive a broker restart: acked ones stay acked, the others come back', async () => {
  const topic = uniq('Restart');
  const group = uniq('RestartG');
  createTopic(fx.mq, topic, 2);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const a = await p.send({ topic, body: Buffer.from('acked') });
  const b = await p.send({ topic, body: Buffer.from('not acked') });
  const c = await consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 500);
  const got = await receiveN(c, 2, 2500);
  assert.equal(got.length, 2);
  await c.ack(got.find((m) => m.messageId === a.messageId)!);
  await c.shutdown();
  await p.shutdown();
  clients.length = 0;
  await fx.stop(true);
  fx = await startProxyStandalone({ brokerConfig: { enablePropertyFilter: true } }, fx.storeDir);
  const c2 = await consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 500);
  const back = await receiveN(c2, 1, 30_000, 8000);
  assert.deepEqual(back.map((m) => [m.messageId, m.deliveryAttempt]), [[b.messageId, 2]]);
  await c2.ack(back[0]!);
  assert.deepEqual(await c2.receive(32, 30_000), []);
});

test('without the snapshot, the revive log alone restores what is in flight (as after a crash)', async () => {
  const topic = uniq('Replay');
  const group = uniq('ReplayG');
  createTopic(fx.mq, topic, 2);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const a = await p.send({ topic, body: Buffer.from('acked') });
  const b = await p.send({ topic, body: Buffer.from('changed') });
  const c = await consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 500);
  const got = await receiveN(c, 2, 30_000);
  assert.equal(got.length, 2);
  await c.ack(got.find((m) => m.messageId === a.messageId)!);
  await c.changeInvisibleDuration(got.find((m) => m.messageId === b.messageId)!, 1500);
  await c.shutdown();
  await p.shutdown();
  clients.length = 0;
  await fx.stop(true);
  // The snapshot is what a clean stop writes last; without it everything comes from the log.
  rmSync(join(fx.storeDir, 'config', 'popCheckpoint.json'), { force: true });
  rmSync(join(fx.storeDir, 'config', 'popCheckpoint.json.bak'), { force: true });
  fx = await startProxyStandalone({ brokerConfig: { enablePropertyFilter: true } }, fx.storeDir);
  assert.equal(fx.mq.broker.popMessageService.inflightCheckPoints, 1, 'only the changed receipt is in flight');
  const c2 = await consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 500);
  const back = await receiveN(c2, 1, 30_000, 8000);
  assert.deepEqual(back.map((m) => [m.messageId, m.deliveryAttempt]), [[b.messageId, 2]]);
  await c2.ack(back[0]!);
  assert.deepEqual(await c2.receive(32, 30_000), []);
});

test('concurrent long polls of one group share the queues without starving the event loop', async () => {
  const topic = uniq('Concurrent');
  const group = uniq('ConcurrentG');
  createTopic(fx.mq, topic, 8);
  const p = await producerFor(fx.mq.proxyAddr, topic);
  const consumers = await Promise.all([0, 1, 2, 3].map(() => consumerFor(fx.mq.proxyAddr, group, new Map([[topic, '*']]), 2000)));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const seen = new Set<string>();
  let stop = false;
  const loops = consumers.map(async (c) => {
    while (!stop) {
      for (const m of await c.receive(32, 30_000)) {
        assert.ok(!seen.has(m.messageId), 'each message once');
        seen.add(m.messageId);
        await c.ack(m);
      }
    }
  });
  for (let i = 0; i < 60; i++) {
    await p.send({ topic, body: Buffer.from(`c${i}`) });
    await new Promise((r) => setTimeout(r, 5));
  }
  await eventually(() => (seen.size === 60 ? true : undefined), 10_000, 'all 60 messages');
  stop = true;
  await Promise.all(loops);
  loop.disable();
  assert.ok(loop.max / 1e6 < 500, `the event loop was blocked for ${Math.round(loop.max / 1e6)} ms`);
});
