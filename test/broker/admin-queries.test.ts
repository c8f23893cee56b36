import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin } from '../../src/admin/index.js';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { createRequest, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';

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

async function brokerCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return ResponseCode.SUCCESS;
  } catch (err) {
    assert.ok(err instanceof MQBrokerError, String(err));
    return err.responseCode;
  }
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
