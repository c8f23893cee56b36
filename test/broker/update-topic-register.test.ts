import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { BrokerController } from '../../src/broker/index.js';
import { defaultBrokerConfig, defaultMessageStoreConfig } from '../../src/common/config.js';
import { decodeRegisterBrokerBody } from '../../src/common/route.js';
import { RequestCode, ResponseCode } from '../../src/remoting/codes.js';
import { createResponse } from '../../src/remoting/command.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { tempDir } from '../helpers/tmp.js';
import { createTopicRequest } from './helpers.js';

/**
 * Upstream AdminBrokerProcessor.updateAndCreateTopic calls registerIncrementBrokerData, which waits
 * for every NameServer's answer before the admin request is answered: once `mqadmin updateTopic`
 * returns, the NameServers already route the topic. A NameServer that takes a while to answer
 * (here 300 ms) shows whether the broker answers before the NameServer has the topic.
 */
test('UPDATE_AND_CREATE_TOPIC answers only after the NameServers have the topic; the same configuration again changes nothing', async () => {
  const tmp = tempDir('rmq-topic-register-');
  const logger = pino({ level: 'silent' });
  const known = new Set<string>();
  let registered = 0;
  const fakeNs = new RemotingServer({ port: 0, host: '127.0.0.1', logger });
  fakeNs.registerProcessor(RequestCode.REGISTER_BROKER, async (req) => {
    const body = decodeRegisterBrokerBody(req.body as Buffer, req.extFields?.compressed === 'true');
    await new Promise((r) => setTimeout(r, 300));
    for (const t of Object.keys(body.topicConfigSerializeWrapper.topicConfigTable)) known.add(t);
    registered++;
    return createResponse(req, ResponseCode.SUCCESS);
  });
  fakeNs.registerProcessor(RequestCode.UNREGISTER_BROKER, (req) => createResponse(req, ResponseCode.SUCCESS));
  await fakeNs.start();
  const client = new RemotingClient({});
  let broker: BrokerController | undefined;
  try {
    broker = new BrokerController({
      brokerConfig: { ...defaultBrokerConfig(), brokerName: 'broker-sync', brokerIP1: '127.0.0.1', listenPort: 0, namesrvAddr: `127.0.0.1:${fakeNs.port}` },
      storeConfig: { ...defaultMessageStoreConfig(), storePathRootDir: join(tmp.dir, 'store'), mappedFileSizeCommitLog: 4 * 1024 * 1024 },
      host: '127.0.0.1',
      logger,
    });
    await broker.start();
    const res = await client.invoke(broker.address, createTopicRequest('SyncRegisteredTopic', 2, 2), 10_000);
    assert.equal(res.code, ResponseCode.SUCCESS);
    assert.ok(known.has('SyncRegisteredTopic'), 'the NameServer does not know the topic when updateTopic has returned');
    // The same configuration again changes nothing (upstream TopicConfig.equals): no new data
    // version, no registration; a real change does both.
    const registrations = registered;
    const version = broker.topicConfigManager.dataVersion.counter;
    assert.equal((await client.invoke(broker.address, createTopicRequest('SyncRegisteredTopic', 2, 2), 10_000)).code, ResponseCode.SUCCESS);
    assert.equal(broker.topicConfigManager.dataVersion.counter, version);
    assert.equal(registered, registrations);
    assert.equal((await client.invoke(broker.address, createTopicRequest('SyncRegisteredTopic', 4, 4), 10_000)).code, ResponseCode.SUCCESS);
    assert.ok(broker.topicConfigManager.dataVersion.counter > version);
    assert.ok(registered > registrations);
  } finally {
    await client.shutdown();
    await broker?.shutdown();
    await fakeNs.shutdown();
    tmp.cleanup();
  }
});
