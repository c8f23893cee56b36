import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { decodeMessageRequestModeTable, decodeQueryAssignmentResponseBody, type MessageQueueAssignment } from '../../src/common/message-request-mode.js';
import { allocate4Pop } from '../../src/broker/processors/query-assignment.js';
import { AllocateMessageQueueAveragely } from '../../src/client/rebalance/index.js';
import { tempDir } from '../helpers/tmp.js';
import { createTopicRequest, request } from './helpers.js';

// QUERY_ASSIGNMENT / SET_MESSAGE_REQUEST_MODE / GET_ALL_MESSAGE_REQUEST_MODE against a real
// NameServer + Broker (upstream QueryAssignmentProcessor, MessageRequestModeManager).

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

function setMode(topic: string, consumerGroup: string, mode: string, popShareQueueNum = 0): RemotingCommand {
  return request(RequestCode.SET_MESSAGE_REQUEST_MODE, undefined, json({ topic, consumerGroup, mode, popShareQueueNum }));
}

function query(topic: string, consumerGroup: string, clientId: string, strategyName = 'AVG', messageModel = 'CLUSTERING'): RemotingCommand {
  return request(RequestCode.QUERY_ASSIGNMENT, undefined, json({ topic, consumerGroup, clientId, strategyName, messageModel }));
}

/** A consumer's HEART_BEAT, from its own connection, so the broker counts it in the group. */
function heartbeat(clientID: string, group: string, topic: string): RemotingCommand {
  return request(RequestCode.HEART_BEAT, undefined, json({
    clientID, producerDataSet: [],
    consumerDataSet: [{
      groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false,
      subscriptionDataSet: [{ topic, subString: '*', tagsSet: [], codeSet: [], subVersion: Date.now(), expressionType: 'TAG' }],
    }],
  }), SerializeType.JSON);
}

function assigned(res: RemotingCommand): MessageQueueAssignment[] | undefined {
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return decodeQueryAssignmentResponseBody(res.body);
}

const queueIds = (a: MessageQueueAssignment[] | undefined): number[] => (a ?? []).map((x) => x.messageQueue.queueId).sort((x, y) => x - y);

async function start(dir: string, brokerConfig = {}): Promise<Standalone> {
  return startStandalone({
    storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger: pino({ level: 'silent' }), brokerConfig,
    storeConfig: { mappedFileSizeCommitLog: 4 * 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20 },
  });
}

test('QUERY_ASSIGNMENT: PULL by default with the named strategy; POP after SET_MESSAGE_REQUEST_MODE, kept across a restart', async () => {
  const { dir, cleanup } = tempDir('rmq-assignment-');
  const c1 = new RemotingClient({});
  const c2 = new RemotingClient({});
  let mq = await start(dir);
  try {
    const b = mq.brokerAddr;
    assert.equal((await c1.invoke(b, createTopicRequest('AsgT', 4, 4))).code, ResponseCode.SUCCESS);
    assert.equal((await c1.invoke(b, heartbeat('cid-1', 'AsgG', 'AsgT'))).code, ResponseCode.SUCCESS);
    assert.equal((await c2.invoke(b, heartbeat('cid-2', 'AsgG', 'AsgT'))).code, ResponseCode.SUCCESS);

    // Never set: the broker's default, PULL, each consumer its AVG share of the 4 queues.
    let a1 = assigned(await c1.invoke(b, query('AsgT', 'AsgG', 'cid-1')));
    let a2 = assigned(await c2.invoke(b, query('AsgT', 'AsgG', 'cid-2')));
    assert.deepEqual(queueIds(a1), [0, 1]);
    assert.deepEqual(queueIds(a2), [2, 3]);
    assert.ok(a1!.every((a) => a.mode === 'PULL' && a.messageQueue.topic === 'AsgT' && a.messageQueue.brokerName === mq.broker.brokerConfig.brokerName));
    // AVG_BY_CIRCLE is known to the broker too.
    assert.deepEqual(queueIds(assigned(await c1.invoke(b, query('AsgT', 'AsgG', 'cid-1', 'AVG_BY_CIRCLE')))), [0, 2]);
    // BROADCASTING: every queue.
    assert.deepEqual(queueIds(assigned(await c1.invoke(b, query('AsgT', 'AsgG', 'cid-1', 'AVG', 'BROADCASTING')))), [0, 1, 2, 3]);

    // POP with popShareQueueNum 0: every consumer pops every queue of the broker (queueId -1).
    assert.equal((await c1.invoke(b, setMode('AsgT', 'AsgG', 'POP', 0))).code, ResponseCode.SUCCESS);
    a1 = assigned(await c1.invoke(b, query('AsgT', 'AsgG', 'cid-1')));
    a2 = assigned(await c2.invoke(b, query('AsgT', 'AsgG', 'cid-2')));
    assert.deepEqual(a1?.map((a) => [a.messageQueue.queueId, a.mode]), [[-1, 'POP']]);
    assert.deepEqual(a2?.map((a) => [a.messageQueue.queueId, a.mode]), [[-1, 'POP']]);
    // Another group on the topic is untouched.
    assert.equal((await c1.invoke(b, setMode('AsgT', 'AsgOther', 'PULL'))).code, ResponseCode.SUCCESS);

    const all = await c1.invoke(b, request(RequestCode.GET_ALL_MESSAGE_REQUEST_MODE));
    assert.equal(all.code, ResponseCode.SUCCESS, all.remark);
    const table = decodeMessageRequestModeTable(all.body!);
    assert.deepEqual(table.get('AsgT')?.get('AsgG'), { topic: 'AsgT', consumerGroup: 'AsgG', mode: 'POP', popShareQueueNum: 0 });
    assert.equal(table.get('AsgT')?.get('AsgOther')?.mode, 'PULL');

    await mq.shutdown();
    mq = await start(dir);
    const b2 = mq.brokerAddr;
    const after = decodeMessageRequestModeTable((await c1.invoke(b2, request(RequestCode.GET_ALL_MESSAGE_REQUEST_MODE))).body!);
    assert.deepEqual(after.get('AsgT')?.get('AsgG'), { topic: 'AsgT', consumerGroup: 'AsgG', mode: 'POP', popShareQueueNum: 0 }, 'the mode survives a restart');
    assert.equal((await c1.invoke(b2, heartbeat('cid-1', 'AsgG', 'AsgT'))).code, ResponseCode.SUCCESS);
    assert.deepEqual(assigned(await c1.invoke(b2, query('AsgT', 'AsgG', 'cid-1')))?.map((a) => [a.messageQueue.queueId, a.mode]), [[-1, 'POP']]);
  } finally {
    await c1.shutdown();
    await c2.shutdown();
    await mq.shutdown();
    cleanup();
  }
});

test('QUERY_ASSIGNMENT: the retry topic is PULL, an unknown strategy or topic gives no assignment, a broker default of POP applies', async () => {
  const { dir, cleanup } = tempDir('rmq-assignment-');
  const c = new RemotingClient({});
  const mq = await start(dir, { defaultMessageRequestMode: 'POP', defaultPopShareQueueNum: -1 });
  try {
    const b = mq.brokerAddr;
    assert.equal((await c.invoke(b, createTopicRequest('DefT', 2, 2))).code, ResponseCode.SUCCESS);
    assert.equal((await c.invoke(b, heartbeat('cid-1', 'DefG', 'DefT'))).code, ResponseCode.SUCCESS);
    assert.deepEqual(assigned(await c.invoke(b, query('DefT', 'DefG', 'cid-1')))?.map((a) => [a.messageQueue.queueId, a.mode]), [[-1, 'POP']]);
    // The group's retry topic is always pulled, whatever the default (its queues come from the heartbeat's auto-creation).
    const retry = assigned(await c.invoke(b, query('%RETRY%DefG', 'DefG', 'cid-1')));
    assert.ok(retry && retry.length > 0 && retry.every((a) => a.mode === 'PULL' && a.messageQueue.queueId >= 0), JSON.stringify(retry));
    // No valid result (upstream null, the client keeps what it has): an unknown strategy, an unknown topic, an unknown group.
    assert.equal(assigned(await c.invoke(b, query('DefT', 'DefG', 'cid-1', 'CONSISTENT_HASH'))), undefined);
    assert.equal(assigned(await c.invoke(b, query('NoSuchTopic', 'DefG', 'cid-1'))), undefined);
    assert.equal(assigned(await c.invoke(b, query('DefT', 'NobodyG', 'cid-1'))), undefined);
  } finally {
    await c.shutdown();
    await mq.shutdown();
    cleanup();
  }
});

test('SET_MESSAGE_REQUEST_MODE and QUERY_ASSIGNMENT refuse bad input with upstream codes, and the broker keeps serving', async () => {
  const { dir, cleanup } = tempDir('rmq-assignment-');
  const c = new RemotingClient({});
  const mq = await start(dir, { autoCreateSubscriptionGroup: false });
  try {
    const b = mq.brokerAddr;
    assert.equal((await c.invoke(b, createTopicRequest('BadT', 1, 1))).code, ResponseCode.SUCCESS);
    const code = async (cmd: RemotingCommand): Promise<number> => (await c.invoke(b, cmd)).code;
    assert.equal(await code(setMode('%RETRY%G', 'G', 'POP')), ResponseCode.NO_PERMISSION);
    assert.equal(await code(setMode('NoSuchTopic', 'G', 'POP')), ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(await code(setMode('BadT', 'NoSuchGroup', 'POP')), ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST);
    // Undecodable bodies: SYSTEM_ERROR, as upstream's exception in the processor.
    assert.equal(await code(setMode('BadT', 'G', 'PUSH')), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.SET_MESSAGE_REQUEST_MODE)), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.SET_MESSAGE_REQUEST_MODE, undefined, Buffer.from('{not json'))), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.SET_MESSAGE_REQUEST_MODE, undefined, json({ topic: 'BadT', mode: 'POP' }))), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.QUERY_ASSIGNMENT)), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.QUERY_ASSIGNMENT, undefined, json({ topic: 'BadT', consumerGroup: 'G' }))), ResponseCode.SYSTEM_ERROR);
    assert.equal(await code(request(RequestCode.QUERY_ASSIGNMENT, undefined, json({ topic: 'BadT', consumerGroup: 'G', clientId: 'c', messageModel: 'X' }))), ResponseCode.SYSTEM_ERROR);
    // Nothing was stored, and the broker still answers.
    const all = await c.invoke(b, request(RequestCode.GET_ALL_MESSAGE_REQUEST_MODE));
    assert.equal(all.code, ResponseCode.SUCCESS);
    assert.equal(decodeMessageRequestModeTable(all.body!).size, 0);
    assert.equal(await code(createTopicRequest('BadT2', 1, 1)), ResponseCode.SUCCESS);
  } finally {
    await c.shutdown();
    await mq.shutdown();
    cleanup();
  }
});

test('allocate4Pop shares the next consumers\' queues, and gives each consumer a queue when they outnumber the queues', () => {
  const mqAll = [0, 1, 2, 3].map((queueId) => ({ topic: 'T', brokerName: 'b', queueId }));
  const avg = new AllocateMessageQueueAveragely();
  const ids = (l: Array<{ queueId: number }>): number[] => l.map((q) => q.queueId);
  // 4 consumers, share 1: own queue plus the next consumer's.
  const cids = ['c0', 'c1', 'c2', 'c3'];
  assert.deepEqual(ids(allocate4Pop(avg, 'G', 'c0', mqAll, cids, 1)), [0, 1]);
  assert.deepEqual(ids(allocate4Pop(avg, 'G', 'c3', mqAll, cids, 1)), [3, 0]);
  // share ≥ consumers − 1: every queue, as one "-1" queue per broker.
  assert.deepEqual(ids(allocate4Pop(avg, 'G', 'c1', mqAll, cids, 3)), [-1]);
  // 6 consumers over 4 queues with share 1: consumer i takes queue i mod 4.
  const six = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
  assert.deepEqual(ids(allocate4Pop(avg, 'G', 'c5', mqAll, six, 1)), [1]);
});
