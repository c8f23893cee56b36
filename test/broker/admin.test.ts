import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { decodeProperties } from '../../src/common/properties.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { createTopicRequest, pullRequest, records, request, sendRequest, sleep, useMQWithClient, type TestMQ } from './helpers.js';

// Offsets (consumer offsets, min/max, by time, earliest store time), topic administration with
// NameServer registration, message lookup by offset msgId, and runtime info.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s));

async function createTopic(topic: string, read: number, write: number, perm = 6): Promise<RemotingCommand> {
  return c.invoke(broker, createTopicRequest(topic, read, write, perm));
}

async function send(topic: string, body: string, queueId = 0): Promise<RemotingCommand> {
  const res = await c.invoke(broker, sendRequest({ topic, body, queueId }));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  return res;
}

function offsetReq(code: number, ext: Record<string, string | number>): Promise<RemotingCommand> {
  return c.invoke(broker, request(code, ext));
}

interface Route { queueDatas: Array<{ brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }>; brokerDatas: Array<{ brokerAddrs: Record<string, string> }> }

/** Polls the NameServer until `check` accepts the route of `topic` (registration is asynchronous). */
async function routeUntil(topic: string, check: (r: Route | undefined) => boolean, ms = 3000): Promise<Route | undefined> {
  const end = Date.now() + ms;
  let last: Route | undefined;
  do {
    const res = await c.invoke(t.mq.namesrvAddr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    last = res.code === ResponseCode.SUCCESS ? JSON.parse(res.body!.toString()) as Route : undefined;
    if (check(last)) return last;
    await sleep(20);
  } while (Date.now() < end);
  return last;
}

function topicTable(res: RemotingCommand): Record<string, { topicName: string; readQueueNums: number; writeQueueNums: number; perm: number; order?: boolean }> {
  return (JSON.parse(res.body!.toString()) as { topicConfigTable: ReturnType<typeof topicTable> }).topicConfigTable;
}

test('UPDATE_AND_CREATE_TOPIC: the NameServer route shows the topic, and an update changes it', async () => {
  assert.equal((await createTopic('AdminTopic', 3, 5)).code, ResponseCode.SUCCESS);
  const r = await routeUntil('AdminTopic', (x) => x !== undefined);
  assert.ok(r, 'route registered');
  assert.equal(r.queueDatas.length, 1);
  const qd = r.queueDatas[0]!;
  assert.deepEqual([qd.brokerName, qd.readQueueNums, qd.writeQueueNums, qd.perm], ['broker-a', 3, 5, 6]);
  assert.equal(r.brokerDatas[0]?.brokerAddrs['0'], broker);

  assert.equal((await createTopic('AdminTopic', 8, 8, 4)).code, ResponseCode.SUCCESS);
  const r2 = await routeUntil('AdminTopic', (x) => x?.queueDatas[0]?.readQueueNums === 8);
  assert.equal(r2?.queueDatas[0]?.writeQueueNums, 8);
  assert.equal(r2?.queueDatas[0]?.perm, 4);
});

test('UPDATE_AND_CREATE_TOPIC refuses absurd queue numbers and, as upstream, every system topic', async () => {
  const bad = await createTopic('TooMany', 5000, 4);
  assert.notEqual(bad.code, ResponseCode.SUCCESS);
  assert.match(bad.remark ?? '', /readQueueNums/);
  const before = topicTable(await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG)));
  for (const topic of ['DefaultCluster', 'DefaultCluster_REPLY_TOPIC', 'TBW102', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC', 'rmq_sys_wheel_timer', 'BenchmarkTest']) {
    const clash = await createTopic(topic, 1, 1);
    assert.equal(clash.code, ResponseCode.INVALID_PARAMETER, topic);
    assert.match(clash.remark ?? '', /is conflict with system topic/);
  }
  // Nothing changed: TBW102 keeps its queues.
  const after = topicTable(await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG)));
  assert.deepEqual(after.TBW102, before.TBW102);
});

test('GET_ALL_TOPIC_CONFIG lists created and system topics with a data version', async () => {
  await createTopic('ListedTopic', 2, 2);
  const res = await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG));
  assert.equal(res.code, ResponseCode.SUCCESS);
  const body = JSON.parse(res.body!.toString()) as { dataVersion?: { counter: number; timestamp: number } };
  assert.ok(body.dataVersion && typeof body.dataVersion.counter === 'number');
  const table = topicTable(res);
  assert.deepEqual([table.ListedTopic?.readQueueNums, table.ListedTopic?.writeQueueNums, table.ListedTopic?.perm], [2, 2, 6]);
  for (const sys of ['TBW102', 'SELF_TEST_TOPIC', 'DefaultCluster', 'broker-a', 'SCHEDULE_TOPIC_XXXX']) assert.ok(sys in table, `${sys} present`);
  assert.equal(table.TBW102?.perm, 7, 'the template topic carries the inherit bit');
});

test('DELETE_TOPIC_IN_BROKER removes the topic, its queues and offsets; TBW102 cannot be deleted', async () => {
  await createTopic('Doomed', 1, 1);
  await send('Doomed', 'x');
  await offsetReq(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g-doomed', topic: 'Doomed', queueId: 0, commitOffset: 1 });
  const del = await c.invoke(broker, request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'Doomed' }));
  assert.equal(del.code, ResponseCode.SUCCESS);
  assert.ok(!('Doomed' in topicTable(await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG)))));
  const pull = await c.invoke(broker, pullRequest({ topic: 'Doomed' }));
  assert.equal(pull.code, ResponseCode.TOPIC_NOT_EXIST);
  const max = await offsetReq(RequestCode.GET_MAX_OFFSET, { topic: 'Doomed', queueId: 0 });
  assert.equal(max.extFields?.offset, '0');
  const q = await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-doomed', topic: 'Doomed', queueId: 0, setZeroIfNotFound: 'false' });
  assert.equal(q.code, ResponseCode.QUERY_NOT_FOUND, 'the group offset went with the topic');

  const sys = await c.invoke(broker, request(RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'TBW102' }));
  assert.equal(sys.code, ResponseCode.INVALID_PARAMETER, 'refused as a system topic, as upstream');
  assert.ok('TBW102' in topicTable(await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG))));
});

test('QUERY_CONSUMER_OFFSET / UPDATE_CONSUMER_OFFSET, two-way (as ali-ons sends it) and oneway', async () => {
  await createTopic('Offsets', 2, 2);
  // A new group on a young queue starts from 0 (as upstream; here an empty queue too); with setZeroIfNotFound=false it is not found.
  const fresh = await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 0 });
  assert.equal(fresh.code, ResponseCode.SUCCESS);
  assert.equal(fresh.extFields?.offset, '0');
  const strict = await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 0, setZeroIfNotFound: 'false' });
  assert.equal(strict.code, ResponseCode.QUERY_NOT_FOUND);
  assert.equal(strict.remark, 'Not found, do not set to zero, maybe this group boot first');

  // Without the oneway bit the broker answers.
  const upd = await c.invoke(broker, request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 0, commitOffset: 17 }, undefined, SerializeType.JSON));
  assert.equal(upd.code, ResponseCode.SUCCESS);
  assert.equal(upd.serializeType, SerializeType.JSON);
  const q = await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 0 });
  assert.equal(q.extFields?.offset, '17');

  // Oneway: no answer, but stored.
  await c.invokeOneway(broker, request(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 1, commitOffset: 5 }));
  let got: string | undefined;
  const end = Date.now() + 2000;
  while (Date.now() < end) {
    got = (await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'Offsets', queueId: 1, setZeroIfNotFound: 'false' })).extFields?.offset;
    if (got === '5') break;
    await sleep(10);
  }
  assert.equal(got, '5');
  // Other groups and queues are separate.
  assert.equal((await offsetReq(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'g-other', topic: 'Offsets', queueId: 0, setZeroIfNotFound: 'false' })).code, ResponseCode.QUERY_NOT_FOUND);

  const unknown = await offsetReq(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'g-off', topic: 'NoSuchTopicForOffsets', queueId: 0, commitOffset: 1 });
  assert.equal(unknown.code, ResponseCode.TOPIC_NOT_EXIST);
});

test('GET_MAX_OFFSET, GET_MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP and GET_EARLIEST_MSG_STORETIME', async () => {
  await createTopic('ByTime', 2, 2);
  const empty = await offsetReq(RequestCode.GET_MAX_OFFSET, { topic: 'ByTime', queueId: 0 });
  assert.equal(empty.extFields?.offset, '0');
  for (let i = 0; i < 4; i++) {
    await send('ByTime', `t${i}`);
    await sleep(15); // distinct store timestamps
  }
  const max = await offsetReq(RequestCode.GET_MAX_OFFSET, { topic: 'ByTime', queueId: 0, committed: 'true' });
  assert.equal(max.code, ResponseCode.SUCCESS);
  assert.equal(max.extFields?.offset, '4');
  assert.equal((await offsetReq(RequestCode.GET_MIN_OFFSET, { topic: 'ByTime', queueId: 0 })).extFields?.offset, '0');
  assert.equal((await offsetReq(RequestCode.GET_MAX_OFFSET, { topic: 'ByTime', queueId: 1 })).extFields?.offset, '0');

  const ms = records(await c.invoke(broker, pullRequest({ topic: 'ByTime' })));
  assert.equal(ms.length, 4);
  const times = ms.map((m) => m.storeTimestamp);
  const search = async (timestamp: number | string, boundaryType?: string): Promise<string | undefined> =>
    (await offsetReq(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic: 'ByTime', queueId: 0, timestamp, ...(boundaryType ? { boundaryType } : {}) })).extFields?.offset;
  assert.equal(await search(0), '0');
  assert.equal(await search(times[2]!), '2');
  assert.equal(await search(times[2]! - 1), '2', 'the first message stored at or after the time');
  assert.equal(await search(times[1]! + 1), '2');
  assert.equal(await search(times[2]!, 'upper'), '2');
  assert.equal(await search(times[2]! + 1, 'UPPER'), '2', 'UPPER: the last message stored at or before the time');
  // Java callers may pass Long.MAX_VALUE for "after everything": the end of the queue, or its last message.
  assert.equal(await search('9223372036854775807'), '4');
  assert.equal(await search('9223372036854775807', 'UPPER'), '3');

  const earliest = await offsetReq(RequestCode.GET_EARLIEST_MSG_STORETIME, { topic: 'ByTime', queueId: 0 });
  assert.equal(earliest.code, ResponseCode.SUCCESS);
  assert.equal(earliest.extFields?.timestamp, String(times[0]));
});

test('VIEW_MESSAGE_BY_ID with the CommitLog offset decoded from the send\'s offset msgId', async () => {
  await createTopic('ViewMe', 1, 1);
  await send('ViewMe', 'first');
  const res = await send('ViewMe', 'second');
  const decoded = decodeOffsetMessageId(res.extFields!.msgId!);
  assert.equal(decoded.address, broker);
  const view = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: decoded.commitLogOffset }));
  assert.equal(view.code, ResponseCode.SUCCESS, view.remark);
  const [m] = records(view);
  assert.equal(m?.body.toString(), 'second');
  assert.equal(m?.topic, 'ViewMe');
  assert.equal(m?.queueOffset, 1);
  assert.equal(m?.commitLogOffset, decoded.commitLogOffset);
  assert.equal(m?.offsetMsgId, res.extFields!.msgId);
  assert.equal(decodeProperties(m!.properties).get('UNIQ_KEY'), res.extFields!.transactionId);

  // The client SDK's viewMessage agrees.
  const api = new MQClientAPI();
  try {
    const viaApi = await api.viewMessage(broker, decoded.commitLogOffset);
    assert.equal(viaApi.body.toString(), 'second');
  } finally {
    await api.shutdown();
  }

  const missing = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: 1e12 }));
  assert.notEqual(missing.code, ResponseCode.SUCCESS);
  assert.match(missing.remark ?? '', /offset/);
});

test('VIEW_MESSAGE_BY_ID at an offset that is not a record\'s start is not found, not a slice of bytes', async () => {
  await createTopic('ViewMid', 1, 1);
  // A body that reads as a plausible record size (64) where it sits, as a mistyped offset could land.
  const body = '\u0000\u0000\u0000@' + 'A'.repeat(100);
  const res = await send('ViewMid', body);
  const { commitLogOffset } = decodeOffsetMessageId(res.extFields!.msgId!);
  const whole = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset: commitLogOffset }));
  assert.equal(whole.code, ResponseCode.SUCCESS, whole.remark);
  const at = whole.body!.indexOf(Buffer.from(body));
  assert.ok(at > 0);
  for (const offset of [commitLogOffset + at, commitLogOffset + 1, -1]) {
    const view = await c.invoke(broker, request(RequestCode.VIEW_MESSAGE_BY_ID, { offset }));
    assert.equal(view.code, ResponseCode.SYSTEM_ERROR, `offset ${offset}`);
    assert.match(view.remark ?? '', /can not find message by the offset/);
    assert.equal(view.body, undefined);
  }
});

test('GET_BROKER_RUNTIME_INFO returns a KVTable of strings with the broker identity and counters', async () => {
  await createTopic('Runtime', 1, 1);
  await send('Runtime', 'r');
  const res = await c.invoke(broker, request(RequestCode.GET_BROKER_RUNTIME_INFO));
  assert.equal(res.code, ResponseCode.SUCCESS);
  const table = (JSON.parse(res.body!.toString()) as { table: Record<string, unknown> }).table;
  for (const v of Object.values(table)) assert.equal(typeof v, 'string');
  assert.equal(table.brokerName, 'broker-a');
  assert.equal(table.brokerAddr, broker);
  assert.ok(typeof table.brokerVersionDesc === 'string' && table.brokerVersionDesc.startsWith('V'));
  assert.ok(Number(table.msgPutTotalTodayNow) >= 1);
  assert.ok(Number(table.bootTimestamp) > 0);
  assert.ok('earliestMessageTimeStamp' in table);
  const api = new MQClientAPI({ serializeType: 'JSON' });
  try {
    const viaApi = await api.getBrokerRuntimeInfo(broker);
    assert.equal(viaApi.brokerName, 'broker-a');
  } finally {
    await api.shutdown();
  }
});
