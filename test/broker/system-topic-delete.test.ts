import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MQClientAPI } from '../../src/client/index.js';
import { RemotingClient, createRequest } from '../../src/remoting/index.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { tempDir } from '../helpers/tmp.js';
import { sendRaw, startTimerMQ, waitForBodies } from '../broker/timer-helpers.js';

/**
 * Upstream AdminBrokerProcessor.deleteTopic refuses any system topic (rmq_sys_* included,
 * validateSystemTopicWhenUpdateTopic=true by default) with INVALID_PARAMETER. Here the timer
 * topic can be deleted: its ConsumeQueue starts again at offset 0 while the timer store keeps
 * its old read offset, so later timer messages are never filed nor delivered.
 */
test('the timer system topic cannot be deleted, and timers keep working after the attempt', async () => {
  const tmp = tempDir('rmq-timer-deltopic-');
  const mq = await startTimerMQ(tmp.dir);
  const raw = new RemotingClient();
  const api = new MQClientAPI();
  try {
    for (let i = 0; i < 3; i++) {
      const r = await sendRaw(raw, mq.brokerAddr, 'DelSysTopic', `before${i}`, { TIMER_DELAY_MS: '500' });
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    }
    await waitForBodies(api, mq.brokerAddr, 'DelSysTopic', 3, 5000);
    const del = await raw.invoke(mq.brokerAddr, createRequest(RequestCode.DELETE_TOPIC_IN_BROKER, { extFields: { topic: 'rmq_sys_wheel_timer' } }), 5000);
    const r = await sendRaw(raw, mq.brokerAddr, 'DelSysTopic', 'after', { TIMER_DELAY_MS: '500' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    let delivered = true;
    await waitForBodies(api, mq.brokerAddr, 'DelSysTopic', 4, 5000).catch(() => { delivered = false; });
    assert.ok(delivered, `a timer sent after DELETE_TOPIC_IN_BROKER rmq_sys_wheel_timer (answered ${del.code}) was never delivered`);
    assert.equal(del.code, ResponseCode.INVALID_PARAMETER, 'deleting a system topic is refused');
  } finally {
    await api.shutdown();
    await raw.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
