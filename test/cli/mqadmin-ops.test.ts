import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { Producer } from '../../src/client/producer.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { buildSubscription } from '../../src/common/subscription.js';
import { Message } from '../../src/client/message.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { ok, fails } from './mqadmin-run.js';

// mqadmin's producer and store-maintenance commands, and the client-side checks (sendMsgStatus,
// checkMsgSendRT, clusterRT, printMsgByQueue, getConsumerConfig, updateOrderConf,
// queryMsgTraceById), run in-process against a real NameServer + Broker: each asserts what the
// command did on the servers, and that bad input is one clear line on stderr with exit code 1.

let mq: Standalone;
let producer: Producer;
let tmp: { dir: string; cleanup(): void };
const stamp = Date.now();
const PG = `OPS_PG_${stamp}`;

before(async () => {
  tmp = tempDir('rmq-mqadmin-ops-');
  mq = await startStandalone({
    storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, brokerConfig: { traceTopicEnable: true },
    // Small CommitLog segments, none kept once expired, cleanup rounds every 200 ms but never at
    // the deleteWhen hour: CommitLog files go only when deleteExpiredCommitLog asks.
    storeConfig: {
      mappedFileSizeCommitLog: 64 * 1024, maxMessageSize: 16 * 1024, fileReservedTime: 0, cleanResourceInterval: 200,
      deleteWhen: String((new Date().getHours() + 12) % 24).padStart(2, '0'), diskMaxUsedSpaceRatio: 95,
    },
  });
  producer = new Producer({ group: PG, namesrvAddr: mq.namesrvAddr });
  await producer.start();
});

after(async () => {
  await producer?.shutdown();
  await mq?.shutdown();
  tmp?.cleanup();
});

test('producer lists the live producers of every group on a broker', async () => {
  await producer.send(new Message(`OpsProd_${stamp}`, 'hello'));
  const out = await ok('producer', '-b', mq.brokerAddr);
  assert.match(out, new RegExp(`^producer group \\(${PG}\\) instance : clientId=[^,]+,remoteIP=/127\\.0\\.0\\.1:\\d+, language=NODE_JS, version=\\d+, lastUpdateTimestamp=\\d+$`, 'm'));
  const json = JSON.parse(await ok('producer', '-b', mq.brokerAddr, '--json')) as Record<string, unknown[]>;
  assert.equal(json[PG]?.length, 1);
  await fails(/required option '-b, --broker <addr>' not specified/, 'producer');
  await fails(/connect to 127\.0\.0\.1:1 failed/, 'producer', '-b', '127.0.0.1:1');
  await producer.send(new Message(`OpsProd_${stamp}`, 'still serving'));
});

test('printMsgByQueue walks one queue: messages with -p, tag counts with -f', async () => {
  const topic = `OpsByQueue_${stamp}`;
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', topic, '-r', '2', '-w', '2');
  const q0 = { queue: { topic, brokerName: 'broker-a', queueId: 0 } };
  const ids: string[] = [];
  for (const tag of ['TagA', 'TagB', 'TagA', 'TagA']) ids.push((await producer.send(new Message(topic, `body-${tag}`, { tags: tag }), q0)).msgId);
  await producer.send(new Message(topic, 'other queue', { tags: 'TagC' }), { queue: { topic, brokerName: 'broker-a', queueId: 1 } });
  const n = ['-n', mq.namesrvAddr, '-t', topic, '-a', 'broker-a', '-i', '0'];

  assert.equal(await ok('printMsgByQueue', ...n), '', 'upstream prints nothing without -p or -f');
  const printed = await ok('printMsgByQueue', ...n, '-p', 'true', '-d', 'true');
  assert.deepEqual([...printed.matchAll(/^MSGID: (\S+) MessageExt \[.*queueId=0, .* BODY: (.*)$/gm)].map((m) => [m[1], m[2]]),
    ids.map((id, i) => [id, `body-${['TagA', 'TagB', 'TagA', 'TagA'][i]}`]));
  assert.match(await ok('printMsgByQueue', ...n, '-p', 'true'), /BODY: NOT PRINT BODY$/m);
  assert.equal(await ok('printMsgByQueue', ...n, '-f', 'true'), `Tag: ${'TagA'.padEnd(30)} Count: 3\nTag: ${'TagB'.padEnd(30)} Count: 1\n`);
  // -s filters on the broker: only TagB is walked.
  assert.equal(await ok('printMsgByQueue', ...n, '-f', 'true', '-s', 'TagB'), `Tag: ${'TagB'.padEnd(30)} Count: 1\n`);

  await fails(/queue 5 does not exist: topic OpsByQueue_\d+ has queues 0\.\.1 on broker-a/, 'printMsgByQueue', '-n', mq.namesrvAddr, '-t', topic, '-a', 'broker-a', '-i', '5');
  await fails(/broker broker-x does not serve topic/, 'printMsgByQueue', '-n', mq.namesrvAddr, '-t', topic, '-a', 'broker-x', '-i', '0');
  await fails(/required option '-a, --brokerName <name>' not specified/, 'printMsgByQueue', '-n', mq.namesrvAddr, '-t', topic, '-i', '0');
  await fails(/expected true or false/, 'printMsgByQueue', ...n, '-p', 'yes');
});

test('sendMsgStatus, checkMsgSendRT and clusterRT send real messages and report each send', async () => {
  const before = mq.broker.messageStore.getMaxOffsetInQueue('broker-a', 0);
  const status = await ok('sendMsgStatus', '-n', mq.namesrvAddr, '-b', 'broker-a', '-s', '30', '-c', '3');
  const lines = status.trim().split('\n');
  assert.equal(lines.length, 3);
  for (const l of lines) {
    assert.match(l, /^rt=\d+ms, SendResult=SendResult \[sendStatus=SEND_OK, msgId=[0-9A-F]+, offsetMsgId=[0-9A-F]+, messageQueue=MessageQueue \[topic=broker-a, brokerName=broker-a, queueId=0\], queueOffset=\d+, recallHandle=null\]$/);
  }
  assert.equal(mq.broker.messageStore.getMaxOffsetInQueue('broker-a', 0), before + 4, 'one warm-up send and three timed ones, to the broker\'s own topic');
  await fails(/required option '-b, --brokerName <name>' not specified/, 'sendMsgStatus', '-n', mq.namesrvAddr);

  const topic = `OpsRT_${stamp}`;
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', topic, '-r', '2', '-w', '2');
  const rt = await ok('checkMsgSendRT', '-n', mq.namesrvAddr, '-t', topic, '-a', '4', '-s', '10');
  const rows = rt.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows[0], ['#Broker', 'Name', '#QID', '#Send', 'Result', '#RT']);
  assert.deepEqual(rows.slice(1, 5).map((r) => r.slice(0, 3)), [['broker-a', '0', 'true'], ['broker-a', '1', 'true'], ['broker-a', '0', 'true'], ['broker-a', '1', 'true']], 'round robin over the queues');
  assert.match(rt, /^Avg RT: \d+\.\d{2}$/m);
  assert.deepEqual([0, 1].map((q) => mq.broker.messageStore.getMaxOffsetInQueue(topic, q)), [2, 2]);
  await fails(/expected an integer/, 'checkMsgSendRT', '-n', mq.namesrvAddr, '-t', topic, '-s', 'big');
  await fails(/-a must be positive/, 'checkMsgSendRT', '-n', mq.namesrvAddr, '-t', topic, '-a', '0');

  const cluster = await ok('clusterRT', '-n', mq.namesrvAddr, '-a', '3', '-s', '10', '-r', '1');
  const crows = cluster.trim().split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(crows[0], ['#Cluster', 'Name', '#Broker', 'Name', '#RT', '#successCount', '#failCount']);
  assert.equal(crows.length, 2);
  assert.deepEqual([crows[1]![0], crows[1]![1], crows[1]![3], crows[1]![4]], ['DefaultCluster', 'broker-a', '3', '0']);
  assert.match(crows[1]![2]!, /^\d+\.\d{2}$/);
  assert.match(await ok('clusterRT', '-n', mq.namesrvAddr, '-a', '2', '-r', '1', '-p', 'true', '-m', 'room1'), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\|room1\|DefaultCluster\|broker-a\|\d+\n$/);
  const json = JSON.parse(await ok('clusterRT', '-n', mq.namesrvAddr, '-a', '2', '-r', '1', '--json')) as Array<Record<string, unknown>>;
  assert.deepEqual([json[0]?.clusterName, json[0]?.brokerName, json[0]?.successCount], ['DefaultCluster', 'broker-a', 2]);
  await fails(/cluster \[NoSuchCluster\] not exist/, 'clusterRT', '-n', mq.namesrvAddr, '-c', 'NoSuchCluster', '-r', '1');
});

test('getConsumerConfig prints a group\'s config per broker; updateOrderConf puts, gets and deletes the order conf', async () => {
  const group = `OpsCfgG_${stamp}`;
  await ok('updateSubGroup', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-g', group, '-r', '5', '-m', 'false');
  const out = await ok('getConsumerConfig', '-n', mq.namesrvAddr, '-g', group);
  const lines = out.split('\n');
  assert.equal(lines[0], '=============================DefaultCluster:broker-a=============================');
  const fields = Object.fromEntries(lines.slice(1).filter(Boolean).map((l) => { const [k, v] = l.split('=  '); return [k!.trim(), v]; }));
  assert.deepEqual(Object.keys(fields), ['groupName', 'consumeEnable', 'consumeFromMinEnable', 'consumeBroadcastEnable', 'consumeMessageOrderly', 'retryQueueNums',
    'retryMaxTimes', 'groupRetryPolicy', 'brokerId', 'whichBrokerWhenConsumeSlowly', 'notifyConsumerIdsChangedEnable', 'groupSysFlag', 'consumeTimeoutMinute',
    'subscriptionDataSet', 'attributes']);
  assert.deepEqual([fields.groupName, fields.retryMaxTimes, fields.consumeFromMinEnable, fields.attributes], [group, '5', 'false', '{}']);
  assert.match(lines[1]!, /^groupName {31}= {2}/);
  await fails(/required option '-g, --groupName <group>' not specified/, 'getConsumerConfig', '-n', mq.namesrvAddr);

  const topic = `OpsOrder_${stamp}`;
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', topic, '-r', '2', '-w', '2');
  assert.equal(await ok('updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'put', '-v', 'broker-a:2'), `update orderConf success. topic=[${topic}], orderConf=[broker-a:2]`);
  assert.equal(await ok('updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'get'), `get orderConf success. topic=[${topic}], orderConf=[broker-a:2] `);
  assert.equal(mq.namesrv.kvConfigManager.getKVConfig('ORDER_TOPIC_CONFIG', topic), 'broker-a:2', 'the NameServer holds it');
  assert.equal(await ok('updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'delete'), `delete orderConf success. topic=[${topic}]`);
  await fails(/has no orderConf/, 'updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'get');
  await fails(/please set orderConf with option -v\./, 'updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'put');
  await fails(/must look like brokerName:queueNums/, 'updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'put', '-v', 'broker-a');
  await fails(/-m list is not a method: use put, get or delete/, 'updateOrderConf', '-n', mq.namesrvAddr, '-t', topic, '-m', 'list');
});

test('queryMsgTraceById prints the Pub and Sub records the SDK wrote to the trace topic', async () => {
  const topic = `OpsTrace_${stamp}`;
  const traced = new Producer({ group: `OpsTraceP_${stamp}`, namesrvAddr: mq.namesrvAddr, enableTrace: true });
  await traced.start();
  const r = await traced.send(new Message(topic, 'traced', { keys: ['ops-trace'] }));
  await traced.shutdown(); // flushes the trace records
  let out = '';
  await waitUntil(async () => (out = await ok('queryMsgTraceById', '-n', mq.namesrvAddr, '-i', r.msgId)).includes('Pub'), 'the Pub trace', 10_000);
  const lines = out.split('\n');
  assert.deepEqual(lines[0]!.trim().split(/\s+/), ['#Type', '#ProducerGroup', '#ClientHost', '#SendTime', '#CostTimes', '#Status']);
  const pub = lines[1]!.trim().split(/\s+/);
  assert.deepEqual([pub[0], pub[1], pub[6]], ['Pub', `OpsTraceP_${stamp}`, 'success']);
  assert.match(pub[2]!, /^[\d.]+$/, 'the client host without its port');
  assert.match(`${pub[3]} ${pub[4]} ${pub[5]}`, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \d+ms$/);
  assert.equal(await ok('queryMsgTraceById', '-n', mq.namesrvAddr, '-i', 'NOSUCHID'), '', 'no trace: nothing printed, as upstream');
  await fails(/required option '-i, --msgId <id>' not specified/, 'queryMsgTraceById', '-n', mq.namesrvAddr);
  await fails(/expected an integer/, 'queryMsgTraceById', '-n', mq.namesrvAddr, '-i', r.msgId, '-c', 'many');
});

test('queryMsgById and queryMsgByUniqueKey end with each consuming group\'s MessageTrack, as upstream', async () => {
  const topic = `OpsTrack_${stamp}`;
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', topic, '-r', '1', '-w', '1');
  const r = await producer.send(new Message(topic, 'tracked', { tags: 'TagY' }));
  const api = new MQClientAPI();
  try {
    // Clients as the broker sees them: heartbeats on a connection that stays open, offsets committed.
    const G = (s: string): string => `OpsTrack${s}_${stamp}`;
    const client = (group: string, consumeType: 'CONSUME_PASSIVELY' | 'CONSUME_ACTIVELY', sub: string): Promise<unknown> => api.sendHeartbeat(mq.brokerAddr, {
      clientID: `10.0.0.8@${group}`, producerDataSet: [],
      consumerDataSet: [{ groupName: group, consumeType, messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false,
        subscriptionDataSet: [buildSubscription(topic, sub, 'TAG', 1)] }],
    });
    const commit = (group: string, offset: number): Promise<void> => api.updateConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0, commitOffset: offset });
    await client(G('A'), 'CONSUME_PASSIVELY', '*');
    await commit(G('A'), 1);
    await client(G('B'), 'CONSUME_PASSIVELY', 'TagX');
    await commit(G('B'), 1);
    await client(G('C'), 'CONSUME_PASSIVELY', '*');
    await commit(G('C'), 0);
    await client(G('D'), 'CONSUME_ACTIVELY', '*');
    await commit(G('E'), 1); // offsets, and no client online

    const expected = [
      `MessageTrack [consumerGroup=${G('A')}, trackType=CONSUMED, exceptionDesc=null]`,
      `MessageTrack [consumerGroup=${G('B')}, trackType=CONSUMED_BUT_FILTERED, exceptionDesc=null]`,
      `MessageTrack [consumerGroup=${G('C')}, trackType=NOT_CONSUME_YET, exceptionDesc=null]`,
      `MessageTrack [consumerGroup=${G('D')}, trackType=PULL, exceptionDesc=null]`,
      `MessageTrack [consumerGroup=${G('E')}, trackType=NOT_ONLINE, exceptionDesc=CODE:206 DESC:the consumer group[${G('E')}] not online]`,
    ].join('\n');
    const byId = await ok('queryMsgById', '-n', mq.namesrvAddr, '-t', topic, '-i', r.offsetMsgId);
    assert.ok(byId.endsWith(`Message Body Path:   ${join(tmpdir(), 'rocketmq', 'msgbodys', r.msgId)}\n\n\n${expected}\n`), byId);
    const byKey = await ok('queryMsgByUniqueKey', '-n', mq.namesrvAddr, '-t', topic, '-i', r.msgId);
    assert.ok(byKey.endsWith(`\n\n\n${expected}\n`), byKey);

    const lonely = `OpsTrackNone_${stamp}`;
    const r2 = await producer.send(new Message(lonely, 'nobody reads this'));
    assert.ok((await ok('queryMsgByUniqueKey', '-n', mq.namesrvAddr, '-t', lonely, '-i', r2.msgId)).endsWith('\n\n\nWARN: No Consumer'));
  } finally {
    await api.shutdown();
  }
});

// Last in the file: it deletes the CommitLog files before the newest.
test('deleteExpiredCommitLog, cleanExpiredCQ and cleanUnusedTopic clean the broker\'s store', async () => {
  const store = mq.broker.messageStore;
  const expired = `OpsExpired_${stamp}`;
  const unused = `OpsUnused_${stamp}`;
  const live = `OpsLive_${stamp}`;
  for (let i = 0; i < 3; i++) await producer.send(new Message(expired, `old${i}`));
  // Filler past two segments (random bytes: the producer compresses what compresses), so the topics above lie wholly in files that can expire.
  for (let i = 0; i < 20; i++) await producer.send(new Message(`OpsFiller_${stamp}`, randomBytes(8 * 1024)));
  await producer.send(new Message(live, 'live'));
  await producer.send(new Message(unused, 'unused'));
  assert.equal(store.commitLog.minOffset, 0, 'nothing deleted before the command');

  assert.equal(await ok('deleteExpiredCommitLog', '-b', mq.brokerAddr), 'success');
  await waitUntil(() => store.commitLog.minOffset > 0, 'the expired CommitLog files deleted', 10_000);
  const queuesOf = (topic: string): number[] => store.queueIdsOf(topic);
  assert.ok(queuesOf(expired).length > 0, 'the ConsumeQueues of a topic whose messages are gone stay until cleanExpiredCQ');

  assert.equal(await ok('cleanExpiredCQ', '-n', mq.namesrvAddr, '-c', 'DefaultCluster'), 'success');
  assert.deepEqual(queuesOf(expired), []);
  assert.ok(!existsSync(join(mq.storeDir, 'consumequeue', expired)), 'its directory is gone');
  assert.ok(queuesOf(live).length > 0, 'a topic with messages still stored keeps its queues');

  // A topic the broker no longer has (e.g. removed from topics.json) keeps its queues until cleanUnusedTopic.
  mq.broker.topicConfigManager.delete(unused);
  assert.ok(queuesOf(unused).length > 0);
  assert.equal(await ok('cleanUnusedTopic', '-n', mq.namesrvAddr), 'success', 'every broker of every cluster');
  assert.deepEqual(queuesOf(unused), []);
  assert.ok(queuesOf(live).length > 0);

  await fails(/connect to 127\.0\.0\.1:1 failed/, 'cleanExpiredCQ', '-b', '127.0.0.1:1');
  await fails(/cluster NoSuchCluster does not exist/, 'cleanUnusedTopic', '-n', mq.namesrvAddr, '-c', 'NoSuchCluster');
  await fails(/no NameServer address/, 'deleteExpiredCommitLog');
  const r = await producer.send(new Message(live, 'still serving'));
  assert.equal(r.sendStatus, 'SEND_OK');
});
