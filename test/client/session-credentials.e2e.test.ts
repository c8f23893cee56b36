import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { Admin } from '../../src/admin/admin.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { LitePullConsumer } from '../../src/client/lite-pull-consumer.js';
import { PullConsumer } from '../../src/client/pull-consumer.js';
import { TransactionProducer } from '../../src/client/transaction-producer.js';
import { Message } from '../../src/client/message.js';
import { ConsumeFromWhere } from '../../src/client/headers.js';
import { MQBrokerError } from '../../src/remoting/errors.js';
import { ResponseCode } from '../../src/remoting/codes.js';
import type { SessionCredentials } from '../../src/remoting/acl-signature.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

// Every SDK client takes `sessionCredentials` and signs all its requests with them, as upstream's
// AclClientRPCHook, against a broker with authentication and authorization on.

const ROOT: SessionCredentials = { accessKey: 'admin', secretKey: 'admin-secret' };
const APP: SessionCredentials = { accessKey: 'app', secretKey: 'app-secret' };
const stamp = Date.now();
const TOPIC = `AuthSdk_${stamp}`;

let mq: Standalone;
let cleanup: () => void;

test.before(async () => {
  const t = tempDir('rmq-auth-sdk-');
  cleanup = t.cleanup;
  mq = await startStandalone({
    storeDir: t.dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false, logger: pino({ level: 'silent' }),
    brokerConfig: {
      fastListenPortEnable: false, authenticationEnabled: true, authorizationEnabled: true,
      initAuthenticationUser: JSON.stringify({ username: ROOT.accessKey, password: ROOT.secretKey }),
    },
    storeConfig: { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 600 * 20 },
  });
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr, sessionCredentials: ROOT });
  await admin.start();
  try {
    await admin.createOrUpdateTopic({ topicName: TOPIC, readQueueNums: 2, writeQueueNums: 2 }, { brokerAddr: mq.brokerAddr });
    await admin.api.createUser(mq.brokerAddr, { username: APP.accessKey, password: APP.secretKey });
    await admin.api.createAcl(mq.brokerAddr, {
      subject: `User:${APP.accessKey}`,
      policies: [{ entries: [
        { resource: `Topic:${TOPIC}`, actions: ['Pub', 'Sub', 'Get'], decision: 'Allow' },
        { resource: 'Group:auth-*', actions: ['Sub', 'Get', 'Update'], decision: 'Allow' },
      ] }],
    });
    await waitUntil(async () => (await admin.fetchAllTopicList()).includes(TOPIC), 'the topic registered');
  } finally {
    await admin.shutdown();
  }
});

test.after(async () => {
  await mq?.shutdown();
  cleanup?.();
});

test('Producer, PushConsumer, LitePullConsumer and PullConsumer with sessionCredentials send and receive', async () => {
  const producer = new Producer({ group: 'auth-pg', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP });
  const push = new PushConsumer({ group: 'auth-push', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET });
  const lite = new LitePullConsumer({ group: 'auth-lite', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP, consumeFromWhere: ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET, pollTimeoutMillis: 1000 });
  const pull = new PullConsumer({ group: 'auth-pull', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP });
  const got: string[] = [];
  try {
    await producer.start();
    for (let i = 0; i < 4; i++) await producer.send(new Message(TOPIC, `m${i}`));
    push.subscribe(TOPIC, '*');
    push.registerMessageListenerConcurrently(async (msgs) => { for (const m of msgs) got.push(m.body.toString()); });
    await push.start();
    await waitUntil(() => got.length >= 4, 'the push consumer got the 4 messages', 20_000);
    assert.deepEqual([...new Set(got)].sort(), ['m0', 'm1', 'm2', 'm3']);

    lite.subscribe(TOPIC, '*');
    await lite.start();
    const polled: string[] = [];
    await waitUntil(async () => {
      for (const m of await lite.poll(300)) polled.push(m.body.toString());
      return polled.length >= 4;
    }, 'the lite pull consumer polled the 4 messages', 20_000);

    await pull.start();
    const queues = await waitFor('queues', () => pull.fetchSubscribeMessageQueues(TOPIC));
    let pulled = 0;
    for (const q of queues) pulled += (await pull.pull(q, '*', 0, 32)).msgFoundList.length;
    assert.equal(pulled, 4);
  } finally {
    await push.shutdown();
    await lite.shutdown();
    await pull.shutdown();
    await producer.shutdown();
  }
});

test('TransactionProducer signs its sends and END_TRANSACTION', async () => {
  const tx = new TransactionProducer({ group: 'auth-tx', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP, checkLocalTransaction: () => 'COMMIT_MESSAGE' });
  const pull = new PullConsumer({ group: 'auth-txr', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP });
  try {
    await tx.start();
    await pull.start();
    const queues = await waitFor('queues', () => pull.fetchSubscribeMessageQueues(TOPIC));
    const before = await Promise.all(queues.map(async (q) => (await pull.pull(q, '*', 0, 64)).msgFoundList.length));
    await tx.sendInTransaction(new Message(TOPIC, 'tx-body'), async () => 'COMMIT_MESSAGE' as const);
    await waitUntil(async () => {
      const now = await Promise.all(queues.map(async (q) => (await pull.pull(q, '*', 0, 64)).msgFoundList.length));
      return now.reduce((a, b) => a + b, 0) > before.reduce((a, b) => a + b, 0);
    }, 'the committed message visible', 15_000);
  } finally {
    await pull.shutdown();
    await tx.shutdown();
  }
});

test('without credentials, or with a wrong secret, the broker refuses with NO_PERMISSION and says why', async () => {
  const bad = new Producer({ group: 'auth-bad', namesrvAddr: mq.namesrvAddr, sessionCredentials: { accessKey: APP.accessKey, secretKey: 'nope' }, retryTimesWhenSendFailed: 0 });
  const none = new Producer({ group: 'auth-none', namesrvAddr: mq.namesrvAddr, retryTimesWhenSendFailed: 0 });
  try {
    await bad.start();
    await none.start();
    await assert.rejects(bad.send(new Message(TOPIC, 'x')), (err: Error) => {
      assert.ok(err instanceof MQBrokerError || /NO_PERMISSION/.test(err.message), err.message);
      assert.match(err.message, /check signature failed/);
      return true;
    });
    await assert.rejects(none.send(new Message(TOPIC, 'x')), /username cannot be null/);
    // Authorized user, unauthorized topic.
    const other = new Producer({ group: 'auth-pg2', namesrvAddr: mq.namesrvAddr, sessionCredentials: APP, retryTimesWhenSendFailed: 0 });
    await other.start();
    try {
      await assert.rejects(other.send(new Message('TBW102', 'x')), (err: Error) => {
        assert.match(err.message, /User:app has no permission to access Topic:TBW102/);
        return err instanceof MQBrokerError ? err.responseCode === ResponseCode.NO_PERMISSION : true;
      });
    } finally {
      await other.shutdown();
    }
  } finally {
    await bad.shutdown();
    await none.shutdown();
  }
});
