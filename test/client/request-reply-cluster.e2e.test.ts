import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { BrokerController } from '../../src/broker/index.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { createReplyMessage } from '../../src/client/request-reply.js';
import { defaultBrokerConfig, defaultMessageStoreConfig } from '../../src/common/config.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { createTopic, waitUntil } from './helpers.js';

// Request-reply in a cluster of two brokers: the request topic lives on broker-a only, while the
// replier may send its reply to the reply topic on either broker. The broker that takes the reply
// must know the requesting producer's connection, which a producer that never sent anything to
// it has only if it was told before the request went out (upstream prepareSendRequest).

const REPLY_TOPIC = 'DefaultCluster_REPLY_TOPIC';
const TOPIC = `RequestReplyCluster_${Date.now()}`;
const tmp = tempDir('rmq-request-reply-cluster-');
const logger = pino({ level: 'silent' });
let mq: Standalone;
let brokerB: BrokerController;
let requester: Producer;
let replier: Producer;
let responder: PushConsumer;

before(async () => {
  mq = await startStandalone({ storeDir: join(tmp.dir, 'a'), host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger });
  brokerB = new BrokerController({
    brokerConfig: { ...defaultBrokerConfig(), brokerName: 'broker-b', brokerIP1: '127.0.0.1', listenPort: 0, namesrvAddr: mq.namesrvAddr },
    storeConfig: { ...defaultMessageStoreConfig(), storePathRootDir: join(tmp.dir, 'b'), mappedFileSizeCommitLog: 4 * 1024 * 1024 },
    host: '127.0.0.1',
    logger,
  });
  await brokerB.start();
  const api = new MQClientAPI();
  try {
    await waitUntil(async () => (await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, REPLY_TOPIC)).brokerDatas.length === 2, 'the reply topic on both brokers');
  } finally {
    await api.shutdown();
  }
  await createTopic(mq.namesrvAddr, mq.brokerAddr, TOPIC, 2);
  requester = new Producer({ group: 'RRC_REQUESTER', namesrvAddr: mq.namesrvAddr, logger });
  replier = new Producer({ group: 'RRC_REPLIER', namesrvAddr: mq.namesrvAddr, logger });
  await requester.start();
  await replier.start();
  responder = new PushConsumer({ group: 'RRC_RESPONDER', namesrvAddr: mq.namesrvAddr, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET, logger });
  responder.subscribe(TOPIC, '*');
  responder.registerMessageListenerConcurrently(async (msgs) => {
    for (const m of msgs) {
      const brokerName = m.propertyMap.get('replyVia')!;
      await replier.send(createReplyMessage(m, `re:${m.body.toString()}`), { queue: { topic: REPLY_TOPIC, brokerName, queueId: 0 } });
    }
  });
  await responder.start();
});

after(async () => {
  await responder?.shutdown();
  await requester?.shutdown();
  await replier?.shutdown();
  await brokerB?.shutdown();
  await mq?.shutdown();
  tmp.cleanup();
});

test('a reply taken by another broker of the cluster than the request\'s reaches the requester', async () => {
  const viaB = await requester.request(new Message(TOPIC, 'first', { properties: { replyVia: 'broker-b' } }), { timeout: 8000 });
  assert.equal(viaB.body.toString(), 're:first');
  assert.equal(viaB.storeHost, brokerB.address, 'broker-b pushed the reply');
  const viaA = await requester.request(new Message(TOPIC, 'second', { properties: { replyVia: 'broker-a' } }), { timeout: 8000 });
  assert.equal(viaA.body.toString(), 're:second');
  assert.equal(viaA.storeHost, mq.brokerAddr);
});
