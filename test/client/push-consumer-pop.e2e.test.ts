import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { Admin } from '../../src/admin/index.js';
import { formatConsumerRunningInfo } from '../../src/client/consumer-running-info.js';
import { ConsumeConcurrentlyStatus } from '../../src/client/consume-message-service.js';
import type { PushConsumer } from '../../src/client/push-consumer.js';
import { usePushFixture } from './push-fixture.js';
import { skip } from './standalone-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// Push consumers with clientRebalance=false against a real NameServer + Broker: the broker
// assigns the queues (QUERY_ASSIGNMENT), in POP mode once the group is switched with
// SET_MESSAGE_REQUEST_MODE (mqadmin setConsumeMode), as upstream RebalanceImpl.getRebalanceResultFromBroker,
// DefaultMQPushConsumerImpl.popMessage and ConsumeMessagePopConcurrentlyService.

const f = usePushFixture('rmq-push-pop-', 'PopModePG');

async function setMode(topic: string, group: string, mode: 'PULL' | 'POP', popShareQueueNum = 0): Promise<void> {
  const api = new MQClientAPI();
  try {
    await api.setMessageRequestMode(f.mq.brokerAddr, { topic, consumerGroup: group, mode, popShareQueueNum });
  } finally {
    await api.shutdown();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('POP mode: two consumers share one queue, both receive, and every message is consumed once', { skip }, async () => {
  const topic = 'PopShareT';
  const group = 'PopShareG';
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 1);
  await setMode(topic, group, 'POP');
  const got = new Map<string, string[]>();
  const consumers: PushConsumer[] = [];
  for (const name of ['a', 'b']) {
    // Few messages in hand per consumer, each taking a while: the other consumer must take its share.
    const c = f.consumer({ group, instanceName: `pop-share-${name}`, clientRebalance: false, popBatchNums: 2, popThresholdForQueue: 1, consumeThreadMax: 2 });
    c.subscribe(topic, '*');
    c.registerMessageListenerConcurrently(async (msgs) => {
      for (const m of msgs) {
        const body = m.body.toString();
        got.set(body, [...(got.get(body) ?? []), name]);
      }
      await sleep(20);
    });
    consumers.push(c);
  }
  for (const c of consumers) await c.start();
  // The broker gives each the topic's one broker in POP mode (queueId -1: every queue), and the retry topic to pull.
  await waitUntil(() => consumers.every((c) => c.popAssignment().some((mq) => mq.topic === topic && mq.queueId === -1)), 'both POP assignments');
  for (const c of consumers) {
    assert.deepEqual(c.popAssignment().map((mq) => [mq.topic, mq.queueId]), [[topic, -1]]);
    assert.ok(c.assignment().every((mq) => mq.topic !== topic), 'the topic itself is not pulled');
  }
  const n = 40;
  for (let i = 0; i < n; i++) await f.producer.send(new Message(topic, Buffer.from(`m${i}`)));
  await waitUntil(() => got.size === n, `all ${n} messages consumed (have ${got.size})`, 30_000);
  // Nothing comes twice: each was acked once consumed (a second delivery would follow only a missed ack).
  await sleep(500);
  const twice = [...got].filter(([, by]) => by.length !== 1);
  assert.deepEqual(twice, [], 'every message is consumed exactly once');
  const by = (name: string): number => [...got.values()].filter((v) => v[0] === name).length;
  assert.ok(by('a') > 0 && by('b') > 0, `both consumers received: a=${by('a')} b=${by('b')}`);
  // Its running info (mqadmin consumerStatus) lists the POP queue, as upstream's mqPopTable.
  const admin = new Admin({ namesrvAddr: f.mq.namesrvAddr });
  await admin.start();
  try {
    const info = await admin.getConsumerRunningInfo(group, consumers[0]!.clientId);
    assert.deepEqual(info.mqPopTable?.map(({ mq, info: p }) => [mq.topic, mq.queueId, p.droped]), [[topic, -1, false]]);
    const report = formatConsumerRunningInfo(info);
    assert.match(report.slice(report.indexOf('#Consumer Pop Detail#')), new RegExp(`^${topic} +\\S+ +-1 +PopProcessQueueInfo \\[waitAckCount:\\d+, droped:false`, 'm'));
  } finally {
    await admin.shutdown();
  }
});

test('POP mode: a failed message is made invisible for its retry level and delivered again', { skip }, async () => {
  const topic = 'PopRetryT';
  const group = 'PopRetryG';
  await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 2);
  await setMode(topic, group, 'POP');
  const deliveries = new Map<string, number[]>();
  const c = f.consumer({ group, instanceName: 'pop-retry', clientRebalance: false, popDelayLevel: [1, 1], logger: pino({ level: 'silent' }) });
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently((msgs) => {
    let failed = false;
    for (const m of msgs) {
      const body = m.body.toString();
      const seen = deliveries.get(body) ?? [];
      deliveries.set(body, [...seen, m.reconsumeTimes]);
      // Each message fails its first delivery: one by status, one by throwing.
      if (seen.length === 0) failed = true;
      if (seen.length === 0 && body === 'r1') throw new Error('listener failure');
    }
    return failed ? ConsumeConcurrentlyStatus.RECONSUME_LATER : ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
  });
  await c.start();
  await waitUntil(() => c.popAssignment().some((mq) => mq.topic === topic), 'the POP assignment');
  for (const body of ['r0', 'r1', 'r2']) await f.producer.send(new Message(topic, Buffer.from(body)));
  await waitUntil(() => ['r0', 'r1', 'r2'].every((b) => (deliveries.get(b)?.length ?? 0) >= 2), 'every message delivered again', 30_000);
  await sleep(1500);
  // First delivery, then one more after the 1 s invisible time, from the group's POP retry topic — then acked, so no third.
  for (const b of ['r0', 'r1', 'r2']) assert.deepEqual(deliveries.get(b), [0, 1], `deliveries of ${b}`);
});

test('clientRebalance=false with the broker\'s default PULL mode pulls the queues the broker assigns', { skip }, async () => {
  const topic = 'PopPullT';
  const group = 'PopPullG';
  const mqs = await createTopic(f.mq.namesrvAddr, f.mq.brokerAddr, topic, 2);
  const got: string[] = [];
  const c = f.consumer({ group, instanceName: 'pop-pull', clientRebalance: false });
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently((msgs) => { for (const m of msgs) got.push(m.body.toString()); });
  await c.start();
  await waitUntil(() => c.assignment().filter((mq) => mq.topic === topic).length === 2, 'the PULL assignment');
  assert.deepEqual(c.assignment().filter((mq) => mq.topic === topic), mqs);
  assert.deepEqual(c.popAssignment(), []);
  for (let i = 0; i < 4; i++) await f.producer.send(new Message(topic, Buffer.from(`p${i}`)));
  await waitUntil(() => got.length === 4, 'the pulled messages');
  assert.deepEqual([...got].sort(), ['p0', 'p1', 'p2', 'p3']);
});
