import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

// ali-ons used as an application would; delay levels are shortened so the retries come quickly.
const require = createRequire(import.meta.url);
interface OnsClient { ready(): Promise<void>; close(): Promise<void>; on(ev: string, fn: (err: Error) => void): void }
interface OnsMessage { body: Buffer; reconsumeTimes: number; topic: string; keys: string; tags: string }
const ons = require('ali-ons') as {
  Producer: new (opts: Record<string, unknown>) => OnsClient & { send(msg: unknown): Promise<{ sendStatus: string }> };
  Consumer: new (opts: Record<string, unknown>) => OnsClient & { subscribe(topic: string, expr: string, handler: (msg: OnsMessage) => Promise<void>): void };
  Message: new (topic: string, tags: string, body: string) => { keys: string[]; delayTimeLevel: number };
};
const httpclient = { request: () => Promise.reject(new Error('no HTTP lookup: nameSrv is configured')) };

let mq: Standalone;
let tmp: { dir: string; cleanup: () => void };
const clients: OnsClient[] = [];
// Level 1 = 1 s, 2 = 2 s, 3 = 1 s (the first retry), 4 = 1 s (the second), …
const LEVELS = ['1s', '2s', ...Array(16).fill('1s')].join(' ');

function opts(): Record<string, unknown> {
  return { httpclient, nameSrv: mq.namesrvAddr, accessKeyId: 'k', accessKeySecret: 's', heartbeatBrokerInterval: 1000, rebalanceInterval: 500, persistConsumerOffsetInterval: 500 };
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  tmp = tempDir('rmq-alions-retry-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, storeConfig: { messageDelayLevel: LEVELS } });
});

after(async () => {
  for (const c of clients.reverse()) await c.close().catch(() => undefined);
  await mq.shutdown();
  tmp.cleanup();
});

test('an ali-ons handler that throws twice gets the message a third time', async () => {
  const p = new ons.Producer({ ...opts(), producerGroup: 'PID_RETRY' });
  clients.push(p);
  await p.ready();
  const m = new ons.Message('AliOnsRetry', 'TagR', 'flaky');
  m.keys = ['retry-key'];
  assert.equal((await p.send(m)).sendStatus, 'SEND_OK');
  const seen: OnsMessage[] = [];
  const c = new ons.Consumer({ ...opts(), consumerGroup: 'CID_RETRY', instanceName: 'retry' });
  c.on('error', () => undefined);
  clients.push(c);
  c.subscribe('AliOnsRetry', '*', async (msg) => {
    seen.push(msg);
    if (seen.length <= 2) throw new Error(`failure ${seen.length} on purpose`);
  });
  await c.ready();
  await waitFor(() => seen.length >= 3, 20000, 'the third delivery');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(seen.length, 3, 'no fourth delivery once the handler succeeded');
  assert.deepEqual(seen.map((s) => s.body.toString()), ['flaky', 'flaky', 'flaky']);
  assert.deepEqual(seen.map((s) => s.reconsumeTimes), [0, 1, 2]);
  // ali-ons restores the original topic of retried messages.
  assert.deepEqual(seen.map((s) => s.topic), ['AliOnsRetry', 'AliOnsRetry', 'AliOnsRetry']);
  assert.equal(seen[2]!.keys, 'retry-key');
});

test('an ali-ons delay-level message arrives after its delay', async () => {
  const p = new ons.Producer({ ...opts(), producerGroup: 'PID_DELAY' });
  clients.push(p);
  await p.ready();
  // Create the topic first so the consumer starts on its real route.
  await p.send(new ons.Message('AliOnsDelay', 'D', 'warm-up'));
  const got: Array<{ body: string; at: number }> = [];
  const c = new ons.Consumer({ ...opts(), consumerGroup: 'CID_DELAY', instanceName: 'delay' });
  c.on('error', () => undefined);
  clients.push(c);
  c.subscribe('AliOnsDelay', '*', async (msg) => { got.push({ body: msg.body.toString(), at: Date.now() }); });
  await c.ready();
  await waitFor(() => got.some((g) => g.body === 'warm-up'), 10000, 'the warm-up message');
  const m = new ons.Message('AliOnsDelay', 'D', 'two-seconds-later');
  m.delayTimeLevel = 2;
  const sentAt = Date.now();
  await p.send(m);
  await waitFor(() => got.some((g) => g.body === 'two-seconds-later'), 10000, 'the delayed message');
  const at = got.find((g) => g.body === 'two-seconds-later')!.at;
  assert.ok(at - sentAt >= 2000, `arrived after ${at - sentAt} ms, before its 2 s delay`);
  assert.ok(at - sentAt < 4000, `arrived ${at - sentAt} ms after sending`);
});
