import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { Message, Producer, PushConsumer, type MessageExt } from '../../src/client/index.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

test('a PushConsumer subscribed with { sql } gets exactly the messages whose properties match', async () => {
  const tmp = tempDir('rmq-sql-push-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { enablePropertyFilter: true } });
  const producer = new Producer({ group: 'SQLP', namesrvAddr: mq.namesrvAddr });
  const consumer = new PushConsumer({ group: 'SQLC', namesrvAddr: mq.namesrvAddr, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  try {
    await producer.start();
    for (let i = 0; i < 20; i++) {
      await producer.send(new Message('SqlPush', `m-${i}`, { tags: i % 2 ? 'odd' : 'even', properties: { amount: String(i), region: i < 10 ? 'eu' : 'us' } }));
    }
    const got: MessageExt[] = [];
    consumer.subscribe('SqlPush', { sql: "amount >= 5 AND region = 'eu' AND TAGS = 'odd'" });
    consumer.registerMessageListenerConcurrently(async (msgs) => { got.push(...msgs); });
    await consumer.start();
    await waitUntil(() => got.length >= 3, 'the matching messages', 15_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['m-5', 'm-7', 'm-9']);
    assert.throws(() => consumer.subscribe('Other', { sql: '  ' }), /needs an expression/);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
