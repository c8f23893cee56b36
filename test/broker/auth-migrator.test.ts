import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { startStandalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/mq-client-api.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { signRequest } from '../../src/remoting/acl-signature.js';
import { newTopicConfig } from '../../src/broker/topic-config-manager.js';
import { tempDir } from '../helpers/tmp.js';

// migrateAuthFromV1Enabled (upstream AuthMigrator): at broker start the accounts of ACL 1.0's
// plain_acl.yml become ACL 2.0 users and ACLs, which the broker then enforces.

const quiet = pino({ level: 'silent' });

// Upstream's distribution/conf/plain_acl.yml, plus an account that already exists as a user.
const PLAIN_ACL_YML = `globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      # the group should convert to retry topic
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: "12345678"
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true

  - accessKey: root
    secretKey: from-the-yml
    admin: false
`;

test('migrateAuthFromV1Enabled: plain_acl.yml accounts become users and ACLs as upstream converts them; existing users stay', async () => {
  const { dir, cleanup } = tempDir('rmq-migrate-');
  const home = join(dir, 'home');
  mkdirSync(join(home, 'conf'), { recursive: true });
  writeFileSync(join(home, 'conf', 'plain_acl.yml'), PLAIN_ACL_YML);
  const ROOT = { accessKey: 'root', secretKey: 'root-secret' };
  const mq = await startStandalone({
    storeDir: join(dir, 'store'), host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger: quiet,
    brokerConfig: {
      fastListenPortEnable: false, authenticationEnabled: true, authorizationEnabled: true, migrateAuthFromV1Enabled: true, rocketmqHome: home,
      initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }),
    },
  });
  const admin = new MQClientAPI({ sessionCredentials: ROOT });
  const client = new RemotingClient();
  try {
    const addr = mq.brokerAddr;
    assert.deepEqual(await admin.getUser(addr, 'RocketMQ'), { username: 'RocketMQ', password: '12345678', userType: 'Normal', userStatus: 'enable' });
    assert.deepEqual(await admin.getUser(addr, 'rocketmq2'), { username: 'rocketmq2', password: '12345678', userType: 'Super', userStatus: 'enable' });
    // An existing user is not overwritten (its secret is still initAuthenticationUser's) and gets no ACL.
    assert.equal((await admin.getUser(addr, 'root'))?.password, ROOT.secretKey);
    assert.equal(await admin.getAcl(addr, 'User:root'), undefined);
    // The admin account is a super user: no ACL is needed, and none is made.
    assert.equal(await admin.getAcl(addr, 'User:rocketmq2'), undefined);
    assert.deepEqual(await admin.getAcl(addr, 'User:RocketMQ'), {
      subject: 'User:RocketMQ',
      policies: [
        { policyType: 'Custom', entries: [
          { resource: 'Topic:topicA', actions: ['All'], decision: 'Deny' },
          { resource: 'Topic:topicB', actions: ['Pub', 'Sub'], decision: 'Allow' },
          { resource: 'Topic:topicC', actions: ['Sub'], decision: 'Allow' },
          { resource: 'Group:groupA', actions: ['All'], decision: 'Deny' },
          { resource: 'Group:groupB', actions: ['Pub', 'Sub'], decision: 'Allow' },
          { resource: 'Group:groupC', actions: ['Sub'], decision: 'Allow' },
        ] },
        { policyType: 'Default', entries: [
          { resource: 'Topic:*', actions: ['All'], decision: 'Deny' },
          { resource: 'Group:*', actions: ['Sub'], decision: 'Allow' },
        ] },
      ],
    });
    // And the broker enforces them: topicB may be published to, topicA (and any other topic) not.
    for (const t of ['topicA', 'topicB', 'other']) mq.broker.topicConfigManager.update(newTopicConfig(t, 1, 1));
    const send = async (topic: string): Promise<{ code: number; remark?: string }> => {
      const req = createRequest(RequestCode.SEND_MESSAGE_V2, {
        extFields: { a: 'PG', b: topic, c: 'TBW102', d: '4', e: '0', f: '0', g: String(Date.now()), h: '0', i: '', j: '0', k: 'false', m: 'false' }, body: Buffer.from('x'),
      });
      signRequest(req, { accessKey: 'RocketMQ', secretKey: '12345678' });
      return client.invoke(addr, req, 5000);
    };
    assert.equal((await send('topicB')).code, ResponseCode.SUCCESS);
    const a = await send('topicA');
    assert.equal(a.code, ResponseCode.NO_PERMISSION);
    assert.match(a.remark ?? '', /User:RocketMQ has no permission to access Topic:topicA/);
    assert.equal((await send('other')).code, ResponseCode.NO_PERMISSION);
  } finally {
    await client.shutdown();
    await admin.shutdown();
    await mq.shutdown();
    cleanup();
  }
});
