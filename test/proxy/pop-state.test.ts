import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimpleConsumer, type Producer } from 'rocketmq-client-nodejs';
import { createGroup, createTopic, quietLogger, startProducer, startProxyStandalone, uniq, type ProxyFixture, receiveN } from './helpers.js';

// Where POP state starts and what it keeps: a new group's first offset on a queue with history,
// and a FIFO message moved on by a change of invisible time across a clean restart.

let fx: ProxyFixture;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone();
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

function producer(topic: string): Promise<Producer> {
  return startProducer(fx.mq.proxyAddr, topic, clients);
}

async function consumer(group: string, topic: string): Promise<SimpleConsumer> {
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 500, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  return c;
}

test('a new group on a queue whose start is out of memory gets its last message, then every later one', async () => {
  const topic = uniq('OldHistory');
  createTopic(fx.mq, topic, 1);
  const p = await producer(topic);
  for (let i = 0; i < 3; i++) await p.send({ topic, body: Buffer.from(`old${i}`) });
  // As on a busy broker: the queue's first message lies beyond the memory window (40 % of RAM behind the log's head).
  const store = fx.mq.broker.messageStore as unknown as { physicalMemory: number };
  const ram = store.physicalMemory;
  store.physicalMemory = 16;
  try {
    assert.equal(fx.mq.broker.messageStore.checkInDiskByConsumeOffset(topic, 0, 0), true);
    const c = await consumer(uniq('NewG'), topic);
    // Upstream initMode MAX: "pop last one, then commit offset".
    const first = await receiveN(c, 1, 5000);
    assert.deepEqual(first.map((m) => m.body.toString()), ['old2']);
    await c.ack(first[0]!);
    assert.deepEqual(await receiveN(c, 1, 5000, 1500), [], 'nothing before the last message');
    // The start was committed: the message sent now is not skipped by a start worked out again.
    const sent = await p.send({ topic, body: Buffer.from('new0') });
    const got = await receiveN(c, 1, 5000, 4000);
    assert.deepEqual(got.map((m) => m.messageId), [sent.messageId], 'the message sent after the group subscribed is delivered');
  } finally {
    store.physicalMemory = ram;
  }
});

test('FIFO: a message whose invisible time was changed comes back first after a clean restart', async () => {
  const topic = uniq('FifoCid');
  const group = uniq('FifoCidG');
  createTopic(fx.mq, topic, 1, 'FIFO');
  createGroup(fx.mq, group, { consumeMessageOrderly: true });
  const p = await producer(topic);
  const a = await p.send({ topic, messageGroup: 'g', body: Buffer.from('a') });
  const b = await p.send({ topic, messageGroup: 'g', body: Buffer.from('b') });
  const c = await consumer(group, topic);
  const got = await receiveN(c, 2, 2000);
  assert.deepEqual(got.map((m) => m.messageId), [a.messageId, b.messageId]);
  // The consumer backs off on `a` (a FIFO nack): not acked, visible again in 1.5 s.
  await c.changeInvisibleDuration(got[0]!, 1500);

  for (const x of clients.splice(0)) await x.shutdown().catch(() => undefined);
  await fx.stop(true);
  fx = await startProxyStandalone({}, fx.storeDir);

  const c2 = await consumer(group, topic);
  const back = await receiveN(c2, 2, 30_000, 8000);
  assert.deepEqual(back.map((m) => m.body.toString()), ['a', 'b'], 'the unacked message comes back first, then the one after it');
});
