import { existsSync, statfsSync } from 'node:fs';
import type { Logger } from '../common/logger.js';
import type { MessageStoreConfig } from '../common/config.js';
import { javaDoubleString } from '../common/java.js';
import type { RunningFlags } from './running-flags.js';

/** What the clean service needs of the store. */
export interface CleanTarget {
  /** Deletes the oldest CommitLog segments `deletable` accepts (never the last); returns how many. */
  deleteCommitLogFiles(deletable: (lastModified: number) => boolean, max: number): number;
  /** Removes ConsumeQueue and index files wholly below the CommitLog minimum. */
  cleanLogicFiles(): void;
  /** The CommitLog's first offset still held. */
  commitLogMinOffset(): number;
  /** The CommitLog's directories (upstream `storePathCommitLog`, split on `,`). */
  commitLogPaths(): string[];
  /** The ConsumeQueue root (upstream `getStorePathConsumeQueue`). */
  consumeQueuePath(): string;
  /** DISK_FULL is raised here while the disk is over its warning level: writes are refused then. */
  readonly runningFlags: RunningFlags;
  /** The CommitLog paths over diskSpaceCleanForciblyRatio: new segments avoid them (upstream `setFullStorePaths`). */
  setFullStorePaths(paths: ReadonlySet<string>): void;
}

const HOUR_MS = 3_600_000;
/** Manual requests (DELETE_EXPIRED_COMMITLOG) force this many rounds outside deleteWhen (upstream MAX_MANUAL_DELETE_FILE_TIMES). */
const MANUAL_ROUNDS = 20;

/** Disk use as upstream's getDiskSpaceWarningLevelRatio / getDiskSpaceCleanForciblyRatio bound it. */
export function diskSpaceWarningLevel(c: MessageStoreConfig): number {
  return clamp(c.diskSpaceWarningLevelRatio / 100, 0.35, 0.9);
}

export function diskSpaceCleanForciblyLevel(c: MessageStoreConfig): number {
  return clamp(c.diskSpaceCleanForciblyRatio / 100, 0.3, 0.85);
}

/**
 * Retention (upstream `CleanCommitLogService` + `CleanConsumeQueueService`): CommitLog
 * segments older than fileReservedTime hours are deleted, oldest first and never the newest,
 * at the deleteWhen hours, or at any time when the disk is over diskMaxUsedSpaceRatio; over
 * diskSpaceCleanForciblyRatio even unexpired ones go; over diskSpaceWarningLevelRatio writes are
 * refused until space is back. ConsumeQueue and index files follow the CommitLog minimum, and
 * consumers behind it are moved forward by PULL_OFFSET_MOVED.
 */
export class CleanService {
  private timer?: NodeJS.Timeout;
  private manualRounds = 0;
  /** Set by the last space check: the disk is over the forcible or warning level (upstream `cleanImmediately`). */
  private cleanImmediately = false;
  /**
   * The CommitLog minimum the logic files were last cleaned against (upstream
   * `CleanConsumeQueueService.lastPhysicalMinOffset`). 0 at start, so the first round also
   * cleans what CommitLog deletions of an earlier run (one that crashed before its queues
   * followed) left behind.
   */
  private lastPhysicalMinOffset = 0;

  constructor(
    private readonly config: MessageStoreConfig,
    private readonly target: CleanTarget,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly diskUsage: (path: string) => number = diskUsageRatio,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.run(), this.config.cleanResourceInterval);
    this.timer.unref();
  }

  shutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** DELETE_EXPIRED_COMMITLOG: the next rounds delete expired files whatever the hour. */
  executeDeleteFilesManually(): void {
    this.manualRounds = MANUAL_ROUNDS;
    this.logger.info('executeDeleteFilesManually was invoked');
  }

  /**
   * One round: CommitLog retention, then the ConsumeQueue and index files whenever the CommitLog
   * minimum moved since they were last cleaned, in this round or before (upstream runs
   * CleanConsumeQueueService after CleanCommitLogService in every round). Returns the number of
   * CommitLog files deleted.
   */
  run(): number {
    let deleted = 0;
    try {
      deleted = this.cleanRound();
    } catch (err) {
      this.logger.error({ err }, 'file cleanup round failed');
    }
    try {
      const min = this.target.commitLogMinOffset();
      if (min > this.lastPhysicalMinOffset) {
        this.target.cleanLogicFiles();
        this.lastPhysicalMinOffset = min;
      }
    } catch (err) {
      this.logger.error({ err }, 'ConsumeQueue and index cleanup failed');
    }
    return deleted;
  }

  private cleanRound(): number {
    const c = this.config;
    const timeUp = isTimeToDelete(c.deleteWhen, this.now());
    const spaceToDelete = this.isSpaceToDelete();
    const manual = this.manualRounds > 0;
    if (!timeUp && !spaceToDelete && !manual) return 0;
    if (manual) this.manualRounds--;
    const cleanAtOnce = c.cleanFileForciblyEnable && this.cleanImmediately;
    this.logger.info(`begin to delete before ${c.fileReservedTime} hours file. isTimeUp: ${timeUp} isUsageExceedsThreshold: ${spaceToDelete} ` +
      `manualDeleteFileSeveralTimes: ${this.manualRounds} cleanAtOnce: ${cleanAtOnce} deleteFileBatchMax: ${c.deleteFileBatchMax}`);
    const reservedMs = c.fileReservedTime * HOUR_MS;
    const now = this.now();
    const deleted = this.target.deleteCommitLogFiles((mtime) => cleanAtOnce || now >= mtime + reservedMs, c.deleteFileBatchMax);
    if (deleted > 0) this.logger.info(`deleted ${deleted} expired CommitLog file(s)${cleanAtOnce ? ', unexpired ones too: the disk is over diskSpaceCleanForciblyRatio' : ''}`);
    else if (spaceToDelete) this.logger.warn('disk space will be full soon, but delete file failed.');
    return deleted;
  }

  /**
   * Upstream `isSpaceToDelete`: whether the disk use asks for files to go now, and whether even
   * unexpired ones must (`cleanImmediately`, over the forcible or warning level). The CommitLog
   * counts by its least used directory, the ConsumeQueues by theirs; over the warning level on
   * either, DISK_FULL is raised and writes are refused until it drops back. A disk that cannot
   * be measured (-1) counts as one to reclaim space from, as upstream.
   */
  private isSpaceToDelete(): boolean {
    const c = this.config;
    const warning = diskSpaceWarningLevel(c);
    const forcibly = diskSpaceCleanForciblyLevel(c);
    const maxUsed = clamp(c.diskMaxUsedSpaceRatio, 10, 95) / 100;
    let physic = 100;
    let physicPath = '';
    const fullPaths = new Set<string>();
    for (const p of this.target.commitLogPaths()) {
      const r = this.diskUsage(p);
      if (r < physic) {
        physic = r;
        physicPath = p;
      }
      if (r > forcibly) fullPaths.add(p);
    }
    this.target.setFullStorePaths(fullPaths);
    const logics = this.diskUsage(this.target.consumeQueuePath());
    const flags = this.target.runningFlags;
    this.cleanImmediately = physic > forcibly || physic > warning || logics > forcibly || logics > warning;
    // Upstream's order, CommitLog disk first: over the warning level the disk is full; between
    // the forcible and the warning level the flag stays as it was (a full disk is declared OK
    // only once back at the forcible level); below it, the ConsumeQueue disk over the warning
    // level makes it full, else it is OK. The flag is logged only when it changes, not every round.
    let full: boolean | undefined;
    if (physic > warning) full = true;
    else if (physic > forcibly) full = undefined;
    else if (logics > warning) full = true;
    else full = false;
    if (full === true) {
      if (flags.getAndMakeDiskFull()) {
        if (physic > warning) this.logger.error(`physic disk maybe full soon ${javaDoubleString(physic)}, so mark disk full, storePathPhysic=${physicPath}`);
        else this.logger.error(`logics disk maybe full soon ${javaDoubleString(logics)}, so mark disk full`);
      }
    } else if (full === false && !flags.getAndMakeDiskOK()) {
      this.logger.info(`physic disk space OK ${javaDoubleString(physic)}, so mark disk ok, storePathPhysic=${physicPath}`);
    }
    if (this.cleanImmediately) return true;
    if (physic < 0 || physic > maxUsed) {
      this.logger.info(`commitLog disk maybe full soon, so reclaim space, ${javaDoubleString(physic)}`);
      return true;
    }
    if (logics < 0 || logics > maxUsed) {
      this.logger.info(`consumeQueue disk maybe full soon, so reclaim space, ${javaDoubleString(logics)}`);
      return true;
    }
    return false;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** True during any hour listed in deleteWhen (`;`-separated), as upstream's `isItTimeToDo`. */
export function isTimeToDelete(deleteWhen: string, now: number): boolean {
  const hour = new Date(now).getHours();
  return deleteWhen.split(';').some((h) => h.trim() !== '' && Number(h) === hour);
}

/**
 * Used share of the partition holding `path`, as upstream's `getDiskPartitionSpaceUsedPercent`
 * and `df` count it: used / (used + available to non-root users), rounded up to the percent,
 * so blocks reserved for root count as used. -1 when the path does not exist or cannot be measured.
 */
export function diskUsageRatio(path: string): number {
  try {
    if (!existsSync(path)) return -1;
    const s = statfsSync(path);
    if (s.blocks <= 0) return -1;
    // Block counts, not bytes: the block size cancels out and the products stay exact.
    const used = s.blocks - s.bfree;
    const entire = used + s.bavail;
    if (entire <= 0) return -1;
    // Integer division rounded up, as upstream's long arithmetic (a float quotient could round
    // 22.000…01 down to 22).
    const rem = (used * 100) % entire;
    return ((used * 100 - rem) / entire + (rem !== 0 ? 1 : 0)) / 100;
  } catch {
    return -1;
  }
}
