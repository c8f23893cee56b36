import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { decodeRecords } from '../../src/common/message-record.js';
import { encodeProperties } from '../../src/common/properties.js';
import { javaStringHashCode } from '../../src/common/java.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';

const logger = createLogger('test-store');
const host = encodeSocketAddress('127.0.0.1', 10911);

function config(dir: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return { ...defaultMessageStoreConfig(), storePathRootDir: dir, ...over };
}

function msg(topic: string, queueId: number, body: string, tag = 'TagA'): PutMessageInput {
  return {
    topic, queueId, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(body),
    properties: encodeProperties({ TAGS: tag, KEYS: 'k-' + body }), tagsCode: javaStringHashCode(tag), waitStoreMsgOK: true,
  };
}

function open(cfg: MessageStoreConfig): DefaultMessageStore {
  const s = new DefaultMessageStore(cfg, host, logger);
  s.load();
  s.start();
  return s;
}

async function readAll(s: DefaultMessageStore, topic: string, queueId: number): Promise<string[]> {
  const out: string[] = [];
  let off = s.getMinOffsetInQueue(topic, queueId);
  for (;;) {
    const r = await s.getMessage(topic, queueId, off, 32);
    if (r.status !== 'FOUND') break;
    for (const b of r.buffers) for (const m of decodeRecords(b)) out.push(m.body.toString());
    off = r.nextBeginOffset;
  }
  return out;
}

test('put then get returns the records with offsets, in order', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir));
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => s.putMessage(msg('T', 0, 'm' + i))));
    assert.deepEqual(results.map((r) => r.status), Array(5).fill('PUT_OK'));
    assert.deepEqual(results.map((r) => r.queueOffset), [0, 1, 2, 3, 4]);
    assert.equal(results[0]!.phyOffset, 0);
    assert.ok(results[1]!.phyOffset > 0);
    assert.equal(s.getMaxOffsetInQueue('T', 0), 5);
    const r = await s.getMessage('T', 0, 0, 32);
    assert.equal(r.status, 'FOUND');
    assert.equal(r.messageCount, 5);
    const decoded = r.buffers.map((b) => decodeRecords(b)[0]!);
    assert.deepEqual(decoded.map((m) => m.body.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.deepEqual(decoded.map((m) => m.queueOffset), [0, 1, 2, 3, 4]);
    assert.equal(decoded[2]!.offsetMsgId, results[2]!.msgId);
    // status rules
    assert.equal((await s.getMessage('T', 0, 5, 32)).status, 'OFFSET_OVERFLOW_ONE');
    assert.equal((await s.getMessage('T', 0, 9, 32)).status, 'OFFSET_OVERFLOW_BADLY');
    assert.equal((await s.getMessage('T', 1, 0, 32)).status, 'NO_MATCHED_LOGIC_QUEUE');
    // tag filter
    const none = await s.getMessage('T', 0, 0, 32, { isMatchedByConsumeQueue: (c) => c === javaStringHashCode('TagB') });
    assert.equal(none.status, 'NO_MATCHED_MESSAGE');
    assert.equal(none.nextBeginOffset, 5);
    await s.shutdown();
    assert.equal(existsSync(join(dir, 'abort')), false);
  } finally {
    cleanup();
  }
});

test('pulls read interleaved queues from the files on the loop thread (recent) or the thread pool (old), with the same bytes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // No write pages kept: every pull reads the files. Three queues interleave in the log.
    const cfg = config(dir, { hotTailCacheBytes: 0 });
    const put = new DefaultMessageStore(cfg, host, logger);
    put.load();
    put.start();
    for (let i = 0; i < 60; i++) await put.putMessage(msg('T', i % 3, `q${i % 3}-${i}`));
    const expected = [0, 1, 2].map((q) => Array.from({ length: 20 }, (_, k) => `q${q}-${k * 3 + q}`));
    for (let q = 0; q < 3; q++) assert.deepEqual(await readAll(put, 'T', q), expected[q]);
    await put.shutdown();
    // A store that thinks it has no memory at all reads everything as "on disk": asynchronously,
    // at most maxTransferCountOnMessageInDisk per pull.
    const old = new DefaultMessageStore({ ...cfg, maxTransferCountOnMessageInDisk: 8 }, host, logger, 1);
    old.load();
    old.start();
    const first = await old.getMessage('T', 1, 0, 32);
    assert.equal(first.messageCount, 8);
    assert.equal(first.suggestPullingFromSlave, true);
    for (let q = 0; q < 3; q++) assert.deepEqual(await readAll(old, 'T', q), expected[q]);
    await old.shutdown();
  } finally {
    cleanup();
  }
});

test('interleaved pulls share one read window that moves along the log and never serves bytes written after it was read', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // SYNC_FLUSH keeps zeros written ahead of the log: the file has bytes past the log's end.
    const cfg = config(dir, { hotTailCacheBytes: 0, flushDiskType: 'SYNC_FLUSH' });
    const pad = 'x'.repeat(1000);
    const body = (q: number, i: number): string => `q${q}-${i}-${pad}`;
    const putRange = async (st: DefaultMessageStore, from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += 100) {
        const rs = await Promise.all(Array.from({ length: Math.min(100, to - i) }, (_, k) => st.putMessage(msg('W', (i + k) % 3, body((i + k) % 3, i + k)))));
        assert.ok(rs.every((r) => r.status === 'PUT_OK'));
      }
    };
    const w = open(cfg);
    // 3 queues interleaved over about 3 MiB of log: more than one window.
    await putRange(w, 0, 3000);
    await w.shutdown();
    const s = open(cfg); // reopened: no write pages, every record comes from the files
    const expected = (q: number, upTo: number): string[] => Array.from({ length: upTo / 3 }, (_, k) => body(q, k * 3 + q));
    // The queues pulled in turns, as a consumer of all three does: mostly window hits.
    const got: string[][] = [[], [], []];
    const next = [0, 0, 0];
    for (let turn = 0; turn < 200; turn++) {
      const q = turn % 3;
      const r = await s.getMessage('W', q, next[q]!, 32);
      if (r.status !== 'FOUND') continue;
      for (const b of r.buffers) for (const m of decodeRecords(b)) got[q]!.push(m.body.toString());
      next[q] = r.nextBeginOffset;
    }
    for (let q = 0; q < 3; q++) assert.deepEqual(got[q], expected(q, 3000));
    // One queue read on its own first moves the window to the end; the others read from the start again.
    assert.deepEqual(await readAll(s, 'W', 2), expected(2, 3000));
    assert.deepEqual(await readAll(s, 'W', 0), expected(0, 3000));
    // The window now ends at the end of the log as it was, where zeros followed. Over 8 MiB more
    // pushes the first new records out of the write pages: they must be read from the file.
    await putRange(s, 3000, 12_000);
    const across = await s.getMessage('W', 0, 995, 32);
    assert.equal(across.messageCount, 32);
    assert.deepEqual(across.buffers.flatMap((b) => decodeRecords(b).map((m) => m.body.toString())), expected(0, 12_000).slice(995, 1027));
    for (let q = 0; q < 3; q++) assert.deepEqual(await readAll(s, 'W', q), expected(q, 12_000));
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('pooled pulls read into reused memory, given back only on release', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const w = open(config(dir));
    for (let i = 0; i < 60; i++) await w.putMessage(msg('P', i % 2, `p${i % 2}-${i}`));
    await w.shutdown();
    // Reopened: no write pages, every pull reads the files (on this thread: all is "in memory").
    const s = open(config(dir));
    const bodies = (r: { buffers: Buffer[] }): string[] => r.buffers.flatMap((b) => decodeRecords(b).map((m) => m.body.toString()));
    const plain = await s.getMessage('P', 0, 0, 10);
    assert.equal(plain.release, undefined);
    const a = await s.getMessage('P', 0, 0, 10, undefined, undefined, true);
    assert.deepEqual(bodies(a), bodies(plain));
    assert.equal(typeof a.release, 'function');
    // Not released yet: another pull gets other memory, and a's bytes stay as they were.
    const b = await s.getMessage('P', 1, 0, 10, undefined, undefined, true);
    assert.notEqual(b.buffers[0]!.buffer, a.buffers[0]!.buffer);
    assert.deepEqual(bodies(a), bodies(plain));
    const arenaOfA = a.buffers[0]!.buffer;
    a.release!();
    a.release!(); // twice is harmless: the arena is given back once
    const c = await s.getMessage('P', 1, 10, 10, undefined, undefined, true);
    const d = await s.getMessage('P', 0, 10, 10, undefined, undefined, true);
    assert.equal(c.buffers[0]!.buffer, arenaOfA);
    assert.notEqual(d.buffers[0]!.buffer, arenaOfA);
    assert.deepEqual(bodies(c), Array.from({ length: 10 }, (_, k) => `p1-${(k + 10) * 2 + 1}`));
    assert.deepEqual(bodies(d), Array.from({ length: 10 }, (_, k) => `p0-${(k + 10) * 2}`));
    for (const r of [b, c, d]) r.release!();
    // Nothing read (past the end): no arena held.
    assert.equal((await s.getMessage('P', 0, 30, 10, undefined, undefined, true)).release, undefined);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a clean restart keeps every message and offset', async () => {
  const { dir, cleanup } = tempDir();
  try {
    let s = open(config(dir));
    for (let i = 0; i < 100; i++) await s.putMessage(msg('T', i % 4, 'x' + i));
    await s.shutdown();
    s = open(config(dir));
    assert.equal(s.lastExitAbnormal, false);
    for (let q = 0; q < 4; q++) assert.equal(s.getMaxOffsetInQueue('T', q), 25);
    const q1 = await readAll(s, 'T', 1);
    assert.equal(q1.length, 25);
    assert.equal(q1[0], 'x1');
    const r = await s.putMessage(msg('T', 1, 'after'));
    assert.equal(r.queueOffset, 25);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('records span many small CommitLog and ConsumeQueue segments, before and after restart', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cfg = config(dir, { mappedFileSizeCommitLog: 4096, mappedFileSizeConsumeQueue: 20 * 16 });
    let s = open(cfg);
    const bodies: string[] = [];
    for (let i = 0; i < 300; i++) {
      const body = `message-${i}-`.padEnd(50 + (i % 200), '*');
      bodies.push(body);
      const r = await s.putMessage(msg('Roll', 0, body));
      assert.equal(r.status, 'PUT_OK');
    }
    const logFiles = readdirSync(join(dir, 'commitlog'));
    assert.ok(logFiles.length > 10, `expected many commitlog files, got ${logFiles.length}`);
    for (const f of logFiles.slice(0, -1)) assert.equal(statSync(join(dir, 'commitlog', f)).size, 4096);
    assert.deepEqual(await readAll(s, 'Roll', 0), bodies);
    await s.shutdown();
    assert.ok(readdirSync(join(dir, 'consumequeue', 'Roll', '0')).length > 10);
    s = open(cfg);
    assert.deepEqual(await readAll(s, 'Roll', 0), bodies);
    await s.shutdown();
    // Once more, as after a crash: everything is verified and rebuilt from the log.
    s = new DefaultMessageStore(cfg, host, logger);
    appendFileSync(join(dir, 'abort'), '999999');
    s.load();
    s.start();
    assert.deepEqual(await readAll(s, 'Roll', 0), bodies);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a batch is stored as consecutive records of one segment, with one id per message, and never split by a segment end', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cfg = config(dir, { mappedFileSizeCommitLog: 4096 });
    let s = open(cfg);
    const expected: string[] = [];
    for (let round = 0; round < 12; round++) {
      // A single put to another queue in the same tick must not land inside the batch.
      const batch = [0, 1, 2, 3, 4].map((i) => msg('B', 0, `r${round}-m${i}-`.padEnd(120, '*')));
      const [b, single] = await Promise.all([s.putMessages(batch), s.putMessage(msg('B', 1, `single-${round}`))]);
      assert.equal(b.status, 'PUT_OK');
      assert.equal(single.status, 'PUT_OK');
      assert.equal(b.queueOffset, round * 5);
      const ids = b.msgId.split(',');
      assert.equal(ids.length, 5);
      assert.equal(new Set(ids).size, 5);
      // The ids are the records' offsets, consecutive from the first, all in one 4 KiB segment.
      const offsets = ids.map((id) => Number.parseInt(id.slice(-16), 16));
      assert.equal(offsets[0], b.phyOffset);
      for (let i = 1; i < 5; i++) assert.ok(offsets[i]! > offsets[i - 1]!);
      assert.equal(Math.floor(offsets[0]! / 4096), Math.floor((b.phyOffset + b.size - 1) / 4096), `batch of round ${round} crosses a segment end`);
      assert.ok(single.phyOffset >= b.phyOffset + b.size || single.phyOffset < b.phyOffset);
      expected.push(...batch.map((m) => m.body.toString()));
    }
    assert.ok(readdirSync(join(dir, 'commitlog')).length > 3);
    assert.deepEqual(await readAll(s, 'B', 0), expected);
    // A batch larger than a segment is refused whole.
    const huge = Array.from({ length: 40 }, (_, i) => msg('B', 0, `huge-${i}`.padEnd(120, '*')));
    assert.equal((await s.putMessages(huge)).status, 'MESSAGE_ILLEGAL');
    assert.equal(s.getMaxOffsetInQueue('B', 0), expected.length);
    await s.shutdown();
    s = open(cfg);
    assert.deepEqual(await readAll(s, 'B', 0), expected);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a torn last record is cut on recovery and the queue rebuilt to the last whole record', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cfg = config(dir);
    let s = open(cfg);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await s.putMessage(msg('Torn', 0, 'body-' + i)));
    await s.shutdown();
    // Simulate a crash mid-write: the abort file stays and the last record is cut short.
    appendFileSync(join(dir, 'abort'), '999999');
    const logFile = join(dir, 'commitlog', readdirSync(join(dir, 'commitlog'))[0]!);
    const last = results[9]!;
    truncateSync(logFile, last.phyOffset + last.size - 7);
    s = new DefaultMessageStore(cfg, host, logger);
    const info = s.load();
    s.start();
    assert.equal(info.abnormal, true);
    assert.equal(info.maxOffset, last.phyOffset);
    assert.equal(s.getMaxOffsetInQueue('Torn', 0), 9);
    assert.deepEqual(await readAll(s, 'Torn', 0), Array.from({ length: 9 }, (_, i) => 'body-' + i));
    const again = await s.putMessage(msg('Torn', 0, 'new'));
    assert.equal(again.queueOffset, 9);
    assert.equal(again.phyOffset, last.phyOffset);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('oversize body and properties are refused without storing anything', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir, { maxMessageSize: 1024 }));
    const big = msg('T', 0, 'x'.repeat(1025));
    assert.equal((await s.putMessage(big)).status, 'MESSAGE_ILLEGAL');
    const props = msg('T', 0, 'ok');
    props.properties = encodeProperties({ K: 'v'.repeat(40000) });
    assert.equal((await s.putMessage(props)).status, 'PROPERTIES_SIZE_EXCEEDED');
    assert.equal(s.maxPhyOffset, 0);
    assert.equal((await s.putMessage(msg('T', 0, 'fine'))).status, 'PUT_OK');
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('SYNC_FLUSH acks after fdatasync and offsets by time are found', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir, { flushDiskType: 'SYNC_FLUSH' }));
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => s.putMessage(msg('S', 0, 's' + i))));
    assert.ok(rs.every((r) => r.status === 'PUT_OK'));
    assert.equal(s.commitLog.flushedOffset, s.maxPhyOffset);
    assert.equal(s.getOffsetInQueueByTime('S', 0, t0 - 1000), 0);
    assert.equal(s.getOffsetInQueueByTime('S', 0, Date.now() + 1000), 50);
    assert.ok(s.getEarliestMessageTime('S', 0) >= t0 - 5);
    const rec = s.lookMessageByOffset(rs[3]!.phyOffset);
    assert.equal(decodeRecords(rec!)[0]!.body.toString(), 's3');
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('offsets by time with LOWER and UPPER boundaries answer as upstream ConsumeQueue + ConsumeQueueStore', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir));
    await s.putMessage(msg('B', 0, 'a'));
    await new Promise((r) => setTimeout(r, 30));
    await s.putMessage(msg('B', 0, 'b'));
    const ta = s.getMessageStoreTimeStamp('B', 0, 0);
    const tb = s.getMessageStoreTimeStamp('B', 0, 1);
    assert.ok(tb - ta >= 2, `distinct store times ${ta} ${tb}`);
    const at = (ts: number, upper: boolean): number => s.getOffsetInQueueByTime('B', 0, ts, upper);
    // Before the first message both give the queue's minimum (upstream clamps its 0 into [min, max]).
    assert.deepEqual([at(ta - 1000, false), at(ta - 1000, true)], [0, 0]);
    // After the last: LOWER is the max offset (next to be written), UPPER the last message.
    assert.deepEqual([at(tb + 1000, false), at(tb + 1000, true)], [2, 1]);
    // On a store time: that message both ways; between two: the next (LOWER) and the previous (UPPER).
    assert.deepEqual([at(ta, false), at(ta, true), at(tb, false), at(tb, true)], [0, 0, 1, 1]);
    assert.deepEqual([at(ta + 1, false), at(ta + 1, true)], [1, 0]);
    // A queue without messages answers 0.
    assert.deepEqual([s.getOffsetInQueueByTime('None', 0, ta, false), s.getOffsetInQueueByTime('None', 0, ta, true)], [0, 0]);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('a sync flush that reaches syncFlushTimeout answers FLUSH_DISK_TIMEOUT, and the message is stored', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // A deadline of 0 ms is always reached by a real fdatasync: every sender of the batch is told.
    const s = open(config(dir, { flushDiskType: 'SYNC_FLUSH', syncFlushTimeout: 0 }));
    const rs = await Promise.all([0, 1, 2].map((i) => s.putMessage(msg('FDT', 0, 'late-' + i))));
    assert.deepEqual(rs.map((r) => r.status), ['FLUSH_DISK_TIMEOUT', 'FLUSH_DISK_TIMEOUT', 'FLUSH_DISK_TIMEOUT']);
    assert.deepEqual(rs.map((r) => r.queueOffset), [0, 1, 2]);
    // Answered at the deadline, the records become readable once the fdatasync returns.
    await s.commitLog.whenIdle();
    assert.deepEqual(await readAll(s, 'FDT', 0), ['late-0', 'late-1', 'late-2']);
    // A message that does not ask to wait for the flush (WAIT=false) is answered at once.
    const noWait = msg('FDT', 0, 'no-wait');
    noWait.waitStoreMsgOK = false;
    assert.equal((await s.putMessage(noWait)).status, 'PUT_OK');
    await s.shutdown();
  } finally {
    cleanup();
  }
});
