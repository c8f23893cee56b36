import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// ali-ons is CommonJS; it is used exactly as an application would use it.
const require = createRequire(import.meta.url);
const ons = require('ali-ons') as {
  Producer: new (opts: Record<string, unknown>) => OnsClient & { send(msg: unknown): Promise<{ sendStatus: string; msgId: string; messageQueue: { queueId: number } }> };
  Consumer: new (opts: Record<string, unknown>) => OnsClient & { subscribe(topic: string, expr: string, handler: (msg: OnsMessage) => Promise<void>): void };
  Message: new (topic: string, tags: string, body: string) => { keys: string[]; setStartDeliverTime?(t: number): void };
};

interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(ev: string, fn: (err: Error) => void): void;
}
interface OnsMessage {
  msgId: string;
  tags: string;
  /** Space-separated keys string. */
  keys: string;
  body: Buffer;
  topic: string;
  queueId: number;
  queueOffset: number;
  properties: Record<string, string>;
}

// ali-ons looks NameServers up over HTTP only when given onsAddr; with nameSrv it never calls this.
const httpclient = { request: () => Promise.reject(new Error('no HTTP lookup: nameSrv is configured')) };

let mq: Standalone;
let tmp: { dir: string; cleanup: () => void };
const clients: OnsClient[] = [];

function common(): Record<string, unknown> {
  return { httpclient, nameSrv: mq.namesrvAddr, accessKeyId: 'test-key', accessKeySecret: 'test-secret', heartbeatBrokerInterval: 2000, rebalanceInterval: 1000, persistConsumerOffsetInterval: 500 };
}

async function producer(group: string): Promise<InstanceType<typeof ons.Producer>> {
  const p = new ons.Producer({ ...common(), producerGroup: group });
  clients.push(p);
  await p.ready();
  return p;
}

function consumer(group: string, instanceName: string): InstanceType<typeof ons.Consumer> {
  const c = new ons.Consumer({ ...common(), consumerGroup: group, instanceName });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  tmp = tempDir('rmq-alions-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 } });
});

after(async () => {
  for (const c of clients.reverse()) await c.close().catch(() => undefined);
  await mq.shutdown();
  tmp.cleanup();
});

test('ali-ons Producer sends to a topic that does not exist yet; its Consumer gets exactly the TagA messages intact', async () => {
  const topic = 'AliOnsNewTopic';
  const p = await producer('PID_ALIONS_1');
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
  const c = consumer('CID_ALIONS_1', 'c1');
  c.subscribe(topic, 'TagA', async (msg) => { got.push(msg); });
  await c.ready();
  await waitFor(() => got.length >= 20, 20000, '20 TagA messages');
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
  const p = await producer('PID_ALIONS_2');
  const gotA: OnsMessage[] = [];
  const gotB: OnsMessage[] = [];
  const a = consumer('CID_ALIONS_2', 'a');
  a.subscribe(topic, '*', async (m) => { gotA.push(m); });
  const b = consumer('CID_ALIONS_2', 'b');
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
  await waitFor(() => new Set([...gotA, ...gotB].map((m) => m.body.toString())).size >= total + 1, 30000, 'every message');
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
  const p = await producer('PID_ALIONS_3');
  const send = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      const m = new ons.Message(topic, 'T', `resume-${i}`);
      m.keys = [`r-${i}`];
      await p.send(m);
    }
  };
  await send(0, 30);
  const first: string[] = [];
  const c1 = consumer('CID_ALIONS_3', 'r1');
  c1.subscribe(topic, '*', async (m) => { first.push(m.body.toString()); });
  await c1.ready();
  await waitFor(() => first.length >= 30, 20000, 'the first 30 messages');
  await c1.close();
  clients.splice(clients.indexOf(c1), 1);
  await send(30, 50);
  const second: string[] = [];
  const c2 = consumer('CID_ALIONS_3', 'r2');
  c2.subscribe(topic, '*', async (m) => { second.push(m.body.toString()); });
  await c2.ready();
  await waitFor(() => second.length >= 20, 20000, 'the next 20 messages');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual([...new Set(second)].sort(), Array.from({ length: 20 }, (_, i) => `resume-${i + 30}`).sort());
  assert.equal(second.length, 20, 'nothing consumed twice after the restart');
});
