import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, openSync, closeSync, readFileSync, readSync, statSync, writeSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { CommitLog, SYNC_LANES, ZERO_LANE, type CommitLogOptions } from '../../src/store/commit-log.js';
import { CrcReadAhead } from '../../src/store/crc-read-ahead.js';
import { MappedFile, offset2FileName } from '../../src/store/mapped-file.js';
import { walkSegment, WalkBuffer } from '../../src/store/record-walk.js';
import { decodeRecord, recordSize, writeRecordInto } from '../../src/common/message-record.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';

const logger = createLogger('test-commit-log');
const host = encodeSocketAddress('127.0.0.1', 10911);
const topic = Buffer.from('RecoverTopic');

function options(dir: string, fileSize: number, crcReadAheadMinBytes: number): CommitLogOptions {
  return {
    dir, fileSize, syncFlush: false, syncFlushTimeoutMs: 5000, flushIntervalMs: 500, hotTailCacheBytes: 0, logger,
    onDispatch: () => {}, crcReadAheadMinBytes,
  };
}

interface Written { phy: number; size: number; body: Buffer }

/** Appends one record with body `b` at queue offset `i`; `onPlaced` learns where it went. */
function appendRecord(log: CommitLog, i: number, b: Buffer, onPlaced?: (phy: number, size: number) => void, waitFlush = false): ReturnType<CommitLog['append']> {
  const size = recordSize(host.length, host.length, b.length, topic.length, 0);
  return log.append(size, (buf, pos, phy, now) => {
    writeRecordInto(buf, pos, size, {
      queueId: 0, flag: 0, queueOffset: i, physicalOffset: phy, sysFlag: 0, bornTimestamp: now, bornHost: host,
      storeTimestamp: now, storeHost: host, reconsumeTimes: 0, preparedTransactionOffset: 0, body: b, topic, properties: Buffer.alloc(0),
    });
    onPlaced?.(phy, size);
    return { topic: 'RecoverTopic', queueId: 0, queueOffset: i, phyOffset: phy, size, tagsCode: 0, storeTimestamp: now, sysFlag: 0, properties: '', queue: undefined, keyPrefixHash: undefined };
  }, waitFlush);
}

/** Appends `bodies` through a CommitLog (so segments end with the BLANK marker as in production). */
async function writeLog(dir: string, fileSize: number, bodies: Buffer[]): Promise<Written[]> {
  const log = new CommitLog(options(dir, fileSize, Infinity));
  log.load();
  log.recover(0, 0, true, () => {});
  const out: Written[] = [];
  const acks = bodies.map((b, i) => appendRecord(log, i, b, (phy, size) => out.push({ phy, size, body: b })));
  for (const r of await Promise.all(acks)) assert.equal(r.status, 'PUT_OK');
  await log.shutdown();
  return out;
}

/** Recovers the log in `dir` from 0 and returns the verified end and the offsets it dispatched. */
function recover(dir: string, fileSize: number, readAhead: boolean, checkCRC = true): { end: number; seen: number[] } {
  const log = new CommitLog(options(dir, fileSize, readAhead ? 0 : Infinity));
  log.load();
  const seen: number[] = [];
  const end = log.recover(0, 0, checkCRC, (buf, pos, phy) => {
    assert.equal(decodeRecord(buf, pos).commitLogOffset, phy);
    seen.push(phy);
  });
  return { end, seen };
}

function body(i: number, len: number): Buffer {
  return Buffer.alloc(len, `b${i}-`);
}

/** Flips one byte of the body of record `w` on disk (its stored CRC no longer matches). */
function corruptBody(dir: string, fileSize: number, w: Written): void {
  const fileFrom = w.phy - (w.phy % fileSize);
  const fd = openSync(join(dir, offset2FileName(fileFrom)), 'r+');
  try {
    const at = w.phy - fileFrom + w.size - topic.length - 1 - 2 - 3; // inside the body, near its end
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

for (const readAhead of [false, true]) {
  const mode = readAhead ? 'with the CRC read-ahead thread' : 'on the main thread alone';

  test(`recovery ${mode}: every record across segments is verified and dispatched, records straddling read chunks included`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      // 700 KiB bodies in 4 MiB segments: records straddle the 1 MiB read chunks and segments end with BLANK.
      const fileSize = 4 * 1024 * 1024;
      const written = await writeLog(dir, fileSize, Array.from({ length: 14 }, (_, i) => body(i, 700 * 1024)));
      assert.ok(written[written.length - 1]!.phy >= 2 * fileSize, 'the log spans three segments');
      const { end, seen } = recover(dir, fileSize, readAhead);
      const last = written[written.length - 1]!;
      assert.equal(end, last.phy + last.size);
      assert.deepEqual(seen, written.map((w) => w.phy));
    } finally {
      cleanup();
    }
  });

  test(`recovery ${mode}: a body CRC mismatch cuts the log before that record, even in a later segment`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fileSize = 64 * 1024;
      const written = await writeLog(dir, fileSize, Array.from({ length: 300 }, (_, i) => body(i, 500 + (i % 7) * 100)));
      const bad = written.findIndex((w) => w.phy >= fileSize + 1000);
      corruptBody(dir, fileSize, written[bad]!);
      const { end, seen } = recover(dir, fileSize, readAhead);
      assert.equal(end, written[bad]!.phy);
      assert.deepEqual(seen, written.slice(0, bad).map((w) => w.phy));
    } finally {
      cleanup();
    }
  });

  test(`recovery ${mode}: a torn last record is cut`, async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fileSize = 64 * 1024;
      const written = await writeLog(dir, fileSize, Array.from({ length: 200 }, (_, i) => body(i, 700)));
      const last = written[written.length - 1]!;
      const fileFrom = last.phy - (last.phy % fileSize);
      truncateSync(join(dir, offset2FileName(fileFrom)), last.phy - fileFrom + last.size - 5);
      const { end, seen } = recover(dir, fileSize, readAhead);
      assert.equal(end, last.phy);
      assert.deepEqual(seen, written.slice(0, -1).map((w) => w.phy));
    } finally {
      cleanup();
    }
  });
}

test('recovery without checkCRCOnRecover keeps a record whose body no longer matches its CRC', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fileSize = 64 * 1024;
    const written = await writeLog(dir, fileSize, Array.from({ length: 50 }, (_, i) => body(i, 600)));
    corruptBody(dir, fileSize, written[20]!);
    const { end, seen } = recover(dir, fileSize, true, false);
    assert.equal(seen.length, written.length);
    assert.equal(end, written[49]!.phy + written[49]!.size);
  } finally {
    cleanup();
  }
});

test('the CRC read-ahead thread vouches for whole records up to a mismatch and no further', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fileSize = 64 * 1024;
    const written = await writeLog(dir, fileSize, Array.from({ length: 150 }, (_, i) => body(i, 900)));
    const bad = written.findIndex((w) => w.phy >= fileSize + 5000);
    corruptBody(dir, fileSize, written[bad]!);
    const segments = [0, 1, 2].map((i) => {
      const path = join(dir, offset2FileName(i * fileSize));
      return { path, fileFromOffset: i * fileSize, from: 0, len: Math.min(fileSize, written[written.length - 1]!.phy + written[written.length - 1]!.size - i * fileSize) };
    });
    const ra = CrcReadAhead.start(segments, fileSize, logger);
    assert.ok(ra, 'the worker starts from the compiled tree');
    try {
      // Nothing waits for the worker: it is asked once it has stopped, at the mismatch.
      for (const deadline = Date.now() + 10_000; !ra.finished && Date.now() < deadline;) await sleep(5);
      assert.equal(ra.finished, true);
      assert.equal(ra.covers(written[bad - 1]!.phy + written[bad - 1]!.size), true);
      assert.equal(ra.covers(written[bad]!.phy + written[bad]!.size), false);
      assert.equal(ra.covers(written[bad + 5]!.phy + written[bad + 5]!.size), false);
    } finally {
      ra.close();
    }
  } finally {
    cleanup();
  }
});

test('a walk reads records another walk vouched for by their size only; the blank marker and records past the vouched end are still checked', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const fileSize = 64 * 1024;
    const written = await writeLog(dir, fileSize, Array.from({ length: 120 }, (_, i) => body(i, 700 + (i % 5) * 50)));
    const inFirst = written.filter((w) => w.phy + w.size <= fileSize);
    const fd = openSync(join(dir, offset2FileName(0)), 'r');
    try {
      const read = (buf: Buffer, at: number, length: number): number => readSync(fd, buf, 0, length, at);
      const walk = (verified?: (end: number) => boolean): { seen: number[]; stop: unknown } => {
        const seen: number[] = [];
        const r = walkSegment(read, new WalkBuffer(), 0, fileSize, true, (_b, _rel, filePos) => {
          seen.push(filePos);
          return true;
        }, verified);
        return { seen, stop: r.stop };
      };
      const all = inFirst.map((w) => w.phy);
      // Vouched for everything, the BLANK marker included: the same records, and the marker still ends the segment.
      assert.deepEqual(walk(() => true), { seen: all, stop: 'blank' });
      assert.deepEqual(walk(), { seen: all, stop: 'blank' });
      // A corrupt body past the vouched end is found.
      const bad = 30;
      corruptBody(dir, fileSize, written[bad]!);
      const upTo = written[bad - 1]!.phy + written[bad - 1]!.size;
      const r = walk((end) => end <= upTo);
      assert.deepEqual(r.seen, all.slice(0, bad));
      assert.deepEqual(r.stop, { reason: 'body CRC mismatch' });
    } finally {
      closeSync(fd);
    }
  } finally {
    cleanup();
  }
});

test('a failed write, small batch (written on the loop) or large (thread pool), refuses the batch and makes the log read-only', async () => {
  for (const count of [1, 1500]) {
    const { dir, cleanup } = tempDir();
    const log = new CommitLog(options(dir, 64 * 1024 * 1024, Infinity));
    log.load();
    log.recover(0, 0, true, () => {});
    const appendOne = (i: number): ReturnType<CommitLog['append']> => appendRecord(log, i, body(i, 1000));
    assert.equal((await appendOne(0)).status, 'PUT_OK');
    // Swap the segment's descriptor for a read-only one: the next write fails with EBADF.
    const file = log.files.lastFile as unknown as { fd: number; path: string };
    closeSync(file.fd);
    file.fd = openSync(file.path, 'r');
    const results = await Promise.all(Array.from({ length: count }, (_, i) => appendOne(i + 1)));
    assert.ok(results.every((r) => r.status === 'SERVICE_NOT_AVAILABLE'), `batch of ${count}`);
    assert.equal(log.isWritable, false);
    assert.equal((await appendOne(count + 1)).status, 'SERVICE_NOT_AVAILABLE');
    await log.shutdown().catch(() => undefined);
    cleanup();
  }
});

/**
 * Holds the first fdatasync of the log's current segment until `release()`, recording the
 * descriptor lane of every sync and how many ran at once. The syncs themselves are real.
 */
function holdFirstSync(log: CommitLog): { lanes: number[]; maxAtOnce: () => number; release: (breakFd?: boolean) => void; restoreFd: () => void } {
  const file = log.files.lastFile!;
  const real = file.datasync.bind(file);
  const lanes: number[] = [];
  let atOnce = 0;
  let max = 0;
  let held: (() => void) | undefined;
  const fds = file as unknown as { fd: number };
  const realFd = fds.fd;
  file.datasync = (cb, lane = 0) => {
    if (lane === ZERO_LANE) return real(cb, lane); // the zeros written ahead: not a group commit
    lanes.push(lane);
    max = Math.max(max, ++atOnce);
    const run = (): void => real((err) => { atOnce--; cb(err); }, lane);
    if (lanes.length === 1) held = run;
    else run();
  };
  return {
    lanes,
    maxAtOnce: () => max,
    release: (breakFd = false) => {
      if (breakFd) fds.fd = 1 << 30; // the held sync now fails with EBADF
      held?.();
    },
    restoreFd: () => { fds.fd = realFd; },
  };
}

function syncLog(dir: string, dispatched: number[]): CommitLog {
  const log = new CommitLog({ ...options(dir, 64 * 1024 * 1024, Infinity), syncFlush: true, onDispatch: (reqs) => { for (const r of reqs) dispatched.push(r.phyOffset); } });
  log.load();
  log.recover(0, 0, true, () => {});
  return log;
}

function appendSync(log: CommitLog, i: number): ReturnType<CommitLog['append']> {
  return appendRecord(log, i, body(i, 200), undefined, true);
}

/**
 * Runs `fn` with the zeros ahead of the log written instantly (not at all): tests of the group
 * commits' lanes must not see their batches merge while a slow zero write holds them back.
 */
async function withoutZerosAhead(fn: () => Promise<void>): Promise<void> {
  const real = MappedFile.prototype.writeZeros;
  MappedFile.prototype.writeZeros = (_position, _length, cb) => cb(null);
  try {
    await fn();
  } finally {
    MappedFile.prototype.writeZeros = real;
  }
}

test('SYNC_FLUSH: a second group commit is written and synced while the first fdatasync runs, on its own descriptor; acks and dispatch keep log order', () => withoutZerosAhead(async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dispatched: number[] = [];
    const log = syncLog(dir, dispatched);
    assert.equal((await appendSync(log, 0)).status, 'PUT_OK'); // creates the segment
    const hold = holdFirstSync(log);
    const order: number[] = [];
    const first = appendSync(log, 1).then((r) => { order.push(1); return r; });
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is written, its sync held
    const second = [2, 3, 4].map((i) => appendSync(log, i).then((r) => { order.push(i); return r; }));
    // The second batch's sync runs (and returns) while the first is held; its acks wait.
    for (let i = 0; i < 200 && hold.lanes.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(hold.lanes, [0, 1]);
    assert.deepEqual(order, [], 'nothing acknowledged before the first batch is durable');
    hold.release();
    const results = await Promise.all([first, ...second]);
    assert.ok(results.every((r) => r.status === 'PUT_OK'));
    assert.deepEqual(order, [1, 2, 3, 4]);
    assert.equal(hold.maxAtOnce(), 2);
    assert.deepEqual(dispatched, [...dispatched].sort((a, b) => a - b));
    assert.equal(dispatched.length, 5);
    assert.equal(log.flushedOffset, log.writtenOffset);
    await log.shutdown();
  } finally {
    cleanup();
  }
}));

test('SYNC_FLUSH: when an earlier fdatasync fails, a later batch whose own sync succeeded is refused too and the log turns read-only', () => withoutZerosAhead(async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dispatched: number[] = [];
    const log = syncLog(dir, dispatched);
    assert.equal((await appendSync(log, 0)).status, 'PUT_OK');
    const hold = holdFirstSync(log);
    const first = appendSync(log, 1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = appendSync(log, 2);
    for (let i = 0; i < 200 && hold.lanes.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20)); // the second sync has returned
    hold.release(true);
    assert.deepEqual((await Promise.all([first, second])).map((r) => r.status), ['SERVICE_NOT_AVAILABLE', 'SERVICE_NOT_AVAILABLE']);
    assert.equal(log.isWritable, false);
    assert.equal(dispatched.length, 1, 'only the record acknowledged before the failure was dispatched');
    hold.restoreFd();
    await log.shutdown();
  } finally {
    cleanup();
  }
}));

test('SYNC_FLUSH: zeros are kept written ahead of the log while records arrive; a clean stop cuts them off', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = syncLog(dir, []);
    log.start(); // the first zeros are being written from offset 0 while the first records arrive
    const placed: Written[] = [];
    for (let round = 0; round < 40; round++) {
      const acks = Array.from({ length: 64 }, (_, k) => {
        const i = round * 64 + k;
        const b = body(i, 1000);
        return appendRecord(log, i, b, (phy, size) => placed.push({ phy, size, body: b }), true);
      });
      assert.ok((await Promise.all(acks)).every((r) => r.status === 'PUT_OK'));
    }
    const end = log.writtenOffset;
    const path = join(dir, offset2FileName(0));
    assert.ok(end > 2 * 1024 * 1024, 'the records cross several chunks of zeros');
    assert.ok(statSync(path).size > end, 'zeros lie past the last record');
    const file = readFileSync(path);
    for (const w of placed) {
      const r = decodeRecord(file.subarray(w.phy, w.phy + w.size));
      assert.ok(r.body.equals(w.body), `record at ${w.phy} intact`);
    }
    await log.shutdown();
    assert.equal(statSync(path).size, end, 'a clean stop leaves the segment ending with its data');
    const again = new CommitLog(options(dir, 64 * 1024 * 1024, Infinity));
    again.load();
    assert.equal(again.recover(0, 0, true, () => {}), end);
    await again.shutdown();
  } finally {
    cleanup();
  }
});

test('SYNC_FLUSH: after a crash the zeros written ahead read as the end of the log', async () => {
  const { dir, cleanup } = tempDir();
  const copy = tempDir();
  try {
    const log = syncLog(dir, []);
    log.start();
    const acks = Array.from({ length: 300 }, (_, i) => appendSync(log, i));
    assert.ok((await Promise.all(acks)).every((r) => r.status === 'PUT_OK'));
    const end = log.writtenOffset;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the zeros of the first chunks are on disk
    cpSync(dir, copy.dir, { recursive: true }); // the files as a killed broker leaves them
    await log.shutdown();
    const path = join(copy.dir, offset2FileName(0));
    assert.ok(statSync(path).size > end);
    const seen: number[] = [];
    const recovered = new CommitLog(options(copy.dir, 64 * 1024 * 1024, Infinity));
    recovered.load();
    assert.equal(recovered.recover(0, 0, true, (_b, _p, phy) => seen.push(phy)), end);
    assert.equal(seen.length, 300, 'every acknowledged record is there');
    assert.equal(statSync(path).size, end, 'the zeros are cut off');
    await recovered.shutdown();
  } finally {
    cleanup();
    copy.cleanup();
  }
});

test('SYNC_FLUSH: a batch that reaches zeros still being written waits for that write, so the zeros never land over it', async () => {
  const { dir, cleanup } = tempDir();
  const real = MappedFile.prototype.writeZeros;
  const held: Array<() => void> = [];
  MappedFile.prototype.writeZeros = function (this: MappedFile, position, length, cb) {
    held.push(() => real.call(this, position, length, cb));
  };
  try {
    const log = syncLog(dir, []);
    const placed: Written[] = [];
    const append = (i: number): ReturnType<CommitLog['append']> => {
      const b = body(i, 1000);
      return appendRecord(log, i, b, (phy, size) => placed.push({ phy, size, body: b }), true);
    };
    assert.equal((await append(0)).status, 'PUT_OK');
    assert.equal(held.length, 1, 'zeros are being written right after the first record');
    let acked = 0;
    const later = Array.from({ length: 50 }, (_, k) => append(k + 1).then((r) => { acked++; return r; }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(acked, 0, 'the batch waits while the zeros where it goes are being written');
    MappedFile.prototype.writeZeros = real;
    held.shift()!();
    assert.ok((await Promise.all(later)).every((r) => r.status === 'PUT_OK'));
    const file = readFileSync(join(dir, offset2FileName(0)));
    for (const w of placed) assert.ok(decodeRecord(file.subarray(w.phy, w.phy + w.size)).body.equals(w.body), `record at ${w.phy} intact`);
    await log.shutdown();
  } finally {
    MappedFile.prototype.writeZeros = real;
    cleanup();
  }
});

test('SYNC_FLUSH: at most SYNC_LANES group commits sync at once; the next batch is written when a descriptor frees up', () => withoutZerosAhead(async () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = syncLog(dir, []);
    assert.equal((await appendSync(log, 0)).status, 'PUT_OK'); // creates the segment
    const file = log.files.lastFile!;
    const real = file.datasync.bind(file);
    const held: Array<() => void> = [];
    const lanes: number[] = [];
    file.datasync = (cb, lane = 0) => {
      if (lane === ZERO_LANE) return real(cb, lane);
      lanes.push(lane);
      held.push(() => real(cb, lane));
    };
    const acks: Array<ReturnType<CommitLog['append']>> = [];
    for (let i = 1; i <= SYNC_LANES + 1; i++) {
      acks.push(appendSync(log, i));
      await new Promise((resolve) => setImmediate(resolve)); // one batch per turn of the loop
    }
    assert.deepEqual(lanes, Array.from({ length: SYNC_LANES }, (_, i) => i), 'one descriptor per sync in flight');
    const before = log.writtenOffset;
    assert.ok(before < log.maxOffset, 'the last batch waits, unwritten');
    held.shift()!();
    for (let i = 0; i < 200 && lanes.length <= SYNC_LANES; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(lanes.length, SYNC_LANES + 1);
    assert.equal(lanes[SYNC_LANES], 0, 'it takes the descriptor that freed up');
    assert.ok(log.writtenOffset > before);
    while (held.length > 0) held.shift()!();
    assert.ok((await Promise.all(acks)).every((r) => r.status === 'PUT_OK'));
    await log.shutdown();
  } finally {
    cleanup();
  }
}));

test('write pages evicted from the hot tail are reused only when no reader holds a slice of them', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const log = new CommitLog({ ...options(dir, 64 * 1024 * 1024, Infinity), hotTailCacheBytes: 8 * 1024 * 1024 });
    log.load();
    log.recover(0, 0, true, () => {});
    const placed: Array<{ phy: number; size: number }> = [];
    const write = async (from: number, to: number): Promise<void> => {
      const acks: Array<ReturnType<CommitLog['append']>> = [];
      for (let i = from; i < to; i++) acks.push(appendRecord(log, i, body(i, 60 * 1024), (phy, size) => { placed[i] = { phy, size }; }));
      for (const r of await Promise.all(acks)) assert.equal(r.status, 'PUT_OK');
    };
    // Two 4 MiB pages' worth: a reader takes a slice of the first page (a hot-tail pull).
    await write(0, 100);
    const [lent] = await log.readRecords([placed[0]!]);
    assert.ok(lent);
    const lentCopy = Buffer.from(lent);
    // Far past the hot tail: both early pages are evicted, and pages nothing was lent from are
    // written again (in several rounds, so writes land in reused pages).
    for (let round = 0; round < 6; round++) await write(100 + round * 100, 200 + round * 100);
    assert.deepEqual(lent, lentCopy, 'a slice handed to a reader must never change');
    // Every record reads back whole, those still in the (reused) write pages and those on disk.
    const back = await log.readRecords(placed);
    back.forEach((b, i) => {
      assert.ok(b, `record ${i} readable`);
      const r = decodeRecord(b, 0);
      assert.equal(r.queueOffset, i);
      assert.equal(r.commitLogOffset, placed[i]!.phy);
      assert.ok(r.body.equals(body(i, 60 * 1024)), `record ${i} body`);
    });
    await log.shutdown();
  } finally {
    cleanup();
  }
});
