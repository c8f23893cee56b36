import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode } from '../../src/remoting/codes.js';
import { pullAll, sendRaw, sleep, withTimerMQ as withMQ } from './timer-helpers.js';

/**
 * Timer flow control and the stop switches (upstream `TimerMessageStore#isReject`,
 * timerCongestNumEachSlot, timerStopEnqueue, timerStopDequeue).
 */

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a slot holding twice timerCongestNumEachSlot timers refuses more sends with upstream\'s flow-control answer', async () => {
  await withMQ({ timerCongestNumEachSlot: 2 }, async ({ mq, raw }) => {
    const timer = mq.broker.timerMessageStore;
    // One slot for all (a fixed time well inside the window), each filed before the next is sent.
    const at = String(Math.floor(Date.now() / 1000) * 1000 + 30_500);
    let accepted = 0;
    let refusal: { code: number; remark?: string } | undefined;
    for (let i = 0; i < 6 && !refusal; i++) {
      const r = await sendRaw(raw, mq.brokerAddr, 'TimerCongest', `m${i}`, { TIMER_DELIVER_MS: at });
      if (r.code !== ResponseCode.SUCCESS) {
        refusal = r;
        break;
      }
      accepted++;
      await until(() => timer.runtimeInfo().timerOffsetBehind === '0' && timer.stats.enqueued >= accepted, 5000, 'the timer filed');
    }
    // Up to 2 in the slot always pass; 3 passes at random; 4 or more never.
    assert.ok(refusal, 'a send was refused');
    assert.ok(accepted >= 3 && accepted <= 4, `accepted ${accepted}`);
    assert.equal(refusal.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(refusal.remark, 'timer message is under flow control, max num limit is 4 or the current value is greater than 2 and less than 4, trigger random flow control');
    // Another slot is not congested.
    const other = await sendRaw(raw, mq.brokerAddr, 'TimerCongest', 'elsewhere', { TIMER_DELIVER_MS: String(Number(at) + 5000) });
    assert.equal(other.code, ResponseCode.SUCCESS, other.remark);
  });
});

test('timerStopEnqueue keeps arrivals on the timer topic and timerStopDequeue keeps due timers in the wheel, until cleared', async () => {
  await withMQ({ timerStopDequeue: true }, async ({ mq, raw, api }) => {
    const cfg = mq.broker.storeConfig;
    const timer = mq.broker.timerMessageStore;
    const r = await sendRaw(raw, mq.brokerAddr, 'TimerStop', 'held-in-wheel', { TIMER_DELAY_MS: '300' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    await until(() => timer.stats.enqueued >= 1, 5000, 'the timer filed');
    cfg.timerStopEnqueue = true;
    await sleep(200);
    const r2 = await sendRaw(raw, mq.brokerAddr, 'TimerStop', 'held-on-topic', { TIMER_DELAY_MS: '300' });
    assert.equal(r2.code, ResponseCode.SUCCESS, r2.remark);
    await sleep(1800); // both are due by now
    assert.deepEqual((await pullAll(api, mq.brokerAddr, 'TimerStop')).map((m) => m.body.toString()), []);
    assert.equal(timer.stats.enqueued, 1);
    assert.equal(timer.runtimeInfo().timerOffsetBehind, '1');
    cfg.timerStopEnqueue = false;
    cfg.timerStopDequeue = false;
    await until(async () => (await pullAll(api, mq.brokerAddr, 'TimerStop')).length === 2, 8000, 'both timers delivered');
  });
});
