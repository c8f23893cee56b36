import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { ConsumeOrderlyStatus } from '../../src/client/consume-message-service.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// An orderly consumer keeps its queue locks on the broker past the broker's 60 s lock lifetime
// by renewing them every 20 s (upstream lockAll): at the real intervals, so this test takes
// about 65 s.

let mq: Standalone;
let producer: Producer;
let consumer: PushConsumer | undefined;
const stamp = Date.now();

useStandalone('rmq-lock-e2e-', {
  async started(s) {
    mq = s;
    producer = new Producer({ group: 'LOCK_PG', namesrvAddr: mq.namesrvAddr });
    await producer.start();
  },
  async stopping() {
    await consumer?.shutdown();
    await producer?.shutdown();
  },
});

test('an orderly consumer renews its queue lock: past the broker\'s 60 s lock lifetime a rival still cannot take the queue', { skip, timeout: 120_000 }, async () => {
  const topic = `LockRenew_${stamp}`;
  const group = `LockRenewG_${stamp}`;
  const [queue] = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 1);
  const got: string[] = [];
  consumer = new PushConsumer({ namesrvAddr: mq.namesrvAddr, group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  consumer.subscribe(topic, '*');
  consumer.registerMessageListenerOrderly(async (msgs) => {
    for (const m of msgs) got.push(m.body.toString());
    return ConsumeOrderlyStatus.SUCCESS;
  });
  await consumer.start();
  await producer.send(new Message(topic, 'before'));
  await waitUntil(() => got.length === 1, 'the first message, consumed under the lock');

  const rival = new MQClientAPI();
  const rivalLocks = (): Promise<unknown[]> => rival.lockBatchMQ(mq.brokerAddr, { consumerGroup: group, clientId: 'rival@1', mqSet: [queue!] });
  try {
    assert.deepEqual(await rivalLocks(), [], 'the consumer holds the lock');
    await sleep(65_000);
    assert.deepEqual(await rivalLocks(), [], 'still held 65 s later: renewed, not expired');
    await producer.send(new Message(topic, 'after'));
    await waitUntil(() => got.length === 2, 'a message sent after 65 s, consumed under the renewed lock');
    assert.deepEqual(got, ['before', 'after']);
  } finally {
    await rival.shutdown();
  }
});
