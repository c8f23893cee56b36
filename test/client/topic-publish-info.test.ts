import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptDefaultTopicRoute, topicRouteData2TopicPublishInfo, topicRouteData2TopicSubscribeInfo } from '../../src/client/topic-publish-info.js';
import type { TopicRouteData } from '../../src/common/route.js';

const route: TopicRouteData = {
  queueDatas: [
    { brokerName: 'broker-b', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
    { brokerName: 'broker-a', readQueueNums: 3, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
    { brokerName: 'broker-ro', readQueueNums: 4, writeQueueNums: 4, perm: 4, topicSysFlag: 0 },
    { brokerName: 'broker-slave-only', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
  ],
  brokerDatas: [
    { cluster: 'C', brokerName: 'broker-a', brokerAddrs: { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' } },
    { cluster: 'C', brokerName: 'broker-b', brokerAddrs: { 0: '10.0.0.3:10911' } },
    { cluster: 'C', brokerName: 'broker-ro', brokerAddrs: { 0: '10.0.0.4:10911' } },
    { cluster: 'C', brokerName: 'broker-slave-only', brokerAddrs: { 1: '10.0.0.5:10911' } },
  ],
  filterServerTable: {},
};

const names = (qs: readonly { brokerName: string; queueId: number }[]): string[] => qs.map((q) => `${q.brokerName}/${q.queueId}`);

test('write queues: writable QueueData of brokers with a master, sorted by broker name', () => {
  const info = topicRouteData2TopicPublishInfo('T', route, true, 0);
  assert.deepEqual(names(info.messageQueueList), ['broker-a/0', 'broker-a/1', 'broker-b/0', 'broker-b/1']);
  assert.equal(info.brokerAddr('broker-a'), '10.0.0.1:10911');
  assert.equal(info.brokerAddr('broker-slave-only'), undefined);
  assert.ok(info.ok());
  assert.ok(info.messageQueueList.every((q) => q.topic === 'T'));
});

test('round robin visits every write queue in turn', () => {
  const info = topicRouteData2TopicPublishInfo('T', route, true, 0);
  const picked = Array.from({ length: 8 }, () => info.selectOneMessageQueue());
  assert.deepEqual(names(picked), ['broker-a/0', 'broker-a/1', 'broker-b/0', 'broker-b/1', 'broker-a/0', 'broker-a/1', 'broker-b/0', 'broker-b/1']);
});

test('a retry avoids the broker that just failed', () => {
  const info = topicRouteData2TopicPublishInfo('T', route, true, 0);
  for (let i = 0; i < 6; i++) assert.equal(info.selectOneMessageQueue('broker-a').brokerName, 'broker-b');
  // With one broker only, the retry takes the next queue anyway.
  const single = topicRouteData2TopicPublishInfo('T', { ...route, queueDatas: [route.queueDatas[1]!] }, true, 0);
  assert.deepEqual(names([single.selectOneMessageQueue('broker-a'), single.selectOneMessageQueue('broker-a')]), ['broker-a/0', 'broker-a/1']);
});

test('one broker: the round robin gives its queues 0..n-1 in turn, equal to the listed ones, and its address', () => {
  const one: TopicRouteData = { ...route, queueDatas: [{ ...route.queueDatas[1]!, writeQueueNums: 3 }], brokerDatas: [route.brokerDatas[0]!] };
  const info = topicRouteData2TopicPublishInfo('T', one, true, 1);
  const picked = Array.from({ length: 4 }, () => info.selectOneMessageQueue());
  assert.deepEqual(picked, [1, 2, 0, 1].map((i) => info.messageQueueList[i]));
  assert.deepEqual(picked[0], { topic: 'T', brokerName: 'broker-a', queueId: 1 });
  assert.equal(info.brokerAddr('broker-a'), '10.0.0.1:10911');
  assert.equal(info.brokerAddr('broker-b'), undefined);
  // A retry after a failure on that broker still goes round.
  assert.equal(info.selectOneMessageQueue('broker-a').queueId, 2);
});

test('the cursor wraps around without going negative', () => {
  const info = topicRouteData2TopicPublishInfo('T', route, true, 0x7ffffffe);
  for (let i = 0; i < 5; i++) assert.ok(info.messageQueueList.includes(info.selectOneMessageQueue()));
});

test('TBW102 fallback: the template route with min(4, its queues) per broker', () => {
  const tbw: TopicRouteData = {
    queueDatas: [{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 7, topicSysFlag: 0 },
      { brokerName: 'broker-b', readQueueNums: 2, writeQueueNums: 2, perm: 7, topicSysFlag: 0 }],
    brokerDatas: route.brokerDatas.slice(0, 2),
    filterServerTable: {},
  };
  const info = topicRouteData2TopicPublishInfo('NewTopic', adaptDefaultTopicRoute(tbw, 4), false, 0);
  assert.equal(info.haveTopicRouterInfo, false);
  assert.deepEqual(names(info.messageQueueList), ['broker-a/0', 'broker-a/1', 'broker-a/2', 'broker-a/3', 'broker-b/0', 'broker-b/1']);
  assert.ok(info.messageQueueList.every((q) => q.topic === 'NewTopic'));
  // The template itself is left untouched.
  assert.equal(tbw.queueDatas[0]!.writeQueueNums, 8);
});

test('orderTopicConf decides the queues when present', () => {
  const info = topicRouteData2TopicPublishInfo('T', { ...route, orderTopicConf: 'broker-a:2;broker-b:1' }, true, 0);
  assert.deepEqual(names(info.messageQueueList), ['broker-a/0', 'broker-a/1', 'broker-b/0']);
  assert.equal(info.orderTopic, true);
});

test('subscribe queues: read queues of readable QueueData', () => {
  const mqs = topicRouteData2TopicSubscribeInfo('T', route);
  assert.equal(mqs.length, 2 + 3 + 4 + 4);
  assert.deepEqual(names(mqs.slice(0, 5)), ['broker-b/0', 'broker-b/1', 'broker-a/0', 'broker-a/1', 'broker-a/2']);
});

test('a route without writable queues is not ok', () => {
  const info = topicRouteData2TopicPublishInfo('T', { ...route, queueDatas: [route.queueDatas[2]!] });
  assert.equal(info.ok(), false);
  assert.throws(() => info.selectOneMessageQueue());
});
