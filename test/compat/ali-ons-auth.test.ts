import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { signRequest } from '../../src/remoting/acl-signature.js';
import { ons, useOnsStandalone, type OnsMessage, type OnsProducer } from './ons.js';

// ali-ons signs its requests with accessKeyId/accessKeySecret the way AclClientRPCHook does,
// plus an `OnsChannel: ALIYUN` field, which it signs too: an upstream broker verifies the
// signature over every extField but Signature, so it serves ali-ons as any signed client, and
// so does this one. Here with authentication and authorization on. (ali-ons shares one client,
// with its credentials, per instanceName: clients of other users need their own.)

const SUPER = { accessKey: 'test-key', secretKey: 'test-secret' };
const env = useOnsStandalone('rmq-alions-auth-', {
  brokerConfig: {
    authenticationEnabled: true, authorizationEnabled: true,
    initAuthenticationUser: JSON.stringify({ username: SUPER.accessKey, password: SUPER.secretKey }),
  },
});

async function admin(code: number, ext: Record<string, string | number>, body?: unknown): Promise<void> {
  const client = new RemotingClient();
  try {
    const req = createRequest(code, { extFields: ext, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) });
    signRequest(req, SUPER);
    const res = await client.invoke(env.mq.brokerAddr, req, 5000);
    assert.equal(res.code, ResponseCode.SUCCESS, res.remark);
  } finally {
    await client.shutdown();
  }
}

test('an ali-ons Producer and Consumer signed by a super user send and consume', async () => {
  const topic = 'AliOnsAuthTopic';
  const p = await env.producer('PID_ALIONS_AUTH');
  const got: OnsMessage[] = [];
  const c = env.consumer('CID_ALIONS_AUTH', 'auth-c1');
  c.subscribe(topic, '*', async (m) => { got.push(m); });
  const first = await p.send(new ons.Message(topic, 'T', 'first'));
  assert.equal(first.sendStatus, 'SEND_OK');
  await c.ready();
  for (let i = 0; i < 5; i++) await p.send(new ons.Message(topic, 'T', `m${i}`));
  await waitUntil(() => new Set(got.map((m) => m.body.toString())).size >= 6, 'the six messages', 30_000, 50);
});

test('an ali-ons client of a normal user works within its ACL', async () => {
  const topic = 'AliOnsAclTopic';
  await admin(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, defaultTopic: 'TBW102', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: 'false' });
  await admin(RequestCode.AUTH_CREATE_USER, { username: 'ons-app' }, { password: 'ons-app-secret' });
  await admin(RequestCode.AUTH_CREATE_ACL, { subject: 'User:ons-app' }, { policies: [{ entries: [
    { resource: `Topic:${topic}`, actions: ['Pub', 'Sub', 'Get'], decision: 'Allow' },
    { resource: 'Group:CID_ALIONS_ACL', actions: ['Sub', 'Get', 'Update'], decision: 'Allow' },
    { resource: 'Group:PID_ALIONS_ACL', actions: ['Pub'], decision: 'Allow' },
  ] }] });
  const creds = { accessKeyId: 'ons-app', accessKeySecret: 'ons-app-secret' };
  const p = env.track(new ons.Producer({ ...env.options(), ...creds, producerGroup: 'PID_ALIONS_ACL', instanceName: 'acl-p1' })) as OnsProducer;
  await p.ready();
  const got: OnsMessage[] = [];
  const c = env.track(new ons.Consumer({ ...env.options(), ...creds, consumerGroup: 'CID_ALIONS_ACL', instanceName: 'acl-c1' }));
  c.on('error', () => undefined);
  c.subscribe(topic, '*', async (m) => { got.push(m); });
  await c.ready();
  for (let i = 0; i < 4; i++) assert.equal((await p.send(new ons.Message(topic, 'T', `acl-${i}`))).sendStatus, 'SEND_OK');
  await waitUntil(() => new Set(got.map((m) => m.body.toString())).size >= 4, 'the four messages', 30_000, 50);
  // A topic the ACL does not grant: refused (ali-ons retries a NO_PERMISSION send, then says only that it failed).
  await assert.rejects(p.send(new ons.Message('AliOnsOtherTopic', 'T', 'no')), /Send \[\d+\] times, still failed, cost \[\d+\]ms, Topic: AliOnsOtherTopic/);
});

test('with a wrong secret, an ali-ons Consumer fails to start with the reason; a Producer cannot send', async () => {
  const c = env.track(new ons.Consumer({ ...env.options(), accessKeyId: SUPER.accessKey, accessKeySecret: 'not-the-secret', consumerGroup: 'CID_ALIONS_BAD', instanceName: 'bad-c1' }));
  c.on('error', () => undefined);
  c.subscribe('AliOnsAuthTopic', '*', async () => undefined);
  await assert.rejects(c.ready(), /check signature failed\. Check the SecretKey of AccessKey test-key/);
  const p = env.track(new ons.Producer({ ...env.options(), accessKeyId: SUPER.accessKey, accessKeySecret: 'not-the-secret', producerGroup: 'PID_ALIONS_BAD', instanceName: 'bad-p1' })) as OnsProducer;
  p.on('error', () => undefined);
  await p.ready();
  // ali-ons retries a NO_PERMISSION send and then reports only that it failed (as against upstream).
  await assert.rejects(p.send(new ons.Message('AliOnsAuthTopic', 'T', 'x')), /Send \[\d+\] times, still failed/);
});
