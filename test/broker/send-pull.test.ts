import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../../src/remoting/codec.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { encodeBatchBody } from '../../src/client/message.js';
import { decodeProperties, encodeProperties } from '../../src/common/properties.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';
import { PullSysFlag } from '../../src/common/sysflag.js';
import {
  bodies, createTopicRequest, newClient, pullRequest, RawConn, records, request, sendRequest, sendV1Ext, sendV2Ext, sleep, startMQ, useMQWithClient,
  type TestMQ,
} from './helpers.js';

// SEND_MESSAGE / _V2 / SEND_BATCH_MESSAGE and PULL_MESSAGE (long polling, tag filter, queue
// numbers and permissions) against a real broker.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s));

async function createTopic(topic: string, read: number, write: number, perm = 6): Promise<void> {
  const res = await c.invoke(broker, createTopicRequest(topic, read, write, perm));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
}

function pull(p: Parameters<typeof pullRequest>[0], timeoutMs = 3000): Promise<RemotingCommand> {
  return c.invoke(broker, pullRequest(p), timeoutMs);
}

test('SEND_MESSAGE_V2: response header and the stored message as sent', async () => {
  await createTopic('SendV2', 4, 4);
  const props = encodeProperties({ TAGS: 'TagA', KEYS: 'k1 k2', UNIQ_KEY: 'ABCDEF0123456789', custom: 'v' });
  const ext = { ...sendV2Ext({ topic: 'SendV2', body: '', queueId: 2 }), i: props, h: '7', g: '1700000000000' };
  const res = await c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, ext, Buffer.from('hello v2')));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const h = res.extFields!;
  assert.equal(h.queueId, '2');
  assert.equal(h.queueOffset, '0');
  assert.equal(h.transactionId, 'ABCDEF0123456789');
  assert.equal(h.MSG_REGION, 'DefaultRegion');
  assert.ok(h.TRACE_ON === 'true' || h.TRACE_ON === 'false');
  assert.equal(decodeOffsetMessageId(h.msgId!).address, broker, 'offset msgId carries the broker address');

  const p = await pull({ topic: 'SendV2', queueId: 2 });
  assert.equal(p.code, ResponseCode.SUCCESS);
  const [m] = records(p);
  assert.ok(m);
  assert.equal(m.body.toString(), 'hello v2');
  assert.equal(m.topic, 'SendV2');
  assert.equal(m.queueId, 2);
  assert.equal(m.flag, 7);
  assert.equal(m.bornTimestamp, 1700000000000);
  assert.equal(m.offsetMsgId, h.msgId);
  const pm = decodeProperties(m.properties);
  assert.equal(pm.get('TAGS'), 'TagA');
  assert.equal(pm.get('KEYS'), 'k1 k2');
  assert.equal(pm.get('custom'), 'v');
  assert.equal(pm.get('UNIQ_KEY'), 'ABCDEF0123456789');
  assert.equal(pm.get('CLUSTER'), 'DefaultCluster');
  assert.equal(p.extFields?.nextBeginOffset, '1');
  assert.equal(p.extFields?.minOffset, '0');
  assert.equal(p.extFields?.maxOffset, '1');
});

test('SEND_MESSAGE (V1 long-key header, JSON) stores the message; the broker adds a UNIQ_KEY when none is sent', async () => {
  await createTopic('SendV1', 2, 2);
  const ext = { ...sendV1Ext({ topic: 'SendV1', body: '', queueId: 1, tags: 'v1tag' }) };
  const res = await c.invoke(broker, request(RequestCode.SEND_MESSAGE, ext, Buffer.from('hello v1'), SerializeType.JSON));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.serializeType, SerializeType.JSON);
  assert.equal(res.extFields?.queueId, '1');
  assert.ok(res.extFields?.transactionId, 'the generated UNIQ_KEY is returned as transactionId');
  const [m] = records(await pull({ topic: 'SendV1', queueId: 1 }));
  assert.equal(m?.body.toString(), 'hello v1');
  const pm = decodeProperties(m!.properties);
  assert.equal(pm.get('TAGS'), 'v1tag');
  assert.equal(pm.get('UNIQ_KEY'), res.extFields?.transactionId);
});

test('queueId < 0 lets the broker pick a writable queue', async () => {
  await createTopic('AnyQueue', 3, 3);
  for (let i = 0; i < 5; i++) {
    const res = await c.invoke(broker, sendRequest({ topic: 'AnyQueue', body: `m${i}`, queueId: -1 }));
    assert.equal(res.code, ResponseCode.SUCCESS);
    const q = Number(res.extFields?.queueId);
    assert.ok(q >= 0 && q < 3);
  }
});

test('SEND_BATCH_MESSAGE: one request, consecutive offsets, comma-joined msgIds; m=true on code 310 is a batch too', async () => {
  await createTopic('Batch', 1, 1);
  const entries = ['b0', 'b1', 'b2'].map((b, i) => ({ flag: i, body: Buffer.from(b), properties: encodeProperties({ TAGS: `t${i}`, UNIQ_KEY: `U${i}` }) }));
  const res = await c.invoke(broker, request(RequestCode.SEND_BATCH_MESSAGE, { ...sendV2Ext({ topic: 'Batch', body: '', queueId: 0 }), m: 'true' }, encodeBatchBody(entries)));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  assert.equal(res.extFields?.queueOffset, '0');
  const ids = res.extFields!.msgId!.split(',');
  assert.equal(ids.length, 3);

  const v2batch = await c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, { ...sendV2Ext({ topic: 'Batch', body: '', queueId: 0 }), m: 'true' }, encodeBatchBody(entries.slice(0, 2))));
  assert.equal(v2batch.code, ResponseCode.SUCCESS, v2batch.remark);
  assert.equal(v2batch.extFields?.queueOffset, '3');
  assert.equal(v2batch.extFields?.msgId?.split(',').length, 2);

  const p = await pull({ topic: 'Batch' });
  const ms = records(p);
  assert.deepEqual(ms.map((m) => m.body.toString()), ['b0', 'b1', 'b2', 'b0', 'b1']);
  assert.deepEqual(ms.map((m) => m.queueOffset), [0, 1, 2, 3, 4]);
  assert.deepEqual(ms.slice(0, 3).map((m) => m.offsetMsgId), ids);
  assert.deepEqual(ms.slice(0, 3).map((m) => m.flag), [0, 1, 2]);
  assert.deepEqual(ms.slice(0, 3).map((m) => decodeProperties(m.properties).get('TAGS')), ['t0', 't1', 't2']);
});

test('long polling: a suspended pull on an empty queue is held and answered within ~100 ms of a message arriving', async () => {
  await createTopic('LongPoll', 1, 1);
  const raw = await RawConn.open(broker);
  const req = pullRequest({ topic: 'LongPoll', suspend: true, suspendTimeoutMillis: 10_000 }, SerializeType.JSON);
  req.opaque = 42;
  raw.write(encodeCommand(req));
  await sleep(300);
  assert.equal(raw.frames.length, 0, 'the pull is held while the queue is empty');
  const sentAt = Date.now();
  const s = await c.invoke(broker, sendRequest({ topic: 'LongPoll', body: 'wake up' }));
  assert.equal(s.code, ResponseCode.SUCCESS);
  const res = await raw.response(2000);
  const elapsed = Date.now() - sentAt;
  assert.ok(elapsed < 150, `answered ${elapsed} ms after the send`);
  assert.equal(res.opaque, 42);
  assert.equal(res.code, ResponseCode.SUCCESS);
  assert.equal(res.serializeType, SerializeType.JSON, 'a held pull is answered in the serialization of its request');
  assert.deepEqual(records(res).map((m) => m.body.toString()), ['wake up']);
  raw.destroy();
});

test('long polling: a held pull with no message is answered PULL_NOT_FOUND after its suspendTimeoutMillis', async () => {
  await createTopic('LongPollTimeout', 1, 1);
  const t0 = Date.now();
  const res = await pull({ topic: 'LongPollTimeout', suspend: true, suspendTimeoutMillis: 300 }, 5000);
  const elapsed = Date.now() - t0;
  assert.equal(res.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(elapsed >= 290, `held ${elapsed} ms, at least the suspend time`);
  assert.ok(elapsed < 2000, `held ${elapsed} ms, not much longer than the suspend time plus one check interval`);
  assert.equal(res.extFields?.nextBeginOffset, '0');
});

test('long polling: without the suspend flag an empty queue is answered at once', async () => {
  await createTopic('NoSuspend', 1, 1);
  const t0 = Date.now();
  const res = await pull({ topic: 'NoSuspend', suspend: false, suspendTimeoutMillis: 10_000 });
  assert.equal(res.code, ResponseCode.PULL_NOT_FOUND);
  assert.ok(Date.now() - t0 < 500);
});

test('long polling with a tag filter: a held pull wakes for a matching message only, and gets only it', async () => {
  await createTopic('LongPollTag', 1, 1);
  const pending = pull({ topic: 'LongPollTag', suspend: true, suspendTimeoutMillis: 10_000, subscription: 'A' }, 15_000);
  await sleep(100);
  const batch = [
    { flag: 0, body: Buffer.from('b-msg'), properties: encodeProperties({ TAGS: 'B' }) },
    { flag: 0, body: Buffer.from('a-msg'), properties: encodeProperties({ TAGS: 'A' }) },
  ];
  const s = await c.invoke(broker, request(RequestCode.SEND_BATCH_MESSAGE, { ...sendV2Ext({ topic: 'LongPollTag', body: '' }), m: 'true' }, encodeBatchBody(batch)));
  assert.equal(s.code, ResponseCode.SUCCESS);
  const res = await pending;
  assert.equal(res.code, ResponseCode.SUCCESS);
  assert.deepEqual(bodies(res), ['a-msg']);
  assert.equal(res.extFields?.nextBeginOffset, '2');
});

test('tag filtering on pull: only matching tags come back; no match is PULL_RETRY_IMMEDIATELY past the queue', async () => {
  await createTopic('Tags', 1, 1);
  const sends: Array<[string, string | undefined]> = [['a1', 'TagA'], ['b1', 'TagB'], ['n1', undefined], ['a2', 'TagA'], ['c1', 'TagC']];
  for (const [body, tags] of sends) {
    const r = await c.invoke(broker, sendRequest({ topic: 'Tags', body, tags }));
    assert.equal(r.code, ResponseCode.SUCCESS);
  }
  assert.deepEqual(bodies(await pull({ topic: 'Tags', subscription: 'TagA' })), ['a1', 'a2']);
  assert.deepEqual(bodies(await pull({ topic: 'Tags', subscription: 'TagA || TagC' })), ['a1', 'a2', 'c1']);
  assert.deepEqual(bodies(await pull({ topic: 'Tags', subscription: '*' })), ['a1', 'b1', 'n1', 'a2', 'c1']);
  assert.deepEqual(bodies(await pull({ topic: 'Tags', subscription: 'TagB', queueOffset: 2 })), []);
  const none = await pull({ topic: 'Tags', subscription: 'TagZ' });
  assert.equal(none.code, ResponseCode.PULL_RETRY_IMMEDIATELY);
  assert.equal(none.extFields?.nextBeginOffset, '5');
  const fromMiddle = await pull({ topic: 'Tags', subscription: 'TagA', queueOffset: 1 });
  assert.deepEqual(bodies(fromMiddle), ['a2']);
  assert.equal(fromMiddle.extFields?.nextBeginOffset, '5');
});

test('pull offsets: beyond the end is PULL_NOT_FOUND or PULL_OFFSET_MOVED, with the queue bounds', async () => {
  await createTopic('PullOffsets', 1, 1);
  for (let i = 0; i < 3; i++) await c.invoke(broker, sendRequest({ topic: 'PullOffsets', body: `p${i}` }));
  const atEnd = await pull({ topic: 'PullOffsets', queueOffset: 3 });
  assert.equal(atEnd.code, ResponseCode.PULL_NOT_FOUND);
  assert.equal(atEnd.extFields?.maxOffset, '3');
  const far = await pull({ topic: 'PullOffsets', queueOffset: 100 });
  assert.equal(far.code, ResponseCode.PULL_OFFSET_MOVED);
  // As upstream (OFFSET_OVERFLOW_BADLY): with minOffset 0 the consumer is sent back to minOffset, else to maxOffset.
  assert.equal(far.extFields?.nextBeginOffset, '0');
  assert.equal(far.extFields?.maxOffset, '3');
  const two = await pull({ topic: 'PullOffsets', queueOffset: 1, maxMsgNums: 1 });
  assert.deepEqual(bodies(two), ['p1']);
  assert.equal(two.extFields?.nextBeginOffset, '2');
});

test('topic auto-creation from TBW102: queues = min(requested, template), perm without inherit, route published', async () => {
  const topic = `Auto${Date.now()}`;
  const res = await c.invoke(broker, sendRequest({ topic, body: 'first', queueId: 0, defaultTopicQueueNums: 3 }));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const all = await c.invoke(broker, request(RequestCode.GET_ALL_TOPIC_CONFIG));
  const tc = (JSON.parse(all.body!.toString()) as { topicConfigTable: Record<string, { readQueueNums: number; writeQueueNums: number; perm: number }> }).topicConfigTable[topic];
  assert.ok(tc, 'the topic exists on the broker');
  assert.equal(tc.readQueueNums, 3);
  assert.equal(tc.writeQueueNums, 3);
  assert.equal(tc.perm, 6);
  const end = Date.now() + 3000;
  let route: RemotingCommand;
  do {
    route = await c.invoke(t.mq.namesrvAddr, request(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
    if (route.code === ResponseCode.SUCCESS) break;
    await sleep(20);
  } while (Date.now() < end);
  assert.equal(route.code, ResponseCode.SUCCESS, 'the broker registers the new topic with the NameServer');
  assert.deepEqual(bodies(await pull({ topic })), ['first']);
});

test('queue numbers and perm are honoured', async () => {
  await createTopic('Q2W4', 2, 4);
  // Send: queueId below max(read, write) is accepted, at or above it refused.
  assert.equal((await c.invoke(broker, sendRequest({ topic: 'Q2W4', body: 'q3', queueId: 3 }))).code, ResponseCode.SUCCESS);
  const tooHigh = await c.invoke(broker, sendRequest({ topic: 'Q2W4', body: 'q4', queueId: 4 }));
  assert.notEqual(tooHigh.code, ResponseCode.SUCCESS);
  assert.match(tooHigh.remark ?? '', /queueId\[4\] is illegal/);
  // Pull: queueId must be below readQueueNums.
  assert.equal((await pull({ topic: 'Q2W4', queueId: 1 })).code, ResponseCode.PULL_NOT_FOUND);
  const pullHigh = await pull({ topic: 'Q2W4', queueId: 2 });
  assert.notEqual(pullHigh.code, ResponseCode.SUCCESS);
  assert.notEqual(pullHigh.code, ResponseCode.PULL_NOT_FOUND);
  assert.match(pullHigh.remark ?? '', /queueId\[2\] is illegal.*readQueueNums:\[2\]/);
  const pullNeg = await pull({ topic: 'Q2W4', queueId: -1 });
  assert.match(pullNeg.remark ?? '', /illegal/);

  await createTopic('ReadOnly', 1, 1, 4);
  const ro = await c.invoke(broker, sendRequest({ topic: 'ReadOnly', body: 'x' }));
  assert.equal(ro.code, ResponseCode.NO_PERMISSION);
  assert.match(ro.remark ?? '', /ReadOnly.*forbidden/);
  assert.equal((await pull({ topic: 'ReadOnly' })).code, ResponseCode.PULL_NOT_FOUND);

  await createTopic('WriteOnly', 1, 1, 2);
  assert.equal((await c.invoke(broker, sendRequest({ topic: 'WriteOnly', body: 'x' }))).code, ResponseCode.SUCCESS);
  const wo = await pull({ topic: 'WriteOnly' });
  assert.equal(wo.code, ResponseCode.NO_PERMISSION);
  assert.match(wo.remark ?? '', /WriteOnly.*forbidden/);
});

test('system topics clients may not send to are refused with NO_PERMISSION', async () => {
  const res = await c.invoke(broker, sendRequest({ topic: 'SCHEDULE_TOPIC_XXXX', body: 'x' }));
  assert.equal(res.code, ResponseCode.NO_PERMISSION);
});

test('pull of an unknown topic is TOPIC_NOT_EXIST; without a subscription and no heartbeat it is SUBSCRIPTION_NOT_EXIST', async () => {
  const res = await pull({ topic: 'NoSuchTopicHere' });
  assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
  await createTopic('NoSub', 1, 1);
  const req = pullRequest({ topic: 'NoSub', group: 'never-heartbeated' });
  req.extFields!.sysFlag = '0';
  const noSub = await c.invoke(broker, req);
  assert.equal(noSub.code, ResponseCode.SUBSCRIPTION_NOT_EXIST);
  assert.match(noSub.remark ?? '', /heartbeat/);
});

test('serialization: a JSON client gets JSON responses, a ROCKETMQ client gets binary ones', async () => {
  await createTopic('Ser', 1, 1);
  for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
    const raw = await RawConn.open(broker);
    const reqs = [
      sendRequest({ topic: 'Ser', body: `s${st}` }, st),
      pullRequest({ topic: 'Ser' }, st),
      request(RequestCode.GET_MAX_OFFSET, { topic: 'Ser', queueId: 0 }, undefined, st),
      request(RequestCode.GET_BROKER_RUNTIME_INFO, undefined, undefined, st),
    ];
    for (const [i, r] of reqs.entries()) {
      r.opaque = i + 1;
      raw.write(encodeCommand(r));
      const res = await raw.response();
      assert.equal(res.opaque, i + 1);
      assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
      assert.equal(res.serializeType, st, `response to code ${r.code} in serialization ${st}`);
    }
    raw.destroy();
  }
  // The same connection may mix both, frame by frame.
  const raw = await RawConn.open(broker);
  const a = request(RequestCode.GET_MAX_OFFSET, { topic: 'Ser', queueId: 0 }, undefined, SerializeType.JSON);
  const b = request(RequestCode.GET_MAX_OFFSET, { topic: 'Ser', queueId: 0 }, undefined, SerializeType.ROCKETMQ);
  a.opaque = 1;
  b.opaque = 2;
  raw.write(Buffer.concat([encodeCommand(a), encodeCommand(b)]));
  const ra = await raw.response();
  const rb = await raw.response();
  assert.deepEqual([ra.serializeType, rb.serializeType], [SerializeType.JSON, SerializeType.ROCKETMQ]);
  assert.equal(ra.extFields?.offset, '2');
  assert.equal(rb.extFields?.offset, '2');
  raw.destroy();
});

test('a pull with FLAG_COMMIT_OFFSET stores the piggybacked consumer offset', async () => {
  await createTopic('CommitViaPull', 1, 1);
  const req = pullRequest({ topic: 'CommitViaPull', group: 'cvp' });
  req.extFields!.sysFlag = String(PullSysFlag.FLAG_SUBSCRIPTION | PullSysFlag.FLAG_COMMIT_OFFSET);
  req.extFields!.commitOffset = '0';
  await c.invoke(broker, sendRequest({ topic: 'CommitViaPull', body: 'x' }));
  req.extFields!.commitOffset = '1';
  assert.equal((await c.invoke(broker, req)).code, ResponseCode.SUCCESS);
  const q = await c.invoke(broker, request(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'cvp', topic: 'CommitViaPull', queueId: 0 }));
  assert.equal(q.code, ResponseCode.SUCCESS);
  assert.equal(q.extFields?.offset, '1');
});

test('autoCreateTopicEnable=false: a send to an unknown topic is TOPIC_NOT_EXIST with a helpful remark', async () => {
  const t2 = await startMQ({ brokerConfig: { autoCreateTopicEnable: false } });
  const c2 = newClient();
  try {
    const res = await c2.invoke(t2.mq.brokerAddr, sendRequest({ topic: 'NotCreatedYet', body: 'x' }));
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(res.remark ?? '', /NotCreatedYet/);
    assert.match(res.remark ?? '', /autoCreateTopicEnable|updateTopic/);
    const all = await c2.invoke(t2.mq.brokerAddr, request(RequestCode.GET_ALL_TOPIC_CONFIG));
    const table = (JSON.parse(all.body!.toString()) as { topicConfigTable: Record<string, unknown> }).topicConfigTable;
    assert.ok(!('NotCreatedYet' in table));
    assert.ok(!('TBW102' in table), 'no template topic when auto-creation is off');
  } finally {
    await c2.shutdown();
    await t2.close();
  }
});

test('the broker sets CLUSTER to its own cluster on every send, replacing what the client sent, as upstream', async () => {
  await createTopic('SendCluster', 1, 1);
  for (const sent of ['Elsewhere', 'DefaultCluster']) {
    const ext = { ...sendV2Ext({ topic: 'SendCluster', body: '' }), i: encodeProperties({ CLUSTER: sent, WAIT: 'true' }) };
    const res = await c.invoke(broker, request(RequestCode.SEND_MESSAGE_V2, ext, Buffer.from(sent)));
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  }
  const p = await pull({ topic: 'SendCluster', queueId: 0 });
  const stored = records(p).map((m) => [m.body.toString(), decodeProperties(m.properties).get('CLUSTER')]);
  assert.deepEqual(stored, [['Elsewhere', 'DefaultCluster'], ['DefaultCluster', 'DefaultCluster']]);
});
