import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { decodeProperties } from '../../src/common/properties.js';
import type { MessageExt } from '../../src/common/message-record.js';
import { createTopicRequest, pullRequest, records, request, sendRequest, sleep, useMQWithClient, type MQWithClient } from './helpers.js';

// CONSUMER_SEND_MSG_BACK (36) checks and the ORIGIN_MESSAGE_ID it stores, as upstream's
// AbstractSendMessageProcessor#consumerSendMsgBack.

let s: MQWithClient;
useMQWithClient((x) => { s = x; });

async function invoke(req: RemotingCommand): Promise<RemotingCommand> {
  return s.client.invoke(s.broker, req, 5000);
}

/** Sends one message to `topic` and returns the CommitLog offset of its stored copy. */
async function sendOne(topic: string, body: string): Promise<{ commitLogOffset: number; offsetMsgId: string; uniqKey: string }> {
  const res = await invoke(sendRequest({ topic, body, queueId: 0 }));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const pulled = records(await invoke(pullRequest({ topic, group: 'reader' })));
  const m = pulled.find((r) => r.body.toString() === body)!;
  assert.ok(m, 'the sent message is readable');
  return { commitLogOffset: m.commitLogOffset, offsetMsgId: m.offsetMsgId, uniqKey: res.extFields?.msgId ?? '' };
}

function sendBack(group: string, offset: number, extra: Record<string, string | number> = {}): RemotingCommand {
  return request(RequestCode.CONSUMER_SEND_MSG_BACK, { offset, group, delayLevel: 0, originTopic: 'x', maxReconsumeTimes: 16, ...extra });
}

async function pullUntil(topic: string, group: string, n: number): Promise<MessageExt[]> {
  const end = Date.now() + 5000;
  let got: MessageExt[] = [];
  while (Date.now() < end) {
    got = records(await invoke(pullRequest({ topic, group })));
    if (got.length >= n) break;
    await sleep(20);
  }
  return got;
}

test("ORIGIN_MESSAGE_ID is the stored message's id, not the originMsgId the consumer sends", async () => {
  const m = await sendOne('SendBackOrigin', 'origin-body');
  // A Java consumer sends msg.getMsgId(): the unique key the producer set, not the stored id.
  const res = await invoke(sendBack('CG-origin', m.commitLogOffset, { delayLevel: -1, originMsgId: 'C0A80001000000000000000000000001' }));
  assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  const [dead] = await pullUntil('%DLQ%CG-origin', 'dlq-reader', 1);
  assert.ok(dead, 'the message reached the DLQ');
  const props = decodeProperties(dead.properties);
  assert.equal(props.get('ORIGIN_MESSAGE_ID'), m.offsetMsgId);
  assert.equal(props.get('RETRY_TOPIC'), 'SendBackOrigin');
});

test('a retry topic without write permission refuses the message with NO_PERMISSION', async () => {
  const m = await sendOne('SendBackPerm', 'perm-body');
  const created = await invoke(createTopicRequest('%RETRY%CG-readonly', 1, 1, 4));
  assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
  const res = await invoke(sendBack('CG-readonly', m.commitLogOffset));
  assert.equal(res.code, ResponseCode.NO_PERMISSION);
  assert.equal(res.remark, 'the topic[%RETRY%CG-readonly] sending message is forbidden');
});

test('a broker without write permission refuses CONSUMER_SEND_MSG_BACK with NO_PERMISSION', async () => {
  const m = await sendOne('SendBackBrokerPerm', 'broker-perm-body');
  const upd = await invoke(request(RequestCode.UPDATE_BROKER_CONFIG, {}, Buffer.from('brokerPermission=4\n')));
  assert.equal(upd.code, ResponseCode.SUCCESS, upd.remark);
  try {
    const res = await invoke(sendBack('CG-brokerperm', m.commitLogOffset));
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark ?? '', /^the broker\[.*\] sending message is forbidden$/);
    assert.equal(s.t.mq.broker.topicConfigManager.get('%RETRY%CG-brokerperm'), undefined, 'nothing was created for it');
  } finally {
    const back = await invoke(request(RequestCode.UPDATE_BROKER_CONFIG, {}, Buffer.from('brokerPermission=6\n')));
    assert.equal(back.code, ResponseCode.SUCCESS, back.remark);
  }
  assert.equal((await invoke(sendBack('CG-brokerperm', m.commitLogOffset))).code, ResponseCode.SUCCESS, 'writable again: taken back');
});
