import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer as GrpcProducer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MQClientAPI, Message, Producer as RemotingProducer, PullStatus } from '../../src/client/index.js';
import { buildPullSysFlag } from '../../src/common/sysflag.js';
import { createTopic, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Priority 1 of the gRPC endpoint: routes, the Telemetry settings exchange, heartbeats and
// client termination; and messages crossing protocols — sent by the 5.x Producer and pulled
// over Remoting, sent over Remoting and received by the 5.x SimpleConsumer.

let fx: ProxyFixture;
const topic = uniq('GrpcBasics');

before(async () => {
  fx = await startProxyStandalone();
  createTopic(fx.mq, topic, 4, 'NORMAL');
});

after(async () => {
  await fx?.stop();
});

function resource(name: string): InstanceType<typeof D.Resource> {
  return new D.Resource().setName(name);
}

test('QueryRoute lists queue 0..n-1 read-write on the broker, at the endpoint the client dialled', async () => {
  const raw = new RawClient(fx.mq.proxyAddr);
  try {
    const [host, port] = fx.mq.proxyAddr.split(':') as [string, string];
    const ep = new D.Endpoints().setScheme(D.AddressScheme.IPV4).setAddressesList([new D.Address().setHost(host).setPort(Number(port))]);
    const res = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(resource(topic)).setEndpoints(ep));
    assert.equal(res.getStatus()?.getCode(), D.Code.OK);
    const queues = res.getMessageQueuesList();
    assert.deepEqual(queues.map((q) => q.getId()), [0, 1, 2, 3]);
    for (const q of queues) {
      assert.equal(q.getTopic()?.getName(), topic);
      assert.equal(q.getPermission(), D.Permission.READ_WRITE);
      assert.equal(q.getBroker()?.getName(), fx.mq.broker.brokerConfig.brokerName);
      assert.equal(q.getBroker()?.getId(), 0);
      assert.equal(q.getBroker()?.getEndpoints()?.getAddressesList()[0]?.getPort(), Number(port));
      assert.deepEqual(q.getAcceptMessageTypesList(), [D.MessageType.NORMAL]);
    }
  } finally {
    raw.close();
  }
});

test('Telemetry answers settings with the retry policy and limits; Heartbeat needs them; NotifyClientTermination unregisters', async () => {
  const raw = new RawClient(fx.mq.proxyAddr);
  try {
    const hb = await raw.call<sv.HeartbeatRequest, sv.HeartbeatResponse>(raw.client.heartbeat, new S.HeartbeatRequest().setClientType(D.ClientType.PRODUCER));
    assert.equal(hb.getStatus()?.getCode(), D.Code.UNRECOGNIZED_CLIENT_TYPE);

    const stream = raw.client.telemetry(raw.metadata());
    const reply = new Promise<sv.TelemetryCommand>((resolve, reject) => {
      stream.once('data', resolve);
      stream.once('error', reject);
    });
    const settings = new D.Settings().setClientType(D.ClientType.PRODUCER)
      .setPublishing(new D.Publishing().setTopicsList([resource(topic)]).setValidateMessageType(true));
    stream.write(new S.TelemetryCommand().setSettings(settings));
    const cmd = await reply;
    assert.equal(cmd.getStatus()?.getCode(), D.Code.OK);
    const s = cmd.getSettings()!;
    assert.equal(s.getClientType(), D.ClientType.PRODUCER);
    assert.equal(s.getBackoffPolicy()?.getStrategyCase(), D.RetryPolicy.StrategyCase.EXPONENTIAL_BACKOFF);
    assert.equal(s.getPublishing()?.getMaxBodySize(), fx.mq.broker.storeConfig.maxMessageSize);
    assert.equal(s.getPublishing()?.getValidateMessageType(), true);
    assert.equal(s.getMetric()?.getOn(), false);
    assert.ok(fx.mq.broker.producerManager.getAvailableChannel(topic), 'the producer is registered under its topic');

    const hb2 = await raw.call<sv.HeartbeatRequest, sv.HeartbeatResponse>(raw.client.heartbeat, new S.HeartbeatRequest().setClientType(D.ClientType.PRODUCER));
    assert.equal(hb2.getStatus()?.getCode(), D.Code.OK);

    const bye = await raw.call<sv.NotifyClientTerminationRequest, sv.NotifyClientTerminationResponse>(raw.client.notifyClientTermination, new S.NotifyClientTerminationRequest());
    assert.equal(bye.getStatus()?.getCode(), D.Code.OK);
    assert.equal(fx.mq.broker.producerManager.getAvailableChannel(topic), undefined);
    const ended = new Promise<void>((resolve) => stream.once('end', () => resolve()));
    stream.on('data', () => undefined);
    stream.end();
    await ended;
  } finally {
    raw.close();
  }
});

test('a message sent by the 5.x Producer is pulled over Remoting with its tag, keys and properties', async () => {
  const producer = new GrpcProducer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  const api = new MQClientAPI();
  try {
    await producer.startup();
    const receipt = await producer.send({
      topic, tag: 'created', keys: ['order-1', 'order-2'], properties: new Map([['source', 'web'], ['n', '42']]), body: Buffer.from('grpc → remoting'),
    });
    assert.match(receipt.messageId, /^01[0-9A-F]{32}$/);
    let found;
    for (let q = 0; q < 4 && !found; q++) {
      const r = await api.pullMessage(fx.mq.brokerAddr, {
        consumerGroup: uniq('PullG'), topic, queueId: q, queueOffset: 0, maxMsgNums: 32, sysFlag: buildPullSysFlag(false, false, true),
        commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0, expressionType: 'TAG',
      }, 3000);
      if (r.pullStatus === PullStatus.FOUND) found = r.msgFoundList.find((m) => m.msgId === receipt.messageId);
    }
    assert.ok(found, 'the message is in one of the queues');
    assert.equal(found.topic, topic);
    assert.equal(found.tags, 'created');
    assert.deepEqual(found.keys, ['order-1', 'order-2']);
    assert.equal(found.propertyMap.get('source'), 'web');
    assert.equal(found.propertyMap.get('n'), '42');
    assert.equal(found.body.toString(), 'grpc → remoting');
    assert.equal(found.queueOffset, receipt.offset);
  } finally {
    await producer.shutdown();
    await api.shutdown();
  }
});

test('a message sent over Remoting (compressed body) reaches the 5.x SimpleConsumer with its tag, keys and properties', async () => {
  const group = uniq('SimpleG');
  const t2 = uniq('FromRemoting');
  createTopic(fx.mq, t2, 2);
  const remoting = new RemotingProducer({ namesrvAddr: fx.mq.namesrvAddr, group: uniq('PG') });
  const consumer = new SimpleConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[t2, 'paid||shipped']]), awaitDuration: 3000, logger: quietLogger(),
  });
  try {
    await remoting.start();
    const big = Buffer.alloc(10_000, 'x'); // over compressMsgBodyOverHowmuch: stored zlib-compressed
    await remoting.send(new Message(t2, 'skip me', { tags: 'other' }));
    const sent = await remoting.send(new Message(t2, big, { tags: 'paid', keys: ['k1', 'k2'], properties: { region: 'eu' } }));
    await consumer.startup();
    const got = await consumer.receive(16, 5000);
    assert.equal(got.length, 1, 'only the message whose tag matches');
    const m = got[0]!;
    assert.equal(m.messageId, sent.msgId);
    assert.equal(m.topic, t2);
    assert.equal(m.tag, 'paid');
    assert.deepEqual(m.keys, ['k1', 'k2']);
    assert.equal(m.properties.get('region'), 'eu');
    assert.equal(m.properties.has('TAGS'), false, 'system properties are not user properties');
    assert.equal(m.body.length, big.length);
    assert.equal(m.corrupted, undefined);
    assert.equal(m.deliveryAttempt, 1);
    await consumer.ack(m);
  } finally {
    await consumer.shutdown();
    await remoting.shutdown();
  }
});
