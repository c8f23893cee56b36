import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { decodeRecords } from '../../src/common/message-record.js';
import { encodeProperties } from '../../src/common/properties.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A crash can land between a segment roll, which creates the next file at once, and the writes
 * that finish the previous one. Copying the store directory synchronously right after the call
 * that rolls captures the disk exactly as a SIGKILL at that instant would leave it: files created,
 * writes not yet issued. The copy must load and recover every acknowledged message.
 */

const logger = createLogger('test-store');
const host = encodeSocketAddress('127.0.0.1', 10911);

function config(dir: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  // No periodic flush may run while the directory is copied.
  return { ...defaultMessageStoreConfig(), storePathRootDir: dir, flushIntervalConsumeQueue: 3_600_000, flushIntervalCommitLog: 3_600_000, ...over };
}

function msg(queueId: number, body: string): PutMessageInput {
  return {
    topic: 'Roll', queueId, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(body),
    properties: encodeProperties({ TAGS: 'T' }), tagsCode: 0, waitStoreMsgOK: true,
  };
}

async function readAll(s: DefaultMessageStore, queueId: number): Promise<Array<{ body: string; queueOffset: number; phy: number }>> {
  const out = [];
  let off = 0;
  for (;;) {
    const r = await s.getMessage('Roll', queueId, off, 32);
    if (r.status !== 'FOUND') break;
    for (const b of r.buffers) for (const m of decodeRecords(b)) out.push({ body: m.body.toString(), queueOffset: m.queueOffset, phy: m.commitLogOffset });
    off = r.nextBeginOffset;
  }
  return out;
}

function openCopy(dir: string, over: Partial<MessageStoreConfig>): DefaultMessageStore {
  const s = new DefaultMessageStore(config(dir, over), host, logger);
  const info = s.load();
  assert.equal(info.abnormal, true);
  s.start();
  return s;
}

test('a crash while the CommitLog rolls to a new segment leaves a store that recovers', async () => {
  const { dir, cleanup } = tempDir();
  const over = { mappedFileSizeCommitLog: 4096 };
  const snap = join(dir, 'snapshot');
  const live = join(dir, 'live');
  let s = new DefaultMessageStore(config(live, over), host, logger);
  try {
    s.load();
    s.start();
    const logDir = join(live, 'commitlog');
    const acked = [];
    for (let i = 0; ; i++) {
      const put = s.putMessage(msg(0, `m${i}-${'x'.repeat(100)}`));
      if (readdirSync(logDir).length > 1) {
        cpSync(live, snap, { recursive: true }); // "SIGKILL" now: the put above was not acknowledged
        await put;
        break;
      }
      const r = await put;
      assert.equal(r.status, 'PUT_OK');
      acked.push({ body: `m${i}-${'x'.repeat(100)}`, queueOffset: r.queueOffset, phy: r.phyOffset });
    }
    await s.shutdown();

    s = openCopy(snap, over);
    const files = readdirSync(join(snap, 'commitlog')).sort();
    for (const f of files.slice(0, -1)) assert.equal(statSync(join(snap, 'commitlog', f)).size, 4096);
    assert.deepEqual(await readAll(s, 0), acked);
    const next = await s.putMessage(msg(0, 'after'));
    assert.equal(next.status, 'PUT_OK');
    assert.equal(next.queueOffset, acked.length);
    assert.deepEqual((await readAll(s, 0)).map((m) => m.body), [...acked.map((a) => a.body), 'after']);
  } finally {
    await s.shutdown();
    cleanup();
  }
});

test('a crash while a ConsumeQueue flush crosses into a new segment leaves a store that recovers', async () => {
  const { dir, cleanup } = tempDir();
  const over = { mappedFileSizeConsumeQueue: 200 }; // 10 entries per file
  const snap = join(dir, 'snapshot');
  const live = join(dir, 'live');
  let s = new DefaultMessageStore(config(live, over), host, logger);
  try {
    s.load();
    s.start();
    const bodies: string[] = [];
    const put = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const b = `m${bodies.length}`;
        assert.equal((await s.putMessage(msg(0, b))).status, 'PUT_OK');
        bodies.push(b);
      }
    };
    await put(5);
    await s.flushConsumeQueues(true);
    await put(10); // entries 5..14: the next flush writes 5..9 into the first file and 10..14 into a new one
    const flushing = s.flushConsumeQueues(false);
    cpSync(live, snap, { recursive: true }); // "SIGKILL" in the middle of that flush
    await flushing;
    await s.shutdown();

    s = openCopy(snap, over);
    const got = await readAll(s, 0);
    assert.deepEqual(got.map((m) => m.body), bodies);
    assert.deepEqual(got.map((m) => m.queueOffset), bodies.map((_, i) => i));
    assert.equal((await s.putMessage(msg(0, 'after'))).queueOffset, bodies.length);
  } finally {
    await s.shutdown();
    cleanup();
  }
});
