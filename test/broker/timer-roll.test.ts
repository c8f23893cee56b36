import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProperties } from '../../src/common/properties.js';
import { tempDir } from '../helpers/tmp.js';
import { open, put, readAll, until } from './timer-store-helpers.js';

/**
 * Timers further away than the roll window (upstream timerRollWindowSlot) are filed at the
 * window's edge, re-put to the timer topic when that slot comes and filed again, until they
 * fit: they keep their TIMER_OUT_MS and are delivered when their own slot ends.
 */

test('timers beyond the roll window are parked, re-put and still delivered on time', async () => {
  const tmp = tempDir('rmq-timer-roll-');
  const o = await open(tmp.dir, {}, { rollWindowSlots: 3 });
  try {
    const t0 = Date.now();
    await put(o, 'RollTopic', 'r5', { TIMER_DELAY_MS: '5000' });
    await put(o, 'RollTopic', 'r8', { TIMER_DELAY_MS: '8000' });
    await put(o, 'RollTopic', 'n1', { TIMER_DELAY_MS: '1500' });
    await until(() => o.timer.metrics.countOf('RollTopic') === 3, 5000, 'three timers counted for RollTopic');
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
    // Timer metrics: a roll takes a timer out of the wheel and files it again, so nothing is left over.
    assert.equal(o.timer.metrics.countOf('RollTopic'), 0);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});
