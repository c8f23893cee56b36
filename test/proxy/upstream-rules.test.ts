import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import DurationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import type * as df from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { PermName } from '../../src/common/perm.js';
import { newTopicConfig } from '../../src/broker/topic-config-manager.js';
import { announceProducer, createGroup, createTopic, eventually, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Rules of upstream's proxy (proxy/.../grpc/v2: GrpcValidator, SendMessageActivity,
// RouteActivity) a 5.x client meets: which input is refused with which code, which is accepted,
// and what the answers carry. Raw gRPC calls, so the exact codes show.

let fx: ProxyFixture;
let raw: RawClient;
const normal = uniq('RuleNormal');
const fifo = uniq('RuleFifo');
const tx = uniq('RuleTx');
const group = uniq('RuleG');
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({ brokerConfig: { autoCreateSubscriptionGroup: false } });
  createTopic(fx.mq, normal, 2, 'NORMAL');
  createTopic(fx.mq, fifo, 4, 'FIFO');
  createTopic(fx.mq, tx, 1, 'TRANSACTION');
  createGroup(fx.mq, group);
  raw = new RawClient(fx.mq.proxyAddr);
  clients.push(await announceProducer(raw, [normal, fifo, tx]));
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  raw?.close();
  await fx?.stop();
});

let idSeq = 0;
interface MessageOpts {
  type?: number; group?: string; tag?: string; keys?: string[]; body?: Buffer; gzip?: boolean; recoverySeconds?: number; bornHost?: string;
}
function message(topic: string, o: MessageOpts = {}): df.Message {
  const sp = new D.SystemProperties().setMessageId(`01${(Date.now() * 1000 + idSeq++).toString(16).toUpperCase().padStart(32, '0')}`)
    .setMessageType(o.type ?? D.MessageType.NORMAL).setBodyEncoding(o.gzip ? D.Encoding.GZIP : D.Encoding.IDENTITY);
  if (o.group !== undefined) sp.setMessageGroup(o.group);
  if (o.tag !== undefined) sp.setTag(o.tag);
  if (o.keys) sp.setKeysList(o.keys);
  if (o.bornHost !== undefined) sp.setBornHost(o.bornHost);
  if (o.recoverySeconds !== undefined) sp.setOrphanedTransactionRecoveryDuration(new DurationPb.Duration().setSeconds(o.recoverySeconds));
  return new D.Message().setTopic(new D.Resource().setName(topic)).setSystemProperties(sp).setBody(o.body ?? Buffer.from('x'));
}

async function sendAll(msgs: df.Message[]): Promise<sv.SendMessageResponse> {
  return raw.call<sv.SendMessageRequest, sv.SendMessageResponse>(raw.client.sendMessage, new S.SendMessageRequest().setMessagesList(msgs));
}
async function send(m: df.Message): Promise<{ code: number; message: string }> {
  const s = (await sendAll([m])).getStatus()!;
  return { code: s.getCode(), message: s.getMessage() };
}

/** One ReceiveMessage over the raw client: the status code and the messages. */
function receive(topic: string, grp: string, pollSeconds = 0): Promise<{ code: number; messages: df.Message[] }> {
  const req = new S.ReceiveMessageRequest().setGroup(new D.Resource().setName(grp))
    .setMessageQueue(new D.MessageQueue().setTopic(new D.Resource().setName(topic)).setId(-1))
    .setFilterExpression(new D.FilterExpression().setType(D.FilterType.TAG).setExpression('*')).setBatchSize(32).setAutoRenew(false)
    .setInvisibleDuration(new DurationPb.Duration().setSeconds(30))
    .setLongPollingTimeout(new DurationPb.Duration().setSeconds(pollSeconds));
  return new Promise((resolve, reject) => {
    let code = -1;
    const messages: df.Message[] = [];
    const call = raw.client.receiveMessage(req, raw.metadata(), { deadline: Date.now() + 15_000 });
    call.on('data', (r: sv.ReceiveMessageResponse) => {
      if (r.hasStatus()) code = r.getStatus()!.getCode();
      if (r.hasMessage()) messages.push(r.getMessage()!);
    });
    call.on('error', reject);
    call.on('end', () => resolve({ code, messages }));
  });
}

/** Receives from a fresh group of `topic` until a message comes. */
async function receiveOne(topic: string): Promise<df.Message> {
  const g = uniq('RuleRecvG');
  createGroup(fx.mq, g);
  return eventually(async () => (await receive(topic, g, 1)).messages[0], 10_000, `a message of ${topic}`);
}

const res = (name: string): df.Resource => new D.Resource().setName(name);

test('system topics and groups are refused on every RPC with ILLEGAL_TOPIC / ILLEGAL_CONSUMER_GROUP, as upstream GrpcValidator', async () => {
  for (const sys of ['TBW102', 'RMQ_SYS_TRANS_HALF_TOPIC', 'SCHEDULE_TOPIC_XXXX', 'rmq_sys_wheel_timer']) {
    const q = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(res(sys)));
    assert.equal(q.getStatus()?.getCode(), D.Code.ILLEGAL_TOPIC, `QueryRoute ${sys}: ${q.getStatus()?.getMessage()}`);
    assert.match(q.getStatus()!.getMessage(), /cannot access system topic/);
  }
  const a = await raw.call<sv.QueryAssignmentRequest, sv.QueryAssignmentResponse>(raw.client.queryAssignment,
    new S.QueryAssignmentRequest().setTopic(res('TBW102')).setGroup(res(group)));
  assert.equal(a.getStatus()?.getCode(), D.Code.ILLEGAL_TOPIC);
  assert.equal((await receive('RMQ_SYS_TRANS_HALF_TOPIC', group)).code, D.Code.ILLEGAL_TOPIC);
  assert.equal((await receive(normal, 'CID_RMQ_SYS_TRANS')).code, D.Code.ILLEGAL_CONSUMER_GROUP);
  const ack = await raw.call<sv.AckMessageRequest, sv.AckMessageResponse>(raw.client.ackMessage, new S.AckMessageRequest()
    .setTopic(res(normal)).setGroup(res('CID_RMQ_SYS_REVIVE_GROUP')).setEntriesList([new S.AckMessageEntry().setMessageId('x').setReceiptHandle('x')]));
  assert.equal(ack.getStatus()?.getCode(), D.Code.ILLEGAL_CONSUMER_GROUP);
  assert.equal((await send(message('TBW102'))).code, D.Code.ILLEGAL_TOPIC);
  // Ordinary names are still served.
  const ok = await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(res(normal)));
  assert.equal(ok.getStatus()?.getCode(), D.Code.OK);
});

test('QueryAssignment: a FIFO group gets one assignment per readable queue, others one per broker (id −1), with the queue permission', async () => {
  const orderly = uniq('RuleOrderlyG');
  createGroup(fx.mq, orderly, { consumeMessageOrderly: true });
  const assignments = async (topic: string, grp: string): Promise<Array<[number, number]>> => {
    const r = await raw.call<sv.QueryAssignmentRequest, sv.QueryAssignmentResponse>(raw.client.queryAssignment,
      new S.QueryAssignmentRequest().setTopic(res(topic)).setGroup(res(grp)));
    assert.equal(r.getStatus()?.getCode(), D.Code.OK, r.getStatus()?.getMessage());
    return r.getAssignmentsList().map((x) => [x.getMessageQueue()!.getId(), x.getMessageQueue()!.getPermission()]);
  };
  assert.deepEqual(await assignments(fifo, orderly), [0, 1, 2, 3].map((i) => [i, D.Permission.READ_WRITE]));
  assert.deepEqual(await assignments(fifo, group), [[-1, D.Permission.READ_WRITE]]);
  // A read-only topic is assigned READ, not READ_WRITE.
  const readOnly = uniq('RuleReadOnly');
  const tc = newTopicConfig(readOnly, 2, 2);
  tc.perm = PermName.PERM_READ;
  tc.attributes = { 'message.type': 'NORMAL' };
  fx.mq.broker.topicConfigManager.update(tc);
  assert.deepEqual(await assignments(readOnly, group), [[-1, D.Permission.READ]]);
  assert.deepEqual(await assignments(readOnly, orderly), [[0, D.Permission.READ], [1, D.Permission.READ]]);
});

test('keys, tags and message groups: empty is absent, a key may hold a space, blank or oversized is refused', async () => {
  // Accepted by upstream: an empty tag, empty keys, a key with a space, an empty message group.
  const ok = await send(message(normal, { tag: '', keys: ['', 'order 42'], group: '', body: Buffer.from('lenient') }));
  assert.equal(ok.code, D.Code.OK, ok.message);
  const got = await receiveOne(normal);
  const sp = got.getSystemProperties()!;
  assert.equal(Buffer.from(got.getBody_asU8()).toString(), 'lenient');
  assert.equal(sp.hasTag(), false);
  assert.deepEqual(sp.getKeysList(), ['order', '42']);
  assert.equal(sp.hasMessageGroup(), false);
  assert.equal(sp.getMessageType(), D.MessageType.NORMAL);

  // A group must stay under 64 bytes (upstream `>= maxMessageGroupSize` fails) and not be blank.
  const g63 = 'g'.repeat(63);
  assert.equal((await send(message(fifo, { type: D.MessageType.FIFO, group: g63 }))).code, D.Code.OK);
  assert.equal((await send(message(fifo, { type: D.MessageType.FIFO, group: 'g'.repeat(64) }))).code, D.Code.ILLEGAL_MESSAGE_GROUP);
  assert.equal((await send(message(fifo, { type: D.MessageType.FIFO, group: '   ' }))).code, D.Code.ILLEGAL_MESSAGE_GROUP);
  assert.equal((await send(message(normal, { keys: ['  '] }))).code, D.Code.ILLEGAL_MESSAGE_KEY);
  // Java's ISO control set includes C1 (U+0080–U+009F).
  assert.equal((await send(message(normal, { tag: 'a\u0085b' }))).code, D.Code.ILLEGAL_MESSAGE_TAG);
  assert.equal((await send(message(normal, { keys: ['k\u009f'] }))).code, D.Code.ILLEGAL_MESSAGE_KEY);
});

test('SendMessage: no message or mixed topics is MESSAGE_CORRUPTED; too long a transaction recovery is BAD_REQUEST', async () => {
  const empty = await sendAll([]);
  assert.equal(empty.getStatus()?.getCode(), D.Code.MESSAGE_CORRUPTED);
  const mixed = await sendAll([message(normal), message(fifo, { type: D.MessageType.FIFO, group: 'g' })]);
  assert.equal(mixed.getStatus()?.getCode(), D.Code.MESSAGE_CORRUPTED);
  assert.match(mixed.getStatus()!.getMessage(), /topic in message is not same/);
  const long = await send(message(tx, { type: D.MessageType.TRANSACTION, recoverySeconds: 3601 }));
  assert.equal(long.code, D.Code.BAD_REQUEST, long.message);
  const hour = await send(message(tx, { type: D.MessageType.TRANSACTION, recoverySeconds: 3600 }));
  assert.equal(hour.code, D.Code.OK, hour.message);
});

test('a GZIP-encoded body is stored inflated: the consumer gets the original bytes; a body that is not gzip is MESSAGE_CORRUPTED', async () => {
  const topic = uniq('RuleGzip');
  createTopic(fx.mq, topic, 1, 'NORMAL');
  const original = Buffer.from('compressible '.repeat(500));
  const sent = await send(message(topic, { body: gzipSync(original), gzip: true }));
  assert.equal(sent.code, D.Code.OK, sent.message);
  const got = await receiveOne(topic);
  const sp = got.getSystemProperties()!;
  assert.ok(Buffer.from(got.getBody_asU8()).equals(original), 'the body arrives inflated');
  assert.equal(sp.getBodyEncoding(), D.Encoding.IDENTITY);
  assert.equal(sp.getBodyDigest()?.getChecksum(), createHash('md5').update(original).digest('hex').toUpperCase());
  const bad = await send(message(topic, { body: Buffer.from('not gzip at all'), gzip: true }));
  assert.equal(bad.code, D.Code.MESSAGE_CORRUPTED, bad.message);
});

test('a message sent without born_host carries the client address as its born host, as upstream', async () => {
  const topic = uniq('RuleBornHost');
  createTopic(fx.mq, topic, 1, 'NORMAL');
  assert.equal((await send(message(topic, { body: Buffer.from('no-host') }))).code, D.Code.OK);
  assert.equal((await send(message(topic, { body: Buffer.from('own-host'), bornHost: 'producer-7' }))).code, D.Code.OK);
  const g = uniq('RuleBornG');
  createGroup(fx.mq, g);
  const hosts = new Map<string, string>();
  await eventually(async () => {
    for (const m of (await receive(topic, g, 1)).messages) hosts.set(Buffer.from(m.getBody_asU8()).toString(), m.getSystemProperties()!.getBornHost());
    return hosts.size === 2 ? true : undefined;
  }, 10_000, 'both messages');
  assert.match(hosts.get('no-host')!, /^127\.0\.0\.1:\d+$/);
  assert.equal(hosts.get('own-host'), 'producer-7');
});

test('Telemetry settings naming a bad topic or a system group fail the stream with INVALID_ARGUMENT; good ones are answered', async () => {
  const settle = (settings: df.Settings): Promise<{ code: number; details?: string }> => {
    const c = new RawClient(fx.mq.proxyAddr);
    const stream = c.client.telemetry(c.metadata());
    return new Promise<{ code: number; details?: string }>((resolve) => {
      stream.on('data', (cmd: sv.TelemetryCommand) => {
        resolve({ code: cmd.getStatus()?.getCode() ?? -1 });
        stream.end();
      });
      stream.on('error', (e: Error & { code?: number; details?: string }) => resolve({ code: e.code ?? -1, details: e.details }));
      stream.write(new S.TelemetryCommand().setSettings(settings));
    }).finally(() => c.close());
  };
  const producer = (topic: string): df.Settings => new D.Settings().setClientType(D.ClientType.PRODUCER)
    .setPublishing(new D.Publishing().setTopicsList([res(normal), res(topic)]));
  const consumer = (grp: string): df.Settings => new D.Settings().setClientType(D.ClientType.SIMPLE_CONSUMER)
    .setSubscription(new D.Subscription().setGroup(res(grp)).setSubscriptionsList([new D.SubscriptionEntry().setTopic(res(normal))
      .setExpression(new D.FilterExpression().setType(D.FilterType.TAG).setExpression('*'))]));
  const INVALID_ARGUMENT = 3;
  const badTopic = await settle(producer('no such topic!'));
  assert.equal(badTopic.code, INVALID_ARGUMENT);
  assert.match(badTopic.details ?? '', /illegal characters/);
  assert.equal((await settle(producer('RMQ_SYS_TRANS_HALF_TOPIC'))).code, INVALID_ARGUMENT);
  const sysGroup = await settle(consumer('CID_RMQ_SYS_TRANS'));
  assert.equal(sysGroup.code, INVALID_ARGUMENT);
  assert.match(sysGroup.details ?? '', /system consumer group/);
  assert.equal((await settle(producer(fifo))).code, D.Code.OK);
  assert.equal((await settle(consumer(group))).code, D.Code.OK);
});
