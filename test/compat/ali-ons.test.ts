import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { ons, useOnsStandalone, type OnsMessage } from './ons.js';

// ali-ons is CommonJS; it is used exactly as an application would use it.

const env = useOnsStandalone('rmq-alions-');

test('ali-ons Producer sends to a topic that does not exist yet; its Consumer gets exactly the TagA messages intact', async () => {
  const topic = 'AliOnsNewTopic';
  const p = await env.producer('PID_ALIONS_1');
  const sent = new Map<string, { tags: string; key: string; body: string }>();
  for (let i = 0; i < 40; i++) {
    const tags = i % 2 === 0 ? 'TagA' : 'TagB';
    const body = `hello ${i} ${'x'.repeat(i * 3)}`;
    const msg = new ons.Message(topic, tags, body);
    msg.keys = [`key-${i}`];
    const r = await p.send(msg);
    assert.equal(r.sendStatus, 'SEND_OK');
    sent.set(`key-${i}`, { tags, key: `key-${i}`, body });
  }
  const got: OnsMessage[] = [];
  const c = env.consumer('CID_ALIONS_1', 'c1');
  c.subscribe(topic, 'TagA', async (msg) => { got.push(msg); });
  await c.ready();
  await waitUntil(() => got.length >= 20, '20 TagA messages', 20000, 50);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(got.length, 20, 'exactly the TagA messages, no duplicates');
  for (const m of got) {
    assert.equal(m.tags, 'TagA');
    const want = sent.get(m.keys);
    assert.ok(want, `unexpected key ${m.keys}`);
    assert.equal(m.body.toString(), want.body);
    assert.equal(m.topic, topic);
  }
  assert.equal(new Set(got.map((m) => m.keys)).size, 20);
});

test('two ali-ons consumers of one group split the queues with nothing lost', async () => {
  const topic = 'AliOnsSplit';
  const p = await env.producer('PID_ALIONS_2');
  const gotA: OnsMessage[] = [];
  const gotB: OnsMessage[] = [];
  const a = env.consumer('CID_ALIONS_2', 'a');
  a.subscribe(topic, '*', async (m) => { gotA.push(m); });
  const b = env.consumer('CID_ALIONS_2', 'b');
  b.subscribe(topic, '*', async (m) => { gotB.push(m); });
  // The first send creates the topic; the consumers then find its route on their next poll.
  const first = new ons.Message(topic, 'T', 'warm-up');
  first.keys = ['k-warm'];
  await p.send(first);
  await Promise.all([a.ready(), b.ready()]);
  const total = 200;
  for (let i = 0; i < total; i++) {
    const m = new ons.Message(topic, 'T', `split-${i}`);
    m.keys = [`k-${i}`];
    await p.send(m);
  }
  await waitUntil(() => new Set([...gotA, ...gotB].map((m) => m.body.toString())).size >= total + 1, 'every message', 30000, 50);
  const bodies = new Set([...gotA, ...gotB].map((m) => m.body.toString()));
  for (let i = 0; i < total; i++) assert.ok(bodies.has(`split-${i}`), `split-${i} lost`);
  assert.ok(gotA.length > 0 && gotB.length > 0, `both consumers got messages (a=${gotA.length}, b=${gotB.length})`);
  const queuesA = new Set(gotA.filter((m) => m.body.toString() !== 'warm-up').map((m) => m.queueId));
  const queuesB = new Set(gotB.filter((m) => m.body.toString() !== 'warm-up').map((m) => m.queueId));
  // After the rebalance settles, each queue belongs to one consumer.
  assert.ok(queuesA.size + queuesB.size >= 4, 'all four queues consumed');
});

test('an ali-ons consumer restarted in the same group resumes from its committed offset', async () => {
  const topic = 'AliOnsResume';
  const p = await env.producer('PID_ALIONS_3');
  const send = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      const m = new ons.Message(topic, 'T', `resume-${i}`);
      m.keys = [`r-${i}`];
      await p.send(m);
    }
  };
  await send(0, 30);
  const first: string[] = [];
  const c1 = env.consumer('CID_ALIONS_3', 'r1');
  c1.subscribe(topic, '*', async (m) => { first.push(m.body.toString()); });
  await c1.ready();
  await waitUntil(() => first.length >= 30, 'the first 30 messages', 20000, 50);
  await c1.close();
  env.untrack(c1);
  await send(30, 50);
  const second: string[] = [];
  const c2 = env.consumer('CID_ALIONS_3', 'r2');
  c2.subscribe(topic, '*', async (m) => { second.push(m.body.toString()); });
  await c2.ready();
  await waitUntil(() => second.length >= 20, 'the next 20 messages', 20000, 50);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual([...new Set(second)].sort(), Array.from({ length: 20 }, (_, i) => `resume-${i + 30}`).sort());
  assert.equal(second.length, 20, 'nothing consumed twice after the restart');
});
