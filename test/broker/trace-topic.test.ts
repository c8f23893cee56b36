import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/index.js';
import { tempDir } from '../helpers/tmp.js';

test('traceTopicEnable creates the trace topic with one queue and registers it', async () => {
  const tmp = tempDir('rmq-trace-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', brokerConfig: { traceTopicEnable: true } });
  const api = new MQClientAPI();
  try {
    const route = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'RMQ_SYS_TRACE_TOPIC');
    assert.equal(route.queueDatas[0]!.writeQueueNums, 1);
    assert.equal(route.queueDatas[0]!.perm, 6);
  } finally {
    await api.shutdown();
    await mq.shutdown();
    tmp.cleanup();
  }
});
