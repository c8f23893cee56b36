import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Message } from '../../src/client/message.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { mqadmin, ok, fails } from './mqadmin-run.js';

// mqadmin startMonitoring (upstream StartMonitoringSubCommand / tools.monitor.MonitorService) run
// in-process against a real NameServer + Broker with a live consumer whose listener holds its
// messages: each round reports the group's backlog in upstream's DefaultMonitorListener lines.
// Upstream has no way to stop it but ending the process; --rounds bounds it here.

let mq: Standalone;
let dir: string;
let producer: Producer;
let consumer: PushConsumer;
let release!: () => void;
const held = new Promise<void>((resolve) => { release = resolve; });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rmq-mqadmin-monitor-'));
  mq = await startStandalone({ storeDir: join(dir, 'store'), ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger: pino({ level: 'silent' }) });
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', 'MonT', '-r', '1', '-w', '1');
  let got!: () => void;
  const first = new Promise<void>((resolve) => { got = resolve; });
  let consumedFree!: () => void;
  const free = new Promise<void>((resolve) => { consumedFree = resolve; });
  consumer = new PushConsumer({ group: 'MonG', namesrvAddr: mq.namesrvAddr, persistConsumerOffsetInterval: 100 });
  consumer.subscribe('MonT', '*');
  // "free" is consumed at once, so the group has an offset; the others are held until the test ends.
  consumer.registerMessageListenerConcurrently(async (msgs) => {
    if (msgs.every((m) => m.body.toString() === 'free')) {
      consumedFree();
      return;
    }
    got();
    await held;
  });
  await consumer.start();
  producer = new Producer({ group: 'MonP', namesrvAddr: mq.namesrvAddr });
  await producer.start();
  await producer.send(new Message('MonT', Buffer.from('free')));
  await free;
  // The committed offset reaches the broker on the consumer's next persist.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await mqadmin('consumerProgress', '-n', mq.namesrvAddr, '-g', 'MonG', '--json');
    if (r.code === 0 && /"topic": "MonT"[\s\S]*"consumerOffset": 1/.test(r.out)) break;
    if (Date.now() > deadline) throw new Error(`offset never committed: ${r.out} ${r.err}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  for (let i = 0; i < 3; i++) await producer.send(new Message('MonT', Buffer.from(`m${i}`)));
  await first;
});

after(async () => {
  release();
  await producer?.shutdown();
  await consumer?.shutdown();
  await mq?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('startMonitoring --rounds 2 reports the backlog of each group with a retry topic, then stops', async () => {
  const out = await ok('startMonitoring', '-n', mq.namesrvAddr, '--rounds', '2', '--firstDelay', '0', '--roundInterval', '200');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.filter((l) => l === '[MONITOR] =========================================beginRound').length, 2, out);
  assert.equal(lines.filter((l) => l === '[MONITOR] =========================================endRound').length, 2, out);
  const undone = lines.filter((l) => l.startsWith('[MONITOR] reportUndoneMsgs: UndoneMsgs [consumerGroup=MonG, topic=MonT,'));
  assert.equal(undone.length, 2, out);
  assert.match(undone[0]!, /undoneMsgsTotal=3, undoneMsgsSingleMQ=3, undoneMsgsDelayTimeMills=\d+\]$/);
});

test('startMonitoring without --rounds runs until interrupted, and SIGINT stops it cleanly', async () => {
  const run = mqadmin('startMonitoring', '-n', mq.namesrvAddr, '--firstDelay', '0', '--roundInterval', '60000');
  // Long enough for the first round on a loaded machine; the next would be a minute later.
  await new Promise((res) => setTimeout(res, 1500));
  process.emit('SIGINT');
  const r = await run;
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split('\n').filter((l) => l.endsWith('beginRound')).length, 1, r.out);
  assert.equal(process.listenerCount('SIGINT'), 0, 'its signal handlers are removed');
});

test('startMonitoring refuses bad flags in one line', async () => {
  await fails(/expected a positive integer/, 'startMonitoring', '-n', mq.namesrvAddr, '--rounds', '0');
  await fails(/expected a positive integer/, 'startMonitoring', '-n', mq.namesrvAddr, '--roundInterval', '0');
  await fails(/expected an integer/, 'startMonitoring', '-n', mq.namesrvAddr, '--roundInterval', 'x');
  await fails(/expected a non-negative integer/, 'startMonitoring', '-n', mq.namesrvAddr, '--firstDelay', '-1');
  const r = await mqadmin('startMonitoring', '--rounds', '1', '--firstDelay', '0');
  assert.equal(r.code, 1);
  assert.match(r.err, /NameServer|namesrv/i);
});
