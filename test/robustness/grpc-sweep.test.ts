import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientReadableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import DurationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import TimestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import { createGroup, createTopic, quietLogger, RawClient, receiveN, startProxyStandalone, uniq, type ProxyFixture } from '../proxy/helpers.js';

// Every RPC of the gRPC MessagingService, sent empty and with fields of absurd values (empty,
// oversized and unknown names, negative and huge numbers, unknown enum values, garbage handles):
// each gets an answer, a refusal carries a v2 status code and a message that says what is wrong
// (not an internal TypeError), and afterwards the proxy serves a 5.x client as before, with
// every message sent before the sweep still there.

const { Duration } = DurationPb;
const { Timestamp } = TimestampPb;
let fx: ProxyFixture;
let raw: RawClient;
const topic = uniq('SweepGrpc');
const group = uniq('SweepGrpcG');
const INTERNAL = /TypeError|RangeError|ReferenceError|Cannot read properties|is not a function|undefined is not/;

before(async () => {
  fx = await startProxyStandalone();
  createTopic(fx.mq, topic, 2, 'NORMAL');
  createGroup(fx.mq, group);
  raw = new RawClient(fx.mq.proxyAddr);
});

after(async () => {
  raw?.close();
  await fx?.stop();
});

const res = (name: string): InstanceType<typeof D.Resource> => new D.Resource().setName(name);
const dur = (seconds: number, nanos = 0): InstanceType<typeof Duration> => new Duration().setSeconds(seconds).setNanos(nanos);
const NAMES = ['', 'x'.repeat(300), 'no such topic!', '%RETRY%x', 'ü'];
const queue = (name: string, id: number): InstanceType<typeof D.MessageQueue> => new D.MessageQueue().setTopic(res(name)).setId(id)
  .setBroker(new D.Broker().setName('no-such-broker'));

/** What every answer must be: a status other than OK says what is wrong; a gRPC error too. */
function check(what: string, faults: string[], status: { getCode(): number; getMessage(): string } | undefined, err?: ServiceError): void {
  if (err) {
    if (!err.details || INTERNAL.test(err.details)) faults.push(`${what}: gRPC error ${err.code} ${err.details}`);
    return;
  }
  if (!status) {
    faults.push(`${what}: an answer without a status`);
    return;
  }
  if (status.getCode() !== D.Code.OK && (status.getMessage() === '' || INTERNAL.test(status.getMessage()))) {
    faults.push(`${what}: status ${status.getCode()} with message ${JSON.stringify(status.getMessage())}`);
  }
}

type Unary = (req: never, md: Metadata, cb: (err: ServiceError | null, res: { getStatus(): { getCode(): number; getMessage(): string } | undefined }) => void) => unknown;

async function unary(name: string, method: Unary, reqs: unknown[], faults: string[]): Promise<void> {
  for (const [i, req] of reqs.entries()) {
    await new Promise<void>((resolve) => {
      method.call(raw.client, req as never, raw.metadata(), (err, r) => {
        check(`${name} #${i}`, faults, err ? undefined : r.getStatus(), err ?? undefined);
        resolve();
      });
    });
  }
}

/** A server-streaming call: its status comes in one of the streamed answers, or as a gRPC error. */
async function streaming(name: string, open: (req: never, md: Metadata) => ClientReadableStream<{ getStatus(): { getCode(): number; getMessage(): string } | undefined }>, reqs: unknown[], faults: string[]): Promise<void> {
  for (const [i, req] of reqs.entries()) {
    await new Promise<void>((resolve) => {
      const s = open.call(raw.client, req as never, raw.metadata());
      let status: { getCode(): number; getMessage(): string } | undefined;
      let done = false;
      const timer = setTimeout(() => { s.cancel(); }, 5000);
      s.on('data', (r) => { status ??= r.getStatus(); });
      // A gRPC error comes as 'error' and then 'end': the first of the two decides.
      s.on('error', (err: ServiceError) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err.code !== 1 /* CANCELLED by us: a long poll with nothing to say */) check(`${name} #${i}`, faults, undefined, err);
        resolve();
      });
      s.on('end', () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        check(`${name} #${i}`, faults, status);
        resolve();
      });
    });
  }
}

test('every RPC, empty and with absurd fields, is answered with a reason; the proxy keeps serving and loses nothing', { timeout: 120_000 }, async () => {
  const producer = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  await producer.startup();
  const sent: string[] = [];
  for (let i = 0; i < 10; i++) {
    await producer.send({ topic, body: Buffer.from(`before-${i}`) });
    sent.push(`before-${i}`);
  }
  const faults: string[] = [];
  try {
    const c = raw.client;
    await unary('QueryRoute', c.queryRoute as unknown as Unary, [
      new S.QueryRouteRequest(), ...NAMES.map((n) => new S.QueryRouteRequest().setTopic(res(n)).setEndpoints(new D.Endpoints().setScheme(99 as never))),
    ], faults);
    await unary('Heartbeat', c.heartbeat as unknown as Unary, [
      new S.HeartbeatRequest(), new S.HeartbeatRequest().setClientType(99 as never), ...NAMES.map((n) => new S.HeartbeatRequest().setGroup(res(n)).setClientType(D.ClientType.PUSH_CONSUMER)),
    ], faults);
    await unary('SendMessage', c.sendMessage as unknown as Unary, [
      new S.SendMessageRequest(),
      new S.SendMessageRequest().setMessagesList([new D.Message()]),
      new S.SendMessageRequest().setMessagesList([new D.Message().setTopic(res(topic))]),
      new S.SendMessageRequest().setMessagesList([new D.Message().setTopic(res(topic)).setSystemProperties(new D.SystemProperties().setMessageId('').setBodyEncoding(99 as never).setMessageType(99 as never)).setBody(Buffer.alloc(0))]),
      new S.SendMessageRequest().setMessagesList(NAMES.map((n) => new D.Message().setTopic(res(n)).setSystemProperties(new D.SystemProperties().setMessageId('x').setDeliveryTimestamp(new Timestamp().setSeconds(-5))).setBody(Buffer.from('b')))),
    ], faults);
    await unary('QueryAssignment', c.queryAssignment as unknown as Unary, [
      new S.QueryAssignmentRequest(), ...NAMES.map((n) => new S.QueryAssignmentRequest().setTopic(res(n)).setGroup(res(n))),
    ], faults);
    await unary('AckMessage', c.ackMessage as unknown as Unary, [
      new S.AckMessageRequest(),
      new S.AckMessageRequest().setGroup(res(group)).setTopic(res(topic)).setEntriesList([new S.AckMessageEntry(), new S.AckMessageEntry().setReceiptHandle('x'.repeat(5000)).setMessageId('ü')]),
      ...NAMES.map((n) => new S.AckMessageRequest().setGroup(res(n)).setTopic(res(n)).setEntriesList([new S.AckMessageEntry().setReceiptHandle('1 2 3 4 5 6 7 8 9')])),
    ], faults);
    await unary('ForwardMessageToDeadLetterQueue', c.forwardMessageToDeadLetterQueue as unknown as Unary, [
      new S.ForwardMessageToDeadLetterQueueRequest(),
      new S.ForwardMessageToDeadLetterQueueRequest().setGroup(res(group)).setTopic(res(topic)).setReceiptHandle('garbage').setMessageId('m').setDeliveryAttempt(-1).setMaxDeliveryAttempts(-7),
      ...NAMES.map((n) => new S.ForwardMessageToDeadLetterQueueRequest().setGroup(res(n)).setTopic(res(n)).setReceiptHandle('')),
    ], faults);
    await unary('EndTransaction', c.endTransaction as unknown as Unary, [
      new S.EndTransactionRequest(),
      new S.EndTransactionRequest().setTopic(res(topic)).setMessageId('x').setTransactionId('not a transaction id').setResolution(99 as never).setSource(99 as never),
      ...NAMES.map((n) => new S.EndTransactionRequest().setTopic(res(n)).setTransactionId('').setResolution(D.TransactionResolution.COMMIT)),
    ], faults);
    await unary('NotifyClientTermination', c.notifyClientTermination as unknown as Unary, [
      new S.NotifyClientTerminationRequest(), ...NAMES.map((n) => new S.NotifyClientTerminationRequest().setGroup(res(n))),
    ], faults);
    await unary('ChangeInvisibleDuration', c.changeInvisibleDuration as unknown as Unary, [
      new S.ChangeInvisibleDurationRequest(),
      new S.ChangeInvisibleDurationRequest().setGroup(res(group)).setTopic(res(topic)).setReceiptHandle('x').setInvisibleDuration(dur(-10, -5)),
      new S.ChangeInvisibleDurationRequest().setGroup(res(group)).setTopic(res(topic)).setReceiptHandle('x').setInvisibleDuration(dur(9e12)),
    ], faults);
    await unary('UpdateOffset', c.updateOffset as unknown as Unary, [
      new S.UpdateOffsetRequest(), new S.UpdateOffsetRequest().setGroup(res(group)).setMessageQueue(queue(topic, -3)).setOffset(-1),
      ...NAMES.map((n) => new S.UpdateOffsetRequest().setGroup(res(n)).setMessageQueue(queue(n, 1e9)).setOffset(2 ** 60)),
    ], faults);
    await unary('GetOffset', c.getOffset as unknown as Unary, [
      new S.GetOffsetRequest(), ...NAMES.map((n) => new S.GetOffsetRequest().setGroup(res(n)).setMessageQueue(queue(n, -1))),
    ], faults);
    await unary('QueryOffset', c.queryOffset as unknown as Unary, [
      new S.QueryOffsetRequest(), new S.QueryOffsetRequest().setMessageQueue(queue(topic, 0)).setQueryOffsetPolicy(99 as never),
      new S.QueryOffsetRequest().setMessageQueue(queue(topic, 0)).setQueryOffsetPolicy(D.QueryOffsetPolicy.TIMESTAMP).setTimestamp(new Timestamp().setSeconds(-1e12)),
    ], faults);
    await unary('RecallMessage', c.recallMessage as unknown as Unary, [
      new S.RecallMessageRequest(), ...NAMES.map((n) => new S.RecallMessageRequest().setTopic(res(n)).setRecallHandle(n)),
    ], faults);
    await unary('SyncLiteSubscription', c.syncLiteSubscription as unknown as Unary, [
      new S.SyncLiteSubscriptionRequest(), new S.SyncLiteSubscriptionRequest().setAction(99 as never).setTopic(res(topic)).setGroup(res(group)).setLiteTopicSetList(['', 'x'.repeat(300)]).setVersion(-1),
    ], faults);
    await streaming('ReceiveMessage', c.receiveMessage as never, [
      new S.ReceiveMessageRequest(),
      new S.ReceiveMessageRequest().setGroup(res(group)).setMessageQueue(queue(topic, 0)).setBatchSize(-5).setInvisibleDuration(dur(-1)),
      new S.ReceiveMessageRequest().setGroup(res(group)).setMessageQueue(queue(topic, 0)).setBatchSize(1e9).setInvisibleDuration(dur(9e12)).setLongPollingTimeout(dur(-3))
        .setFilterExpression(new D.FilterExpression().setType(99 as never).setExpression('((')),
      ...NAMES.map((n) => new S.ReceiveMessageRequest().setGroup(res(n)).setMessageQueue(queue(n, 0)).setBatchSize(1).setInvisibleDuration(dur(30))),
    ], faults);
    await streaming('PullMessage', c.pullMessage as never, [
      new S.PullMessageRequest(),
      new S.PullMessageRequest().setGroup(res(group)).setMessageQueue(queue(topic, -1)).setOffset(-1).setBatchSize(0),
      ...NAMES.map((n) => new S.PullMessageRequest().setGroup(res(n)).setMessageQueue(queue(n, 0)).setOffset(2 ** 60).setBatchSize(1e9).setLongPollingTimeout(dur(0))),
    ], faults);
    assert.deepEqual(faults, [], `${faults.length} bad answers`);

    // The proxy still serves a 5.x client, and nothing sent before is lost.
    await producer.send({ topic, body: Buffer.from('after') });
    const consumer = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 1000, logger: quietLogger() });
    await consumer.startup();
    try {
      const got = await receiveN(consumer, 11, 20_000, 20_000);
      const bodies = got.map((m) => m.body.toString());
      for (const b of [...sent, 'after']) assert.ok(bodies.includes(b), `${b} is still there`);
    } finally {
      await consumer.shutdown();
    }
  } finally {
    await producer.shutdown();
  }
});
