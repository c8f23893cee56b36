import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import type * as df from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { announceProducer, createGroup, createTopic, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Priority 4: topic message types and bad input — each answered with upstream's code while
// the server keeps serving everyone else.

const MAX_BODY = 64 * 1024;
let fx: ProxyFixture;
let raw: RawClient;
const normal = uniq('BadNormal');
const group = uniq('BadG');
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({ brokerConfig: { autoCreateSubscriptionGroup: false }, storeConfig: { maxMessageSize: MAX_BODY } });
  createTopic(fx.mq, normal, 2, 'NORMAL');
  createGroup(fx.mq, group);
  raw = new RawClient(fx.mq.proxyAddr);
  // A raw client announces itself as a producer first, as the SDKs do.
  clients.push(await announceProducer(raw, [normal]));
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  raw?.close();
  await fx?.stop();
});

function message(topic: string, opts: { id?: string; body?: Buffer; type?: number; group?: string; tag?: string; props?: Record<string, string> } = {}): df.Message {
  const sp = new D.SystemProperties().setMessageId(opts.id ?? `01${Date.now().toString(16).toUpperCase().padStart(32, '0')}`)
    .setMessageType(opts.type ?? D.MessageType.NORMAL).setBodyEncoding(D.Encoding.IDENTITY);
  if (opts.group) sp.setMessageGroup(opts.group);
  if (opts.tag !== undefined) sp.setTag(opts.tag);
  const m = new D.Message().setTopic(new D.Resource().setName(topic)).setSystemProperties(sp).setBody(opts.body ?? Buffer.from('x'));
  for (const [k, v] of Object.entries(opts.props ?? {})) m.getUserPropertiesMap().set(k, v);
  return m;
}

async function send(m: df.Message): Promise<number> {
  const res = await raw.call<sv.SendMessageRequest, sv.SendMessageResponse>(raw.client.sendMessage, new S.SendMessageRequest().setMessagesList([m]));
  return res.getStatus()!.getCode();
}

test('unknown topic: QueryRoute and a send answer TOPIC_NOT_FOUND', async () => {
  const q = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName('NoSuchTopic')));
  assert.equal(q.getStatus()?.getCode(), D.Code.TOPIC_NOT_FOUND);
  assert.equal(await send(message('NoSuchTopic')), D.Code.TOPIC_NOT_FOUND);
  assert.equal(await send(message('bad topic!')), D.Code.ILLEGAL_TOPIC);
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await assert.rejects(p.send({ topic: 'NoSuchTopic', body: Buffer.from('x') }), (e: Error & { code?: number }) => e.code === D.Code.TOPIC_NOT_FOUND);
});

test('body over the limit: MESSAGE_BODY_TOO_LARGE from the server; the SDK refuses it before sending', async () => {
  assert.equal(await send(message(normal, { body: Buffer.alloc(MAX_BODY + 1) })), D.Code.MESSAGE_BODY_TOO_LARGE);
  assert.equal(await send(message(normal, { body: Buffer.alloc(0) })), D.Code.MESSAGE_BODY_EMPTY);
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic: normal, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await assert.rejects(p.send({ topic: normal, body: Buffer.alloc(MAX_BODY + 1) }), /exceeds the threshold, max size=65536/);
});

test('message type, id, tag and property checks answer upstream codes', async () => {
  assert.equal(await send(message(normal, { type: D.MessageType.FIFO, group: 'g' })), D.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
  assert.equal(await send(message(normal, { type: D.MessageType.FIFO })), D.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
  assert.equal(await send(message(normal, { id: '' })), D.Code.ILLEGAL_MESSAGE_ID);
  assert.equal(await send(message(normal, { tag: 'a|b' })), D.Code.ILLEGAL_MESSAGE_TAG);
  assert.equal(await send(message(normal, { props: { TAGS: 'sneaky' } })), D.Code.ILLEGAL_MESSAGE_PROPERTY_KEY);
  assert.equal(await send(message(normal, { tag: 'fine' })), D.Code.OK);
});

test('a malformed receipt handle is INVALID_RECEIPT_HANDLE; so is too short an invisible time ILLEGAL_INVISIBLE_TIME', async () => {
  const ack = new S.AckMessageRequest().setGroup(new D.Resource().setName(group)).setTopic(new D.Resource().setName(normal))
    .setEntriesList([new S.AckMessageEntry().setMessageId('x').setReceiptHandle('not a handle')]);
  const ackRes = await raw.call<sv.AckMessageRequest, sv.AckMessageResponse>(raw.client.ackMessage, ack);
  assert.equal(ackRes.getStatus()?.getCode(), D.Code.INVALID_RECEIPT_HANDLE);
  assert.equal(ackRes.getEntriesList()[0]?.getStatus()?.getCode(), D.Code.INVALID_RECEIPT_HANDLE);
  const change = new S.ChangeInvisibleDurationRequest().setGroup(new D.Resource().setName(group)).setTopic(new D.Resource().setName(normal))
    .setReceiptHandle('0 1 2 3').setInvisibleDuration(new (await import('google-protobuf/google/protobuf/duration_pb.js')).default.Duration().setSeconds(10));
  const changeRes = await raw.call<sv.ChangeInvisibleDurationRequest, sv.ChangeInvisibleDurationResponse>(raw.client.changeInvisibleDuration, change);
  assert.equal(changeRes.getStatus()?.getCode(), D.Code.INVALID_RECEIPT_HANDLE);

  // With the SDK: a handle whose message became visible again is refused.
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic: normal, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await p.send({ topic: normal, body: Buffer.from('h') });
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[normal, '*']]), awaitDuration: 1000, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const [m] = await c.receive(1, 1000);
  assert.ok(m);
  (m as unknown as { receiptHandle: string }).receiptHandle = 'garbage';
  await assert.rejects(c.ack(m), (e: Error & { code?: number }) => e.code === D.Code.INVALID_RECEIPT_HANDLE);
  await assert.rejects(c.changeInvisibleDuration(m, 5000), (e: Error & { code?: number }) => e.code === D.Code.INVALID_RECEIPT_HANDLE);
  await assert.rejects(c.receive(1, 100), (e: Error & { code?: number }) => e.code === D.Code.ILLEGAL_INVISIBLE_TIME);
});

test('a group that does not exist is CONSUMER_GROUP_NOT_FOUND; a missing client id is CLIENT_ID_REQUIRED', async () => {
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: 'NoSuchGroup', subscriptions: new Map([[normal, '*']]), awaitDuration: 500, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  await assert.rejects(c.receive(1, 10_000), (e: Error & { code?: number }) => e.code === D.Code.CONSUMER_GROUP_NOT_FOUND);
  const md = raw.metadata();
  md.remove('x-mq-client-id');
  const q = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(normal)), md);
  assert.equal(q.getStatus()?.getCode(), D.Code.CLIENT_ID_REQUIRED);
});

test('the server still serves after all of the above', async () => {
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic: normal, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  const sent = await p.send({ topic: normal, tag: 'ok', body: Buffer.from('still here') });
  const g = uniq('AfterG');
  createGroup(fx.mq, g);
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: g, subscriptions: new Map([[normal, 'ok']]), awaitDuration: 1000, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const got = await c.receive(32, 10_000);
  assert.ok(got.some((m) => m.messageId === sent.messageId));
  for (const m of got) await c.ack(m);
});
