import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '../../src/admin/index.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import { startStandalone } from '../../src/standalone.js';
import { fails, ok } from '../cli/mqadmin-run.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger, startMQ, type TestMQ } from './helpers.js';

// Topic attributes through UPDATE_AND_CREATE_TOPIC (mqadmin updateTopic -a): stored under their
// plain names, checked as upstream's TopicAttributes, and refused with the reason.

let t: TestMQ;
let admin: Admin;
const stamp = Date.now();

before(async () => {
  t = await startMQ();
  admin = new Admin({ namesrvAddr: t.mq.namesrvAddr });
  await admin.start();
});

after(async () => {
  await admin?.shutdown();
  await t?.close();
});

async function attributesOf(topic: string): Promise<Record<string, string> | undefined> {
  const all = await admin.api.getAllTopicConfig(t.mq.brokerAddr);
  return all.topicConfigTable[topic]?.attributes;
}

const create = (topic: string, attributes: Record<string, string>) =>
  admin.createOrUpdateTopic({ topicName: topic, readQueueNums: 1, writeQueueNums: 1, attributes }, { brokerAddr: t.mq.brokerAddr });

test('attributes are stored under their plain names; an update changes and removes them', async () => {
  const topic = `TA_OK_${stamp}`;
  await ok('updateTopic', '-n', t.mq.namesrvAddr, '-b', t.mq.brokerAddr, '-t', topic, '-a', '+message.type=FIFO,+reserve.time=3600');
  assert.deepEqual(await attributesOf(topic), { 'message.type': 'FIFO', 'reserve.time': '3600' });
  await ok('updateTopic', '-n', t.mq.namesrvAddr, '-b', t.mq.brokerAddr, '-t', topic, '-a', '+message.type=NORMAL,-reserve.time');
  assert.deepEqual(await attributesOf(topic), { 'message.type': 'NORMAL' });
  // An update without -a keeps them.
  await ok('updateTopic', '-n', t.mq.namesrvAddr, '-b', t.mq.brokerAddr, '-t', topic, '-r', '2', '-w', '2');
  assert.deepEqual(await attributesOf(topic), { 'message.type': 'NORMAL' });
});

test('bad attribute modifications are refused with the reason; the topic is left as it was', async () => {
  const topic = `TA_BAD_${stamp}`;
  const refused = async (attributes: Record<string, string>, why: RegExp, code: number = ResponseCode.SYSTEM_ERROR) => {
    await assert.rejects(create(topic, attributes), (e: unknown) => e instanceof MQBrokerError && e.responseCode === code && why.test(e.message), `${JSON.stringify(attributes)}`);
  };
  await refused({ '-message.type': '' }, /only add attribute is supported while creating topic/);
  await refused({ '+colour': 'red' }, /unsupported key: colour/);
  await refused({ '+message.type': 'URGENT' }, /value is not in set/);
  await refused({ '+reserve.time': 'soon' }, /For input string: "soon"/);
  await refused({ '+message.type': 'MIXED' }, /MIXED message type is not supported/, ResponseCode.INVALID_PARAMETER);
  assert.equal(await attributesOf(topic), undefined, 'not created');
  await create(topic, { '+queue.type': 'SimpleCQ' });
  await refused({ '+queue.type': 'BatchCQ' }, /attempt to update an unchangeable attribute. key: queue.type/);
  await refused({ '-reserve.time': '' }, /attempt to delete a nonexistent key: reserve.time/);
  assert.deepEqual(await attributesOf(topic), { 'queue.type': 'SimpleCQ' });
  // mqadmin refuses a malformed -a before sending anything.
  await fails(/add\/alter attribute format is wrong: message.type/, 'updateTopic', '-n', t.mq.namesrvAddr, '-b', t.mq.brokerAddr, '-t', topic, '-a', 'message.type=FIFO');
  await fails(/unsupported key: colour/, 'updateTopic', '-n', t.mq.namesrvAddr, '-b', t.mq.brokerAddr, '-t', topic, '-a', '+colour=red');
});

test('MIXED topics are allowed once enableMixedMessageType is set', async () => {
  const topic = `TA_MIXED_${stamp}`;
  await admin.updateBrokerConfig(t.mq.brokerAddr, new Map([['enableMixedMessageType', 'true']]));
  try {
    await create(topic, { '+message.type': 'MIXED' });
    assert.deepEqual(await attributesOf(topic), { 'message.type': 'MIXED' });
  } finally {
    await admin.updateBrokerConfig(t.mq.brokerAddr, new Map([['enableMixedMessageType', 'false']]));
  }
});

test('subscription groups take no attributes', async () => {
  await assert.rejects(admin.createOrUpdateSubscriptionGroup({ groupName: `TA_G_${stamp}`, attributes: { '+a': 'b' } }, { brokerAddr: t.mq.brokerAddr }),
    /unsupported key: a/);
  await admin.createOrUpdateSubscriptionGroup({ groupName: `TA_G_${stamp}` }, { brokerAddr: t.mq.brokerAddr });
});

test('a topics.json written with signed names (+message.type) is read under the plain names', async () => {
  const { dir, cleanup } = tempDir('rmq-topic-attrs-');
  mkdirSync(join(dir, 'config'), { recursive: true });
  writeFileSync(join(dir, 'config', 'topics.json'), JSON.stringify({
    topicConfigTable: { Old: { topicName: 'Old', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: { '+message.type': 'DELAY' } } },
  }));
  const mq = await startStandalone({ storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger: memoryLogger().logger });
  try {
    assert.deepEqual(mq.broker.topicConfigManager.get('Old')?.attributes, { 'message.type': 'DELAY' });
  } finally {
    await mq.shutdown();
    cleanup();
  }
});
