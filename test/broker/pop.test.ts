import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { PopRequestCode } from '../../src/broker/pop/pop-processors.js';
import { decodeExtraInfo, encodeExtraInfo } from '../../src/broker/pop/pop-checkpoint.js';
import { popReceipts } from '../../src/remoting/protocol/pop-message-header.js';
import type { PutMessageInput } from '../../src/store/message-store.js';
import { createTopicRequest, records, request, sendRequest, useMQWithClient, type TestMQ } from './helpers.js';

// POP_MESSAGE / ACK_MESSAGE over Remoting (as a proxy in cluster mode sends them) against a real broker.

let t: TestMQ;
let c: RemotingClient;
let broker: string;
useMQWithClient((s) => ({ t, client: c, broker } = s));

async function topicWith(topic: string, n: number): Promise<void> {
  const res = await c.invoke(broker, createTopicRequest(topic, 1, 1));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  for (let i = 0; i < n; i++) {
    const s = await c.invoke(broker, sendRequest({ topic, body: `m${i}`, queueId: 0 }));
    assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
  }
}

function pop(topic: string, group: string, maxMsgNums: number, invisibleTime = 60_000, pollTime = 0): Promise<RemotingCommand> {
  return c.invoke(broker, request(PopRequestCode.POP_MESSAGE, {
    consumerGroup: group, topic, queueId: -1, maxMsgNums, invisibleTime, pollTime, bornTime: Date.now(), initMode: 0,
    expType: 'TAG', exp: '*', order: false,
  }, undefined, SerializeType.JSON)); // POP's request codes do not fit the ROCKETMQ header's 16-bit code
}

test('POP_MESSAGE asking for more than 32 messages is refused with INVALID_PARAMETER, as upstream', async () => {
  await topicWith('PopMax', 40);
  const tooMany = await pop('PopMax', 'PopMaxG', 33);
  assert.equal(tooMany.code, ResponseCode.INVALID_PARAMETER, tooMany.remark);
  assert.match(tooMany.remark ?? '', /pop message's num is greater than 32/);
  const ok = await pop('PopMax', 'PopMaxG', 32);
  assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
  assert.equal(records(ok).length, 32);
});

test('an ack arriving while the revive stores its message again is answered as expired, not OK and then redelivered', async () => {
  await topicWith('PopRace', 1);
  const popped = await pop('PopRace', 'PopRaceG', 1, 300);
  assert.equal(popped.code, ResponseCode.SUCCESS, popped.remark);
  const info = decodeExtraInfo(popReceipts(popped.extFields!, records(popped), t.mq.broker.brokerConfig.brokerName, false)[0]!.extraInfo.split(' '))!;
  // A slow disk: the revive's write to the POP retry topic is held until the ack has been answered.
  const store = t.mq.broker.messageStore;
  const put = store.putMessage.bind(store);
  let entered!: () => void;
  const reviving = new Promise<void>((r) => { entered = r; });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  store.putMessage = async (m: PutMessageInput) => {
    if (m.topic.startsWith('%RETRY%PopRaceG')) {
      entered();
      await gate;
    }
    return put(m);
  };
  try {
    await reviving;
    const ack = await c.invoke(broker, request(PopRequestCode.ACK_MESSAGE, {
      consumerGroup: 'PopRaceG', topic: 'PopRace', queueId: info.queueId, extraInfo: encodeExtraInfo(info), offset: info.queueOffset,
    }, undefined, SerializeType.JSON));
    assert.equal(ack.code, ResponseCode.NO_MESSAGE, 'the receipt expired: its message is delivered again');
  } finally {
    release();
    store.putMessage = put;
  }
  const again = await pop('PopRace', 'PopRaceG', 1, 60_000, 5000);
  assert.equal(again.code, ResponseCode.SUCCESS, again.remark);
  assert.deepEqual(records(again).map((m) => [m.body.toString(), m.reconsumeTimes]), [['m0', 1]]);
});

test('POP_MESSAGE of one queue takes only that queue; a queue id beyond the read queues is INVALID_PARAMETER, as upstream', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('PopOneQ', 2, 2))).code, ResponseCode.SUCCESS);
  for (const queueId of [0, 1, 0, 1]) {
    const s = await c.invoke(broker, sendRequest({ topic: 'PopOneQ', body: `q${queueId}`, queueId }));
    assert.equal(s.code, ResponseCode.SUCCESS, s.remark);
  }
  const popQueue = (queueId: number): Promise<RemotingCommand> => c.invoke(broker, request(PopRequestCode.POP_MESSAGE, {
    consumerGroup: 'PopOneQG', topic: 'PopOneQ', queueId, maxMsgNums: 32, invisibleTime: 60_000, pollTime: 0, bornTime: Date.now(), initMode: 0,
    expType: 'TAG', exp: '*', order: false,
  }, undefined, SerializeType.JSON));
  // The group's first pop starts each queue at its first message (still in memory).
  const one = await popQueue(1);
  assert.equal(one.code, ResponseCode.SUCCESS, one.remark);
  assert.deepEqual(records(one).map((m) => [m.queueId, m.body.toString()]), [[1, 'q1'], [1, 'q1']]);
  const bad = await popQueue(2);
  assert.equal(bad.code, ResponseCode.INVALID_PARAMETER, bad.remark);
  assert.match(bad.remark ?? '', /queueId\[2\] is illegal/);
  const zero = await popQueue(0);
  assert.deepEqual(records(zero).map((m) => [m.queueId, m.body.toString()]), [[0, 'q0'], [0, 'q0']]);
});

/**
 * Receipts as upstream's MQClientAPIImpl.processPopResponse builds them from the header alone:
 * per message, its queue's start offset (startOffsetInfo) and its own offset (msgOffsetInfo,
 * by its rank among the queue's messages), with the shared popTime, invisibleTime and reviveQid.
 */
function upstreamReceipts(res: RemotingCommand, brokerName: string): string[] {
  const ext = res.extFields!;
  const table = (text: string) => new Map<string, string>(text.split(';').map((one) => {
    const [mark, queueId, value] = one.split(' ');
    return [`${mark}@${queueId}`, value!];
  }));
  const starts = table(ext.startOffsetInfo!);
  const offsets = table(ext.msgOffsetInfo!);
  const seen = new Map<string, number>();
  return records(res).map((m) => {
    const mark = m.topic.startsWith('%RETRY%') ? '1' : '0';
    const key = `${mark}@${m.queueId}`;
    const rank = seen.get(key) ?? 0;
    seen.set(key, rank + 1);
    const offset = offsets.get(key)!.split(',')[rank];
    assert.equal(Number(offset), m.queueOffset, 'msgOffsetInfo lists the messages in body order');
    return [starts.get(key), ext.popTime, ext.invisibleTime, ext.reviveQid, mark, brokerName, m.queueId, offset].join(' ');
  });
}

test('a POP response lets upstream clients build each receipt from its header; they ack retried messages under the retry topic', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('PopUp', 2, 2))).code, ResponseCode.SUCCESS);
  for (const queueId of [0, 1, 0, 1, 0]) {
    assert.equal((await c.invoke(broker, sendRequest({ topic: 'PopUp', body: `q${queueId}`, queueId }))).code, ResponseCode.SUCCESS);
  }
  const brokerName = t.mq.broker.brokerConfig.brokerName;
  const first = await pop('PopUp', 'PopUpG', 32, 1000);
  assert.equal(first.code, ResponseCode.SUCCESS, first.remark);
  assert.equal(records(first).length, 5);
  const ours = popReceipts(first.extFields!, records(first), brokerName, false).map((r) => r.extraInfo);
  assert.deepEqual(upstreamReceipts(first, brokerName), ours, 'the same receipts both ways');
  assert.ok(ours.every((r) => decodeExtraInfo(r.split(' '))), 'receipts the broker reads');
  assert.equal(new Set(ours.map((r) => r.split(' ')[1])).size, 1, 'one pop time for every queue of the pop');
  // Ack all but one as an upstream client does (topic from the record, offset from the receipt).
  const ack = (topic: string, receipt: string) => {
    const f = receipt.split(' ');
    return c.invoke(broker, request(PopRequestCode.ACK_MESSAGE, {
      consumerGroup: 'PopUpG', topic, queueId: Number(f[6]), extraInfo: receipt, offset: Number(f[7]),
    }, undefined, SerializeType.JSON));
  };
  const receipts = upstreamReceipts(first, brokerName);
  for (const r of receipts.slice(1)) assert.equal((await ack('PopUp', r)).code, ResponseCode.SUCCESS);
  // The unacked one comes back from the group's POP retry topic once its invisible time is over.
  const again = await pop('PopUp', 'PopUpG', 32, 60_000, 10_000);
  assert.equal(again.code, ResponseCode.SUCCESS, again.remark);
  const [retried] = records(again);
  assert.equal(retried?.topic, '%RETRY%PopUpG_PopUp');
  assert.equal(retried?.reconsumeTimes, 1);
  const [receipt] = upstreamReceipts(again, brokerName);
  assert.equal(receipt!.split(' ')[4], '1', 'marked as a retry');
  assert.equal((await ack(retried!.topic, receipt!)).code, ResponseCode.SUCCESS);
  // Acked under the retry topic's name: it does not come back.
  const none = await pop('PopUp', 'PopUpG', 32, 60_000, 2500);
  assert.equal(none.code, ResponseCode.POLLING_TIMEOUT, `nothing left: ${records(none).map((m) => m.body.toString()).join()}`);
});

/** Upstream `BitSet.toByteArray()` of these bits, base64 as fastjson writes a byte[]. */
function bitSetBase64(bits: number[]): string {
  const bytes = Buffer.alloc(Math.floor(Math.max(...bits) / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 1 << (b & 7);
  return bytes.toString('base64');
}

test('BATCH_ACK_MESSAGE, as upstream\'s proxy acks: the acked messages never come back, the others do', async () => {
  assert.equal((await c.invoke(broker, createTopicRequest('PopBatch', 2, 2))).code, ResponseCode.SUCCESS);
  for (const queueId of [0, 1, 0, 1, 0]) {
    assert.equal((await c.invoke(broker, sendRequest({ topic: 'PopBatch', body: `b${queueId}`, queueId }))).code, ResponseCode.SUCCESS);
  }
  const brokerName = t.mq.broker.brokerConfig.brokerName;
  const popped = await pop('PopBatch', 'PopBatchG', 32, 1500);
  const receipts = upstreamReceipts(popped, brokerName).map((r) => r.split(' '));
  assert.equal(receipts.length, 5);
  // Upstream MQClientAPIImpl.batchAckMessageAsync: one BatchAck per check point, offsets as bits
  // from its start. All but the last receipt are acked.
  const groups = new Map<string, { f: string[]; bits: number[] }>();
  for (const f of receipts.slice(0, -1)) {
    const key = `${f[4]}@${f[6]}@${f[0]}@${f[1]}`;
    const g = groups.get(key) ?? { f, bits: [] };
    g.bits.push(Number(f[7]) - Number(f[0]));
    groups.set(key, g);
  }
  const acks = [...groups.values()].map(({ f, bits }) => ({
    c: 'PopBatchG', t: 'PopBatch', r: f[4], so: Number(f[0]), q: Number(f[6]), rq: Number(f[3]), pt: Number(f[1]), it: Number(f[2]), b: bitSetBase64(bits),
  }));
  const batch = (body: unknown) => c.invoke(broker, request(PopRequestCode.BATCH_ACK_MESSAGE, {}, Buffer.from(JSON.stringify(body)), SerializeType.JSON));
  const res = await batch({ brokerName, acks });
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  // Bad bodies: refused with the reason; no acks: NO_MESSAGE, as upstream.
  const bad = await batch({ acks: [{ c: 'PopBatchG' }] });
  assert.equal(bad.code, ResponseCode.INVALID_PARAMETER);
  assert.match(bad.remark ?? '', /acks\[0\]/);
  assert.equal((await batch({ brokerName, acks: [] })).code, ResponseCode.NO_MESSAGE);
  const huge = await batch({ brokerName, acks: [{ ...acks[0], b: Buffer.alloc(100_000, 0xff).toString('base64') }] });
  assert.equal(huge.code, ResponseCode.INVALID_PARAMETER);
  assert.match(huge.remark ?? '', /more than 65536/);
  const again = await pop('PopBatch', 'PopBatchG', 32, 60_000, 10_000);
  assert.equal(again.code, ResponseCode.SUCCESS, again.remark);
  const [back] = records(again);
  assert.equal(records(again).length, 1);
  assert.equal(back!.body.toString(), `b${receipts[4]![6]}`);
  const none = await pop('PopBatch', 'PopBatchG', 32, 60_000, 2500);
  assert.equal(none.code, ResponseCode.POLLING_TIMEOUT, `nothing else comes back: ${records(none).map((m) => m.body.toString()).join()}`);
});
