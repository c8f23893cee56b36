import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { waitUntil } from '../helpers/wait.js';
import { ons, useOnsStandalone, type OnsMessage } from './ons.js';

// Our client and ali-ons (the Node SDK many applications use) talking through our broker, both ways.

const ours: Array<{ shutdown(): Promise<void> }> = [];
const stamp = Date.now();
const env = useOnsStandalone('rmq-interop-', {
  async stopping() {
    for (const c of ours) await c.shutdown().catch(() => undefined);
  },
});

test('messages sent by ali-ons reach our PushConsumer with keys, tags and properties intact', async () => {
  const topic = `InteropFromOns_${stamp}`;
  const p = await env.producer('PID_INTEROP_1');
  const sent = new Map<string, { tags: string; keys: string[]; body: string; color: string }>();
  const send = async (i: number): Promise<void> => {
    const tags = i % 2 === 0 ? 'TagA' : 'TagB';
    // Large bodies are zlib-compressed by ali-ons: they must come out inflated.
    const body = i === 3 ? `big-${'y'.repeat(5000)}` : `ons-${i} ünïcödé`;
    const m = new ons.Message(topic, tags, body);
    m.keys = [`order-${i}`, `user-${i % 3}`];
    m.properties.color = i % 2 === 0 ? 'red' : 'blue';
    const r = await p.send(m);
    assert.equal(r.sendStatus, 'SEND_OK');
    sent.set(body, { tags, keys: [`order-${i}`, `user-${i % 3}`], body, color: m.properties.color });
  };
  await send(0);
  const got: MessageExt[] = [];
  const c = new PushConsumer({ group: `CID_INTEROP_OURS_${stamp}`, namesrvAddr: env.mq.namesrvAddr });
  ours.push(c);
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently(async (msgs) => { got.push(...msgs); });
  await c.start();
  for (let i = 1; i < 10; i++) await send(i);
  await waitUntil(() => got.length >= 10, 'the ten ali-ons messages', 20_000);
  assert.equal(got.length, 10);
  for (const m of got) {
    const want = sent.get(m.body.toString('utf8'));
    assert.ok(want, `unexpected body ${m.body.toString('utf8').slice(0, 30)}`);
    assert.equal(m.tags, want.tags);
    assert.deepEqual(m.keys, want.keys);
    assert.equal(m.propertyMap.get('color'), want.color);
    assert.equal(m.topic, topic);
  }
});

test('messages sent by our Producer reach an ali-ons Consumer with keys, tags and properties intact', async () => {
  const topic = `InteropToOns_${stamp}`;
  const producer = new Producer({ group: 'PID_INTEROP_OURS', namesrvAddr: env.mq.namesrvAddr });
  ours.push(producer);
  await producer.start();
  // The first send creates the topic; ali-ons then finds its route.
  await producer.send(new Message(topic, 'warm-up', { tags: 'TagA', keys: 'warm' }));
  const got: OnsMessage[] = [];
  const c = env.consumer(`CID_INTEROP_ONS_${stamp}`, 'interop');
  c.subscribe(topic, 'TagA || TagB', async (msg) => { got.push(msg); });
  await c.ready();
  const sent = new Map<string, { tags: string; keys: string; size: string; uniq: string }>();
  for (let i = 0; i < 10; i++) {
    const tags = ['TagA', 'TagB', 'TagC'][i % 3]!;
    const body = i === 4 ? `big-${'z'.repeat(6000)}` : `ours-${i}`;
    const m = new Message(topic, body, { tags, keys: [`k${i}`, `shared`], properties: { size: String(i * 10) } });
    const r = await producer.send(m);
    if (tags !== 'TagC') sent.set(body, { tags, keys: `k${i} shared`, size: String(i * 10), uniq: r.msgId });
  }
  await waitUntil(() => got.filter((m) => m.body.toString() !== 'warm-up').length >= sent.size, 'the TagA/TagB messages', 20_000);
  const real = got.filter((m) => m.body.toString() !== 'warm-up');
  assert.equal(real.length, sent.size, 'TagC filtered out, nothing twice');
  for (const m of real) {
    const want = sent.get(m.body.toString());
    assert.ok(want, `unexpected body ${m.body.toString().slice(0, 30)}`);
    assert.equal(m.tags, want.tags);
    assert.equal(m.keys, want.keys);
    assert.equal(m.properties.size, want.size);
    assert.equal(m.properties.UNIQ_KEY, want.uniq);
    assert.equal(m.topic, topic);
  }
});
