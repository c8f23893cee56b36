import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import DurationPb from 'google-protobuf/google/protobuf/duration_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MQClientAPI } from '../../src/client/index.js';
import { CliProcess, portsIn } from '../cli/spawn.js';
import { tempDir } from '../helpers/tmp.js';
import { writeBrokerConf } from '../e2e/standalone-process.js';
import { quietLogger, RawClient, uniq, receiveN } from './helpers.js';

// POP state across a SIGKILL of the standalone process: nothing is snapshotted or flushed at the
// end, so what was in flight comes back from the revive log alone — the acked message stays
// acked, the other returns with the next delivery attempt, and nothing is delivered twice.
// Before the kill the consumer is a raw gRPC client: the SDK does not wait for the server to
// close its Telemetry stream at shutdown, and a kill right then would reset a stream it no
// longer listens on (an uncaught error in the test process, not a server matter).

async function start(conf: string, proxyConf: string, store: string): Promise<{ proc: CliProcess; brokerAddr: string; proxyAddr: string }> {
  const proc = new CliProcess('standalone', ['-c', conf, '--store', store, '--namesrv-port', '0', '--broker-port', '0', '--proxy-port', '0', '--proxy-config', proxyConf]);
  try {
    const ready = await proc.waitForLine(/RocketMQ standalone started/, 15_000);
    const [, brokerPort, proxyPort] = portsIn(ready.msg);
    assert.ok(brokerPort && proxyPort, ready.msg);
    return { proc, brokerAddr: `127.0.0.1:${brokerPort}`, proxyAddr: `127.0.0.1:${proxyPort}` };
  } catch (err) {
    proc.kill();
    throw err;
  }
}

/** One ReceiveMessage over a raw client: the messages of the stream. */
function receiveRaw(raw: RawClient, group: string, topic: string, invisibleMs: number): Promise<InstanceType<typeof D.Message>[]> {
  const req = new S.ReceiveMessageRequest().setGroup(new D.Resource().setName(group))
    .setMessageQueue(new D.MessageQueue().setTopic(new D.Resource().setName(topic)).setId(0).setBroker(new D.Broker().setName('broker-a')))
    .setFilterExpression(new D.FilterExpression().setType(D.FilterType.TAG).setExpression('*')).setBatchSize(32).setAutoRenew(false)
    .setInvisibleDuration(new DurationPb.Duration().setNanos(invisibleMs * 1e6 % 1e9).setSeconds(Math.floor(invisibleMs / 1000)))
    .setLongPollingTimeout(new DurationPb.Duration().setSeconds(1));
  return new Promise((resolve, reject) => {
    const out: InstanceType<typeof D.Message>[] = [];
    const call = raw.client.receiveMessage(req, raw.metadata(), { deadline: Date.now() + 5000 });
    call.on('data', (r: sv.ReceiveMessageResponse) => { if (r.hasMessage()) out.push(r.getMessage()!); });
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}

test('in-flight POP state survives a SIGKILL of the broker process', async () => {
  const tmp = tempDir('rmq-proxy-crash-');
  // The default 5 s snapshot period: the kill comes before any snapshot of this state.
  const conf = writeBrokerConf(tmp.dir, { brokerClusterName: 'DefaultCluster', brokerName: 'broker-a', brokerIP1: '127.0.0.1' });
  const store = `${tmp.dir}/store`;
  const proxyConf = `${tmp.dir}/rmq-proxy.json`;
  writeFileSync(proxyConf, JSON.stringify({ minInvisibleTimeMillsForRecv: 1000, minLongPollingTimeoutMillis: 0, rocketMQClusterName: 'DefaultCluster' }));
  const topic = uniq('Crash');
  const group = uniq('CrashG');
  let p = await start(conf, proxyConf, store);
  const api = new MQClientAPI();
  try {
    await api.createTopic(p.brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    const producer = new Producer({ endpoints: p.proxyAddr, namespace: '', topic, logger: quietLogger() });
    await producer.startup();
    const a = await producer.send({ topic, body: Buffer.from('acked before the crash') });
    const b = await producer.send({ topic, body: Buffer.from('in flight at the crash') });
    await producer.shutdown();

    const raw = new RawClient(p.proxyAddr);
    const got: InstanceType<typeof D.Message>[] = [];
    for (let i = 0; i < 5 && got.length < 2; i++) got.push(...await receiveRaw(raw, group, topic, 1500));
    const ids = got.map((m) => m.getSystemProperties()!.getMessageId());
    assert.deepEqual(new Set(ids), new Set([a.messageId, b.messageId]));
    const ackA = got[ids.indexOf(a.messageId)]!.getSystemProperties()!;
    const ack = await raw.call<sv.AckMessageRequest, sv.AckMessageResponse>(raw.client.ackMessage, new S.AckMessageRequest()
      .setGroup(new D.Resource().setName(group)).setTopic(new D.Resource().setName(topic))
      .setEntriesList([new S.AckMessageEntry().setMessageId(a.messageId).setReceiptHandle(ackA.getReceiptHandle()!)]));
    assert.equal(ack.getStatus()?.getCode(), D.Code.OK);
    raw.close();

    p.proc.child.kill('SIGKILL');
    await p.proc.exited;
    p = await start(conf, proxyConf, store);

    const c2 = new SimpleConsumer({ endpoints: p.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 500, logger: quietLogger() });
    await c2.startup();
    try {
      const back = await receiveN(c2, 1, 30_000, 8000);
      assert.deepEqual(back.map((m) => [m.messageId, m.deliveryAttempt]), [[b.messageId, 2]]);
      await c2.ack(back[0]!);
      assert.deepEqual(await receiveN(c2, 1, 30_000, 1500), [], 'nothing else: the acked message is not delivered again');
    } finally {
      await c2.shutdown();
    }
  } finally {
    await api.shutdown();
    await p.proc.stop('SIGTERM').catch(() => p.proc.kill());
    tmp.cleanup();
  }
});
