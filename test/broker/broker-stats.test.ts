import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { StatsName } from '../../src/common/stats.js';
import { ok, rows } from '../cli/mqadmin-run.js';
import { waitUntil } from '../client/helpers.js';
import { pullRequest, records, startMQ, type TestMQ } from './helpers.js';

// Broker statistics over sockets: what sends and pulls count (VIEW_BROKER_STATS_DATA), the rates
// the topic and consume stats report, the runtime info's totals, and mqadmin statsAll.

let t: TestMQ;
let admin: Admin;
let producer: Producer;
const stamp = Date.now();
const TOPIC = `ST_T_${stamp}`;
const IDLE = `ST_IDLE_${stamp}`;
const GROUP = `ST_G_${stamp}`;
const SENT = 12;
let pulled = 0;

before(async () => {
  t = await startMQ();
  admin = new Admin({ namesrvAddr: t.mq.namesrvAddr });
  await admin.start();
  producer = new Producer({ group: `ST_PG_${stamp}`, namesrvAddr: t.mq.namesrvAddr });
  await producer.start();
  for (const topic of [TOPIC, IDLE]) {
    await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1 }, { brokerAddr: t.mq.brokerAddr });
  }
  await waitUntil(async () => (await admin.fetchAllTopicList()).includes(IDLE), 'the topics in the list');
  for (let i = 0; i < SENT; i++) await producer.send(new Message(TOPIC, Buffer.from(`m${i}`)));
  // The group reads 8 of them, and commits that far (what the backlog is measured from).
  const res = await raw(RequestCode.PULL_MESSAGE, pullRequest({ topic: TOPIC, group: GROUP, maxMsgNums: 8 }).extFields!);
  assert.equal(res.code, ResponseCode.SUCCESS);
  pulled = records(res).length;
  assert.equal(pulled, 8);
  await admin.api.updateConsumerOffset(t.mq.brokerAddr, { consumerGroup: GROUP, topic: TOPIC, queueId: 0, commitOffset: pulled });
  // The broker samples every 10 s; take a sample now rather than wait for it.
  t.mq.broker.brokerStatsManager.samplingInSeconds();
});

after(async () => {
  await producer?.shutdown();
  await admin?.shutdown();
  await t?.close();
});

function raw(code: number, ext: Record<string, string> = {}) {
  return admin.api.remoting.invoke(t.mq.brokerAddr, createRequest(code, { extFields: ext }), 5000);
}

test('VIEW_BROKER_STATS_DATA: puts per topic, gets per topic@group, and the broker totals', async () => {
  const put = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_NUMS, TOPIC);
  assert.equal(put.statsMinute.sum, SENT);
  assert.ok(put.statsMinute.tps > 0, 'a put rate over the sampled window');
  assert.equal(put.statsMinute.avgpt, 1, 'one message per put');
  const size = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_SIZE, TOPIC);
  assert.ok(size.statsMinute.sum > SENT * 100, `whole records are counted (${size.statsMinute.sum} bytes)`);
  const get = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.GROUP_GET_NUMS, `${TOPIC}@${GROUP}`);
  assert.equal(get.statsMinute.sum, pulled);
  const latency = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.GROUP_GET_LATENCY, `${TOPIC}@${GROUP}`);
  assert.ok(latency.statsMinute.avgpt >= 0);
  const clusterName = t.mq.broker.brokerConfig.brokerClusterName;
  const brokerPut = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.BROKER_PUT_NUMS, clusterName);
  assert.ok(brokerPut.statsMinute.sum >= SENT);
});

test('VIEW_BROKER_STATS_DATA of something never counted, or without its fields, is refused and the broker serves on', async () => {
  await assert.rejects(admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_NUMS, 'NoSuchTopic'),
    (e: unknown) => e instanceof MQBrokerError && e.responseCode === ResponseCode.SYSTEM_ERROR && /The stats <TOPIC_PUT_NUMS> <NoSuchTopic> not exist/.test(e.message));
  await assert.rejects(admin.viewBrokerStatsData(t.mq.brokerAddr, 'NO_SUCH_STATS', TOPIC), /not exist/);
  const missing = await raw(RequestCode.VIEW_BROKER_STATS_DATA, { statsName: StatsName.TOPIC_PUT_NUMS });
  assert.notEqual(missing.code, ResponseCode.SUCCESS);
  assert.match(missing.remark ?? '', /statsKey/);
  const put = await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_NUMS, TOPIC);
  assert.equal(put.statsMinute.sum, SENT);
});

test('topic and consume stats report the rates the broker measured', async () => {
  const ts = await admin.examineTopicStats(TOPIC);
  assert.ok((ts.topicPutTps ?? 0) > 0, `topicPutTps ${ts.topicPutTps}`);
  const cs = await admin.examineConsumeStats(GROUP, TOPIC);
  assert.ok(cs.consumeTps > 0, `consumeTps ${cs.consumeTps}`);
  const idle = await admin.examineTopicStats(IDLE);
  assert.equal(idle.topicPutTps ?? 0, 0);
});

test('runtime info: puts and gets of user topics today, and the store rates', async () => {
  const kv = await admin.fetchBrokerRuntimeStats(t.mq.brokerAddr);
  assert.equal(Number(kv.msgPutTotalTodayNow), SENT, 'system topics are not counted');
  assert.equal(Number(kv.msgGetTotalTodayNow), pulled);
  assert.equal(kv.msgPutTotalTodayMorning, '0');
  assert.ok(Number(kv.putMessageTimesTotal) >= SENT);
  assert.ok(Number(kv.putMessageSizeTotal) > 0);
  assert.ok(Number(kv.putMessageAverageSize) > 0);
  assert.equal(kv.putTps?.split(' ').length, 3, `putTps "${kv.putTps}" has its 10 s, 1 min and 10 min rates`);
  assert.equal(kv.getTransferredTps?.split(' ').length, 3);
  // Every acknowledged put's latency went to the distribution (reported after its first minute).
  assert.ok(t.mq.broker.messageStore.storeStats.putLatenciesRecorded >= SENT);
  assert.ok(Number(kv.putMessageEntireTimeMax) >= 0);
  // At midnight the totals so far become today's morning figure.
  t.mq.broker.brokerStats.record();
  const later = await admin.fetchBrokerRuntimeStats(t.mq.brokerAddr);
  assert.equal(Number(later.msgPutTotalTodayMorning), SENT);
  assert.equal(Number(later.msgGetTotalTodayMorning), pulled);
  assert.equal(later.msgPutTotalYesterdayMorning, '0');
});

test('mqadmin statsAll: each topic with its groups, backlog, rates and last-day counts', async () => {
  const out = await ok('statsAll', '-n', t.mq.namesrvAddr);
  const table = rows(out);
  assert.deepEqual(table[0], ['#Topic', '#Consumer', 'Group', '#Accumulation', '#InTPS', '#OutTPS', '#InMsg24Hour', '#OutMsg24Hour']);
  const line = table.find((r) => r[0] === TOPIC);
  assert.ok(line, out);
  assert.equal(line[1], GROUP);
  assert.equal(Number(line[2]), SENT - pulled, 'the backlog');
  assert.ok(Number(line[3]) > 0, 'InTPS');
  assert.ok(Number(line[4]) > 0, 'OutTPS');
  assert.equal(Number(line[5]), SENT);
  assert.equal(Number(line[6]), pulled);
  const idle = table.find((r) => r[0] === IDLE);
  assert.deepEqual(idle?.slice(1), ['0', '0.00', '0', 'NO_CONSUMER'], 'a topic nobody consumes');
  // -a: active topics only; -t: one topic.
  const active = rows(await ok('statsAll', '-n', t.mq.namesrvAddr, '-a'));
  assert.ok(active.some((r) => r[0] === TOPIC));
  assert.ok(!active.some((r) => r[0] === IDLE));
  const one = rows(await ok('statsAll', '-n', t.mq.namesrvAddr, '-t', IDLE));
  assert.deepEqual(one.slice(1).map((r) => r[0]), [IDLE]);
});

test('a deleted topic takes its statistics with it', async () => {
  const topic = `ST_DEL_${stamp}`;
  await admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1 }, { brokerAddr: t.mq.brokerAddr });
  await waitUntil(async () => (await admin.fetchAllTopicList()).includes(topic), 'the topic in the list');
  await producer.send(new Message(topic, Buffer.from('x')));
  t.mq.broker.brokerStatsManager.samplingInSeconds();
  assert.equal((await admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_NUMS, topic)).statsMinute.sum, 1);
  await admin.deleteTopic(topic, t.mq.broker.brokerConfig.brokerClusterName);
  await assert.rejects(admin.viewBrokerStatsData(t.mq.brokerAddr, StatsName.TOPIC_PUT_NUMS, topic), /not exist/);
});

test('pull offsets: what a group pulled past its committed offset shows as in flight', async () => {
  const group = `ST_G2_${stamp}`;
  const res = await raw(RequestCode.PULL_MESSAGE, pullRequest({ topic: TOPIC, group, maxMsgNums: 5 }).extFields!);
  assert.equal(records(res).length, 5);
  await admin.api.updateConsumerOffset(t.mq.brokerAddr, { consumerGroup: group, topic: TOPIC, queueId: 0, commitOffset: 2 });
  const cs = await admin.examineConsumeStats(group, TOPIC);
  const [entry] = [...cs.offsetTable.values()];
  assert.deepEqual([entry?.offset.consumerOffset, entry?.offset.pullOffset], [2, 5]);
  const inBroker = await admin.fetchConsumeStatsInBroker(t.mq.brokerAddr, false);
  assert.equal(inBroker.totalInflightDiff, 3);
  const progress = rows(await ok('consumerProgress', '-n', t.mq.namesrvAddr, '-g', group, '-t', TOPIC));
  const line = progress.find((r) => r[0] === TOPIC);
  assert.equal(line?.[6], '3', `#Inflight: ${JSON.stringify(progress)}`);
  // A reset puts the group elsewhere: nothing it pulled before is in flight.
  await admin.resetOffsetByTimestamp(TOPIC, group, 0);
  const after = [...(await admin.examineConsumeStats(group, TOPIC)).offsetTable.values()][0];
  assert.equal(after?.offset.pullOffset, after?.offset.consumerOffset);
});
