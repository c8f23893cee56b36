import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { brokerCode } from '../helpers/broker-code.js';

// The broker's single-object and by-consumer admin queries (GET_TOPIC_CONFIG,
// GET_SUBSCRIPTIONGROUP_CONFIG, QUERY_TOPICS_BY_CONSUMER, QUERY_SUBSCRIPTION_BY_CONSUMER,
// QUERY_CONSUME_TIME_SPAN, GET_ALL_PRODUCER_INFO) through the Admin library and as raw requests
// with bad headers, against a real NameServer + Broker.

let mq: Standalone;
let admin: Admin;
let producer: Producer;
let tmp: { dir: string; cleanup(): void };
const stamp = Date.now();

before(async () => {
  tmp = tempDir('rmq-admin-queries-');
  mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false,
    // Groups exist only when created, so an unknown one is SUBSCRIPTION_GROUP_NOT_EXIST (by default, as upstream, it would be auto-created).
    brokerConfig: { autoCreateSubscriptionGroup: false } });
  admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  producer = new Producer({ group: `AQ_PG_${stamp}`, namesrvAddr: mq.namesrvAddr });
  await producer.start();
});

after(async () => {
  await producer?.shutdown();
  await admin?.shutdown();
  await mq?.shutdown();
  tmp?.cleanup();
});

function raw(code: number, ext: Record<string, string> = {}, body?: Buffer): Promise<RemotingCommand> {
  return admin.api.remoting.invoke(mq.brokerAddr, createRequest(code, { extFields: ext, body }), 5000);
}


/** The broker answers a plain request after the bad ones. */
async function stillServing(): Promise<void> {
  assert.equal((await raw(RequestCode.GET_ALL_TOPIC_CONFIG)).code, ResponseCode.SUCCESS);
}

test('GET_TOPIC_CONFIG (351) and GET_SUBSCRIPTIONGROUP_CONFIG (352): one object, or the not-exist code', async () => {
  const topic = `AQ_Topic_${stamp}`;
  await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 3, writeQueueNums: 5, perm: 6, order: true }, { brokerAddr: mq.brokerAddr });
  const tc = await admin.examineTopicConfig(mq.brokerAddr, topic);
  assert.deepEqual([tc.topicName, tc.readQueueNums, tc.writeQueueNums, tc.perm, tc.order], [topic, 3, 5, 6, true]);
  const body = JSON.parse((await raw(RequestCode.GET_TOPIC_CONFIG, { topic })).body!.toString()) as Record<string, unknown>;
  assert.equal(body.topicName, topic, 'the body is the TopicConfig, field names as upstream');
  assert.equal(body.topicFilterType, 'SINGLE_TAG');

  const missing = await raw(RequestCode.GET_TOPIC_CONFIG, { topic: `AQ_None_${stamp}` });
  assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
  assert.equal(missing.remark, `No topic in this broker. topic: AQ_None_${stamp}`);
  assert.equal(await brokerCode(admin.examineTopicConfig(mq.brokerAddr, `AQ_None_${stamp}`)), ResponseCode.TOPIC_NOT_EXIST);
  const noHeader = await raw(RequestCode.GET_TOPIC_CONFIG);
  assert.equal(noHeader.code, ResponseCode.SYSTEM_ERROR);
  assert.match(noHeader.remark ?? '', /<topic> is null/);

  const group = `AQ_Group_${stamp}`;
  await admin.createOrUpdateSubscriptionGroup({ groupName: group, retryMaxTimes: 3, consumeBroadcastEnable: false }, { brokerAddr: mq.brokerAddr });
  const g = await admin.examineSubscriptionGroupConfig(mq.brokerAddr, group);
  assert.deepEqual([g.groupName, g.retryMaxTimes, g.consumeBroadcastEnable, g.consumeEnable], [group, 3, false, true]);
  const gm = await raw(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, { group: `AQ_NoGroup_${stamp}` });
  assert.equal(gm.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
  assert.equal(gm.remark, 'No group in this broker');
  assert.match((await raw(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG)).remark ?? '', /<group> is null/);
  await stillServing();
  await producer.send(new Message(topic, 'after bad requests'));
});

test('QUERY_TOPICS_BY_CONSUMER (343), QUERY_SUBSCRIPTION_BY_CONSUMER (345) and QUERY_CONSUME_TIME_SPAN (303)', async () => {
  const topic = `AQ_Span_${stamp}`;
  const group = `AQ_SpanG_${stamp}`;
  await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 2, writeQueueNums: 2 }, { brokerAddr: mq.brokerAddr });
  await admin.createOrUpdateSubscriptionGroup({ groupName: group }, { brokerAddr: mq.brokerAddr });
  const sent: Array<{ queueId: number; storeTimestamp: number }> = [];
  for (let i = 0; i < 3; i++) {
    await producer.send(new Message(topic, `span${i}`), { queue: { topic, brokerName: 'broker-a', queueId: 0 } });
  }
  for (let offset = 0; offset < 3; offset++) {
    sent.push({ queueId: 0, storeTimestamp: mq.broker.messageStore.getMessageStoreTimeStamp(topic, 0, offset) });
  }
  // The group consumed one message of queue 0 and none of queue 1 (which is empty).
  await admin.api.updateConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0, commitOffset: 1 });

  const spans = await admin.queryConsumeTimeSpan(topic, group);
  assert.equal(spans.length, 2, 'one per write queue');
  const [q0, q1] = spans;
  assert.deepEqual(q0!.messageQueue, { topic, brokerName: 'broker-a', queueId: 0 });
  assert.equal(q0!.minTimeStamp, sent[0]!.storeTimestamp);
  assert.equal(q0!.maxTimeStamp, sent[2]!.storeTimestamp);
  assert.equal(q0!.consumeTimeStamp, sent[0]!.storeTimestamp, 'the last consumed message is offset 0');
  assert.ok(q0!.delayTime >= Date.now() - sent[1]!.storeTimestamp - 5_000 && q0!.delayTime <= Date.now() - sent[1]!.storeTimestamp, `the next message has waited: ${q0!.delayTime}`);
  assert.deepEqual([q1!.minTimeStamp, q1!.maxTimeStamp, q1!.consumeTimeStamp, q1!.delayTime], [-1, -1, -1, 0], 'an empty queue, caught up');
  const rawSpan = JSON.parse((await raw(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic, group })).body!.toString()) as { consumeTimeSpanSet: Array<Record<string, unknown>> };
  assert.deepEqual(Object.keys(rawSpan.consumeTimeSpanSet[0]!).sort(),
    ['consumeTimeStamp', 'consumeTimeStampStr', 'delayTime', 'maxTimeStamp', 'maxTimeStampStr', 'messageQueue', 'minTimeStamp', 'minTimeStampStr'], 'upstream QueueTimeSpan fields');
  assert.match(String(rawSpan.consumeTimeSpanSet[0]!.minTimeStampStr), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}$/);
  const noTopic = await raw(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic: `AQ_None_${stamp}`, group });
  assert.deepEqual([noTopic.code, noTopic.remark], [ResponseCode.TOPIC_NOT_EXIST, `topic[AQ_None_${stamp}] not exist`]);
  assert.match((await raw(RequestCode.QUERY_CONSUME_TIME_SPAN, { topic })).remark ?? '', /<group> is null/);

  // Topics by consumer: where the group has offsets (the retry topic's route names its brokers).
  await admin.createOrUpdateTopic({ topicName: `%RETRY%${group}`, readQueueNums: 1, writeQueueNums: 1 }, { brokerAddr: mq.brokerAddr });
  assert.deepEqual((await admin.queryTopicsByConsumer(group)).topicList, [topic]);
  const tl = JSON.parse((await raw(RequestCode.QUERY_TOPICS_BY_CONSUMER, { group })).body!.toString()) as Record<string, unknown>;
  assert.deepEqual(tl, { brokerAddr: mq.brokerAddr, topicList: [topic] });
  assert.deepEqual(JSON.parse((await raw(RequestCode.QUERY_TOPICS_BY_CONSUMER, { group: `AQ_Nobody_${stamp}` })).body!.toString()).topicList, []);
  assert.match((await raw(RequestCode.QUERY_TOPICS_BY_CONSUMER)).remark ?? '', /<group> is null/);

  // Subscription by consumer: only while a client of the group is online with it.
  assert.equal(await admin.querySubscription(group, topic), undefined);
  const hb = await admin.api.sendHeartbeat(mq.brokerAddr, {
    clientID: '10.0.0.7@span', producerDataSet: [],
    consumerDataSet: [{ groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false,
      subscriptionDataSet: [{ topic, subString: 'TagA || TagB', tagsSet: ['TagA', 'TagB'], codeSet: [2598919, 2598920], subVersion: 7, classFilterMode: false, expressionType: 'TAG' }] }],
  });
  assert.ok(hb);
  const sub = await admin.querySubscription(group, topic);
  assert.deepEqual([sub?.topic, sub?.subString, sub?.tagsSet, sub?.subVersion], [topic, 'TagA || TagB', ['TagA', 'TagB'], 7]);
  const qs = JSON.parse((await raw(RequestCode.QUERY_SUBSCRIPTION_BY_CONSUMER, { group, topic })).body!.toString()) as Record<string, unknown>;
  assert.deepEqual([qs.group, qs.topic, (qs.subscriptionData as Record<string, unknown>).subString], [group, topic, 'TagA || TagB']);
  assert.match((await raw(RequestCode.QUERY_SUBSCRIPTION_BY_CONSUMER, { topic })).remark ?? '', /<group> is null/);
  await stillServing();
});

test('GET_ALL_PRODUCER_INFO (328): every live producer by group, as upstream ProducerTableInfo', async () => {
  const res = await raw(RequestCode.GET_ALL_PRODUCER_INFO);
  assert.equal(res.code, ResponseCode.SUCCESS);
  const body = JSON.parse(res.body!.toString()) as { data: Record<string, Array<Record<string, unknown>>> };
  const mine = body.data[`AQ_PG_${stamp}`];
  assert.equal(mine?.length, 1);
  assert.deepEqual(Object.keys(mine[0]!).sort(), ['clientId', 'language', 'lastUpdateTimestamp', 'remoteIP', 'version']);
  assert.match(String(mine[0]!.remoteIP), /^\/127\.0\.0\.1:\d+$/);
  assert.equal(mine[0]!.language, 'NODE_JS');
  const table = await admin.getAllProducerInfo(mq.brokerAddr);
  assert.equal(table.get(`AQ_PG_${stamp}`)?.[0]?.clientId, mine[0]!.clientId);
});
