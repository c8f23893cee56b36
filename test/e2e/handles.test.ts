import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { MQClientAPI } from '../../src/client/index.js';
import { tempDir } from '../helpers/tmp.js';

// The suite runs with --test-force-exit because a third-party client keeps timers after close();
// this test proves our own roles leave nothing behind once shut down.
test('a standalone that served traffic leaves no handle open after shutdown', async () => {
  const before = new Set(process.getActiveResourcesInfo());
  const tmp = tempDir('rmq-handles-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 } });
  const api = new MQClientAPI();
  const route = await api.getTopicRouteInfoFromNameServer(mq.namesrvAddr, 'TBW102');
  assert.equal(route.brokerDatas.length, 1);
  await api.shutdown();
  await mq.shutdown();
  tmp.cleanup();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
  const left = process.getActiveResourcesInfo().filter((h) => !before.has(h) && h !== 'Timeout' || h === 'TCPServerWrap' || h === 'TCPSocketWrap');
  assert.deepEqual(left, [], `handles left open: ${left.join(', ')}`);
  const timers = process.getActiveResourcesInfo().filter((h) => h === 'Timeout').length;
  // Only the test's own timer may remain (the 50 ms one has fired).
  assert.ok(timers <= [...before].filter((h) => h === 'Timeout').length, `timers left: ${timers}`);
});
