import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/index.js';
import { RemotingClient } from '../../src/remoting/index.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { decodeRecallHandle } from '../../src/common/recall-handle.js';
import type { MessageStoreConfig } from '../../src/common/config.js';
import type { Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { propsOf, sendRaw, sleep, startTimerMQ, waitForBodies } from './timer-helpers.js';

/**
 * When a timer message is delivered. Upstream files it under TIMER_OUT_MS, its time rounded down
 * to the precision (an exact multiple one step earlier, `HookUtils.transformTimerMessage`), and
 * reads a slot only once the current time rounded down has passed it (`TimerMessageStore.dequeue`):
 * a timer is delivered at the end of its slot, never before its time and less than one precision
 * step after it. The delivery time checked is the store time of the copy on the real topic.
 */

/** How long after its slot's end a delivery may take on a loaded machine; below one 1 s step. */
const SLACK_MS = 900;

interface Case {
  body: string;
  props: Record<string, string>;
  /** The earliest the broker may have meant (client clock before the send). */
  notBefore: number;
}

async function deliverAndCheck(storeConfig: Partial<MessageStoreConfig>, precisionMs: number, topic: string, make: (base: number) => Case[]): Promise<void> {
  const tmp = tempDir('rmq-timer-early-');
  let mq: Standalone | undefined;
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  try {
    mq = await startTimerMQ(tmp.dir, storeConfig);
    // Just after a second boundary, so every case below is ahead of the clock.
    await sleep(1000 - (Date.now() % 1000) + 20);
    const cases = make(Date.now() - (Date.now() % 1000));
    const outMs = new Map<string, number>();
    for (const c of cases) {
      const r = await sendRaw(raw, mq.brokerAddr, topic, c.body, c.props);
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
      outMs.set(c.body, decodeRecallHandle(r.extFields?.recallHandle).timestampMs - 1);
    }
    const got = await waitForBodies(api, mq.brokerAddr, topic, cases.length, 8000);
    for (const c of cases) {
      const { msg } = got.get(c.body)!;
      const out = outMs.get(c.body)!;
      assert.equal(propsOf(msg).get('TIMER_OUT_MS'), String(out));
      // The slot's end: the requested time itself when it is a multiple of the precision.
      const due = out + precisionMs;
      assert.ok(due >= c.notBefore && due - c.notBefore < precisionMs + 250, `${c.body}: slot ends at ${due}, asked for ${c.notBefore}`);
      assert.ok(msg.storeTimestamp >= c.notBefore, `${c.body}: delivered ${c.notBefore - msg.storeTimestamp} ms before its time`);
      assert.ok(msg.storeTimestamp >= due, `${c.body}: delivered ${due - msg.storeTimestamp} ms before its slot ended`);
      assert.ok(Number(propsOf(msg).get('TIMER_DEQUEUE_MS')) >= c.notBefore);
      assert.ok(msg.storeTimestamp - due < SLACK_MS, `${c.body}: delivered ${msg.storeTimestamp - due} ms after its slot ended`);
    }
  } finally {
    await api.shutdown();
    await raw.shutdown();
    await mq?.shutdown();
    tmp.cleanup();
  }
}

test('a timer message is not delivered before its time, and within a precision step after it (1 s)', async () => {
  await deliverAndCheck({}, 1000, 'EarlyTopic', (base): Case[] => {
    const now = Date.now();
    return [
      // An exact multiple of the precision: due exactly then.
      { body: 'exact', props: { TIMER_DELIVER_MS: String(base + 2000) }, notBefore: base + 2000 },
      // Inside a second: due at the end of that second.
      { body: 'inner', props: { TIMER_DELIVER_MS: String(base + 2600) }, notBefore: base + 2600 },
      { body: 'sec', props: { TIMER_DELAY_SEC: '2' }, notBefore: now + 2000 },
      { body: 'ms', props: { TIMER_DELAY_MS: '1990' }, notBefore: now + 1990 },
    ];
  });
});

test('with a 100 ms precision, exact multiples and times inside a step are not delivered early', async () => {
  await deliverAndCheck({ timerPrecisionMs: 100 }, 100, 'EarlyFine', (base) =>
    [600, 650, 700, 701, 799, 800, 1000, 1150].map((d) => ({ body: `at${d}`, props: { TIMER_DELIVER_MS: String(base + d) }, notBefore: base + d })));
});
