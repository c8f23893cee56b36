import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Producer } from 'rocketmq-client-nodejs';
import S from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import D from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import type * as sv from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import type { Metadata } from '@grpc/grpc-js';
import { MQClientAPI } from '../../src/client/index.js';
import { createLogger } from '../../src/common/logger.js';
import { innerClientCredentials } from '../../src/broker/auth/inner-credentials.js';
import { ClusterMessagingProcessor } from '../../src/proxy/cluster-messaging-processor.js';
import { clusterProxyAuth } from '../../src/proxy/cluster-auth-metadata.js';
import { ProxyController } from '../../src/proxy/proxy-controller.js';
import { defaultProxyConfig, parseProxyConfig, type ProxyConfig } from '../../src/proxy/proxy-config.js';
import { createGroup, createTopic, eventually, FAST_PROXY, quietLogger, RawClient, startProxyStandalone, uniq, type ProxyFixture } from './helpers.js';

// authenticationWhitelist / authorizationWhitelist on gRPC, as upstream's AbstractAuthenticationStrategy
// and AbstractAuthorizationStrategy: a gRPC request's rpcCode is its message's full protobuf
// name (DefaultAuthenticationContextBuilder: getDescriptorForType().getFullName()). The
// standalone's endpoint reads the broker's lists, mqproxy those of its rmq-proxy.json.

const ROOT = { accessKey: 'root', secretKey: 'root-secret' };
const APP = { accessKey: 'app', secretKey: 'app-secret' };
/** Every RPC an SDK producer makes, from startup to shutdown. */
const PRODUCER_RPCS = ['QueryRouteRequest', 'HeartbeatRequest', 'SendMessageRequest', 'TelemetryCommand', 'NotifyClientTerminationRequest']
  .map((n) => `apache.rocketmq.v2.${n}`).join(', ');
let fx: ProxyFixture;
let admin: MQClientAPI;
const topic = uniq('AclWhite');
const group = uniq('AclWhiteG');
const clients: Array<{ shutdown(): Promise<void> }> = [];

before(async () => {
  fx = await startProxyStandalone({
    brokerConfig: {
      authenticationEnabled: true, authorizationEnabled: true, initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }),
      authenticationWhitelist: PRODUCER_RPCS, authorizationWhitelist: PRODUCER_RPCS,
    },
  });
  createTopic(fx.mq, topic, 2);
  createGroup(fx.mq, group);
  admin = new MQClientAPI({ sessionCredentials: ROOT });
  // A user without any ACL.
  await admin.createUser(fx.mq.brokerAddr, { username: APP.accessKey, password: APP.secretKey });
});

after(async () => {
  for (const c of clients) await c.shutdown().catch(() => undefined);
  await admin?.shutdown();
  await fx?.stop();
});

function signed(raw: RawClient, ak: string, sk: string): Metadata {
  const date = '20261121T111718Z';
  const sig = createHmac('sha1', sk).update(date).digest('hex').toUpperCase();
  return raw.metadata({ 'x-mq-date-time': date, authorization: `MQv2-HMAC-SHA1 Credential=${ak}, SignedHeaders=x-mq-date-time, Signature=${sig}` });
}

function route(raw: RawClient, md: Metadata): Promise<sv.QueryRouteResponse> {
  return raw.call<sv.QueryRouteRequest, sv.QueryRouteResponse>(raw.client.queryRoute, new S.QueryRouteRequest().setTopic(new D.Resource().setName(topic)), md);
}

function assignment(raw: RawClient, md: Metadata): Promise<sv.QueryAssignmentResponse> {
  const req = new S.QueryAssignmentRequest().setTopic(new D.Resource().setName(topic)).setGroup(new D.Resource().setName(group));
  return raw.call<sv.QueryAssignmentRequest, sv.QueryAssignmentResponse>(raw.client.queryAssignment, req, md);
}

test('standalone: the broker\'s whitelists, by request name, let an anonymous SDK producer send; other RPCs stay checked', async () => {
  const p = new Producer({ endpoints: fx.mq.proxyAddr, namespace: '', topic, logger: quietLogger() });
  await p.startup();
  clients.push(p);
  assert.ok((await p.send({ topic, body: Buffer.from('whitelisted') })).messageId);
  const raw = new RawClient(fx.mq.proxyAddr);
  try {
    assert.equal((await route(raw, raw.metadata())).getStatus()?.getCode(), D.Code.OK, 'unsigned QueryRoute is whitelisted');
    const res = await assignment(raw, raw.metadata());
    assert.equal(res.getStatus()?.getCode(), D.Code.UNAUTHORIZED, 'QueryAssignment is not');
    // Signed by a user without an ACL: authorization still runs for what is not whitelisted.
    assert.equal((await assignment(raw, signed(raw, APP.accessKey, APP.secretKey))).getStatus()?.getCode(), D.Code.FORBIDDEN);
    assert.equal((await route(raw, signed(raw, APP.accessKey, APP.secretKey))).getStatus()?.getCode(), D.Code.OK);
  } finally {
    raw.close();
  }
});

test('cluster mode: mqproxy takes the whitelists from rmq-proxy.json', async () => {
  await eventually(async () => (await admin.getTopicRouteInfoFromNameServer(fx.mq.namesrvAddr, topic).catch(() => undefined))?.queueDatas.length ? true : undefined, 10_000, 'the route');
  const { config: fileConfig } = parseProxyConfig(JSON.stringify({
    authenticationEnabled: true, authorizationEnabled: true, innerClientAuthenticationCredentials: JSON.stringify(ROOT),
    authorizationWhitelist: 'apache.rocketmq.v2.QueryRouteRequest',
  }), 'rmq-proxy.json');
  const config: ProxyConfig = { ...defaultProxyConfig(), ...FAST_PROXY, ...fileConfig, grpcServerPort: 0 };
  const logger = createLogger('acl-whitelist-test');
  const processor = new ClusterMessagingProcessor({
    namesrvAddr: fx.mq.namesrvAddr, logger, sessionCredentials: innerClientCredentials(config.innerClientAuthenticationCredentials!), rocketMQClusterName: config.rocketMQClusterName,
  });
  const proxy = new ProxyController({ config, processor, auth: clusterProxyAuth(processor, config, logger), defaultBrokerName: () => '' });
  await proxy.start();
  const raw = new RawClient(proxy.address);
  try {
    // Authorization of QueryRoute is skipped, its authentication is not.
    assert.equal((await route(raw, signed(raw, APP.accessKey, APP.secretKey))).getStatus()?.getCode(), D.Code.OK);
    assert.equal((await route(raw, raw.metadata())).getStatus()?.getCode(), D.Code.UNAUTHORIZED);
    assert.equal((await assignment(raw, signed(raw, APP.accessKey, APP.secretKey))).getStatus()?.getCode(), D.Code.FORBIDDEN);
  } finally {
    raw.close();
    await proxy.shutdown();
  }
});
