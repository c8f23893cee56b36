import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndexService, indexKeyPrefixHash } from '../../src/store/index-service.js';
import { javaStringHashCode } from '../../src/common/java.js';
import type { DispatchRequest } from '../../src/store/commit-log.js';
import { indexFileSize } from '../../src/store/index-file.js';
import { encodeProperties } from '../../src/common/properties.js';
import { MessageSysFlag } from '../../src/common/sysflag.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';

const logger = createLogger('test-index');

function service(dir: string, over: Partial<ConstructorParameters<typeof IndexService>[0]> = {}): IndexService {
  return new IndexService({ dir: join(dir, 'index'), hashSlotNum: 50, indexNum: 100, maxMsgsNumBatch: 64, logger, ...over });
}

function req(phyOffset: number, storeTimestamp: number, props: Record<string, string>, topic = 'T', sysFlag = 0): DispatchRequest {
  return { topic, queueId: 0, queueOffset: 0, phyOffset, size: 100, tagsCode: 0, storeTimestamp, sysFlag, properties: encodeProperties(props), queue: undefined, keyPrefixHash: undefined };
}

async function find(s: IndexService, key: string, maxNum = 64, begin = 0, end = Number.MAX_SAFE_INTEGER, topic = 'T'): Promise<number[]> {
  return (await s.queryOffset(topic, key, maxNum, begin, end)).phyOffsets.sort((a, b) => a - b);
}

test('UNIQ_KEY and every non-empty KEYS token are indexed as topic#key; rollback records are not', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = service(dir);
    s.load(true, 0);
    const t = 1_700_000_000_000;
    s.buildIndexes([req(0, t, { UNIQ_KEY: 'U1', KEYS: 'a  b ' })]);
    s.buildIndexes([req(100, t, { UNIQ_KEY: 'U2', KEYS: 'b' })]);
    s.buildIndexes([req(200, t, { KEYS: 'a' }, 'Other')]);
    s.buildIndexes([req(300, t, { UNIQ_KEY: 'U3', KEYS: 'a' }, 'T', MessageSysFlag.TRANSACTION_ROLLBACK_TYPE)]);
    s.buildIndexes([req(400, t, { UNIQ_KEY: 'U4', KEYS: 'half' }, 'T', MessageSysFlag.TRANSACTION_PREPARED_TYPE)]);
    s.buildIndexes([req(500, t, { TAGS: 'nothing-to-index' })]);
    assert.deepEqual(await find(s, 'U1'), [0]);
    assert.deepEqual(await find(s, 'a'), [0]);
    assert.deepEqual(await find(s, 'b'), [0, 100]);
    assert.deepEqual(await find(s, 'a', 64, 0, Number.MAX_SAFE_INTEGER, 'Other'), [200]);
    assert.deepEqual(await find(s, 'U3'), []);
    assert.deepEqual(await find(s, 'half'), [400]);
    assert.deepEqual(await find(s, ''), []);
    // Re-dispatching records already indexed (recovery) adds nothing.
    s.buildIndexes([req(100, t, { UNIQ_KEY: 'U2', KEYS: 'b' })]);
    assert.deepEqual(await find(s, 'b'), [0, 100]);
    const r = await s.queryOffset('T', 'b', 64, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(r.indexLastUpdatePhyoffset, 400);
    assert.equal(r.indexLastUpdateTimestamp, t);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a batch indexes as its records one by one: shared keys chain, re-dispatched records are skipped, a full file rolls over mid-batch', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = service(dir);
    s.load(true, 0);
    const t = 1_700_000_000_000;
    s.buildIndexes([
      req(0, t, { UNIQ_KEY: 'U1', KEYS: 'a  b ' }),
      req(100, t, { UNIQ_KEY: 'U1', KEYS: 'b' }),
      req(200, t, { KEYS: 'a' }, 'Other'),
      req(300, t, { UNIQ_KEY: 'U3', KEYS: 'a' }, 'T', MessageSysFlag.TRANSACTION_ROLLBACK_TYPE),
      req(400, t, { TAGS: 'nothing-to-index' }),
      req(500, t, { UNIQ_KEY: 'U5' }),
    ]);
    assert.deepEqual(await find(s, 'U1'), [0, 100]);
    assert.deepEqual(await find(s, 'b'), [0, 100]);
    assert.deepEqual(await find(s, 'a'), [0]);
    assert.deepEqual(await find(s, 'a', 64, 0, Number.MAX_SAFE_INTEGER, 'Other'), [200]);
    assert.deepEqual(await find(s, 'U3'), []);
    // A batch re-dispatched from before the last indexed record (recovery) adds only what is new.
    s.buildIndexes([req(400, t, { UNIQ_KEY: 'again' }), req(500, t, { UNIQ_KEY: 'U5' }), req(600, t, { UNIQ_KEY: 'U6' })]);
    assert.deepEqual(await find(s, 'again'), []);
    assert.deepEqual(await find(s, 'U5'), [500]);
    assert.deepEqual(await find(s, 'U6'), [600]);
    // 150 records with two keys each fill this service's files (99 entries) three times over.
    const batch = Array.from({ length: 150 }, (_, i) => req(1000 + i * 100, t, { UNIQ_KEY: `B${i}`, KEYS: 'shared' }));
    s.buildIndexes(batch);
    assert.ok(s.indexFiles.length >= 4, `files: ${s.indexFiles.length}`);
    for (let i = 0; i < 150; i++) assert.deepEqual(await find(s, `B${i}`), [1000 + i * 100]);
    // A query returns at most maxMsgsNumBatch (64) offsets: the newest of the shared key's chain.
    assert.deepEqual(await find(s, 'shared', 1000), batch.slice(-64).map((d) => d.phyOffset));
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('keys are read from the properties string as upstream splits it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = service(dir);
    s.load(true, 0);
    const t = 1_700_000_000_000;
    const raw = (phyOffset: number, properties: string, topic = 'T'): DispatchRequest =>
      ({ topic, queueId: 0, queueOffset: 0, phyOffset, size: 100, tagsCode: 0, storeTimestamp: t, sysFlag: 0, properties, queue: undefined, keyPrefixHash: undefined });
    // A property whose name ends in KEYS is not KEYS; the last pair may lack its separator.
    s.buildIndexes([raw(0, 'XKEYS\u0001wrong\u0002KEYS\u0001 one  two\u0002UNIQ_KEY\u0001U0')]);
    // Empty values index nothing.
    s.buildIndexes([raw(100, 'UNIQ_KEY\u0001\u0002KEYS\u0001\u0002')]);
    s.buildIndexes([raw(200, 'KEYS\u0001   \u0002UNIQ_KEY\u0001U2\u0002')]);
    // Consecutive records of different topics each get their own prefix.
    s.buildIndexes([raw(300, 'KEYS\u0001one\u0002', 'Other')]);
    s.buildIndexes([raw(400, 'KEYS\u0001one\u0002')]);
    assert.deepEqual(await find(s, 'wrong'), []);
    assert.deepEqual(await find(s, 'one'), [0, 400]);
    assert.deepEqual(await find(s, 'two'), [0]);
    assert.deepEqual(await find(s, 'U0'), [0]);
    assert.deepEqual(await find(s, 'U2'), [200]);
    assert.deepEqual(await find(s, 'one', 64, 0, Number.MAX_SAFE_INTEGER, 'Other'), [300]);
    assert.deepEqual(await find(s, ' one'), []);
    assert.equal(s.indexFiles[0]!.indexCount, 1 + 3 + 1 + 1 + 1);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a record carrying its topic\'s key prefix hash is indexed as topic#key, with topics in turn', async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const topic of ['T', 'Orders-\u00e9t\u00e9', 'x'.repeat(127)]) {
      assert.equal(indexKeyPrefixHash(topic), javaStringHashCode(`${topic}#`), topic);
    }
    const s = service(dir);
    s.load(true, 0);
    const t = 1_700_000_000_000;
    const topics = ['A', 'B', 'C'];
    // As the store's puts: each record carries the hash; the prefix changes on every record.
    for (let i = 0; i < 30; i++) {
      const topic = topics[i % 3]!;
      const d = req(i * 100, t + i, { UNIQ_KEY: `U${i}`, KEYS: `k${i % 2}` }, topic);
      d.keyPrefixHash = indexKeyPrefixHash(topic);
      s.buildIndexes([d]);
    }
    assert.deepEqual(await find(s, 'U4', 64, 0, Number.MAX_SAFE_INTEGER, 'B'), [400]);
    assert.deepEqual(await find(s, 'U4', 64, 0, Number.MAX_SAFE_INTEGER, 'A'), []);
    assert.deepEqual(await find(s, 'k0', 64, 0, Number.MAX_SAFE_INTEGER, 'C'), [200, 800, 1400, 2000, 2600]);
    // A record without it (recovery) is indexed under the same keys.
    s.buildIndexes([req(3000, t + 30, { UNIQ_KEY: 'U30' }, 'B')]);
    assert.deepEqual(await find(s, 'U30', 64, 0, Number.MAX_SAFE_INTEGER, 'B'), [3000]);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a full file rolls over to a new one, is made durable and reported; queries span all files', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const synced: number[] = [];
    let clock = Date.UTC(2024, 0, 1);
    const s = service(dir, { onFullFileSynced: (ts) => synced.push(ts), now: () => clock });
    s.load(true, 0);
    const t0 = 1_700_000_000_000;
    // 99 entries per file, 2 per message: 330 messages fill several files.
    for (let i = 0; i < 330; i++) s.buildIndexes([req(i * 100, t0 + i * 1000, { UNIQ_KEY: `U${i}`, KEYS: i % 2 === 0 ? 'even' : 'odd' })]);
    assert.ok(s.indexFiles.length >= 6, `files: ${s.indexFiles.length}`);
    await s.flush();
    const names = readdirSync(join(dir, 'index')).sort();
    assert.equal(names.length, s.indexFiles.length);
    // Same clock reading for every file: names still differ and sort in creation order.
    assert.deepEqual(names, s.indexFiles.map((f) => f.name));
    for (const n of names) {
      assert.match(n, /^\d{17}$/);
      assert.equal(statSync(join(dir, 'index', n)).size, indexFileSize(50, 100));
    }
    const full = s.indexFiles.filter((f) => f.isWriteFull());
    assert.deepEqual(synced, full.map((f) => f.endTimestamp));
    for (const i of [0, 1, 98, 99, 150, 329]) assert.deepEqual(await find(s, `U${i}`), [i * 100], `U${i}`);
    // maxNum is capped by maxMsgsNumBatch; the newest are found first.
    const evens = await s.queryOffset('T', 'even', 1000, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(evens.phyOffsets.length, 64);
    assert.equal(evens.phyOffsets[0], 328 * 100);
    // A time window in the middle, crossing file boundaries.
    const mid = await find(s, 'odd', 64, t0 + 101_000, t0 + 121_000);
    assert.deepEqual(mid, [101, 103, 105, 107, 109, 111, 113, 115, 117, 119, 121].map((i) => i * 100));
    clock += 1;
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('restart: a clean one keeps every file; after a crash, files past indexMsgTimestamp go and indexing resumes before them', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const synced: number[] = [];
    let s = service(dir, { onFullFileSynced: (ts) => synced.push(ts) });
    s.load(true, 0);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 120; i++) s.buildIndexes([req(i * 100, t0 + i, { UNIQ_KEY: `U${i}` })]);
    await s.shutdown();
    const files = readdirSync(join(dir, 'index')).length;
    assert.equal(files, 2);

    s = service(dir);
    s.load(true, synced.at(-1)!);
    assert.equal(s.indexFiles.length, 2);
    assert.equal(s.lastIndexedPhyOffset, 119 * 100);
    for (const i of [0, 98, 99, 119]) assert.deepEqual(await find(s, `U${i}`), [i * 100]);
    await s.shutdown();

    // Abnormal exit: the non-full last file ends after the checkpoint and is destroyed.
    s = service(dir);
    s.load(false, synced.at(-1)!);
    assert.equal(s.indexFiles.length, 1);
    assert.equal(readdirSync(join(dir, 'index')).length, 1);
    assert.equal(s.lastIndexedPhyOffset, 98 * 100);
    assert.deepEqual(await find(s, 'U119'), []);
    // The caller re-dispatches from there: everything is found again, nothing twice.
    for (let i = 98; i < 120; i++) s.buildIndexes([req(i * 100, t0 + i, { UNIQ_KEY: `U${i}` })]);
    for (const i of [0, 98, 99, 119]) assert.deepEqual(await find(s, `U${i}`), [i * 100]);
    await s.shutdown();

    // No durable point at all: everything goes.
    s = service(dir);
    s.load(false, 0);
    assert.equal(s.indexFiles.length, 0);
    assert.equal(s.lastIndexedPhyOffset, -1);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('files whose entries all point below the CommitLog minimum are deleted, never the newest', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = service(dir);
    s.load(true, 0);
    for (let i = 0; i < 300; i++) s.buildIndexes([req(i * 100, 1_700_000_000_000 + i, { UNIQ_KEY: `U${i}` })]);
    await s.flush();
    const before = s.indexFiles.length;
    assert.equal(before, 4);
    assert.equal(s.deleteExpiredFile(0), 0);
    // The first file ends at message 98, the second at 197.
    assert.equal(s.deleteExpiredFile(150 * 100), 1);
    assert.equal(readdirSync(join(dir, 'index')).length, before - 1);
    assert.deepEqual(await find(s, 'U10'), []);
    assert.deepEqual(await find(s, 'U150'), [15000]);
    assert.equal(s.deleteExpiredFile(Number.MAX_SAFE_INTEGER), before - 2);
    assert.equal(s.indexFiles.length, 1);
    assert.deepEqual(await find(s, 'U299'), [29900]);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('bad sizes are refused with the names of the settings', () => {
  assert.throws(() => service('/nonexistent', { hashSlotNum: 0 }), /maxHashSlotNum=0/);
  assert.throws(() => service('/nonexistent', { hashSlotNum: 5_000_000, indexNum: 200_000_000 }), /exceed 2 GiB/);
});

test('a failed index file creation is retried once a second, not on every message, and indexing resumes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let clock = 1_700_000_000_000;
    const s = service(dir, { now: () => clock });
    s.load(true, 0);
    // A regular file where the index directory belongs: creating the first index file fails.
    rmSync(join(dir, 'index'), { recursive: true, force: true });
    writeFileSync(join(dir, 'index'), 'not a directory');
    s.buildIndexes([req(0, clock, { UNIQ_KEY: 'U0' })]);
    rmSync(join(dir, 'index'));
    clock += 500;
    s.buildIndexes([req(100, clock, { UNIQ_KEY: 'U1' })]);
    assert.equal(existsSync(join(dir, 'index')), false, 'no new attempt within the retry interval');
    clock += 600;
    s.buildIndexes([req(200, clock, { UNIQ_KEY: 'U2' })]);
    assert.deepEqual(await find(s, 'U2'), [200]);
    assert.deepEqual(await find(s, 'U0'), []);
    assert.deepEqual(await find(s, 'U1'), []);
    await s.shutdown();
  } finally {
    cleanup();
  }
});
