import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { ons, useOnsStandalone, type OnsMessage } from './ons.js';

// ali-ons (CommonJS) subscribing with SQL92 expressions, as an application would:
// consumer.subscribe(topic, { expressionType: 'SQL92', subString }, handler).

const env = useOnsStandalone('rmq-alions-sql-', { brokerConfig: { enablePropertyFilter: true } });

test('ali-ons consumers subscribed with SQL92 get exactly the messages whose properties match', async () => {
  const topic = 'AliOnsSql';
  const p = await env.producer('PID_ALIONS_SQL');
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
  const c1 = env.consumer('CID_ALIONS_SQL_1');
  c1.subscribe(topic, { expressionType: 'SQL92', subString: 'a is not null' }, async (m) => { gotNotNull.push(m); });
  const gotPrice: OnsMessage[] = [];
  const c2 = env.consumer('CID_ALIONS_SQL_2');
  c2.subscribe(topic, { expressionType: 'SQL92', subString: "price > 100 AND TAGS = 'TagA'" }, async (m) => { gotPrice.push(m); });
  await Promise.all([c1.ready(), c2.ready()]);

  await waitUntil(() => gotNotNull.length >= wantNotNull.length && gotPrice.length >= wantPrice.length, 'the matching messages', 30000, 50);
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(gotNotNull.map((m) => m.body.toString()).sort(), [...wantNotNull].sort(), 'a is not null');
  for (const m of gotNotNull) assert.ok(m.properties.a);
  assert.deepEqual(gotPrice.map((m) => m.body.toString()).sort(), [...wantPrice].sort(), "price > 100 AND TAGS = 'TagA'");
  for (const m of gotPrice) assert.equal(m.tags, 'TagA');

  // The broker stored the SQL92 subscriptions from ali-ons's heartbeats as sent.
  const sub = env.mq.broker.consumerManager.get('CID_ALIONS_SQL_1')?.subscriptions.get(topic);
  assert.equal(sub?.expressionType, 'SQL92');
  assert.equal(sub?.subString, 'a is not null');
});
