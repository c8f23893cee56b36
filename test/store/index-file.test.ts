import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { IndexFile, indexFileSize, indexKeyHash, INDEX_HEADER_SIZE, SlotTablePool } from '../../src/store/index-file.js';
import { javaStringHashCode } from '../../src/common/java.js';
import { readLong } from '../../src/common/bytes.js';
import { busyPool } from '../helpers/pool.js';
import { tempDir } from '../helpers/tmp.js';

const SLOTS = 100;
const NUM = 400;

async function select(f: IndexFile, key: string, maxNum = 64, begin = 0, end = Number.MAX_SAFE_INTEGER): Promise<number[]> {
  const out: number[] = [];
  await f.selectPhyOffset(out, key, maxNum, begin, end);
  return out;
}

/** The file's bytes, read with upstream's layout. */
function onDisk(path: string, slots: number): {
  header: { beginTs: number; endTs: number; beginPhy: number; endPhy: number; hashSlotCount: number; indexCount: number };
  slot: (s: number) => number;
  entry: (n: number) => { keyHash: number; phy: number; timeDiff: number; prev: number };
} {
  const b = readFileSync(path);
  const entries = INDEX_HEADER_SIZE + slots * 4;
  return {
    header: { beginTs: readLong(b, 0), endTs: readLong(b, 8), beginPhy: readLong(b, 16), endPhy: readLong(b, 24), hashSlotCount: b.readInt32BE(32), indexCount: b.readInt32BE(36) },
    slot: (s) => b.readInt32BE(INDEX_HEADER_SIZE + s * 4),
    entry: (n) => {
      const p = entries + n * 20;
      return { keyHash: b.readInt32BE(p), phy: readLong(b, p + 4), timeDiff: b.readInt32BE(p + 12), prev: b.readInt32BE(p + 16) };
    },
  };
}

test('key hash is abs(Java hashCode), 0 where abs overflows', () => {
  assert.equal(indexKeyHash('T#k1'), Math.abs(javaStringHashCode('T#k1')));
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE: Java's Math.abs leaves it negative.
  assert.equal(javaStringHashCode('polygenelubricants'), -0x80000000);
  assert.equal(indexKeyHash('polygenelubricants'), 0);
  let neg = 0;
  while (javaStringHashCode(`T#${neg}`) >= 0) neg++;
  assert.equal(indexKeyHash(`T#${neg}`), -javaStringHashCode(`T#${neg}`));
});

test('a new file is sparse at its full size, and puts and flush write upstream\'s layout', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    const f = IndexFile.create(path, SLOTS, NUM);
    assert.equal(statSync(path).size, indexFileSize(SLOTS, NUM));
    assert.equal(indexFileSize(5_000_000, 20_000_000), 420_000_040);
    const t0 = 1_700_000_000_000;
    assert.equal(f.putKey('T#a', 100, t0), true);
    assert.equal(f.putKey('T#b', 200, t0 + 2500), true);
    assert.equal(f.putKey('T#a', 300, t0 + 5000), true);
    assert.equal(f.indexCount, 4);
    // Nothing is written before the flush: the header still says empty.
    assert.equal(onDisk(path, SLOTS).header.indexCount, 1);
    assert.equal(onDisk(path, SLOTS).entry(1).phy, 0);
    await f.flush();
    const d = onDisk(path, SLOTS);
    assert.deepEqual(d.header, { beginTs: t0, endTs: t0 + 5000, beginPhy: 100, endPhy: 300, hashSlotCount: 2, indexCount: 4 });
    const ha = indexKeyHash('T#a');
    const hb = indexKeyHash('T#b');
    assert.equal(d.slot(ha % SLOTS), 3);
    assert.equal(d.slot(hb % SLOTS), 2);
    assert.deepEqual(d.entry(1), { keyHash: ha, phy: 100, timeDiff: 0, prev: 0 });
    assert.deepEqual(d.entry(2), { keyHash: hb, phy: 200, timeDiff: 2, prev: 0 });
    assert.deepEqual(d.entry(3), { keyHash: ha, phy: 300, timeDiff: 5, prev: 1 });
    assert.deepEqual(await select(f, 'T#a'), [300, 100]);
    assert.deepEqual(await select(f, 'T#b'), [200]);
    assert.deepEqual(await select(f, 'T#c'), []);
    f.close();
  } finally {
    cleanup();
  }
});

test('chains cross flush rounds: entries in memory link to the ones already on disk', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    const f = IndexFile.create(path, SLOTS, NUM);
    const t0 = 1_700_000_000_000;
    const want: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) {
        const phy = round * 1000 + i;
        f.putKey('T#hot', phy, t0 + round * 1000);
        f.putKey(`T#other-${round}-${i}`, phy, t0 + round * 1000);
        want.unshift(phy);
      }
      // Found before the flush (from memory), while it runs, and after (from the file).
      assert.deepEqual(await select(f, 'T#hot', 1000), want);
      const flushing = f.flush();
      f.putKey('T#unrelated', 99_999, t0 + round * 1000);
      assert.deepEqual(await select(f, 'T#hot', 1000), want);
      await flushing;
      assert.deepEqual(await select(f, 'T#hot', 1000), want);
    }
    await f.flushAll();
    f.close();
    // Reopened, only the file answers.
    const g = IndexFile.open(path, SLOTS, NUM);
    assert.equal(g.indexCount, 1 + 5 * 21);
    assert.deepEqual(await select(g, 'T#hot', 1000), want);
    assert.deepEqual(await select(g, 'T#other-3-7'), [3007]);
    assert.deepEqual(await select(g, 'T#hot', 7), want.slice(0, 7));
    g.close();
  } finally {
    cleanup();
  }
});

test('keys sharing a slot stay apart; keys sharing a hash are both returned for the caller to check', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = IndexFile.create(join(dir, '20240101000000000'), SLOTS, NUM);
    // Find two keys in the same slot with different hashes.
    const base = 'T#slot-0';
    const slot = indexKeyHash(base) % SLOTS;
    let other = '';
    for (let i = 1; !other; i++) {
      const k = `T#slot-${i}`;
      if (indexKeyHash(k) % SLOTS === slot && indexKeyHash(k) !== indexKeyHash(base)) other = k;
    }
    // "Aa" and "BB" have the same Java hashCode, so do "T#Aa" and "T#BB".
    assert.equal(indexKeyHash('T#Aa'), indexKeyHash('T#BB'));
    const t = 1_700_000_000_000;
    f.putKey(base, 1, t);
    f.putKey(other, 2, t);
    f.putKey(base, 3, t);
    f.putKey('T#Aa', 4, t);
    f.putKey('T#BB', 5, t);
    for (const flushed of [false, true]) {
      if (flushed) await f.flush();
      assert.deepEqual(await select(f, base), [3, 1]);
      assert.deepEqual(await select(f, other), [2]);
      assert.deepEqual(await select(f, 'T#Aa'), [5, 4]);
    }
    f.close();
  } finally {
    cleanup();
  }
});

test('the time range selects entries by store time (second precision) and stops at older ones', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = IndexFile.create(join(dir, '20240101000000000'), SLOTS, NUM);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) f.putKey('T#k', i, t0 + i * 10_000);
    await f.flush();
    assert.deepEqual(await select(f, 'T#k', 64, t0 + 30_000, t0 + 60_000), [6, 5, 4, 3]);
    assert.deepEqual(await select(f, 'T#k', 64, t0 + 95_000, t0 + 200_000), []);
    assert.deepEqual(await select(f, 'T#k', 2, t0, t0 + 200_000), [9, 8]);
    assert.equal(f.isTimeMatched(t0 - 10, t0 + 5), true);
    assert.equal(f.isTimeMatched(t0 + 1, t0 + 5), true);
    assert.equal(f.isTimeMatched(t0 - 100, t0 + 200_000), true);
    assert.equal(f.isTimeMatched(t0 + 100_000, t0 + 200_000), false);
    f.close();
  } finally {
    cleanup();
  }
});

test('a full file refuses puts; a file after it starts where it ended', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = IndexFile.create(join(dir, '20240101000000000'), 10, 5);
    const t = 1_700_000_000_000;
    for (let i = 1; i <= 4; i++) assert.equal(f.putKey(`T#${i}`, i * 10, t + i), true);
    assert.equal(f.isWriteFull(), true);
    assert.equal(f.putKey('T#5', 50, t + 5), false);
    await f.flush();
    const g = IndexFile.create(join(dir, '20240101000000001'), 10, 5, f.endPhyOffset, f.endTimestamp);
    assert.equal(g.beginTimestamp, t + 4);
    assert.equal(g.endPhyOffset, 40);
    // The inherited range is on disk at once.
    const reopened = IndexFile.open(g.path, 10, 5);
    assert.equal(reopened.endTimestamp, t + 4);
    assert.equal(reopened.indexCount, 1);
    reopened.close();
    g.putKey('T#5', 50, t + 3000);
    assert.equal(g.beginTimestamp, t + 3000);
    assert.deepEqual(await select(g, 'T#5', 64, t + 3000, t + 3000), [50]);
    f.close();
    g.close();
  } finally {
    cleanup();
  }
});

test('puts made while a flush runs stay out of its slots: the file it leaves is the file as of the flush', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    // Few slots, many keys: every slot page the flush writes is changed again while it runs.
    const f = IndexFile.create(path, 16, NUM);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 100; i++) f.putKey(`T#k${i % 40}`, i, t0);
    const flushing = f.flush();
    for (let i = 100; i < 200; i++) f.putKey(`T#k${i % 40}`, i, t0 + 1000);
    await flushing;
    const d = onDisk(path, 16);
    assert.equal(d.header.indexCount, 101);
    for (let s = 0; s < 16; s++) assert.ok(d.slot(s) < 101, `slot ${s} names entry ${d.slot(s)}, which the header does not count`);
    // Another reader of the file alone finds exactly what was put before the flush...
    const snapshot = IndexFile.open(path, 16, NUM);
    assert.deepEqual(await select(snapshot, 'T#k7'), [87, 47, 7]);
    assert.equal(snapshot.hashSlotCount, new Set(Array.from({ length: 40 }, (_, i) => indexKeyHash(`T#k${i}`) % 16)).size);
    snapshot.close();
    // ...while this one, from memory, has everything, and writes it all next round.
    assert.deepEqual(await select(f, 'T#k7'), [167, 127, 87, 47, 7]);
    await f.flushAll();
    assert.equal(f.hasUnflushed, false);
    const all = IndexFile.open(path, 16, NUM);
    assert.deepEqual(await select(all, 'T#k7'), [167, 127, 87, 47, 7]);
    assert.equal(all.indexCount, 201);
    all.close();
    f.close();
  } finally {
    cleanup();
  }
});

test('200,000 entries put before any flush (many overlay chunks) are found from memory, while a flush runs, and from the file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    const n = 200_000;
    const slots = 5003;
    const f = IndexFile.create(path, slots, n + 10);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < n; i++) f.putKey(`T#k${i % 1000}`, i * 3, t0 + i);
    // Key k7's entries lie in every chunk of the overlay, the first (64 entries) to the last.
    const want = Array.from({ length: n / 1000 }, (_, j) => (n - 1000 + 7 - j * 1000) * 3);
    assert.deepEqual(await select(f, 'T#k7', 1000), want);
    assert.deepEqual(await select(f, 'T#k999', 2), [(n - 1) * 3, (n - 1001) * 3]);
    const flushing = f.flush();
    f.putKey('T#k7', n * 3, t0 + n);
    assert.deepEqual(await select(f, 'T#k7', 1000), [n * 3, ...want]);
    await flushing;
    await f.flushAll();
    f.close();
    const d = onDisk(path, slots);
    assert.equal(d.header.indexCount, n + 2);
    for (const k of [1, 64, 65, 65_536, 123_457, n]) {
      const e = d.entry(k);
      assert.equal(e.phy, (k - 1) * 3, `entry ${k}`);
      assert.equal(e.keyHash, indexKeyHash(`T#k${(k - 1) % 1000}`));
    }
    const g = IndexFile.open(path, slots, n + 10);
    assert.deepEqual(await select(g, 'T#k7', 1000), [n * 3, ...want]);
    g.close();
  } finally {
    cleanup();
  }
});

test('a reopened file with entries takes more: new entries link to the chains on disk', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    const t0 = 1_700_000_000_000;
    const f = IndexFile.create(path, SLOTS, NUM);
    for (let i = 0; i < 30; i++) f.putKey(`T#k${i % 3}`, i, t0);
    await f.flushAll();
    f.close();
    const g = IndexFile.open(path, SLOTS, NUM);
    assert.equal(g.holdsSlotTable, false);
    assert.deepEqual(await select(g, 'T#k1', 3), [28, 25, 22]);
    for (let i = 30; i < 36; i++) g.putKey(`T#k${i % 3}`, i, t0 + 1000);
    assert.equal(g.holdsSlotTable, true);
    const want = [34, 31, 28, 25, 22, 19, 16, 13, 10, 7, 4, 1];
    assert.deepEqual(await select(g, 'T#k1'), want);
    await g.flushAll();
    g.close();
    const h = IndexFile.open(path, SLOTS, NUM);
    assert.deepEqual(await select(h, 'T#k1'), want);
    assert.equal(h.hashSlotCount, onDisk(path, SLOTS).header.hashSlotCount);
    assert.equal(h.hashSlotCount, new Set(['T#k0', 'T#k1', 'T#k2'].map((k) => indexKeyHash(k) % SLOTS)).size);
    h.close();
  } finally {
    cleanup();
  }
});

test('a full file drops its slot table once flushed; its queries then read the slots from disk', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = IndexFile.create(join(dir, '20240101000000000'), 10, 21);
    const t = 1_700_000_000_000;
    for (let i = 1; i <= 20; i++) assert.equal(f.putKey(`T#${i % 4}`, i, t), true);
    assert.equal(f.isWriteFull(), true);
    assert.equal(f.holdsSlotTable, true);
    assert.deepEqual(await select(f, 'T#1'), [17, 13, 9, 5, 1]);
    await f.flush();
    assert.equal(f.holdsSlotTable, false);
    assert.equal(f.hasUnflushed, false);
    assert.deepEqual(await select(f, 'T#1'), [17, 13, 9, 5, 1]);
    assert.deepEqual(await select(f, 'T#0'), [20, 16, 12, 8, 4]);
    f.close();
  } finally {
    cleanup();
  }
});

test('a sealed file hands its slot table to the next file, which starts from empty slots', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const tables = new SlotTablePool();
    const t = 1_700_000_000_000;
    const a = IndexFile.create(join(dir, '20240101000000000'), 10, 21, 0, 0, tables);
    for (let i = 1; i <= 20; i++) a.putKey(`T#${i % 4}`, i, t);
    await a.flush();
    assert.equal(a.holdsSlotTable, false);
    const b = IndexFile.create(join(dir, '20240101000000001'), 10, 21, a.endPhyOffset, a.endTimestamp, tables);
    for (let i = 21; i <= 24; i++) b.putKey(`U#${i % 2}`, i, t);
    // Nothing of the first file's chains leaks into the second through the reused table.
    assert.deepEqual(await select(b, 'T#1'), []);
    assert.deepEqual(await select(b, 'U#1'), [23, 21]);
    await b.flush();
    assert.deepEqual(await select(a, 'T#1'), [17, 13, 9, 5, 1]);
    assert.deepEqual(await select(b, 'U#0'), [24, 22]);
    a.close();
    b.close();
  } finally {
    cleanup();
  }
});

test('between slot rounds a flush writes entries only: the header on disk keeps naming a consistent file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, '20240101000000000');
    const f = IndexFile.create(path, SLOTS, NUM);
    const t0 = 1_700_000_000_000;
    f.putKey('T#k', 1, t0);
    await f.flush(); // the first round writes slots and header
    assert.equal(onDisk(path, SLOTS).header.indexCount, 2);
    f.putKey('T#k', 2, t0 + 1000);
    f.putKey('T#j', 3, t0 + 1000);
    await f.flush();
    let d = onDisk(path, SLOTS);
    // The entries are on disk, past the header's count; slots and header are as the first round left them.
    assert.deepEqual(d.entry(2), { keyHash: indexKeyHash('T#k'), phy: 2, timeDiff: 1, prev: 1 });
    assert.equal(d.header.indexCount, 2);
    assert.equal(d.slot(indexKeyHash('T#k') % SLOTS), 1);
    assert.equal(d.slot(indexKeyHash('T#j') % SLOTS), 0);
    assert.equal(f.hasUnflushed, true, 'slot pages wait for a slot round');
    // This file answers from memory; a reader of the disk sees the older, whole state.
    assert.deepEqual(await select(f, 'T#k'), [2, 1]);
    const old = IndexFile.open(path, SLOTS, NUM);
    assert.deepEqual(await select(old, 'T#k'), [1]);
    assert.deepEqual(await select(old, 'T#j'), []);
    old.close();
    await f.flushAll();
    d = onDisk(path, SLOTS);
    assert.equal(d.header.indexCount, 4);
    assert.equal(d.header.hashSlotCount, indexKeyHash('T#k') % SLOTS === indexKeyHash('T#j') % SLOTS ? 1 : 2);
    assert.equal(d.slot(indexKeyHash('T#j') % SLOTS), 3);
    f.close();
  } finally {
    cleanup();
  }
});

test('a slot write that fails leaves its pages to the next flush; queries answer from memory meanwhile', async () => {
  const { dir, cleanup } = tempDir();
  // The file writes through node:fs's `write`: failing it for the slot region (a full disk, say)
  // is done on the CommonJS module, then mirrored into the ESM bindings.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const realWrite = fs.write;
  const slotsEnd = INDEX_HEADER_SIZE + SLOTS * 4;
  try {
    const path = join(dir, '20240101000000000');
    const f = IndexFile.create(path, SLOTS, NUM);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 20; i++) f.putKey(`T#k${i % 5}`, i, t0);
    await f.flush();
    for (let i = 20; i < 40; i++) f.putKey(`T#k${i % 5}`, i, t0 + 1000);
    let failed = 0;
    (fs as { write: unknown }).write = (...args: unknown[]): void => {
      const position = args[4] as number;
      if (position >= INDEX_HEADER_SIZE && position < slotsEnd) {
        failed++;
        (args[5] as (err: Error) => void)(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
        return;
      }
      (realWrite as (...a: unknown[]) => void)(...args);
    };
    syncBuiltinESMExports();
    await assert.rejects(f.flush(true), /ENOSPC/);
    assert.ok(failed > 0);
    (fs as { write: unknown }).write = realWrite;
    syncBuiltinESMExports();
    // The header on disk still names the first round only; memory has it all.
    assert.equal(onDisk(path, SLOTS).header.indexCount, 21);
    assert.equal(f.hasUnflushed, true);
    assert.deepEqual(await select(f, 'T#k2'), [37, 32, 27, 22, 17, 12, 7, 2]);
    await f.flushAll();
    f.close();
    const g = IndexFile.open(path, SLOTS, NUM);
    assert.equal(g.indexCount, 41);
    assert.deepEqual(await select(g, 'T#k2'), [37, 32, 27, 22, 17, 12, 7, 2]);
    g.close();
  } finally {
    (fs as { write: unknown }).write = realWrite;
    syncBuiltinESMExports();
    cleanup();
  }
});

test('a file destroyed while its fdatasync waits in the thread pool keeps its descriptor until the sync is done', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const f = IndexFile.create(join(dir, 'idx'), SLOTS, NUM);
    f.putKey('T#k1', 100, Date.now());
    await f.flush(true);
    const busy = busyPool();
    const synced = f.datasync().then(() => null, (err: Error) => err);
    // Retention deletes the file now; closed at once, the queued sync would find no descriptor (EBADF).
    f.destroy();
    assert.equal(openDescriptorsOf(f.path), 1, 'kept open for the sync');
    await busy;
    assert.equal(await synced, null);
    assert.equal(openDescriptorsOf(f.path), 0, 'closed once the sync is done');
  } finally {
    cleanup();
  }
});

/** Descriptors of this process open on `path` (Linux: /proc/self/fd). */
function openDescriptorsOf(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(path)) n++;
    } catch {
      // The directory's own descriptor is gone by now.
    }
  }
  return n;
}
