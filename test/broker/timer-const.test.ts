import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { defaultMessageStoreConfig } from '../../src/common/config.js';
import { MessageSysFlag } from '../../src/common/sysflag.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import type { PutMessageInput } from '../../src/store/message-store.js';
import { parseDelayLevel, toTimerTopic } from '../../src/broker/message-util.js';
import { effectivePrecisionMs, normalizeDeleteKey, roundDeliverMs } from '../../src/broker/timer/timer-const.js';
import { parseJavaLong } from '../../src/common/java.js';
import { buildRecallHandle, decodeRecallHandle } from '../../src/common/recall-handle.js';

test('recall handles are padded URL-safe base64 of "v1 topic broker timestamp id", as Java encodes them', () => {
  assert.equal(buildRecallHandle('a', 'b', 1, 'd').length % 4, 0);
  // Base64.getUrlEncoder().encodeToString("v1 a b 1 d".getBytes(UTF_8))
  assert.equal(buildRecallHandle('a', 'b', 1, 'd'), 'djEgYSBiIDEgZA==');
  const h = decodeRecallHandle(buildRecallHandle('TopicTest', 'broker-0', 1700000000001, '7F0000010001'));
  assert.deepEqual(h, { topic: 'TopicTest', brokerName: 'broker-0', timestampMs: 1700000000001, timestampStr: '1700000000001', messageId: '7F0000010001' });
  // Unpadded input decodes too.
  assert.equal(decodeRecallHandle('djEgYSBiIDEgZA').messageId, 'd');
  for (const bad of ['', undefined, 'v1 a b c d', Buffer.from('v1 a b c').toString('base64url'), Buffer.from('v2 a b c d').toString('base64url'), 'a']) {
    assert.throws(() => decodeRecallHandle(bad), /recall handle is invalid/, String(bad));
  }
  assert.ok(Number.isNaN(decodeRecallHandle(Buffer.from('v1 a b soon d').toString('base64url')).timestampMs));
});

test('number parsing, rounding and precision follow upstream', () => {
  assert.equal(parseJavaLong('123'), 123);
  assert.equal(parseJavaLong('-5'), -5);
  assert.equal(parseJavaLong('+7'), 7);
  // Java takes any number of leading zeros.
  assert.equal(parseJavaLong('000000000000000000000042'), 42);
  for (const bad of ['', '+', '1.5', '1e3', ' 1', '0x1', 'x', '99999999999999999999']) assert.equal(parseJavaLong(bad), undefined, bad);
  assert.deepEqual(['3', '+2', '-1', '007', '', undefined].map(parseDelayLevel), [3, 2, -1, 7, 0, 0]);
  for (const bad of ['1.5', 'abc', ' 1', '1e0', '2147483648']) assert.equal(parseDelayLevel(bad), undefined, bad);
  assert.equal(roundDeliverMs(10_500, 1000), 10_000);
  assert.equal(roundDeliverMs(10_000, 1000), 9_000);
  assert.equal(roundDeliverMs(10_999, 1000), 10_000);
  assert.deepEqual([0, 99, 100, 150, 200, 499, 500, 999, 1000, 5000].map(effectivePrecisionMs), [100, 100, 100, 100, 200, 200, 500, 500, 1000, 1000]);
  assert.equal(normalizeDeleteKey('T+ABC', 'X'), 'T+ABC');
  assert.equal(normalizeDeleteKey('ABC', 'X'), 'X+ABC');
});

function input(props: Record<string, string>, sysFlag = 0): PutMessageInput {
  return {
    topic: 'T', queueId: 3, flag: 0, sysFlag, bornTimestamp: 0, bornHost: encodeSocketAddress('127.0.0.1', 1), reconsumeTimes: 0,
    preparedTransactionOffset: 0, body: Buffer.alloc(0), properties: encodeProperties(props), tagsCode: 0, waitStoreMsgOK: true,
  };
}

test('toTimerTopic: precedence, rounding, limits, delay levels and transaction types', () => {
  const cfg = { ...defaultMessageStoreConfig(), timerMaxDelaySec: 100 };
  const now = 1_000_000_250;
  const m = input({ TIMER_DELAY_SEC: '2', TIMER_DELAY_MS: '50000', TIMER_DELIVER_MS: String(now + 90_000) });
  assert.deepEqual(toTimerTopic(m, cfg, now), { kind: 'TIMER', timerOutMs: 1_000_002_000 });
  assert.equal(m.topic, 'rmq_sys_wheel_timer');
  assert.equal(m.queueId, 0);
  const p = decodeProperties(m.properties);
  assert.equal(p.get('REAL_TOPIC'), 'T');
  assert.equal(p.get('REAL_QID'), '3');
  assert.equal(p.get('TIMER_OUT_MS'), '1000002000');
  // Converted once only.
  assert.deepEqual(toTimerTopic(m, cfg, now), { kind: 'NONE' });

  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_MS: '1500', TIMER_DELIVER_MS: String(now + 90_000) }), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_001_000 });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELIVER_MS: String(now + 99_750) }), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_099_000 });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_SEC: '100' }), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_100_000 });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_SEC: '101' }), cfg, now), { kind: 'WHEEL_TIMER_MSG_ILLEGAL' });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_MS: 'x' }), cfg, now), { kind: 'WHEEL_TIMER_MSG_ILLEGAL' });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELIVER_MS: String(now) }), cfg, now), { kind: 'NONE' });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELIVER_MS: String(now), TIMER_DEL_UNIQKEY: 'T+X' }), cfg, now), { kind: 'WHEEL_TIMER_MSG_ILLEGAL' });
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_SEC: '5' }), { ...cfg, timerWheelEnable: false }, now), { kind: 'WHEEL_TIMER_NOT_ENABLE' });

  const lvl = input({ DELAY: '3', TIMER_DELAY_SEC: '5', TIMER_DELIVER_MS: '1' });
  assert.deepEqual(toTimerTopic(lvl, cfg, now), { kind: 'NONE' });
  assert.equal(lvl.topic, 'T');
  assert.deepEqual([...decodeProperties(lvl.properties).keys()], ['DELAY']);

  // Half (prepared) and rollback messages are not timed.
  const half = input({ TIMER_DELAY_SEC: '5' }, MessageSysFlag.TRANSACTION_PREPARED_TYPE);
  assert.deepEqual(toTimerTopic(half, cfg, now), { kind: 'NONE' });
  assert.equal(half.topic, 'T');
  assert.equal(toTimerTopic(input({ TIMER_DELAY_SEC: '5' }, MessageSysFlag.TRANSACTION_COMMIT_TYPE), cfg, now).kind, 'TIMER');
  // 500 ms precision.
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_MS: '1300' }), { ...cfg, timerPrecisionMs: 500 }, now), { kind: 'TIMER', timerOutMs: 1_000_001_500 });
});

test('toTimerTopic reads the properties as upstream: map semantics, Long.parseLong and long arithmetic', () => {
  const cfg = { ...defaultMessageStoreConfig(), timerMaxDelaySec: 100 };
  const now = 1_000_000_250;
  const raw = (pairs: Array<[string, string]>): PutMessageInput => ({ ...input({}), properties: pairs.map(([k, v]) => `${k}\u0001${v}\u0002`).join('') });
  const kind = (m: PutMessageInput): string => toTimerTopic(m, cfg, now).kind;
  for (const bad of ['1.5', 'abc', '1.5e3', ' 2', '0x10', '+', '9223372036854775808']) {
    for (const name of ['TIMER_DELAY_SEC', 'TIMER_DELAY_MS', 'TIMER_DELIVER_MS']) assert.equal(kind(input({ [name]: bad })), 'WHEEL_TIMER_MSG_ILLEGAL', `${name}=${bad}`);
  }
  // An empty value is no value: the next property form decides, or none.
  assert.deepEqual(toTimerTopic(raw([['TIMER_DELAY_SEC', ''], ['TIMER_DELAY_MS', '1500']]), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_001_000 });
  assert.equal(kind(raw([['TIMER_DELAY_SEC', ''], ['TIMER_DELAY_MS', '']])), 'NONE');
  // An empty delete key marks nothing: a past time is a normal message, not an illegal marker.
  assert.equal(kind(raw([['TIMER_DELIVER_MS', '5'], ['TIMER_DEL_UNIQKEY', '']])), 'NONE');
  // Of a repeated name the last value counts.
  assert.equal(kind(raw([['TIMER_DELAY_SEC', '5'], ['TIMER_DELAY_SEC', 'x']])), 'WHEEL_TIMER_MSG_ILLEGAL');
  assert.deepEqual(toTimerTopic(raw([['TIMER_DELAY_SEC', 'x'], ['TIMER_DELAY_SEC', '5']]), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_005_000 });
  // Leading zeros and a plus sign are fine; negative values and large ones below Long.MIN_VALUE are the past.
  assert.deepEqual(toTimerTopic(input({ TIMER_DELAY_SEC: '+0000000000000000000005' }), cfg, now), { kind: 'TIMER', timerOutMs: 1_000_005_000 });
  for (const past of ['-1', '-9007199254740993', '-9223372036854775808']) assert.equal(kind(input({ TIMER_DELAY_MS: past })), 'NONE', past);
  // Sums past Long.MAX_VALUE wrap around into the past (delivered at once), as Java's do.
  assert.equal(kind(input({ TIMER_DELAY_MS: '9223372036854775807' })), 'NONE');
  assert.equal(kind(input({ TIMER_DELAY_SEC: '9223372036854775' })), 'NONE');
  // Large without wrapping: beyond the maximum delay.
  assert.equal(kind(input({ TIMER_DELAY_SEC: '9007199254740993' })), 'WHEEL_TIMER_MSG_ILLEGAL');
  assert.equal(kind(input({ TIMER_DELIVER_MS: '9223372036854775807' })), 'WHEEL_TIMER_MSG_ILLEGAL');
});
