import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { checkRecord, decodeRecord, decodeRecords, encodeRecord, recordSize, writeRecordInto } from '../../src/common/message-record.js';
import { decodeProperties, encodeProperties, findPropertyValues, getProperties, getProperty } from '../../src/common/properties.js';
import { decodeOffsetMessageId, createOffsetMessageId, joinedOffsetMessageIds, offsetMessageIdOf, MessageIdGenerator, OffsetMessageId } from '../../src/common/message-id.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { continueJavaHashUtf8, javaStringHashCode } from '../../src/common/java.js';
import { hasFixtures, readFixture } from '../helpers/fixtures.js';

const skip = hasFixtures() ? false : 'shared fixtures not present beside the checkout';

test('message.bin decodes to the captured values', { skip }, () => {
  const buf = readFixture('ali-ons', 'message.bin');
  const [m, ...rest] = decodeRecords(buf);
  assert.equal(rest.length, 0);
  assert.ok(m);
  assert.equal(m.topic, 'TopicTest');
  const props = decodeProperties(m.properties);
  assert.equal(props.get('TAGS'), 'TagA');
  assert.equal(props.get('KEYS'), undefined);
  assert.equal(props.get('DELAY'), undefined);
  assert.equal(m.body.toString(), '{"room":"1","msg":"1"}');
  assert.equal(m.offsetMsgId, '0ADA91A6000029CC0000006500E59F3E');
  // The capture carries stray bytes after the record; decoding stops there, as upstream's does.
  assert.equal(m.storeSize, 132);
  assert.deepEqual(checkRecord(buf, 0, true), { ok: true, size: 132 });
  assert.equal(checkRecord(buf, 132, true).ok, false);
});

test('message_compress.bin inflates to the captured body', { skip }, () => {
  const buf = readFixture('ali-ons', 'message_compress.bin');
  const m = decodeRecord(buf);
  assert.equal(m.sysFlag & 1, 1);
  assert.equal(inflateSync(m.body).toString(), 'Hello MetaQ !!!');
  assert.equal(m.topic, 'TopicTest');
  assert.equal(decodeProperties(m.properties).get('TAGS'), 'TagA');
  assert.equal(m.offsetMsgId, '0ADA91A6000029CC000000661A586D98');
});

test('batch_message.bin holds three records with the captured ids', { skip }, () => {
  const msgs = decodeRecords(readFixture('ali-ons', 'batch_message.bin'));
  assert.deepEqual(msgs.map((m) => m.offsetMsgId), [
    '0ADA91A6000029CC000000659560A2AA',
    '0ADA91A6000029CC000000659560D349',
    '0ADA91A6000029CC000000659560D578',
  ]);
  const first = msgs[0]!;
  const body = (first.sysFlag & 1) !== 0 ? inflateSync(first.body) : first.body;
  assert.equal(body.toString(), 'Hello MetaQ !!!');
});

test('re-encoding every fixture record gives the same bytes', { skip }, () => {
  // message_compress.bin comes from an old broker whose TOTALSIZE (125) is 8 bytes short of its fields (133),
  // so only the other two captures can round-trip byte for byte.
  for (const name of ['message.bin', 'batch_message.bin']) {
    const buf = readFixture('ali-ons', name);
    const out: Buffer[] = [];
    let total = 0;
    for (const m of decodeRecords(buf)) {
      total += m.storeSize;
      const [bh, bp] = m.bornHost.split(':');
      const [sh, sp] = m.storeHost.split(':');
      out.push(encodeRecord({
        queueId: m.queueId, flag: m.flag, queueOffset: m.queueOffset, physicalOffset: m.commitLogOffset,
        sysFlag: m.sysFlag, bornTimestamp: m.bornTimestamp, bornHost: encodeSocketAddress(bh!, Number(bp)),
        storeTimestamp: m.storeTimestamp, storeHost: encodeSocketAddress(sh!, Number(sp)),
        reconsumeTimes: m.reconsumeTimes, preparedTransactionOffset: m.preparedTransactionOffset,
        body: m.body, bodyCRC: m.bodyCRC, topic: Buffer.from(m.topic), properties: Buffer.from(m.properties),
      }));
    }
    assert.deepEqual(Buffer.concat(out), buf.subarray(0, total), name);
  }
});

test('offset message id round-trips to address and offset', () => {
  const id = '0ADA91A6000029CC0000006504009B6F';
  assert.deepEqual(decodeOffsetMessageId(id), { address: '10.218.145.166:10700', commitLogOffset: 433858845551 });
  assert.equal(createOffsetMessageId(encodeSocketAddress('10.218.145.166', 10700), 433858845551), id);
  assert.throws(() => decodeOffsetMessageId('XYZ'), /not an offset message id/);
  // A batch's joined ids are the single ids, offsets of 0 to 2^53 included.
  const hex = '0ADA91A6000029CC';
  const offsets = [0, 1, 433858845551, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER];
  assert.equal(joinedOffsetMessageIds(hex, offsets), offsets.map((o) => offsetMessageIdOf(hex, o)).join(','));
  assert.equal(joinedOffsetMessageIds(hex, []), '');
  // Kept as parts, the id writes the same characters, and only those.
  for (const o of offsets) {
    const id = new OffsetMessageId(hex, o);
    const buf = Buffer.alloc(id.length + 2, 0x2e);
    assert.equal(id.writeTo(buf, 1), 1 + id.length);
    assert.equal(buf.toString('latin1'), `.${offsetMessageIdOf(hex, o)}.`);
    assert.equal(String(id), offsetMessageIdOf(hex, o));
  }
});

test('a corrupted body fails the CRC check and a cut record is short', () => {
  const rec = encodeRecord({
    queueId: 1, flag: 0, queueOffset: 5, physicalOffset: 1000, sysFlag: 0, bornTimestamp: 1, bornHost: encodeSocketAddress('127.0.0.1', 1),
    storeTimestamp: 2, storeHost: encodeSocketAddress('127.0.0.1', 10911), reconsumeTimes: 0, preparedTransactionOffset: 0,
    body: Buffer.from('hello'), topic: Buffer.from('T'), properties: Buffer.from(encodeProperties({ TAGS: 'a' })),
  });
  assert.equal(checkRecord(rec, 0, true).ok, true);
  const bad = Buffer.from(rec);
  bad[rec.length - 10] ^= 0xff; // inside the properties: CRC covers only the body, so corrupt the body instead
  const bodyAt = rec.indexOf(Buffer.from('hello'));
  bad[bodyAt] ^= 0xff;
  assert.deepEqual(checkRecord(bad, 0, true), { ok: false, reason: 'body CRC mismatch' });
  assert.equal(checkRecord(rec.subarray(0, rec.length - 3), 0, true).ok, false);
});

test('properties codec and fast lookup', () => {
  const s = encodeProperties({ TAGS: 'TagA', KEYS: 'k1 k2', UNIQ_KEY: 'ABC' });
  assert.equal(s, 'TAGS\u0001TagA\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u0001ABC\u0002');
  assert.equal(getProperty(s, 'KEYS'), 'k1 k2');
  assert.equal(getProperty(s, 'EYS'), undefined);
  assert.equal(getProperty(s, 'UNIQ_KEY'), 'ABC');
  assert.deepEqual([...decodeProperties(s + 'x\u0002\u0001y\u0002').entries()], [['TAGS', 'TagA'], ['KEYS', 'k1 k2'], ['UNIQ_KEY', 'ABC']]);
  // Several at once, one by one and over bytes, all as the decoded map (upstream's HashMap) holds
  // them: of a repeated name the last value, an empty value is none, no partial names.
  const names = ['UNIQ_KEY', 'KEYS', 'EYS', 'TAGS', 'WAIT', 'X'];
  const texts = [
    s, s + 'TAGS\u0001second\u0002WAIT\u0001\u0002', 'XKEYS\u0001no\u0002X\u0001y', '', 'KEYS',
    'WAIT\u0001true\u0002TAGS\u0001a\u0002WAIT\u0001\u0002TAGS\u0001b\u0002X\u00011\u0002X\u00012', 'TAGS\u0001\u0002TAGS\u0001only',
  ];
  assert.equal(getProperty(texts[1]!, 'TAGS'), 'second');
  assert.equal(getProperty(texts[5]!, 'WAIT'), 'true');
  for (const text of texts) {
    const out: Array<string | undefined> = [];
    getProperties(text, names, out);
    const map = decodeProperties(text);
    assert.deepEqual(out, names.map((n) => map.get(n)), JSON.stringify(text));
    assert.deepEqual(names.map((n) => getProperty(text, n)), out, JSON.stringify(text));
    // And over the bytes of a record's properties, within a larger buffer: the same values.
    const bytes = Buffer.concat([Buffer.from('\u0002pre'), Buffer.from(text), Buffer.from('KEYS\u0001after')]);
    const at = new Int32Array(names.length);
    const end = new Int32Array(names.length);
    findPropertyValues(bytes, 4, 4 + Buffer.byteLength(text), names.map((n) => Buffer.from(n)), at, end);
    assert.deepEqual(names.map((_, i) => (at[i]! < 0 ? undefined : bytes.toString('utf8', at[i], end[i]))), out, JSON.stringify(text));
  }
});

test('tag hash is Java String.hashCode', () => {
  assert.equal(javaStringHashCode('TagA'), 2598919);
  assert.equal(javaStringHashCode('TagB'), 2598920);
  assert.equal(javaStringHashCode(''), 0);
  assert.equal(javaStringHashCode('hello'), 99162322);
  assert.equal(javaStringHashCode('TopicTest#some-key-that-wraps-around'), javaHash32('TopicTest#some-key-that-wraps-around'));
  // From UTF-8 bytes, continuing a prefix, as recovery hashes `topic#key`: the hash of the decoded string.
  for (const key of ['order-1', 'clé', '键值', 'a😀b', '']) {
    const bytes = Buffer.from(`xx${key}yy`);
    assert.equal(continueJavaHashUtf8(javaStringHashCode('T#'), bytes, 2, bytes.length - 2), javaHash32(`T#${key}`), key);
  }
});

// Reference implementation with BigInt, to check the Math.imul version on long strings.
function javaHash32(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = BigInt.asIntN(32, h * 31n + BigInt(s.charCodeAt(i)));
  return Number(h);
}

test('unique message ids are 32 hex chars and distinct', () => {
  const g = new MessageIdGenerator('10.0.0.1');
  const a = g.next();
  const b = g.next();
  assert.match(a, /^0A000001[0-9A-F]{24}$/);
  assert.notEqual(a, b);
});

test('unique message ids carry the ms since the start of the month and a 16-bit counter', () => {
  const g = new MessageIdGenerator('10.0.0.1');
  const now = new Date(2026, 10, 21, 15, 30, 0, 123).getTime();
  const startOfMonth = new Date(2026, 10, 1).getTime();
  const a = Buffer.from(g.next(now), 'hex');
  const b = Buffer.from(g.next(now), 'hex');
  const c = Buffer.from(g.next(now + 1), 'hex');
  assert.equal(a.readInt32BE(10), now - startOfMonth);
  assert.equal(c.readInt32BE(10), now + 1 - startOfMonth);
  assert.equal(b.readUInt16BE(14), (a.readUInt16BE(14) + 1) & 0xffff);
  assert.equal(c.readUInt16BE(14), (a.readUInt16BE(14) + 2) & 0xffff);
  assert.deepEqual(a.subarray(0, 10), c.subarray(0, 10));
  assert.equal(a.readUInt16BE(4), process.pid & 0xffff);
});

test('host addresses, topic, properties and offset id are read on demand from the record bytes', () => {
  const bornHost = encodeSocketAddress('fe80::1', 40000);
  const storeHost = encodeSocketAddress('2001:db8::7', 10911);
  const buf = encodeRecord({
    queueId: 2, flag: 0, queueOffset: 9, physicalOffset: 2 ** 40 + 5, sysFlag: 0, bornTimestamp: 1, bornHost,
    storeTimestamp: 2, storeHost, reconsumeTimes: 0, preparedTransactionOffset: 0,
    body: Buffer.from('b'), topic: Buffer.from('Tópico'), properties: Buffer.from('TAGS\u0001é\u0002'),
  });
  const m = decodeRecord(buf);
  assert.equal(m.bornHost, '[fe80:0:0:0:0:0:0:1]:40000');
  assert.equal(m.storeHost, '[2001:db8:0:0:0:0:0:7]:10911');
  assert.equal(m.topic, 'Tópico');
  assert.equal(m.properties, 'TAGS\u0001é\u0002');
  assert.equal(m.offsetMsgId, storeHost.toString('hex').toUpperCase() + (2 ** 40 + 5).toString(16).toUpperCase().padStart(16, '0'));
  // The id is the stored record's, whatever field is changed before it is first read.
  const n = decodeRecord(buf);
  n.commitLogOffset = 0;
  assert.equal(n.offsetMsgId, m.offsetMsgId);
  // Every field stays writable.
  n.topic = 'Other';
  n.bornHost = 'h:1';
  n.offsetMsgId = 'X';
  assert.deepEqual([n.topic, n.bornHost, n.offsetMsgId], ['Other', 'h:1', 'X']);
});

test('a decoded record serializes with every field, as a plain object did', () => {
  const m = decodeRecord(plainRecord());
  const plain = JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(plain), [
    'storeSize', 'bodyCRC', 'queueId', 'flag', 'queueOffset', 'commitLogOffset', 'sysFlag', 'bornTimestamp', 'bornHost',
    'storeTimestamp', 'storeHost', 'reconsumeTimes', 'preparedTransactionOffset', 'body', 'topic', 'properties', 'offsetMsgId',
  ]);
  assert.equal(plain.offsetMsgId, m.offsetMsgId);
  assert.equal(plain.topic, m.topic);
  assert.equal({ ...m.toJSON() }.storeHost, m.storeHost);
});

function plainRecord(): Buffer {
  return encodeRecord({
    queueId: 0, flag: 0, queueOffset: 0, physicalOffset: 77, sysFlag: 0, bornTimestamp: 1, bornHost: encodeSocketAddress('10.0.0.1', 5),
    storeTimestamp: 2, storeHost: encodeSocketAddress('10.0.0.2', 10911), reconsumeTimes: 0, preparedTransactionOffset: 0,
    body: Buffer.from('x'), topic: Buffer.from('T'), properties: Buffer.from('TAGS\u0001a\u0002'),
  });
}

test('writeRecordInto: IPv6 hosts and a V2 topic round-trip; a record that does not fit, or a wrong size, is refused', () => {
  const r = {
    queueId: 5, flag: 7, queueOffset: 2 ** 40 + 3, physicalOffset: 2 ** 45 + 11, sysFlag: 0, bornTimestamp: 1_700_000_000_123,
    bornHost: encodeSocketAddress('::1', 4000), storeTimestamp: 1_700_000_000_456, storeHost: encodeSocketAddress('fe80::2', 10911),
    reconsumeTimes: 2, preparedTransactionOffset: 0, body: Buffer.from('body'), topic: Buffer.from('T'.repeat(200)), properties: Buffer.from('a\u0001b\u0002'),
  };
  const rec = encodeRecord(r);
  assert.equal(checkRecord(rec, 0, true).ok, true);
  const m = decodeRecord(rec, 0);
  assert.deepEqual([m.queueId, m.flag, m.queueOffset, m.commitLogOffset, m.bornTimestamp, m.storeTimestamp, m.reconsumeTimes, m.topic.length],
    [5, 7, 2 ** 40 + 3, 2 ** 45 + 11, 1_700_000_000_123, 1_700_000_000_456, 2, 200]);
  assert.match(m.bornHost, /4000$/);
  assert.match(m.storeHost, /10911$/);
  const size = recordSize(20, 20, 4, 200, r.properties.length);
  assert.equal(size, rec.length);
  assert.throws(() => writeRecordInto(Buffer.alloc(size), 1, size, r), RangeError);
  assert.throws(() => writeRecordInto(Buffer.alloc(size + 10), 0, size + 10, r), /record fields take/);
});

test('a record whose lengths run outside it is refused with a reason, never read past its end', () => {
  const rec = plainRecord();
  const size = rec.length;
  const bodyLenAt = rec.indexOf(Buffer.from('x')) - 4;
  // The body length reaching the record's end leaves no room for the topic length.
  const longBody = Buffer.from(rec);
  longBody.writeInt32BE(size - bodyLenAt - 4, bodyLenAt);
  assert.deepEqual(checkRecord(longBody, 0, false), { ok: false, reason: 'body outside record' });
  assert.throws(() => decodeRecord(longBody), /body length \d+ outside its \d+ bytes/);
  // A negative body length.
  const negBody = Buffer.from(rec);
  negBody.writeInt32BE(-5, bodyLenAt);
  assert.equal(checkRecord(negBody, 0, false).ok, false);
  assert.throws(() => decodeRecord(negBody), /body length -5/);
  // A topic length past the record (the topic's length byte follows the 1-byte body).
  const longTopic = Buffer.from(rec);
  longTopic[bodyLenAt + 5] = 120;
  assert.equal(checkRecord(longTopic, 0, false).ok, false);
  assert.throws(() => decodeRecord(longTopic), /topic length 120 outside/);
  // A header cut short of 8 bytes, and a position past the buffer.
  assert.deepEqual(checkRecord(rec.subarray(0, 6), 0, false), { ok: false, reason: 'short read of record header' });
  assert.equal(checkRecord(rec, size, false).ok, false);
  assert.throws(() => decodeRecord(rec, size - 4), /no message record header at position/);
  assert.throws(() => decodeRecord(rec.subarray(0, size - 1)), /overruns the buffer/);
  // The record itself is untouched by all of this and still whole.
  assert.equal(checkRecord(rec, 0, true).ok, true);
  assert.equal(decodeRecord(rec).body.toString(), 'x');
});
