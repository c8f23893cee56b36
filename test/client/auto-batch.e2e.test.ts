import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { Producer, type ProducerOptions } from '../../src/client/producer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { Message } from '../../src/client/message.js';
import { PullStatus, SendStatus, type SendResult } from '../../src/client/mq-client-api.js';
import { MQClientError } from '../../src/client/errors.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { waitFor } from '../helpers/wait.js';

// autoBatch (upstream 5.x ProduceAccumulator) against a real NameServer + Broker.

let mq: Standalone;
let consumer: PullConsumer;
const producers: Producer[] = [];
const stamp = Date.now();

useStandalone('rmq-autobatch-', {
  async started(s) {
    mq = s;
    consumer = new PullConsumer({ group: 'AB_CG', namesrvAddr: mq.namesrvAddr });
    await consumer.start();
  },
  async stopping() {
    for (const p of producers) await p.shutdown();
    await consumer?.shutdown();
  },
});

async function producer(opts: ProducerOptions): Promise<Producer> {
  const p = new Producer({ group: 'AB_PG', namesrvAddr: mq.namesrvAddr, autoBatch: true, ...opts });
  await p.start();
  producers.push(p);
  return p;
}

/** Reads the one message at the result's queue and offset and checks it is `m`. */
async function assertStoredAt(r: SendResult, m: Message): Promise<void> {
  await waitFor(`route of ${r.messageQueue.topic}`, () => consumer.fetchSubscribeMessageQueues(r.messageQueue.topic));
  const p = await consumer.pull(r.messageQueue, '*', r.queueOffset, 1);
  assert.equal(p.pullStatus, PullStatus.FOUND);
  const got = p.msgFoundList[0]!;
  assert.equal(got.body.toString(), m.body.toString());
  assert.equal(got.msgId, m.uniqKey);
  assert.equal(got.msgId, r.msgId);
  assert.equal(got.offsetMsgId, r.offsetMsgId);
  assert.deepEqual(got.keys, m.keys);
  assert.equal(got.tags, m.tags);
}

test('sends of one event-loop turn leave as one batch, and each send gets its own message\'s result', { skip }, async () => {
  const p = await producer({ batchMaxDelayMs: 0 });
  const topic = `AB_Turn_${stamp}`;
  await p.send(new Message(topic, 'route first')); // the topic's route exists before the batch
  const msgs = Array.from({ length: 20 }, (_, i) => new Message(topic, `turn-${i}`, { tags: 'A', keys: `k${i}` }));
  const others = [new Message(topic, 'other-tag-0', { tags: 'B' }), new Message(topic, 'other-tag-1', { tags: 'B' })];
  const results = await Promise.all([...msgs, ...others].map((m) => p.send(m)));
  assert.ok(results.every((r) => r.sendStatus === SendStatus.SEND_OK));
  const batch = results.slice(0, 20);
  // One batch: one queue (round robin would have spread single sends), consecutive offsets.
  assert.equal(new Set(batch.map((r) => `${r.messageQueue.brokerName}/${r.messageQueue.queueId}`)).size, 1);
  batch.forEach((r, i) => assert.equal(r.queueOffset, batch[0]!.queueOffset + i));
  assert.equal(new Set(batch.map((r) => r.offsetMsgId)).size, 20);
  assert.ok(batch.every((r) => !r.msgId.includes(',') && !r.offsetMsgId.includes(',')));
  // Another tag is another batch.
  const tagB = results.slice(20);
  assert.equal(tagB[1]!.queueOffset, tagB[0]!.queueOffset + 1);
  for (const [i, m] of [...msgs, ...others].entries()) await assertStoredAt(results[i]!, m);
});

test('a batch leaves when its bodies pass batchMaxBytes, or after batchMaxDelayMs across turns', { skip }, async () => {
  const p = await producer({ batchMaxDelayMs: 200, batchMaxBytes: 1000 });
  const topic = `AB_Limits_${stamp}`;
  await p.send(new Message(topic, 'route first'));
  const body = (i: number): string => `${i}-`.padEnd(300, 'x');
  // 4 × 300 bytes pass 1000: the first four leave at once, without waiting 200 ms.
  const t0 = Date.now();
  const four = await Promise.all([0, 1, 2, 3].map((i) => p.send(new Message(topic, body(i)))));
  assert.ok(Date.now() - t0 < 150, `a full batch waited ${Date.now() - t0} ms`);
  four.forEach((r, i) => assert.equal(r.queueOffset, four[0]!.queueOffset + i));
  // Sends in separate turns still join the open batch until the delay ends.
  const later: Array<Promise<SendResult>> = [];
  const laterMsgs: Message[] = [];
  for (let i = 0; i < 3; i++) {
    const m = new Message(topic, `turn-${i}`);
    laterMsgs.push(m);
    later.push(p.send(m));
    await turn();
  }
  const rs = await Promise.all(later);
  assert.ok(Date.now() - t0 >= 190, 'a partial batch left before batchMaxDelayMs');
  rs.forEach((r, i) => assert.equal(r.queueOffset, rs[0]!.queueOffset + i));
  assert.equal(new Set(rs.map((r) => r.messageQueue.queueId)).size, 1);
  for (const [i, m] of laterMsgs.entries()) await assertStoredAt(rs[i]!, m);
});

test('messages a batch cannot carry go alone; a bad one fails alone; shutdown sends what is held', { skip }, async () => {
  const p = await producer({ batchMaxDelayMs: 30_000 });
  const topic = `AB_Alone_${stamp}`;
  await p.send(new Message(topic, 'route first'), { timeout: 5000 }); // a timeout of its own: sent at once
  const held = [0, 1, 2].map((i) => new Message(topic, `held-${i}`));
  const heldSends = held.map((m) => p.send(m));
  // Delayed, compressed, explicitly timed and broken messages do not wait 30 s for the batch.
  const delayed = new Message(topic, 'delayed', { delayTimeLevel: 1 });
  const big = new Message(topic, Buffer.alloc(5000, 'b'));
  const [rDelayed, rBig] = await Promise.all([p.send(delayed), p.send(big)]);
  assert.equal(rDelayed.sendStatus, SendStatus.SEND_OK);
  assert.equal(rBig.sendStatus, SendStatus.SEND_OK);
  await assert.rejects(p.send(new Message(topic, Buffer.alloc(0))), (err: unknown) => err instanceof MQClientError && /body is empty/.test(err.message));
  await assert.rejects(p.send(new Message('bad topic!', 'x')), MQClientError);
  // Shutdown sends the held batch and waits for its answer.
  await p.shutdown();
  const rs = await Promise.all(heldSends);
  rs.forEach((r, i) => assert.equal(r.queueOffset, rs[0]!.queueOffset + i));
  for (const [i, m] of held.entries()) await assertStoredAt(rs[i]!, m);
  await assert.rejects(p.send(new Message(topic, 'after')), /shut down/);
});

test('autoBatch limits out of range are refused with the allowed range', { skip }, () => {
  assert.throws(() => new Producer({ namesrvAddr: mq.namesrvAddr, autoBatch: true, batchMaxDelayMs: -1 }), /batchMaxDelayMs must be an integer from 0 to 30000/);
  assert.throws(() => new Producer({ namesrvAddr: mq.namesrvAddr, autoBatch: true, batchMaxBytes: 3 * 1024 * 1024 }), /batchMaxBytes must be an integer from 1 byte to 2 MiB/);
  assert.throws(() => new Producer({ namesrvAddr: mq.namesrvAddr, autoBatch: true, totalBatchMaxBytes: 0 }), /totalBatchMaxBytes must be a positive integer/);
});
