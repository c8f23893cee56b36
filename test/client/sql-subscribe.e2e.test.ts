import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { LitePullConsumer, Message, Producer, PushConsumer, type MessageExt } from '../../src/client/index.js';
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

test('PushConsumer.start() asks the broker about an SQL92 subscription (CHECK_CLIENT_CONFIG) and fails on a bad one', async () => {
  const tmp = tempDir('rmq-sql-check-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, brokerConfig: { enablePropertyFilter: true } });
  const producer = new Producer({ group: 'SQLCHKP', namesrvAddr: mq.namesrvAddr });
  const consumers: PushConsumer[] = [];
  const consumer = (group: string, sql: string): PushConsumer => {
    const c = new PushConsumer({ group, namesrvAddr: mq.namesrvAddr });
    c.subscribe('SqlCheck', { sql });
    c.registerMessageListenerConcurrently(async () => undefined);
    consumers.push(c);
    return c;
  };
  try {
    await producer.start();
    await producer.send(new Message('SqlCheck', 'x')); // the topic and its route exist
    await assert.rejects(consumer('SQLCHK_BAD', 'a > > 5').start(),
      /consumer SQLCHK_BAD: broker 127\.0\.0\.1:\d+ cannot filter topic SqlCheck by SQL92 "a > > 5": .+ \(SUBSCRIPTION_PARSE_FAILED\)/);
    await consumer('SQLCHK_OK', 'a > 5').start();
    // A LitePullConsumer asks too (upstream DefaultLitePullConsumerImpl.operateAfterRunning).
    const lite = new LitePullConsumer({ group: 'SQLCHK_LITE', namesrvAddr: mq.namesrvAddr });
    lite.subscribe('SqlCheck', { sql: 'a >' });
    await assert.rejects(lite.start(), /consumer SQLCHK_LITE: broker .* cannot filter topic SqlCheck by SQL92 "a >": .+ \(SUBSCRIPTION_PARSE_FAILED\)/);
    // The broker refusing SQL92 as a whole is a failed start too, with what to change.
    mq.broker.brokerConfig.enablePropertyFilter = false;
    await assert.rejects(consumer('SQLCHK_OFF', 'a > 5').start(), /does not support consumer to filter message by SQL92 \(SYSTEM_ERROR\); set enablePropertyFilter=true/);
  } finally {
    for (const c of consumers) await c.shutdown();
    await producer.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
