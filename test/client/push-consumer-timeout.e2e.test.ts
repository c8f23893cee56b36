import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Message } from '../../src/client/message.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { skip } from './standalone-fixture.js';
import { usePushFixture } from './push-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// PushConsumer consumeTimeout (upstream ConsumeMessageConcurrentlyService.cleanExpireMsg)
// against a real NameServer + Broker in this process.

const stamp = Date.now();
const f = usePushFixture('rmq-push-timeout-', 'PUSH_TIMEOUT_PG', { storeConfig: { messageDelayLevel: Array(18).fill('1s').join(' ') } }); // retries come back after 1 s
const consumer = f.consumer;

test('a listener call past consumeTimeout: its message is sent back and redelivered; the offset passes it at the queue\'s next consume result, as upstream', { skip }, async () => {
  const topic = `PushTimeout_${stamp}`;
  const group = `PushTimeoutG_${stamp}`;
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 1);
  const api = new MQClientAPI();
  const committed = (): Promise<number> => api.queryConsumerOffset(f.mq.brokerAddr, { consumerGroup: group, topic, queueId: 0 });
  const seen: Array<{ body: string; reconsume: number }> = [];
  // The first call of 'stuck' lasts until the end of the test.
  let release!: () => void;
  const stuck = new Promise<void>((r) => { release = r; });
  // 0.02 minutes: a call older than 1.2 s is expired, checked every 1.2 s.
  const c = consumer({ group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET, consumeTimeout: 0.02, persistConsumerOffsetInterval: 200 });
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently(async (msgs) => {
    for (const m of msgs) {
      seen.push({ body: m.body.toString(), reconsume: m.reconsumeTimes });
      if (m.body.toString() === 'stuck' && m.reconsumeTimes === 0) await stuck;
    }
  });
  await c.start();
  try {
    await f.producer.send(new Message(topic, 'stuck'));
    await f.producer.send(new Message(topic, 'after'));
    // 'after' is done while 'stuck' holds the queue: the offset stops at 'stuck'.
    await waitUntil(async () => (await committed()) === 0, 'the offset held at the stuck message', 10_000);
    // Upstream: the expired message goes to the retry topic (here 1 s) while its first call still runs.
    await waitUntil(() => seen.some((s) => s.body === 'stuck' && s.reconsume === 1), 'the expired message redelivered', 15_000);
    // Upstream's cleanExpiredMsg drops what removeMessage returns: out of the process queue, the
    // message no longer holds the offset, but nothing commits past it until the queue's next result.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await committed(), 0, 'the offset did not move at the send-back');
    await f.producer.send(new Message(topic, 'next'));
    await waitUntil(async () => (await committed()) === 3, 'the offset past every message at the next consume result', 10_000);
    assert.deepEqual(seen.filter((s) => s.body === 'after').length, 1);
    assert.deepEqual(seen.filter((s) => s.body === 'next').length, 1);
    assert.deepEqual(seen.filter((s) => s.body === 'stuck').map((s) => s.reconsume), [0, 1], 'sent back once');
  } finally {
    release();
    await api.shutdown();
  }
});
