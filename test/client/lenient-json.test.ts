import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LenientJsonError, parseLenientJson } from '../../src/common/json.js';
import { decodeClusterInfo, decodeTopicRouteData } from '../../src/common/route.js';
import { toMessageQueue } from '../../src/client/route.js';

test('standard JSON parses as JSON.parse does', () => {
  const text = '{"a":[1,-2.5e3,true,false,null,"x\\u0041\\n"],"b":{}}';
  assert.deepEqual(parseLenientJson(text), JSON.parse(text));
});

test('unquoted numeric map keys (fastjson Map<Long,String>) become string keys', () => {
  const v = parseLenientJson('{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"n":-1}');
  assert.deepEqual(v, { brokerAddrs: { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' }, n: -1 });
  assert.deepEqual(parseLenientJson('{ -3 : 1 , abc_1:2}'), { '-3': 1, abc_1: 2 });
});

test('object map keys (fastjson Map<MessageQueue,X>) become their compact JSON text', () => {
  const text = '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"maxOffset":5},{"brokerName":"b","queueId":1,"topic":"T"} : {"maxOffset":7}}}';
  const v = parseLenientJson(text) as { offsetTable: Record<string, { maxOffset: number }> };
  const keys = Object.keys(v.offsetTable);
  assert.deepEqual(keys, ['{"brokerName":"b","queueId":0,"topic":"T"}', '{"brokerName":"b","queueId":1,"topic":"T"}']);
  assert.deepEqual(toMessageQueue(keys[1]), { brokerName: 'b', queueId: 1, topic: 'T' });
  assert.equal(v.offsetTable[keys[0]!]!.maxOffset, 5);
});

test('a key named __proto__ stays an ordinary property', () => {
  const v = parseLenientJson('{__proto__:1, 0:2}') as Record<string, number>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['0', '__proto__']);
});

test('malformed input fails with a position', () => {
  for (const bad of ['{0:}', '{"a":1,}', '[1 2]', '{"a":tru}', '{"a":"x', '{0:1} x', '{:1}']) {
    assert.throws(() => parseLenientJson(bad), (e: unknown) => e instanceof LenientJsonError && e.position >= 0, bad);
  }
});

test('a legacy route body (unquoted ids, topicSynFlag) parses into TopicRouteData', () => {
  const body = Buffer.from('{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}],' +
    '"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}');
  const r = decodeTopicRouteData(body);
  assert.deepEqual(r.brokerDatas[0]!.brokerAddrs, { 0: '127.0.0.1:10911', 1: '127.0.0.1:10921' });
  assert.deepEqual(r.queueDatas[0], { brokerName: 'broker-a', perm: 6, readQueueNums: 4, writeQueueNums: 4, topicSysFlag: 0 });
  assert.equal(r.orderTopicConf, undefined);
});

test('cluster info with unquoted broker ids parses', () => {
  const ci = decodeClusterInfo(Buffer.from('{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"1.2.3.4:10911"},"brokerName":"broker-a","cluster":"C"}},"clusterAddrTable":{"C":["broker-a"]}}'));
  assert.equal(ci.brokerAddrTable['broker-a']!.brokerAddrs['0'], '1.2.3.4:10911');
  assert.deepEqual(ci.clusterAddrTable, { C: ['broker-a'] });
});

test('bytes parse like text; nesting, object keys included, is bounded', () => {
  assert.deepEqual(parseLenientJson(Buffer.from('{0:"é"}')), { 0: 'é' });
  const tooDeep = (e: unknown) => e instanceof LenientJsonError && /nesting deeper than 256/.test(e.message);
  assert.throws(() => parseLenientJson('['.repeat(300) + ']'.repeat(300) + 'x'), tooDeep);
  assert.throws(() => parseLenientJson('{'.repeat(300) + '0:1' + '}'.repeat(300)), tooDeep);
  assert.deepEqual(parseLenientJson('{0:'.repeat(200) + '1' + '}'.repeat(200)), JSON.parse('{"0":'.repeat(200) + '1' + '}'.repeat(200)));
});
