import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, openSync, readSync, closeSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumeQueue, DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { encodeProperties } from '../../src/common/properties.js';
import { readLong } from '../../src/common/bytes.js';
import { decodeRecords } from '../../src/common/message-record.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';
import { pino } from 'pino';

const logger = createLogger('test-store');
const host = encodeSocketAddress('127.0.0.1', 10911);
const QUEUES = 10;

function config(dir: string): MessageStoreConfig {
  // No timer rounds: the test runs each ConsumeQueue flush round itself. A sync cycle of QUEUES
  // rounds gives every queue of the test a slot of its own.
  const round = 3_600_000;
  return { ...defaultMessageStoreConfig(), storePathRootDir: dir, flushIntervalConsumeQueue: round, flushConsumeQueueThoroughInterval: QUEUES * round };
}

function msg(queueId: number, body: string): PutMessageInput {
  return {
    topic: 'T', queueId, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: encodeSocketAddress('127.0.0.1', 5000),
    reconsumeTimes: 0, preparedTransactionOffset: 0, body: Buffer.from(body),
    properties: encodeProperties({ KEYS: body }), tagsCode: 0, waitStoreMsgOK: true,
  };
}

function open(cfg: MessageStoreConfig): DefaultMessageStore {
  const s = new DefaultMessageStore(cfg, host, logger);
  s.load();
  s.start();
  return s;
}

/** The checkpoint's ConsumeQueue offset (@32) as it is on disk. */
function checkpointCq(dir: string): number {
  const fd = openSync(join(dir, 'checkpoint'), 'r');
  try {
    const b = Buffer.alloc(40);
    readSync(fd, b, 0, 40, 0);
    return readLong(b, 32);
  } finally {
    closeSync(fd);
  }
}

function cqBytes(dir: string, queueId: number): number {
  const d = join(dir, 'consumequeue', 'T', String(queueId));
  if (!existsSync(d)) return 0;
  return readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);
}

/** The max offsets of queues of T as a store opened anew on `dir` finds them. */
async function offsetsAfterRestart(dir: string, queues: number[]): Promise<number[]> {
  const r = open(config(dir));
  try {
    return queues.map((q) => r.getMaxOffsetInQueue('T', q));
  } finally {
    await r.shutdown();
  }
}

/** One message on each queue 0..QUEUES-1, in that order (queue i gets sync slot i). */
async function fill(s: DefaultMessageStore): Promise<number[]> {
  const phys: number[] = [];
  for (let q = 0; q < QUEUES; q++) phys.push((await s.putMessage(msg(q, `m${q}`))).phyOffset);
  return phys;
}

test('each flush round makes one slot of queues durable; the checkpoint stays below every entry not yet durable', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir));
    const phys = await fill(s);
    await s.flushConsumeQueues(false);
    // Round 1 syncs slot 0 (queue 0) only: a few bytes pending elsewhere wait for their slot.
    assert.equal(cqBytes(dir, 0), 20);
    assert.equal(cqBytes(dir, 5), 0);
    assert.equal(checkpointCq(dir), phys[1]);
    // Entries not written yet are served from memory.
    const r = await s.getMessage('T', 5, 0, 32);
    assert.equal(r.status, 'FOUND');
    for (let round = 1; round < QUEUES; round++) {
      await s.flushConsumeQueues(false);
      assert.equal(checkpointCq(dir), round + 1 < QUEUES ? phys[round + 1] : s.maxPhyOffset);
    }
    for (let q = 0; q < QUEUES; q++) assert.equal(cqBytes(dir, q), 20);
    // Queue 3 again: its new entry holds the checkpoint back until slot 3 comes round.
    const again = await s.putMessage(msg(3, 'again'));
    await s.flushConsumeQueues(false);
    assert.equal(checkpointCq(dir), again.phyOffset);
    await s.shutdown();
    assert.equal(checkpointCq(dir), s.maxPhyOffset);
  } finally {
    cleanup();
  }
});

test('a crash after a partial sync cycle rebuilds the missing ConsumeQueue entries from the checkpoint', async () => {
  const { dir, cleanup } = tempDir();
  const copy = tempDir();
  try {
    const s = open(config(dir));
    await fill(s);
    await s.flushConsumeQueues(false);
    await s.flushConsumeQueues(false);
    await fill(s);
    await s.flushConsumeQueues(false);
    // The files as a killed process leaves them: abort file present, most entries only in memory.
    cpSync(dir, copy.dir, { recursive: true });
    await s.shutdown();
    assert.ok(existsSync(join(copy.dir, 'abort')));
    assert.ok(cqBytes(copy.dir, 7) < 40);
    const r = open(config(copy.dir));
    try {
      assert.equal(r.lastExitAbnormal, true);
      for (let q = 0; q < QUEUES; q++) {
        assert.equal(r.getMaxOffsetInQueue('T', q), 2, `queue ${q}`);
        const got = await r.getMessage('T', q, 0, 32);
        assert.equal(got.messageCount, 2, `queue ${q}`);
      }
    } finally {
      await r.shutdown();
    }
  } finally {
    cleanup();
    copy.cleanup();
  }
});

test('after a machine crash, zero entries amid a queue\'s unsynced ones are cut and rebuilt from the log, not served', async () => {
  const { dir, cleanup } = tempDir();
  const copy = tempDir();
  try {
    const s = open(config(dir));
    for (let i = 0; i < 5; i++) await s.putMessage(msg(0, `early-${i}`));
    await s.flushConsumeQueues(false); // slot 0: queue 0's five entries written and synced
    for (let i = 0; i < 200; i++) await s.putMessage(msg(0, `late-${i}`));
    await s.flushConsumeQueues(false); // slot 1: queue 0's 4,000 bytes are written, not synced
    assert.equal(cqBytes(dir, 0), 205 * 20);
    cpSync(dir, copy.dir, { recursive: true });
    await s.shutdown();
    // What a lost page leaves on a file system that wrote the file's size and a later page
    // first: entries 50..99 all zero, the ones after them intact.
    const file = join(copy.dir, 'consumequeue', 'T', '0', readdirSync(join(copy.dir, 'consumequeue', 'T', '0'))[0]!);
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, Buffer.alloc(50 * 20), 0, 50 * 20, 50 * 20);
    } finally {
      closeSync(fd);
    }
    const r = open(config(copy.dir));
    try {
      assert.equal(r.lastExitAbnormal, true);
      assert.equal(r.getMaxOffsetInQueue('T', 0), 205);
      const bodies: string[] = [];
      for (let off = 0; off < 205;) {
        const got = await r.getMessage('T', 0, off, 32);
        assert.equal(got.status, 'FOUND', `pull at ${off}`);
        for (const b of got.buffers) for (const m of decodeRecords(b)) bodies.push(m.body.toString());
        off = got.nextBeginOffset;
      }
      assert.deepEqual(bodies, [...Array.from({ length: 5 }, (_, i) => `early-${i}`), ...Array.from({ length: 200 }, (_, i) => `late-${i}`)]);
    } finally {
      await r.shutdown();
    }
  } finally {
    cleanup();
    copy.cleanup();
  }
});

test('createConsumeQueues makes the first segments of a new topic ahead of its messages', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const s = open(config(dir));
    s.createConsumeQueues('T', 4);
    for (let q = 0; q < 4; q++) assert.ok(existsSync(join(dir, 'consumequeue', 'T', String(q), '00000000000000000000')));
    await s.putMessage(msg(2, 'x'));
    await s.shutdown();
    assert.deepEqual(await offsetsAfterRestart(dir, [2, 3]), [1, 0]);
  } finally {
    cleanup();
  }
});

test('a queue made ahead of time can still start at a later offset', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cq = new ConsumeQueue(dir, 'T', 0, 20 * 100);
    cq.createFirstSegment();
    assert.equal(cq.putEntry(150, 4096, 100, 7), true);
    assert.equal(cq.putEntry(151, 4196, 100, 7), false);
    assert.equal(cq.unsyncedPhyOffset, 4096);
    assert.equal(cq.minOffsetInQueue, 150);
    await cq.makeDurable();
    assert.equal(cq.unsyncedPhyOffset, -1);
    cq.close();
    const again = new ConsumeQueue(dir, 'T', 0, 20 * 100);
    again.load();
    assert.equal(again.maxOffsetInQueue, 152);
    assert.equal(again.getEntry(150)?.phyOffset, 4096);
    again.close();
  } finally {
    cleanup();
  }
});

test('a topic deleted while its ConsumeQueues are being written stays deleted, and no write failure is reported', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lines: string[] = [];
    const s = new DefaultMessageStore(config(dir), host, pino({ level: 'warn' }, { write: (line: string) => { lines.push(line); } }));
    s.load();
    s.start();
    await fill(s);
    // Enough pending on queue 5 to be written outside its sync slot: the round starts that write
    // at once, and the topic goes before it completes.
    for (let i = 0; i < 120; i++) await s.putMessage(msg(5, `b${i}`));
    const round = s.flushConsumeQueues(false);
    s.deleteTopic('T');
    await round;
    assert.deepEqual(lines, []);
    assert.equal(existsSync(join(dir, 'consumequeue', 'T')), false);
    // Recreated, the topic starts empty, also after a restart.
    await s.putMessage(msg(1, 'new'));
    await s.flushConsumeQueues(true);
    assert.equal(s.getMaxOffsetInQueue('T', 0), 0);
    assert.equal(s.getMaxOffsetInQueue('T', 1), 1);
    await s.shutdown();
    assert.deepEqual(await offsetsAfterRestart(dir, [0, 1]), [0, 1]);
  } finally {
    cleanup();
  }
});
