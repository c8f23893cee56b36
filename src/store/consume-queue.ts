import { join } from 'node:path';
import { put32, putLong, readLong } from '../common/bytes.js';
import { MappedFileQueue } from './mapped-file-queue.js';
import type { MappedFile } from './mapped-file.js';

/** One ConsumeQueue entry: long commitLogOffset, int size, long tagsCode. */
export const CQ_STORE_UNIT_SIZE = 20;
/** Size of a filler entry written where a queue starts past offset 0 (upstream pre-fill). */
const BLANK_SIZE = 0x7fffffff;

/** Whether the entry at `p` of `b` can be one the queue wrote: an offset and a positive size. */
function validEntry(b: Buffer, p: number): boolean {
  return readLong(b, p) >= 0 && b.readInt32BE(p + 8) > 0;
}

export interface CqEntry {
  phyOffset: number;
  size: number;
  tagsCode: number;
}

/**
 * The index of one topic queue (upstream `ConsumeQueue`): entry n sits at byte n*20 of the
 * queue's segment files. New entries are kept in memory until the periodic flush writes them,
 * so the dispatch path does no syscall; readers see both. The queue remembers where its first
 * entry that is not yet durable points in the CommitLog: the store's checkpoint is the least
 * of these over all queues.
 */
export class ConsumeQueue {
  private readonly files: MappedFileQueue;
  /** Entries not yet on disk; entry i of the buffer has logical offset tailStart + i. */
  private tail: Buffer = Buffer.allocUnsafe(CQ_STORE_UNIT_SIZE * 64);
  private tailCount = 0;
  private tailStart = 0;
  private flushing = 0;
  /** Counts destroys: a flush begun before one must neither write (that would make the files again) nor count its entries. */
  private generation = 0;
  /** Segments written since the last datasync. */
  private readonly unsynced = new Set<MappedFile>();
  /** CommitLog offset of the first entry not yet written and fdatasync'ed; -1 when every entry is. */
  private firstUnsyncedPhy = -1;
  /** Set when its topic was deleted: a record dispatched after that goes to a new queue. */
  deleted = false;
  /** The round of the store's sync cycle in which this queue is made durable (set by the store). */
  syncSlot = 0;
  private minLogicOffset = 0;
  /** CommitLog offset just past the last record this queue indexes. */
  maxPhysicOffset = 0;
  /**
   * The queue offset the next record put to this queue takes (upstream `topicQueueTable`). It
   * runs ahead of maxOffsetInQueue by the records written to the log but not yet dispatched;
   * the store sets it from maxOffsetInQueue after recovery.
   */
  putOffset = 0;

  constructor(rootDir: string, readonly topic: string, readonly queueId: number, readonly fileSize: number) {
    this.files = new MappedFileQueue(join(rootDir, topic, String(queueId)), fileSize);
  }

  /**
   * Loads segments and drops a torn or zero-filled tail (what a crash can leave). After a crash,
   * `unsyncedFrom` is the CommitLog offset from which recovery re-dispatches: entries pointing
   * there or later were not yet durable, and the queue is also cut at the first invalid one
   * among them (see cutAtHole).
   */
  load(unsyncedFrom = Number.POSITIVE_INFINITY): void {
    this.files.load();
    const last = this.files.lastFile;
    if (last) {
      let len = last.wrotePosition - (last.wrotePosition % CQ_STORE_UNIT_SIZE);
      while (len > 0) {
        const e = last.readSync(len - CQ_STORE_UNIT_SIZE, CQ_STORE_UNIT_SIZE);
        if (e.length === CQ_STORE_UNIT_SIZE && validEntry(e, 0)) break;
        len -= CQ_STORE_UNIT_SIZE;
      }
      if (len !== last.wrotePosition) {
        last.setLength(len);
        last.wrotePosition = len;
      }
      if (unsyncedFrom !== Number.POSITIVE_INFINITY) this.cutAtHole(unsyncedFrom);
      const lastEntry = this.readEntryFromFile(this.files.maxOffset / CQ_STORE_UNIT_SIZE - 1);
      if (lastEntry && lastEntry.size !== BLANK_SIZE) this.maxPhysicOffset = lastEntry.phyOffset + lastEntry.size;
    }
    this.minLogicOffset = this.files.minOffset;
    this.tailStart = this.files.maxOffset / CQ_STORE_UNIT_SIZE;
  }

  /**
   * A machine crash on a file system that does not write data before a file's new size (ext4
   * without a journal, for one) can keep a later page of a queue and lose an earlier one: zero
   * entries amid valid ones, which the tail check above cannot see. Walks back from the end over
   * the entries that were not yet durable (pointing at `unsyncedFrom` or later; blank fillers
   * included) and cuts the queue at the earliest invalid one: recovery then re-dispatches every
   * entry from there, as it does for the lost tail. Reads 64 KiB at a time, so the cost follows
   * the entries written since the queue's last sync.
   */
  private cutAtHole(unsyncedFrom: number): void {
    const chunk = 3276 * CQ_STORE_UNIT_SIZE;
    let hole = -1;
    let end = this.files.maxOffset;
    const min = this.files.minOffset;
    scan: while (end > min) {
      const f = this.files.findFileByOffset(end - 1);
      if (!f) break;
      const start = Math.max(f.fileFromOffset, end - chunk);
      const b = f.readSync(start - f.fileFromOffset, end - start);
      for (let p = b.length - CQ_STORE_UNIT_SIZE; p >= 0; p -= CQ_STORE_UNIT_SIZE) {
        if (!validEntry(b, p)) hole = start + p;
        else if (b.readInt32BE(p + 8) !== BLANK_SIZE && readLong(b, p) < unsyncedFrom) break scan;
      }
      if (b.length < end - start) break;
      end = start;
    }
    if (hole >= 0) this.files.truncateDirtyFiles(hole);
  }

  /**
   * Creates the first, empty segment of a queue that has nothing yet: a new topic's files are
   * made when it is created instead of in the first flush under load.
   */
  createFirstSegment(): void {
    if (this.files.files.length === 0 && this.maxOffsetInQueue === 0) this.files.createFile(0);
  }

  /** Next logical offset to be written (upstream `getMaxOffsetInQueue`). */
  get maxOffsetInQueue(): number {
    return this.tailStart + this.tailCount;
  }

  get minOffsetInQueue(): number {
    return Math.floor(this.minLogicOffset / CQ_STORE_UNIT_SIZE);
  }

  /** Bytes of entries in memory that no write has taken yet. */
  get unwrittenBytes(): number {
    return (this.tailCount - this.flushing) * CQ_STORE_UNIT_SIZE;
  }

  /** CommitLog offset of the first entry that a crash could lose, or -1 when all are durable. */
  get unsyncedPhyOffset(): number {
    return this.firstUnsyncedPhy;
  }

  /**
   * Appends the entry for `queueOffset`. Idempotent, so recovery can re-dispatch records the
   * queue already has. A queue that starts past its current end is filled with blank entries.
   * Returns true when the queue had every entry durable before this one.
   */
  putEntry(queueOffset: number, phyOffset: number, size: number, tagsCode: number): boolean {
    const max = this.maxOffsetInQueue;
    if (queueOffset < max) return false;
    if (max === 0 && queueOffset > 0 && this.files.maxOffset === 0) {
      // A queue created at a non-zero offset (its older files were removed): start there. An
      // empty segment made ahead of time at offset 0 does not fit, so it goes.
      if (this.files.files.length > 0) this.files.destroy();
      this.tailStart = queueOffset;
      this.minLogicOffset = queueOffset * CQ_STORE_UNIT_SIZE;
    } else {
      for (let o = max; o < queueOffset; o++) this.append(0, BLANK_SIZE, 0);
    }
    this.append(phyOffset, size, tagsCode);
    this.maxPhysicOffset = phyOffset + size;
    if (this.firstUnsyncedPhy >= 0) return false;
    this.firstUnsyncedPhy = phyOffset;
    return true;
  }

  private append(phyOffset: number, size: number, tagsCode: number): void {
    const need = (this.tailCount + 1) * CQ_STORE_UNIT_SIZE;
    if (need > this.tail.length) {
      const bigger = Buffer.allocUnsafe(this.tail.length * 2);
      this.tail.copy(bigger, 0, 0, this.tailCount * CQ_STORE_UNIT_SIZE);
      this.tail = bigger;
    }
    // The tail has room (grown above): direct stores, no per-call checks.
    const p = this.tailCount * CQ_STORE_UNIT_SIZE;
    putLong(this.tail, p, phyOffset);
    put32(this.tail, p + 8, size);
    putLong(this.tail, p + 12, tagsCode);
    this.tailCount++;
  }

  /**
   * Reads up to `max` entries from logical offset `start` (clamped to what exists). Entries on
   * disk are read with one positional read per segment; the in-memory tail is copied.
   */
  getEntries(start: number, max: number): Buffer {
    const end = Math.min(this.maxOffsetInQueue, start + max);
    if (start >= end || start < this.minOffsetInQueue) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe((end - start) * CQ_STORE_UNIT_SIZE);
    let o = start;
    let w = 0;
    while (o < end && o < this.tailStart) {
      const byteOff = o * CQ_STORE_UNIT_SIZE;
      const f = this.files.findFileByOffset(byteOff);
      if (!f) break;
      const upto = Math.min(end, this.tailStart, (f.fileFromOffset + f.wrotePosition) / CQ_STORE_UNIT_SIZE);
      if (upto <= o) break;
      const want = (upto - o) * CQ_STORE_UNIT_SIZE;
      const chunk = f.readSync(byteOff - f.fileFromOffset, want);
      const whole = chunk.length - (chunk.length % CQ_STORE_UNIT_SIZE);
      chunk.copy(out, w, 0, whole);
      w += whole;
      o += whole / CQ_STORE_UNIT_SIZE;
      if (whole < want) break;
    }
    if (o >= this.tailStart && o < end) {
      const from = (o - this.tailStart) * CQ_STORE_UNIT_SIZE;
      const to = (end - this.tailStart) * CQ_STORE_UNIT_SIZE;
      this.tail.copy(out, w, from, to);
      w += to - from;
    }
    return w === out.length ? out : out.subarray(0, w);
  }

  getEntry(offset: number): CqEntry | undefined {
    const b = this.getEntries(offset, 1);
    if (b.length < CQ_STORE_UNIT_SIZE) return undefined;
    return { phyOffset: readLong(b, 0), size: b.readInt32BE(8), tagsCode: readLong(b, 12) };
  }

  private readEntryFromFile(offset: number): CqEntry | undefined {
    if (offset < 0) return undefined;
    const byteOff = offset * CQ_STORE_UNIT_SIZE;
    const f = this.files.findFileByOffset(byteOff);
    if (!f) return undefined;
    const b = f.readSync(byteOff - f.fileFromOffset, CQ_STORE_UNIT_SIZE);
    if (b.length < CQ_STORE_UNIT_SIZE) return undefined;
    return { phyOffset: readLong(b, 0), size: b.readInt32BE(8), tagsCode: readLong(b, 12) };
  }

  /**
   * Writes the in-memory tail to the segment files (creating segments as needed). One flush at
   * a time per queue; entries appended meanwhile wait for the next one.
   */
  flush(cb: (err: Error | null) => void): void {
    if (this.flushing > 0 || this.tailCount === 0) return cb(null);
    const n = this.tailCount;
    const generation = this.generation;
    this.flushing = n;
    const writes: Array<() => Promise<void>> = [];
    let o = this.tailStart;
    const end = this.tailStart + n;
    while (o < end) {
      const byteOff = o * CQ_STORE_UNIT_SIZE;
      const fileEnd = (byteOff - (byteOff % this.fileSize) + this.fileSize) / CQ_STORE_UNIT_SIZE;
      const upto = Math.min(end, fileEnd);
      const slice = this.tail.subarray((o - this.tailStart) * CQ_STORE_UNIT_SIZE, (upto - this.tailStart) * CQ_STORE_UNIT_SIZE);
      writes.push(() => {
        if (this.generation !== generation) return Promise.resolve();
        // The next segment is created only once the previous one is written to its end: a crash
        // must not leave a short segment ahead of another (load refuses that as a size mismatch,
        // and zero-filling it would put blank entries in the middle of the queue).
        let f = this.files.lastFile;
        if (!f || byteOff >= f.fileFromOffset + this.fileSize) f = this.files.createFile(byteOff);
        const file = f;
        const pos = byteOff - file.fileFromOffset;
        file.wrotePosition = pos + slice.length;
        // Listed for datasync once written: a sync that starts meanwhile must not drop it unsynced.
        return new Promise((resolve, reject) => file.writeAt([slice], pos, (err) => {
          if (err) return reject(err);
          if (this.generation === generation) this.unsynced.add(file);
          resolve();
        }));
      });
      o = upto;
    }
    // Segments are written in order, each created when the one before it is full.
    let chain = Promise.resolve();
    for (const w of writes) chain = chain.then(w);
    chain.then(
      () => {
        if (this.generation !== generation) return cb(null);
        this.tail.copy(this.tail, 0, n * CQ_STORE_UNIT_SIZE, this.tailCount * CQ_STORE_UNIT_SIZE);
        this.tailCount -= n;
        this.tailStart += n;
        this.flushing = 0;
        cb(null);
      },
      (err: Error) => {
        if (this.generation !== generation) return cb(null);
        this.flushing = 0;
        cb(err);
      },
    );
  }

  /** Makes every segment written since the last call durable (in the thread pool, not on the event loop). */
  datasync(): Promise<void> {
    const files = [...this.unsynced];
    this.unsynced.clear();
    return Promise.all(files.map((f) => new Promise<void>((resolve, reject) => {
      if (f.destroyed) return resolve();
      f.datasync((err) => {
        if (!err) return resolve();
        this.unsynced.add(f);
        reject(err);
      });
    }))).then(() => undefined);
  }

  /**
   * Writes the whole tail and fdatasyncs the segments: every entry appended before the call is
   * durable once it resolves. Entries appended meanwhile stay counted as not durable.
   */
  async makeDurable(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.flush((err) => (err ? reject(err) : resolve())));
    await this.datasync();
    this.firstUnsyncedPhy = this.tailCount > 0 ? this.firstTailPhy() : -1;
  }

  /** CommitLog offset of the first real (not blank) entry of the in-memory tail. */
  private firstTailPhy(): number {
    for (let i = 0; i < this.tailCount; i++) {
      const p = i * CQ_STORE_UNIT_SIZE;
      if (this.tail.readInt32BE(p + 8) !== BLANK_SIZE) return readLong(this.tail, p);
    }
    // Only blank fillers left (their entry was cut): nothing below maxPhysicOffset is at risk.
    return this.maxPhysicOffset;
  }

  /** Removes entries that point at or past `phyOffset` (the CommitLog was cut there). */
  truncateDirty(phyOffset: number): void {
    while (this.maxOffsetInQueue > this.minOffsetInQueue) {
      const last = this.getEntry(this.maxOffsetInQueue - 1);
      if (!last || last.size === BLANK_SIZE || last.phyOffset + last.size <= phyOffset) break;
      if (this.tailCount > 0) {
        this.tailCount--;
      } else {
        const byteEnd = (this.maxOffsetInQueue - 1) * CQ_STORE_UNIT_SIZE;
        this.files.truncateDirtyFiles(byteEnd);
        this.tailStart--;
      }
    }
    const last = this.getEntry(this.maxOffsetInQueue - 1);
    this.maxPhysicOffset = last && last.size !== BLANK_SIZE ? last.phyOffset + last.size : 0;
  }

  /** Moves the minimum offset to the first entry still inside the CommitLog. */
  correctMinOffset(commitLogMinOffset: number): void {
    let lo = this.minOffsetInQueue;
    const hi = this.maxOffsetInQueue;
    // Binary search: entries are ordered by physical offset.
    let h = hi;
    while (lo < h) {
      const mid = Math.floor((lo + h) / 2);
      const e = this.getEntry(mid);
      if (e && e.size !== BLANK_SIZE && e.phyOffset >= commitLogMinOffset) h = mid;
      else lo = mid + 1;
    }
    this.minLogicOffset = lo * CQ_STORE_UNIT_SIZE;
  }

  /** Retention: deletes segment files whose every entry points below the CommitLog minimum. */
  deleteExpiredFiles(commitLogMinOffset: number): number {
    const deleted = this.files.deleteOldestFiles((f) => {
      if (f.wrotePosition < this.fileSize) return false;
      const last = this.readEntryFromFile((f.fileFromOffset + this.fileSize) / CQ_STORE_UNIT_SIZE - 1);
      return last !== undefined && last.size !== BLANK_SIZE && last.phyOffset + last.size <= commitLogMinOffset;
    }, Number.MAX_SAFE_INTEGER, 30_000).length;
    this.correctMinOffset(commitLogMinOffset);
    return deleted;
  }

  destroy(): void {
    this.generation++;
    this.flushing = 0;
    this.files.destroy();
    this.unsynced.clear();
    this.firstUnsyncedPhy = -1;
    this.tailCount = 0;
    this.tailStart = 0;
    this.minLogicOffset = 0;
    this.putOffset = 0;
    this.maxPhysicOffset = 0;
  }

  close(): void {
    this.files.close();
  }
}
