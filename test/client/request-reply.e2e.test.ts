import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { Message, type MessageExt } from '../../src/client/message.js';
import { createReplyMessage } from '../../src/client/request-reply.js';
import { RequestFutureHolder } from '../../src/client/request-future-holder.js';
import type { RequestOptions } from '../../src/client/producer.js';
import { ClientErrorCode, MQClientError } from '../../src/client/errors.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { MQClientAPI, PullStatus } from '../../src/client/mq-client-api.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { MessageConst } from '../../src/common/message-const.js';
import { encodeProperties } from '../../src/common/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createRequest } from '../../src/remoting/command.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { encodeReplyMessageRequestHeader } from '../../src/remoting/protocol/index.js';
import type { BrokerController } from '../../src/broker/broker-controller.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { request, sendV2Ext } from '../broker/helpers.js';
import { skip, useStandalone, type Standalone } from './standalone-fixture.js';
import { createTopic, waitUntil } from './helpers.js';

// Request-reply (upstream DefaultMQProducer.request / MessageUtil.createReplyMessage) through a
// real NameServer + Broker: the broker pushes each reply to the producer that asked.

let mq: Standalone;
let requester: Producer;
let replier: Producer;
let responder: PushConsumer;
let api: MQClientAPI;
let reader: PullConsumer;
const stamp = Date.now();
const TOPIC = `RequestReply_${stamp}`;
const REPLY_TOPIC = 'DefaultCluster_REPLY_TOPIC';
const served: MessageExt[] = [];

/** Every reply stored in the reply topic so far. */
async function storedReplies(): Promise<MessageExt[]> {
  const out: MessageExt[] = [];
  let offset = 0;
  for (;;) {
    const r = await reader.pull({ topic: REPLY_TOPIC, brokerName: 'broker-a', queueId: 0 }, '*', offset, 32);
    if (r.pullStatus !== PullStatus.FOUND) return out;
    out.push(...r.msgFoundList);
    offset = r.nextBeginOffset;
  }
}

useStandalone('rmq-request-reply-', {
  async started(s) {
    mq = s;
    api = new MQClientAPI();
    reader = new PullConsumer({ group: 'RR_READER', namesrvAddr: mq.namesrvAddr });
    await reader.start();
    await createTopic(mq.namesrvAddr, mq.brokerAddr, TOPIC, 4);
    requester = new Producer({ group: 'RR_REQUESTER', namesrvAddr: mq.namesrvAddr });
    replier = new Producer({ group: 'RR_REPLIER', namesrvAddr: mq.namesrvAddr });
    await requester.start();
    await replier.start();
    responder = new PushConsumer({ group: `RR_RESPONDER_${stamp}`, namesrvAddr: mq.namesrvAddr, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
    responder.subscribe(TOPIC, '*');
    responder.registerMessageListenerConcurrently(async (msgs) => {
      for (const m of msgs) {
        served.push(m);
        if (m.propertyMap.get('silent') === 'true') continue;
        await replier.send(createReplyMessage(m, `re:${m.body.toString()}`));
      }
    });
    await responder.start();
  },
  async stopping() {
    await responder?.shutdown();
    await requester?.shutdown();
    await replier?.shutdown();
    await api?.shutdown();
    await reader?.shutdown();
  },
});

test('request() resolves with the consumer\'s reply, correlated, in the queue and selector forms and many at once', { skip }, async () => {
  const first = await requester.request(new Message(TOPIC, 'ping', { tags: 'Q' }), { timeout: 15_000 });
  assert.equal(first.body.toString(), 're:ping');
  assert.equal(first.topic, REPLY_TOPIC);
  assert.equal(first.propertyMap.get(MessageConst.MESSAGE_TYPE), 'reply');
  assert.equal(first.propertyMap.get(MessageConst.REPLY_TO_CLIENT), requester.clientId);
  assert.equal(first.propertyMap.get(MessageConst.TTL), '15000');
  assert.ok(Number(first.propertyMap.get(MessageConst.ARRIVE_TIME)) > 0);
  assert.ok(Number(first.propertyMap.get(MessageConst.PUSH_REPLY_TIME)) > 0);
  const asked = served.find((m) => m.body.toString() === 'ping')!;
  assert.equal(first.propertyMap.get(MessageConst.CORRELATION_ID), asked.propertyMap.get(MessageConst.CORRELATION_ID));

  const queues = await requester.fetchPublishMessageQueues(TOPIC);
  const toQueue = await requester.request(new Message(TOPIC, 'to-queue-2'), { queue: queues[2], timeout: 10_000 });
  assert.equal(toQueue.body.toString(), 're:to-queue-2');
  assert.equal(served.find((m) => m.body.toString() === 'to-queue-2')!.queueId, 2);
  const selected = await requester.request(new Message(TOPIC, 'selected'), { selector: (qs, _m, arg) => qs[arg as number]!, arg: 3, timeout: 10_000 });
  assert.equal(selected.body.toString(), 're:selected');
  assert.equal(served.find((m) => m.body.toString() === 'selected')!.queueId, 3);

  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => requester.request(new Message(TOPIC, `n${i}`), { timeout: 15_000 })));
  assert.deepEqual(replies.map((r) => r.body.toString()), Array.from({ length: 20 }, (_, i) => `re:n${i}`));
});

test('a reply is also stored in the cluster\'s reply topic (storeReplyMessageEnable)', { skip }, async () => {
  const reply = await requester.request(new Message(TOPIC, 'stored'), { timeout: 10_000 });
  const id = reply.propertyMap.get(MessageConst.CORRELATION_ID);
  await waitUntil(async () => (await storedReplies()).some((m) => m.body.toString() === 're:stored' && m.propertyMap.get(MessageConst.CORRELATION_ID) === id), 'the reply stored in the reply topic');
});

test('the callback form: onSuccess gets the reply, onException the timeout; with a queue too; a throwing callback is contained', { skip }, async () => {
  const outcome = (msg: Message, opts: RequestOptions): Promise<{ reply?: MessageExt; err?: Error }> => new Promise((resolve) => {
    const r: unknown = requester.request(msg, { onSuccess: (reply) => resolve({ reply }), onException: (err) => resolve({ err }) }, opts);
    assert.equal(r, undefined, 'the callback form returns nothing');
  });
  const answered = await outcome(new Message(TOPIC, 'cb'), { timeout: 10_000 });
  assert.equal(answered.reply?.body.toString(), 're:cb');
  assert.equal(answered.reply.propertyMap.get(MessageConst.CORRELATION_ID), served.find((m) => m.body.toString() === 'cb')!.propertyMap.get(MessageConst.CORRELATION_ID));

  const queues = await requester.fetchPublishMessageQueues(TOPIC);
  const toQueue = await outcome(new Message(TOPIC, 'cb-queue-1'), { queue: queues[1], timeout: 10_000 });
  assert.equal(toQueue.reply?.body.toString(), 're:cb-queue-1');
  assert.equal(served.find((m) => m.body.toString() === 'cb-queue-1')!.queueId, 1);

  const unanswered = await outcome(new Message(TOPIC, 'cb-unanswered', { properties: { silent: 'true' } }), { timeout: 1000 });
  assert.ok(unanswered.err instanceof MQClientError && unanswered.err.code === ClientErrorCode.REQUEST_TIMEOUT, String(unanswered.err));

  await new Promise<void>((resolve) => requester.request(new Message(TOPIC, 'cb-throws'), {
    onSuccess: () => { resolve(); throw new Error('a bug in the callback'); },
    onException: () => resolve(),
  }, { timeout: 10_000 }));
  assert.equal((await requester.request(new Message(TOPIC, 'cb-after'), { timeout: 10_000 })).body.toString(), 're:cb-after');
  assert.equal(RequestFutureHolder.instance.size(requester), 0);
});

test('a request nobody answers rejects with REQUEST_TIMEOUT after its timeout; a request that cannot be sent says why', { skip }, async () => {
  const t0 = Date.now();
  await assert.rejects(requester.request(new Message(TOPIC, 'unanswered', { properties: { silent: 'true' } }), { timeout: 1500 }),
    (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.REQUEST_TIMEOUT && /OK, but wait reply message timeout, 1500 ms/.test(e.message));
  assert.ok(Date.now() - t0 >= 1400, 'not before the timeout');
  assert.equal(RequestFutureHolder.instance.size(requester), 0, 'the timed-out request left the table');
  await waitUntil(() => served.some((m) => m.body.toString() === 'unanswered'), 'the unanswered request delivered');
  await assert.rejects(requester.request(new Message('Bad Topic!', 'x'), { timeout: 2000 }),
    (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.REQUEST_FAILED && /send request message to <Bad Topic!> fail/.test(e.message));
  // The producer still works after both.
  assert.equal((await requester.request(new Message(TOPIC, 'after'), { timeout: 10_000 })).body.toString(), 're:after');
});

test('createReplyMessage needs a stored request (CLUSTER property)', { skip }, () => {
  assert.throws(() => createReplyMessage({ propertyMap: new Map([[MessageConst.CORRELATION_ID, 'c']]) }, 'x'),
    (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.CREATE_REPLY_MESSAGE && /property\[CLUSTER\] is null/.test(e.message));
});

test('bad replies: unknown requester, no REPLY_TO_CLIENT, a header without fields: clear errors, the broker keeps serving', { skip }, async () => {
  const raw = new RemotingClient();
  try {
    const reply = (properties: Record<string, string>) => request(RequestCode.SEND_REPLY_MESSAGE_V2,
      { ...sendV2Ext({ topic: REPLY_TOPIC, body: 'r' }), i: encodeProperties({ MSG_TYPE: 'reply', CORRELATION_ID: 'c-1', ...properties }) }, Buffer.from('orphan'));
    const gone = await raw.invoke(mq.brokerAddr, reply({ REPLY_TO_CLIENT: '10.0.0.9@gone' }));
    assert.equal(gone.code, ResponseCode.SYSTEM_ERROR);
    assert.match(gone.remark ?? '', /channel of <10\.0\.0\.9@gone> not found/);
    const noClient = await raw.invoke(mq.brokerAddr, reply({}));
    assert.equal(noClient.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noClient.remark ?? '', /properties\[REPLY_TO_CLIENT\] is null/);
    // As upstream, the broker stores a reply even when it cannot push it.
    await waitUntil(async () => (await storedReplies()).filter((m) => m.body.toString() === 'orphan').length === 2, 'both orphan replies stored');
    const bare = await raw.invoke(mq.brokerAddr, request(RequestCode.SEND_REPLY_MESSAGE, {}, Buffer.from('x')));
    assert.notEqual(bare.code, ResponseCode.SUCCESS);
    assert.match(bare.remark ?? '', /producerGroup|topic/);
  } finally {
    await raw.shutdown();
  }
  assert.equal((await requester.request(new Message(TOPIC, 'still'), { timeout: 10_000 })).body.toString(), 're:still');
});

test('producers given one instanceName (one client id) each get their own replies', { skip }, async () => {
  // The broker pushes a reply to the first connection it finds for the client id; upstream's
  // process-wide RequestFutureHolder lets the sibling that receives it complete the request.
  const twins = ['A', 'B'].map((g) => new Producer({ group: `RR_TWIN_${g}`, namesrvAddr: mq.namesrvAddr, instanceName: `twin-${stamp}` }));
  try {
    for (const p of twins) await p.start();
    assert.equal(twins[0]!.clientId, twins[1]!.clientId);
    const replies = await Promise.all(twins.map((p, i) => p.request(new Message(TOPIC, `twin${i}`), { timeout: 8000 })));
    assert.deepEqual(replies.map((r) => r.body.toString()), ['re:twin0', 're:twin1']);
  } finally {
    for (const p of twins) await p.shutdown();
  }
});

test('a reply to a producer that has left is refused with SYSTEM_ERROR (channel not found); the broker keeps serving', { skip }, async () => {
  const gone = new Producer({ group: 'RR_GONE', namesrvAddr: mq.namesrvAddr });
  await gone.start();
  const asked = gone.request(new Message(TOPIC, 'departed', { properties: { silent: 'true' } }), { timeout: 1000 });
  await assert.rejects(asked, (e: unknown) => e instanceof MQClientError && e.code === ClientErrorCode.REQUEST_TIMEOUT);
  const pending = gone.request(new Message(TOPIC, 'pending at shutdown', { properties: { silent: 'true' } }), { timeout: 60_000 })
    .then(() => assert.fail('no reply was sent'), (e: unknown) => e);
  await waitUntil(() => served.some((m) => m.body.toString() === 'pending at shutdown'), 'the pending request delivered');
  await gone.shutdown();
  const stopped = await pending;
  assert.ok(stopped instanceof MQClientError && stopped.code === ClientErrorCode.NOT_STARTED, String(stopped));
  assert.equal(RequestFutureHolder.instance.size(gone), 0, 'shutdown leaves no request of the producer waiting');
  await waitUntil(() => served.some((m) => m.body.toString() === 'departed'), 'the departed producer\'s request delivered');
  const request = served.find((m) => m.body.toString() === 'departed')!;
  await assert.rejects(replier.send(createReplyMessage(request, 'too late')),
    (e: unknown) => e instanceof MQBrokerError && e.responseCode === ResponseCode.SYSTEM_ERROR
      && e.message.includes(`channel of <${gone.clientId}> not found`));
  assert.equal((await requester.request(new Message(TOPIC, 'served on'), { timeout: 10_000 })).body.toString(), 're:served on');
});

test('a pushed reply the producer cannot read is answered SYSTEM_ERROR naming the missing field; one matching no request is taken', { skip }, async () => {
  const broker = (mq as unknown as { broker: BrokerController }).broker;
  const channel = broker.producerManager.findChannel(requester.clientId);
  assert.ok(channel, 'the requester is registered with the broker');
  const bad = await channel.conn.invoke(createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, { extFields: { topic: REPLY_TOPIC } }), 5000);
  assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
  assert.match(bad.remark ?? '', /process reply message fail.*producerGroup/);
  const orphan = await channel.conn.invoke(createRequest(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, {
    extFields: encodeReplyMessageRequestHeader({
      producerGroup: 'g', topic: REPLY_TOPIC, defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 0, sysFlag: 0, bornTimestamp: Date.now(), flag: 0,
      properties: encodeProperties({ [MessageConst.CORRELATION_ID]: 'nobody-asked', MSG_TYPE: 'reply' }), unitMode: false,
      bornHost: '127.0.0.1:1', storeHost: broker.address, storeTimestamp: Date.now(),
    }),
    body: Buffer.from('orphan'),
  }), 5000);
  assert.equal(orphan.code, ResponseCode.SUCCESS);
  assert.equal((await requester.request(new Message(TOPIC, 'readable'), { timeout: 10_000 })).body.toString(), 're:readable');
});
