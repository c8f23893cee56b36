import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { decodeRecords } from '../../src/common/message-record.js';
import { encodeProperties, getProperty } from '../../src/common/properties.js';
import { readLong } from '../../src/common/bytes.js';
import { MessageSysFlag } from '../../src/common/sysflag.js';
import { createLogger } from '../../src/common/logger.js';
import { javaStringHashCode } from '../../src/common/java.js';
import { tempDir } from '../helpers/tmp.js';

// The index inside the message store: dispatch feeds it, restarts keep or rebuild it, retention trims it.

const logger = createLogger('test-store');
const host = encodeSocketAddress('127.0.0.1', 10911);
const ALL = Number.MAX_SAFE_INTEGER;

function config(dir: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return { ...defaultMessageStoreConfig(), storePathRootDir: dir, maxHashSlotNum: 1000, maxIndexNum: 4000, ...over };
}

function msg(i: number, over: Partial<PutMessageInput> = {}): PutMessageInput {
  return {
    topic: 'Idx', queueId: i % 4, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(`body-${i}`),
    properties: encodeProperties({ UNIQ_KEY: `UNIQ-${i}`, KEYS: `order-${i} group-${i % 10}` }), tagsCode: 0, waitStoreMsgOK: true,
    ...over,
  };
}

/** Opens a store; `abort` writes an abort file first, as a crash leaves it; `abnormal` is what load must see. */
function open(cfg: MessageStoreConfig, abort = false, abnormal = abort): DefaultMessageStore {
  const s = new DefaultMessageStore(cfg, host, logger);
  if (abort) appendFileSync(join(cfg.storePathRootDir, 'abort'), '999999');
  const info = s.load();
  assert.equal(info.abnormal, abnormal);
  s.start();
  return s;
}

async function bodiesByKey(s: DefaultMessageStore, key: string, maxNum = 64, begin = 0, end = ALL): Promise<string[]> {
  const r = await s.queryMessage('Idx', key, maxNum, begin, end);
  const out: string[] = [];
  for (const b of r.buffers) for (const m of decodeRecords(b)) out.push(m.body.toString());
  assert.equal(r.bufferTotalSize, r.buffers.reduce((a, b) => a + b.length, 0));
  return out;
}

/** Every message is found by its unique key and its own key; group keys find their ten. */
async function checkAll(s: DefaultMessageStore, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    assert.deepEqual(await bodiesByKey(s, `UNIQ-${i}`), [`body-${i}`], `UNIQ-${i}`);
    assert.deepEqual(await bodiesByKey(s, `order-${i}`), [`body-${i}`], `order-${i}`);
  }
  const g3 = await bodiesByKey(s, 'group-3');
  assert.equal(g3.length, Math.min(64, Math.ceil((n - 3) / 10)));
}

function indexMsgTimestamp(dir: string): number {
  return readLong(readFileSync(join(dir, 'checkpoint')), 16);
}

test('dispatch indexes keys across index files; clean restart and restart after an abort find them all', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cfg = config(dir);
    let s = open(cfg);
    const N = 1500; // 3 entries a message: 4500 entries roll over the 3999-entry files
    for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => s.putMessage(msg(i + j))));
    // Found from memory, before any flush.
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-1499'), ['body-1499']);
    await s.flushConsumeQueues(true);
    assert.equal(readdirSync(join(dir, 'index')).length, 2);
    // The full file was made durable and its end time checkpointed.
    assert.ok(indexMsgTimestamp(dir) > 0);
    await checkAll(s, N);
    // The response names the newest indexed record: the last one put.
    const r = await s.queryMessage('Idx', `UNIQ-${N - 1}`, 1, 0, ALL);
    const last = decodeRecords(r.buffers[0]!)[0]!;
    assert.equal(r.indexLastUpdatePhyoffset, last.commitLogOffset);
    assert.equal(r.indexLastUpdateTimestamp, last.storeTimestamp);
    await s.shutdown();

    s = open(cfg);
    await checkAll(s, N);
    await s.shutdown();

    // Abort file present: the unfinished last index file is destroyed and rebuilt from the log.
    const before = readdirSync(join(dir, 'index')).sort();
    s = open(cfg, true);
    await checkAll(s, N);
    const after = readdirSync(join(dir, 'index')).sort();
    assert.equal(after.length, 2);
    assert.equal(after[0], before[0], 'the full, durable file is kept');
    assert.notEqual(after[1], before[1], 'the last file is a new one');
    const more = await s.putMessage(msg(N));
    assert.equal(more.status, 'PUT_OK');
    assert.deepEqual(await bodiesByKey(s, `UNIQ-${N}`), [`body-${N}`]);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a store copied mid-run, as a SIGKILL would leave it, rebuilds the index of every acknowledged message', async () => {
  const { dir, cleanup } = tempDir();
  const live = join(dir, 'live');
  const snap = join(dir, 'snap');
  // No periodic flush: only the rollover flushes index files, and the copy is taken while one may run.
  const cfg = config(live, { flushIntervalConsumeQueue: 3_600_000, flushIntervalCommitLog: 3_600_000 });
  const s = open(cfg);
  try {
    const N = 1400;
    for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => s.putMessage(msg(i + j))));
    cpSync(live, snap, { recursive: true });
    await s.shutdown();
    // The copy holds the running store's abort file.
    const c = open(config(snap, { flushIntervalConsumeQueue: 3_600_000, flushIntervalCommitLog: 3_600_000 }), false, true);
    await checkAll(c, N);
    await c.shutdown();
  } finally {
    cleanup();
  }
});

test('time range, maxNum, topics and rollback records', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir));
    const early = [];
    for (let i = 0; i < 5; i++) early.push(await s.putMessage(msg(i, { properties: encodeProperties({ KEYS: 'shared' }) })));
    await new Promise((r) => setTimeout(r, 2100));
    const late = [];
    for (let i = 5; i < 10; i++) late.push(await s.putMessage(msg(i, { properties: encodeProperties({ KEYS: 'shared' }) })));
    const split = early.at(-1)!.storeTimestamp + 1000;
    assert.deepEqual(await bodiesByKey(s, 'shared', 64, 0, split), ['body-0', 'body-1', 'body-2', 'body-3', 'body-4']);
    assert.deepEqual(await bodiesByKey(s, 'shared', 64, split, ALL), ['body-5', 'body-6', 'body-7', 'body-8', 'body-9']);
    assert.deepEqual(await bodiesByKey(s, 'shared', 3), ['body-7', 'body-8', 'body-9']);
    assert.deepEqual(await bodiesByKey(s, 'shared', 64, 0, early[0]!.storeTimestamp - 5000), []);
    // Another topic with the same key is not mixed in.
    await s.putMessage(msg(99, { topic: 'Other', properties: encodeProperties({ KEYS: 'shared' }) }));
    assert.equal((await bodiesByKey(s, 'shared')).length, 10);
    // A rolled-back transaction record is not indexed.
    await s.putMessage(msg(100, { sysFlag: MessageSysFlag.TRANSACTION_ROLLBACK_TYPE, properties: encodeProperties({ KEYS: 'rolled-back' }) }));
    assert.deepEqual(await bodiesByKey(s, 'rolled-back'), []);
    // A key listed twice returns its message once.
    await s.putMessage(msg(101, { properties: encodeProperties({ KEYS: 'twice twice', UNIQ_KEY: 'twice' }) }));
    assert.deepEqual(await bodiesByKey(s, 'twice'), ['body-101']);
    const one = (await s.queryMessage('Idx', 'twice', 64, 0, ALL)).buffers[0]!;
    assert.equal(getProperty(decodeRecords(one)[0]!.properties, 'KEYS'), 'twice twice');
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('messageIndexEnable=false indexes nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir, { messageIndexEnable: false }));
    await s.putMessage(msg(1));
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-1'), []);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('index files follow the CommitLog minimum when retention deletes segments', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir, { mappedFileSizeCommitLog: 16 * 1024, maxHashSlotNum: 50, maxIndexNum: 100 }));
    for (let i = 0; i < 600; i++) await s.putMessage(msg(i));
    await s.flushConsumeQueues(true);
    const before = readdirSync(join(dir, 'index')).length;
    assert.ok(before > 10, `index files: ${before}`);
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-0'), ['body-0']);
    const deleted = s.commitLog.deleteExpiredFiles(() => true, 3);
    assert.ok(deleted > 0);
    s.cleanLogicFiles();
    const after = readdirSync(join(dir, 'index')).length;
    assert.ok(after < before, `${after} < ${before}`);
    // Messages gone with their segment are not returned; the rest still are.
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-0'), []);
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-599'), ['body-599']);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a torn CommitLog tail: durable index entries of lost records do not stop new records at those offsets from being indexed', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // 10 entries a file, 2 keys a message: 10 messages fill two files, both made durable.
    const cfg = config(dir, { maxHashSlotNum: 20, maxIndexNum: 11 });
    let s = open(cfg);
    const put = [];
    for (let i = 0; i < 10; i++) put.push(await s.putMessage(msg(i, { properties: encodeProperties({ UNIQ_KEY: `UNIQ-${i}`, KEYS: `order-${i}` }) })));
    await s.flushConsumeQueues(true);
    assert.equal(indexMsgTimestamp(dir), put[9]!.storeTimestamp);
    await s.shutdown();
    const last = put[9]!;
    truncateSync(join(dir, 'commitlog', readdirSync(join(dir, 'commitlog'))[0]!), last.phyOffset + last.size - 5);
    s = open(cfg, true);
    assert.equal(s.maxPhyOffset, last.phyOffset);
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-8'), ['body-8']);
    const again = await s.putMessage(msg(77, { properties: encodeProperties({ UNIQ_KEY: 'UNIQ-77', KEYS: 'fresh' }) }));
    assert.equal(again.phyOffset, last.phyOffset);
    assert.deepEqual(await bodiesByKey(s, 'fresh'), ['body-77']);
    assert.deepEqual(await bodiesByKey(s, 'UNIQ-77'), ['body-77']);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('rebuilt from the log after a crash, tags and keys hash as at send time, non-ASCII ones too', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cfg = config(dir);
    // Tags and keys as producers write them: ASCII, accented, CJK, emoji (surrogate pairs in
    // Java's UTF-16), empty values, and keys separated by several spaces.
    const cases = [
      { tags: 'TagA', keys: 'plain' },
      { tags: 'Étiquette-ü', keys: 'clé  ключ ' },
      { tags: '标签', keys: ' 键 order-😀 ' },
      { tags: '', keys: '' },
    ];
    let s = open(cfg);
    for (const [i, c] of cases.entries()) {
      const r = await s.putMessage(msg(i, {
        queueId: 0, tagsCode: c.tags ? javaStringHashCode(c.tags) : 0,
        properties: encodeProperties({ TAGS: c.tags, UNIQ_KEY: `UNIQ-${i}`, KEYS: c.keys }),
      }));
      assert.equal(r.status, 'PUT_OK');
    }
    await s.shutdown();
    // As if the process died before anything was checkpointed: queues and index come from the log.
    rmSync(join(dir, 'consumequeue'), { recursive: true });
    rmSync(join(dir, 'checkpoint'));
    s = open(cfg, true);
    const codes: number[] = [];
    const r = await s.getMessage('Idx', 0, 0, 32, { isMatchedByConsumeQueue: (c) => codes.push(c) > 0 });
    assert.equal(r.status, 'FOUND');
    assert.deepEqual(codes, cases.map((c) => (c.tags ? javaStringHashCode(c.tags) : 0)));
    for (const [i, c] of cases.entries()) {
      assert.deepEqual(await bodiesByKey(s, `UNIQ-${i}`), [`body-${i}`]);
      for (const key of c.keys.split(' ').filter(Boolean)) assert.deepEqual(await bodiesByKey(s, key), [`body-${i}`], key);
    }
    await s.shutdown();
  } finally {
    cleanup();
  }
});
