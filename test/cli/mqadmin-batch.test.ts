import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { ok, fails } from './mqadmin-run.js';

// mqadmin updateTopicList / updateSubGroupList (upstream UpdateTopicListSubCommand,
// UpdateSubGroupListSubCommand) and the broker's UPDATE_AND_CREATE_TOPIC_LIST (18) and
// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST (225), run in-process against a real NameServer +
// Broker: what the broker then holds, what the NameServer routes, and that a bad entry refuses the
// whole batch with one clear line while the broker keeps serving.

let mq: Standalone;
let api: MQClientAPI;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rmq-mqadmin-batch-'));
  mq = await startStandalone({ storeDir: join(dir, 'store'), ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false, logger: pino({ level: 'silent' }) });
  api = new MQClientAPI();
});

after(async () => {
  await api?.shutdown();
  await mq?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function hasTopic(topic: string): Promise<boolean> {
  return (await api.getAllTopicConfig(mq.brokerAddr)).topicConfigTable[topic] !== undefined;
}

/** From GET_ALL_SUBSCRIPTIONGROUP_CONFIG, which (unlike the one-group query) never auto-creates. */
async function hasGroup(group: string): Promise<boolean> {
  const res = await api.remoting.invoke(mq.brokerAddr, createRequest(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG), 5000);
  const table = (JSON.parse(res.body!.toString()) as { subscriptionGroupTable: Record<string, unknown> }).subscriptionGroupTable;
  return table[group] !== undefined;
}

test('updateTopicList -b creates and updates every topic of the file, which the NameServer then routes', async () => {
  const n = ['-n', mq.namesrvAddr];
  const f = file('topics.json', [
    { topicName: 'BatchA', readQueueNums: 2, writeQueueNums: 3, perm: 6, order: false, attributes: { '+message.type': 'FIFO' } },
    { topicName: 'BatchB', readQueueNums: 1, writeQueueNums: 1, perm: 4, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0 },
  ]);
  const out = await ok('updateTopicList', ...n, '-b', mq.brokerAddr, '-f', f);
  assert.equal(out, `submit batch of topic config to ${mq.brokerAddr} success, please check the result later.\n`);
  const a = await api.getTopicConfig(mq.brokerAddr, 'BatchA');
  assert.equal(a.readQueueNums, 2);
  assert.equal(a.writeQueueNums, 3);
  assert.deepEqual(a.attributes, { 'message.type': 'FIFO' });
  assert.equal((await api.getTopicConfig(mq.brokerAddr, 'BatchB')).perm, 4);
  // Registered with the NameServer once the request answers, as the single request.
  const route = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'BatchB');
  assert.equal(route.queueDatas[0]?.perm, 4);
  assert.equal((await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'BatchA')).queueDatas[0]?.writeQueueNums, 3);

  // Again over the cluster: BatchA unchanged, BatchB changed; the change applies.
  const f2 = file('topics2.json', [
    { topicName: 'BatchA', readQueueNums: 2, writeQueueNums: 3, perm: 6, attributes: {} },
    { topicName: 'BatchB', readQueueNums: 4, writeQueueNums: 4, perm: 6 },
  ]);
  const byCluster = await ok('updateTopicList', ...n, '-c', 'DefaultCluster', '-f', f2);
  assert.equal(byCluster, `submit batch of topic config to ${mq.brokerAddr} success, please check the result later.\n`);
  assert.equal((await api.getTopicConfig(mq.brokerAddr, 'BatchB')).writeQueueNums, 4);
  assert.deepEqual((await api.getTopicConfig(mq.brokerAddr, 'BatchA')).attributes, { 'message.type': 'FIFO' });
  assert.equal((await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'BatchB')).queueDatas[0]?.writeQueueNums, 4);
});

test('updateTopicList: one bad entry refuses the batch with the single request\'s reason; nothing is created', async () => {
  const n = ['-n', mq.namesrvAddr];
  const b = ['-b', mq.brokerAddr];
  const good = { topicName: 'BatchGood', readQueueNums: 1, writeQueueNums: 1, perm: 6 };
  await fails(/INVALID_PARAMETER.*conflict with system topic/, 'updateTopicList', ...n, ...b, '-f', file('sys.json', [good, { topicName: 'SCHEDULE_TOPIC_XXXX', readQueueNums: 1, writeQueueNums: 1 }]));
  await fails(/INVALID_PARAMETER.*contains illegal characters|INVALID_PARAMETER.*topic/i, 'updateTopicList', ...n, ...b, '-f', file('name.json', [good, { topicName: 'bad topic!', readQueueNums: 1, writeQueueNums: 1 }]));
  await fails(/INVALID_PARAMETER.*writeQueueNums=5000 is out of range/, 'updateTopicList', ...n, ...b, '-f', file('range.json', [good, { topicName: 'BatchBig', readQueueNums: 1, writeQueueNums: 5000 }]));
  await fails(/INVALID_PARAMETER.*MIXED message type is not supported/, 'updateTopicList', ...n, ...b, '-f', file('mixed.json', [good, { topicName: 'BatchMixed', attributes: { '+message.type': 'MIXED' } }]));
  await fails(/SYSTEM_ERROR.*unsupported key: no\.such/, 'updateTopicList', ...n, ...b, '-f', file('attr.json', [good, { topicName: 'BatchAttr', attributes: { '+no.such': 'x' } }]));
  await fails(/INVALID_PARAMETER.*topicConfigList\[1\] has no topicName/, 'updateTopicList', ...n, ...b, '-f', file('noname.json', [good, { readQueueNums: 1 }]));
  await fails(/INVALID_PARAMETER.*topicConfigList\[0\].*readQueueNums/, 'updateTopicList', ...n, ...b, '-f', file('nan.json', [{ topicName: 'BatchNaN', readQueueNums: 'many' }]));
  await fails(/INVALID_PARAMETER.*listed twice/, 'updateTopicList', ...n, ...b, '-f', file('twice.json', [good, good]));
  for (const t of ['BatchGood', 'BatchBig', 'BatchMixed', 'BatchAttr', 'BatchNaN']) assert.equal(await hasTopic(t), false, t);

  // Mistakes of the command line or the file are caught before anything is sent.
  await fails(/does not exists/, 'updateTopicList', ...n, ...b, '-f', join(dir, 'no-such.json'));
  await fails(/is not a JSON list of TopicConfigs/, 'updateTopicList', ...n, ...b, '-f', file('notjson.json', '{oops'));
  await fails(/is not a JSON list of TopicConfigs/, 'updateTopicList', ...n, ...b, '-f', file('obj.json', { topicName: 'X' }));
  await fails(/holds no TopicConfigs/, 'updateTopicList', ...n, ...b, '-f', file('empty.json', []));
  await fails(/entry 0 is not a TopicConfig object/, 'updateTopicList', ...n, ...b, '-f', file('num.json', [1]));
  await fails(/required option '-f, --filename <file>'/, 'updateTopicList', ...n, ...b);
  await fails(/-b <brokerAddr> or -c <clusterName>/, 'updateTopicList', ...n, '-f', file('g.json', [good]));
  await fails(/cluster NoSuchCluster does not exist/, 'updateTopicList', ...n, '-c', 'NoSuchCluster', '-f', file('g.json', [good]));

  // A request without a usable body is refused by the broker, which keeps serving.
  for (const body of [undefined, Buffer.from('{oops'), Buffer.from('{"topicConfigList":[]}'), Buffer.from('{"topicConfigList":[{"topicName":"X","attributes":[1]}]}')]) {
    const res = await api.remoting.invoke(mq.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, { body }), 5000);
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER, res.remark);
  }
  await ok('updateTopicList', ...n, ...b, '-f', file('g.json', [good]));
  assert.equal(await hasTopic('BatchGood'), true);
});

test('updateSubGroupList -b / -c creates and updates every group of the file', async () => {
  const n = ['-n', mq.namesrvAddr];
  const f = file('groups.json', [
    { groupName: 'BatchG1', consumeEnable: false, retryMaxTimes: 3, consumeMessageOrderly: true },
    { groupName: 'BatchG2', retryQueueNums: 2 },
  ]);
  assert.equal(await ok('updateSubGroupList', ...n, '-b', mq.brokerAddr, '-f', f),
    `submit batch of group config to ${mq.brokerAddr} success, please check the result later.\n`);
  const g1 = await api.getSubscriptionGroupConfig(mq.brokerAddr, 'BatchG1');
  assert.equal(g1.consumeEnable, false);
  assert.equal(g1.retryMaxTimes, 3);
  assert.equal(g1.consumeMessageOrderly, true);
  const g2 = await api.getSubscriptionGroupConfig(mq.brokerAddr, 'BatchG2');
  assert.equal(g2.retryQueueNums, 2);
  assert.equal(g2.consumeEnable, true, 'upstream default for what the entry leaves out');

  assert.equal(await ok('updateSubGroupList', ...n, '-c', 'DefaultCluster', '-f', file('groups2.json', [{ groupName: 'BatchG1', retryMaxTimes: 5 }])),
    `submit batch of subscription group config to ${mq.brokerAddr} success, please check the result later.\n`);
  assert.equal((await api.getSubscriptionGroupConfig(mq.brokerAddr, 'BatchG1')).retryMaxTimes, 5);
});

test('updateSubGroupList: one bad entry refuses the batch; bad files and bodies give one clear line', async () => {
  const n = ['-n', mq.namesrvAddr];
  const b = ['-b', mq.brokerAddr];
  const good = { groupName: 'BatchGoodG' };
  await fails(/INVALID_PARAMETER.*group/i, 'updateSubGroupList', ...n, ...b, '-f', file('gname.json', [good, { groupName: 'bad group!' }]));
  await fails(/INVALID_PARAMETER.*retryMaxTimes=-5/, 'updateSubGroupList', ...n, ...b, '-f', file('gretry.json', [good, { groupName: 'BatchBadRetry', retryMaxTimes: -5 }]));
  await fails(/SYSTEM_ERROR.*unsupported key: x/, 'updateSubGroupList', ...n, ...b, '-f', file('gattr.json', [good, { groupName: 'BatchBadAttr', attributes: { '+x': '1' } }]));
  await fails(/INVALID_PARAMETER.*listed twice/, 'updateSubGroupList', ...n, ...b, '-f', file('gtwice.json', [good, good]));
  for (const g of ['BatchGoodG', 'BatchBadRetry', 'BatchBadAttr']) assert.equal(await hasGroup(g), false, g);

  await fails(/does not exists/, 'updateSubGroupList', ...n, ...b, '-f', join(dir, 'no-such.json'));
  await fails(/holds no SubscriptionGroupConfigs/, 'updateSubGroupList', ...n, ...b, '-f', file('gempty.json', []));
  await fails(/required option '-f, --filename <file>'/, 'updateSubGroupList', ...n, ...b);
  await fails(/-b <brokerAddr> or -c <clusterName>/, 'updateSubGroupList', ...n, '-f', file('gg.json', [good]));
  for (const body of [undefined, Buffer.from('[oops'), Buffer.from('{"groupConfigList":[]}'), Buffer.from('{"groupConfigList":[7]}')]) {
    const res = await api.remoting.invoke(mq.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, { body }), 5000);
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER, res.remark);
  }
  await ok('updateSubGroupList', ...n, ...b, '-f', file('gg.json', [good]));
  assert.equal(await hasGroup('BatchGoodG'), true);
});
