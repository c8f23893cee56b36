import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { LitePullConsumer } from '../../src/client/lite-pull-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import type { MessageQueue } from '../../src/client/route.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { createTopic, waitUntil } from './helpers.js';
import { Admin } from '../../src/admin/admin.js';
import { formatConsumerRunningInfo } from '../../src/client/consumer-running-info.js';

// LitePullConsumer against a real NameServer + Broker in this process.

let mq: Standalone;
let producer: Producer;
const consumers: LitePullConsumer[] = [];
const stamp = Date.now();

useStandalone('rmq-lite-e2e-', {
  async started(s) {
    mq = s;
    producer = new Producer({ group: 'LITE_E2E_PG', namesrvAddr: mq.namesrvAddr });
    await producer.start();
  },
  async stopping() {
    for (const c of consumers) await c.shutdown();
    await producer?.shutdown();
  },
});

function consumer(opts: ConstructorParameters<typeof LitePullConsumer>[0]): LitePullConsumer {
  const c = new LitePullConsumer({ namesrvAddr: mq.namesrvAddr, pollTimeoutMillis: 2000, ...opts });
  consumers.push(c);
  return c;
}

async function sendTo(q: MessageQueue, bodies: string[], tags?: string): Promise<void> {
  for (const b of bodies) await producer.send(new Message(q.topic, b, { tags }), { queue: q });
}

async function pollAll(c: LitePullConsumer, n: number, what: string): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  const until = Date.now() + 15_000;
  while (out.length < n) {
    if (Date.now() > until) throw new Error(`only ${out.length} of ${n} ${what}`);
    out.push(...await c.poll(500));
  }
  return out;
}

test('subscribe + poll: tag-filtered messages of every queue; for-await iterates them one by one', { skip }, async () => {
  const topic = `LiteSub_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 2);
  const c = consumer({ group: `LiteSubG_${stamp}`, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.subscribe(topic, 'A');
  await c.start();
  await waitUntil(() => c.assignment().length === 2, 'both queues assigned');
  for (const q of queues) await sendTo(q, ['a1', 'a2', 'a3'].map((b) => `${q.queueId}-${b}`), 'A');
  await sendTo(queues[0]!, ['skip'], 'B');
  const got = await pollAll(c, 6, 'messages');
  assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['0-a1', '0-a2', '0-a3', '1-a1', '1-a2', '1-a3']);
  assert.ok(got.every((m) => m.tags === 'A' && m.brokerName === queues[0]!.brokerName));
  await sendTo(queues[1]!, ['it-1', 'it-2'], 'A');
  const iterated: string[] = [];
  for await (const m of c) {
    iterated.push(m.body.toString());
    if (iterated.length === 2) break;
  }
  assert.deepEqual(iterated, ['it-1', 'it-2']);
});

test('assign + seek / seekToBegin / seekToEnd / offsetForTimestamp; commit and committed', { skip }, async () => {
  const topic = `LiteSeek_${stamp}`;
  const [q] = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 1);
  await sendTo(q!, ['m0', 'm1', 'm2', 'm3', 'm4']);
  await new Promise((r) => setTimeout(r, 20));
  const t = Date.now();
  await sendTo(q!, ['m5', 'm6']);
  const group = `LiteSeekG_${stamp}`;
  const c = consumer({ group, autoCommit: false, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.assign([q!]);
  await c.start();
  assert.deepEqual(c.assignment(), [q]);
  const first = await pollAll(c, 7, 'messages from the start');
  assert.deepEqual(first.map((m) => m.body.toString()), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  // Nothing committed without autoCommit; as upstream, the broker answers 0 for a young queue.
  assert.equal(await c.committed(q!), 0);
  await c.seek(q!, 3);
  const afterSeek = await pollAll(c, 4, 'messages after the seek');
  assert.deepEqual(afterSeek.map((m) => m.queueOffset), [3, 4, 5, 6]);
  await c.commit();
  assert.equal(await c.committed(q!), 7);
  await c.commit([{ mq: q!, offset: 2 }]);
  assert.equal(await c.committed(q!), 2);
  assert.equal(await c.offsetForTimestamp(q!, t), 5);
  await c.seekToBegin(q!);
  assert.equal((await c.poll(3000))[0]?.queueOffset, 0);
  await c.seekToEnd(q!);
  assert.deepEqual(await c.poll(200), []);
  await sendTo(q!, ['m7']);
  assert.equal((await pollAll(c, 1, 'the new message'))[0]!.body.toString(), 'm7');
  await assert.rejects(c.seek(q!, 99), /outside \[0, 8\]/);
  await assert.rejects(c.seek({ ...q!, queueId: 5 }, 0), /not assigned/);
});

test('pause holds a queue back until resume; autoCommit commits what poll returned', { skip }, async () => {
  const topic = `LitePause_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 2);
  const group = `LitePauseG_${stamp}`;
  const c = consumer({ group, autoCommitIntervalMillis: 100, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.assign(queues);
  await c.start();
  c.pause([queues[0]!]);
  assert.equal(c.isPaused(queues[0]!), true);
  await sendTo(queues[0]!, ['p0', 'p1']);
  await sendTo(queues[1]!, ['r0']);
  const got = await pollAll(c, 1, 'the unpaused queue');
  assert.deepEqual(got.map((m) => m.body.toString()), ['r0']);
  assert.deepEqual(await c.poll(300), [], 'nothing from the paused queue');
  c.resume([queues[0]!]);
  const resumed = await pollAll(c, 2, 'the resumed queue');
  assert.deepEqual(resumed.map((m) => m.body.toString()), ['p0', 'p1']);
  // The next poll after autoCommitIntervalMillis commits; shutdown persists.
  await new Promise((r) => setTimeout(r, 120));
  await c.poll(0);
  await c.shutdown();
  const api = new MQClientAPI();
  assert.equal(await api.queryConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0 }), 2);
  assert.equal(await api.queryConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 1 }), 1);
  await api.shutdown();
});

test('a second subscriber of the group gets half of the queues; a restart resumes after the committed offset', { skip }, async () => {
  const topic = `LiteGroup_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 4);
  const group = `LiteGroupG_${stamp}`;
  const a = consumer({ group });
  a.subscribe(topic);
  await a.start();
  await waitUntil(() => a.assignment().length === 4, 'a has all four');
  const b = consumer({ group });
  b.subscribe(topic);
  await b.start();
  await waitUntil(() => a.assignment().length === 2 && b.assignment().length === 2, 'two each');
  for (const q of queues) await sendTo(q, [`g-${q.queueId}`]);
  const fromA = await pollAll(a, 2, 'a');
  const fromB = await pollAll(b, 2, 'b');
  assert.deepEqual([...fromA, ...fromB].map((m) => m.body.toString()).sort(), ['g-0', 'g-1', 'g-2', 'g-3']);
  await a.commit();
  await a.shutdown();
  await waitUntil(() => b.assignment().length === 4, 'b takes over');
  for (const q of queues) await sendTo(q, [`h-${q.queueId}`]);
  const after = await pollAll(b, 4, 'after a left');
  assert.deepEqual(after.map((m) => m.body.toString()).sort(), ['h-0', 'h-1', 'h-2', 'h-3'], 'nothing a consumed comes again');
});

test('GET_CONSUMER_RUNNING_INFO: a lite pull consumer reports its settings, subscriptions and queues', { skip }, async () => {
  const topic = `LiteInfo_${stamp}`;
  const group = `LiteInfoG_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 2);
  const c = consumer({ group, pullBatchSize: 3, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  c.subscribe(topic, 'A');
  await c.start();
  await waitUntil(() => c.assignment().length === 2, 'both queues assigned');
  await sendTo(queues[1]!, ['x1', 'x2'], 'A');
  await pollAll(c, 2, 'messages');
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  try {
    const info = await admin.getConsumerRunningInfo(group, c.clientId);
    assert.equal(info.properties.PROP_CONSUME_TYPE, 'CONSUME_ACTIVELY');
    assert.equal(info.properties.pullBatchSize, '3');
    assert.equal(info.properties.autoCommit, 'true');
    assert.deepEqual(info.subscriptionSet.map((s) => `${s.topic} ${s.subString}`), [`${topic} A`]);
    assert.deepEqual(info.mqTable.map((e) => e.mq.queueId), [0, 1]);
    assert.equal(info.statusTable.size, 0, 'upstream\'s lite pull consumer keeps no speed figures');
    assert.equal(formatConsumerRunningInfo(info).includes(`${topic}`), true);
  } finally {
    await admin.shutdown();
  }
});

test('a paused queue holding pullThresholdForAll fetched messages does not stall the other queues', { skip }, async () => {
  const topic = `LitePauseStall_${stamp}`;
  const [q0, q1] = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 2);
  for (let i = 0; i < 25; i++) await producer.send(new Message(topic, `q0-${i}`), { queue: q0! });
  const c = new LitePullConsumer({
    group: `LitePauseStallG_${stamp}`, namesrvAddr: mq.namesrvAddr, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET,
    pullBatchSize: 10, pullThresholdForAll: 10, brokerSuspendMaxTimeMillis: 500, autoCommit: false,
  });
  c.assign([q0!, q1!]);
  await c.start();
  try {
    // q0's first batch fills the overall threshold; q1 long-polls its empty queue.
    await new Promise((r) => setTimeout(r, 1500));
    c.pause([q0!]);
    // poll() holds back the paused queue's messages, so they must not count against pullThresholdForAll.
    await new Promise((r) => setTimeout(r, 1000));
    await producer.send(new Message(topic, 'q1-new'), { queue: q1! });
    const got: string[] = [];
    const until = Date.now() + 8000;
    while (!got.includes('q1-new') && Date.now() < until) got.push(...(await c.poll(500)).map((m) => m.body.toString()));
    assert.ok(got.includes('q1-new'), `q1's message polled within 8 s while q0 is paused (got ${JSON.stringify(got)})`);
  } finally {
    await c.shutdown();
  }
});

test('a queue whose unpolled messages span more than consumeMaxSpan is not pulled until poll() takes them', { skip }, async () => {
  const topic = `LiteSpan_${stamp}`;
  const group = `LiteSpanG_${stamp}`;
  const [q] = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 1);
  await sendTo(q!, Array.from({ length: 30 }, (_, i) => `s${i}`));
  const c = consumer({ group, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET, pullBatchSize: 10, consumeMaxSpan: 5, autoCommit: false });
  c.assign([q!]);
  await c.start();
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  try {
    const cached = async (): Promise<number> => (await admin.getConsumerRunningInfo(group, c.clientId)).mqTable[0]?.info.cachedMsgCount ?? -1;
    await waitUntil(async () => (await cached()) === 10, 'the first pull held');
    // Offsets 0..9 span 9 > 5: no second pull while they wait (the count limits are far away).
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await cached(), 10);
    const got: string[] = [];
    const until = Date.now() + 10_000;
    while (got.length < 30 && Date.now() < until) got.push(...(await c.poll(500)).map((m) => m.body.toString()));
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => `s${i}`));
  } finally {
    await admin.shutdown();
  }
});

test('a topic queue change listener is told when the topic gains queues, as upstream registerTopicMessageQueueChangeListener', { skip }, async () => {
  const topic = `LITE_QCHG_${stamp}`;
  const queues = await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 2);
  const c = consumer({ group: `LITE_QCHG_G_${stamp}`, topicMetadataCheckIntervalMillis: 200 });
  const told: number[][] = [];
  await assert.rejects(c.registerTopicMessageQueueChangeListener('', () => undefined), /Topic or listener is null/);
  await c.registerTopicMessageQueueChangeListener(topic, (t, mqs) => {
    assert.equal(t, topic);
    told.push(mqs.map((q) => q.queueId));
  });
  c.assign([queues[0]!]);
  await c.start();
  // Nothing changed since start: nothing is told.
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual(told, []);
  await createTopic(mq.namesrvAddr, mq.brokerAddr, topic, 4);
  await waitUntil(() => told.length > 0, 'the listener told of the new queues');
  assert.deepEqual(told[0], [0, 1, 2, 3]);
});
