import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { TopicSysFlag } from '../../src/common/sysflag.js';
import { startMQ, type TestMQ } from '../broker/helpers.js';

// GET_SYSTEM_TOPIC_LIST_FROM_NS / _FROM_BROKER and the unit topic lists (GET_UNIT_TOPIC_LIST,
// GET_HAS_UNIT_SUB_TOPIC_LIST, GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST) against a real NameServer and
// Broker, as upstream's admin tools and dashboard ask them.

let t: TestMQ;
let admin: Admin;

before(async () => {
  t = await startMQ();
  admin = new Admin({ namesrvAddr: t.mq.namesrvAddr });
  await admin.start();
  const create = (topicName: string, topicSysFlag: number) =>
    admin.createOrUpdateTopic({ topicName, readQueueNums: 1, writeQueueNums: 1, topicSysFlag }, { brokerAddr: t.mq.brokerAddr });
  await create('UnitT', TopicSysFlag.FLAG_UNIT);
  await create('UnitSubT', TopicSysFlag.FLAG_UNIT | TopicSysFlag.FLAG_UNIT_SUB);
  await create('UnUnitSubT', TopicSysFlag.FLAG_UNIT_SUB);
  await create('PlainT', 0);
});

after(async () => {
  await admin?.shutdown();
  await t?.close();
});

test('the system topic list: each cluster and broker name, then the broker\'s own system topics', async () => {
  const topics = await admin.getSystemTopicList();
  const { brokerClusterName, brokerName } = t.mq.broker.brokerConfig;
  assert.deepEqual(topics.slice(0, 2), [brokerClusterName, brokerName]);
  for (const sys of ['TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC', 'rmq_sys_wheel_timer']) assert.ok(topics.includes(sys), sys);
  assert.ok(!topics.includes('PlainT'));
  assert.ok((await admin.api.getSystemTopicListFromBroker(t.mq.brokerAddr)).includes(`${brokerClusterName}_REPLY_TOPIC`));
});

test('unit topic lists by the topics\' sysFlag bits', async () => {
  assert.deepEqual(await admin.getUnitTopicList('unit'), ['UnitSubT', 'UnitT']);
  assert.deepEqual(await admin.getUnitTopicList('hasUnitSub'), ['UnUnitSubT', 'UnitSubT']);
  assert.deepEqual(await admin.getUnitTopicList('hasUnitSubUnUnit'), ['UnUnitSubT']);
});
