import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { bodies, createTopicRequest, request, sendRequest, sleep, useMQWithClient, type TestMQ } from './helpers.js';

// Offset and message look-ups after retention removed the oldest CommitLog files: the answers
// name what is still stored (upstream ConsumeQueue.correctMinOffset, getOffsetInQueueByTime
// clamped to [min, max], getEarliestMessageTime of the min entry).

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s), { storeConfig: { mappedFileSizeCommitLog: 4096 } });

async function send(topic: string, body: string, keys?: string): Promise<RemotingCommand> {
  const res = await c.invoke(broker, sendRequest({ topic, body, queueId: 0, ...(keys ? { keys } : {}) }));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res;
}

async function ext(code: number, fields: Record<string, string | number>): Promise<Record<string, string>> {
  const res = await c.invoke(broker, request(code, fields));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res.extFields ?? {};
}

test('after retention: min offset, earliest store time, search by time, view and query name only what is stored', async () => {
  for (const topic of ['Aged', 'Filler']) assert.equal((await c.invoke(broker, createTopicRequest(topic, 1, 1))).code, ResponseCode.SUCCESS);
  const sent: RemotingCommand[] = [];
  for (let i = 0; i < 3; i++) sent.push(await send('Aged', `old-${i}`, 'aged-key'));
  for (let i = 0; i < 30; i++) await send('Filler', 'f'.repeat(300));
  await sleep(5);
  for (let i = 3; i < 5; i++) sent.push(await send('Aged', `new-${i}`, 'aged-key'));
  const store = t.mq.broker.messageStore;
  await store.flushConsumeQueues(true);
  assert.ok(store.commitLog.deleteExpiredFiles(() => true, 100) > 0);
  store.cleanLogicFiles();

  const q = { topic: 'Aged', queueId: 0 };
  assert.equal((await ext(RequestCode.GET_MAX_OFFSET, q)).offset, '5');
  assert.equal((await ext(RequestCode.GET_MIN_OFFSET, q)).offset, '3');
  const first = decodeOffsetMessageId(sent[3]!.extFields!.msgId!).commitLogOffset;
  const earliest = Number((await ext(RequestCode.GET_EARLIEST_MSG_STORETIME, q)).timestamp);
  assert.ok(earliest > 0);
  const view = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: first }));
  assert.equal(view.code, ResponseCode.SUCCESS, view.remark);
  // Before the first stored message: the min offset, for either boundary; after the last: max / last.
  for (const boundaryType of ['LOWER', 'UPPER']) {
    assert.equal((await ext(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { ...q, timestamp: 0, boundaryType })).offset, '3', boundaryType);
  }
  assert.equal((await ext(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { ...q, timestamp: earliest })).offset, '3');
  assert.equal((await ext(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { ...q, timestamp: Date.now() + 60_000 })).offset, '5');
  assert.equal((await ext(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { ...q, timestamp: Date.now() + 60_000, boundaryType: 'UPPER' })).offset, '4');

  const gone = decodeOffsetMessageId(sent[0]!.extFields!.msgId!).commitLogOffset;
  const viewGone = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: gone }));
  assert.equal(viewGone.code, ResponseCode.SYSTEM_ERROR);
  const found = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, { topic: 'Aged', key: 'aged-key', maxNum: 32, beginTimestamp: 0, endTimestamp: '9223372036854775807' }));
  assert.equal(found.code, ResponseCode.SUCCESS, found.remark);
  assert.deepEqual(bodies(found), ['new-3', 'new-4']);
});

test('an existing queue with no message: offsets 0, earliest store time -1, search 0', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('Bare', 2, 2))).code, ResponseCode.SUCCESS);
  for (const q of [{ topic: 'Bare', queueId: 1 }, { topic: 'NoSuchTopicHere', queueId: 0 }]) {
    assert.equal((await ext(RequestCode.GET_MAX_OFFSET, q)).offset, '0');
    assert.equal((await ext(RequestCode.GET_MIN_OFFSET, q)).offset, '0');
    assert.equal((await ext(RequestCode.GET_EARLIEST_MSG_STORETIME, q)).timestamp, '-1');
    for (const boundaryType of ['LOWER', 'UPPER']) {
      assert.equal((await ext(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { ...q, timestamp: Date.now(), boundaryType })).offset, '0');
    }
  }
});
