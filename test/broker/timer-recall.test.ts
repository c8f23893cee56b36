import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode } from '../../src/remoting/codes.js';
import { buildRecallHandle, decodeRecallHandle } from '../../src/common/recall-handle.js';
import { atSecondStart, pullAll, recall, sendRaw, sleep, waitForBodies, withTimerMQ as withMQ } from './timer-helpers.js';

/**
 * Cancelling a pending timer message: RECALL_MESSAGE with the handle of the send response
 * (upstream `RecallMessageProcessor`), and a message carrying TIMER_DEL_UNIQKEY for the same time.
 */

test('RECALL_MESSAGE with the send response handle cancels a pending timer; later recalls get clear errors', async () => {
  await withMQ({}, async ({ mq, raw, api }) => {
    const target = await sendRaw(raw, mq.brokerAddr, 'RecallTopic', 'recalled', { TIMER_DELAY_SEC: '3' });
    const keep = await sendRaw(raw, mq.brokerAddr, 'RecallTopic', 'kept', { TIMER_DELAY_SEC: '3' });
    const handle = target.extFields!.recallHandle!;
    const r = await recall(raw, mq.brokerAddr, 'RecallTopic', handle);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    assert.equal(r.extFields?.msgId, target.extFields?.transactionId);

    const again = await recall(raw, mq.brokerAddr, 'RecallTopic', handle);
    assert.equal(again.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(again.remark ?? '', /already recalled/);

    // An unknown message id at a valid future time.
    const h = decodeRecallHandle(handle);
    const unknown = await recall(raw, mq.brokerAddr, 'RecallTopic', buildRecallHandle('RecallTopic', 'broker-timer', h.timestampMs, '0A0000010000000000000000DEADBEEF'));
    assert.equal(unknown.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(unknown.remark ?? '', /no pending timer message/);

    const bad = await recall(raw, mq.brokerAddr, 'RecallTopic', 'not a handle!');
    assert.equal(bad.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(bad.remark ?? '', /recall handle is invalid/);
    await sendRaw(raw, mq.brokerAddr, 'OtherTopic', 'x', {});
    const mismatch = await recall(raw, mq.brokerAddr, 'OtherTopic', handle);
    assert.equal(mismatch.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(mismatch.remark ?? '', /topic not match/);
    const otherBroker = await recall(raw, mq.brokerAddr, 'RecallTopic', buildRecallHandle('RecallTopic', 'broker-x', h.timestampMs, h.messageId));
    assert.equal(otherBroker.code, ResponseCode.ILLEGAL_OPERATION);
    const noTopic = await recall(raw, mq.brokerAddr, 'NoSuchTopic', buildRecallHandle('NoSuchTopic', 'broker-timer', h.timestampMs, h.messageId));
    assert.equal(noTopic.code, ResponseCode.TOPIC_NOT_EXIST);

    // Due when the second after the requested one begins: at most 4 s after the send.
    const got = await waitForBodies(api, mq.brokerAddr, 'RecallTopic', 1, 6000);
    // The recalled one was sent first: its slot is no later than kept's, so it has been read by now.
    await sleep(300);
    assert.deepEqual([...got.keys()], ['kept']);
    assert.deepEqual((await pullAll(api, mq.brokerAddr, 'RecallTopic')).map((m) => m.body.toString()), ['kept']);
    // The marker itself is never delivered anywhere.
    assert.equal(mq.broker.timerMessageStore.stats.recalled, 1);

    // Once delivered, a handle cannot recall.
    const late = await recall(raw, mq.brokerAddr, 'RecallTopic', keep.extFields!.recallHandle!);
    assert.equal(late.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(late.remark ?? '', /already delivered/);
  });
});

test('a message with TIMER_DEL_UNIQKEY for the same time cancels the pending timer message', async () => {
  await withMQ({}, async ({ mq, raw, api }) => {
    await atSecondStart();
    const at = String(Date.now() + 2400);
    const target = await sendRaw(raw, mq.brokerAddr, 'DelKeyTopic', 'cancelled', { TIMER_DELIVER_MS: at });
    await sendRaw(raw, mq.brokerAddr, 'DelKeyTopic', 'stays', { TIMER_DELIVER_MS: at });
    const bareKeyTarget = await sendRaw(raw, mq.brokerAddr, 'DelKeyTopic', 'cancelled-too', { TIMER_DELIVER_MS: at });
    const uniq = target.extFields!.transactionId!;
    // upstream's key form `topic+uniqKey`, and a bare unique key meaning the marker's own topic.
    const m1 = await sendRaw(raw, mq.brokerAddr, 'DelKeyTopic', 'marker', { TIMER_DELIVER_MS: at, TIMER_DEL_UNIQKEY: `DelKeyTopic+${uniq}` });
    const m2 = await sendRaw(raw, mq.brokerAddr, 'DelKeyTopic', 'marker2', { TIMER_DELIVER_MS: at, TIMER_DEL_UNIQKEY: bareKeyTarget.extFields!.transactionId! });
    assert.equal(m1.code, ResponseCode.SUCCESS);
    assert.equal(m2.code, ResponseCode.SUCCESS);
    await waitForBodies(api, mq.brokerAddr, 'DelKeyTopic', 1, 5000);
    // All five share one slot, read as a whole by now.
    await sleep(300);
    assert.deepEqual((await pullAll(api, mq.brokerAddr, 'DelKeyTopic')).map((m) => m.body.toString()), ['stays']);
  });
});
