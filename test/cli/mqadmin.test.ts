import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { format } from '../../src/cli/mqadmin.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode } from '../../src/remoting/codes.js';
import { skip, useStandalone, type Standalone } from '../client/standalone-fixture.js';
import { sendAroundInstant, startCollector, waitUntil } from '../client/helpers.js';
import { mqadmin, ok, rows } from './mqadmin-run.js';

// mqadmin run in-process (runMqadmin with captured output) against a real NameServer + Broker,
// and once as a child process for the entry point itself.

let mq: Standalone;
let producer: Producer;
const stamp = Date.now();

useStandalone('rmq-mqadmin-', {
  async started(s) {
    mq = s;
    producer = new Producer({ group: 'MQADMIN_PG', namesrvAddr: mq.namesrvAddr, heartbeatBrokerInterval: 200 });
    await producer.start();
  },
  async stopping() {
    await producer?.shutdown();
  },
});


test("format() follows Java's printf for upstream's column formats", () => {
  assert.equal(format('%-6s|%4d|%s%n', 'ab', 7, null), 'ab    |   7|null\n');
  assert.equal(format('%-3s%%', 'abcdef'), 'abcdef%');
  assert.equal(format('%11.2f|%-6.1f|%f', 3.14159, 2, 0.5), '       3.14|2.0   |0.500000');
});

test('no NameServer: one line on stderr, exit code 1, no stack; usage and unknown flags', async () => {
  const r = await mqadmin('topicList');
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /^mqadmin topicList: no NameServer address: pass -n host:9876 .* or set the NAMESRV_ADDR environment variable\n$/);
  const down = await mqadmin('clusterList', '-n', '127.0.0.1:1');
  assert.equal(down.code, 1);
  assert.equal(down.err.split('\n').filter(Boolean).length, 1);
  assert.match(down.err, /connect to 127\.0\.0\.1:1 failed/);
  assert.doesNotMatch(down.err, /\n\s+at /, 'no stack trace');
  const help = await mqadmin('updateTopic', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /-t, --topic <topic>/);
  assert.match(help.out, /-n, --namesrvAddr <addrs>/);
  assert.match(help.out, /--json/);
  assert.equal((await mqadmin('topicRoute', '-n', 'x:1')).code, 1, 'missing required -t');
  assert.equal((await mqadmin('help', 'nosuch')).code, 1);
  assert.match((await mqadmin()).out, /updateTopic/);
});

test('updateTopic, topicList, topicRoute, topicStatus, deleteTopic', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `CliTopic_${stamp}`;
  const created = await ok('updateTopic', ...n, '-c', 'DefaultCluster', '-t', topic, '-r', '3', '-w', '3', '-p', '6');
  assert.match(created, new RegExp(`create topic to ${mq.brokerAddr.replace(/\./g, '\\.')} success\\.`));
  assert.match(created, new RegExp(`TopicConfig \\[topicName=${topic}, readQueueNums=3, writeQueueNums=3, perm=RW-`));
  await waitUntil(async () => (await ok('topicList', ...n)).split('\n').includes(topic), 'the topic listed');
  const table = rows(await ok('topicList', ...n, '-c'));
  assert.deepEqual(table[0], ['#Cluster', 'Name', '#Topic', '#Consumer', 'Group']);
  assert.ok(table.some((r) => r[0] === 'DefaultCluster' && r[1] === topic));
  const route = JSON.parse(await ok('topicRoute', ...n, '-t', topic));
  assert.equal(route.queueDatas[0].readQueueNums, 3);
  const list = rows(await ok('topicRoute', ...n, '-t', topic, '-l'));
  assert.deepEqual(list[1]!.slice(0, 2), ['DefaultCluster', 'broker-a']);
  assert.deepEqual(list.at(-1), ['Total:', '1', '3', '3']);
  await ok('sendMessage', ...n, '-t', topic, '-p', 'one', '-b', 'broker-a', '-i', '1');
  const status = rows(await ok('topicStatus', ...n, '-t', topic));
  assert.deepEqual(status.slice(1, 4).map((r) => r.slice(0, 4)), [['broker-a', '0', '0', '0'], ['broker-a', '1', '0', '1'], ['broker-a', '2', '0', '0']]);
  const json = JSON.parse(await ok('topicStatus', ...n, '-t', topic, '--json'));
  assert.equal(json.offsetTable[1].offset.maxOffset, 1);
  const del = await ok('deleteTopic', ...n, '-t', topic, '-c', 'DefaultCluster');
  assert.equal(del, `delete topic [${topic}] from cluster [DefaultCluster] success.\ndelete topic [${topic}] from NameServer success.\n`);
  const gone = await mqadmin('topicRoute', ...n, '-t', topic);
  assert.equal(gone.code, 1);
  assert.match(gone.err, /does not exist/);
});

test('clusterList and brokerStatus', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const cl = rows(await ok('clusterList', ...n));
  assert.equal(cl[0]![0], '#Cluster');
  assert.deepEqual(cl[1]!.slice(0, 5), ['DefaultCluster', 'broker-a', '0', mq.brokerAddr, 'V5_3_3']);
  const more = rows(await ok('clusterList', ...n, '-m'));
  assert.deepEqual(more[1]!.slice(0, 2), ['DefaultCluster', 'broker-a']);
  const json = JSON.parse(await ok('clusterList', ...n, '--json'));
  assert.equal(json[0].addr, mq.brokerAddr);
  const bs = await ok('brokerStatus', '-b', mq.brokerAddr);
  assert.match(bs, /^brokerActive\s+: true$/m);
  assert.match(await ok('brokerStatus', ...n, '-c', 'DefaultCluster'), new RegExp(`^${mq.brokerAddr.replace(/\./g, '\\.')}\\s+brokerName\\s+: broker-a$`, 'm'));
});

test('sendMessage, queryMsgById, queryMsgByKey, consumeMessage', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `CliMsg_${stamp}`;
  const sent = rows(await ok('sendMessage', ...n, '-t', topic, '-p', 'hello mqadmin', '-k', 'key-1', '-c', 'TagX'));
  assert.deepEqual(sent[0], ['#Broker', 'Name', '#QID', '#Send', 'Result', '#MsgId']);
  assert.equal(sent[1]![0], 'broker-a');
  assert.equal(sent[1]![2], 'SEND_OK');
  const msgId = sent[1]![3]!;
  const shown = await ok('queryMsgById', ...n, '-t', topic, '-i', msgId, '-f', 'UTF-8');
  assert.match(shown, /^Topic:\s+CliMsg_/m);
  assert.match(shown, /^Tags:\s+\[TagX\]$/m);
  assert.match(shown, /^Keys:\s+\[key-1\]$/m);
  assert.match(shown, /^Message Body:\s+hello mqadmin$/m);
  const offsetId = /^OffsetID:\s+(\S+)$/m.exec(shown)![1]!;
  assert.match(await ok('queryMsgById', ...n, '-t', topic, '-i', offsetId), /^Queue Offset:\s+0$/m);
  const json = JSON.parse(await ok('queryMsgById', ...n, '-t', topic, '-i', msgId, '--json'));
  assert.equal(json[0].body, 'hello mqadmin');
  const missing = await mqadmin('queryMsgById', ...n, '-t', topic, '-i', '00000000000000000000000000000000');
  assert.equal(missing.code, 1);
  const byKey = await mqadmin('queryMsgByKey', ...n, '-t', topic, '-k', 'key-1');
  if (byKey.code === 0) {
    assert.deepEqual(rows(byKey.out)[1], [msgId, sent[1]![1]!, '0']);
  } else {
    assert.match(byKey.err, /does not support QUERY_MESSAGE/);
  }
  const consumed = await ok('consumeMessage', ...n, '-t', topic, '-c', '10');
  assert.match(consumed, /^Consume ok$/m);
  assert.match(consumed, new RegExp(`^MSGID: ${msgId} MessageExt \\[.*\\] BODY: hello mqadmin$`, 'm'));
  const one = JSON.parse(await ok('consumeMessage', ...n, '-t', topic, '-b', 'broker-a', '-i', sent[1]![1]!, '-o', '0', '--json'));
  assert.equal(one.length, 1);
  assert.equal((await mqadmin('consumeMessage', ...n, '-t', topic, '-i', '0')).err, 'mqadmin consumeMessage: Please set the brokerName before queueId!\n');
});

test('consumerProgress, consumerConnection and resetOffsetByTime', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `CliGroupTopic_${stamp}`;
  const group = `CliGroup_${stamp}`;
  await ok('updateTopic', ...n, '-b', mq.brokerAddr, '-t', topic, '-r', '1', '-w', '1');
  await waitUntil(async () => (await mqadmin('topicRoute', ...n, '-t', topic)).code === 0, 'the route');
  const middle = await sendAroundInstant((body) => producer.send(new Message(topic, body)), ['a0', 'a1', 'a2'], ['b0', 'b1']);
  const { consumer: c, got } = await startCollector(mq.namesrvAddr, group, topic);
  try {
    await waitUntil(() => got.length === 5, 'five messages');
    const connText = await ok('consumerConnection', ...n, '-g', group);
    const conn = rows(connText);
    assert.equal(conn[1]![0], c.clientId);
    assert.match(conn[1]![1]!, /:\d+$/, 'the client address is known');
    assert.notEqual(conn[1]![2], 'N/A');
    assert.ok(conn.some((r) => r[0] === topic && r[1] === '*'), connText);
    assert.match(connText, /^ConsumeType: CONSUME_PASSIVELY$/m);
    assert.match(connText, /^MessageModel: CLUSTERING$/m);
    assert.doesNotMatch(connText, /only client ids are known/);
    const groups = await ok('consumerProgress', ...n);
    assert.ok(rows(groups).some((r) => r[0] === group && r[1] === '1'), groups);
    // The broker moves the offsets and pushes them to the online consumer, which consumes b0, b1 again.
    got.length = 0;
    const pushed = await ok('resetOffsetByTime', ...n, '-g', group, '-t', topic, '-s', String(middle));
    assert.match(pushed, /#offset/);
    assert.equal(rows(pushed).at(-1)!.at(-1), '3', pushed);
    await waitUntil(() => got.length >= 2, 'the messages after the reset time again');
    assert.deepEqual([...got].sort(), ['b0', 'b1']);
    await waitUntil(async () => rows(await ok('consumerProgress', ...n, '-g', group, '-t', topic))[1]![4] === '5', 'the offset committed again');
  } finally {
    await c.shutdown();
  }
  const progress = rows(await ok('consumerProgress', ...n, '-g', group, '-t', topic));
  assert.deepEqual(progress[1]!.slice(0, 6), [topic, 'broker-a', '0', '5', '5', '0']);
  assert.ok(progress.some((r) => r.join(' ') === 'Consume Diff Total: 0'));
  const ip = rows(await ok('consumerProgress', ...n, '-g', group, '-s', 'true'));
  assert.equal(ip[0]!.includes('#Client'), true);
  const offline = await mqadmin('consumerConnection', ...n, '-g', group);
  assert.equal(offline.code, 1);
  assert.match(offline.err, /not online/);
  const reset = await ok('resetOffsetByTime', ...n, '-g', group, '-t', topic, '-s', String(middle));
  const resetRows = rows(reset);
  const last = resetRows.at(-1)!;
  assert.equal(last[0], 'broker-a');
  assert.equal(last.at(-1), '3', reset);
  assert.deepEqual(rows(await ok('consumerProgress', ...n, '-g', group, '-t', topic))[1]!.slice(3, 6), ['5', '3', '2']);
  const byQueue = await ok('resetOffsetByTime', ...n, '-g', group, '-t', topic, '-s', '0', '-b', mq.brokerAddr, '-q', '0', '-o', '1');
  assert.match(byQueue, /reset consumer offset to 1/);
  assert.equal((await mqadmin('resetOffsetByTime', ...n, '-g', group, '-t', topic, '-s', 'yesterday')).code, 1);
});

test('consumerStatus, consumerProgress -s and queryMsgById -g -d ask the running consumer through the broker', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `CliStatus_${stamp}`;
  const group = `CliStatusG_${stamp}`;
  await ok('updateTopic', ...n, '-b', mq.brokerAddr, '-t', topic, '-r', '2', '-w', '2');
  await waitUntil(async () => (await mqadmin('topicRoute', ...n, '-t', topic)).code === 0, 'the route');
  const { consumer: c, got } = await startCollector(mq.namesrvAddr, group, topic);
  try {
    const r = await producer.send(new Message(topic, 'status-1'));
    await waitUntil(() => got.length === 1, 'the message consumed');
    const report = await ok('consumerStatus', ...n, '-g', group, '-i', c.clientId);
    assert.match(report, /^#Consumer Properties#$/m);
    assert.match(report, /^PROP_CONSUME_TYPE\s+: CONSUME_PASSIVELY$/m);
    assert.match(report, new RegExp(`^${topic}\\s+broker-a\\s+1\\s+ProcessQueueInfo \\[commitOffset=`, 'm'));
    const all = JSON.parse(await ok('consumerStatus', ...n, '-g', group, '--json'));
    assert.equal(all.sameSubscription, true);
    assert.deepEqual(Object.keys(all.consumerRunningInfo), [c.clientId]);
    const ip = c.clientId.split('@')[0]!;
    // The consumer commits its offsets every 5 s; until then the group has no progress to show.
    await waitUntil(async () => (await mqadmin('consumerProgress', ...n, '-g', group)).code === 0, 'the first commit', 15_000);
    const progress = rows(await ok('consumerProgress', ...n, '-g', group, '-s', 'true'));
    const queueRows = progress.filter((row) => row[0] === topic);
    assert.equal(queueRows.length, 2);
    for (const row of queueRows) assert.equal(row[5], ip, 'the client IP of each held queue');
    const pushed = await ok('queryMsgById', ...n, '-t', topic, '-i', r.msgId, '-g', group, '-d', c.clientId);
    assert.match(pushed, /^ConsumeMessageDirectlyResult \[order=false, autoCommit=true, consumeResult=CR_SUCCESS, remark=null, spentTimeMills=\d+\]$/);
    assert.deepEqual(got, ['status-1', 'status-1'], 'the listener got it once more');
    const nobody = await mqadmin('consumerStatus', ...n, '-g', group, '-i', 'nobody@1');
    assert.equal(nobody.code, 1);
    assert.match(nobody.err, /not online/);
  } finally {
    await c.shutdown();
  }
});

test('updateSubGroup, deleteSubGroup and producerConnection', { skip }, async () => {
  const n = ['-n', mq.namesrvAddr];
  const sub = `CliSub_${stamp}`;
  const created = await ok('updateSubGroup', ...n, '-c', 'DefaultCluster', '-g', sub, '-r', '3', '-o', 'true');
  assert.match(created, new RegExp(`^create subscription group to ${mq.brokerAddr.replace(/\./g, '\\.')} success\\.$`, 'm'));
  const listed = async (): Promise<Record<string, { retryMaxTimes: number; consumeMessageOrderly: boolean }>> => {
    const api = new MQClientAPI();
    const res = await api.remoting.invoke(mq.brokerAddr, createRequest(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG), 5000).finally(() => api.shutdown());
    return (JSON.parse(res.body!.toString()) as { subscriptionGroupTable: Record<string, { retryMaxTimes: number; consumeMessageOrderly: boolean }> }).subscriptionGroupTable;
  };
  assert.deepEqual([(await listed())[sub]?.retryMaxTimes, (await listed())[sub]?.consumeMessageOrderly], [3, true]);
  assert.match(await ok('deleteSubGroup', ...n, '-b', mq.brokerAddr, '-g', sub, '-r', 'true'), /delete subscription group \[CliSub_\d+\] from broker \[\S+\] success\./);
  assert.equal((await listed())[sub], undefined);
  await waitUntil(async () => (await mqadmin('producerConnection', ...n, '-g', 'MQADMIN_PG', '-t', 'TBW102')).code === 0, 'the producer heartbeat');
  const pc = rows(await ok('producerConnection', ...n, '-g', 'MQADMIN_PG', '-t', 'TBW102'));
  assert.equal(pc[0]![0], '0001');
  assert.match(pc[0]![2]!, /:\d+$/);
  const none = await mqadmin('producerConnection', ...n, '-g', `NoSuchPG_${stamp}`, '-t', 'TBW102');
  assert.equal(none.code, 1);
  assert.match(none.err, /not exist/);
  const r = await mqadmin('updateSubGroup', ...n, '-g', 'G');
  assert.equal(r.code, 1);
  assert.match(r.err, /-b <brokerAddr> or -c <clusterName>/);
});

test('the compiled entry point runs as a command and exits 1 with one line when the NameServer is missing', async () => {
  const cli = resolve(process.cwd(), 'dist', 'src', 'cli', 'mqadmin.js');
  const env = { ...process.env };
  delete env.NAMESRV_ADDR;
  const res = await new Promise<{ code: number | null; out: string; err: string }>((done) => {
    const child = spawn(process.execPath, [cli, 'clusterList'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('close', (code) => done({ code, out, err }));
  });
  assert.equal(res.code, 1);
  assert.equal(res.out, '');
  assert.match(res.err, /^mqadmin clusterList: no NameServer address: pass -n host:9876 .*\n$/);
});
