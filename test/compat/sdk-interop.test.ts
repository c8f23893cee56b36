import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { tempDir } from '../helpers/tmp.js';

// Our client and ali-ons (the Node SDK many applications use) talking through our broker, both ways.

const require = createRequire(import.meta.url);
const ons = require('ali-ons') as {
  Producer: new (opts: Record<string, unknown>) => OnsClient & { send(msg: unknown): Promise<{ sendStatus: string; msgId: string }> };
  Consumer: new (opts: Record<string, unknown>) => OnsClient & { subscribe(topic: string, expr: string, handler: (msg: OnsMessage) => Promise<void>): void };
  Message: new (topic: string, tags: string, body: string | Buffer) => { keys: string[]; properties: Record<string, string> };
};

interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(ev: string, fn: (err: Error) => void): void;
}
interface OnsMessage {
  msgId: string;
  tags: string;
  keys: string;
  body: Buffer;
  topic: string;
  properties: Record<string, string>;
}

const httpclient = { request: () => Promise.reject(new Error('no HTTP lookup: nameSrv is configured')) };
let mq: Standalone;
let tmp: { dir: string; cleanup: () => void };
const onsClients: OnsClient[] = [];
const ours: Array<{ shutdown(): Promise<void> }> = [];
const stamp = Date.now();

function onsCommon(): Record<string, unknown> {
  return { httpclient, nameSrv: mq.namesrvAddr, accessKeyId: 'test-key', accessKeySecret: 'test-secret', heartbeatBrokerInterval: 2000, rebalanceInterval: 1000, persistConsumerOffsetInterval: 500 };
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  tmp = tempDir('rmq-interop-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 } });
});

after(async () => {
  for (const c of ours) await c.shutdown().catch(() => undefined);
  for (const c of onsClients.reverse()) await c.close().catch(() => undefined);
  await mq.shutdown();
  tmp.cleanup();
});

test('messages sent by ali-ons reach our PushConsumer with keys, tags and properties intact', async () => {
  const topic = `InteropFromOns_${stamp}`;
  const p = new ons.Producer({ ...onsCommon(), producerGroup: 'PID_INTEROP_1' });
  onsClients.push(p);
  await p.ready();
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
  const c = new PushConsumer({ group: `CID_INTEROP_OURS_${stamp}`, namesrvAddr: mq.namesrvAddr });
  ours.push(c);
  c.subscribe(topic, '*');
  c.registerMessageListenerConcurrently(async (msgs) => { got.push(...msgs); });
  await c.start();
  for (let i = 1; i < 10; i++) await send(i);
  await waitFor(() => got.length >= 10, 20_000, 'the ten ali-ons messages');
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
  const producer = new Producer({ group: 'PID_INTEROP_OURS', namesrvAddr: mq.namesrvAddr });
  ours.push(producer);
  await producer.start();
  // The first send creates the topic; ali-ons then finds its route.
  await producer.send(new Message(topic, 'warm-up', { tags: 'TagA', keys: 'warm' }));
  const got: OnsMessage[] = [];
  const c = new ons.Consumer({ ...onsCommon(), consumerGroup: `CID_INTEROP_ONS_${stamp}`, instanceName: 'interop' });
  c.on('error', () => undefined);
  onsClients.push(c);
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
  await waitFor(() => got.filter((m) => m.body.toString() !== 'warm-up').length >= sent.size, 20_000, 'the TagA/TagB messages');
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
