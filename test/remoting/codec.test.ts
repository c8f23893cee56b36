import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand, FrameDecoder, CodecError, rawExtOf, internString, internText } from '../../src/remoting/codec.js';
import {
  decodeSendMessageRequestHeaderV2, decodeSendMessageRequestHeaderV2Raw, decodeSendMessageResponseHeader, decodeSendMessageResponseHeaderRaw,
  encodeSendMessageRequestHeaderV2, encodeSendMessageResponseHeader, SendHeaderV2Ext, SendResponseExt,
} from '../../src/remoting/protocol/index.js';
import { createRequest, createResponse, extFieldsOf } from '../../src/remoting/command.js';
import { SerializeType } from '../../src/remoting/codes.js';
import { OffsetMessageId } from '../../src/common/message-id.js';

// Golden frames from the Remoting facts sheet: GET_ROUTEINFO_BY_TOPIC for topic "T".
const JSON_FRAME = Buffer.concat([
  Buffer.from('0000007f0000007b', 'hex'),
  Buffer.from('{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}'),
]);
const BINARY_FRAME = Buffer.from('00 00 00 25 01 00 00 21 00 69 00 01 df 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 0c 00 05 74 6f 70 69 63 00 00 00 01 54'.replace(/ /g, ''), 'hex');

test('golden JSON frame decodes and re-encodes byte for byte', () => {
  const cmd = decodeCommand(JSON_FRAME.subarray(4));
  assert.equal(cmd.code, 105);
  assert.equal(cmd.opaque, 1);
  assert.equal(cmd.version, 479);
  assert.equal(cmd.language, 'JAVA');
  assert.deepEqual(cmd.extFields, { topic: 'T' });
  assert.equal(cmd.serializeType, SerializeType.JSON);
  assert.deepEqual(encodeCommand(cmd), JSON_FRAME);
});

test('golden ROCKETMQ binary frame decodes and re-encodes byte for byte', () => {
  const cmd = decodeCommand(BINARY_FRAME.subarray(4));
  assert.equal(cmd.code, 105);
  assert.equal(cmd.opaque, 1);
  assert.equal(cmd.version, 479);
  assert.equal(cmd.language, 'JAVA');
  assert.deepEqual(cmd.extFields, { topic: 'T' });
  assert.equal(cmd.serializeType, SerializeType.ROCKETMQ);
  assert.deepEqual(encodeCommand(cmd), BINARY_FRAME);
});

test('numbers and booleans in JSON extFields become strings (ali-ons sends them)', () => {
  const header = Buffer.from('{"code":310,"extFields":{"e":0,"k":false,"b":"T"},"flag":0,"language":"JAVA","opaque":7,"version":121}');
  const frame = Buffer.alloc(4);
  frame.writeUInt32BE(header.length);
  const cmd = decodeCommand(Buffer.concat([frame, header]));
  assert.deepEqual(cmd.extFields, { e: '0', k: 'false', b: 'T' });
});

test('a response keeps the request serialization and opaque, with a body', () => {
  for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const req = createRequest(34, { extFields: { a: 1 }, serializeType: st });
    req.opaque = 42;
    const res = createResponse(req, 0, 'ok', { body: Buffer.from('xyz'), extFields: { msgId: 'M' } });
    const back = decodeCommand(encodeCommand(res).subarray(4));
    assert.equal(back.serializeType, st);
    assert.equal(back.opaque, 42);
    assert.equal(back.flag & 1, 1);
    assert.equal(back.remark, 'ok');
    assert.deepEqual(back.extFields, { msgId: 'M' });
    assert.equal(back.body?.toString(), 'xyz');
  }
});

test('frame decoder splits frames across arbitrary chunk boundaries', () => {
  const frames = [JSON_FRAME, BINARY_FRAME, JSON_FRAME];
  const all = Buffer.concat(frames);
  for (const step of [1, 3, 7, 50, all.length]) {
    const dec = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < all.length; i += step) dec.push(all.subarray(i, i + step), (f) => got.push(Buffer.from(f)));
    assert.equal(got.length, 3, `step ${step}`);
    assert.deepEqual(got[1], BINARY_FRAME.subarray(4));
    assert.equal(dec.buffered, 0);
  }
});

test('a frame split between chunks that lie back to back in one buffer is a view of it; split elsewhere, a copy', () => {
  const frames = [JSON_FRAME, BINARY_FRAME, JSON_FRAME];
  const all = Buffer.concat(frames);
  for (const step of [1, 5, 64]) {
    // Chunks read one after the other into one slab: every frame is a view of the slab.
    const dec = new FrameDecoder();
    const views: Buffer[] = [];
    for (let i = 0; i < all.length; i += step) dec.push(all.subarray(i, i + step), (f) => views.push(f));
    assert.equal(views.length, 3, `step ${step}`);
    for (const v of views) assert.equal(v.buffer, all.buffer, `step ${step}: a view, not a copy`);
    assert.deepEqual(views.map((v) => Buffer.from(v)), frames.map((f) => f.subarray(4)));
    // The same bytes in separate buffers: joined by copying, same frames.
    const apart = new FrameDecoder();
    const copies: Buffer[] = [];
    for (let i = 0; i < all.length; i += step) apart.push(Buffer.from(all.subarray(i, i + step)), (f) => copies.push(f));
    assert.deepEqual(copies.map((v) => Buffer.from(v)), frames.map((f) => f.subarray(4)));
  }
});

test('bad input is rejected with a CodecError', () => {
  const dec = new FrameDecoder(1024);
  assert.throws(() => dec.push(Buffer.from('7fffffff00', 'hex'), () => undefined), CodecError);
  assert.throws(() => new FrameDecoder().push(Buffer.from('00000000', 'hex'), () => undefined), CodecError);
  // header length larger than the frame
  assert.throws(() => decodeCommand(Buffer.from('000000ff7b7d', 'hex')), /bad header length/);
  // invalid JSON
  assert.throws(() => decodeCommand(Buffer.from('000000027b7b', 'hex')), /invalid JSON/);
  // unknown serialization type
  assert.throws(() => decodeCommand(Buffer.from('05000000', 'hex')), /unknown serialize type/);
  // truncated binary header
  assert.throws(() => decodeCommand(Buffer.from('010000050001000000', 'hex')), CodecError);
});

test('binary extFields decode lazily but a malformed section still fails at decode time', () => {
  const good = createRequest(310, { extFields: { a: 'G', b: 'T' }, serializeType: SerializeType.ROCKETMQ });
  const cmd = decodeCommand(encodeCommand(good).subarray(4));
  assert.ok(rawExtOf(cmd));
  assert.deepEqual(cmd.extFields, { a: 'G', b: 'T' });
  cmd.extFields = { x: '1' };
  assert.equal(rawExtOf(cmd), undefined, 'replacing the fields drops the raw section');
  assert.deepEqual(cmd.extFields, { x: '1' });
  // A value length that overruns the section: rejected by decodeCommand itself.
  const frame = Buffer.from(encodeCommand(good));
  const extStart = 8 + 21;
  frame.writeInt32BE(1000, extStart + 2 + 1);
  assert.throws(() => decodeCommand(frame.subarray(4)), CodecError);
});

test('the V2 send header read from raw bytes equals the field-object decoder, errors included', () => {
  const base = {
    a: 'PG', b: 'TopicA', c: 'TBW102', d: '4', e: '3', f: '0', g: '1700000000123', h: '0',
    i: 'TAGS\u0001tä\u0002KEYS\u0001k1\u0002', j: '2', k: 'FALSE', l: '16', m: 'True', n: 'broker-a',
  };
  const cases: Array<Record<string, string>> = [
    base,
    { a: 'PG', b: 'T', e: '-1' },
    { ...base, d: '', i: '', n: '', z: 'ignored' },
    { ...base, e: '+7', g: '9007199254740991' },
    { ...base, e: 'x1' },
    { ...base, g: '99999999999999999999' },
    { ...base, f: '-' },
    { b: 'T', e: '0' },
    { a: 'PG', e: '0' },
    { a: 'PG', b: 'T' },
  ];
  for (const ext of cases) {
    const cmd = decodeCommand(encodeCommand(createRequest(310, { extFields: ext, serializeType: SerializeType.ROCKETMQ })).subarray(4));
    const raw = rawExtOf(cmd)!;
    let viaObject: unknown;
    let viaRaw: unknown;
    try { viaObject = decodeSendMessageRequestHeaderV2(cmd.extFields); } catch (e) { viaObject = (e as Error).message; }
    try { viaRaw = decodeSendMessageRequestHeaderV2Raw(raw); } catch (e) { viaRaw = (e as Error).message; }
    if (ext.g === undefined && typeof viaObject === 'object') {
      // bornTimestamp defaults to now: compare the rest.
      (viaObject as { bornTimestamp: number }).bornTimestamp = 0;
      (viaRaw as { bornTimestamp: number }).bornTimestamp = 0;
    }
    assert.deepEqual(viaRaw, viaObject, JSON.stringify(ext));
  }
});

test('the send response header read from raw bytes equals the field-object decoder, errors included', () => {
  const base = { msgId: '7F00000100002A9F0000000000001234', queueId: '3', queueOffset: '42', transactionId: 'AC11', MSG_REGION: 'DefaultRegion', TRACE_ON: 'true' };
  const cases: Array<Record<string, string>> = [
    base,
    { ...base, TRACE_ON: 'false', MSG_REGION: '', batchUniqId: 'B1', recallHandle: 'R1', other: 'x', msgIdx: 'no' },
    { msgId: 'M', queueId: '0', queueOffset: '0' },
    { ...base, queueOffset: '4x' },
    { queueId: '0', queueOffset: '0' },
    { msgId: 'M', queueOffset: '0' },
    { ...base, MSG_REGION: 'cn-hangzhou', TRACE_ON: 'FALSE', queueId: '-1', queueOffset: '9007199254740991' },
    { ...base, MSG_REGION: 'DefaultRegio', TRACE_ON: 'falsey', queueOffset: '+7' },
    { ...base, queueId: 'x', queueOffset: '' },
    { ...base, msgId: '', queueId: 'x' },
    { ...base, queueOffset: '99999999999999999' },
  ];
  for (const ext of cases) {
    const cmd = decodeCommand(encodeCommand(createResponse(createRequest(310), 0, undefined, { extFields: ext })).subarray(4));
    let viaObject: unknown;
    let viaRaw: unknown;
    try { viaObject = decodeSendMessageResponseHeader(cmd.extFields); } catch (e) { viaObject = (e as Error).message; }
    try { viaRaw = decodeSendMessageResponseHeaderRaw(rawExtOf(cmd)!); } catch (e) { viaRaw = (e as Error).message; }
    assert.deepEqual(viaRaw, viaObject, JSON.stringify(ext));
  }
});

test('a V2 send header written by SendHeaderV2Ext gives the same frame as its field object, in both serializations', () => {
  const base = {
    producerGroup: 'PG', topic: 'TopicA', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 3, sysFlag: 0,
    bornTimestamp: 1763738000123, flag: 0, properties: 'TAGS\u0001tä\u0002UNIQ_KEY\u0001AC11\u0002', reconsumeTimes: 0,
  };
  const headers = [
    base,
    { ...base, flag: -7, sysFlag: 12, queueId: 0, properties: undefined, unitMode: true, batch: true },
    { ...base, maxReconsumeTimes: 16, brokerName: 'broker-a', reconsumeTimes: 3, defaultTopicQueueNums: 1234567 },
    { ...base, producerGroup: 'グループ', topic: 'T', properties: '', bornTimestamp: 0 },
    // Where the digit writer changes strategy (int32 parts split at 10^9) and the edges of a safe integer.
    ...[9, 10, 999_999_999, 1e9, 1e9 + 1, 1_000_000_000_007, 2 ** 31 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -1763738000123, 1.5]
      .map((n) => ({ ...base, bornTimestamp: n, queueId: n, defaultTopicQueueNums: n })),
    // Same group and topic as `base`, other leading fields: not the bytes encoded for `base`.
    { ...base, defaultTopic: 'OtherDefault' }, { ...base, defaultTopicQueueNums: 8 }, { ...base, sysFlag: 4 }, { ...base, reconsumeTimes: 2 },
  ];
  // Twice: the second time the leading fields of plain sends come from the bytes encoded the first.
  for (const h of [...headers, ...headers]) {
    for (const st of [SerializeType.ROCKETMQ, SerializeType.JSON]) {
      const viaObject = createRequest(310, { extFields: encodeSendMessageRequestHeaderV2(h), body: Buffer.from('b'), serializeType: st });
      const viaExt = createRequest(310, { body: Buffer.from('b'), serializeType: st });
      viaExt.binaryExt = new SendHeaderV2Ext(h);
      assert.deepEqual(encodeCommand(viaExt), encodeCommand(viaObject), JSON.stringify(h));
      // What the broker reads back from the wire (1.5 is refused either way).
      const decoded = decodeCommand(encodeCommand(viaExt).subarray(4));
      const raw = rawExtOf(decoded);
      const outcome = (decode: () => unknown): unknown => { try { return decode(); } catch (e) { return (e as Error).message; } };
      assert.deepEqual(outcome(() => (raw ? decodeSendMessageRequestHeaderV2Raw(raw) : decodeSendMessageRequestHeaderV2(decoded.extFields))),
        outcome(() => decodeSendMessageRequestHeaderV2(encodeSendMessageRequestHeaderV2(h))), JSON.stringify(h));
    }
  }
});

test('a send response header written by SendResponseExt gives the same frame as its field object, in both serializations', () => {
  const base = { msgId: '7F00000100002A9F0000000000012C40', queueId: 3, queueOffset: 1234567890123, regionId: 'DefaultRegion', traceOn: true };
  const headers = [
    base,
    { ...base, queueId: 0, queueOffset: 0, traceOn: false, regionId: 'région-2' },
    { ...base, transactionId: 'AC110001000018B4AAC2146B2F1E0000', recallHandle: 'aGFuZGxl', msgId: `${base.msgId},${base.msgId}` },
    { ...base, batchUniqId: 'B1', queueOffset: -1 },
  ];
  for (const h of headers) {
    for (const st of [SerializeType.ROCKETMQ, SerializeType.JSON]) {
      const req = createRequest(310, { serializeType: st });
      const viaObject = createResponse(req, 0, undefined, { extFields: encodeSendMessageResponseHeader(h) });
      const viaExt = createResponse(req, 0);
      viaExt.binaryExt = new SendResponseExt(h);
      assert.deepEqual(encodeCommand(viaExt), encodeCommand(viaObject), JSON.stringify(h));
      assert.deepEqual(extFieldsOf(viaExt), encodeSendMessageResponseHeader(h));
      // What a producer reads back from the wire.
      const decoded = decodeCommand(encodeCommand(viaExt).subarray(4));
      const raw = rawExtOf(decoded);
      const back = raw ? decodeSendMessageResponseHeaderRaw(raw) : decodeSendMessageResponseHeader(decoded.extFields);
      assert.deepEqual(back, { transactionId: undefined, batchUniqId: undefined, recallHandle: undefined, ...h });
    }
  }
  // The broker's single sends give the id as its parts: the same frames.
  const parts = { ...base, msgId: new OffsetMessageId('7F00000100002A9F', 0x12c40) };
  for (const st of [SerializeType.ROCKETMQ, SerializeType.JSON]) {
    const req = createRequest(310, { serializeType: st });
    const viaParts = createResponse(req, 0);
    viaParts.binaryExt = new SendResponseExt(parts);
    const viaString = createResponse(req, 0);
    viaString.binaryExt = new SendResponseExt(base);
    assert.deepEqual(encodeCommand(viaParts), encodeCommand(viaString));
  }
});

test('internText: names entered first are what decoding later returns; other text comes back as given', () => {
  assert.equal(internText('TopicInterned-1'), 'TopicInterned-1');
  assert.equal(internString(Buffer.from('xTopicInterned-1'), 1, 16), 'TopicInterned-1');
  assert.equal(internText('Topic-ü'), 'Topic-ü');
  assert.equal(internText('T'.repeat(65)), 'T'.repeat(65));
});

test('internString: the same string object for the same ASCII bytes, the right text for any bytes', () => {
  const a = Buffer.from('..TopicA..');
  const b = Buffer.from('xxTopicAyy');
  const first = internString(a, 2, 8);
  assert.equal(first, 'TopicA');
  assert.ok(Object.is(internString(b, 2, 8), first), 'one object: Map lookups by it reuse its hash');
  assert.equal(internString(Buffer.from('TopicB'), 0, 6), 'TopicB', 'other bytes, other text');
  const utf8 = Buffer.from('主题-1');
  assert.equal(internString(utf8, 0, utf8.length), '主题-1');
  assert.equal(internString(utf8, 0, utf8.length), '主题-1');
  const bad = Buffer.from([0x41, 0xff, 0x42]);
  assert.equal(internString(bad, 0, 3), 'A\ufffdB');
  assert.equal(internString(bad, 0, 3), 'A\ufffdB');
});
