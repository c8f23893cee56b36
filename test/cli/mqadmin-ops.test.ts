import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Producer } from '../../src/client/producer.js';
import { Message } from '../../src/client/message.js';
import { startStandalone, type Standalone } from '../../src/standalone.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';
import { ok, fails } from './mqadmin-run.js';

// mqadmin's producer and store-maintenance commands, and the client-side checks (sendMsgStatus,
// checkMsgSendRT, clusterRT, printMsgByQueue, getConsumerConfig, updateOrderConf,
// queryMsgTraceById), run in-process against a real NameServer + Broker: each asserts what the
// command did on the servers, and that bad input is one clear line on stderr with exit code 1.

let mq: Standalone;
let producer: Producer;
let tmp: { dir: string; cleanup(): void };
const stamp = Date.now();
const PG = `OPS_PG_${stamp}`;

before(async () => {
  tmp = tempDir('rmq-mqadmin-ops-');
  mq = await startStandalone({
    storeDir: tmp.dir, ports: { namesrv: 0, broker: 0 }, host: '127.0.0.1', proxyConfig: false,
    // Small CommitLog segments, none kept once expired, cleanup rounds every 200 ms but never at
    // the deleteWhen hour: CommitLog files go only when deleteExpiredCommitLog asks.
    storeConfig: {
      mappedFileSizeCommitLog: 64 * 1024, maxMessageSize: 16 * 1024, fileReservedTime: 0, cleanResourceInterval: 200,
      deleteWhen: String((new Date().getHours() + 12) % 24).padStart(2, '0'), diskMaxUsedSpaceRatio: 95,
    },
  });
  producer = new Producer({ group: PG, namesrvAddr: mq.namesrvAddr });
  await producer.start();
});

after(async () => {
  await producer?.shutdown();
  await mq?.shutdown();
  tmp?.cleanup();
});

test('producer lists the live producers of every group on a broker', async () => {
  await producer.send(new Message(`OpsProd_${stamp}`, 'hello'));
  const out = await ok('producer', '-b', mq.brokerAddr);
  assert.match(out, new RegExp(`^producer group \\(${PG}\\) instance : clientId=[^,]+,remoteIP=/127\\.0\\.0\\.1:\\d+, language=NODE_JS, version=\\d+, lastUpdateTimestamp=\\d+$`, 'm'));
  const json = JSON.parse(await ok('producer', '-b', mq.brokerAddr, '--json')) as Record<string, unknown[]>;
  assert.equal(json[PG]?.length, 1);
  await fails(/required option '-b, --broker <addr>' not specified/, 'producer');
  await fails(/connect to 127\.0\.0\.1:1 failed/, 'producer', '-b', '127.0.0.1:1');
  await producer.send(new Message(`OpsProd_${stamp}`, 'still serving'));
});

// Last in the file: it deletes the CommitLog files before the newest.
test('deleteExpiredCommitLog, cleanExpiredCQ and cleanUnusedTopic clean the broker\'s store', async () => {
  const store = mq.broker.messageStore;
  const expired = `OpsExpired_${stamp}`;
  const unused = `OpsUnused_${stamp}`;
  const live = `OpsLive_${stamp}`;
  for (let i = 0; i < 3; i++) await producer.send(new Message(expired, `old${i}`));
  // Filler past two segments (random bytes: the producer compresses what compresses), so the topics above lie wholly in files that can expire.
  for (let i = 0; i < 20; i++) await producer.send(new Message(`OpsFiller_${stamp}`, randomBytes(8 * 1024)));
  await producer.send(new Message(live, 'live'));
  await producer.send(new Message(unused, 'unused'));
  assert.equal(store.commitLog.minOffset, 0, 'nothing deleted before the command');

  assert.equal(await ok('deleteExpiredCommitLog', '-b', mq.brokerAddr), 'success');
  await waitUntil(() => store.commitLog.minOffset > 0, 'the expired CommitLog files deleted', 10_000);
  const queuesOf = (topic: string): number[] => store.queueIdsOf(topic);
  assert.ok(queuesOf(expired).length > 0, 'the ConsumeQueues of a topic whose messages are gone stay until cleanExpiredCQ');

  assert.equal(await ok('cleanExpiredCQ', '-n', mq.namesrvAddr, '-c', 'DefaultCluster'), 'success');
  assert.deepEqual(queuesOf(expired), []);
  assert.ok(!existsSync(join(mq.storeDir, 'consumequeue', expired)), 'its directory is gone');
  assert.ok(queuesOf(live).length > 0, 'a topic with messages still stored keeps its queues');

  // A topic the broker no longer has (e.g. removed from topics.json) keeps its queues until cleanUnusedTopic.
  mq.broker.topicConfigManager.delete(unused);
  assert.ok(queuesOf(unused).length > 0);
  assert.equal(await ok('cleanUnusedTopic', '-n', mq.namesrvAddr), 'success', 'every broker of every cluster');
  assert.deepEqual(queuesOf(unused), []);
  assert.ok(queuesOf(live).length > 0);

  await fails(/connect to 127\.0\.0\.1:1 failed/, 'cleanExpiredCQ', '-b', '127.0.0.1:1');
  await fails(/cluster NoSuchCluster does not exist/, 'cleanUnusedTopic', '-n', mq.namesrvAddr, '-c', 'NoSuchCluster');
  await fails(/no NameServer address/, 'deleteExpiredCommitLog');
  const r = await producer.send(new Message(live, 'still serving'));
  assert.equal(r.sendStatus, 'SEND_OK');
});
