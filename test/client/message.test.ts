import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { buildMessageProperties, decodeBatchBody, decodeReceivedMessages, encodeBatchBody, Message, toMessageExt, type MessageExt } from '../../src/client/message.js';
import { buildSubscriptionData, tagFilterOf } from '../../src/client/subscription.js';
import { MessageIdGenerator } from '../../src/common/message-id.js';
import { decodeProperties } from '../../src/common/properties.js';
import { decodeRecord, decodeRecords, encodeRecord } from '../../src/common/message-record.js';
import { hasFixtures, readFixture } from '../helpers/fixtures.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { MQClientError } from '../../src/client/errors.js';

test('properties carry TAGS, space-joined KEYS, WAIT and a UNIQ_KEY that stays across calls', () => {
  const ids = new MessageIdGenerator('10.1.2.3');
  const msg = new Message('T', 'hello', { tags: 'TagA', keys: ['k1', 'k2'], properties: { color: 'red' } });
  const text = buildMessageProperties(msg, ids);
  const props = decodeProperties(text);
  assert.equal(props.get('TAGS'), 'TagA');
  assert.equal(props.get('KEYS'), 'k1 k2');
  assert.equal(props.get('WAIT'), 'true');
  assert.equal(props.get('color'), 'red');
  const uniq = props.get('UNIQ_KEY');
  assert.match(uniq ?? '', /^0A010203[0-9A-F]{24}$/);
  assert.equal(msg.uniqKey, uniq);
  // A retry re-encodes with the same id.
  assert.equal(decodeProperties(buildMessageProperties(msg, ids)).get('UNIQ_KEY'), uniq);
  // Every pair, the last included, ends with \u0002.
  assert.ok(text.endsWith('\u0002'));
  assert.equal(text.split('\u0002').length - 1, 5);
});

test('message fields map to their wire properties', () => {
  const msg = new Message('T', Buffer.from([1, 2]), { keys: 'single', delayTimeLevel: 3, waitStoreMsgOK: false, flag: 7 });
  assert.deepEqual(msg.keys, ['single']);
  assert.equal(msg.properties.get('DELAY'), '3');
  assert.equal(msg.properties.get('WAIT'), 'false');
  assert.equal(msg.flag, 7);
  assert.equal(msg.tags, undefined);
  msg.tags = 'X';
  msg.keys = [];
  msg.delayTimeLevel = 0;
  assert.equal(msg.properties.get('TAGS'), 'X');
  assert.equal(msg.properties.has('KEYS'), false);
  assert.equal(msg.properties.has('DELAY'), false);
  assert.throws(() => msg.putUserProperty('UNIQ_KEY', 'x'), MQClientError);
  assert.throws(() => msg.putUserProperty('k', ''), MQClientError);
  // As upstream: blank names and values are refused, and only MessageConst.STRING_HASH_SET is reserved.
  assert.throws(() => msg.putUserProperty('k', '  '), MQClientError);
  assert.throws(() => msg.putUserProperty(' ', 'v'), MQClientError);
  for (const name of ['DLQ_ORIGIN_TOPIC', 'TIMER_ENQUEUE_MS', '__CRC32#', 'BORN_TIMESTAMP', 'POP_CK', 'TRAN_MSG']) {
    assert.throws(() => msg.putUserProperty(name, '1'), MQClientError, name);
  }
  for (const name of ['CHECK_IMMUNITY_TIME_IN_SECONDS', 'TRANSACTION_CHECK_TIMES', '__SHARDINGKEY']) {
    msg.putUserProperty(name, '7');
    assert.equal(msg.getProperty(name), '7');
  }
});

test('batch body follows the SEND_BATCH_MESSAGE layout byte for byte', () => {
  const body = encodeBatchBody([
    { flag: 0, body: Buffer.from('ab'), properties: 'K\u0001V\u0002' },
    { flag: 9, body: Buffer.alloc(0), properties: '' },
  ]);
  const expected = Buffer.concat([
    // TOTALSIZE = 4+4+4+4+4+2+2+4 = 28, MAGICCODE 0, BODYCRC 0, FLAG 0, BODYLEN 2, "ab", PROPLEN 4, "K\1V\2"
    Buffer.from('0000001c' + '00000000' + '00000000' + '00000000' + '00000002', 'hex'), Buffer.from('ab'),
    Buffer.from('0004', 'hex'), Buffer.from('K\u0001V\u0002'),
    // TOTALSIZE = 22, FLAG 9, empty body, empty properties
    Buffer.from('00000016' + '00000000' + '00000000' + '00000009' + '00000000' + '0000', 'hex'),
  ]);
  assert.deepEqual(body, expected);
  assert.deepEqual(decodeBatchBody(body).map((e) => [e.flag, e.body.toString(), e.properties]), [[0, 'ab', 'K\u0001V\u0002'], [9, '', '']]);
});

test('batch properties over 32767 bytes are refused', () => {
  assert.throws(() => encodeBatchBody([{ flag: 0, body: Buffer.from('x'), properties: 'k\u0001' + 'v'.repeat(40000) + '\u0002' }]), MQClientError);
});

function record(body: Buffer, sysFlag: number, properties: string) {
  return decodeRecord(encodeRecord({
    queueId: 1, flag: 0, queueOffset: 5, physicalOffset: 1000, sysFlag, bornTimestamp: 1, bornHost: encodeSocketAddress('127.0.0.1', 1),
    storeTimestamp: 2, storeHost: encodeSocketAddress('127.0.0.1', 10911), reconsumeTimes: 0, preparedTransactionOffset: 0,
    body, topic: Buffer.from('T'), properties: Buffer.from(properties),
  }));
}

test('received zlib bodies are inflated (type bits 0 or ZLIB) and their flags cleared', () => {
  const plain = Buffer.from('x'.repeat(5000));
  for (const sysFlag of [0x1, 0x301]) {
    const m = toMessageExt(record(deflateSync(plain), sysFlag, 'TAGS\u0001A\u0002KEYS\u0001a b\u0002UNIQ_KEY\u0001ID1\u0002'));
    assert.deepEqual(m.body, plain);
    assert.equal(m.sysFlag & 0x701, 0);
    assert.equal(m.msgId, 'ID1');
    assert.equal(m.tags, 'A');
    assert.deepEqual(m.keys, ['a', 'b']);
  }
  // LZ4 cannot be inflated here: left as stored, flags kept.
  const lz4 = toMessageExt(record(Buffer.from('raw'), 0x101, ''));
  assert.equal(lz4.body.toString(), 'raw');
  assert.equal(lz4.sysFlag, 0x101);
  assert.equal(lz4.msgId, lz4.offsetMsgId);
});

test('subscriptions split tags on || with Java hash codes', () => {
  const sub = buildSubscriptionData('T', ' TagA || TagB ||TagA', 'TAG', 42);
  assert.deepEqual(sub.tagsSet, ['TagA', 'TagB']);
  assert.deepEqual(sub.codeSet, [2598919, 2598920]);
  assert.equal(sub.subVersion, 42);
  assert.equal(buildSubscriptionData('T', '').subString, '*');
  assert.throws(() => buildSubscriptionData('T', '||'), MQClientError);
  assert.equal(tagFilterOf('*'), undefined);
  assert.deepEqual([...tagFilterOf('a||b')!], ['a', 'b']);
});

/** Every field of the eagerly built message, read from `m`. */
function fieldsOf(m: MessageExt, like: MessageExt): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, m[k as keyof MessageExt]]));
}

function receivedRecords(): Buffer[] {
  const props = ['', 'TAGS\u0001A\u0002KEYS\u0001a  b\u0002UNIQ_KEY\u0001ID1\u0002', 'UNIQ_KEY\u0001\u0002TAGS\u0001x\u0002TAGS\u0001y\u0002'];
  const bodies: [Buffer, number][] = [[Buffer.from('plain'), 0], [deflateSync(Buffer.from('z'.repeat(300))), 0x1], [Buffer.from('raw'), 0x101], [Buffer.from('bad zlib'), 0x1]];
  const out: Buffer[] = [];
  for (const p of props) {
    for (const [body, sysFlag] of bodies) {
      out.push(encodeRecord({
        queueId: 1, flag: 3, queueOffset: 5, physicalOffset: 2 ** 36, sysFlag, bornTimestamp: 1, bornHost: encodeSocketAddress('::1', 1),
        storeTimestamp: 2, storeHost: encodeSocketAddress('127.0.0.1', 10911), reconsumeTimes: 2, preparedTransactionOffset: 0,
        body, topic: Buffer.from('T'), properties: Buffer.from(p),
      }));
    }
  }
  if (hasFixtures()) for (const name of ['message.bin', 'message_compress.bin', 'batch_message.bin']) out.push(readFixture('ali-ons', name));
  return out;
}

test('messages decoded straight from the bytes equal toMessageExt of the decoded record', () => {
  for (const buf of receivedRecords()) {
    const eager = decodeRecords(buf).map(toMessageExt);
    const received = decodeReceivedMessages(buf);
    assert.equal(received.length, eager.length);
    received.forEach((m, i) => {
      assert.deepEqual(fieldsOf(m, eager[i]!), eager[i]);
      assert.equal(JSON.stringify(m), JSON.stringify(eager[i]));
    });
  }
});

test('a received message builds its property map on first read, with the extra properties of its pull', () => {
  const [buf] = receivedRecords().slice(4, 5);
  const range = [['MIN_OFFSET', '0'], ['MAX_OFFSET', '9']] as const;
  // Read in another order than toMessageExt does: msgId and keys first, then the map.
  const m = decodeReceivedMessages(buf!, range)[0]!;
  assert.equal(m.msgId, 'ID1');
  assert.deepEqual(m.keys, ['a', 'b']);
  assert.deepEqual([...m.propertyMap], [['TAGS', 'A'], ['KEYS', 'a  b'], ['UNIQ_KEY', 'ID1'], ['MIN_OFFSET', '0'], ['MAX_OFFSET', '9']]);
  // msgId, tags and keys are what the properties said, whatever is put in the map afterwards.
  m.propertyMap.set('TAGS', 'changed');
  assert.equal(m.tags, 'A');
  m.tags = 'B';
  m.brokerName = 'broker-a';
  assert.equal(m.tags, 'B');
  assert.equal(JSON.parse(JSON.stringify(m)).brokerName, 'broker-a');
});
