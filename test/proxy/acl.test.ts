import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { createTopic, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// ACL: with accounts configured, every request must carry the client's MQv2-HMAC-SHA1
// signature; a missing or wrong one is UNAUTHORIZED and the server keeps serving.

const ACCOUNT = { accessKey: 'RocketMQ', secretKey: '12345678' };
let fx: ProxyFixture;
const topic = uniq('Acl');
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({ proxyConfig: { acl: { accounts: [ACCOUNT] } } });
  createTopic(fx.mq, topic, 2);
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

function authorization(accessKey: string, secret: string, dateTime: string): string {
  const sig = createHmac('sha1', secret).update(dateTime).digest('hex').toUpperCase();
  return `MQv2-HMAC-SHA1 Credential=${accessKey}, SignedHeaders=x-mq-date-time, Signature=${sig}`;
}

test('signed requests of the SDK are served', async () => {
  const creds = { accessKey: ACCOUNT.accessKey, accessSecret: ACCOUNT.secretKey };
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, sessionCredentials: creds, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  const sent = await p.send({ topic, body: Buffer.from('signed') });
  const c = new SimpleConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: uniq('AclG'), subscriptions: new Map([[topic, '*']]), awaitDuration: 1000,
    sessionCredentials: creds, logger: quietLogger(),
  });
  await c.startup();
  clients.push(c);
  const got = await c.receive(8, 10_000);
  assert.deepEqual(got.map((m) => m.messageId), [sent.messageId]);
  await c.ack(got[0]!);
});

test('a missing, unknown or wrong signature is UNAUTHORIZED', async () => {
  const raw = new RawClient(fx.mq.proxyAddr);
  try {
    const route = (md = raw.metadata()): Promise<sv.QueryRouteResponse> =>
      raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(topic)), md);
    assert.equal((await route()).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    const date = '20261121T111718Z';
    const wrong = raw.metadata({ 'x-mq-date-time': date, authorization: authorization(ACCOUNT.accessKey, 'not-the-secret', date) });
    assert.equal((await route(wrong)).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    const unknown = raw.metadata({ 'x-mq-date-time': date, authorization: authorization('nobody', ACCOUNT.secretKey, date) });
    assert.equal((await route(unknown)).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    const good = raw.metadata({ 'x-mq-date-time': date, authorization: authorization(ACCOUNT.accessKey, ACCOUNT.secretKey, date) });
    assert.equal((await route(good)).getStatus()?.getCode(), D.Code.OK);
  } finally {
    raw.close();
  }
  // The SDK with a wrong secret: its first request is refused (a producer without topics starts without one).
  const bad = new Producer({
    endpoints: fx.mq.proxyAddr, namespace: '', sessionCredentials: { accessKey: ACCOUNT.accessKey, accessSecret: 'wrong' }, logger: quietLogger(),
  });
  await bad.startup();
  clients.push(bad);
  await assert.rejects(bad.send({ topic, body: Buffer.from('x') }), (e: Error & { code?: number }) => e.code === D.Code.UNAUTHORIZED);
});
