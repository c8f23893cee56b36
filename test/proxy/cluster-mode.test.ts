import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsumeResult, Producer, PushConsumer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MQClientAPI } from '../../src/client/index.js';
import { createLogger } from '../../src/common/logger.js';
import { ClusterMessagingProcessor } from '../../src/proxy/cluster-messaging-processor.js';
import { ProxyController } from '../../src/proxy/proxy-controller.js';
import { createTopic, eventually, FAST_PROXY, quietLogger, RawClient, startProducer, startProxyStandalone, uniq, type ProxyFixture, receiveN } from './helpers.js';

// Cluster mode (mqproxy): the proxy is a separate role, a client of the brokers over Remoting —
// routes from the NameServer, sends, POP / ack / change of invisible time and transactions as
// the brokers' own requests, transaction checks relayed from the broker to the client.

let fx: ProxyFixture;
let proxy: ProxyController;
let processor: ClusterMessagingProcessor;
let api: MQClientAPI;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({ proxyConfig: false, brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 500 } });
  proxy = new ProxyController({
    // Push receives hidden for 3 s (renewed halfway), looked at every 200 ms: the proxy must renew them while a listener is slow.
    // Short long polls: the PushConsumer's shutdown waits for the receive in flight.
    // A receive batch size above the brokers' POP limit: the proxy must still ask them for 32 at most.
    config: { ...FAST_PROXY, grpcServerPort: 0, defaultInvisibleTimeMills: 3000, maxLongPollingTimeoutMillis: 500, maxReceiveBatchSize: 64 },
    processor: processor = new ClusterMessagingProcessor({ namesrvAddr: fx.mq.namesrvAddr, logger: createLogger('cluster-test'), heartbeatIntervalMs: 1000, renewCheckIntervalMs: 200 }),
    defaultBrokerName: () => '',
  });
  await proxy.start();
  api = new MQClientAPI();
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await api?.shutdown();
  await proxy?.shutdown();
  await fx?.stop();
});

/** Creates a topic and waits until the NameServer routes it (the proxy reads routes there). */
async function routedTopic(queues = 2, type?: string): Promise<string> {
  const topic = uniq('Cluster');
  createTopic(fx.mq, topic, queues, type);
  await eventually(async () => (await api.getTopicRouteInfoFromNameServer(fx.mq.namesrvAddr, topic).catch(() => undefined))?.queueDatas.length ? true : undefined, 10_000, `the route of ${topic}`);
  return topic;
}

test('cluster mode: send, receive, change invisible time, redelivery and ack through the brokers', async () => {
  const topic = await routedTopic(2, 'NORMAL');
  const p = await startProducer(proxy.address, topic, clients);
  const sent = await p.send({ topic, tag: 'x', keys: ['k'], properties: new Map([['a', 'b']]), body: Buffer.from('via mqproxy') });
  const c = new SimpleConsumer({ endpoints: proxy.address, namespace: '', consumerGroup: uniq('ClusterG'), subscriptions: new Map([[topic, 'x']]), awaitDuration: 500, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const [m] = await receiveN(c, 1, 1000);
  assert.equal(m?.messageId, sent.messageId);
  assert.equal(m.tag, 'x');
  assert.deepEqual(m.keys, ['k']);
  assert.equal(m.properties.get('a'), 'b');
  await c.changeInvisibleDuration(m, 1000);
  const [again] = await receiveN(c, 1, 1000);
  assert.deepEqual([again?.messageId, again?.deliveryAttempt], [sent.messageId, 2]);
  await c.ack(again!);
  assert.deepEqual(await c.receive(32, 1000), []);
});

test('cluster mode: a receive of more than 32 messages gets 32, as upstream proxy caps a POP', async () => {
  const topic = await routedTopic(1, 'NORMAL');
  const p = await startProducer(proxy.address, topic, clients);
  for (let i = 0; i < 40; i++) await p.send({ topic, body: Buffer.from(`b${i}`) });
  const c = new SimpleConsumer({ endpoints: proxy.address, namespace: '', consumerGroup: uniq('ClusterBatchG'), subscriptions: new Map([[topic, '*']]), awaitDuration: 500, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const got = await c.receive(40, 10_000);
  assert.equal(got.length, 32);
  assert.equal((await receiveN(c, 8, 10_000)).length, 8, 'the rest comes with the next receive');
});

test('cluster mode: an open transaction is checked back through the proxy and committed', async () => {
  const topic = await routedTopic(1, 'TRANSACTION');
  const checked: string[] = [];
  const p = new Producer({
    endpoints: proxy.address, namespace: '', topic, logger: quietLogger(),
    checker: { async check(v: MessageView) { checked.push(v.body.toString()); return D.TransactionResolution.COMMIT; } },
  });
  await p.startup();
  clients.push(p);
  const tx = p.beginTransaction();
  const sent = await p.send({ topic, body: Buffer.from('checked') }, tx);
  const c = new SimpleConsumer({ endpoints: proxy.address, namespace: '', consumerGroup: uniq('ClusterTxG'), subscriptions: new Map([[topic, '*']]), awaitDuration: 1000, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const got = await receiveN(c, 1, 10_000, 10_000);
  assert.deepEqual(got.map((m) => m.messageId), [sent.messageId]);
  assert.deepEqual(checked, ['checked']);
  await c.ack(got[0]!);
});

test('cluster mode: an unknown topic is TOPIC_NOT_FOUND', async () => {
  const raw = new RawClient(proxy.address);
  try {
    const r = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName('NoSuchClusterTopic')));
    assert.equal(r.getStatus()?.getCode(), D.Code.TOPIC_NOT_FOUND);
  } finally {
    raw.close();
  }
});

test('cluster mode: the proxy renews a slow push listener\'s receipt and acks with the newest handle', async () => {
  const topic = await routedTopic(1, 'NORMAL');
  const p = await startProducer(proxy.address, topic, clients);
  const deliveries: string[] = [];
  const consumer = new PushConsumer({
    endpoints: proxy.address, namespace: '', consumerGroup: uniq('ClusterPushG'), subscriptions: new Map([[topic, '*']]), logger: quietLogger(),
    messageListener: {
      async consume(m: MessageView) {
        deliveries.push(`${m.body.toString()}#${m.deliveryAttempt ?? 0}`);
        await new Promise((r) => setTimeout(r, 7000)); // more than twice the 3 s invisible time
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  clients.push(consumer);
  await p.send({ topic, body: Buffer.from('slow') });
  await eventually(() => (deliveries.length > 0 && fx.mq.broker.popMessageService.inflightCheckPoints === 0 ? true : undefined), 15_000, 'the slow message acked');
  // Acked with a retired handle, the broker would still hold a check point and deliver again.
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(deliveries, ['slow#1'], 'delivered once: not again while the listener was busy, nor after its ack');
  assert.equal(fx.mq.broker.popMessageService.inflightCheckPoints, 0);
});

test('cluster mode: a forward to the DLQ stops the renewal of its receipt first, as upstream, even when the forward fails', async () => {
  const topic = await routedTopic(1, 'NORMAL');
  const group = uniq('ClusterDlqG');
  const p = await startProducer(proxy.address, topic, clients);
  const got: MessageView[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  const consumer = new PushConsumer({
    endpoints: proxy.address, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), logger: quietLogger(),
    messageListener: {
      async consume(m: MessageView) {
        got.push(m);
        await held;
        return ConsumeResult.SUCCESS;
      },
    },
  });
  await consumer.startup();
  clients.push(consumer);
  const raw = new RawClient(proxy.address);
  try {
    await p.send({ topic, body: Buffer.from('to the DLQ') });
    // The proxy keeps the push receipt invisible while the listener runs.
    const renewal = processor['renewal'];
    const m = await eventually(() => (got[0] && renewal.size === 1 ? got[0] : undefined), 15_000, 'the message received and tracked');
    // A forward the broker refuses (no message at that CommitLog offset): upstream has stopped
    // renewing the receipt before it forwards, so the message comes back once its time runs out.
    const parts = m.receiptHandle.split(' ');
    parts[parts.length - 1] = String(1e12);
    const forward = (handle: string): Promise<sv.ForwardMessageToDeadLetterQueueResponse> => raw.call(raw.client.forwardMessageToDeadLetterQueue,
      new S.ForwardMessageToDeadLetterQueueRequest().setGroup(new D.Resource().setName(group)).setTopic(new D.Resource().setName(topic))
        .setReceiptHandle(handle).setMessageId(m.messageId).setDeliveryAttempt(1).setMaxDeliveryAttempts(1));
    const failed = await forward(parts.join(' '));
    assert.notEqual(failed.getStatus()?.getCode(), D.Code.OK);
    assert.equal(renewal.size, 0, 'the receipt is no longer renewed');
    // The forward itself, with the handle the client holds: in the DLQ, the receipt acked.
    const ok = await forward(m.receiptHandle);
    assert.equal(ok.getStatus()?.getCode(), D.Code.OK, ok.getStatus()?.getMessage());
    assert.equal(fx.mq.broker.messageStore.getMaxOffsetInQueue(`%DLQ%${group}`, 0), 1);
  } finally {
    release();
    raw.close();
  }
});
