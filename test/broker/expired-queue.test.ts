import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createTopicRequest, pullRequest, request, sendRequest, useMQWithClient, type TestMQ } from '../broker/helpers.js';
import type { RemotingClient } from '../../src/remoting/client.js';

// A queue whose every message has expired (its CommitLog files deleted by retention) keeps its
// offsets: upstream ConsumeQueue.correctMinOffset sets minOffset = maxOffset, and
// DefaultMessageStore.getMessage answers a pull at maxOffset with OFFSET_OVERFLOW_ONE
// (PULL_NOT_FOUND: the pull is held for long polling), as for any caught-up consumer.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s), { storeConfig: { mappedFileSizeCommitLog: 4096 } });

test('a caught-up consumer of a queue whose messages all expired gets PULL_NOT_FOUND (held), not PULL_OFFSET_MOVED', async () => {
  for (const topic of ['Quiet', 'Busy']) assert.equal((await c.invoke(broker, createTopicRequest(topic, 1, 1))).code, ResponseCode.SUCCESS);
  for (let i = 0; i < 3; i++) assert.equal((await c.invoke(broker, sendRequest({ topic: 'Quiet', body: `q${i}`, queueId: 0 }))).code, ResponseCode.SUCCESS);
  // Another topic fills several more CommitLog segments.
  for (let i = 0; i < 60; i++) assert.equal((await c.invoke(broker, sendRequest({ topic: 'Busy', body: 'b'.repeat(300), queueId: 0 }))).code, ResponseCode.SUCCESS);
  const store = t.mq.broker.messageStore;
  await store.flushConsumeQueues(true);
  // Retention removes every segment but the newest (as CleanService does once they are old enough).
  assert.ok(store.commitLog.deleteExpiredFiles(() => true, 100) > 0);
  store.cleanLogicFiles();
  assert.equal(store.getMaxOffsetInQueue('Quiet', 0), 3);
  assert.equal(store.getMinOffsetInQueue('Quiet', 0), 3, 'every Quiet message is gone: min = max');

  const atEnd = await c.invoke(broker, pullRequest({ topic: 'Quiet', queueOffset: 3 }));
  assert.equal(atEnd.code, ResponseCode.PULL_NOT_FOUND, `pull at maxOffset: code ${atEnd.code} ${atEnd.remark ?? ''}`);
  assert.equal(atEnd.extFields?.nextBeginOffset, '3');

  // With suspend, the pull is held and answered by the next message.
  const held = c.invoke(broker, pullRequest({ topic: 'Quiet', queueOffset: 3, suspend: true, suspendTimeoutMillis: 5000 }), 8000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await c.invoke(broker, sendRequest({ topic: 'Quiet', body: 'q3', queueId: 0 }))).code, ResponseCode.SUCCESS);
  const got = await held;
  assert.equal(got.code, ResponseCode.SUCCESS, `held pull: code ${got.code} ${got.remark ?? ''}`);
});

test('a consumer behind the minimum offset left by retention gets PULL_OFFSET_MOVED to it, logged as upstream', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('Behind', 1, 1))).code, ResponseCode.SUCCESS);
  for (let i = 0; i < 40; i++) assert.equal((await c.invoke(broker, sendRequest({ topic: 'Behind', body: 'b'.repeat(300), queueId: 0 }))).code, ResponseCode.SUCCESS);
  const store = t.mq.broker.messageStore;
  await store.flushConsumeQueues(true);
  assert.ok(store.commitLog.deleteExpiredFiles(() => true, 100) > 0);
  store.cleanLogicFiles();
  const min = store.getMinOffsetInQueue('Behind', 0);
  assert.ok(min > 0 && min < 40, `min ${min}`);
  const moved = await c.invoke(broker, pullRequest({ topic: 'Behind', queueOffset: 0 }));
  assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
  assert.equal(moved.extFields?.nextBeginOffset, String(min));
  assert.equal(moved.extFields?.minOffset, String(min));
  assert.ok(t.lines.some((l) => String(l.msg).startsWith(`PULL_OFFSET_MOVED:correction offset. topic=Behind, groupId=`) &&
    String(l.msg).endsWith(`, requestOffset=0, newOffset=${min}, suggestBrokerId=0`)), 'the correction is logged');
  assert.equal((await c.invoke(broker, pullRequest({ topic: 'Behind', queueOffset: min }))).code, ResponseCode.SUCCESS);
});

test('manual deletion is asked with DELETE_EXPIRED_COMMITLOG (329) only: TRIGGER_DELETE_FILES (27) is not a broker request, as upstream', async () => {
  const unsupported = await c.invoke(broker, request(RequestCode.TRIGGER_DELETE_FILES));
  assert.equal(unsupported.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  const asked = await c.invoke(broker, request(RequestCode.DELETE_EXPIRED_COMMITLOG));
  assert.equal(asked.code, ResponseCode.SUCCESS);
  const msgs = t.lines.map((l) => String(l.msg));
  assert.ok(msgs.includes('invoke deleteExpiredCommitLog start.') && msgs.includes('invoke deleteExpiredCommitLog end.'));
  assert.ok(msgs.includes('executeDeleteFilesManually was invoked'));
  for (const [code, start, end] of [
    [RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, 'AdminBrokerProcessor#cleanExpiredConsumeQueue: start.', 'AdminBrokerProcessor#cleanExpiredConsumeQueue: end.'],
    [RequestCode.CLEAN_UNUSED_TOPIC, 'invoke cleanUnusedTopic start.', 'invoke cleanUnusedTopic end.'],
  ] as const) {
    assert.equal((await c.invoke(broker, request(code))).code, ResponseCode.SUCCESS);
    const now = t.lines.map((l) => String(l.msg));
    assert.ok(now.includes(start) && now.includes(end), `${start} / ${end}`);
  }
});
