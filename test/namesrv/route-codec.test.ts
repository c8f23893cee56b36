import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
import {
  decodeClusterInfo,
  decodeRegisterBrokerBody,
  decodeTopicConfigText,
  decodeTopicRouteData,
  encodeJson,
  encodeRegisterBrokerBody,
  encodeTopicConfigText,
  parseRemotingJson,
  RouteDataError,
  selectBrokerAddr,
  type RegisterBrokerBody,
} from '../../src/common/route.js';

// Wire types and codecs of src/common/route.ts, exercised here because the NameServer owns them.

test('fastjson bodies with unquoted and object map keys parse', () => {
  assert.deepEqual(parseRemotingJson('{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}}'),
    { brokerAddrs: { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' } });
  assert.deepEqual(parseRemotingJson('{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5}}}'),
    { offsetTable: { '{"brokerName":"b","queueId":0,"topic":"T"}': { maxOffset: 5 } } });
  assert.deepEqual(parseRemotingJson(' { -1 : [ 1.5e2 , true , null , "a\\"b" ] } '), { '-1': [150, true, null, 'a"b'] });
  const proto = parseRemotingJson('{__proto__:{"x":1},0:1}') as Record<string, unknown>;
  assert.ok(Object.hasOwn(proto, '__proto__'));
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  for (const bad of ['{', '{"a":}', '{a b:1}', '[1,]x', '"open', '{"a":1}}', '']) {
    assert.throws(() => parseRemotingJson(bad), RouteDataError, bad);
  }
  assert.throws(() => parseRemotingJson('['.repeat(1000) + ']'.repeat(1000) + 'x'), /nesting deeper/);
});

test('a fastjson route from an older Java NameServer decodes (unquoted ids, topicSynFlag)', () => {
  const body = Buffer.from('{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],'
    + '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}');
  const route = decodeTopicRouteData(body);
  assert.deepEqual(route, {
    brokerDatas: [{ cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' }, enableActingMaster: false }],
    queueDatas: [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
    filterServerTable: {},
  });
  assert.equal(selectBrokerAddr(route.brokerDatas[0] as never), '10.0.0.1:10911');
  assert.equal(selectBrokerAddr({ ...route.brokerDatas[0], brokerAddrs: { 1: 'a:1', 2: 'b:1' } } as never, () => 0.99), 'b:1');
  assert.equal(selectBrokerAddr({ ...route.brokerDatas[0], brokerAddrs: {} } as never), undefined);

  const info = decodeClusterInfo(Buffer.from('{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"x:1"},"brokerName":"broker-a","cluster":"C"}},"clusterAddrTable":{"C":["broker-a"]}}'));
  assert.deepEqual(info.clusterAddrTable, { C: ['broker-a'] });
  assert.deepEqual(info.brokerAddrTable['broker-a']?.brokerAddrs, { 0: 'x:1' });
});

test('encodeJson writes standard JSON with keys sorted like fastjson', () => {
  assert.equal(encodeJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null }, 10: 'x', 2: 'y' }).toString(),
    '{"2":"y","10":"x","a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

test('the uncompressed 5.x register body from the facts sheet decodes', () => {
  const body = Buffer.from('{"filterServerList":[],"topicConfigSerializeWrapper":{'
    + '"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1700000000000},'
    + '"mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1700000000000},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{},'
    + '"topicConfigTable":{"TopicTest":{"attributes":{},"order":false,"perm":6,"readQueueNums":4,'
    + '"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}}}}');
  const decoded = decodeRegisterBrokerBody(body, false);
  assert.deepEqual(decoded.topicConfigSerializeWrapper.dataVersion, { counter: 3, stateVersion: 0, timestamp: 1_700_000_000_000 });
  assert.deepEqual(decoded.topicConfigSerializeWrapper.topicConfigTable.TopicTest, {
    topicName: 'TopicTest', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {},
  });
  assert.deepEqual(decoded.filterServerList, []);

  // 4.9.x form: no stateVersion, no attributes; scalars as strings are coerced like fastjson does.
  const old = decodeRegisterBrokerBody(Buffer.from('{"topicConfigSerializeWrapper":{"dataVersion":{"counter":"2","timestamp":5},'
    + '"topicConfigTable":{"T":{"perm":"6","readQueueNums":8,"writeQueueNums":8}}}}'), false);
  assert.deepEqual(old.topicConfigSerializeWrapper.dataVersion, { stateVersion: 0, counter: 2, timestamp: 5 });
  assert.equal(old.topicConfigSerializeWrapper.topicConfigTable.T?.topicName, 'T');
  assert.deepEqual(old.filterServerList, []);
  assert.throws(() => decodeRegisterBrokerBody(Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"rw"}}}}'), false), /perm must be a number/);
});

test('compressed register body: layout, round trip, and the 4.x form without mapping data', () => {
  const body: RegisterBrokerBody = {
    topicConfigSerializeWrapper: {
      dataVersion: { stateVersion: 1, timestamp: 1_700_000_000_000, counter: 9 },
      topicConfigTable: {
        A: { topicName: 'A', readQueueNums: 4, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} },
        B: { topicName: 'B', readQueueNums: 1, writeQueueNums: 1, perm: 4, topicFilterType: 'MULTI_TAG', topicSysFlag: 0, order: false, attributes: { '+message.type': 'FIFO' } },
      },
    },
    filterServerList: ['10.0.0.5:30000'],
  };
  const packed = encodeRegisterBrokerBody(body, true);
  const raw = inflateSync(packed);
  const dvLen = raw.readInt32BE(0);
  assert.equal(raw.subarray(4, 4 + dvLen).toString(), '{"counter":9,"stateVersion":1,"timestamp":1700000000000}');
  assert.equal(raw.readInt32BE(4 + dvLen), 2);
  assert.equal(raw.readInt32BE(raw.length - 4), 0, 'ends with an empty topic queue mapping section');
  assert.deepEqual(decodeRegisterBrokerBody(packed, true), {
    ...body,
    topicConfigSerializeWrapper: { ...body.topicConfigSerializeWrapper, topicQueueMappingInfoMap: {} },
  });

  // 4.x brokers stop after the filter server list.
  const fourX = raw.subarray(0, raw.length - 4);
  const decoded = decodeRegisterBrokerBody(deflateSync(fourX), true);
  assert.equal(decoded.topicConfigSerializeWrapper.topicQueueMappingInfoMap, undefined);
  assert.deepEqual(Object.keys(decoded.topicConfigSerializeWrapper.topicConfigTable), ['A', 'B']);

  // Truncated data says what is missing.
  assert.throws(() => decodeRegisterBrokerBody(deflateSync(raw.subarray(0, 10)), true), /ends before|exceeds/);
});

test('topic config text form (TopicConfig.encode/decode upstream)', () => {
  const tc = { topicName: 'T', readQueueNums: 8, writeQueueNums: 4, perm: 7, topicFilterType: 'MULTI_TAG' as const, topicSysFlag: 0, order: false, attributes: { a: 'b c' } };
  assert.equal(encodeTopicConfigText(tc), 'T 8 4 7 MULTI_TAG {"a":"b c"}');
  assert.deepEqual(decodeTopicConfigText('T 8 4 7 MULTI_TAG {"a":"b c"}'), tc);
  // Without attributes (4.x) and with unreadable ones (dropped, as upstream ignores the parse error).
  assert.equal(decodeTopicConfigText('T 1 1 6 SINGLE_TAG').attributes, undefined);
  assert.deepEqual(decodeTopicConfigText('T 1 1 6 SINGLE_TAG {oops').attributes, {});
  assert.throws(() => decodeTopicConfigText('T 1 1'), /at least 5/);
  assert.throws(() => decodeTopicConfigText('T x 1 6 SINGLE_TAG'), /readQueueNums/);
  assert.throws(() => decodeTopicConfigText('T 1 1 6 NO_TAG'), /SINGLE_TAG or MULTI_TAG/);
});
