import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { ConsumeOrderlyStatus } from '../../src/client/consume-message-service.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { createTopic, waitUntil } from './helpers.js';
import type { AllocateMessageQueueStrategy } from '../../src/client/rebalance/allocate-message-queue-strategy.js';
import { sleep } from '../../src/client/wait.js';

// Message order: global order through a one-queue topic, and partition order (one sharding
// key, one queue) kept while orderly consumers join and leave.

let mq: Standalone;
let producer: Producer;
const consumers: PushConsumer[] = [];
const stamp = Date.now();

useStandalone('rmq-order-e2e-', {
  async started(s) {
    mq = s;
    producer = new Producer({ group: 'ORDER_PG', namesrvAddr: mq.namesrvAddr });
    await producer.start();
  },
  async stopping() {
    for (const c of consumers) await c.shutdown();
    await producer?.shutdown();
  },
});

function orderly(group: string, topic: string, log: MessageExt[]): PushConsumer {
  const c = new PushConsumer({ namesrvAddr: mq.namesrvAddr, group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.subscribe(topic, '*');
  c.registerMessageListenerOrderly(async (msgs) => {
    log.push(...msgs);
    return ConsumeOrderlyStatus.SUCCESS;
  });
  consumers.push(c);
  return c;
}

test('global order: a one-queue topic is consumed in exactly the order it was sent', { skip }, async () => {
  const topic = `GlobalOrder_${stamp}`;
  await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 1);
  for (let i = 0; i < 200; i++) await producer.send(new Message(topic, String(i)));
  const log: MessageExt[] = [];
  await orderly(`GlobalOrderG_${stamp}`, topic, log).start();
  await waitUntil(() => log.length >= 200, 'all 200 messages');
  assert.deepEqual(log.map((m) => Number(m.body.toString())), Array.from({ length: 200 }, (_, i) => i));
});

test('partition order: each sharding key stays on one queue and in order while consumers join and leave', { skip }, async () => {
  const topic = `PartitionOrder_${stamp}`;
  const group = `PartitionOrderG_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 4);
  const log: MessageExt[] = [];
  const keys = ['order-A', 'order-B', 'order-C', 'order-D', 'order-E', 'order-F'];
  const next = new Map(keys.map((k) => [k, 0]));
  // The same key always picks the same queue (hash of the sharding key, as upstream's selector).
  const queueOf = (key: string): (typeof queues)[number] => queues[Math.abs([...key].reduce((h, c) => (Math.imul(31, h) + c.charCodeAt(0)) | 0, 0)) % queues.length]!;
  const sendRound = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      for (const k of keys) {
        const seq = next.get(k)!;
        next.set(k, seq + 1);
        await producer.send(new Message(topic, `${k}:${seq}`, { keys: [k] }), { queue: queueOf(k) });
      }
    }
  };
  const a = orderly(group, topic, log);
  await a.start();
  await sendRound(20);
  const b = orderly(group, topic, log);
  await b.start();
  await sendRound(20);
  await waitUntil(() => b.assignment().some((q) => q.topic === topic), 'b holds queues');
  await sendRound(10);
  await b.shutdown();
  await sendRound(10);
  const total = keys.length * 60;
  await waitUntil(() => new Set(log.map((m) => m.body.toString())).size >= total, `all ${total} messages`);
  for (const k of keys) {
    const seqs = log.filter((m) => m.body.toString().startsWith(`${k}:`)).map((m) => Number(m.body.toString().split(':')[1]));
    // A queue handed over may be re-read from its last committed offset (at-least-once), but never goes backwards otherwise.
    const firsts: number[] = [];
    const seen = new Set<number>();
    for (const s of seqs) if (!seen.has(s)) { seen.add(s); firsts.push(s); }
    assert.deepEqual(firsts, Array.from({ length: 60 }, (_, i) => i), `key ${k} first deliveries out of order`);
    assert.ok(new Set(log.filter((m) => m.body.toString().startsWith(`${k}:`)).map((m) => m.queueId)).size === 1, `key ${k} used more than one queue`);
  }
});

test('a queue taken away and handed straight back during a long orderly listener call restarts only after that call, never beside it', { skip }, async () => {
  const topic = `HandBack_${stamp}`;
  await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 1);
  await producer.send(new Message(topic, 'm0'));
  await producer.send(new Message(topic, 'm1'));
  // The test decides the assignment: the one queue, or nothing while `away`.
  let away = false;
  const strategy: AllocateMessageQueueStrategy = { name: 'TEST', allocate: (_g, _c, mqAll) => (away ? [] : [...mqAll]) };
  const c = new PushConsumer({
    namesrvAddr: mq.namesrvAddr, group: `HandBackG_${stamp}`, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    allocateMessageQueueStrategy: strategy, rebalanceInterval: 200, consumeMessageBatchMaxSize: 1,
  });
  consumers.push(c);
  c.subscribe(topic, '*');
  const delivered: string[] = [];
  let active = 0;
  let maxActive = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  c.registerMessageListenerOrderly(async (msgs) => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      for (const m of msgs) delivered.push(m.body.toString());
      if (msgs.some((m) => m.body.toString() === 'm0')) await released;
      return ConsumeOrderlyStatus.SUCCESS;
    } finally {
      active--;
    }
  });
  await c.start();
  await waitUntil(() => active === 1, 'the listener holds m0');
  away = true;
  await waitUntil(() => c.assignment().length === 0, 'the queue taken away');
  away = false;
  // Rebalances every 200 ms want the queue back while the call on m0 goes on.
  await sleep(2500);
  assert.deepEqual(delivered, ['m0'], 'nothing delivered beside the call in progress');
  assert.equal(maxActive, 1);
  release();
  await waitUntil(() => delivered.includes('m1'), 'm1 after the call on m0');
  await sleep(500);
  assert.deepEqual(delivered, ['m0', 'm1'], 'm0 was committed before the queue restarted: delivered once');
  assert.equal(maxActive, 1);
  assert.equal(c.assignment().filter((q) => q.topic === topic).length, 1, 'the queue is consumed again');
});
