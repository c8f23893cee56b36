import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { MQClientAPI, PullStatus, SendStatus, type SendResult } from '../../src/client/mq-client-api.js';
import type { MessageQueue } from '../../src/client/route.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';

// Client against a real NameServer + Broker in this process (src/standalone.ts).

let mq: Standalone;
let producer: Producer;
let consumer: PullConsumer;
let api: MQClientAPI;
const stamp = Date.now();

useStandalone('rmq-client-e2e-', {
  async started(s) {
    mq = s;
    producer = new Producer({ group: 'E2E_PG', namesrvAddr: mq.namesrvAddr });
    consumer = new PullConsumer({ group: 'E2E_CG', namesrvAddr: mq.namesrvAddr });
    api = new MQClientAPI();
    await producer.start();
    await consumer.start();
  },
  async stopping() {
    await producer?.shutdown();
    await consumer?.shutdown();
    await api?.shutdown();
  },
});

/** The topic's readable queues, once the broker has registered the topic with the NameServer. */
function queuesOf(topic: string): Promise<MessageQueue[]> {
  return waitFor(`route of ${topic}`, () => consumer.fetchSubscribeMessageQueues(topic));
}

async function pullAll(mq: MessageQueue, sub = '*'): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  while (true) {
    const r = await consumer.pull(mq, sub, offset, 32);
    if (r.pullStatus === PullStatus.FOUND || r.pullStatus === PullStatus.NO_MATCHED_MSG) {
      out.push(...r.msgFoundList);
      if (r.nextBeginOffset <= offset) break;
      offset = r.nextBeginOffset;
      continue;
    }
    return out;
  }
  return out;
}

test('a new topic is sent through the TBW102 route and then gets its own route with min(4, 8) queues', { skip }, async () => {
  const topic = `E2E_Auto_${stamp}`;
  const r = await producer.send(new Message(topic, 'first'));
  assert.equal(r.sendStatus, SendStatus.SEND_OK);
  assert.equal(r.messageQueue.topic, topic);
  const info = await waitFor('the real route', async () => {
    const i = await producer.updateTopicRouteInfo(topic);
    return i?.haveTopicRouterInfo ? i : undefined;
  });
  assert.equal(info.messageQueueList.length, 4);
  assert.equal(info.brokerAddr(r.messageQueue.brokerName), mq.brokerAddr);
});

test('a send to a queue of another topic is refused, sync and oneway, and nothing is stored', { skip }, async () => {
  const topic = `E2E_QueueTopic_${stamp}`;
  const other = `E2E_QueueOther_${stamp}`;
  await producer.send(new Message(topic, 'first'));
  await producer.send(new Message(other, 'first'));
  const [otherQueue] = await producer.fetchPublishMessageQueues(other);
  const before = await api.getMaxOffset(mq.brokerAddr, other, otherQueue!.queueId);
  const refused = (e: unknown): boolean => e instanceof MQClientError && e.code === ClientErrorCode.ARGUMENT_ILLEGAL && /not a queue of topic/.test(e.message);
  await assert.rejects(producer.send(new Message(topic, 'x'), { queue: otherQueue }), refused);
  await assert.rejects(producer.sendOneway(new Message(topic, 'x'), { queue: otherQueue }), refused);
  assert.equal(await api.getMaxOffset(mq.brokerAddr, other, otherQueue!.queueId), before);
});

test('send → pull round trip keeps body, keys, tags, properties and ids', { skip }, async () => {
  const topic = `E2E_RoundTrip_${stamp}`;
  const sent = new Map<string, { result: SendResult; i: number }>();
  for (let i = 0; i < 12; i++) {
    const msg = new Message(topic, `body-${i}`, {
      tags: i % 2 === 0 ? 'TagA' : 'TagB', keys: [`k${i}`, 'common'], properties: { idx: String(i), color: 'blue' }, flag: i,
    });
    const result = await producer.send(msg);
    assert.equal(result.sendStatus, SendStatus.SEND_OK);
    assert.equal(result.msgId, msg.uniqKey);
    sent.set(result.msgId, { result, i });
  }
  const queues = await queuesOf(topic);
  const got: MessageExt[] = [];
  for (const q of queues) got.push(...(await pullAll(q)));
  assert.equal(got.length, 12);
  for (const m of got) {
    const s = sent.get(m.msgId);
    assert.ok(s, `pulled unknown message ${m.msgId}`);
    assert.equal(m.topic, topic);
    assert.equal(m.body.toString(), `body-${s.i}`);
    assert.equal(m.tags, s.i % 2 === 0 ? 'TagA' : 'TagB');
    assert.deepEqual(m.keys, [`k${s.i}`, 'common']);
    assert.equal(m.propertyMap.get('idx'), String(s.i));
    assert.equal(m.propertyMap.get('color'), 'blue');
    assert.equal(m.flag, s.i);
    assert.equal(m.queueId, s.result.messageQueue.queueId);
    assert.equal(m.queueOffset, s.result.queueOffset);
    assert.equal(m.offsetMsgId, s.result.offsetMsgId);
  }
  const tagA: MessageExt[] = [];
  for (const q of queues) tagA.push(...(await pullAll(q, 'TagA')));
  assert.equal(tagA.length, 6);
  assert.ok(tagA.every((m) => m.tags === 'TagA'));
});

test('a batch is stored as separate messages in one queue, in order', { skip }, async () => {
  const topic = `E2E_Batch_${stamp}`;
  const msgs = Array.from({ length: 5 }, (_, i) => new Message(topic, `batch-${i}`, { keys: `bk${i}` }));
  const r = await producer.send(msgs);
  assert.equal(r.sendStatus, SendStatus.SEND_OK);
  assert.equal(r.msgId, msgs.map((m) => m.uniqKey).join(','));
  assert.equal(r.offsetMsgId.split(',').length, 5);
  await queuesOf(topic);
  const p = await consumer.pull(r.messageQueue, '*', r.queueOffset, 32);
  assert.equal(p.pullStatus, PullStatus.FOUND);
  assert.deepEqual(p.msgFoundList.map((m) => m.body.toString()), msgs.map((_, i) => `batch-${i}`));
  assert.deepEqual(p.msgFoundList.map((m) => m.msgId), msgs.map((m) => m.uniqKey));
  assert.deepEqual(p.msgFoundList.map((m) => m.keys), msgs.map((_, i) => [`bk${i}`]));
});

test('a body over 4 KiB is stored compressed and pulled back whole', { skip }, async () => {
  const topic = `E2E_Compress_${stamp}`;
  const body = Buffer.from('RocketMQ compresses this. '.repeat(400));
  const r = await producer.send(new Message(topic, body, { tags: 'Big' }));
  await queuesOf(topic);
  const p = await consumer.pull(r.messageQueue, 'Big', r.queueOffset, 1);
  assert.equal(p.pullStatus, PullStatus.FOUND);
  const m = p.msgFoundList[0]!;
  assert.deepEqual(m.body, body);
  assert.equal(m.sysFlag & 1, 0);
  assert.ok(m.storeSize < body.length, `stored record of ${m.storeSize} bytes should be smaller than the ${body.length}-byte body`);
  const viewed = await api.viewMessage(mq.brokerAddr, m.commitLogOffset);
  assert.deepEqual(viewed.body, body);
});

test('consumer offsets: none, commit, query, oneway commit; queue offsets', { skip }, async () => {
  const topic = `E2E_Offsets_${stamp}`;
  const results: SendResult[] = [];
  for (let i = 0; i < 4; i++) results.push(await producer.send(new Message(topic, `o${i}`), { queue: undefined }));
  const q = results[0]!.messageQueue;
  await queuesOf(topic);
  assert.equal(await api.queryConsumerOffset(mq.brokerAddr, { consumerGroup: 'E2E_NEW_GROUP', topic, queueId: q.queueId, setZeroIfNotFound: false }), -1);
  await consumer.updateConsumerOffset(q, 1);
  assert.equal(await consumer.queryConsumerOffset(q), 1);
  await consumer.updateConsumerOffset(q, 2, { oneway: true });
  await waitFor('the oneway commit', async () => ((await consumer.queryConsumerOffset(q)) === 2 ? true : undefined), 5000);
  const perQueue = results.filter((r) => r.messageQueue.queueId === q.queueId).length;
  assert.equal(await consumer.maxOffset(q), perQueue);
  assert.equal(await consumer.minOffset(q), 0);
  const earliest = await consumer.earliestMsgStoreTime(q);
  assert.ok(earliest > stamp - 60_000 && earliest <= Date.now());
  assert.equal(await consumer.searchOffset(q, 0), 0);
});

test('the JSON header serialization works against the broker too', { skip }, async () => {
  const p = new Producer({ group: 'E2E_JSON_PG', namesrvAddr: mq.namesrvAddr, serializeType: 'JSON' });
  await p.start();
  try {
    const r = await p.send(new Message(`E2E_Json_${stamp}`, 'json'));
    assert.equal(r.sendStatus, SendStatus.SEND_OK);
  } finally {
    await p.shutdown();
  }
});

test('a new connection to a broker carries the producer\'s heartbeat first: the broker knows the group from the first send', { skip }, async () => {
  const group = `PG_Connect_${stamp}`;
  const topic = `ProducerConnect_${stamp}`;
  // The periodic heartbeat (30 s by default) is far away: only the connection's first heartbeat can register the group.
  const p = new Producer({ group, namesrvAddr: mq.namesrvAddr });
  await p.start();
  try {
    await p.send(new Message(topic, 'first'));
    const conns = await api.getProducerConnectionList(mq.brokerAddr, group);
    assert.deepEqual(conns.connectionSet.map((c) => c.clientId), [p.clientId]);
  } finally {
    await p.shutdown();
  }
});
