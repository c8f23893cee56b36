import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { LocalFileOffsetStore, ReadOffsetType, RemoteBrokerOffsetStore } from '../../src/client/offset-store.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';

const log = createLogger('offset-store-test');
const q0 = { topic: 'T', brokerName: 'b', queueId: 0 };
const q1 = { topic: 'T', brokerName: 'b', queueId: 1 };

test('local file store: persisted under <dir>/<clientId>/<group>/offsets.json and read back', async () => {
  const tmp = tempDir('rmq-offsets-');
  try {
    const s = new LocalFileOffsetStore(tmp.dir, '10.0.0.1@1', 'G', log);
    assert.equal(s.path, join(tmp.dir, '10.0.0.1@1', 'G', 'offsets.json'));
    await s.load();
    assert.equal(await s.readOffset(q0, ReadOffsetType.READ_FROM_STORE), -1);
    s.updateOffset(q0, 5, false);
    s.updateOffset(q0, 3, true);
    s.updateOffset(q1, 9, false);
    assert.equal(await s.readOffset(q0, ReadOffsetType.READ_FROM_MEMORY), 5, 'increaseOnly never moves back');
    await s.persistAll([q0, q1]);
    const again = new LocalFileOffsetStore(tmp.dir, '10.0.0.1@1', 'G', log);
    await again.load();
    assert.equal(await again.readOffset(q1, ReadOffsetType.MEMORY_FIRST_THEN_STORE), 9);
    assert.equal(await again.readOffset(q0, ReadOffsetType.READ_FROM_STORE), 5);
  } finally {
    tmp.cleanup();
  }
});

test("local file store reads upstream's file, whose keys are bare MessageQueue objects", async () => {
  const tmp = tempDir('rmq-offsets-');
  try {
    const s = new LocalFileOffsetStore(tmp.dir, 'c', 'G', log);
    mkdirSync(dirname(s.path), { recursive: true });
    writeFileSync(s.path, '{"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:42}}');
    await s.load();
    assert.equal(await s.readOffset(q1, ReadOffsetType.READ_FROM_MEMORY), 42);
    await s.persistAll([q1]);
    assert.deepEqual(JSON.parse(readFileSync(s.path, 'utf8')).offsetTable, { '{"brokerName":"b","queueId":1,"topic":"T"}': 42 });
  } finally {
    tmp.cleanup();
  }
});

test('broker store: reads from the broker, persists oneway periodically and synchronously on demand; failures read as -2', async () => {
  const calls: string[] = [];
  let stored = -1;
  let fail = false;
  const s = new RemoteBrokerOffsetStore({
    queryConsumerOffset: async () => { if (fail) throw new Error('down'); return stored; },
    updateConsumerOffset: async (mq, offset, oneway) => { calls.push(`${mq.queueId}=${offset}${oneway ? ' oneway' : ''}`); },
  }, log);
  assert.equal(await s.readOffset(q0, ReadOffsetType.READ_FROM_STORE), -1);
  stored = 7;
  assert.equal(await s.readOffset(q0, ReadOffsetType.MEMORY_FIRST_THEN_STORE), 7);
  s.updateOffset(q0, 8, true);
  s.updateOffset(q1, 2, false);
  await s.persistAll([q0]);
  await s.persist(q0);
  assert.deepEqual(calls, ['0=8 oneway', '0=8']);
  assert.equal(await s.readOffset(q1, ReadOffsetType.READ_FROM_MEMORY), -1, 'queues not persisted are forgotten');
  fail = true;
  assert.equal(await s.readOffset(q1, ReadOffsetType.READ_FROM_STORE), -2);
});

test('local file store: persisting some queues keeps the stored offsets of the others (upstream merges into the file)', async () => {
  const tmp = tempDir('rmq-offsets-merge-');
  const log = createLogger('offset-store-test');
  try {
    const qa = { topic: 'A', brokerName: 'b', queueId: 0 };
    const qb = { topic: 'B', brokerName: 'b', queueId: 0 };
    const first = new LocalFileOffsetStore(tmp.dir, 'c@1', 'G', log);
    await first.load();
    first.updateOffset(qa, 5, false);
    first.updateOffset(qb, 7, false);
    await first.persistAll([qa, qb]);
    // A later run of the BROADCASTING consumer subscribes only A.
    const second = new LocalFileOffsetStore(tmp.dir, 'c@1', 'G', log);
    await second.load();
    second.removeOffset(qa);
    assert.equal(await second.readOffset(qa, ReadOffsetType.READ_FROM_STORE), 5);
    second.updateOffset(qa, 6, true);
    await second.persistAll([qa]);
    // B subscribed again: it goes on from its offset, not from consumeFromWhere (which would skip what came meanwhile).
    const third = new LocalFileOffsetStore(tmp.dir, 'c@1', 'G', log);
    await third.load();
    assert.equal(await third.readOffset(qb, ReadOffsetType.READ_FROM_STORE), 7, "B's offset is still in the file");
    assert.equal(await third.readOffset(qa, ReadOffsetType.READ_FROM_STORE), 6);
  } finally {
    tmp.cleanup();
  }
});
