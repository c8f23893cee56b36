import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message } from '../../src/client/message.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { skip } from './standalone-fixture.js';
import { usePushFixture } from './push-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// PushConsumer.suspend() / resume() (upstream DefaultMQPushConsumerImpl's `pause` flag) against
// a real NameServer + Broker in this process.

const stamp = Date.now();
const f = usePushFixture('rmq-push-suspend-', 'PUSH_SUSPEND_PG');
const consumer = f.consumer;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('suspend() stops the pulls and resume() continues where they stopped: every message once', { skip }, async () => {
  const topic = `PushPause_${stamp}`;
  const group = `PushPauseG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 2);
  const got: string[] = [];
  const c = consumer({ group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently(async (msgs) => { got.push(...msgs.map((m) => m.body.toString())); });
  await c.start();
  const send = async (prefix: string): Promise<void> => {
    for (let i = 0; i < 10; i++) await f.producer.send(new Message(topic, `${prefix}${i}`));
  };
  await send('before-');
  await waitUntil(() => got.length === 10, 'the first ten consumed');
  c.suspend();
  assert.equal(c.isPaused(), true);
  // A pull the broker was already holding may still bring what arrives next; after it, nothing.
  await send('a-');
  await sleep(1500);
  const whileSuspended = got.length;
  await send('b-');
  // Longer than PULL_TIME_DELAY_MILLS_WHEN_SUSPEND: every queue looked again and stayed put.
  await sleep(1500);
  assert.equal(got.length, whileSuspended, 'nothing is pulled while suspended');
  assert.ok(!got.some((b) => b.startsWith('b-')));
  c.resume();
  assert.equal(c.isPaused(), false);
  await waitUntil(() => got.length >= 30, 'every message after resume()');
  await sleep(500);
  assert.equal(got.length, 30, 'no message twice');
  assert.equal(new Set(got).size, 30);
});

test('a suspended consumer keeps its queues while its group changes (no rebalance), and gives up its share on resume()', { skip }, async () => {
  const topic = `PushPauseRebalance_${stamp}`;
  const group = `PushPauseRebalanceG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 4);
  const held = (c: PushConsumer): number => c.assignment().filter((q) => q.topic === topic).length;
  const a = consumer({ group });
  a.subscribe(topic, '*');
  a.registerMessageListenerConcurrently(async () => undefined);
  await a.start();
  await waitUntil(() => held(a) === 4, 'the first consumer holds every queue');
  a.suspend();
  const b = consumer({ group });
  b.subscribe(topic, '*');
  b.registerMessageListenerConcurrently(async () => undefined);
  await b.start();
  // The broker tells the first consumer its group changed; as upstream's tryRebalance, a
  // suspended consumer does not act on it (nor on its own periodic rebalance).
  await waitUntil(() => held(b) === 2, 'the newcomer takes its half');
  a.rebalanceImmediately();
  await sleep(1500);
  assert.equal(held(a), 4, 'the suspended consumer did not rebalance');
  a.resume();
  await waitUntil(() => held(a) === 2, 'the resumed consumer rebalances and gives up half');
  assert.deepEqual(new Set([...a.assignment(), ...b.assignment()].filter((q) => q.topic === topic).map((q) => q.queueId)), new Set([0, 1, 2, 3]));
});
