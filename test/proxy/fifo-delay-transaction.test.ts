import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, SimpleConsumer, type MessageView } from 'rocketmq-client-nodejs';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { durationOf, timestampOf } from '../../src/proxy/proto.js';
import { createGroup, createTopic, eventually, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture, receiveN } from './helpers.js';

// Priority 3: FIFO (message groups, a queue blocked while its messages are in flight),
// delay via delivery timestamp (timer wheel) and recall, and transactions — commit, rollback,
// and the server-triggered check through Telemetry.

let fx: ProxyFixture;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({
    brokerConfig: { transactionCheckInterval: 300, transactionTimeOut: 500 },
    storeConfig: { timerPrecisionMs: 100 },
  });
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

async function consumer(group: string, topic: string, awaitDuration = 500): Promise<SimpleConsumer> {
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  return c;
}

test('FIFO: a message group is delivered in order; its queue gives out nothing while a message is in flight; the unacked one comes back first', async () => {
  const topic = uniq('Fifo');
  const group = uniq('FifoG');
  createTopic(fx.mq, topic, 1, 'FIFO');
  createGroup(fx.mq, group, { consumeMessageOrderly: true });
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  for (const [g, body] of [['A', 'a1'], ['B', 'b1'], ['A', 'a2'], ['B', 'b2'], ['A', 'a3']] as const) {
    await p.send({ topic, messageGroup: g, body: Buffer.from(body) });
  }
  const c = await consumer(group, topic);
  const first = await receiveN(c, 5, 1500);
  assert.deepEqual(first.map((m) => m.body.toString()), ['a1', 'b1', 'a2', 'b2', 'a3']);
  assert.deepEqual(first.map((m) => m.messageGroup), ['A', 'B', 'A', 'B', 'A']);
  // Everything but a2 is acked: nothing more comes while a2 is in flight.
  for (const m of first) if (m.body.toString() !== 'a2') await c.ack(m);
  const t0 = Date.now();
  const again = await receiveN(c, 1, 1500, 5000);
  assert.deepEqual(again.map((m) => [m.body.toString(), m.deliveryAttempt]), [['a2', 2]]);
  assert.ok(Date.now() - t0 >= 900, 'a2 came back only after its invisible time');
  await c.ack(again[0]!);
  await p.send({ topic, messageGroup: 'A', body: Buffer.from('a4') });
  const next = await receiveN(c, 1, 1500);
  assert.deepEqual(next.map((m) => [m.body.toString(), m.deliveryAttempt]), [['a4', 1]]);
  await c.ack(next[0]!);
});

test('a send whose type the topic does not accept is refused by the client (validate_message_type), a FIFO topic takes FIFO', async () => {
  const topic = uniq('FifoOnly');
  createTopic(fx.mq, topic, 2, 'FIFO');
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await assert.rejects(p.send({ topic, body: Buffer.from('normal') }), /message type not match/);
  const r = await p.send({ topic, messageGroup: 'g', body: Buffer.from('fifo') });
  assert.ok(r.messageId);
});

test('DELAY: a message with a delivery timestamp arrives no earlier than it; a recalled one never arrives', async () => {
  const topic = uniq('Delay');
  createTopic(fx.mq, topic, 2, 'DELAY');
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  const c = await consumer(uniq('DelayG'), topic, 1000);
  const at = Date.now() + 1500;
  const sent = await p.send({ topic, deliveryTimestamp: new Date(at), body: Buffer.from('later') });
  const recalled = await p.send({ topic, deliveryTimestamp: new Date(Date.now() + 2000), body: Buffer.from('never') });
  assert.ok(recalled.recallHandle, 'a delay message gets a recall handle');
  const rr = await p.recallMessage(topic, recalled.recallHandle);
  assert.equal(rr.messageId, recalled.messageId);
  const got = await receiveN(c, 1, 10_000);
  const arrived = Date.now();
  assert.equal(got[0]?.messageId, sent.messageId);
  // The broker delivers a timer once its slot (100 ms here) has ended: never before the timestamp,
  // and less than a step after it, plus at worst one 1 s long poll of this consumer.
  assert.ok(arrived >= at, `arrived ${at - arrived} ms early`);
  assert.ok(arrived - at < 100 + 1000, `arrived ${arrived - at} ms late`);
  assert.equal(got[0].deliveryTimestamp?.getTime(), at);
  await c.ack(got[0]);
  const rest = await receiveN(c, 1, 10_000, 1500);
  assert.deepEqual(rest.map((m) => m.body.toString()), [], 'the recalled message is not delivered');
});

test('TRANSACTION: commit delivers, rollback discards, and an open one is checked back through Telemetry', async () => {
  const topic = uniq('Tx');
  createTopic(fx.mq, topic, 2, 'TRANSACTION');
  const checked: string[] = [];
  const p = new Producer({
    endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger(),
    checker: {
      async check(m: MessageView) {
        checked.push(m.body.toString());
        return D.TransactionResolution.COMMIT;
      },
    },
  });
  await p.startup();
  clients.push(p);
  const c = await consumer(uniq('TxG'), topic, 1000);

  const t1 = p.beginTransaction();
  const committed = await p.send({ topic, body: Buffer.from('commit me') }, t1);
  assert.ok(committed.transactionId);
  await t1.commit();
  const t2 = p.beginTransaction();
  await p.send({ topic, body: Buffer.from('roll me back') }, t2);
  await t2.rollback();
  const t3 = p.beginTransaction();
  const orphan = await p.send({ topic, body: Buffer.from('orphan') }, t3); // neither committed nor rolled back

  const first = await receiveN(c, 1, 10_000);
  assert.deepEqual(first.map((m) => m.messageId), [committed.messageId]);
  await c.ack(first[0]!);
  // The broker asks the producer (RecoverOrphanedTransactionCommand); its checker commits.
  const late = await receiveN(c, 1, 10_000, 10_000);
  assert.deepEqual(late.map((m) => m.messageId), [orphan.messageId]);
  assert.deepEqual(checked, ['orphan']);
  await c.ack(late[0]!);
  const none = await eventually(async () => (await c.receive(32, 10_000)).length === 0 ? true : undefined, 5000, 'no more messages');
  assert.equal(none, true, 'the rolled-back message never shows');
});

test('TRANSACTION: a commit past orphaned_transaction_recovery_duration is answered OK and left to the check-back, as upstream', async () => {
  const topic = uniq('TxLate');
  createTopic(fx.mq, topic, 1, 'TRANSACTION');
  const raw = new RawClient(fx.mq.proxyAddr);
  const stream = raw.client.telemetry(raw.metadata());
  const recovered = new Map<string, string>(); // message id → transaction id of the check
  stream.on('data', (cmd: sv.TelemetryCommand) => {
    const r = cmd.getRecoverOrphanedTransactionCommand();
    const id = r?.getMessage()?.getSystemProperties()?.getMessageId();
    if (r && id) recovered.set(id, r.getTransactionId());
  });
  stream.on('error', () => undefined);
  const settled = new Promise((resolve) => stream.once('data', resolve));
  stream.write(new S.TelemetryCommand().setSettings(new D.Settings().setClientType(D.ClientType.PRODUCER)
    .setPublishing(new D.Publishing().setTopicsList([new D.Resource().setName(topic)]))));
  await settled;
  try {
    // Born 5 s ago and immune from checks for 1 s: the producer's own commit comes too late.
    const sp = new D.SystemProperties().setMessageId(`01${Date.now().toString(16).toUpperCase().padStart(32, '0')}`)
      .setMessageType(D.MessageType.TRANSACTION).setBodyEncoding(D.Encoding.IDENTITY)
      .setBornTimestamp(timestampOf(Date.now() - 5000)).setOrphanedTransactionRecoveryDuration(durationOf(1000));
    const m = new D.Message().setTopic(new D.Resource().setName(topic)).setSystemProperties(sp).setBody(Buffer.from('late'));
    const sent = await raw.call<sv.SendMessageRequest, sv.SendMessageResponse>(raw.client.sendMessage, new S.SendMessageRequest().setMessagesList([m]));
    assert.equal(sent.getStatus()?.getCode(), D.Code.OK, sent.getStatus()?.getMessage());
    const entry = sent.getEntriesList()[0]!;
    const end = (transactionId: string, source: number): Promise<sv.EndTransactionResponse> => raw.call<sv.EndTransactionRequest, sv.EndTransactionResponse>(raw.client.endTransaction,
      new S.EndTransactionRequest().setTopic(new D.Resource().setName(topic)).setMessageId(entry.getMessageId())
        .setTransactionId(transactionId).setResolution(D.TransactionResolution.COMMIT).setSource(source));
    assert.equal((await end(entry.getTransactionId(), D.TransactionSource.SOURCE_CLIENT)).getStatus()?.getCode(), D.Code.OK);
    // Not committed by it: the broker checks the transaction back, and the answer to that commits.
    const checkTx = await eventually(() => recovered.get(entry.getMessageId()), 10_000, 'the check-back');
    const c = await consumer(uniq('TxLateG'), topic, 1000);
    assert.deepEqual(await c.receive(32, 1000), []);
    assert.equal((await end(checkTx, D.TransactionSource.SOURCE_SERVER_CHECK)).getStatus()?.getCode(), D.Code.OK);
    const got = await receiveN(c, 1, 10_000);
    assert.deepEqual(got.map((g) => g.body.toString()), ['late']);
    await c.ack(got[0]!);
  } finally {
    stream.end();
    raw.close();
  }
});
