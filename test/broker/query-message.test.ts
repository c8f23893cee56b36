import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { encodeProperties, getProperty } from '../../src/common/properties.js';
import { bodies, newClient, records, request, sendV2Ext, sleep, startMQ, type TestMQ } from './helpers.js';

// QUERY_MESSAGE (12) against a real broker: by key within a time range, by unique key, limits.

let t: TestMQ;
let c: RemotingClient;
let broker: string;

before(async () => {
  // Small index files, so that the queries below also cross a rollover.
  t = await startMQ({ storeConfig: { maxHashSlotNum: 1000, maxIndexNum: 4000 } });
  broker = t.mq.brokerAddr;
  c = newClient();
});

after(async () => {
  await c?.shutdown();
  await t?.close();
});

async function send(topic: string, body: string, props: Record<string, string>): Promise<void> {
  const ext = { ...sendV2Ext({ topic, body }), i: encodeProperties({ WAIT: 'true', ...props }) };
  const res = await c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, ext, Buffer.from(body)));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
}

interface Query {
  topic: string;
  key: string;
  maxNum?: number;
  begin?: number;
  end?: number;
  unique?: boolean;
}

function query(q: Query, serializeType: (typeof SerializeType)[keyof typeof SerializeType] = SerializeType.ROCKETMQ): Promise<RemotingCommand> {
  return c.invoke(broker, request(RequestCode.QUERY_MESSAGE, {
    topic: q.topic, key: q.key, maxNum: q.maxNum ?? 64, beginTimestamp: q.begin ?? 0, endTimestamp: q.end ?? Number.MAX_SAFE_INTEGER,
    _UNIQUE_KEY_QUERY: q.unique === undefined ? undefined : String(q.unique),
  }, undefined, serializeType));
}

test('by key within a time range: messages stored outside it are left out', async () => {
  for (let i = 0; i < 3; i++) await send('QmRange', `early-${i}`, { KEYS: 'order-42' });
  const split = Date.now() + 1000;
  // Index times have second precision: leave more than two seconds between the groups.
  await sleep(2500);
  for (let i = 0; i < 3; i++) await send('QmRange', `late-${i}`, { KEYS: 'other order-42' });
  const all = await query({ topic: 'QmRange', key: 'order-42' });
  assert.equal(all.code, ResponseCode.SUCCESS, all.remark);
  assert.deepEqual(bodies(all), ['early-0', 'early-1', 'early-2', 'late-0', 'late-1', 'late-2']);
  assert.ok(Number(all.extFields!.indexLastUpdateTimestamp) >= split);
  assert.ok(Number(all.extFields!.indexLastUpdatePhyoffset) > 0);
  assert.deepEqual(bodies(await query({ topic: 'QmRange', key: 'order-42', end: split })), ['early-0', 'early-1', 'early-2']);
  assert.deepEqual(bodies(await query({ topic: 'QmRange', key: 'order-42', begin: split })), ['late-0', 'late-1', 'late-2']);
  assert.deepEqual(bodies(await query({ topic: 'QmRange', key: 'other', begin: split })), ['late-0', 'late-1', 'late-2']);
  const none = await query({ topic: 'QmRange', key: 'order-42', end: split - 60_000 });
  assert.equal(none.code, ResponseCode.QUERY_NOT_FOUND);
  // The records are returned as stored, keys included; a JSON-header request gets the same.
  const json = await query({ topic: 'QmRange', key: 'order-42', begin: split }, SerializeType.JSON);
  assert.deepEqual(bodies(json), ['late-0', 'late-1', 'late-2']);
  assert.equal(getProperty(records(json)[0]!.properties, 'KEYS'), 'other order-42');
});

test('maxNum is respected and capped at maxMsgsNumBatch (64); the newest come back', async () => {
  for (let i = 0; i < 70; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => send('QmMax', `m-${i + j}`, { KEYS: 'many' })));
  const three = await query({ topic: 'QmMax', key: 'many', maxNum: 3 });
  assert.equal(records(three).length, 3);
  const capped = await query({ topic: 'QmMax', key: 'many', maxNum: 1000 });
  assert.equal(records(capped).length, 64);
  // Returned in CommitLog order.
  const offsets = records(capped).map((m) => m.commitLogOffset);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
});

test('by unique key: _UNIQUE_KEY_QUERY=true forces maxNum to defaultQueryMaxNum (32)', async () => {
  const uniq = '7F00000100002A9F0000000000000001';
  await send('QmUniq', 'the-one', { UNIQ_KEY: uniq, KEYS: 'k' });
  const res = await query({ topic: 'QmUniq', key: uniq, maxNum: 0, unique: true });
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.deepEqual(bodies(res), ['the-one']);
  assert.equal(getProperty(records(res)[0]!.properties, 'UNIQ_KEY'), uniq);
  // The same unique key on 40 records (resends): 32 of them.
  await Promise.all(Array.from({ length: 40 }, (_, i) => send('QmUniq', `resend-${i}`, { UNIQ_KEY: 'RESENT' })));
  assert.equal(records(await query({ topic: 'QmUniq', key: 'RESENT', maxNum: 1, unique: true })).length, 32);
  assert.equal(records(await query({ topic: 'QmUniq', key: 'RESENT', maxNum: 1, unique: false })).length, 1);
  assert.equal(records(await query({ topic: 'QmUniq', key: 'RESENT', maxNum: 50 })).length, 40);
});

test('an unknown key answers QUERY_NOT_FOUND (22) with the index header; bad requests are refused and the server keeps serving', async () => {
  const res = await query({ topic: 'QmNone', key: 'no-such-key' });
  assert.equal(res.code, ResponseCode.QUERY_NOT_FOUND);
  assert.equal(res.code, 22);
  assert.match(res.remark ?? '', /can not find message/);
  assert.ok(res.extFields?.indexLastUpdateTimestamp !== undefined);
  assert.ok(res.extFields?.indexLastUpdatePhyoffset !== undefined);
  assert.equal(res.body, undefined);
  // Missing and malformed fields.
  const noKey = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, { topic: 'QmNone', maxNum: 1, beginTimestamp: 0, endTimestamp: 1 }));
  assert.notEqual(noKey.code, ResponseCode.SUCCESS);
  assert.match(noKey.remark ?? '', /key/);
  const badNum = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, { topic: 'QmNone', key: 'k', maxNum: 'ten', beginTimestamp: 0, endTimestamp: 1 }));
  assert.notEqual(badNum.code, ResponseCode.SUCCESS);
  assert.match(badNum.remark ?? '', /maxNum/);
  // Still serving: a send and a query by the key just sent.
  await send('QmNone', 'after', { KEYS: 'after-key' });
  assert.deepEqual(bodies(await query({ topic: 'QmNone', key: 'after-key' })), ['after']);
});

test('keys stay findable across an index file rollover', async () => {
  // 1400 messages with 3 keys each fill more than one 3999-entry file.
  for (let i = 0; i < 1400; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => send('QmRoll', `r-${i + j}`, { UNIQ_KEY: `U-${i + j}`, KEYS: `K-${i + j} shared-roll` })));
  }
  for (const i of [0, 1, 499, 998, 1399]) {
    assert.deepEqual(bodies(await query({ topic: 'QmRoll', key: `K-${i}` })), [`r-${i}`], `K-${i}`);
    assert.deepEqual(bodies(await query({ topic: 'QmRoll', key: `U-${i}`, unique: true })), [`r-${i}`], `U-${i}`);
  }
  assert.equal(records(await query({ topic: 'QmRoll', key: 'shared-roll' })).length, 64);
  assert.ok(t.mq.broker.messageStore.indexService.indexFiles.length >= 2);
});

test('Long.MAX_VALUE as the end (what mqadmin queryMsgByKey and queryMsgByUniqueKey send) is the open end', async () => {
  const uniq = '7F00000100002A9F00000000000000FF';
  await send('QmLongMax', 'open-ended', { UNIQ_KEY: uniq, KEYS: 'lm-key' });
  const ext = (key: string, end: string, unique?: boolean): Record<string, string> => ({
    topic: 'QmLongMax', key, maxNum: '32', beginTimestamp: '0', endTimestamp: end, ...(unique ? { _UNIQUE_KEY_QUERY: 'true' } : {}),
  });
  const byKey = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, ext('lm-key', '9223372036854775807')));
  assert.equal(byKey.code, ResponseCode.SUCCESS, byKey.remark);
  assert.deepEqual(bodies(byKey), ['open-ended']);
  const byUniq = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, ext(uniq, '9223372036854775807', true)));
  assert.equal(byUniq.code, ResponseCode.SUCCESS, byUniq.remark);
  assert.deepEqual(bodies(byUniq), ['open-ended']);
  // A begin of Long.MIN_VALUE is as open; beyond the Java long range is still malformed.
  const minBegin = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, { ...ext('lm-key', '9223372036854775807'), beginTimestamp: '-9223372036854775808' }));
  assert.deepEqual(bodies(minBegin), ['open-ended']);
  const tooBig = await c.invoke(broker, request(RequestCode.QUERY_MESSAGE, ext('lm-key', '9223372036854775808')));
  assert.notEqual(tooBig.code, ResponseCode.SUCCESS);
  assert.match(tooBig.remark ?? '', /endTimestamp/);
});
