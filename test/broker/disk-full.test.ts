import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResponseCode, RequestCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { encodeProperties } from '../../src/common/properties.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { diskUsageRatio } from '../../src/store/clean-service.js';
import { createTopicRequest, request, sendRequest, sendV2Ext, useMQWithClient, type TestMQ } from './helpers.js';
import type { RemotingClient } from '../../src/remoting/client.js';

// A broker whose disk is over diskSpaceWarningLevelRatio refuses writes (upstream RunningFlags
// DISK_FULL, set by CleanCommitLogService.isSpaceToDelete): sends answer SERVICE_NOT_AVAILABLE
// with the disk use in the remark (SendMessageProcessor.diskUtil), a transaction commit answers
// "Service not available now." (EndTransactionProcessor.sendFinalMessage). Runtime info reports
// the disk use as AdminBrokerProcessor.prepareRuntimeInfo does.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s));

const RATIO = /^(-1\.0|0\.\d\d?|1\.0)$/;

test('runtime info carries the disk use of the CommitLog and ConsumeQueue paths, dispatch and flush backlog, and the store capacity', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('DiskInfo', 1, 1))).code, ResponseCode.SUCCESS);
  assert.equal((await c.invoke(broker, sendRequest({ topic: 'DiskInfo', body: 'x', queueId: 0 }))).code, ResponseCode.SUCCESS);
  const res = await c.invoke(broker, request(RequestCode.GET_BROKER_RUNTIME_INFO));
  assert.equal(res.code, ResponseCode.SUCCESS);
  const table = (JSON.parse(res.body!.toString()) as { table: Record<string, string> }).table;
  const root = t.mq.broker.storeConfig.storePathRootDir;
  const clPath = join(root, 'commitlog');
  assert.match(table.commitLogDiskRatio!, RATIO);
  assert.equal(table[`commitLogDiskRatio_${clPath}`], table.commitLogDiskRatio, 'one CommitLog path: its ratio is the least');
  assert.ok(Math.abs(Number(table.commitLogDiskRatio) - diskUsageRatio(clPath)) <= 0.011, `${table.commitLogDiskRatio} vs ${diskUsageRatio(clPath)}`);
  assert.match(table.consumeQueueDiskRatio!, RATIO);
  assert.ok(Math.abs(Number(table.consumeQueueDiskRatio) - diskUsageRatio(join(root, 'consumequeue'))) <= 0.011);
  assert.match(table.dispatchBehindBytes!, /^\d+$/);
  assert.equal(table.pageCacheLockTimeMills, '0');
  assert.equal(table.remainTransientStoreBufferNumbs, '2147483647');
  assert.match(table.remainHowManyDataToFlush!, /^(\d+ B|\d+\.\d [KMGTPE]iB)$/);
  assert.match(table.commitLogDirCapacity!, /^Total : \d+\.\d [KMGTPE]iB, Free : \d+\.\d [KMGTPE]iB\.$/);
  assert.ok(Number(table.earliestMessageTimeStamp) > 0);
  for (const k of ['timerReadBehind', 'timerOffsetBehind', 'timerCongestNum']) assert.match(table[k]!, /^\d+$/, k);
});

test('while the disk is full, sends get SERVICE_NOT_AVAILABLE with the disk use, commits "Service not available now."; writes resume once it is not', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('DiskFull', 1, 1))).code, ResponseCode.SUCCESS);
  const store = t.mq.broker.messageStore;
  // A transaction half stored before the disk filled up.
  const half = await c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, {
    ...sendV2Ext({ topic: 'DiskFull', body: 'half', queueId: 0, producerGroup: 'TXG' }),
    f: '4', i: encodeProperties({ TRAN_MSG: 'true', PGROUP: 'TXG', UNIQ_KEY: 'UNIQDISKFULL0001', WAIT: 'true' }),
  }, Buffer.from('half')));
  assert.equal(half.code, ResponseCode.SUCCESS, half.remark);
  assert.ok(store.runningFlags.getAndMakeDiskFull());
  try {
    const refused = await c.invoke(broker, sendRequest({ topic: 'DiskFull', body: 'no room', queueId: 0 }));
    assert.equal(refused.code, ResponseCode.SERVICE_NOT_AVAILABLE);
    assert.match(refused.remark ?? '', /^service not available now\. It may be caused by one of the following reasons: the broker's disk is full \[CL: {1,2}-?\d\.\d\d CQ: {1,2}-?\d\.\d\d INDEX: {1,2}-?\d\.\d\d\], messages are put to the slave, message store has been shut down, etc\.$/);
    const commit = await c.invoke(broker, createRequest(RequestCode.END_TRANSACTION, {
      extFields: {
        producerGroup: 'TXG', tranStateTableOffset: half.extFields!.queueOffset!, commitLogOffset: decodeOffsetMessageId(half.extFields!.msgId!).commitLogOffset,
        commitOrRollback: 8, fromTransactionCheck: false, msgId: 'UNIQDISKFULL0001', transactionId: 'UNIQDISKFULL0001',
      },
    }));
    assert.equal(commit.code, ResponseCode.SERVICE_NOT_AVAILABLE, commit.remark);
    assert.equal(commit.remark, 'Service not available now.');
  } finally {
    store.runningFlags.getAndMakeDiskOK();
  }
  assert.equal((await c.invoke(broker, sendRequest({ topic: 'DiskFull', body: 'room again', queueId: 0 }))).code, ResponseCode.SUCCESS);
});
