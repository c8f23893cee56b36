import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { decodeRecords, type MessageExt } from '../../src/common/message-record.js';
import { javaStringHashCode } from '../../src/common/java.js';
import { toTimerTopic } from '../../src/broker/message-util.js';
import { TIMER_TOPIC } from '../../src/broker/timer/timer-const.js';
import { TimerMessageStore, type TimerMessageStoreOptions } from '../../src/broker/timer/timer-message-store.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger } from './helpers.js';

/**
 * TimerMessageStore over a DefaultMessageStore, without a broker: rolling of far timers, TimerLog
 * segment rollover, a wheel rebuilt for a new timerMaxDelaySec, and recovery from a wheel and
 * checkpoint older than the log (what a crash between two persists leaves).
 */

const host = encodeSocketAddress('127.0.0.1', 10911);

interface Opened {
  store: DefaultMessageStore;
  timer: TimerMessageStore;
  cfg: MessageStoreConfig;
  close(): Promise<void>;
}

async function open(dir: string, over: Partial<MessageStoreConfig> = {}, opts: TimerMessageStoreOptions = {}): Promise<Opened> {
  const { logger } = memoryLogger();
  const cfg: MessageStoreConfig = {
    ...defaultMessageStoreConfig(), storePathRootDir: dir, mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20,
    timerMaxDelaySec: 60, messageIndexEnable: false, ...over,
  };
  const store = new DefaultMessageStore(cfg, host, logger);
  store.load();
  const timer = new TimerMessageStore(store, cfg, dir, logger, { flushIntervalMs: 200, ...opts });
  await timer.load();
  store.setMessageArrivingListener((topic) => {
    if (topic === TIMER_TOPIC) timer.onArrival();
  });
  store.start();
  timer.start();
  return {
    store, timer, cfg,
    close: async () => {
      await timer.shutdown();
      await store.shutdown();
    },
  };
}

function timerMsg(o: Opened, topic: string, body: string, props: Record<string, string>): PutMessageInput {
  const input: PutMessageInput = {
    topic, queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(body),
    properties: encodeProperties({ TAGS: 'T', UNIQ_KEY: `UK-${topic}-${body}`, ...props }), tagsCode: javaStringHashCode('T'), waitStoreMsgOK: true,
  };
  assert.equal(toTimerTopic(input, o.cfg).kind, 'TIMER');
  return input;
}

async function put(o: Opened, topic: string, body: string, props: Record<string, string>): Promise<void> {
  const r = await o.store.putMessage(timerMsg(o, topic, body, props));
  assert.equal(r.status, 'PUT_OK');
}

async function readAll(s: DefaultMessageStore, topic: string): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let off = s.getMinOffsetInQueue(topic, 0);
  for (;;) {
    const r = await s.getMessage(topic, 0, off, 32);
    if (r.status !== 'FOUND') return out;
    for (const b of r.buffers) out.push(...decodeRecords(b));
    off = r.nextBeginOffset;
  }
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const filed = (o: Opened, n: number) => (): boolean => o.timer.runtimeInfo().timerOffsetBehind === '0' && o.timer.stats.enqueued >= n;

test('timers beyond the roll window are parked, re-put and still delivered on time', async () => {
  const tmp = tempDir('rmq-timer-roll-');
  const o = await open(tmp.dir, {}, { rollWindowSlots: 3 });
  try {
    const t0 = Date.now();
    await put(o, 'RollTopic', 'r5', { TIMER_DELAY_MS: '5000' });
    await put(o, 'RollTopic', 'r8', { TIMER_DELAY_MS: '8000' });
    await put(o, 'RollTopic', 'n1', { TIMER_DELAY_MS: '1500' });
    const seen = new Map<string, number>();
    await until(async () => {
      for (const m of await readAll(o.store, 'RollTopic')) if (!seen.has(m.body.toString())) seen.set(m.body.toString(), Date.now());
      return seen.size === 3;
    }, 12_000, 'three deliveries');
    const msgs = await readAll(o.store, 'RollTopic');
    assert.equal(msgs.length, 3);
    // Rolling keeps TIMER_OUT_MS: each is delivered when its own slot ends, not before its delay.
    for (const [b, delay] of [['r5', 5000], ['r8', 8000], ['n1', 1500]] as const) {
      const m = msgs.find((x) => x.body.toString() === b)!;
      const due = Number(decodeProperties(m.properties).get('TIMER_OUT_MS')) + 1000;
      assert.ok(m.storeTimestamp - t0 >= delay && m.storeTimestamp >= due, `${b} delivered after ${m.storeTimestamp - t0} ms, its slot ends after ${due - t0} ms`);
      assert.ok(seen.get(b)! - due < 1000, `${b} seen ${seen.get(b)! - due} ms after its slot ended`);
    }
    const roll = (b: string): number => Number(decodeProperties(msgs.find((m) => m.body.toString() === b)!.properties).get('TIMER_ROLL_TIMES') ?? 0);
    assert.ok(roll('r5') >= 1 && roll('r8') >= 1, 'far timers were rolled');
    assert.equal(roll('n1'), 0);
    assert.ok(o.timer.stats.rolled >= 2);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});

test('timer log segments roll over with blank tails and stay readable across a restart', async () => {
  const tmp = tempDir('rmq-timer-segments-');
  // 10 units and a 20-byte tail per segment.
  const opts = { timerLogFileSize: 52 * 10 + 20 };
  let o = await open(tmp.dir, {}, opts);
  try {
    const t0 = Date.now();
    for (let i = 0; i < 45; i++) await put(o, 'SegTopic', `s${i}`, { TIMER_DELAY_MS: String(2500 + (i % 3) * 1000) });
    await until(filed(o, 45), 5000, 'filing');
    await o.close();
    const segs = readdirSync(join(tmp.dir, 'timerlog')).sort();
    assert.ok(segs.length >= 5, `${segs.length} segments`);
    for (const f of segs.slice(0, -1)) assert.equal(statSync(join(tmp.dir, 'timerlog', f)).size, 540);
    o = await open(tmp.dir, {}, opts);
    await until(async () => (await readAll(o.store, 'SegTopic')).length >= 45, 8000, '45 deliveries');
    await new Promise((r) => setTimeout(r, 500));
    const bodies = (await readAll(o.store, 'SegTopic')).map((m) => m.body.toString());
    assert.equal(bodies.length, 45);
    assert.equal(new Set(bodies).size, 45);
    // The longest delay was 4.5 s: none came before its time.
    assert.ok(Date.now() - t0 >= 4500);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});

test('a wheel written for another timerMaxDelaySec is rebuilt and its pending timers delivered once', async () => {
  const tmp = tempDir('rmq-timer-migrate-');
  let o = await open(tmp.dir, { timerMaxDelaySec: 60 });
  try {
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await put(o, 'MigTopic', `g${i}`, { TIMER_DELAY_MS: String(2500 + i * 100) });
    await until(filed(o, 10), 5000, 'filing');
    await o.close();
    const before = statSync(join(tmp.dir, 'timerwheel')).size;
    o = await open(tmp.dir, { timerMaxDelaySec: 30 });
    assert.notEqual(statSync(join(tmp.dir, 'timerwheel')).size, before);
    assert.equal(o.timer.pendingCount(), 10);
    await until(async () => (await readAll(o.store, 'MigTopic')).length >= 10, 8000, 'deliveries');
    assert.ok(Date.now() - t0 >= 3400, 'the 3.4 s timer came before its time');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await readAll(o.store, 'MigTopic')).length, 10);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});

test('recovery re-files units past the checkpoint and continues after the last filed entry (no loss, no duplicate)', async () => {
  const tmp = tempDir('rmq-timer-recover-');
  const saved = join(tmp.dir, 'saved');
  let o = await open(tmp.dir);
  try {
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await put(o, 'RecTopic', `a${i}`, { TIMER_DELAY_MS: String(3000 + i * 50) });
    await until(filed(o, 10), 5000, 'first filing');
    // Let a persist run, then keep the wheel and checkpoint of this moment.
    await new Promise((r) => setTimeout(r, 400));
    appendFileSync(saved, '');
    copyFileSync(join(tmp.dir, 'timerwheel'), `${saved}.wheel`);
    copyFileSync(join(tmp.dir, 'config', 'timercheck'), `${saved}.check`);
    for (let i = 0; i < 10; i++) await put(o, 'RecTopic', `b${i}`, { TIMER_DELAY_MS: String(3000 + i * 50) });
    await until(filed(o, 20), 5000, 'second filing');
    await o.close();
    // As if the process died before the second batch's wheel and checkpoint were written,
    // with the store's abort file left behind.
    copyFileSync(`${saved}.wheel`, join(tmp.dir, 'timerwheel'));
    copyFileSync(`${saved}.check`, join(tmp.dir, 'config', 'timercheck'));
    appendFileSync(join(tmp.dir, 'abort'), '999999');
    o = await open(tmp.dir);
    assert.equal(o.timer.pendingCount(), 20);
    assert.equal(o.timer.runtimeInfo().timerOffsetBehind, '0');
    await until(async () => (await readAll(o.store, 'RecTopic')).length >= 20, 8000, 'deliveries');
    assert.ok(Date.now() - t0 >= 3450, 'the 3.45 s timer came before its time');
    await new Promise((r) => setTimeout(r, 1200));
    const bodies = (await readAll(o.store, 'RecTopic')).map((m) => m.body.toString());
    assert.equal(bodies.length, 20);
    assert.equal(new Set(bodies).size, 20);
    await o.close();

    // Without any wheel at all the whole log is re-filed; nothing is due twice.
    rmSync(join(tmp.dir, 'timerwheel'));
    o = await open(tmp.dir);
    assert.equal(o.timer.pendingCount(), 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await readAll(o.store, 'RecTopic')).length, 20);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});
