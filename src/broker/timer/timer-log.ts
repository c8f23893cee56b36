import { BLANK_MAGIC_CODE } from '../../common/message-record.js';
import { readLong, writeLong } from '../../common/bytes.js';
import { MappedFileQueue } from '../../store/mapped-file-queue.js';
import type { MappedFile } from '../../store/mapped-file.js';
import { TIMER_LOG_UNIT_SIZE, TimerMagic } from './timer-const.js';

/** One unit of the TimerLog. */
export interface TimerUnit {
  /** Position of the previous unit of the same slot, -1 for the first. */
  prevPos: number;
  magic: number;
  writeTimeMs: number;
  /** Slot time = writeTimeMs + delayMs. */
  delayMs: number;
  commitLogOffset: number;
  size: number;
  realTopicHash: number;
  reserved: number;
}

/** Field offsets inside a unit. */
export const UnitPos = {
  SIZE: 0,
  PREV_POS: 4,
  MAGIC: 12,
  WRITE_TIME: 16,
  DELAY: 24,
  PHY_OFFSET: 28,
  PHY_SIZE: 36,
  TOPIC_HASH: 40,
  RESERVED: 44,
} as const;

/** A file's unused tail: `int left, long 0, int BLANK_MAGIC` (the magic sits where a unit's magic would be). */
const BLANK_SIZE = 16;
/** Units are written in chunks of this many bytes. */
const CHUNK_UNITS = 1260;
/** Reads of units (chain walks, recovery scans) fetch this much at a time. */
const READ_BLOCK = 64 * 1024;

/** Whether a magic value is one a unit can carry (upstream `isMagicOK`). */
export function isUnitMagic(magic: number): boolean {
  return magic !== 0 && (magic | 0xf) === 0xf;
}

export function encodeUnit(buf: Buffer, at: number, u: TimerUnit): void {
  buf.writeInt32BE(TIMER_LOG_UNIT_SIZE, at);
  writeLong(buf, u.prevPos, at + UnitPos.PREV_POS);
  buf.writeInt32BE(u.magic, at + UnitPos.MAGIC);
  writeLong(buf, u.writeTimeMs, at + UnitPos.WRITE_TIME);
  buf.writeInt32BE(u.delayMs, at + UnitPos.DELAY);
  writeLong(buf, u.commitLogOffset, at + UnitPos.PHY_OFFSET);
  buf.writeInt32BE(u.size, at + UnitPos.PHY_SIZE);
  buf.writeInt32BE(u.realTopicHash, at + UnitPos.TOPIC_HASH);
  writeLong(buf, u.reserved, at + UnitPos.RESERVED);
}

interface Staged {
  file: MappedFile;
  filePos: number;
  buf: Buffer;
  used: number;
}

/**
 * The TimerLog (upstream `TimerLog`): append-only segments of 52-byte units under `timerlog/`,
 * named by their start offset like CommitLog segments. Units of one wheel slot are chained
 * backwards through `prevPos`. Appends are staged in memory during a round and written with
 * positional writes by `flushWrites()`; reads are positional, a block at a time.
 */
export class TimerLog {
  readonly files: MappedFileQueue;
  /** Global offset of the next unit. */
  private endPos = 0;
  private staged: Staged[] = [];
  private cur?: Staged;
  private cache?: { file: MappedFile; start: number; buf: Buffer };
  private readonly unsynced = new Set<MappedFile>();

  constructor(dir: string, readonly fileSize: number) {
    if (fileSize < TIMER_LOG_UNIT_SIZE + BLANK_SIZE) throw new Error(`timer log segment size ${fileSize} is too small`);
    this.files = new MappedFileQueue(dir, fileSize);
  }

  /** Loads the segments; the end is the last whole unit of the last segment. */
  load(): void {
    this.files.load();
    const last = this.files.lastFile;
    if (last) {
      const whole = last.wrotePosition - (last.wrotePosition % TIMER_LOG_UNIT_SIZE);
      this.endPos = last.fileFromOffset + whole;
    }
  }

  get maxOffset(): number {
    return this.endPos;
  }

  get minOffset(): number {
    return this.files.minOffset;
  }

  /** Appends a unit (staged until flushWrites) and returns its position. */
  append(u: TimerUnit): number {
    let inFile = this.endPos % this.fileSize;
    if (inFile + TIMER_LOG_UNIT_SIZE > this.fileSize) {
      // The unit does not fit: mark the tail blank and start the next segment.
      const left = this.fileSize - inFile;
      if (left >= BLANK_SIZE) {
        const b = this.stage(this.endPos, BLANK_SIZE);
        b.buf.writeInt32BE(left, b.used);
        writeLong(b.buf, 0, b.used + 4);
        b.buf.writeInt32BE(BLANK_MAGIC_CODE, b.used + 12);
        b.used += BLANK_SIZE;
      }
      this.endPos += left;
      inFile = 0;
    }
    const pos = this.endPos;
    const s = this.stage(pos, TIMER_LOG_UNIT_SIZE);
    encodeUnit(s.buf, s.used, u);
    s.used += TIMER_LOG_UNIT_SIZE;
    this.endPos += TIMER_LOG_UNIT_SIZE;
    return pos;
  }

  /** The staging chunk that continues at global offset `pos` with room for `len` bytes. */
  private stage(pos: number, len: number): Staged {
    const c = this.cur;
    if (c && c.file.fileFromOffset + c.filePos + c.used === pos && c.used + len <= c.buf.length) return c;
    if (c) this.staged.push(c);
    const fileFrom = pos - (pos % this.fileSize);
    let file = this.files.lastFile;
    if (!file || file.fileFromOffset !== fileFrom) {
      // Finished segments are extended to their full size, as the queue expects on load.
      if (file && file.fileFromOffset < fileFrom) file.setLength(this.fileSize);
      file = this.files.createFile(fileFrom);
    }
    const n: Staged = { file, filePos: pos - fileFrom, buf: Buffer.allocUnsafe(CHUNK_UNITS * TIMER_LOG_UNIT_SIZE + BLANK_SIZE), used: 0 };
    this.cur = n;
    return n;
  }

  /** Writes every staged unit to its segment. */
  async flushWrites(): Promise<void> {
    if (this.cur && this.cur.used > 0) this.staged.push(this.cur);
    this.cur = undefined;
    const list = this.staged;
    this.staged = [];
    if (list.length === 0) return;
    this.cache = undefined;
    for (const s of list) {
      await new Promise<void>((resolve, reject) => s.file.writeAt([s.buf.subarray(0, s.used)], s.filePos, (err) => (err ? reject(err) : resolve())));
      s.file.wrotePosition = Math.max(s.file.wrotePosition, s.filePos + s.used);
      this.unsynced.add(s.file);
    }
  }

  get hasStaged(): boolean {
    return this.staged.length > 0 || (this.cur !== undefined && this.cur.used > 0);
  }

  /** fdatasyncs the segments written since the last call. */
  async datasync(): Promise<void> {
    const fs = [...this.unsynced];
    this.unsynced.clear();
    for (const f of fs) {
      if (!f.destroyed) await new Promise<void>((resolve, reject) => f.datasync((err) => (err ? reject(err) : resolve())));
    }
  }

  /**
   * The 52 bytes of the unit at `pos` (a view into a cached block), or undefined when there is
   * none. `backward` reads the block that ends at the unit, for walking a chain.
   */
  unitAt(pos: number, backward = true): Buffer | undefined {
    if (pos < 0 || pos + TIMER_LOG_UNIT_SIZE > this.endPos) return undefined;
    const c = this.cache;
    if (c && pos >= c.file.fileFromOffset + c.start && pos + TIMER_LOG_UNIT_SIZE <= c.file.fileFromOffset + c.start + c.buf.length) {
      const at = pos - c.file.fileFromOffset - c.start;
      return c.buf.subarray(at, at + TIMER_LOG_UNIT_SIZE);
    }
    const file = this.files.findFileByOffset(pos);
    if (!file) return undefined;
    const inFile = pos - file.fileFromOffset;
    const start = backward ? Math.max(0, inFile + TIMER_LOG_UNIT_SIZE - READ_BLOCK) : inFile;
    const buf = file.readSync(start, Math.min(READ_BLOCK, this.fileSize - start));
    this.cache = { file, start, buf };
    const at = inFile - start;
    return at + TIMER_LOG_UNIT_SIZE <= buf.length ? buf.subarray(at, at + TIMER_LOG_UNIT_SIZE) : undefined;
  }

  /**
   * Walks the valid units from `from` to the end, crossing blank tails; returns the offset just
   * past the last valid unit (recovery). `visit` gets each unit's bytes and position.
   */
  scan(from: number, visit: (unit: Buffer, pos: number) => void): number {
    const files = this.files.files;
    if (files.length === 0) return 0;
    let fi = files.findIndex((f) => from < f.fileFromOffset + this.fileSize);
    if (fi < 0) return this.endPos;
    let inFile = Math.max(0, from - files[fi]!.fileFromOffset);
    inFile -= inFile % TIMER_LOG_UNIT_SIZE;
    for (;;) {
      const file = files[fi]!;
      const limit = Math.min(file.wrotePosition, this.fileSize);
      let blank = false;
      while (!blank && inFile + TIMER_LOG_UNIT_SIZE <= limit) {
        let want = Math.min(1024 * 1024, limit - inFile);
        want -= want % TIMER_LOG_UNIT_SIZE;
        const chunk = file.readSync(inFile, want);
        let p = 0;
        for (; p + TIMER_LOG_UNIT_SIZE <= chunk.length; p += TIMER_LOG_UNIT_SIZE) {
          const magic = chunk.readInt32BE(p + UnitPos.MAGIC);
          if (magic === BLANK_MAGIC_CODE) { blank = true; break; }
          if (chunk.readInt32BE(p) !== TIMER_LOG_UNIT_SIZE || !isUnitMagic(magic)) return file.fileFromOffset + inFile + p;
          visit(chunk.subarray(p, p + TIMER_LOG_UNIT_SIZE), file.fileFromOffset + inFile + p);
        }
        if (!blank && p < want) return file.fileFromOffset + inFile + p; // short read
        inFile += p;
      }
      if (!blank && inFile + BLANK_SIZE <= limit && inFile + TIMER_LOG_UNIT_SIZE > this.fileSize) {
        blank = file.readSync(inFile, BLANK_SIZE).readInt32BE(UnitPos.MAGIC) === BLANK_MAGIC_CODE;
      }
      // The segment ends here unless its tail is blank (or too short for a unit): then the next one follows.
      const full = blank || inFile + TIMER_LOG_UNIT_SIZE > this.fileSize;
      if (!full) return file.fileFromOffset + inFile;
      const next = files[fi + 1];
      if (!next || next.fileFromOffset !== file.fileFromOffset + this.fileSize) return file.fileFromOffset + this.fileSize;
      fi++;
      inFile = 0;
    }
  }

  /** Cuts the log at `offset` (recovery: nothing valid lies beyond it). */
  truncate(offset: number): void {
    this.cache = undefined;
    this.files.truncateDirtyFiles(offset);
    this.endPos = offset;
  }

  /** Deletes the oldest segments that end at or below `offset` (never the last). */
  deleteFilesBelow(offset: number, max = 10): number {
    this.cache = undefined;
    return this.files.deleteOldestFiles((f) => f.fileFromOffset + this.fileSize <= offset, max, 30_000).length;
  }

  close(): void {
    this.cache = undefined;
    this.files.close();
  }
}

/** Decodes a unit's fields. */
export function decodeUnit(b: Buffer): TimerUnit {
  return {
    prevPos: readLong(b, UnitPos.PREV_POS),
    magic: b.readInt32BE(UnitPos.MAGIC),
    writeTimeMs: readLong(b, UnitPos.WRITE_TIME),
    delayMs: b.readInt32BE(UnitPos.DELAY),
    commitLogOffset: readLong(b, UnitPos.PHY_OFFSET),
    size: b.readInt32BE(UnitPos.PHY_SIZE),
    realTopicHash: b.readInt32BE(UnitPos.TOPIC_HASH),
    reserved: readLong(b, UnitPos.RESERVED),
  };
}

/** Magic bits helpers. */
export const isRoll = (magic: number): boolean => (magic & TimerMagic.ROLL) !== 0;
export const isDelete = (magic: number): boolean => (magic & TimerMagic.DELETE) !== 0;
