import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../../src/standalone.js';
import { Producer } from '../../src/client/producer.js';
import { PushConsumer } from '../../src/client/push-consumer.js';
import { LitePullConsumer } from '../../src/client/lite-pull-consumer.js';
import { Message } from '../../src/client/message.js';
import { MessageModel } from '../../src/client/headers.js';
import { Admin } from '../../src/admin/index.js';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from './helpers.js';

// Consumers hold long polls, timers and connections: after shutdown none may be left.
test('push (concurrent, orderly, broadcasting) and lite pull consumers leave no handle open after shutdown', async () => {
  const before = process.getActiveResourcesInfo();
  const tmp = tempDir('rmq-consumer-handles-');
  const offsets = tempDir('rmq-consumer-handles-offsets-');
  const mq = await startStandalone({ storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 } });
  const producer = new Producer({ namesrvAddr: mq.namesrvAddr });
  await producer.start();
  await producer.send(new Message('HandlesTopic', 'x'));
  let got = 0;
  const pushes = [
    new PushConsumer({ group: 'HandlesC', namesrvAddr: mq.namesrvAddr }),
    new PushConsumer({ group: 'HandlesO', namesrvAddr: mq.namesrvAddr }),
    new PushConsumer({ group: 'HandlesB', namesrvAddr: mq.namesrvAddr, messageModel: MessageModel.BROADCASTING, localOffsetStoreDir: offsets.dir }),
  ];
  pushes[0]!.registerMessageListenerConcurrently(async () => { got++; });
  pushes[1]!.registerMessageListenerOrderly(async () => { got++; });
  pushes[2]!.registerMessageListenerConcurrently(async () => { got++; });
  for (const c of pushes) {
    c.subscribe('HandlesTopic', '*');
    await c.start();
  }
  const lite = new LitePullConsumer({ group: 'HandlesL', namesrvAddr: mq.namesrvAddr });
  lite.subscribe('HandlesTopic');
  await lite.start();
  const admin = new Admin({ namesrvAddr: mq.namesrvAddr });
  await admin.start();
  await admin.examineTopicStats('HandlesTopic');
  await waitUntil(() => got >= 2 && pushes.every((c) => c.assignment().length > 0) && lite.assignment().length > 0, 'everyone assigned');
  // Let the pulls park on the broker (long polling) before shutting down.
  await new Promise((r) => setTimeout(r, 100));
  await lite.poll(50);
  for (const c of pushes) await c.shutdown();
  await lite.shutdown();
  await admin.shutdown();
  await producer.shutdown();
  await mq.shutdown();
  tmp.cleanup();
  offsets.cleanup();
  await new Promise((r) => setTimeout(r, 50));
  const count = (list: string[]): Map<string, number> => list.reduce((m, h) => m.set(h, (m.get(h) ?? 0) + 1), new Map<string, number>());
  const was = count(before);
  const left = [...count(process.getActiveResourcesInfo())].filter(([h, n]) => n > (was.get(h) ?? 0));
  assert.deepEqual(left, [], `handles left open: ${left.map(([h, n]) => `${h}×${n}`).join(', ')}`);
});
