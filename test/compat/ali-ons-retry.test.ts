import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { ons, useOnsStandalone, type OnsMessage } from './ons.js';

// ali-ons used as an application would; delay levels are shortened so the retries come quickly.

// Level 1 = 1 s, 2 = 2 s, 3 = 1 s (the first retry), 4 = 1 s (the second), …
const LEVELS = ['1s', '2s', ...Array(16).fill('1s')].join(' ');

const env = useOnsStandalone('rmq-alions-retry-', {
  storeConfig: { messageDelayLevel: LEVELS },
  clientOptions: { accessKeyId: 'k', accessKeySecret: 's', heartbeatBrokerInterval: 1000, rebalanceInterval: 500 },
});

test('an ali-ons handler that throws twice gets the message a third time', async () => {
  const p = await env.producer('PID_RETRY');
  const m = new ons.Message('AliOnsRetry', 'TagR', 'flaky');
  m.keys = ['retry-key'];
  assert.equal((await p.send(m)).sendStatus, 'SEND_OK');
  const seen: OnsMessage[] = [];
  const c = env.consumer('CID_RETRY', 'retry');
  c.subscribe('AliOnsRetry', '*', async (msg) => {
    seen.push(msg);
    if (seen.length <= 2) throw new Error(`failure ${seen.length} on purpose`);
  });
  await c.ready();
  await waitUntil(() => seen.length >= 3, 'the third delivery', 20000, 50);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(seen.length, 3, 'no fourth delivery once the handler succeeded');
  assert.deepEqual(seen.map((s) => s.body.toString()), ['flaky', 'flaky', 'flaky']);
  assert.deepEqual(seen.map((s) => s.reconsumeTimes), [0, 1, 2]);
  // ali-ons restores the original topic of retried messages.
  assert.deepEqual(seen.map((s) => s.topic), ['AliOnsRetry', 'AliOnsRetry', 'AliOnsRetry']);
  assert.equal(seen[2]!.keys, 'retry-key');
});

test('an ali-ons delay-level message arrives after its delay', async () => {
  const p = await env.producer('PID_DELAY');
  // Create the topic first so the consumer starts on its real route.
  await p.send(new ons.Message('AliOnsDelay', 'D', 'warm-up'));
  const got: Array<{ body: string; at: number }> = [];
  const c = env.consumer('CID_DELAY', 'delay');
  c.subscribe('AliOnsDelay', '*', async (msg) => { got.push({ body: msg.body.toString(), at: Date.now() }); });
  await c.ready();
  await waitUntil(() => got.some((g) => g.body === 'warm-up'), 'the warm-up message', 10000, 50);
  const m = new ons.Message('AliOnsDelay', 'D', 'two-seconds-later');
  m.delayTimeLevel = 2;
  const sentAt = Date.now();
  await p.send(m);
  await waitUntil(() => got.some((g) => g.body === 'two-seconds-later'), 'the delayed message', 10000, 50);
  const at = got.find((g) => g.body === 'two-seconds-later')!.at;
  assert.ok(at - sentAt >= 2000, `arrived after ${at - sentAt} ms, before its 2 s delay`);
  assert.ok(at - sentAt < 4000, `arrived ${at - sentAt} ms after sending`);
});
