import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ResponseCode } from '../../src/remoting/codes.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { startStandalone } from '../../src/standalone.js';
import { tempDir } from '../helpers/tmp.js';
import { createTopicRequest, sendRequest } from '../broker/helpers.js';

/**
 * A broker started read-only (brokerPermission=4) advertises its topics without the write bit
 * (upstream BrokerController.registerBrokerAll builds masked copies). Its own topic configs must
 * stay as they are: once it is back to brokerPermission=6, sends to its topics must succeed.
 */
test('a read-only broker registration does not rewrite its own topic permissions', async () => {
  const { dir, cleanup } = tempDir('rmq-readonly-perm-');
  const logger = pino({ level: 'silent' });
  const opts = (perm: number) => ({
    storeDir: dir, host: '127.0.0.1', ports: { namesrv: 0, broker: 0 }, proxyConfig: false as const, logger,
    brokerConfig: { brokerPermission: perm },
    storeConfig: { mappedFileSizeCommitLog: 4 * 1024 * 1024, mappedFileSizeConsumeQueue: 6000 * 20 },
  });
  const client = new RemotingClient({});
  try {
    // Read-only run: topic A is created with perm 6, the broker registers, then topic B (a persist).
    let mq = await startStandalone(opts(4));
    let res = await client.invoke(mq.brokerAddr, createTopicRequest('PermA', 4, 4, 6), 5000);
    assert.equal(res.code, ResponseCode.SUCCESS);
    await mq.broker.registerBrokerAll();
    assert.equal(mq.broker.topicConfigManager.get('PermA')?.perm, 6, 'in-memory topic config of the read-only broker');
    res = await client.invoke(mq.brokerAddr, createTopicRequest('PermB', 4, 4, 6), 5000);
    assert.equal(res.code, ResponseCode.SUCCESS);
    await mq.shutdown();

    // Back to read-write: topic A must accept sends again.
    mq = await startStandalone(opts(6));
    try {
      res = await client.invoke(mq.brokerAddr, sendRequest({ topic: 'PermA', body: 'x' }), 5000);
      assert.equal(res.code, ResponseCode.SUCCESS, `send after restart: code ${res.code} ${res.remark ?? ''}`);
    } finally {
      await mq.shutdown();
    }
  } finally {
    await client.shutdown();
    cleanup();
  }
});
