import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { ResponseCode } from '../../src/remoting/index.js';
import { encodeProperties } from '../../src/common/properties.js';
import { loadBrokerConfig, readConfigFile } from '../../src/common/config-loader.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { waitUntil } from '../client/helpers.js';
import { mqadmin, ok, fails, rows } from './mqadmin-run.js';
import { brokerCode } from '../helpers/broker-code.js';

// The mqadmin commands added after the first twenty, run in-process against a real NameServer +
// Broker; each asserts what the command changed on the servers, and that bad input is one clear
// line on stderr with exit code 1 while the servers keep serving.

let mq: Standalone;
let api: MQClientAPI;
let dir: string;
const stamp = Date.now();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rmq-mqadmin-more-'));
  mq = await startStandalone({ storeDir: dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false });
  api = new MQClientAPI();
});

after(async () => {
  await api?.shutdown();
  await mq?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function sendRaw(topic: string, body: Buffer): Promise<unknown> {
  return api.sendMessage(mq.brokerAddr, 'broker-a', {
    producerGroup: 'MORE_PG', topic, defaultTopic: 'TBW102', defaultTopicQueueNums: 1, queueId: 0, sysFlag: 0,
    bornTimestamp: Date.now(), flag: 0, properties: encodeProperties({}),
  }, body);
}


async function createTopic(topic: string, queues = 2): Promise<void> {
  await ok('updateTopic', '-n', mq.namesrvAddr, '-b', mq.brokerAddr, '-t', topic, '-r', String(queues), '-w', String(queues));
}

async function routePerm(topic: string): Promise<number> {
  return (JSON.parse(await ok('topicRoute', '-n', mq.namesrvAddr, '-t', topic)) as { queueDatas: Array<{ perm: number }> }).queueDatas[0]!.perm;
}

test('getBrokerConfig and updateBrokerConfig: a runtime key changes what the broker reports, does and writes to its file', async () => {
  const shown = await ok('getBrokerConfig', '-b', mq.brokerAddr);
  assert.match(shown, new RegExp(`^============${mq.brokerAddr.replace(/\./g, '\\.')}============$`, 'm'));
  assert.match(shown, /^maxMessageSize\s+= {2}4194304$/m);
  assert.match(shown, /^brokerName\s+= {2}broker-a$/m);
  const topic = `MoreSize_${stamp}`;
  await createTopic(topic);
  assert.equal(await brokerCode(sendRaw(topic, Buffer.alloc(2048, 1))), ResponseCode.SUCCESS);

  assert.equal(await ok('updateBrokerConfig', '-b', mq.brokerAddr, '-k', 'maxMessageSize', '-v', '1024'), `update broker config success, ${mq.brokerAddr}\n`);
  const json = JSON.parse(await ok('getBrokerConfig', '-n', mq.namesrvAddr, '-c', 'DefaultCluster', '--json')) as Record<string, Record<string, string>>;
  assert.equal(json[mq.brokerAddr]!.maxMessageSize, '1024');
  assert.equal(await brokerCode(sendRaw(topic, Buffer.alloc(2048, 1))), ResponseCode.MESSAGE_ILLEGAL, 'the broker enforces the new limit');
  // As upstream, the change is persisted: here the broker has no -c file, so <store>/config/broker.properties.
  const file = join(mq.storeDir, 'config', 'broker.properties');
  assert.equal(readConfigFile(file).get('maxMessageSize'), '1024');
  assert.equal(loadBrokerConfig(readConfigFile(file)).storeConfig.maxMessageSize, 1024, 'the file reads back as a broker.conf');

  const byCluster = await ok('updateBrokerConfig', '-n', mq.namesrvAddr, '-c', 'DefaultCluster', '-k', 'maxMessageSize', '-v', '4194304');
  assert.equal(byCluster, `update broker config success, ${mq.brokerAddr}\n`);
  assert.equal(await brokerCode(sendRaw(topic, Buffer.alloc(2048, 1))), ResponseCode.SUCCESS);
  assert.match(await ok('getBrokerConfig', '-n', mq.namesrvAddr, '-c', 'DefaultCluster'), /^============Master: \S+============\nautoCreateSubscriptionGroup/m);
});

test('updateBrokerConfig refuses unknown, start-up-only, black-listed keys and bad values, and the broker keeps serving', async () => {
  const b = ['-b', mq.brokerAddr];
  await fails(/^mqadmin updateBrokerConfig: .*unknown broker config key "maxMesageSize".*getBrokerConfig/, 'updateBrokerConfig', ...b, '-k', 'maxMesageSize', '-v', '1');
  await fails(/listenPort cannot be changed while the broker runs: set it in broker\.conf and restart the broker/, 'updateBrokerConfig', ...b, '-k', 'listenPort', '-v', '1');
  await fails(/invalid value for maxMessageSize: "abc" is not allowed; expected an integer from 1/, 'updateBrokerConfig', ...b, '-k', 'maxMessageSize', '-v', 'abc');
  await fails(/NO_PERMISSION.*Can not update config in black list: brokerConfigPath/, 'updateBrokerConfig', ...b, '-k', 'brokerConfigPath', '-v', '/tmp/x');
  await fails(/brokerPermission value: 9 is invalid/, 'updateBrokerConfig', ...b, '-k', 'brokerPermission', '-v', '9');
  await fails(/cluster NoSuchCluster does not exist; known clusters: DefaultCluster/, 'updateBrokerConfig', '-n', mq.namesrvAddr, '-c', 'NoSuchCluster', '-k', 'maxMessageSize', '-v', '1');
  await fails(/connect to 127\.0\.0\.1:1 failed/, 'getBrokerConfig', '-b', '127.0.0.1:1');
  await fails(/-b <brokerAddr> or -c <clusterName>/, 'getBrokerConfig', '-n', mq.namesrvAddr);
  assert.match(await ok('getBrokerConfig', ...b), /^maxMessageSize\s+= {2}4194304$/m, 'nothing changed');
  const help = await mqadmin('updateBrokerConfig', '-h');
  assert.equal(help.code, 0);
  assert.match(help.out, /-k, --key <key>/);
  assert.match(help.out, /-a, --updateAllBroker/);
});

test('updateTopicPerm: a read-only topic refuses sends with NO_PERMISSION; the route shows the new perm', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MorePerm_${stamp}`;
  await createTopic(topic, 3);
  const out = await ok('updateTopicPerm', ...n, '-b', mq.brokerAddr, '-t', topic, '-p', '4');
  assert.match(out, new RegExp(`^update topic perm from 6 to 4 in ${mq.brokerAddr.replace(/\./g, '\\.')} success\\.\\nTopicConfig \\[topicName=${topic}, readQueueNums=3, writeQueueNums=3, perm=R--`));
  assert.equal(await routePerm(topic), 4);
  assert.equal(await brokerCode(sendRaw(topic, Buffer.from('x'))), ResponseCode.NO_PERMISSION);
  assert.equal(await ok('updateTopicPerm', ...n, '-b', mq.brokerAddr, '-t', topic, '-p', '4'), 'new perm equals to the old one!\n');
  assert.equal(await ok('updateTopicPerm', ...n, '-c', 'DefaultCluster', '-t', topic, '-p', '6'), `update topic perm from 4 to 6 in ${mq.brokerAddr} success.\n`);
  assert.equal(await routePerm(topic), 6);
  assert.equal(await brokerCode(sendRaw(topic, Buffer.from('x'))), ResponseCode.SUCCESS);
  await fails(/-p 9 is not a topic permission/, 'updateTopicPerm', ...n, '-b', mq.brokerAddr, '-t', topic, '-p', '9');
  await fails(/-p.*expected an integer/, 'updateTopicPerm', ...n, '-b', mq.brokerAddr, '-t', topic, '-p', 'rw');
  await fails(/topic NoSuch_\d+ does not exist/, 'updateTopicPerm', ...n, '-b', mq.brokerAddr, '-t', `NoSuch_${stamp}`, '-p', '6');
  await fails(/broker is not master!: 127\.0\.0\.1:1 is not the master/, 'updateTopicPerm', ...n, '-b', '127.0.0.1:1', '-t', topic, '-p', '2');
});

test('wipeWritePerm and addWritePerm change the routes on the NameServer; getNamesrvConfig / updateNamesrvConfig / KV config', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MoreWipe_${stamp}`;
  await createTopic(topic);
  const wiped = await ok('wipeWritePerm', ...n, '-b', 'broker-a');
  const m = /^wipe write perm of broker\[broker-a\] in name server\[(\S+)\] OK, (\d+)$/m.exec(wiped);
  assert.ok(m, wiped);
  assert.equal(m[1], mq.namesrvAddr);
  assert.ok(Number(m[2]) > 0);
  assert.equal(await routePerm(topic), 4, 'write removed from the route');
  const added = JSON.parse(await ok('addWritePerm', ...n, '-b', 'broker-a', '--json')) as { topicCounts: Record<string, number> };
  assert.ok(added.topicCounts[mq.namesrvAddr]! > 0);
  assert.equal(await routePerm(topic), 6);
  await fails(/broker broker-x is not registered with the NameServer; known brokers: broker-a/, 'wipeWritePerm', ...n, '-b', 'broker-x');

  assert.match(await ok('getNamesrvConfig', ...n), new RegExp(`^============${mq.namesrvAddr.replace(/\./g, '\\.')}============\\n(.*\\n)*orderMessageEnable\\s+=  false$`, 'm'));
  // orderMessageEnable decides whether routes carry the KV ORDER_TOPIC_CONFIG of their topic.
  assert.equal(await ok('updateKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', topic, '-v', 'broker-a:2'), 'create or update kv config to namespace success.\n');
  const route = async (): Promise<{ orderTopicConf?: string }> => JSON.parse(await ok('topicRoute', ...n, '-t', topic)) as { orderTopicConf?: string };
  assert.equal((await route()).orderTopicConf, undefined);
  assert.equal(await ok('updateNamesrvConfig', ...n, '-k', 'orderMessageEnable', '-v', 'true'), `update name server config success![${mq.namesrvAddr}]\norderMessageEnable : true\n`);
  assert.equal((JSON.parse(await ok('getNamesrvConfig', ...n, '--json')) as Record<string, Record<string, string>>)[mq.namesrvAddr]!.orderMessageEnable, 'true');
  assert.equal((await route()).orderTopicConf, 'broker-a:2');
  assert.equal(readConfigFile(join(mq.storeDir, 'namesrv', 'namesrv.properties')).get('orderMessageEnable'), 'true', 'persisted beside kvConfig.json');
  assert.equal(await ok('deleteKvConfig', ...n, '-s', 'ORDER_TOPIC_CONFIG', '-k', topic), 'delete kv config from namespace success.\n');
  assert.equal((await route()).orderTopicConf, undefined);
  await fails(/NO_PERMISSION.*black list: kvConfigPath/, 'updateNamesrvConfig', ...n, '-k', 'kvConfigPath', '-v', '/tmp/kv.json');
  await fails(/listenPort cannot be changed while the NameServer runs/, 'updateNamesrvConfig', ...n, '-k', 'listenPort', '-v', '1');
  await fails(/invalid value for orderMessageEnable: "yes"/, 'updateNamesrvConfig', ...n, '-k', 'orderMessageEnable', '-v', 'yes');
  await fails(/unknown NameServer config key "nope"/, 'updateNamesrvConfig', ...n, '-k', 'nope', '-v', '1');
  await fails(/required option '-s, --namespace <namespace>'|no NameServer/, 'updateKvConfig', '-k', 'a', '-v', 'b');
  await ok('updateNamesrvConfig', ...n, '-k', 'orderMessageEnable', '-v', 'false');
  await waitUntil(async () => (await route()).orderTopicConf === undefined, 'the NameServer still serving');
});

test('queryMsgByOffset, queryMsgByUniqueKey and printMsg read what was stored', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MoreMsg_${stamp}`;
  await createTopic(topic, 1);
  const producer = new Producer({ group: 'MORE_MSG_PG', namesrvAddr: mq.namesrvAddr });
  await producer.start();
  const sent = [];
  try {
    for (const [body, tags] of [['m0', 'TagA'], ['m1', 'TagB'], ['m2', 'TagA']] as const) sent.push(await producer.send(new Message(topic, body, { tags, keys: [`k-${body}`] })));
  } finally {
    await producer.shutdown();
  }
  const one = await ok('queryMsgByOffset', ...n, '-t', topic, '-b', 'broker-a', '-i', '0', '-o', '1', '-f', 'UTF-8');
  assert.match(one, /^Tags:\s+\[TagB\]$/m);
  assert.match(one, /^Queue Offset:\s+1$/m);
  assert.match(one, /^Message Body:\s+m1$/m);
  await fails(/no message at offset 5 of MessageQueue \[topic=MoreMsg_\d+, brokerName=broker-a, queueId=0\] \(\w+\); the queue holds offsets 0 to 2/,
    'queryMsgByOffset', ...n, '-t', topic, '-b', 'broker-a', '-i', '0', '-o', '5');
  await fails(/broker broker-x does not serve topic MoreMsg_\d+; its brokers: broker-a/, 'queryMsgByOffset', ...n, '-t', topic, '-b', 'broker-x', '-i', '0', '-o', '0');
  await fails(/queue 3 does not exist: topic MoreMsg_\d+ has queues 0\.\.0/, 'queryMsgByOffset', ...n, '-t', topic, '-b', 'broker-a', '-i', '3', '-o', '0');

  const byKey = await ok('queryMsgByUniqueKey', ...n, '-i', sent[2]!.msgId, '-t', topic);
  assert.match(byKey, /^Topic:\s+MoreMsg_\d+$/m);
  assert.match(byKey, /^Queue Offset:\s+2$/m);
  assert.match(byKey, /^Keys:\s+\[k-m2\]$/m);
  const json = JSON.parse(await ok('queryMsgByUniqueKey', ...n, '-i', sent[0]!.msgId, '-t', topic, '-a', '--json')) as Array<{ body: string }>;
  assert.deepEqual(json.map((m) => m.body), ['m0']);
  await fails(/no message with unique key 0A0A0A0A000000000000000000000000 in topic MoreMsg_\d+/, 'queryMsgByUniqueKey', ...n, '-i', '0A0A0A0A000000000000000000000000', '-t', topic);

  const printed = await ok('printMsg', ...n, '-t', topic, '-s', 'TagA');
  assert.match(printed, /^minOffset=0, maxOffset=3, MessageQueue \[topic=MoreMsg_\d+, brokerName=broker-a, queueId=0\]$/m);
  assert.deepEqual([...printed.matchAll(/^MSGID: (\S+) MessageExt \[.*\] BODY: (\S+)$/gm)].map((m) => [m[1], m[2]]), [[sent[0]!.msgId, 'm0'], [sent[2]!.msgId, 'm2']]);
  assert.match(await ok('printMsg', ...n, '-t', topic, '-d', 'false'), /BODY: NOT PRINT BODY$/m);
  assert.equal((JSON.parse(await ok('printMsg', ...n, '-t', topic, '--json')) as unknown[]).length, 3);
  await fails(/charset GBK is not supported here/, 'printMsg', ...n, '-t', topic, '-c', 'GBK');
});

test('topicClusterList, allocateMQ, skipAccumulatedMessage and cloneGroupOffset', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MoreSkip_${stamp}`;
  const group = `MoreSkipG_${stamp}`;
  await createTopic(topic, 4);
  assert.equal(await ok('topicClusterList', ...n, '-t', topic), 'DefaultCluster\n');
  await fails(/topic NoSuch_\d+ does not exist/, 'topicClusterList', ...n, '-t', `NoSuch_${stamp}`);

  const alloc = JSON.parse(await ok('allocateMQ', ...n, '-t', topic, '-i', '10.0.0.1,10.0.0.2')) as { result: Record<string, Array<{ queueId: number; brokerName: string }>> };
  assert.deepEqual(alloc.result['10.0.0.1']!.map((q) => q.queueId), [0, 1]);
  assert.deepEqual(alloc.result['10.0.0.2']!.map((q) => q.queueId), [2, 3]);

  for (let i = 0; i < 3; i++) assert.equal(await brokerCode(sendRaw(topic, Buffer.from(`s${i}`))), ResponseCode.SUCCESS);
  // As upstream's server-side reset, a group the broker does not know is refused.
  await fails(/SUBSCRIPTION_GROUP_NOT_EXIST/, 'skipAccumulatedMessage', ...n, '-g', group, '-t', topic);
  await ok('updateSubGroup', ...n, '-b', mq.brokerAddr, '-g', group);
  const skipped = rows(await ok('skipAccumulatedMessage', ...n, '-g', group, '-t', topic));
  assert.deepEqual(skipped[0], ['#brokerName', '#queueId', '#offset']);
  assert.deepEqual(skipped.slice(1), [['broker-a', '0', '3'], ['broker-a', '1', '0'], ['broker-a', '2', '0'], ['broker-a', '3', '0']]);
  const progress = rows(await ok('consumerProgress', ...n, '-g', group, '-t', topic));
  assert.deepEqual(progress[1]!.slice(0, 6), [topic, 'broker-a', '0', '3', '3', '0'], 'the group is at the max offset');
  await fails(/topic NoSuch_\d+ does not exist/, 'skipAccumulatedMessage', ...n, '-g', group, '-t', `NoSuch_${stamp}`);

  // cloneGroupOffset: the new group starts where the old one is (CLONE_GROUP_OFFSET on the broker).
  const dest = `MoreCloneG_${stamp}`;
  assert.equal(await ok('cloneGroupOffset', ...n, '-s', group, '-d', dest, '-t', topic), `clone group offset success. srcGroup[${group}], destGroup=[${dest}], topic[${topic}]\n`);
  assert.deepEqual(rows(await ok('consumerProgress', ...n, '-g', dest, '-t', topic))[1]!.slice(0, 6), [topic, 'broker-a', '0', '3', '3', '0']);
  await fails(/-s and -d name the same group/, 'cloneGroupOffset', ...n, '-s', group, '-d', group, '-t', topic);
  await fails(/topic NoSuch_\d+ does not exist/, 'cloneGroupOffset', ...n, '-s', group, '-d', dest, '-t', `NoSuch_${stamp}`);
});

test('brokerConsumeStats: every subscription group\'s lag on one broker, filtered by -l and -o', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MoreLag_${stamp}`;
  const group = `MoreLagG_${stamp}`;
  await createTopic(topic, 2);
  await ok('updateSubGroup', ...n, '-b', mq.brokerAddr, '-g', group);
  for (let i = 0; i < 5; i++) assert.equal(await brokerCode(sendRaw(topic, Buffer.from(`l${i}`))), ResponseCode.SUCCESS);
  await api.updateConsumerOffset(mq.brokerAddr, { consumerGroup: group, topic, queueId: 0, commitOffset: 2 });

  const out = await ok('brokerConsumeStats', '-b', mq.brokerAddr, '-l', '3');
  const table = rows(out);
  assert.deepEqual(table[0], ['#Topic', '#Group', '#Broker', 'Name', '#QID', '#Broker', 'Offset', '#Consumer', 'Offset', '#Diff', '#LastTime']);
  // Queue 1 was never consumed (no last time) and queue 0's lag is 3: one row, as upstream prints.
  const ours = table.filter((r) => r[0] === topic);
  assert.deepEqual(ours.map((r) => r.slice(0, 7)), [[topic, group, 'broker-a', '0', '5', '2', '3']]);
  assert.match(out, /\nDiff Total: \d+\n$/);
  const json = JSON.parse(await ok('brokerConsumeStats', '-b', mq.brokerAddr, '--json')) as { rows: Array<{ topic: string; diff: number }>; totalDiff: number };
  assert.ok(json.totalDiff >= 3, `total diff ${json.totalDiff}`);
  assert.deepEqual(json.rows.filter((r) => r.topic === topic).map((r) => r.diff), [3]);
  // -o true: order topics only, and this one is not.
  assert.ok(!(await ok('brokerConsumeStats', '-b', mq.brokerAddr, '-o', 'true')).includes(topic));
  await fails(/connect to 127\.0\.0\.1:1 failed/, 'brokerConsumeStats', '-b', '127.0.0.1:1', '-t', '2000');
  await fails(/expected true or false/, 'brokerConsumeStats', '-b', mq.brokerAddr, '-o', 'maybe');
  assert.equal(await brokerCode(sendRaw(topic, Buffer.from('still serving'))), ResponseCode.SUCCESS);
});

test('queryCq prints a queue\'s raw ConsumeQueue entries, its bounds and a group\'s subscription', async () => {
  const n = ['-n', mq.namesrvAddr];
  const topic = `MoreCq_${stamp}`;
  await createTopic(topic, 1);
  const phys: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await sendRaw(topic, Buffer.from(`cq${i}`)) as { offsetMsgId: string };
    phys.push(Number.parseInt(r.offsetMsgId.slice(16), 16)); // the offset message id ends with the CommitLog offset
  }
  const out = await ok('queryCq', ...n, '-t', topic, '-q', '0', '-i', '1', '-c', '2');
  assert.match(out, /^Queue data: \nmax: 4, min: 0\n=+\n/);
  const units = [...out.matchAll(/idx: (\d+)\nConsumeQueueData\{physicOffset=(\d+), physicSize=(\d+), tagsCode=0, extendDataJson='null', bitMap='null', eval=false, msg='null'\}\n/g)];
  assert.deepEqual(units.map((m) => [Number(m[1]), Number(m[2])]), [[1, phys[1]], [2, phys[2]]]);
  assert.ok(units.every((m) => Number(m[3]) > 0));

  const offline = await ok('queryCq', '-b', mq.brokerAddr, '-t', topic, '-q', '0', '-i', '0', '-g', `MoreCqG_${stamp}`);
  assert.match(offline, new RegExp(`^Filter data: \\nMoreCqG_${stamp}@${topic} is not online!\\n`));
  assert.equal([...offline.matchAll(/^idx: /gm)].length, 4, 'count defaults to 10, so every entry');
  assert.match(await ok('queryCq', ...n, '-t', topic, '-q', '0', '-i', '99'), new RegExp(`Index 99 of 0@${topic} is not exist!`));
  await fails(new RegExp(`5@${topic} is not exist!`), 'queryCq', '-b', mq.brokerAddr, '-t', topic, '-q', '5', '-i', '0');
  await fails(/expected an integer/, 'queryCq', ...n, '-t', topic, '-q', 'x', '-i', '0');
  assert.equal(await brokerCode(sendRaw(topic, Buffer.from('still serving'))), ResponseCode.SUCCESS);
});

