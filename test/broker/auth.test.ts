import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { createRequest, createResponse, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode, SerializeType } from '../../src/remoting/codes.js';
import { aclRpcHook, calSignature, combineRequestContent, signRequest, type SessionCredentials } from '../../src/remoting/acl-signature.js';
import type { BrokerConfig } from '../../src/common/config.js';
import { tempDir } from '../helpers/tmp.js';

// The broker's ACL 2.0 over Remoting: authentication of every request, the AUTH_* admin codes,
// authorization by the users' ACLs, and both surviving a restart.

const quiet = pino({ level: 'silent' });
const ROOT: SessionCredentials = { accessKey: 'rocketmq2', secretKey: '12345678' };
const AUTH_ON: Partial<BrokerConfig> = {
  authenticationEnabled: true,
  initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }),
};

async function start(dir: string, brokerConfig: Partial<BrokerConfig>): Promise<Standalone> {
  return startStandalone({
    storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger: quiet,
    brokerConfig: { fastListenPortEnable: false, ...brokerConfig },
    storeConfig: { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 600 * 20 },
  });
}

/** One broker with `cfg`, a plain client and a helper that signs with given credentials. */
async function withBroker(cfg: Partial<BrokerConfig>, fn: (mq: Standalone, call: Call) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir('rmq-auth-');
  const mq = await start(dir, cfg);
  const client = new RemotingClient();
  try {
    await fn(mq, callVia(client, mq.brokerAddr));
  } finally {
    await client.shutdown();
    await mq.shutdown();
    cleanup();
  }
}

type Call = (code: number, ext?: Record<string, string | number | boolean>, opts?: { creds?: SessionCredentials; body?: unknown; json?: boolean }) => Promise<RemotingCommand>;

function callVia(client: RemotingClient, addr: string): Call {
  return (code, ext = {}, opts = {}) => {
    const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    const req = createRequest(code, { extFields: ext, body, serializeType: opts.json ? SerializeType.JSON : SerializeType.ROCKETMQ });
    if (opts.creds) signRequest(req, opts.creds);
    return client.invoke(addr, req, 5000);
  };
}

test('signature: values of the sorted extFields, then the body, HmacSHA1 base64 (upstream AclClientRPCHook)', () => {
  const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'T', b: 'x' }, body: Buffer.from('B') });
  signRequest(req, { accessKey: 'ak', secretKey: 'sk' });
  // Keys sorted: AccessKey, b, topic → "ak" + "x" + "T", then the body.
  assert.equal(req.extFields!.AccessKey, 'ak');
  assert.equal(req.extFields!.Signature, calSignature(Buffer.from('akxTB'), 'sk'));
  // Known value, computed independently with `printf akxTB | openssl sha1 -hmac sk -binary | base64`.
  assert.equal(req.extFields!.Signature, '+asLRVlPciE97L+Uh07DdMmoHUY=');
  assert.deepEqual(combineRequestContent({ Signature: 'zz', a: '1' }, undefined), Buffer.from('1'));
});

test('authentication on: unsigned, badly signed, unknown and disabled users get NO_PERMISSION; the connection keeps serving', async () => {
  await withBroker(AUTH_ON, async (mq, call) => {
    let res = await call(RequestCode.GET_BROKER_RUNTIME_INFO);
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /username cannot be null.*AccessKey and SecretKey/);

    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: { accessKey: ROOT.accessKey, secretKey: 'wrong' } });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /check signature failed/);

    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: { accessKey: 'nobody', secretKey: 'x' } });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /User:nobody is not found/);

    // A tampered field breaks the signature.
    const client = new RemotingClient();
    try {
      const req = createRequest(RequestCode.GET_MAX_OFFSET, { extFields: { topic: 'TopicTest', queueId: 0 } });
      signRequest(req, ROOT);
      req.extFields!.queueId = '1';
      res = await client.invoke(mq.brokerAddr, req, 5000);
      assert.equal(res.code, ResponseCode.NO_PERMISSION);
    } finally {
      await client.shutdown();
    }

    // Signed by the initial super user: served, over the same connection, binary and JSON headers.
    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: ROOT });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: ROOT, json: true });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);

    // A normal user, then disabled.
    res = await call(RequestCode.AUTH_CREATE_USER, { username: 'alice' }, { creds: ROOT, body: { password: 'alice-secret' } });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    const alice = { accessKey: 'alice', secretKey: 'alice-secret' };
    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: alice });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    res = await call(RequestCode.AUTH_UPDATE_USER, { username: 'alice' }, { creds: ROOT, body: { userStatus: 'disable' } });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    res = await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: alice });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /User:alice is disabled/);
  });
});

test('authenticationWhitelist lets the listed codes through unsigned; the switches are not changeable at run time (upstream AuthConfig)', async () => {
  await withBroker({ ...AUTH_ON, authenticationWhitelist: `${RequestCode.GET_BROKER_RUNTIME_INFO}, ${RequestCode.GET_ALL_TOPIC_CONFIG}` }, async (_mq, call) => {
    assert.equal((await call(RequestCode.GET_BROKER_RUNTIME_INFO)).code, ResponseCode.SUCCESS);
    assert.equal((await call(RequestCode.GET_BROKER_CONFIG)).code, ResponseCode.NO_PERMISSION);
    const res = await call(RequestCode.UPDATE_BROKER_CONFIG, {}, { creds: ROOT, body: 'authenticationEnabled=false\n' });
    assert.notEqual(res.code, ResponseCode.SUCCESS);
    assert.match(res.remark!, /unknown broker config key "authenticationEnabled"/);
    assert.equal((await call(RequestCode.GET_BROKER_CONFIG)).code, ResponseCode.NO_PERMISSION);
    // Nor does GET_BROKER_CONFIG show them: the initial user's password is not given away.
    const conf = (await call(RequestCode.GET_BROKER_CONFIG, {}, { creds: ROOT })).body!.toString();
    assert.match(conf, /brokerClusterName/);
    assert.doesNotMatch(conf, /initAuthenticationUser|12345678/);
  });
});

test('stateful authentication keeps a connection\'s verdict; stateless checks every request', async () => {
  await withBroker({ ...AUTH_ON, authenticationStrategy: 'org.apache.rocketmq.auth.authentication.strategy.StatefulAuthenticationStrategy' }, async (mq, call) => {
    assert.equal((await call(RequestCode.AUTH_CREATE_USER, { username: 'bob' }, { creds: ROOT, body: { password: 'pw' } })).code, ResponseCode.SUCCESS);
    const bob = { accessKey: 'bob', secretKey: 'pw' };
    assert.equal((await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: bob })).code, ResponseCode.SUCCESS);
    assert.equal((await call(RequestCode.AUTH_UPDATE_USER, { username: 'bob' }, { creds: ROOT, body: { userStatus: 'disable' } })).code, ResponseCode.SUCCESS);
    // Same connection: the earlier verdict stands (upstream caches it for 60 s by default).
    assert.equal((await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: bob })).code, ResponseCode.SUCCESS);
    // A new connection is checked afresh.
    const other = new RemotingClient();
    try {
      const res = await callVia(other, mq.brokerAddr)(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: bob });
      assert.equal(res.code, ResponseCode.NO_PERMISSION);
    } finally {
      await other.shutdown();
    }
  });
});

test('AUTH_* codes: users and ACLs created, read, listed, updated, deleted, with upstream bodies and clear refusals', async () => {
  await withBroker(AUTH_ON, async (_mq, call) => {
    const c = (code: number, ext: Record<string, string | number | boolean> = {}, body?: unknown): Promise<RemotingCommand> => call(code, ext, { creds: ROOT, body });
    // Users.
    assert.equal((await c(RequestCode.AUTH_CREATE_USER, { username: 'u1' }, { password: 'p1' })).code, ResponseCode.SUCCESS);
    let res = await c(RequestCode.AUTH_CREATE_USER, { username: 'u1' }, { password: 'p1' });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.equal(res.remark, 'The user is existed');
    res = await c(RequestCode.AUTH_CREATE_USER, {}, { password: 'p' });
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER);
    assert.equal(res.remark, 'The username is blank');
    res = await c(RequestCode.AUTH_CREATE_USER, { username: 'u2' }, '{not json');
    assert.equal(res.code, ResponseCode.INVALID_PARAMETER);
    assert.match(res.remark!, /The body of user is not valid JSON/);
    res = await c(RequestCode.AUTH_CREATE_USER, { username: 'u2' }, { password: 'p', userType: 'Admin' });
    assert.match(res.remark!, /user type Admin is unknown/);
    res = await c(RequestCode.AUTH_GET_USER, { username: 'u1' });
    assert.deepEqual(JSON.parse(res.body!.toString()), { username: 'u1', password: 'p1', userType: 'Normal', userStatus: 'enable' });
    res = await c(RequestCode.AUTH_GET_USER, { username: 'ghost' });
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.equal(res.body, undefined);
    res = await c(RequestCode.AUTH_LIST_USER, { filter: 'u' });
    assert.deepEqual((JSON.parse(res.body!.toString()) as Array<{ username: string }>).map((u) => u.username), ['u1']);
    res = await c(RequestCode.AUTH_LIST_USER);
    assert.deepEqual((JSON.parse(res.body!.toString()) as Array<{ username: string }>).map((u) => u.username), ['rocketmq2', 'u1']);

    // A normal user may not make a super user.
    const u1 = { accessKey: 'u1', secretKey: 'p1' };
    res = await call(RequestCode.AUTH_CREATE_USER, { username: 'u3' }, { creds: u1, body: { password: 'p', userType: 'Super' } });
    assert.equal(res.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(res.remark, 'The super user can only be create by super user');

    // ACLs.
    const acl = { policies: [{ entries: [{ resource: 'Topic:orders-*', actions: ['Pub', 'Get'], sourceIps: ['127.0.0.1/8'], decision: 'Allow' }] }] };
    res = await c(RequestCode.AUTH_CREATE_ACL, { subject: 'User:u1' }, acl);
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    res = await c(RequestCode.AUTH_UPDATE_ACL, { subject: 'User:u1' }, { policies: [{ entries: [{ resource: 'Group:g1', actions: ['Sub'], decision: 'Allow' }] }] });
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
    res = await c(RequestCode.AUTH_GET_ACL, { subject: 'User:u1' });
    assert.deepEqual(JSON.parse(res.body!.toString()), {
      subject: 'User:u1',
      policies: [{ policyType: 'Custom', entries: [
        { resource: 'Topic:orders-*', actions: ['Pub', 'Get'], sourceIps: ['127.0.0.1/8'], decision: 'Allow' },
        { resource: 'Group:g1', actions: ['Sub'], decision: 'Allow' },
      ] }],
    });
    res = await c(RequestCode.AUTH_LIST_ACL, { resourceFilter: 'Group' });
    assert.deepEqual(JSON.parse(res.body!.toString()), [{ subject: 'User:u1', policies: [{ policyType: 'Custom', entries: [{ resource: 'Group:g1', actions: ['Sub'], decision: 'Allow' }] }] }]);
    // Bad inputs.
    const bad = async (body: unknown, re: RegExp, code: number = ResponseCode.NO_PERMISSION): Promise<void> => {
      const r = await c(RequestCode.AUTH_CREATE_ACL, { subject: 'User:u1' }, body);
      assert.equal(r.code, code, r.remark);
      assert.match(r.remark!, re);
    };
    await bad({ policies: [{ entries: [{ resource: 'Topic:t', actions: ['Publish'], decision: 'Allow' }] }] }, /action Publish is unknown/);
    await bad({ policies: [{ entries: [{ resource: 'Topic:t', actions: ['Any'], decision: 'Allow' }] }] }, /can not be Any/);
    await bad({ policies: [{ entries: [{ resource: 'Queue:t', actions: ['Pub'], decision: 'Allow' }] }] }, /resource Queue:t is invalid/);
    await bad({ policies: [{ entries: [{ resource: 'Topic:t', actions: ['Pub'], decision: 'Maybe' }] }] }, /decision is null or illegal/);
    await bad({ policies: [{ entries: [{ resource: 'Topic:t', actions: ['Pub'], sourceIps: ['300.1.1.1'], decision: 'Allow' }] }] }, /source ip 300.1.1.1 is invalid/);
    await bad({ policies: [] }, /The body of acl is null/);
    await bad('[1,2', /not valid JSON/, ResponseCode.INVALID_PARAMETER);
    res = await c(RequestCode.AUTH_CREATE_ACL, { subject: 'User:ghost' }, acl);
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /The subject of User:ghost is not exist/);
    // Delete one entry, then the user with its ACL.
    assert.equal((await c(RequestCode.AUTH_DELETE_ACL, { subject: 'User:u1', resource: 'Group:g1' })).code, ResponseCode.SUCCESS);
    res = await c(RequestCode.AUTH_GET_ACL, { subject: 'User:u1' });
    assert.equal((JSON.parse(res.body!.toString()) as { policies: Array<{ entries: unknown[] }> }).policies[0]!.entries.length, 1);
    assert.equal((await c(RequestCode.AUTH_DELETE_USER, { username: 'u1' })).code, ResponseCode.SUCCESS);
    assert.equal((await c(RequestCode.AUTH_LIST_ACL)).body, undefined);
  });
});

test('authorization: a normal user is allowed and denied by its ACL (prefix, literal, deny first, retry topic → group); super users pass', async () => {
  await withBroker({ ...AUTH_ON, authorizationEnabled: true }, async (_mq, call) => {
    const c = (code: number, ext: Record<string, string | number | boolean> = {}, body?: unknown): Promise<RemotingCommand> => call(code, ext, { creds: ROOT, body });
    assert.equal((await c(RequestCode.AUTH_CREATE_USER, { username: 'app' }, { password: 'app-pw' })).code, ResponseCode.SUCCESS);
    const app = { accessKey: 'app', secretKey: 'app-pw' };
    const asApp = (code: number, ext: Record<string, string | number | boolean> = {}, body?: unknown): Promise<RemotingCommand> => call(code, ext, { creds: app, body });

    // No ACL yet.
    let res = await asApp(RequestCode.GET_MAX_OFFSET, { topic: 'orders-1', queueId: 0 });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /User:app has no permission to access Topic:orders-1 from 127.0.0.1, no matched policies./);

    await c(RequestCode.AUTH_CREATE_ACL, { subject: 'User:app' }, { policies: [{ entries: [
      { resource: 'Topic:orders-*', actions: ['Pub', 'Sub', 'Get'], decision: 'Allow' },
      { resource: 'Topic:orders-secret', actions: ['All'], decision: 'Deny' },
      { resource: 'Group:billing', actions: ['Sub'], decision: 'Allow' },
      { resource: 'Topic:remote-only', actions: ['Get'], sourceIps: ['10.0.0.0/8'], decision: 'Allow' },
    ] }] });
    res = await asApp(RequestCode.GET_MAX_OFFSET, { topic: 'orders-1', queueId: 0 });
    assert.notEqual(res.code, ResponseCode.NO_PERMISSION, res.remark);
    res = await asApp(RequestCode.GET_MAX_OFFSET, { topic: 'orders-secret', queueId: 0 });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /the decision is deny/);
    res = await asApp(RequestCode.GET_MAX_OFFSET, { topic: 'remote-only', queueId: 0 });
    assert.equal(res.code, ResponseCode.NO_PERMISSION, 'the entry is for 10.0.0.0/8 only');
    // Create needs Create.
    res = await asApp(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'orders-new', readQueueNums: 1, writeQueueNums: 1, perm: 6 });
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    // Sending to a retry topic needs Sub on the group, not Pub on the topic.
    res = await asApp(RequestCode.SEND_MESSAGE_V2, { a: 'billing', b: '%RETRY%billing', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false, m: false }, 'x');
    assert.notEqual(res.code, ResponseCode.NO_PERMISSION, res.remark);
    res = await asApp(RequestCode.SEND_MESSAGE_V2, { a: 'other', b: '%RETRY%other', c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: '', j: 0, k: false, m: false }, 'x');
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /Group:other/);
    // Heartbeat: the group and each subscribed topic need Sub.
    const hb = (group: string, topic: string): unknown => ({ clientID: 'c1', producerDataSet: [], consumerDataSet: [{ groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', unitMode: false, subscriptionDataSet: [{ topic, subString: '*' }] }] });
    assert.equal((await asApp(RequestCode.HEART_BEAT, {}, hb('billing', 'orders-1'))).code, ResponseCode.SUCCESS);
    res = await asApp(RequestCode.HEART_BEAT, {}, hb('billing', 'payments'));
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /Topic:payments/);
    // AUTH_* codes need Cluster permissions; the super user has them all.
    res = await asApp(RequestCode.AUTH_LIST_USER);
    assert.equal(res.code, ResponseCode.NO_PERMISSION);
    assert.match(res.remark!, /Cluster:DefaultCluster/);
    assert.equal((await c(RequestCode.AUTH_LIST_USER)).code, ResponseCode.SUCCESS);
    assert.equal((await c(RequestCode.GET_MAX_OFFSET, { topic: 'orders-secret', queueId: 0 })).code === ResponseCode.NO_PERMISSION, false);
  });
});

test('users and ACLs survive a restart; initAuthenticationUser does not overwrite an existing user', async () => {
  const { dir, cleanup } = tempDir('rmq-auth-restart-');
  try {
    let mq = await start(dir, { ...AUTH_ON, authorizationEnabled: true });
    let client = new RemotingClient();
    let call = callVia(client, mq.brokerAddr);
    assert.equal((await call(RequestCode.AUTH_CREATE_USER, { username: 'keep' }, { creds: ROOT, body: { password: 'kp' } })).code, ResponseCode.SUCCESS);
    assert.equal((await call(RequestCode.AUTH_CREATE_ACL, { subject: 'User:keep' }, { creds: ROOT, body: { policies: [{ entries: [{ resource: 'Topic:kt', actions: ['Get'], decision: 'Allow' }] }] } })).code, ResponseCode.SUCCESS);
    assert.equal((await call(RequestCode.AUTH_UPDATE_USER, { username: ROOT.accessKey }, { creds: ROOT, body: { password: 'rotated' } })).code, ResponseCode.SUCCESS);
    await client.shutdown();
    await mq.shutdown();

    mq = await start(dir, { ...AUTH_ON, authorizationEnabled: true });
    client = new RemotingClient();
    call = callVia(client, mq.brokerAddr);
    try {
      const keep = { accessKey: 'keep', secretKey: 'kp' };
      assert.notEqual((await call(RequestCode.GET_MAX_OFFSET, { topic: 'kt', queueId: 0 }, { creds: keep })).code, ResponseCode.NO_PERMISSION);
      assert.equal((await call(RequestCode.GET_MAX_OFFSET, { topic: 'other', queueId: 0 }, { creds: keep })).code, ResponseCode.NO_PERMISSION);
      // The rotated password holds; the configured initial one is not put back.
      assert.equal((await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: ROOT })).code, ResponseCode.NO_PERMISSION);
      assert.equal((await call(RequestCode.GET_BROKER_RUNTIME_INFO, {}, { creds: { ...ROOT, secretKey: 'rotated' } })).code, ResponseCode.SUCCESS);
    } finally {
      await client.shutdown();
      await mq.shutdown();
    }
  } finally {
    cleanup();
  }
});

test('the broker signs its NameServer requests with innerClientAuthenticationCredentials', async () => {
  const seen: RemotingCommand[] = [];
  const ns = new RemotingServer({ port: 0, host: '127.0.0.1', logger: quiet });
  ns.registerProcessor(RequestCode.REGISTER_BROKER, (req) => {
    seen.push(req);
    return createResponse(req, ResponseCode.SUCCESS);
  });
  ns.registerProcessor(RequestCode.UNREGISTER_BROKER, (req) => createResponse(req, ResponseCode.SUCCESS));
  await ns.start();
  const { dir, cleanup } = tempDir('rmq-auth-inner-');
  const { BrokerController } = await import('../../src/broker/broker-controller.js');
  const { defaultBrokerConfig, defaultMessageStoreConfig } = await import('../../src/common/config.js');
  const broker = new BrokerController({
    host: '127.0.0.1', logger: quiet,
    brokerConfig: { ...defaultBrokerConfig(), brokerIP1: '127.0.0.1', listenPort: 0, fastListenPortEnable: false, namesrvAddr: `127.0.0.1:${ns.port}`, innerClientAuthenticationCredentials: JSON.stringify({ accessKey: 'inner', secretKey: 'inner-sk' }) },
    storeConfig: { ...defaultMessageStoreConfig(), storePathRootDir: dir, mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 600 * 20 },
  });
  try {
    await broker.start();
    assert.ok(seen.length > 0);
    const req = seen[0]!;
    const fields = { ...req.extFields! };
    assert.equal(fields.AccessKey, 'inner');
    assert.equal(fields.Signature, calSignature(combineRequestContent(fields, req.body), 'inner-sk'));
    // The inner credentials are a super user of the broker's store.
    assert.equal(broker.authMetadataStore.getUser('inner')?.userType, 'Super');
    assert.ok(aclRpcHook(undefined) === undefined);
  } finally {
    await broker.shutdown();
    await ns.shutdown();
    cleanup();
  }
});
