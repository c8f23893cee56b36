import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { Admin } from '../../src/admin/index.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { CMResult } from '../../src/client/consumer-running-info.js';
import { createGroup, createTopic, eventually, quietLogger, RawClient, startProducer, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Admin requests the broker relays to a consumer (GET_CONSUMER_RUNNING_INFO, as `mqadmin
// consumerStatus`; CONSUME_MESSAGE_DIRECTLY, as `mqadmin consumeMessage` and the dashboard),
// when the consumer is a 5.x gRPC client: as upstream's GrpcClientChannel, they become a
// PrintThreadStackTraceCommand and a VerifyMessageCommand on the client's Telemetry stream, and
// the client's answers, matched by nonce, come back to the admin. With rocketmq-client-nodejs as
// the client, and a raw Telemetry stream for the answers it does not give (a verify result).

let fx: ProxyFixture;
let admin: Admin;
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone();
  admin = new Admin({ namesrvAddr: fx.mq.namesrvAddr });
  await admin.start();
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await admin?.shutdown();
  await fx?.stop();
});

/** The client id of the group's only online client. */
async function onlineClient(group: string): Promise<string> {
  return eventually(async () => {
    const cc = await admin.examineConsumerConnectionInfo(group).catch(() => undefined);
    return cc?.connectionSet[0]?.clientId;
  }, 10_000, `a client of ${group} online`);
}

/** A new topic and group, with one message sent through the proxy. */
async function topicWithMessage(prefix: string, body: string): Promise<{ topic: string; group: string; messageId: string }> {
  const topic = uniq(prefix);
  const group = uniq(`${prefix}G`);
  createTopic(fx.mq, topic, 1);
  createGroup(fx.mq, group);
  const p = await startProducer(fx.mq.proxyAddr, topic, clients);
  const { messageId } = await p.send({ topic, body: Buffer.from(body) });
  return { topic, group, messageId };
}

test('consumerStatus with jstack and consumeMessage reach a rocketmq-client-nodejs consumer over Telemetry', async () => {
  const { topic, group, messageId } = await topicWithMessage('Relay', 'relayed');
  const c = new SimpleConsumer({ endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 500, logger: quietLogger() });
  await c.startup();
  clients.push(c);
  const clientId = await onlineClient(group);

  const info = await admin.getConsumerRunningInfo(group, clientId, true);
  assert.equal(info.jstack, 'mock stack', 'the Node client\'s answer to PrintThreadStackTraceCommand');

  await assert.rejects(admin.getConsumerRunningInfo(group, clientId, false), (err: unknown) => {
    assert.ok(err instanceof MQBrokerError, String(err));
    assert.match(err.message, /gRPC client.*thread stack only; ask with jstack/);
    return true;
  });

  const r = await admin.consumeMessageDirectly(group, clientId, topic, messageId);
  assert.equal(r.consumeResult, undefined, 'the Node client does not verify messages');
  assert.match(r.remark ?? '', /^from gRPC client: status \d+/);
});

test('a verify result on Telemetry becomes the consume result; a client that never answers times out with the broker\'s explanation', async () => {
  const { topic, group, messageId } = await topicWithMessage('RelayRaw', 'verify me');

  // A raw client: its Telemetry settings make it a SimpleConsumer of the group; it answers verify
  // commands with FAILED_TO_CONSUME_MESSAGE, and thread-stack commands not at all.
  const raw = new RawClient(fx.mq.proxyAddr);
  const stream = raw.client.telemetry(raw.metadata());
  const seen: sv.TelemetryCommand[] = [];
  stream.on('data', (cmd: sv.TelemetryCommand) => {
    seen.push(cmd);
    if (cmd.hasVerifyMessageCommand()) {
      const v = cmd.getVerifyMessageCommand()!;
      assert.equal(Buffer.from(v.getMessage()!.getBody_asU8()).toString(), 'verify me');
      stream.write(new S.TelemetryCommand().setStatus(new D.Status().setCode(D.Code.FAILED_TO_CONSUME_MESSAGE).setMessage('listener said later'))
        .setVerifyMessageResult(new S.VerifyMessageResult().setNonce(v.getNonce())));
    }
  });
  stream.on('error', () => undefined);
  const settings = new D.Settings().setClientType(D.ClientType.SIMPLE_CONSUMER)
    .setSubscription(new D.Subscription().setGroup(new D.Resource().setName(group))
      .setSubscriptionsList([new D.SubscriptionEntry().setTopic(new D.Resource().setName(topic))
        .setExpression(new D.FilterExpression().setType(D.FilterType.TAG).setExpression('*'))]));
  stream.write(new S.TelemetryCommand().setSettings(settings));
  try {
    const clientId = await onlineClient(group);
    assert.equal(clientId, raw.clientId);

    const r = await admin.consumeMessageDirectly(group, clientId, topic, messageId);
    assert.equal(r.consumeResult, CMResult.CR_LATER, 'FAILED_TO_CONSUME_MESSAGE, as upstream maps it');
    assert.equal(r.remark, 'from gRPC client');

    await assert.rejects(admin.getConsumerRunningInfo(group, clientId, true), (err: unknown) => {
      assert.ok(err instanceof MQBrokerError, String(err));
      assert.match(err.message, /did not answer within 3000 ms/);
      return true;
    });
    assert.ok(seen.some((cmd) => cmd.hasPrintThreadStackTraceCommand()), 'the client was asked for its thread stack');
    // The broker still serves the group afterwards.
    assert.equal((await admin.examineConsumerConnectionInfo(group)).connectionSet[0]?.clientId, clientId);
  } finally {
    stream.end();
    raw.close();
  }
});
