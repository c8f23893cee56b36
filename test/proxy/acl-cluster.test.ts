import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { MQClientAPI } from '../../src/client/index.js';
import { createLogger } from '../../src/common/logger.js';
import { innerClientCredentials } from '../../src/broker/auth/inner-credentials.js';
import { ClusterMessagingProcessor } from '../../src/proxy/cluster-messaging-processor.js';
import { clusterProxyAuth } from '../../src/proxy/cluster-auth-metadata.js';
import { ProxyController } from '../../src/proxy/proxy-controller.js';
import { defaultProxyConfig, parseProxyConfig, type ProxyConfig } from '../../src/proxy/proxy-config.js';
import { createGroup, createTopic, eventually, FAST_PROXY, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// Cluster mode (mqproxy) with authenticationEnabled / authorizationEnabled in its config checks
// gRPC clients against the users and ACLs of the brokers, read with AUTH_GET_USER / AUTH_GET_ACL
// and cached (upstream ProxyAuthenticationMetadataProvider / ProxyAuthorizationMetadataProvider).

const ROOT = { accessKey: 'root', secretKey: 'root-secret' };
const APP = { accessKey: 'app', secretKey: 'app-secret' };
let fx: ProxyFixture;
let proxy: ProxyController;
let admin: MQClientAPI;
const topic = uniq('AclCluster');
const denied = uniq('AclClusterDenied');
const group = uniq('AclClusterG');
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({
    proxyConfig: false,
    brokerConfig: { authenticationEnabled: true, authorizationEnabled: true, initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }) },
  });
  createTopic(fx.mq, topic, 2);
  createTopic(fx.mq, denied, 2);
  createGroup(fx.mq, group);
  // Users and ACLs made on the broker over Remoting, as mqadmin would.
  admin = new MQClientAPI({ sessionCredentials: ROOT });
  await admin.createUser(fx.mq.brokerAddr, { username: APP.accessKey, password: APP.secretKey });
  await admin.createAcl(fx.mq.brokerAddr, { subject: `User:${APP.accessKey}`, policies: [{ entries: [
    { resource: `Topic:${topic}`, actions: ['Pub', 'Sub'], decision: 'Allow' },
    { resource: `Group:${group}`, actions: ['Sub'], decision: 'Allow' },
  ] }] });
  for (const t of [topic, denied]) {
    await eventually(async () => (await admin.getTopicRouteInfoFromNameServer(fx.mq.namesrvAddr, t).catch(() => undefined))?.queueDatas.length ? true : undefined, 10_000, `the route of ${t}`);
  }
  // The proxy's config as mqproxy reads it from rmq-proxy.json.
  const { config: fileConfig } = parseProxyConfig(JSON.stringify({
    authenticationEnabled: true, authorizationEnabled: true, innerClientAuthenticationCredentials: JSON.stringify(ROOT),
    userCacheRefreshSeconds: 1, aclCacheRefreshSeconds: 1,
  }), 'rmq-proxy.json');
  const config: ProxyConfig = { ...defaultProxyConfig(), ...FAST_PROXY, ...fileConfig, grpcServerPort: 0 };
  const logger = createLogger('acl-cluster-test');
  const processor = new ClusterMessagingProcessor({
    namesrvAddr: fx.mq.namesrvAddr, logger, sessionCredentials: innerClientCredentials(config.innerClientAuthenticationCredentials!), rocketMQClusterName: config.rocketMQClusterName,
  });
  const auth = clusterProxyAuth(processor, config, logger);
  assert.ok(auth, 'the switches are on');
  proxy = new ProxyController({ config, processor, auth, defaultBrokerName: () => '' });
  await proxy.start();
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await proxy?.shutdown();
  await admin?.shutdown();
  await fx?.stop();
});

function authorization(accessKey: string, secret: string, dateTime: string): string {
  const sig = createHmac('sha1', secret).update(dateTime).digest('hex').toUpperCase();
  return `MQv2-HMAC-SHA1 Credential=${accessKey}, SignedHeaders=x-mq-date-time, Signature=${sig}`;
}

function routeOf(raw: RawClient, t: string, ak: string, sk: string): Promise<sv.QueryRouteResponse> {
  const date = '20261121T111718Z';
  const md = raw.metadata({ 'x-mq-date-time': date, authorization: authorization(ak, sk, date) });
  return raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(t)), md);
}

test('cluster mode: a user of the brokers sends and receives through mqproxy what its ACL allows', async () => {
  const creds = { accessKey: APP.accessKey, accessSecret: APP.secretKey };
  const p = new Producer({ endpoints: proxy.address, namespace: '', topic, sessionCredentials: creds, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  const sent = await p.send({ topic, body: Buffer.from('allowed via mqproxy') });
  const c = new SimpleConsumer({
    endpoints: proxy.address, namespace: '', consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 1000,
    sessionCredentials: creds, logger: quietLogger(),
  });
  await c.startup();
  clients.push(c);
  const got = await c.receive(8, 10_000);
  assert.deepEqual(got.map((m) => m.messageId), [sent.messageId]);
  await c.ack(got[0]!);
});

test('cluster mode: a wrong secret or an unknown user is UNAUTHORIZED, a topic the ACL lacks FORBIDDEN', async () => {
  const raw = new RawClient(proxy.address);
  try {
    assert.equal((await routeOf(raw, topic, APP.accessKey, APP.secretKey)).getStatus()?.getCode(), D.Code.OK);
    const wrong = await routeOf(raw, topic, APP.accessKey, 'wrong');
    assert.equal(wrong.getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.match(wrong.getStatus()!.getMessage(), /signature of access key app does not match/);
    assert.equal((await routeOf(raw, topic, 'nobody', 'x')).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.equal((await raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(topic)), raw.metadata())).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    const res = await routeOf(raw, denied, APP.accessKey, APP.secretKey);
    assert.equal(res.getStatus()?.getCode(), D.Code.FORBIDDEN);
    assert.match(res.getStatus()!.getMessage(), new RegExp(`User:app has no permission to access Topic:${denied} from 127.0.0.1, no matched policies.`));
    // The broker's super user passes everywhere.
    assert.equal((await routeOf(raw, denied, ROOT.accessKey, ROOT.secretKey)).getStatus()?.getCode(), D.Code.OK);
  } finally {
    raw.close();
  }
  const p = new Producer({ endpoints: proxy.address, namespace: '', sessionCredentials: { accessKey: APP.accessKey, accessSecret: APP.secretKey }, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  await assert.rejects(p.send({ topic: denied, body: Buffer.from('x') }), (e: Error & { code?: number }) => e.code === D.Code.FORBIDDEN);
});

test('cluster mode: a user and an ACL made on the broker after the proxy started count once their cache entries refresh', async () => {
  const raw = new RawClient(proxy.address);
  try {
    // Unknown first, so the proxy caches its absence.
    assert.equal((await routeOf(raw, denied, 'late', 'late-pw')).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    await admin.createUser(fx.mq.brokerAddr, { username: 'late', password: 'late-pw' });
    // Known but without an ACL: no longer UNAUTHORIZED, FORBIDDEN (and the ACL's absence cached).
    await eventually(async () => ((await routeOf(raw, denied, 'late', 'late-pw')).getStatus()?.getCode() === D.Code.FORBIDDEN ? true : undefined), 15_000, 'the new user known to the proxy');
    await admin.createAcl(fx.mq.brokerAddr, { subject: 'User:late', policies: [{ entries: [{ resource: `Topic:${denied}`, actions: ['Pub'], decision: 'Allow' }] }] });
    await eventually(async () => ((await routeOf(raw, denied, 'late', 'late-pw')).getStatus()?.getCode() === D.Code.OK ? true : undefined), 15_000, 'the new ACL known to the proxy');
    // The proxy kept serving the others.
    assert.equal((await routeOf(raw, topic, APP.accessKey, APP.secretKey)).getStatus()?.getCode(), D.Code.OK);
  } finally {
    raw.close();
  }
});
