import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumeResult, PushConsumer, type MessageView, type Producer } from 'rocketmq-client-nodejs';
import { MQClientAPI, PullStatus } from '../../src/client/index.js';
import { buildPullSysFlag } from '../../src/common/sysflag.js';
import { createGroup, createTopic, eventually, quietLogger, startProducer, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Priority 5: the SDK's PushConsumer — QueryAssignment, auto-renewed receives, ack, nack
// (change of invisible time) for concurrent consumption; FIFO consumption one message at a
// time per message group, in order, with ForwardMessageToDeadLetterQueue at the end of its retries.

let fx: ProxyFixture;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  // Short long polls: the PushConsumer's shutdown waits for the receive in flight.
  // A 1 s invisible time for push receives: the server must renew it while a listener is slow.
  fx = await startProxyStandalone({ proxyConfig: { maxLongPollingTimeoutMillis: 500, defaultInvisibleTimeMills: 1000 } });
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

function producer(topic: string): Promise<Producer> {
  return startProducer(fx.mq.proxyAddr, topic, clients);
}

test('concurrent PushConsumer: every message is consumed; a failed one comes back with the next attempt', async () => {
  const topic = uniq('Push');
  const group = uniq('PushG');
  createTopic(fx.mq, topic, 4);
  const p = await producer(topic);
  const seen = new Map<string, number[]>();
  let failedOnce = false;
  const consumer = new PushConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), logger: quietLogger(),
    messageListener: {
      consume(m: MessageView) {
        const body = m.body.toString();
        seen.set(body, [...(seen.get(body) ?? []), m.deliveryAttempt ?? 0]);
        if (body === 'm7' && !failedOnce) {
          failedOnce = true;
          return ConsumeResult.FAILURE;
        }
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  clients.push(consumer);
  for (let i = 0; i < 20; i++) await p.send({ topic, body: Buffer.from(`m${i}`) });
  await eventually(() => (seen.size === 20 && (seen.get('m7')?.length ?? 0) >= 2 ? true : undefined), 15_000, 'all 20 messages and the retry');
  assert.deepEqual(seen.get('m7'), [1, 2]);
  for (const [body, attempts] of seen) if (body !== 'm7') assert.deepEqual(attempts, [1], body);
  await eventually(() => (fx.mq.broker.popMessageService.inflightCheckPoints === 0 ? true : undefined), 5000, 'every receipt acked');
});

test('FIFO PushConsumer: each message group in order, one message in flight per group; exhausted retries go to the DLQ', async () => {
  const topic = uniq('PushFifo');
  const group = uniq('PushFifoG');
  createTopic(fx.mq, topic, 2, 'FIFO');
  createGroup(fx.mq, group, { consumeMessageOrderly: true, retryMaxTimes: 2 }); // 3 attempts
  const p = await producer(topic);
  const order = new Map<string, string[]>();
  const inFlight = new Map<string, number>();
  let maxInFlight = 0;
  let b2Attempts = 0;
  let a3Failed = false;
  const consumer = new PushConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), logger: quietLogger(),
    messageListener: {
      async consume(m: MessageView) {
        const g = m.messageGroup ?? '';
        const n = (inFlight.get(g) ?? 0) + 1;
        inFlight.set(g, n);
        maxInFlight = Math.max(maxInFlight, n);
        await new Promise((r) => setTimeout(r, 5));
        inFlight.set(g, n - 1);
        const body = m.body.toString();
        if (body === 'b2') {
          b2Attempts++;
          return ConsumeResult.FAILURE; // never succeeds: forwarded to the DLQ after 3 attempts
        }
        if (body === 'a3' && !a3Failed) {
          a3Failed = true;
          order.set(g, [...(order.get(g) ?? []), 'a3(failed)']);
          return ConsumeResult.FAILURE; // retried locally, in place
        }
        order.set(g, [...(order.get(g) ?? []), body]);
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  clients.push(consumer);
  for (let i = 1; i <= 5; i++) {
    await p.send({ topic, messageGroup: 'A', body: Buffer.from(`a${i}`) });
    await p.send({ topic, messageGroup: 'B', body: Buffer.from(`b${i}`) });
  }
  await eventually(() => ((order.get('A')?.length ?? 0) >= 6 && (order.get('B')?.length ?? 0) >= 4 ? true : undefined), 15_000, 'both groups consumed');
  assert.deepEqual(order.get('A'), ['a1', 'a2', 'a3(failed)', 'a3', 'a4', 'a5']);
  assert.deepEqual(order.get('B'), ['b1', 'b3', 'b4', 'b5']);
  assert.equal(maxInFlight, 1, 'one message in flight per message group');
  assert.equal(b2Attempts, 3);
  const api = new MQClientAPI();
  try {
    const dlq = await eventually(async () => {
      if (!fx.mq.broker.topicConfigManager.get(`%DLQ%${group}`)) return undefined;
      const r = await api.pullMessage(fx.mq.brokerAddr, {
        consumerGroup: uniq('Inspect'), topic: `%DLQ%${group}`, queueId: 0, queueOffset: 0, maxMsgNums: 32, sysFlag: buildPullSysFlag(false, false, true),
        commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0, expressionType: 'TAG',
      }, 3000);
      return r.pullStatus === PullStatus.FOUND ? r.msgFoundList.map((m) => m.body.toString()) : undefined;
    }, 10_000, 'the DLQ message');
    assert.deepEqual(dlq, ['b2']);
  } finally {
    await api.shutdown();
  }
});

test('a slow listener keeps its message: the server renews the receipt while the consumer lives (auto_renew)', async () => {
  const topic = uniq('PushSlow');
  createTopic(fx.mq, topic, 1);
  const p = await producer(topic);
  const deliveries: number[] = [];
  const consumer = new PushConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: uniq('PushSlowG'), subscriptions: new Map([[topic, '*']]), logger: quietLogger(),
    messageListener: {
      async consume(m: MessageView) {
        deliveries.push(m.deliveryAttempt ?? 0);
        await new Promise((r) => setTimeout(r, 2500)); // longer than the 1 s invisible time
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  clients.push(consumer);
  await p.send({ topic, body: Buffer.from('slow') });
  await eventually(() => (deliveries.length > 0 && fx.mq.broker.popMessageService.inflightCheckPoints === 0 ? true : undefined), 10_000, 'the slow message acked');
  assert.deepEqual(deliveries, [1], 'delivered once, not again while the listener was busy');
});
