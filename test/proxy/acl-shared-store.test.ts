import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { signRequest } from '../../src/remoting/acl-signature.js';
import { createLogger } from '../../src/common/logger.js';
import { innerClientCredentials } from '../../src/broker/auth/inner-credentials.js';
import { ClusterMessagingProcessor } from '../../src/proxy/cluster-messaging-processor.js';
import { ProxyController } from '../../src/proxy/proxy-controller.js';
import { parseProxyConfig } from '../../src/proxy/proxy-config.js';
import { createGroup, createTopic, FAST_PROXY, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// The gRPC endpoint of a standalone checks the broker's own users and ACLs when the broker has
// authenticationEnabled / authorizationEnabled, the same ones Remoting clients are checked
// against; the proxy config's acl.accounts keep working, as super users.

const ACCOUNT = { accessKey: 'ProxyAccount', secretKey: 'account-secret' };
const ROOT = { accessKey: 'root', secretKey: 'root-secret' };
const APP = { accessKey: 'app', secretKey: 'app-secret' };
let fx: ProxyFixture;
const topic = uniq('AclShared');
const denied = uniq('AclDenied');
const group = uniq('AclSharedG');
const clients: Array<{ shutdown(): Promise<void> }> = [];

async function remoting(code: number, ext: Record<string, string>, body: unknown): Promise<void> {
  const client = new RemotingClient();
  try {
    const req = createRequest(code, { extFields: ext, body: Buffer.from(JSON.stringify(body)) });
    signRequest(req, ROOT);
    const res = await client.invoke(fx.mq.brokerAddr, req, 5000);
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  } finally {
    await client.shutdown();
  }
}

before(async () => {
  fx = await startProxyStandalone({
    proxyConfig: { acl: { accounts: [ACCOUNT] } },
    brokerConfig: { authenticationEnabled: true, authorizationEnabled: true, initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }) },
  });
  createTopic(fx.mq, topic, 2);
  createTopic(fx.mq, denied, 2);
  createGroup(fx.mq, group);
  // Users and ACLs made over Remoting, as mqadmin would.
  await remoting(RequestCode.AUTH_CREATE_USER, { username: APP.accessKey }, { password: APP.secretKey });
  await remoting(RequestCode.AUTH_CREATE_ACL, { subject: `User:${APP.accessKey}` }, { policies: [{ entries: [
    { resource: `Topic:${topic}`, actions: ['Pub', 'Sub'], decision: 'Allow' },
    { resource: `Group:${group}`, actions: ['Sub'], decision: 'Allow' },
  ] }] });
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await fx?.stop();
});

function authorization(accessKey: string, secret: string, dateTime: string): string {
  const sig = createHmac('sha1', secret).update(dateTime).digest('hex').toUpperCase();
  return `MQv2-HMAC-SHA1 Credential=${accessKey}, SignedHeaders=x-mq-date-time, Signature=${sig}`;
}

test('a user of the broker store sends and receives what its ACL allows over gRPC', async () => {
  const creds = { accessKey: APP.accessKey, accessSecret: APP.secretKey };
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, sessionCredentials: creds, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  const sent = await p.send({ topic, body: Buffer.from('allowed') });
  const c = new SimpleConsumer({
    endpoints: fx.mq.proxyAddr, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 1000,
    sessionCredentials: creds, logger: quietLogger(),
  });
  await c.startup();
  clients.push(c);
  const got = await c.receive(8, 10_000);
  assert.deepEqual(got.map((m) => m.messageId), [sent.messageId]);
  await c.ack(got[0]!);
});

test('what the ACL does not allow is FORBIDDEN, with the reason; unknown users and bad secrets UNAUTHORIZED', async () => {
  const raw = new RawClient(fx.mq.proxyAddr);
  const date = '20261121T111718Z';
  const md = (ak: string, sk: string): ReturnType<RawClient['metadata']> => raw.metadata({ 'x-mq-date-time': date, authorization: authorization(ak, sk, date) });
  const route = (t: string, m: ReturnType<RawClient['metadata']>): Promise<sv.QueryRouteResponse> =>
    raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(t)), m);
  try {
    assert.equal((await route(topic, md(APP.accessKey, APP.secretKey))).getStatus()?.getCode(), D.Code.OK);
    const res = await route(denied, md(APP.accessKey, APP.secretKey));
    assert.equal(res.getStatus()?.getCode(), D.Code.FORBIDDEN);
    assert.match(res.getStatus()!.getMessage(), new RegExp(`User:app has no permission to access Topic:${denied} from 127.0.0.1, no matched policies.`));
    assert.equal((await route(topic, md(APP.accessKey, 'wrong'))).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.equal((await route(topic, md('nobody', 'x'))).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.equal((await route(topic, raw.metadata())).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    // The broker's super user and the proxy's account pass everywhere.
    assert.equal((await route(denied, md(ROOT.accessKey, ROOT.secretKey))).getStatus()?.getCode(), D.Code.OK);
    assert.equal((await route(denied, md(ACCOUNT.accessKey, ACCOUNT.secretKey))).getStatus()?.getCode(), D.Code.OK);
  } finally {
    raw.close();
  }
  // The SDK producer of a topic it may not publish to.
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', sessionCredentials: { accessKey: APP.accessKey, accessSecret: APP.secretKey }, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await assert.rejects(p.send({ topic: denied, body: Buffer.from('x') }), (e: Error & { code?: number }) => e.code === D.Code.FORBIDDEN);
});

test('a user disabled in the broker store is refused at once', async () => {
  await remoting(RequestCode.AUTH_CREATE_USER, { username: 'temp' }, { password: 'temp-pw', userType: 'Super' });
  const raw = new RawClient(fx.mq.proxyAddr);
  const date = '20261121T111718Z';
  const md = raw.metadata({ 'x-mq-date-time': date, authorization: authorization('temp', 'temp-pw', date) });
  const route = (): Promise<sv.QueryRouteResponse> =>
    raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(denied)), md);
  try {
    assert.equal((await route()).getStatus()?.getCode(), D.Code.OK);
    await remoting(RequestCode.AUTH_UPDATE_USER, { username: 'temp' }, { userStatus: 'disable' });
    const res = await route();
    assert.equal(res.getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.match(res.getStatus()!.getMessage(), /User:temp is disabled/);
  } finally {
    raw.close();
  }
});

test('cluster mode: mqproxy signs its broker requests with innerClientAuthenticationCredentials', async () => {
  const { config } = parseProxyConfig(JSON.stringify({ innerClientAuthenticationCredentials: JSON.stringify(ROOT) }), 'rmq-proxy.json');
  const make = (signed: boolean): ProxyController => new ProxyController({
    config: { ...FAST_PROXY, grpcServerPort: 0 },
    processor: new ClusterMessagingProcessor({
      namesrvAddr: fx.mq.namesrvAddr, logger: createLogger('acl-cluster-test'),
      ...(signed ? { sessionCredentials: innerClientCredentials(config.innerClientAuthenticationCredentials!) } : {}),
    }),
    defaultBrokerName: () => '',
  });
  for (const signed of [true, false]) {
    const proxy = make(signed);
    await proxy.start();
    try {
      const p = new Producer({ endpoints: proxy.address, namespace: '', topic, logger: quietLogger() });
      await p.startup();
      clients.push(p);
      if (signed) assert.ok((await p.send({ topic, body: Buffer.from('via mqproxy') })).messageId);
      else await assert.rejects(p.send({ topic, body: Buffer.from('unsigned') }), (e: Error & { code?: number }) => e.code === D.Code.FORBIDDEN || /username cannot be null/.test(e.message));
    } finally {
      await proxy.shutdown();
    }
  }
});
