import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { filed, open, put, readAll, until } from './timer-store-helpers.js';

/**
 * TimerMessageStore over a DefaultMessageStore, without a broker: TimerLog segment rollover, a
 * wheel rebuilt for a new timerMaxDelaySec, and recovery from a wheel and checkpoint older than
 * the log (what a crash between two persists leaves). Rolling is in timer-roll.test.ts.
 */

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
    copyFileSync(join(tmp.dir, 'config', 'timermetrics'), `${saved}.metrics`);
    for (let i = 0; i < 10; i++) await put(o, 'RecTopic', `b${i}`, { TIMER_DELAY_MS: String(3000 + i * 50) });
    await until(filed(o, 20), 5000, 'second filing');
    await o.close();
    // As if the process died before the second batch's wheel and checkpoint were written,
    // with the store's abort file left behind.
    copyFileSync(`${saved}.wheel`, join(tmp.dir, 'timerwheel'));
    copyFileSync(`${saved}.check`, join(tmp.dir, 'config', 'timercheck'));
    copyFileSync(`${saved}.metrics`, join(tmp.dir, 'config', 'timermetrics'));
    appendFileSync(join(tmp.dir, 'abort'), '999999');
    o = await open(tmp.dir);
    assert.equal(o.timer.pendingCount(), 20);
    // The timer metrics persisted with the checkpoint held the first ten; the re-filed ten count again.
    assert.equal(o.timer.metrics.countOf('RecTopic'), 20);
    assert.equal(o.timer.runtimeInfo().timerOffsetBehind, '0');
    await until(async () => (await readAll(o.store, 'RecTopic')).length >= 20, 8000, 'deliveries');
    assert.ok(Date.now() - t0 >= 3450, 'the 3.45 s timer came before its time');
    await new Promise((r) => setTimeout(r, 1200));
    const bodies = (await readAll(o.store, 'RecTopic')).map((m) => m.body.toString());
    assert.equal(bodies.length, 20);
    assert.equal(new Set(bodies).size, 20);
    assert.equal(o.timer.metrics.countOf('RecTopic'), 0);
    await o.close();

    // Without any wheel at all the whole log is re-filed; nothing is due twice.
    rmSync(join(tmp.dir, 'timerwheel'));
    o = await open(tmp.dir);
    assert.equal(o.timer.pendingCount(), 0);
    assert.equal(o.timer.metrics.countOf('RecTopic'), 0, 'delivered units are not counted again');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await readAll(o.store, 'RecTopic')).length, 20);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});
