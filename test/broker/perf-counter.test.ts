import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTps, PerfCounter } from '../../src/broker/timer/perf-counter.js';
import { tempDir } from '../helpers/tmp.js';
import { open, put, readAll, until } from './timer-store-helpers.js';

test('PerfCounter reports the rate of the last closed window, then 0 once the step goes quiet (upstream getLastTps)', () => {
  let now = 1000;
  const c = new PerfCounter(10_000, () => now);
  assert.equal(c.getLastTps(), 0);
  for (let i = 0; i < 49; i++) c.flow();
  now += 10_000;
  c.flow(); // the 50th event closes the window
  assert.equal(c.getLastTps(), (50 + 0.1) * 1000 / 10_000);
  now += 13_000;
  assert.equal(c.getLastTps(), (50 + 0.1) * 1000 / 10_000);
  now += 1;
  assert.equal(c.getLastTps(), 0);
  assert.equal(formatTps(0), '0.0');
  assert.equal(formatTps(5.01), '5.01');
  assert.equal(formatTps(12), '12.0');
});

test('timer runtime info has timerEnqueueTps and timerDequeueTps (upstream PerfCounter rates)', async () => {
  const tmp = tempDir('rmq-timer-tps-');
  // 100 ms precision: the read pointer counts in slots of 100 ms, the backlog is still told in seconds.
  const o = await open(tmp.dir, { timerPrecisionMs: 100 }, { tpsWindowMs: 50 });
  try {
    const idle = o.timer.runtimeInfo();
    assert.equal(idle.timerEnqueueTps, '0.0');
    assert.equal(idle.timerDequeueTps, '0.0');
    assert.ok(Number(idle.timerReadBehind) <= 2, `timerReadBehind ${idle.timerReadBehind}`);
    for (let i = 0; i < 3; i++) {
      await put(o, 'TpsTopic', `m${i}`, { TIMER_DELAY_MS: '300' });
      await new Promise((r) => setTimeout(r, 60));
    }
    // Read right after the flows: a rate is shown for 3 s past its window only.
    await until(() => o.timer.stats.enqueued >= 3, 8000, 'the timers filed');
    const filed = o.timer.runtimeInfo().timerEnqueueTps;
    assert.ok(Number(filed) > 0, `timerEnqueueTps ${filed}`);
    await until(async () => (await readAll(o.store, 'TpsTopic')).length === 3, 8000, 'the timers delivered');
    assert.match(o.timer.runtimeInfo().timerDequeueTps ?? '', /^\d+\.\d+$/);
  } finally {
    await o.close();
    tmp.cleanup();
  }
});
