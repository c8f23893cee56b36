import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '../../src/admin/index.js';
import { decodeTimerCheckpoint } from '../../src/client/admin-bodies.js';
import { RemotingClient, createRequest, type RemotingCommand } from '../../src/remoting/index.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { TIMER_TOPIC } from '../../src/broker/timer/timer-const.js';
import type { Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { recall, sendRaw, startTimerMQ, waitForBodies } from './timer-helpers.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';

// GET_TIMER_CHECK_POINT (60) and GET_TIMER_METRICS (61) against a real broker with timers, as
// upstream's slaves and pre-online brokers ask their master: the checkpoint's 56 bytes as
// `config/timercheck` holds them, and the pending timer messages per topic as upstream's
// TimerMetricsSerializeWrapper JSON, kept across a restart and dropped with the topic.

async function metricsOf(raw: RemotingClient, addr: string): Promise<{ text: string; counts: Record<string, number> }> {
  const res = await raw.invoke(addr, createRequest(RequestCode.GET_TIMER_METRICS), 5000);
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const text = res.body!.toString();
  const o = JSON.parse(text) as { timingCount: Record<string, { count: number; timeStamp: number }> };
  return { text, counts: Object.fromEntries(Object.entries(o.timingCount).map(([k, v]) => [k, v.count])) };
}

test('GET_TIMER_METRICS counts pending timers per topic (a recall cancels one, a delivery ends one); GET_TIMER_CHECK_POINT is config/timercheck', async () => {
  const tmp = tempDir('rmq-timer-metrics-');
  let mq: Standalone | undefined = await startTimerMQ(tmp.dir);
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  try {
    const addr = mq.brokerAddr;
    const t0 = Date.now();
    for (const b of ['a1', 'a2']) assert.equal((await sendRaw(raw, addr, 'TimerMetricA', b, { TIMER_DELAY_SEC: '2' })).code, ResponseCode.SUCCESS);
    await sendRaw(raw, addr, 'TimerMetricB', 'b1', { TIMER_DELAY_SEC: '40' });
    const b2 = await sendRaw(raw, addr, 'TimerMetricB', 'b2', { TIMER_DELAY_SEC: '40' });
    assert.equal((await recall(raw, addr, 'TimerMetricB', b2.extFields!.recallHandle!)).code, ResponseCode.SUCCESS);

    await waitUntil(async () => { const m = (await metricsOf(raw, addr)).counts; return m.TimerMetricA === 2 && m.TimerMetricB === 1; }, 'two timers of A and one of B pending');
    const { text } = await metricsOf(raw, addr);
    // fastjson's field order (sorted), upstream's names.
    assert.match(text, /^\{"dataVersion":\{"counter":\d+,"stateVersion":0,"timestamp":\d+\},"timingCount":\{.*"TimerMetricA":\{"count":2,"timeStamp":\d+\}/);

    await waitForBodies(api, addr, 'TimerMetricA', 2, 8000);
    await waitUntil(async () => (await metricsOf(raw, addr)).counts.TimerMetricA === 0, 'A delivered');
    const viaAdmin = await admin.getTimerMetrics(addr);
    assert.equal(viaAdmin.timingCount.get('TimerMetricB')?.count, 1);
    assert.ok(viaAdmin.dataVersion.counter >= 5, `a new data version per change (${viaAdmin.dataVersion.counter})`);

    // The checkpoint: 56 bytes, exactly the file's first 56 (taken again if a step wrote it between the two reads).
    let body!: Buffer;
    await waitUntil(async () => {
      const res = await raw.invoke(addr, createRequest(RequestCode.GET_TIMER_CHECK_POINT), 5000);
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      body = res.body!;
      return body.equals(readFileSync(join(tmp.dir, 'config', 'timercheck')).subarray(0, 56));
    }, 'the checkpoint as the file holds it');
    assert.equal(body.length, 56);
    const cp = decodeTimerCheckpoint(body);
    assert.ok(cp.lastReadTimeMs > t0 && cp.lastReadTimeMs <= Date.now() + 1000, `read time ${cp.lastReadTimeMs - t0} ms after the sends`);
    assert.ok(cp.lastTimerQueueOffset <= mq.broker.messageStore.getMaxOffsetInQueue(TIMER_TOPIC, 0));
    await waitUntil(async () => (await admin.getTimerCheckPoint(addr)).lastTimerQueueOffset === 5, 'the checkpoint covers the five timer-topic entries (four timers, one marker)');
    const viaApi = await api.getTimerCheckPoint(addr);
    assert.ok(viaApi.dataVersion.counter > 0 && viaApi.dataVersion.timestamp > 0);
    assert.ok(viaApi.lastTimerLogFlushPos > 0);

    // Persisted (config/timermetrics) and loaded again after a restart.
    await admin.shutdown();
    await mq.shutdown();
    mq = await startTimerMQ(tmp.dir);
    const after = (await metricsOf(raw, mq.brokerAddr)).counts;
    assert.equal(after.TimerMetricB, 1);
    assert.equal(after.TimerMetricA, 0);
    assert.ok(JSON.parse(readFileSync(join(tmp.dir, 'config', 'timermetrics'), 'utf8')).timingCount.TimerMetricB.count === 1);

    // Deleting the topic drops its count (upstream deleteTopicInBroker → removeTimingCount).
    const del = await raw.invoke(mq.brokerAddr, createRequest(RequestCode.DELETE_TOPIC_IN_BROKER, { extFields: { topic: 'TimerMetricB' } }), 5000);
    assert.equal(del.code, ResponseCode.SUCCESS, del.remark);
    assert.equal((await metricsOf(raw, mq.brokerAddr)).counts.TimerMetricB, undefined);
  } finally {
    await admin.shutdown();
    await api.shutdown();
    await raw.shutdown();
    await mq?.shutdown();
    tmp.cleanup();
  }
});

test('with timerWheelEnable=false both are refused with upstream\'s remarks; odd headers and bodies change nothing; the broker keeps serving', async () => {
  const tmp = tempDir('rmq-timer-off-');
  const mq = await startTimerMQ(tmp.dir, { timerWheelEnable: false });
  const raw = new RemotingClient();
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  try {
    const ask = (code: number, extFields?: Record<string, string>, body?: Buffer): Promise<RemotingCommand> => raw.invoke(mq.brokerAddr, createRequest(code, { extFields, body }), 5000);
    for (const ext of [undefined, { topic: '', x: '-1' }]) {
      const cp = await ask(RequestCode.GET_TIMER_CHECK_POINT, ext, Buffer.from('{'));
      assert.equal(cp.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(cp.remark, 'The checkpoint is null');
      const m = await ask(RequestCode.GET_TIMER_METRICS, ext, Buffer.from('garbage'));
      assert.equal(m.code, ResponseCode.SYSTEM_ERROR);
      assert.equal(m.remark, 'The timer message store is null');
    }
    await assert.rejects(admin.getTimerMetrics(mq.brokerAddr), /The timer message store is null/);
    await assert.rejects(admin.getTimerCheckPoint(mq.brokerAddr), /The checkpoint is null/);
    assert.equal((await ask(RequestCode.GET_BROKER_RUNTIME_INFO)).code, ResponseCode.SUCCESS);
  } finally {
    await admin.shutdown();
    await raw.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
  // With timers on, a header and body that mean nothing to these codes are ignored.
  const tmp2 = tempDir('rmq-timer-odd-');
  const on = await startTimerMQ(tmp2.dir);
  const raw2 = new RemotingClient();
  try {
    const res = await raw2.invoke(on.brokerAddr, createRequest(RequestCode.GET_TIMER_CHECK_POINT, { extFields: { lastReadTimeMs: 'x' }, body: Buffer.alloc(3) }), 5000);
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.body?.length, 56);
    assert.equal((await raw2.invoke(on.brokerAddr, createRequest(RequestCode.GET_TIMER_METRICS, { body: Buffer.from('[') }), 5000)).code, ResponseCode.SUCCESS);
  } finally {
    await raw2.shutdown();
    await on.shutdown();
    tmp2.cleanup();
  }
});
