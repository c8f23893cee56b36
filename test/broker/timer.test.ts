import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/index.js';
import { RemotingClient } from '../../src/remoting/index.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { decodeRecallHandle } from '../../src/common/recall-handle.js';
import { tempDir } from '../helpers/tmp.js';
import { atSecondStart, propsOf, pullAll, recall, sendRaw, sleep, startTimerMQ, waitForBodies, withTimerMQ as withMQ } from './timer-helpers.js';

test('each property form is filed under its time rounded down to the second and delivered when that second ends', async () => {
  await withMQ({}, async ({ mq, raw, api }) => {
    await atSecondStart();
    const now = Date.now();
    const cases: Array<{ topic: string; props: Record<string, string>; want: number; queueId: number }> = [
      { topic: 'TimerSec', props: { TIMER_DELAY_SEC: '2' }, want: now + 2000, queueId: 1 },
      { topic: 'TimerMs', props: { TIMER_DELAY_MS: '2500' }, want: now + 2500, queueId: 2 },
      { topic: 'TimerAt', props: { TIMER_DELIVER_MS: String(now + 3300) }, want: now + 3300, queueId: 3 },
    ];
    const sent = await Promise.all(cases.map((c) => sendRaw(raw, mq.brokerAddr, c.topic, `${c.topic}-body`, { ...c.props, TAGS: 'TagA', KEYS: 'k1' }, c.queueId)));
    for (const [i, r] of sent.entries()) {
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
      assert.equal(r.extFields?.queueId, String(cases[i]!.queueId));
      const h = decodeRecallHandle(r.extFields?.recallHandle);
      assert.equal(h.topic, cases[i]!.topic);
      assert.equal(h.brokerName, 'broker-timer');
      assert.equal(h.messageId, r.extFields?.transactionId);
      // TIMER_OUT_MS + 1, TIMER_OUT_MS being the requested time rounded down to the second.
      assert.equal(h.timestampMs - 1, Math.floor(cases[i]!.want / 1000) * 1000);
      // Parked: nothing on the real topic yet.
      assert.equal((await pullAll(api, mq.brokerAddr, cases[i]!.topic, cases[i]!.queueId)).length, 0);
    }
    const got = await Promise.all(cases.map((c) => waitForBodies(api, mq.brokerAddr, c.topic, 1, 6000, c.queueId)));
    for (const [i, c] of cases.entries()) {
      const { seenAt, msg } = got[i]!.get(`${c.topic}-body`)!;
      const out = Math.floor(c.want / 1000) * 1000;
      // Its slot is read once the second it names is over: never before the requested time.
      const due = out + 1000;
      assert.ok(msg.storeTimestamp >= c.want, `${c.topic}: delivered ${c.want - msg.storeTimestamp} ms before the requested time`);
      assert.ok(msg.storeTimestamp >= due, `${c.topic}: delivered ${due - msg.storeTimestamp} ms before its slot ended`);
      assert.ok(seenAt - due < 1000, `${c.topic}: visible ${seenAt - due} ms after its slot ended`);
      assert.equal(msg.topic, c.topic);
      assert.equal(msg.queueId, c.queueId);
      const p = propsOf(msg);
      assert.equal(p.get('TAGS'), 'TagA');
      assert.equal(p.get('KEYS'), 'k1');
      assert.equal(p.get('TIMER_OUT_MS'), String(out));
      assert.equal(p.get('REAL_TOPIC'), undefined);
      assert.equal(p.get('REAL_QID'), undefined);
      assert.ok(Number(p.get('TIMER_DEQUEUE_MS')) >= due);
      assert.ok(Number(p.get('TIMER_ENQUEUE_MS')) > 0);
      assert.equal(msg.reconsumeTimes, 0);
    }
  });
});

test('precedence: TIMER_DELAY_SEC over TIMER_DELAY_MS over TIMER_DELIVER_MS; a DELAY level drops them all', async () => {
  await withMQ({ messageDelayLevel: '1s 2s' }, async ({ mq, raw, api }) => {
    await atSecondStart();
    const now = Date.now();
    const far = String(now + 30_000);
    const a = await sendRaw(raw, mq.brokerAddr, 'PrecA', 'sec-wins', { TIMER_DELAY_SEC: '1', TIMER_DELAY_MS: '20000', TIMER_DELIVER_MS: far });
    const b = await sendRaw(raw, mq.brokerAddr, 'PrecB', 'ms-wins', { TIMER_DELAY_MS: '1500', TIMER_DELIVER_MS: far });
    const c = await sendRaw(raw, mq.brokerAddr, 'PrecC', 'level-wins', { DELAY: '1', TIMER_DELAY_SEC: '30', TIMER_DELIVER_MS: far });
    for (const r of [a, b, c]) assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const outA = decodeRecallHandle(a.extFields?.recallHandle).timestampMs - 1;
    const outB = decodeRecallHandle(b.extFields?.recallHandle).timestampMs - 1;
    assert.equal(outA, Math.floor((now + 1000) / 1000) * 1000);
    assert.equal(outB, Math.floor((now + 1500) / 1000) * 1000);
    // A delay-level message is no timer message: no recall handle.
    assert.equal(c.extFields?.recallHandle, undefined);
    const [ga, gb, gc] = await Promise.all([
      waitForBodies(api, mq.brokerAddr, 'PrecA', 1, 4000),
      waitForBodies(api, mq.brokerAddr, 'PrecB', 1, 4000),
      waitForBodies(api, mq.brokerAddr, 'PrecC', 1, 4000),
    ]);
    // Each at the end of its own slot, not at the losing properties' 20 s or 30 s.
    for (const [{ seenAt, msg }, out, want] of [[ga.get('sec-wins')!, outA, now + 1000], [gb.get('ms-wins')!, outB, now + 1500]] as const) {
      assert.ok(msg.storeTimestamp >= want && msg.storeTimestamp >= out + 1000, `delivered ${want - msg.storeTimestamp} ms before its time`);
      assert.ok(seenAt - (out + 1000) < 1000, `visible ${seenAt - out - 1000} ms after its slot ended`);
    }
    const lvl = propsOf(gc.get('level-wins')!.msg);
    assert.equal(lvl.get('TIMER_DELAY_SEC'), undefined);
    assert.equal(lvl.get('TIMER_DELIVER_MS'), undefined);
    assert.equal(lvl.get('TIMER_OUT_MS'), undefined);
    assert.equal(lvl.get('REAL_TOPIC'), 'PrecC');
  });
});

test('a delay over timerMaxDelaySec, a non-integer delay and a delete marker for a past time are MESSAGE_ILLEGAL', async () => {
  await withMQ({ timerMaxDelaySec: 10 }, async ({ mq, raw, api }) => {
    const over = await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELAY_SEC: '11' });
    assert.equal(over.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(over.remark ?? '', /max delay 10000ms/);
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELAY_MS: '10001' })).code, ResponseCode.MESSAGE_ILLEGAL);
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELIVER_MS: String(Date.now() + 11_000) })).code, ResponseCode.MESSAGE_ILLEGAL);
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELAY_SEC: '1.5' })).code, ResponseCode.MESSAGE_ILLEGAL);
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELIVER_MS: 'soon' })).code, ResponseCode.MESSAGE_ILLEGAL);
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELIVER_MS: String(Date.now() - 1000), TIMER_DEL_UNIQKEY: 'Illegal+ABC' })).code, ResponseCode.MESSAGE_ILLEGAL);
    // Exactly the maximum is accepted.
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'Illegal', 'x', { TIMER_DELAY_SEC: '10' })).code, ResponseCode.SUCCESS);
    assert.equal((await pullAll(api, mq.brokerAddr, 'Illegal')).length, 0);
  });
});

test('a delivery time in the past is delivered at once, as a normal message', async () => {
  await withMQ({}, async ({ mq, raw, api }) => {
    const r = await sendRaw(raw, mq.brokerAddr, 'PastTopic', 'past', { TIMER_DELIVER_MS: String(Date.now() - 5000) });
    assert.equal(r.code, ResponseCode.SUCCESS);
    assert.equal(r.extFields?.recallHandle, undefined);
    const got = await pullAll(api, mq.brokerAddr, 'PastTopic');
    assert.equal(got.length, 1);
    assert.equal(got[0]!.body.toString(), 'past');
    assert.equal(propsOf(got[0]!).get('TIMER_OUT_MS'), undefined);
    // A negative relative delay too.
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'PastTopic', 'negative', { TIMER_DELAY_SEC: '-3' })).code, ResponseCode.SUCCESS);
    assert.equal((await pullAll(api, mq.brokerAddr, 'PastTopic')).length, 2);
  });
});

test('with timerWheelEnable=false a timer message is refused with SYSTEM_ERROR', async () => {
  await withMQ({ timerWheelEnable: false }, async ({ mq, raw, api }) => {
    const forms: Array<Record<string, string>> = [{ TIMER_DELAY_SEC: '5' }, { TIMER_DELAY_MS: '5000' }, { TIMER_DELIVER_MS: String(Date.now() + 5000) }];
    for (const props of forms) {
      const r = await sendRaw(raw, mq.brokerAddr, 'NoWheel', 'x', props);
      assert.equal(r.code, ResponseCode.SYSTEM_ERROR);
      assert.match(r.remark ?? '', /timerWheelEnable is false/);
    }
    // Ordinary messages are unaffected.
    assert.equal((await sendRaw(raw, mq.brokerAddr, 'NoWheel', 'plain', {})).code, ResponseCode.SUCCESS);
    assert.equal((await pullAll(api, mq.brokerAddr, 'NoWheel')).length, 1);
  });
});

test('pending timers survive a clean restart and are delivered once, on time', async () => {
  const tmp = tempDir('rmq-timer-restart-');
  let mq = await startTimerMQ(tmp.dir);
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  try {
    const now = Date.now();
    const sent = [];
    for (let i = 0; i < 20; i++) sent.push(sendRaw(raw, mq.brokerAddr, 'RestartTopic', `m${i}`, { TIMER_DELAY_MS: String(2500 + (i % 4) * 500) }));
    const rs = await Promise.all(sent);
    for (const r of rs) assert.equal(r.code, ResponseCode.SUCCESS);
    const recallMe = await sendRaw(raw, mq.brokerAddr, 'RestartTopic', 'recalled-before-restart', { TIMER_DELAY_MS: '3000' });
    assert.equal((await recall(raw, mq.brokerAddr, 'RestartTopic', recallMe.extFields!.recallHandle!)).code, ResponseCode.SUCCESS);
    await mq.shutdown();
    mq = await startTimerMQ(tmp.dir);
    // A pending handle still recalls after the restart.
    assert.equal((await recall(raw, mq.brokerAddr, 'RestartTopic', rs[19]!.extFields!.recallHandle!)).code, ResponseCode.SUCCESS);
    const got = await waitForBodies(api, mq.brokerAddr, 'RestartTopic', 19, 8000);
    for (const [body, { seenAt, msg }] of got) {
      const i = Number(body.slice(1));
      // Not before its time, and on time after the restart (which may take a moment): soon after its slot's end.
      const due = decodeRecallHandle(rs[i]!.extFields?.recallHandle).timestampMs - 1 + 1000;
      assert.ok(msg.storeTimestamp >= now + 2500 + (i % 4) * 500 && msg.storeTimestamp >= due, `${body} delivered ${due - msg.storeTimestamp} ms before its slot ended`);
      assert.ok(seenAt - due < 1500, `${body} visible ${seenAt - due} ms after its slot ended`);
    }
    await sleep(1000);
    const all = (await pullAll(api, mq.brokerAddr, 'RestartTopic')).map((m) => m.body.toString());
    assert.equal(all.length, 19, `delivered: ${all.join(',')}`);
    assert.equal(new Set(all).size, 19);
    assert.ok(!all.includes('m19') && !all.includes('recalled-before-restart'));
  } finally {
    await api.shutdown();
    await raw.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
