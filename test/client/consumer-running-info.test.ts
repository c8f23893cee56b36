import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLenientJson } from '../../src/common/json.js';
import { ConsumerStats, SAMPLE_MS } from '../../src/client/consumer-stats.js';
import {
  analyzeProcessQueue, analyzeSubscription, decodeConsumerRunningInfo, encodeConsumerRunningInfo, formatConsumerRunningInfo, type ConsumerRunningInfo,
} from '../../src/client/consumer-running-info.js';

test('consumer stats: rates over the last minute, failures over the last hour', () => {
  let now = 1_000_000;
  const stats = new ConsumerStats(() => now);
  assert.deepEqual(stats.status('T'), { pullRT: 0, pullTPS: 0, consumeRT: 0, consumeOKTPS: 0, consumeFailedTPS: 0, consumeFailedMsgs: 0 });
  // Two minutes of steady work: per 10 s, 2 pulls (5 ms, 10 ms) of 32 messages, 64 listener calls of 4 ms, 60 ok and 4 failed.
  for (let i = 0; i < 12; i++) {
    stats.pulled('T', 5, 32);
    stats.pulled('T', 10, 32);
    for (let k = 0; k < 64; k++) stats.consumed('T', 4, k < 60 ? 1 : 0, k < 60 ? 0 : 1);
    now += SAMPLE_MS;
    stats.sample();
  }
  const s = stats.status('T');
  assert.equal(s.pullRT, 7.5);
  assert.equal(s.pullTPS, 6.4);
  assert.equal(s.consumeRT, 4);
  assert.equal(s.consumeOKTPS, 6);
  assert.equal(s.consumeFailedTPS, 0.4);
  assert.equal(s.consumeFailedMsgs, 48, 'every failure of the run (under an hour)');
  // A quiet minute later the rates are zero, and the failures stay counted within the hour.
  for (let i = 0; i < 6; i++) {
    now += SAMPLE_MS;
    stats.sample();
  }
  assert.equal(stats.status('T').consumeOKTPS, 0);
  assert.equal(stats.status('T').consumeFailedMsgs, 48);
  for (let i = 0; i < 360; i++) {
    now += SAMPLE_MS;
    stats.sample();
  }
  assert.equal(stats.status('T').consumeFailedMsgs, 0, 'an hour later they are gone');
});

/** A ConsumerRunningInfo body as a Java client writes it with fastjson: queues as object keys. */
const JAVA_BODY = `{"jstack":"\\"main\\" RUNNABLE","mqPopTable":{},"mqTable":{{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"cachedMsgCount":2,"cachedMsgMaxOffset":11,"cachedMsgMinOffset":10,"cachedMsgSizeInMiB":0,"commitOffset":10,"droped":false,"lastConsumeTimestamp":1700000000000,"lastLockTimestamp":1700000000000,"lastPullTimestamp":1700000000000,"locked":false,"transactionMsgCount":0,"transactionMsgMaxOffset":0,"transactionMsgMinOffset":0,"tryUnlockTimes":0},{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"cachedMsgCount":0,"commitOffset":7,"droped":false,"lastConsumeTimestamp":1700000000000,"locked":false}},"properties":{"PROP_CONSUMEORDERLY":"false","PROP_CONSUME_TYPE":"CONSUME_PASSIVELY","PROP_CONSUMER_START_TIMESTAMP":"1700000000000","consumerGroup":"G"},"statusTable":{"T":{"consumeFailedMsgs":3,"consumeFailedTPS":0.0,"consumeOKTPS":12.5,"consumeRT":1.5,"pullRT":2.25,"pullTPS":14.0}},"subscriptionSet":[{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000000,"tagsSet":[],"topic":"T"}],"userConsumerInfo":{}}`;

test('ConsumerRunningInfo: a Java client\'s body decodes, ours encodes to the same shape, and the report reads as upstream\'s', () => {
  const info = decodeConsumerRunningInfo(parseLenientJson(JAVA_BODY));
  assert.deepEqual(info.mqTable.map((e) => [e.mq.queueId, e.info.commitOffset, e.info.cachedMsgCount]), [[0, 7, 0], [1, 10, 2]], 'sorted by queue');
  assert.equal(info.statusTable.get('T')!.consumeOKTPS, 12.5);
  assert.equal(info.subscriptionSet[0]!.topic, 'T');
  assert.equal(info.jstack, '"main" RUNNABLE');
  const again = decodeConsumerRunningInfo(parseLenientJson(encodeConsumerRunningInfo(info)));
  assert.deepEqual(again, info);
  // Our body is standard JSON with the queue's JSON text as key, which fastjson reads as a MessageQueue.
  const ours = JSON.parse(encodeConsumerRunningInfo(info).toString()) as { mqTable: Record<string, unknown> };
  assert.deepEqual(Object.keys(ours.mqTable), ['{"brokerName":"broker-a","queueId":0,"topic":"T"}', '{"brokerName":"broker-a","queueId":1,"topic":"T"}']);
  const text = formatConsumerRunningInfo(info);
  assert.match(text, /^PROP_CONSUMEORDERLY {21}: false$/m);
  assert.match(text, /^001 Topic: T {40}ClassFilter: false {4}SubExpression: \*$/m);
  assert.match(text, /^T {33}broker-a {26}1 {5}10 {18}$/m, 'consumer offset row');
  assert.match(text, /ProcessQueueInfo \[commitOffset=10, cachedMsgMinOffset=10, cachedMsgMaxOffset=11, cachedMsgCount=2,/);
  assert.match(text, /^T {43}2\.25 {10}14\.00 {11}1\.50 {10}12\.50 {15}0\.00 {25}3$/m, 'RT & TPS row');
  assert.match(text, /#Consumer jstack#\n"main" RUNNABLE\n$/);
});

test('consumerStatus analysis: different subscriptions in a group, and queues that stopped consuming', () => {
  const now = 1_700_000_000_000;
  const make = (sub: string, lastConsume: number): ConsumerRunningInfo => ({
    properties: { PROP_CONSUME_TYPE: 'CONSUME_PASSIVELY', PROP_CONSUMEORDERLY: 'false', PROP_CONSUMER_START_TIMESTAMP: String(now - 5 * 60_000) },
    subscriptionSet: [{ topic: 'T', subString: sub, tagsSet: [], codeSet: [], subVersion: 0, classFilterMode: false, expressionType: 'TAG' }],
    mqTable: [{ mq: { topic: 'T', brokerName: 'b', queueId: 0 }, info: {
      commitOffset: 0, cachedMsgMinOffset: 0, cachedMsgMaxOffset: 0, cachedMsgCount: 5, cachedMsgSizeInMiB: 0, transactionMsgMinOffset: 0,
      transactionMsgMaxOffset: 0, transactionMsgCount: 0, locked: false, tryUnlockTimes: 0, lastLockTimestamp: 0, droped: false,
      lastPullTimestamp: now, lastConsumeTimestamp: lastConsume,
    } }],
    statusTable: new Map(), userConsumerInfo: {},
  });
  assert.equal(analyzeSubscription(new Map([['a', make('*', now)], ['b', make('*', now)]]), now), true);
  assert.equal(analyzeSubscription(new Map([['a', make('*', now)], ['b', make('TagA', now)]]), now), false);
  assert.deepEqual(analyzeProcessQueue('a', make('*', now - 1000), now), []);
  assert.deepEqual(analyzeProcessQueue('a', make('*', now - 90_000), now),
    ['a MessageQueue [topic=T, brokerName=b, queueId=0] can\'t consume for a while, maybe blocked, 90000ms']);
});
