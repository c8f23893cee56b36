import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import DurationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MQClientAPI } from '../../src/client/index.js';
import { createLogger } from '../../src/common/logger.js';
import { ClusterMessagingProcessor } from '../../src/proxy/cluster-messaging-processor.js';
import { ProxyController } from '../../src/proxy/proxy-controller.js';
import { createGroup, createTopic, eventually, FAST_PROXY, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// ReceiveMessageRequest.attempt_id on a FIFO group, as rocketmq-client-nodejs's PushConsumer sends
// it and reuses when a receive fails: the retried receive gets the messages the lost answer
// carried, with the same delivery attempt, while receives of other attempts find the queue
// blocked. Through the proxy of the standalone (local mode) and a separate proxy that pops from
// the broker over Remoting (cluster mode).

let fx: ProxyFixture;
let cluster: ProxyController;
let api: MQClientAPI;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone();
  cluster = new ProxyController({
    config: { ...FAST_PROXY, grpcServerPort: 0 },
    processor: new ClusterMessagingProcessor({ namesrvAddr: fx.mq.namesrvAddr, logger: createLogger('attempt-test'), heartbeatIntervalMs: 1000 }),
    defaultBrokerName: () => '',
  });
  await cluster.start();
  api = new MQClientAPI();
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await api?.shutdown();
  await cluster?.shutdown();
  await fx?.stop();
});

/** One ReceiveMessage of queue 0 over a raw client, with `attemptId` when given: bodies and delivery attempts. */
function receive(raw: RawClient, group: string, topic: string, attemptId?: string): Promise<Array<[string, number]>> {
  const req = new S.ReceiveMessageRequest().setGroup(new D.Resource().setName(group))
    .setMessageQueue(new D.MessageQueue().setTopic(new D.Resource().setName(topic)).setId(0).setBroker(new D.Broker().setName('broker-a')))
    .setFilterExpression(new D.FilterExpression().setType(D.FilterType.TAG).setExpression('*')).setBatchSize(32).setAutoRenew(false)
    .setInvisibleDuration(new DurationPb.Duration().setSeconds(30))
    .setLongPollingTimeout(new DurationPb.Duration().setSeconds(0));
  if (attemptId !== undefined) req.setAttemptId(attemptId);
  return new Promise((resolve, reject) => {
    const out: Array<[string, number]> = [];
    const call = raw.client.receiveMessage(req, raw.metadata(), { deadline: Date.now() + 10_000 });
    call.on('data', (r: sv.ReceiveMessageResponse) => {
      if (r.hasMessage()) out.push([Buffer.from(r.getMessage()!.getBody_asU8()).toString(), r.getMessage()!.getSystemProperties()!.getDeliveryAttempt() ?? 0]);
    });
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

for (const mode of ['local', 'cluster'] as const) {
  test(`FIFO receive retried with its attempt_id gets the same messages, same delivery attempt; other attempts wait (${mode} mode)`, async () => {
    const endpoint = mode === 'local' ? fx.mq.proxyAddr : cluster.address;
    const topic = uniq('AttemptFifo');
    const group = uniq('AttemptFifoG');
    createTopic(fx.mq, topic, 1, 'FIFO');
    createGroup(fx.mq, group, { consumeMessageOrderly: true });
    if (mode === 'cluster') {
      await eventually(async () => (await api.getTopicRouteInfoFromNameServer(fx.mq.namesrvAddr, topic).catch(() => undefined))?.queueDatas.length ? true : undefined, 10_000, `the route of ${topic}`);
    }
    const p = new Producer({ endpoints: endpoint, namespace: '', topic, logger: quietLogger() });
    await p.startup();
    clients.push(p);
    for (const body of ['m1', 'm2']) await p.send({ topic, messageGroup: 'g', body: Buffer.from(body) });

    const raw = new RawClient(endpoint);
    try {
      const first = await eventually(async () => {
        const got = await receive(raw, group, topic, 'recv-1');
        return got.length > 0 ? got : undefined;
      }, 10_000, 'the first receive');
      assert.deepEqual(first, [['m1', 1], ['m2', 1]]);
      assert.deepEqual(await receive(raw, group, topic, 'recv-2'), [], 'another attempt: the queue is blocked');
      assert.deepEqual(await receive(raw, group, topic), [], 'no attempt id: blocked');
      assert.deepEqual(await receive(raw, group, topic, 'recv-1'), [['m1', 1], ['m2', 1]], 'the retried attempt: same messages, not counted again');
    } finally {
      raw.close();
    }
  });
}
