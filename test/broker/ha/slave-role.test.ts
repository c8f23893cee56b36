import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../../src/remoting/codes.js';
import { createTopic } from '../../client/helpers.js';
import { waitUntil } from '../../helpers/wait.js';
import { bodies, createTopicRequest, newClient, pullRequest, request, sendRequest } from '../helpers.js';
import { startMaster, startSlave, type Master, type Slave } from './ha-helpers.js';

/**
 * A slave's role (upstream BrokerController / SendMessageProcessor / EndTransactionProcessor /
 * PullMessageProcessor / SlaveSynchronize): it refuses writes with upstream's codes, serves pulls
 * only with slaveReadEnable and never commits a pull's offset, runs none of the master's delivery
 * services, and copies the master's metadata.
 */

test('a slave refuses sends, batches, replies, END_TRANSACTION and topic or group changes', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  const client = newClient();
  try {
    master = await startMaster();
    slave = await startSlave(master.mq.namesrvAddr);
    const addr = slave.broker.address;
    for (const code of [RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE, RequestCode.SEND_REPLY_MESSAGE_V2]) {
      const base = sendRequest({ topic: 'TBW102', body: 'x' });
      const res = await client.invoke(addr, { ...base, code }, 3000);
      assert.equal(res.code, ResponseCode.SERVICE_NOT_AVAILABLE, `code ${code}`);
      assert.match(res.remark ?? '', /messages are put to the slave/);
    }
    const end = await client.invoke(addr, request(RequestCode.END_TRANSACTION, {
      producerGroup: 'pg', tranStateTableOffset: 0, commitLogOffset: 0, commitOrRollback: 8, fromTransactionCheck: false, msgId: 'x',
    }), 3000);
    assert.equal(end.code, ResponseCode.SLAVE_NOT_AVAILABLE);
    const topic = await client.invoke(addr, createTopicRequest('OnSlave', 4, 4), 3000);
    assert.equal(topic.code, ResponseCode.SYSTEM_ERROR);
    assert.match(topic.remark ?? '', /Can't modify topic or subscription group from slave broker/);
    assert.equal(slave.broker.topicConfigManager.get('OnSlave'), undefined);
    const group = await client.invoke(addr, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'g_on_slave' }))), 3000);
    assert.equal(group.code, ResponseCode.SYSTEM_ERROR);
    // Nothing else writes its log either (a send back, a service): upstream's checkStoreStatus.
    const before = slave.broker.messageStore.maxPhyOffset;
    const put = await slave.broker.messageStore.putMessage({
      topic: 'TBW102', queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: Buffer.alloc(8), reconsumeTimes: 0,
      preparedTransactionOffset: 0, body: Buffer.from('local'), properties: '', tagsCode: 0, waitStoreMsgOK: true,
    });
    assert.equal(put.status, 'SERVICE_NOT_AVAILABLE');
    assert.equal(slave.broker.messageStore.maxPhyOffset, before);
    // None of the master's delivery services runs on the slave.
    const s = slave.broker;
    assert.equal(s.haService, undefined);
    assert.ok(s.haClient !== undefined);
    const pop = await client.invoke(addr, request(RequestCode.POP_MESSAGE, {
      consumerGroup: 'g', topic: 'TBW102', queueId: -1, maxMsgNums: 1, invisibleTime: 60_000, pollTime: 0, bornTime: Date.now(), initMode: 0, expType: 'TAG', exp: '*',
    }), 3000);
    assert.notEqual(pop.code, ResponseCode.SUCCESS);
  } finally {
    await client.shutdown();
    await slave?.close();
    await master?.close();
  }
});

test('SlaveSynchronize copies topics, groups, consumer and delay offsets at start and every round', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  const client = newClient();
  try {
    master = await startMaster();
    const m = master.mq.broker;
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'SyncedTopic');
    const g = await client.invoke(master.mq.brokerAddr, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'synced_group', retryMaxTimes: 7 }))), 3000);
    assert.equal(g.code, ResponseCode.SUCCESS);
    m.consumerOffsetManager.commitOffset('synced_group', 'SyncedTopic', 2, 42);
    slave = await startSlave(master.mq.namesrvAddr);
    const s = slave.broker;
    await waitUntil(() => s.topicConfigManager.get('SyncedTopic') !== undefined
      && s.subscriptionGroupManager.table.get('synced_group')?.retryMaxTimes === 7
      && s.consumerOffsetManager.queryOffset('synced_group', 'SyncedTopic', 2) === 42, 'the slave to copy the master\'s metadata at start');
    assert.equal(s.topicConfigManager.get('SyncedTopic')!.readQueueNums, 4);
    // Later changes come with the next round (every 10 s; one is run here).
    m.consumerOffsetManager.commitOffset('synced_group', 'SyncedTopic', 2, 50);
    m.topicConfigManager.update({ ...m.topicConfigManager.get('SyncedTopic')!, readQueueNums: 2, writeQueueNums: 2 });
    await s.slaveSynchronize!.syncAll();
    assert.equal(s.consumerOffsetManager.queryOffset('synced_group', 'SyncedTopic', 2), 50);
    assert.equal(s.topicConfigManager.get('SyncedTopic')!.readQueueNums, 2);
    assert.deepEqual(s.scheduleMessageService.offsetTable(), m.scheduleMessageService.offsetTable());
  } finally {
    await client.shutdown();
    await slave?.close();
    await master?.close();
  }
});

test('a slave serves pulls only with slaveReadEnable, and never commits a pull\'s offset', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  let reader: Slave | undefined;
  const client = newClient();
  try {
    master = await startMaster();
    slave = await startSlave(master.mq.namesrvAddr);
    reader = await startSlave(master.mq.namesrvAddr, {}, { brokerId: 2, slaveReadEnable: true });
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'SlaveRead');
    await reader.broker.slaveSynchronize!.syncAll(); // the topic now rather than at the next 10 s round
    for (let i = 0; i < 3; i++) {
      const r = await client.invoke(master.mq.brokerAddr, sendRequest({ topic: 'SlaveRead', body: `sr-${i}`, queueId: 0 }), 3000);
      assert.equal(r.code, ResponseCode.SUCCESS);
    }
    await waitUntil(() => reader!.broker.messageStore.getMaxOffsetInQueue('SlaveRead', 0) === 3
      && reader!.broker.topicConfigManager.get('SlaveRead') !== undefined, 'the reading slave to have the messages and the topic');
    const refused = await client.invoke(slave.broker.address, pullRequest({ topic: 'SlaveRead' }), 3000);
    assert.equal(refused.code, ResponseCode.SYSTEM_BUSY);
    assert.match(refused.remark ?? '', /REJECTREQUEST/);
    const pull = { ...pullRequest({ topic: 'SlaveRead' }) };
    pull.extFields = { ...pull.extFields!, sysFlag: String(Number(pull.extFields!.sysFlag) | 1), commitOffset: '2' };
    const got = await client.invoke(reader.broker.address, pull, 3000);
    assert.equal(got.code, ResponseCode.SUCCESS);
    assert.deepEqual(bodies(got), ['sr-0', 'sr-1', 'sr-2']);
    // The master is up: the slave sends the consumer back to it.
    assert.equal(got.extFields?.suggestWhichBrokerId, '0');
    assert.equal(reader.broker.consumerOffsetManager.queryOffset('test-consumer', 'SlaveRead', 0), -1, 'a slave commits no offset from a pull');
    // At the end of the queue, with the master up: PULL_RETRY_IMMEDIATELY back to the master.
    const atEnd = await client.invoke(reader.broker.address, pullRequest({ topic: 'SlaveRead', queueOffset: 3 }), 3000);
    assert.equal(atEnd.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  } finally {
    await client.shutdown();
    await reader?.close();
    await slave?.close();
    await master?.close();
  }
});

test('a master suggests the group\'s brokerId to pulls only with slaveReadEnable, as upstream', async () => {
  let master: Master | undefined;
  const client = newClient();
  try {
    master = await startMaster({}, { slaveReadEnable: true });
    const addr = master.mq.brokerAddr;
    await createTopic(master.mq.namesrvAddr, addr, 'Suggest');
    const g = await client.invoke(addr, request(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: 'suggest_g', brokerId: 1 }))), 3000);
    assert.equal(g.code, ResponseCode.SUCCESS);
    assert.equal((await client.invoke(addr, sendRequest({ topic: 'Suggest', body: 's', queueId: 0 }), 3000)).code, ResponseCode.SUCCESS);
    const pulled = await client.invoke(addr, pullRequest({ topic: 'Suggest', group: 'suggest_g' }), 3000);
    assert.equal(pulled.code, ResponseCode.SUCCESS);
    assert.equal(pulled.extFields?.suggestWhichBrokerId, '1');
    master.mq.broker.brokerConfig.slaveReadEnable = false;
    const again = await client.invoke(addr, pullRequest({ topic: 'Suggest', group: 'suggest_g' }), 3000);
    assert.equal(again.extFields?.suggestWhichBrokerId, '0');
  } finally {
    await client.shutdown();
    await master?.close();
  }
});

test('a slave signs its metadata requests with innerClientAuthenticationCredentials, so a master with ACL on answers them', async () => {
  let master: Master | undefined;
  let slave: Slave | undefined;
  const inner = JSON.stringify({ accessKey: 'rocketmq-inner', secretKey: 'inner-secret-1' });
  try {
    master = await startMaster({}, { authenticationEnabled: true, authorizationEnabled: true, innerClientAuthenticationCredentials: inner });
    const m = master.mq.broker;
    m.topicConfigManager.update({ ...m.topicConfigManager.get('TBW102')!, topicName: 'AclSyncedTopic' });
    m.consumerOffsetManager.commitOffset('acl_group', 'AclSyncedTopic', 1, 17);
    slave = await startSlave(master.mq.namesrvAddr, {}, { innerClientAuthenticationCredentials: inner });
    const s = slave.broker;
    await waitUntil(() => s.topicConfigManager.get('AclSyncedTopic') !== undefined
      && s.consumerOffsetManager.queryOffset('acl_group', 'AclSyncedTopic', 1) === 17, 'the slave to copy the master\'s metadata through its ACL');
  } finally {
    await slave?.close();
    await master?.close();
  }
});

test('with its master down, a slave moves no consumer offset unless offsetCheckInSlave, as upstream', async () => {
  let master: Master | undefined;
  let reader: Slave | undefined;
  const client = newClient();
  try {
    master = await startMaster();
    reader = await startSlave(master.mq.namesrvAddr, {}, { slaveReadEnable: true });
    await createTopic(master.mq.namesrvAddr, master.mq.brokerAddr, 'OffsetCheck');
    await reader.broker.slaveSynchronize!.syncAll();
    for (let i = 0; i < 3; i++) {
      const r = await client.invoke(master.mq.brokerAddr, sendRequest({ topic: 'OffsetCheck', body: `oc-${i}`, queueId: 0 }), 3000);
      assert.equal(r.code, ResponseCode.SUCCESS);
    }
    const s = reader.broker;
    await waitUntil(() => s.messageStore.getMaxOffsetInQueue('OffsetCheck', 0) === 3 && s.topicConfigManager.get('OffsetCheck') !== undefined, 'the slave to have the messages');
    await master.close();
    master = undefined;
    await waitUntil(() => s.haClient?.isConnected !== true, 'the slave to lose its master');
    // An offset the slave's queue does not reach (the master had more): no correction, a retry.
    const past = await client.invoke(s.address, pullRequest({ topic: 'OffsetCheck', queueOffset: 10 }), 3000);
    assert.equal(past.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
    assert.equal(past.extFields?.suggestWhichBrokerId, '0');
    assert.equal(past.extFields?.nextBeginOffset, '10', 'the consumer keeps its offset');
    // The slave still serves what it has.
    const got = await client.invoke(s.address, pullRequest({ topic: 'OffsetCheck' }), 3000);
    assert.equal(got.code, ResponseCode.SUCCESS);
    assert.deepEqual(bodies(got), ['oc-0', 'oc-1', 'oc-2']);
    // offsetCheckInSlave: the slave corrects the offset as a master would.
    s.storeConfig.offsetCheckInSlave = true;
    const moved = await client.invoke(s.address, pullRequest({ topic: 'OffsetCheck', queueOffset: 10 }), 3000);
    assert.equal(moved.code, ResponseCode.PULL_OFFSET_MOVED);
    assert.equal(moved.extFields?.nextBeginOffset, '0', 'moved as upstream moves it: to 0 while the queue starts at 0');
  } finally {
    await client.shutdown();
    await reader?.close();
    await master?.close();
  }
});
