import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessQueue } from '../../src/client/process-queue.js';
import type { MessageExt } from '../../src/client/message.js';

function msg(queueOffset: number, size = 10): MessageExt {
  return { queueOffset, body: Buffer.alloc(size) } as unknown as MessageExt;
}

test('concurrent: the committable offset is the smallest one still held, or past the largest', () => {
  const pq = new ProcessQueue();
  const ms = [10, 11, 12, 13].map((o) => msg(o));
  assert.equal(pq.putMessage(ms), true);
  assert.equal(pq.msgCount, 4);
  assert.equal(pq.msgSize, 40);
  assert.equal(pq.maxSpan(), 3);
  assert.equal(pq.removeMessage([ms[1]!, ms[2]!]), 10, 'offset 10 is still being consumed');
  assert.equal(pq.removeMessage([ms[0]!]), 13);
  assert.equal(pq.removeMessage([ms[3]!]), 14);
  assert.equal(pq.msgCount, 0);
  assert.equal(pq.removeMessage([ms[3]!]), -1, 'nothing held');
});

test('orderly: take in order, commit past the taken ones, or put them back in front', () => {
  const pq = new ProcessQueue();
  pq.putMessage([0, 1, 2, 3, 4].map((o) => msg(o)));
  const first = pq.takeMessages(2);
  assert.deepEqual(first.map((m) => m.queueOffset), [0, 1]);
  assert.equal(pq.commit(), 2);
  const again = pq.takeMessages(2);
  pq.makeMessageToConsumeAgain(again);
  assert.deepEqual(pq.takeMessages(10).map((m) => m.queueOffset), [2, 3, 4]);
  pq.rollback();
  assert.deepEqual(pq.messages().map((m) => m.queueOffset), [2, 3, 4]);
  pq.takeMessages(10);
  assert.equal(pq.commit(), 5);
  assert.deepEqual(pq.takeMessages(1), []);
  assert.equal(pq.consuming, false, 'an empty take ends the consume loop');
  assert.equal(pq.putMessage([msg(5)]), true, 'the next put starts it again');
  assert.equal(pq.putMessage([msg(6)]), false);
});

test('a dropped queue stops its pull loop and wakes flow-control waits', async () => {
  const pq = new ProcessQueue();
  const wait = pq.waitForSpace(60_000);
  pq.drop();
  await wait;
  assert.equal(pq.dropped, true);
  assert.equal(pq.pulling.signal.aborted, true);
  const pq2 = new ProcessQueue();
  pq2.putMessage([msg(1)]);
  const w2 = pq2.waitForSpace(60_000);
  pq2.removeMessage(pq2.messages());
  await w2;
});

test('the orderly lock expires 30 s after its last renewal', () => {
  const pq = new ProcessQueue();
  pq.lastLockTimestamp = 1000;
  assert.equal(pq.isLockExpired(30_000), false);
  assert.equal(pq.isLockExpired(31_001), true);
});
