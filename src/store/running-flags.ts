/**
 * The store's state bits (upstream `RunningFlags`). Only the ones this store sets are listed:
 * DISK_FULL is raised by the clean service while the disk is over diskSpaceWarningLevelRatio,
 * and any bit here makes the store refuse writes.
 */
export const RunningFlagBit = {
  NOT_WRITEABLE: 1 << 1,
  DISK_FULL: 1 << 4,
} as const;

export class RunningFlags {
  private bits = 0;

  /** The raw bits, as upstream's `getFlagBits` (logged when a put is refused). */
  get flagBits(): number {
    return this.bits;
  }

  isWriteable(): boolean {
    return (this.bits & (RunningFlagBit.NOT_WRITEABLE | RunningFlagBit.DISK_FULL)) === 0;
  }

  isDiskFull(): boolean {
    return (this.bits & RunningFlagBit.DISK_FULL) !== 0;
  }

  /** Marks the disk full; true when it was not full before (upstream `getAndMakeDiskFull`). */
  getAndMakeDiskFull(): boolean {
    const wasOk = !this.isDiskFull();
    this.bits |= RunningFlagBit.DISK_FULL;
    return wasOk;
  }

  /** Marks the disk OK; true when it was OK before (upstream `getAndMakeDiskOK`). */
  getAndMakeDiskOK(): boolean {
    const wasOk = !this.isDiskFull();
    this.bits &= ~RunningFlagBit.DISK_FULL;
    return wasOk;
  }
}
