import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statfsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultMessageStore, type PutMessageInput } from '../../src/store/index.js';
import { CleanService, diskUsageRatio, isTimeToDelete } from '../../src/store/clean-service.js';
import { RunningFlags } from '../../src/store/running-flags.js';
import { defaultMessageStoreConfig, type MessageStoreConfig } from '../../src/common/config.js';
import { encodeSocketAddress } from '../../src/common/socket-address.js';
import { decodeRecords } from '../../src/common/message-record.js';
import { encodeProperties } from '../../src/common/properties.js';
import { createLogger } from '../../src/common/logger.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger } from '../broker/helpers.js';

const logger = createLogger('test-retention');
const host = encodeSocketAddress('127.0.0.1', 10911);
const thisHour = String(new Date().getHours()).padStart(2, '0');
const otherHour = String((new Date().getHours() + 12) % 24).padStart(2, '0');

function config(dir: string, over: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return { ...defaultMessageStoreConfig(), storePathRootDir: dir, mappedFileSizeCommitLog: 4096, mappedFileSizeConsumeQueue: 20 * 16, deleteWhen: thisHour, ...over };
}

function msg(i: number): PutMessageInput {
  return {
    topic: 'Ret', queueId: 0, flag: 0, sysFlag: 0, bornTimestamp: Date.now(), bornHost: host, reconsumeTimes: 0,
    preparedTransactionOffset: 0, body: Buffer.from(`m-${i}`.padEnd(200, '.')), properties: encodeProperties({ TAGS: 'T' }), tagsCode: 0, waitStoreMsgOK: true,
  };
}

async function filled(dir: string, over: Partial<MessageStoreConfig> = {}): Promise<DefaultMessageStore> {
  const s = new DefaultMessageStore(config(dir, over), host, logger);
  s.load();
  s.start();
  for (let i = 0; i < 300; i++) await s.putMessage(msg(i));
  await s.flushConsumeQueues(true);
  return s;
}

function ageCommitLog(dir: string, hours: number): void {
  const t = (Date.now() - hours * 3_600_000) / 1000;
  for (const f of readdirSync(join(dir, 'commitlog'))) utimesSync(join(dir, 'commitlog', f), t, t);
}

test('expired CommitLog files go at the deleteWhen hour, oldest first and never the newest; queues follow', async () => {
  const { dir, cleanup } = tempDir('rmq-ret-');
  try {
    const s = await filled(dir);
    const before = readdirSync(join(dir, 'commitlog')).length;
    const cqBefore = readdirSync(join(dir, 'consumequeue', 'Ret', '0')).length;
    assert.ok(before > 15);
    // Nothing is old enough yet.
    assert.equal(s.cleanService.run(), 0);
    ageCommitLog(dir, 100);
    let deleted = 0;
    for (let n = s.cleanService.run(); n > 0; n = s.cleanService.run()) {
      assert.ok(n <= 10, 'deleteFileBatchMax per round');
      deleted += n;
    }
    assert.equal(deleted, before - 1, 'all but the newest file');
    assert.equal(readdirSync(join(dir, 'commitlog')).length, 1);
    assert.ok(readdirSync(join(dir, 'consumequeue', 'Ret', '0')).length < cqBefore, 'ConsumeQueue files followed');
    const min = s.getMinOffsetInQueue('Ret', 0);
    assert.ok(min > 0 && min < 300);
    // A consumer behind the minimum is moved forward, not stuck.
    const r = await s.getMessage('Ret', 0, 0, 32);
    assert.equal(r.status, 'OFFSET_TOO_SMALL');
    assert.equal(r.nextBeginOffset, min);
    const rest = await s.getMessage('Ret', 0, min, 32);
    assert.equal(rest.status, 'FOUND');
    assert.equal(decodeRecords(rest.buffers[0]!)[0]!.body.toString().replace(/\.+$/, ''), `m-${min}`);
    await s.shutdown();
    // The same minimum after a restart.
    const again = new DefaultMessageStore(config(dir), host, logger);
    again.load();
    again.start();
    assert.equal(again.getMinOffsetInQueue('Ret', 0), min);
    assert.equal(again.getMaxOffsetInQueue('Ret', 0), 300);
    await again.shutdown();
  } finally {
    cleanup();
  }
});

test('outside deleteWhen nothing goes unless the disk is over diskMaxUsedSpaceRatio; over the forcible ratio unexpired files go too; over the warning level writes are refused', async () => {
  const { dir, cleanup } = tempDir('rmq-ret2-');
  try {
    const s = await filled(dir, { deleteWhen: otherHour });
    ageCommitLog(dir, 100);
    assert.equal(s.cleanService.run(), 0, 'not the hour, disk not full');
    let usage = 0.8; // over diskMaxUsedSpaceRatio 75 %
    const target = {
      deleteCommitLogFiles: (d: (m: number) => boolean, max: number) => s.commitLog.deleteExpiredFiles(d, max),
      cleanLogicFiles: () => s.cleanLogicFiles(),
      commitLogMinOffset: () => s.minPhyOffset,
      commitLogPaths: () => [dir],
      consumeQueuePath: () => dir,
      runningFlags: new RunningFlags(),
      setFullStorePaths: () => undefined,
    };
    const svc = new CleanService(s.config, target, logger, Date.now, () => usage);
    assert.equal(svc.run(), 10, 'space pressure deletes expired files outside the hour');
    ageCommitLog(dir, 0); // everything is fresh again
    assert.equal(svc.run(), 0, 'fresh files stay below the forcible ratio');
    usage = 0.87;
    assert.ok(svc.run() > 0, 'over the forcible ratio fresh files go too');
    assert.equal(target.runningFlags.isDiskFull(), false);
    usage = 0.95;
    svc.run();
    assert.equal(target.runningFlags.isDiskFull(), true, 'over the warning level the disk is full');
    usage = 0.5;
    svc.run();
    assert.equal(target.runningFlags.isDiskFull(), false);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('over the warning or forcible level, files are cleaned at once whatever diskMaxUsedSpaceRatio says (upstream isSpaceToDelete)', async () => {
  // Both fresh stores, outside the deleteWhen hour: only cleanImmediately can delete anything.
  const round = async (usage: number, over: Partial<MessageStoreConfig>): Promise<{ deleted: number; diskFull: boolean }> => {
    const { dir, cleanup } = tempDir('rmq-ret3-');
    try {
      const s = await filled(dir, { deleteWhen: otherHour, ...over });
      const runningFlags = new RunningFlags();
      const svc = new CleanService(s.config, {
        deleteCommitLogFiles: (d, max) => s.commitLog.deleteExpiredFiles(d, max),
        cleanLogicFiles: () => s.cleanLogicFiles(),
        commitLogMinOffset: () => s.minPhyOffset,
        commitLogPaths: () => [dir],
        consumeQueuePath: () => dir,
        runningFlags,
        setFullStorePaths: () => undefined,
      }, logger, Date.now, () => usage);
      const deleted = svc.run();
      await s.shutdown();
      return { deleted, diskFull: runningFlags.isDiskFull() };
    } finally {
      cleanup();
    }
  };
  // A warning level below the forcible one: writes refused at 82 %, so files must go too.
  const low = await round(0.82, { diskSpaceWarningLevelRatio: 80, diskSpaceCleanForciblyRatio: 85 });
  assert.equal(low.diskFull, true);
  assert.ok(low.deleted > 0, `over the warning level fresh files go too, deleted ${low.deleted}`);
  // diskMaxUsedSpaceRatio raised to 95: at 92 % (over the default levels 90 and 85) cleanup still runs.
  const high = await round(0.92, { diskMaxUsedSpaceRatio: 95 });
  assert.equal(high.diskFull, true);
  assert.ok(high.deleted > 0, `over the forcible and warning levels cleanup runs, deleted ${high.deleted}`);
});

test('queues and index files follow CommitLog files deleted in an earlier run (crash before they followed), with nothing more to delete', async () => {
  const { dir, cleanup } = tempDir('rmq-ret4-');
  try {
    // Small index files (64 entries): 300 keyed messages fill several.
    const over = { deleteWhen: otherHour, maxHashSlotNum: 64, maxIndexNum: 64 };
    const s = new DefaultMessageStore(config(dir, over), host, logger);
    s.load();
    s.start();
    for (let i = 0; i < 300; i++) await s.putMessage({ ...msg(i), properties: encodeProperties({ TAGS: 'T', KEYS: `k${i}` }) });
    await s.flushConsumeQueues(true);
    const cqFiles = (): number => readdirSync(join(dir, 'consumequeue', 'Ret', '0')).length;
    const indexFiles = (): number => readdirSync(join(dir, 'index')).length;
    const cqBefore = cqFiles();
    const indexBefore = indexFiles();
    assert.ok(indexBefore > 2, `several index files, got ${indexBefore}`);
    // The CommitLog retention of a run that then dies: its queues and index never followed.
    assert.ok(s.commitLog.deleteExpiredFiles(() => true, 1000) > 10);
    await s.shutdown();
    const again = new DefaultMessageStore(config(dir, over), host, logger);
    again.load();
    again.start();
    try {
      assert.equal(cqFiles(), cqBefore);
      assert.equal(again.cleanService.run(), 0, 'outside deleteWhen, no CommitLog file goes');
      assert.ok(cqFiles() < cqBefore, `ConsumeQueue files followed the CommitLog minimum: ${cqFiles()} of ${cqBefore}`);
      assert.ok(indexFiles() < indexBefore, `index files followed the CommitLog minimum: ${indexFiles()} of ${indexBefore}`);
      const min = again.getMinOffsetInQueue('Ret', 0);
      assert.ok(min > 0 && min < 300);
      assert.equal((await again.getMessage('Ret', 0, min, 1)).status, 'FOUND');
    } finally {
      await again.shutdown();
    }
  } finally {
    cleanup();
  }
});

test('deleteWhen is a list of hours', () => {
  const at = (h: number) => new Date(2026, 0, 1, h, 30).getTime();
  assert.equal(isTimeToDelete('04', at(4)), true);
  assert.equal(isTimeToDelete('04', at(5)), false);
  assert.equal(isTimeToDelete('04;16', at(16)), true);
});

test('disk use is measured as upstream and df: used / (used + available), rounded up to the percent; -1 for a missing path', () => {
  const { dir, cleanup } = tempDir('rmq-ret5-');
  try {
    // Blocks reserved for root count as used, as in df's Use%; retried in case other writers move it between the two reads.
    let got = 0;
    let want = -2;
    for (let i = 0; i < 5 && got !== want; i++) {
      const s = statfsSync(dir);
      const used = s.blocks - s.bfree;
      want = Math.ceil((used * 100) / (used + s.bavail)) / 100;
      got = diskUsageRatio(dir);
    }
    assert.equal(got, want);
    assert.equal(Math.round(got * 100), got * 100, 'whole percents');
    assert.equal(diskUsageRatio(join(dir, 'no-such-dir')), -1);
  } finally {
    cleanup();
  }
});

test('DISK_FULL is raised and cleared once per change with upstream log lines; puts are refused meanwhile; the CommitLog counts by its least used path', async () => {
  const { dir, cleanup } = tempDir('rmq-ret6-');
  try {
    const s = await filled(dir, { deleteWhen: otherHour });
    const { logger: memLogger, lines } = memoryLogger();
    const usage = new Map<string, number>([['cl-a', 0.5], ['cl-b', 0.5], ['cq', 0.5]]);
    const svc = new CleanService(s.config, {
      deleteCommitLogFiles: () => 0,
      cleanLogicFiles: () => s.cleanLogicFiles(),
      commitLogMinOffset: () => s.minPhyOffset,
      commitLogPaths: () => ['cl-a', 'cl-b'],
      consumeQueuePath: () => 'cq',
      runningFlags: s.runningFlags,
      setFullStorePaths: () => undefined,
    }, memLogger, Date.now, (p) => usage.get(p) ?? -1);
    // One CommitLog path over the warning level, the other with room: upstream goes by the least used.
    usage.set('cl-a', 0.95);
    svc.run();
    assert.equal(s.runningFlags.isDiskFull(), false, 'another CommitLog path still has room');
    usage.set('cl-b', 0.93);
    for (let i = 0; i < 3; i++) svc.run();
    assert.equal(s.runningFlags.isDiskFull(), true);
    const full = lines.filter((l) => /^physic disk maybe full soon 0\.93, so mark disk full, storePathPhysic=cl-b$/.test(String(l.msg)));
    assert.equal(full.length, 1, 'logged when the state changes, not every round');
    assert.equal(lines.filter((l) => l.msg === 'disk space will be full soon, but delete file failed.').length, 3);
    for (let i = 0; i < 3; i++) assert.equal((await s.putMessage(msg(i))).status, 'SERVICE_NOT_AVAILABLE');
    // Between the forcible and the warning level the disk stays full (upstream's hysteresis).
    usage.set('cl-a', 0.88);
    usage.set('cl-b', 0.88);
    svc.run();
    assert.equal(s.runningFlags.isDiskFull(), true, 'not OK before the forcible level');
    assert.equal((await s.putMessage(msg(0))).status, 'SERVICE_NOT_AVAILABLE');
    usage.set('cl-a', 0.5);
    usage.set('cl-b', 0.5);
    svc.run();
    svc.run();
    assert.equal(s.runningFlags.isDiskFull(), false);
    assert.equal(lines.filter((l) => l.msg === 'physic disk space OK 0.5, so mark disk ok, storePathPhysic=cl-a').length, 1);
    assert.equal((await s.putMessage(msg(1))).status, 'PUT_OK');
    // The ConsumeQueue disk over the warning level is a full disk too.
    usage.set('cq', 0.91);
    svc.run();
    assert.equal(s.runningFlags.isDiskFull(), true);
    assert.equal(lines.filter((l) => l.msg === 'logics disk maybe full soon 0.91, so mark disk full').length, 1);
    await s.shutdown();
  } finally {
    cleanup();
  }
});

test('storePathCommitLog listing several directories spreads segments over them round robin, loads them all, and avoids a full one', async () => {
  const { dir, cleanup } = tempDir('rmq-ret7-');
  try {
    const a = join(dir, 'cl-a');
    const b = join(dir, 'cl-b');
    const over = { storePathCommitLog: `${b},${a}`, deleteWhen: otherHour };
    const s = await filled(dir, over);
    const segs = (d: string): string[] => readdirSync(d).filter((n) => /^\d{20}$/.test(n));
    const inA = segs(a);
    const inB = segs(b);
    assert.ok(inA.length > 3 && inB.length > 3, `${inA.length} + ${inB.length} segments`);
    // As upstream: segment index modulo the sorted directories.
    for (const n of inA) assert.equal((Number(n) / 4096) % 2, 0, n);
    for (const n of inB) assert.equal((Number(n) / 4096) % 2, 1, n);
    const info = s.runtimeInfo();
    assert.ok(`commitLogDiskRatio_${a}` in info && `commitLogDiskRatio_${b}` in info);
    await s.shutdown();

    const again = new DefaultMessageStore(config(dir, over), host, logger);
    again.load();
    again.start();
    try {
      for (const o of [0, 150, 299]) {
        const r = await again.getMessage('Ret', 0, o, 1);
        assert.equal(r.status, 'FOUND');
        assert.equal(decodeRecords(r.buffers[0]!)[0]!.body.toString().replace(/\.+$/, ''), `m-${o}`);
      }
      // cl-a over the forcible ratio, cl-b with room: new segments all go to cl-b.
      const usage = new Map([[a, 0.9], [b, 0.5]]);
      const svc = new CleanService(again.config, {
        deleteCommitLogFiles: () => 0,
        cleanLogicFiles: () => undefined,
        commitLogMinOffset: () => again.minPhyOffset,
        commitLogPaths: () => again.commitLogPaths(),
        consumeQueuePath: () => 'cq',
        runningFlags: again.runningFlags,
        setFullStorePaths: (paths) => { again.commitLog.files.fullDirs = paths; },
      }, logger, Date.now, (p) => usage.get(p) ?? 0.5);
      svc.run();
      assert.equal(again.runningFlags.isDiskFull(), false, 'the least used CommitLog path has room');
      const before = new Set(segs(a));
      for (let i = 0; i < 100; i++) assert.equal((await again.putMessage(msg(300 + i))).status, 'PUT_OK');
      assert.deepEqual(new Set(segs(a)), before, 'no new segment in the full directory');
      assert.ok(segs(b).length > inB.length + 3);
      // Retention deletes from both directories, oldest first.
      assert.ok(again.commitLog.deleteExpiredFiles(() => true, 1000) > 10);
      assert.equal(segs(a).length + segs(b).length, 1);
    } finally {
      await again.shutdown();
    }
  } finally {
    cleanup();
  }
});

test('readOnlyCommitLogStorePaths: segments there are loaded and read, new ones go to storePathCommitLog only', async () => {
  const { dir, cleanup } = tempDir('rmq-ret8-');
  try {
    const [a, b, c] = ['cl-a', 'cl-b', 'cl-c'].map((n) => join(dir, n)) as [string, string, string];
    const segs = (d: string): string[] => { try { return readdirSync(d).filter((n) => /^\d{20}$/.test(n)); } catch { return []; } };
    const s = await filled(dir, { storePathCommitLog: `${a},${b}` });
    await s.shutdown();
    const inA = segs(a);
    assert.ok(inA.length > 3);
    // cl-a is being retired: read-only, and cl-c takes its place.
    const over = { storePathCommitLog: `${b},${c}`, readOnlyCommitLogStorePaths: a };
    const again = new DefaultMessageStore(config(dir, over), host, logger);
    again.load();
    again.start();
    try {
      for (const o of [0, 150, 299]) {
        const r = await again.getMessage('Ret', 0, o, 1);
        assert.equal(r.status, 'FOUND', `offset ${o}`);
        assert.equal(decodeRecords(r.buffers[0]!)[0]!.body.toString().replace(/\.+$/, ''), `m-${o}`);
      }
      for (let i = 0; i < 100; i++) assert.equal((await again.putMessage(msg(300 + i))).status, 'PUT_OK');
      assert.deepEqual(segs(a), inA, 'nothing new in the read-only directory');
      assert.ok(segs(c).length > 1, 'new segments in the new directory');
    } finally {
      await again.shutdown();
    }
  } finally {
    cleanup();
  }
});
