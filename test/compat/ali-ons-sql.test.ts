import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// ali-ons (CommonJS) subscribing with SQL92 expressions, as an application would:
// consumer.subscribe(topic, { expressionType: 'SQL92', subString }, handler).
const require = createRequire(import.meta.url);
const ons = require('ali-ons') as {
  Producer: new (opts: Record<string, unknown>) => OnsClient & { send(msg: unknown): Promise<{ sendStatus: string }> };
  Consumer: new (opts: Record<string, unknown>) => OnsClient & {
    subscribe(topic: string, expr: string | { expressionType: string; subString: string }, handler: (msg: OnsMessage) => Promise<void>): void;
  };
  Message: new (topic: string, tags: string, body: string) => { keys: string[]; properties: Record<string, string> };
};

interface OnsClient {
  ready(): Promise<void>;
  close(): Promise<void>;
  on(ev: string, fn: (err: Error) => void): void;
}
interface OnsMessage {
  msgId: string;
  tags: string;
  body: Buffer;
  topic: string;
  properties: Record<string, string>;
}

const httpclient = { request: () => Promise.reject(new Error('no HTTP lookup: nameSrv is configured')) };

let mq: Standalone;
let tmp: { dir: string; cleanup: () => void };
const clients: OnsClient[] = [];

function common(): Record<string, unknown> {
  return { httpclient, nameSrv: mq.namesrvAddr, accessKeyId: 'test-key', accessKeySecret: 'test-secret', heartbeatBrokerInterval: 2000, rebalanceInterval: 1000, persistConsumerOffsetInterval: 500 };
}

function consumer(group: string): InstanceType<typeof ons.Consumer> {
  const c = new ons.Consumer({ ...common(), consumerGroup: group, instanceName: group });
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
  tmp = tempDir('rmq-alions-sql-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, brokerConfig: { enablePropertyFilter: true } });
});

after(async () => {
  for (const c of clients.reverse()) await c.close().catch(() => undefined);
  await mq.shutdown();
  tmp.cleanup();
});

test('ali-ons consumers subscribed with SQL92 get exactly the messages whose properties match', async () => {
  const topic = 'AliOnsSql';
  const p = new ons.Producer({ ...common(), producerGroup: 'PID_ALIONS_SQL' });
  clients.push(p);
  await p.ready();
  const total = 30;
  for (let i = 0; i < total; i++) {
    const msg = new ons.Message(topic, i % 2 === 0 ? 'TagA' : 'TagB', `sql-${i}`);
    msg.keys = [`k${i}`];
    if (i % 3 !== 0) msg.properties.a = `v${i}`;
    msg.properties.price = String(i * 10);
    const r = await p.send(msg);
    assert.equal(r.sendStatus, 'SEND_OK');
  }
  const wantNotNull = Array.from({ length: total }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `sql-${i}`);
  const wantPrice = Array.from({ length: total }, (_, i) => i).filter((i) => i * 10 > 100 && i % 2 === 0).map((i) => `sql-${i}`);

  const gotNotNull: OnsMessage[] = [];
  const c1 = consumer('CID_ALIONS_SQL_1');
  c1.subscribe(topic, { expressionType: 'SQL92', subString: 'a is not null' }, async (m) => { gotNotNull.push(m); });
  const gotPrice: OnsMessage[] = [];
  const c2 = consumer('CID_ALIONS_SQL_2');
  c2.subscribe(topic, { expressionType: 'SQL92', subString: "price > 100 AND TAGS = 'TagA'" }, async (m) => { gotPrice.push(m); });
  await Promise.all([c1.ready(), c2.ready()]);

  await waitFor(() => gotNotNull.length >= wantNotNull.length && gotPrice.length >= wantPrice.length, 30000, 'the matching messages');
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(gotNotNull.map((m) => m.body.toString()).sort(), [...wantNotNull].sort(), 'a is not null');
  for (const m of gotNotNull) assert.ok(m.properties.a);
  assert.deepEqual(gotPrice.map((m) => m.body.toString()).sort(), [...wantPrice].sort(), "price > 100 AND TAGS = 'TagA'");
  for (const m of gotPrice) assert.equal(m.tags, 'TagA');

  // The broker stored the SQL92 subscriptions from ali-ons's heartbeats as sent.
  const sub = mq.broker.consumerManager.get('CID_ALIONS_SQL_1')?.subscriptions.get(topic);
  assert.equal(sub?.expressionType, 'SQL92');
  assert.equal(sub?.subString, 'a is not null');
});
