import { statfsSync } from 'node:fs';
import type { Logger } from '../common/logger.js';
import type { MessageStoreConfig } from '../common/config.js';

/** What the clean service needs of the store. */
export interface CleanTarget {
  /** Deletes the oldest CommitLog segments `deletable` accepts (never the last); returns how many. */
  deleteCommitLogFiles(deletable: (lastModified: number) => boolean, max: number): number;
  /** Removes ConsumeQueue and index files wholly below the CommitLog minimum. */
  cleanLogicFiles(): void;
  /** The CommitLog's first offset still held. */
  commitLogMinOffset(): number;
  /** Directories whose partitions are checked for space. */
  storePaths(): string[];
  /** Turns writes off while the disk is over its warning level. */
  setDiskFull(full: boolean): void;
}

const HOUR_MS = 3_600_000;
/** Manual requests (TRIGGER_DELETE_FILES) force this many rounds outside deleteWhen, as upstream. */
const MANUAL_ROUNDS = 20;

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

  /** TRIGGER_DELETE_FILES: the next rounds delete expired files whatever the hour. */
  executeDeleteFilesManually(): void {
    this.manualRounds = MANUAL_ROUNDS;
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
    const usage = Math.max(0, ...this.target.storePaths().map((p) => this.diskUsage(p)));
    const warning = clamp(c.diskSpaceWarningLevelRatio, 35, 90) / 100;
    const forcibly = clamp(c.diskSpaceCleanForciblyRatio, 30, 85) / 100;
    const maxUsed = clamp(c.diskMaxUsedSpaceRatio, 10, 95) / 100;
    const diskFull = usage > warning;
    this.target.setDiskFull(diskFull);
    if (diskFull) this.logger.error(`disk usage ${(usage * 100).toFixed(1)}% is over diskSpaceWarningLevelRatio ${c.diskSpaceWarningLevelRatio}%: writes are refused until cleanup frees space; add disk or lower fileReservedTime`);
    const timeUp = isTimeToDelete(c.deleteWhen, this.now());
    // As upstream's isSpaceToDelete: over the warning or the forcible level, files are cleaned
    // at once (unexpired ones too), whatever diskMaxUsedSpaceRatio says.
    const cleanImmediately = usage > warning || usage > forcibly;
    const spaceFull = cleanImmediately || usage > maxUsed;
    const manual = this.manualRounds > 0;
    if (manual) this.manualRounds--;
    if (!timeUp && !spaceFull && !manual) return 0;
    const force = c.cleanFileForciblyEnable && cleanImmediately;
    const reservedMs = c.fileReservedTime * HOUR_MS;
    const now = this.now();
    const deleted = this.target.deleteCommitLogFiles((mtime) => force || mtime + reservedMs <= now, c.deleteFileBatchMax);
    if (deleted > 0) {
      this.logger.info(`deleted ${deleted} expired CommitLog file(s) (${timeUp ? 'deleteWhen hour' : spaceFull ? `disk usage ${(usage * 100).toFixed(1)}%` : 'manual request'}${force ? ', forced' : ''})`);
    }
    return deleted;
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

/** Used fraction of the partition holding `path`. */
export function diskUsageRatio(path: string): number {
  try {
    const s = statfsSync(path);
    return s.blocks > 0 ? (s.blocks - s.bfree) / s.blocks : 0;
  } catch {
    return 0;
  }
}
