import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BrokerController } from '../../src/broker/index.js';
import { defaultBrokerConfig, defaultMessageStoreConfig } from '../../src/common/config.js';
import { MQClientAPI } from '../../src/client/index.js';
import { tempDir } from '../helpers/tmp.js';

test('a send whose sync flush reaches syncFlushTimeout gets FLUSH_DISK_TIMEOUT (10) with its ids: stored, durability not confirmed', async () => {
  const tmp = tempDir('rmq-fdt-');
  // Built directly: startStandalone validates syncFlushTimeout > 0, and 0 is what makes a real
  // fdatasync always reach its deadline.
  const broker = new BrokerController({
    brokerConfig: { ...defaultBrokerConfig(), brokerName: 'broker-fdt', brokerIP1: '127.0.0.1', listenPort: 0, namesrvAddr: '' },
    storeConfig: { ...defaultMessageStoreConfig(), storePathRootDir: join(tmp.dir, 'store'), flushDiskType: 'SYNC_FLUSH', syncFlushTimeout: 0 },
    host: '127.0.0.1',
  });
  const api = new MQClientAPI();
  try {
    await broker.start();
    const r = await api.sendMessage(broker.address, 'broker-fdt', {
      producerGroup: 'PG', topic: 'FdtTopic', defaultTopic: 'TBW102', defaultTopicQueueNums: 4, queueId: 0,
      sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: 'TAGS\u0001a\u0002',
    }, Buffer.from('late'));
    assert.equal(r.sendStatus, 'FLUSH_DISK_TIMEOUT');
    assert.equal(r.queueOffset, 0);
    assert.match(r.offsetMsgId, /^[0-9A-F]{32}$/);
    const viewed = await api.viewMessage(broker.address, 0);
    assert.equal(viewed.body.toString(), 'late');
  } finally {
    await api.shutdown();
    await broker.shutdown();
    tmp.cleanup();
  }
});
