import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NamesrvController } from '../../src/namesrv/index.js';
import { BrokerController } from '../../src/broker/index.js';
import { defaultBrokerConfig, defaultMessageStoreConfig, defaultNamesrvConfig } from '../../src/common/config.js';
import { MQClientAPI } from '../../src/client/index.js';
import { tempDir } from '../helpers/tmp.js';
import { join } from 'node:path';

test('a broker registers with every NameServer, each answering on its own; a topic change reaches all of them', async () => {
  const tmp = tempDir('rmq-multi-ns-');
  const ns = [0, 1].map((i) => new NamesrvController({ ...defaultNamesrvConfig(), listenPort: 0, kvConfigPath: join(tmp.dir, `kv${i}.json`) }, { host: '127.0.0.1' }));
  const api = new MQClientAPI();
  let broker: BrokerController | undefined;
  try {
    for (const n of ns) await n.start();
    const addrs = ns.map((n) => `127.0.0.1:${n.port}`);
    broker = new BrokerController({
      brokerConfig: { ...defaultBrokerConfig(), brokerName: 'broker-m', brokerIP1: '127.0.0.1', listenPort: 0, namesrvAddr: addrs.join(';') },
      storeConfig: { ...defaultMessageStoreConfig(), storePathRootDir: join(tmp.dir, 'store') },
      host: '127.0.0.1',
    });
    await broker.start();
    for (const a of addrs) {
      const route = await api.getTopicRouteInfoFromNameServer(a, 'TBW102');
      assert.equal(route.brokerDatas[0]!.brokerAddrs['0'], broker.address);
    }
    await api.createTopic(broker.address, 'TBW102', {
      topicName: 'MultiNsTopic', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    });
    for (const a of addrs) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const route = await api.getTopicRouteInfoFromNameServer(a, 'MultiNsTopic').catch(() => undefined);
        if (route) {
          assert.equal(route.queueDatas[0]!.writeQueueNums, 2);
          break;
        }
        assert.ok(Date.now() < deadline, `route of MultiNsTopic never reached ${a}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    // One NameServer going away does not disturb the other.
    await ns[0]!.shutdown();
    const route = await api.getTopicRouteInfoFromNameServer(addrs[1]!, 'MultiNsTopic');
    assert.equal(route.brokerDatas.length, 1);
  } finally {
    await api.shutdown();
    await broker?.shutdown();
    for (const n of ns) await n.shutdown();
    tmp.cleanup();
  }
});
