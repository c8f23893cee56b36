import { closeSync, fdatasync, ftruncateSync, openSync, read, readSync, unlinkSync, write, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { readLong, writeLong } from '../common/bytes.js';
import { javaStringHashCode } from '../common/java.js';

/** IndexHeader: beginTs@0, endTs@8, beginPhyOffset@16, endPhyOffset@24, hashSlotCount@32, indexCount@36. */
export const INDEX_HEADER_SIZE = 40;
export const HASH_SLOT_SIZE = 4;
/** One entry: int keyHash, long phyOffset, int timeDiff (seconds from beginTs), int prevIndex. */
export const INDEX_ENTRY_SIZE = 20;
/** Entry number 0 is never used, so 0 ends a chain and marks an empty slot (upstream `invalidIndex`). */
const INVALID_INDEX = 0;
/**
 * `prev` of a new entry whose slot had no newer entry in memory: the slot's on-disk value is
 * read once, when the flush writes the slot, instead of with a read syscall on every put.
 */
const UNRESOLVED = -1;
const INT_MAX = 0x7fffffff;
/** Two dirty slots this close (in slots) are rewritten with one read-modify-write of the span between them. */
const SLOT_SPAN_GAP = 1024;
/** Longest span rewritten in one operation (256 KiB of slots). */
const SLOT_SPAN_MAX = 64 * 1024;
/** A query walking a very long chain lets other work run every this many entries. */
const YIELD_EVERY = 2048;

export function indexFileSize(hashSlotNum: number, indexNum: number): number {
  return INDEX_HEADER_SIZE + hashSlotNum * HASH_SLOT_SIZE + indexNum * INDEX_ENTRY_SIZE;
}

/** `abs(key.hashCode())`, 0 where Java's abs overflows (upstream `indexKeyHashMethod`). */
export function indexKeyHash(key: string): number {
  return hashToIndexHash(javaStringHashCode(key));
}

export function hashToIndexHash(h: number): number {
  return h === -0x80000000 ? 0 : Math.abs(h);
}

/** Entries appended since the last flush began, plus the newest entry of every slot they touched. */
class Overlay {
  count = 0;
  readonly slots = new Map<number, number>();
  constructor(readonly start: number, public buf: Buffer) {}

  has(n: number): boolean {
    return n >= this.start && n < this.start + this.count;
  }

  pos(n: number): number {
    return (n - this.start) * INDEX_ENTRY_SIZE;
  }
}

interface Entry {
  keyHash: number;
  phyOffset: number;
  timeDiff: number;
  prev: number;
}

function readAt(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      read(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        // Past the end of a sparse file reads as zeros would: nothing there yet.
        if (n === 0) { buf.fill(0, done); return resolve(); }
        if (done + n < buf.length) return step(done + n);
        resolve();
      });
    };
    step(0);
  });
}

function writeAt(fd: number, buf: Buffer, position: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error(`short write to ${path}: is the disk full?`));
        if (done + n < buf.length) return step(done + n);
        resolve();
      });
    };
    step(0);
  });
}

/**
 * One index file (upstream `IndexFile`, same bytes on disk): a 40-byte header, `hashSlotNum`
 * slots each holding the newest entry number of its keys, and `indexNum` 20-byte entries each
 * linking to the previous entry of its slot. A key is found by walking its slot's chain.
 *
 * The file is created sparse at its full size and never mapped: puts go to an in-memory overlay
 * (the new entries and the slots they changed), and a flush writes the entries with one positional
 * write, the dirty slots as a few read-modify-write spans, then the header. Queries read the
 * overlay first and the file for the rest, so memory stays at the overlay whatever the file size.
 */
export class IndexFile {
  readonly name: string;
  readonly fileSize: number;
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  /** Next entry number; entry 0 is unused, so an empty file has 1. */
  indexCount = 1;
  private cur: Overlay;
  /** The overlay being written by a flush; read by queries until it is on disk. */
  private flushingGen?: Overlay;
  private flushing?: Promise<void>;
  private spare?: Buffer;
  private headerDirty = false;
  private closed = false;
  private readonly entriesPos: number;
  private readonly scratch = Buffer.alloc(INDEX_ENTRY_SIZE);

  private constructor(readonly path: string, readonly hashSlotNum: number, readonly indexNum: number, private readonly fd: number) {
    this.name = basename(path);
    this.fileSize = indexFileSize(hashSlotNum, indexNum);
    this.entriesPos = INDEX_HEADER_SIZE + hashSlotNum * HASH_SLOT_SIZE;
    this.cur = new Overlay(1, Buffer.allocUnsafe(64 * INDEX_ENTRY_SIZE));
  }

  /**
   * Creates the file, sparse at its full size. A file following a full one starts its time and
   * offset range where that one ended (upstream), and its header says so at once: a crash before
   * its first flush then leaves a file that tells recovery where indexing stopped.
   */
  static create(path: string, hashSlotNum: number, indexNum: number, endPhyOffset = 0, endTimestamp = 0): IndexFile {
    const fd = openSync(path, 'wx+');
    const f = new IndexFile(path, hashSlotNum, indexNum, fd);
    try {
      ftruncateSync(fd, f.fileSize);
      if (endPhyOffset > 0) f.beginPhyOffset = f.endPhyOffset = endPhyOffset;
      if (endTimestamp > 0) f.beginTimestamp = f.endTimestamp = endTimestamp;
      writeSync(fd, f.headerBytes(f.snapshotHeader()), 0, INDEX_HEADER_SIZE, 0);
    } catch (err) {
      closeSync(fd);
      try { unlinkSync(path); } catch { /* already gone */ }
      throw err;
    }
    return f;
  }

  /** Opens an existing file and reads its header (upstream `IndexFile.load`). */
  static open(path: string, hashSlotNum: number, indexNum: number): IndexFile {
    const fd = openSync(path, 'r+');
    const f = new IndexFile(path, hashSlotNum, indexNum, fd);
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    readSync(fd, h, 0, INDEX_HEADER_SIZE, 0);
    f.beginTimestamp = readLong(h, 0);
    f.endTimestamp = readLong(h, 8);
    f.beginPhyOffset = readLong(h, 16);
    f.endPhyOffset = readLong(h, 24);
    f.hashSlotCount = h.readInt32BE(32);
    f.indexCount = Math.min(Math.max(h.readInt32BE(36), 1), indexNum);
    f.cur = new Overlay(f.indexCount, f.cur.buf);
    return f;
  }

  isWriteFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  /** Entries held in memory, not yet handed to a flush. */
  get pendingEntries(): number {
    return this.cur.count;
  }

  /** Whether anything (entries or header) waits for a flush, or a flush is running. */
  get hasUnflushed(): boolean {
    return this.cur.count > 0 || this.headerDirty || this.flushing !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  putKey(key: string, phyOffset: number, storeTimestamp: number): boolean {
    return this.putKeyHash(indexKeyHash(key), phyOffset, storeTimestamp);
  }

  /**
   * Adds an entry for a key whose index hash is `keyHash`; false when the file is full
   * (upstream `putKey`). Touches memory only.
   */
  putKeyHash(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    if (this.closed || this.indexCount >= this.indexNum) return false;
    const slot = keyHash % this.hashSlotNum;
    const g = this.cur;
    const prev = g.slots.get(slot) ?? this.flushingGen?.slots.get(slot) ?? UNRESOLVED;
    if (this.indexCount <= 1) {
      // Set before the time difference is taken, so the first entry's time is exact. (Upstream
      // measures it from the range inherited from the previous file, then moves the start.)
      this.beginPhyOffset = phyOffset;
      this.beginTimestamp = storeTimestamp;
    }
    let timeDiff = 0;
    if (this.beginTimestamp > 0) {
      timeDiff = Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
      if (timeDiff > INT_MAX) timeDiff = INT_MAX;
      else if (timeDiff < 0) timeDiff = 0;
    }
    const n = this.indexCount;
    let p = g.count * INDEX_ENTRY_SIZE;
    if (p + INDEX_ENTRY_SIZE > g.buf.length) {
      const bigger = Buffer.allocUnsafe(g.buf.length * 2);
      g.buf.copy(bigger, 0, 0, p);
      g.buf = bigger;
    }
    const b = g.buf;
    b.writeInt32BE(keyHash, p);
    writeLong(b, phyOffset, p + 4);
    b.writeInt32BE(timeDiff, p + 12);
    b.writeInt32BE(prev, p + 16);
    p += INDEX_ENTRY_SIZE;
    g.count++;
    g.slots.set(slot, n);
    this.indexCount = n + 1;
    this.endPhyOffset = phyOffset;
    this.endTimestamp = storeTimestamp;
    return true;
  }

  /** Upstream `isTimeMatched`: the file's time range overlaps [begin, end]. */
  isTimeMatched(begin: number, end: number): boolean {
    return (begin < this.beginTimestamp && end > this.endTimestamp)
      || (begin >= this.beginTimestamp && begin <= this.endTimestamp)
      || (end >= this.beginTimestamp && end <= this.endTimestamp);
  }

  /**
   * Appends to `out` the CommitLog offsets of entries with the key's hash stored within
   * [begin, end], newest first, until `out` holds `maxNum` (upstream `selectPhyOffset`).
   * Different keys can share a hash: callers check the records' keys.
   */
  async selectPhyOffset(out: number[], key: string, maxNum: number, begin: number, end: number): Promise<void> {
    if (this.closed) return;
    const keyHash = indexKeyHash(key);
    const slot = keyHash % this.hashSlotNum;
    let n = this.slotValue(slot);
    if (n <= INVALID_INDEX || n >= this.indexCount || this.indexCount <= 1) return;
    const e: Entry = { keyHash: 0, phyOffset: 0, timeDiff: 0, prev: 0 };
    for (let steps = 1; ; steps++) {
      if (out.length >= maxNum) break;
      if (!this.readEntry(n, e)) break;
      // An entry whose slot had no newer entry in memory links to the slot's value on disk.
      const prev = e.prev === UNRESOLVED ? this.diskSlot(slot) : e.prev;
      if (e.timeDiff < 0) break;
      const timeRead = this.beginTimestamp + e.timeDiff * 1000;
      if (keyHash === e.keyHash && timeRead >= begin && timeRead <= end) out.push(e.phyOffset);
      // Chains only point backwards; anything else is damage, and the walk stops there.
      if (prev <= INVALID_INDEX || prev >= n || timeRead < begin) break;
      n = prev;
      if (steps % YIELD_EVERY === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
    }
  }

  private slotValue(slot: number): number {
    return this.cur.slots.get(slot) ?? this.flushingGen?.slots.get(slot) ?? this.diskSlot(slot);
  }

  private diskSlot(slot: number): number {
    const b = this.scratch;
    const n = readSync(this.fd, b, 0, HASH_SLOT_SIZE, INDEX_HEADER_SIZE + slot * HASH_SLOT_SIZE);
    return n === HASH_SLOT_SIZE ? b.readInt32BE(0) : INVALID_INDEX;
  }

  private readEntry(n: number, e: Entry): boolean {
    let b: Buffer;
    let p: number;
    const g = this.cur.has(n) ? this.cur : this.flushingGen?.has(n) ? this.flushingGen : undefined;
    if (g) {
      b = g.buf;
      p = g.pos(n);
    } else {
      b = this.scratch;
      p = 0;
      if (readSync(this.fd, b, 0, INDEX_ENTRY_SIZE, this.entriesPos + n * INDEX_ENTRY_SIZE) !== INDEX_ENTRY_SIZE) return false;
    }
    e.keyHash = b.readInt32BE(p);
    e.phyOffset = readLong(b, p + 4);
    e.timeDiff = b.readInt32BE(p + 12);
    e.prev = b.readInt32BE(p + 16);
    return true;
  }

  /**
   * Writes what the overlay holds: entries, then slots, then the header. One flush at a time;
   * puts made meanwhile wait for the next. Resolves when the bytes are handed to the kernel.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.closed || (this.cur.count === 0 && !this.headerDirty)) return Promise.resolve();
    const g = this.cur;
    this.flushingGen = g;
    this.cur = new Overlay(g.start + g.count, this.spare ?? Buffer.allocUnsafe(64 * INDEX_ENTRY_SIZE));
    this.spare = undefined;
    this.headerDirty = false;
    const header = this.snapshotHeader();
    this.flushing = this.writeGen(g, header).finally(() => {
      this.flushingGen = undefined;
      this.flushing = undefined;
      // Keep a grown buffer for the next round, unless it grew unusually large.
      if (g.buf.length <= 4 * 1024 * 1024) this.spare = g.buf;
    });
    return this.flushing;
  }

  /** Flushes until nothing is left in memory. */
  async flushAll(): Promise<void> {
    while (!this.closed && (this.flushing || this.cur.count > 0 || this.headerDirty)) await this.flush();
  }

  private snapshotHeader(): number[] {
    return [this.beginTimestamp, this.endTimestamp, this.beginPhyOffset, this.endPhyOffset, this.hashSlotCount, this.indexCount];
  }

  private headerBytes(h: number[]): Buffer {
    const b = Buffer.alloc(INDEX_HEADER_SIZE);
    writeLong(b, h[0]!, 0);
    writeLong(b, h[1]!, 8);
    writeLong(b, h[2]!, 16);
    writeLong(b, h[3]!, 24);
    b.writeInt32BE(h[4]!, 32);
    b.writeInt32BE(h[5]!, 36);
    return b;
  }

  private async writeGen(g: Overlay, header: number[]): Promise<void> {
    const slots = Int32Array.from(g.slots.keys()).sort();
    // Spans of nearby dirty slots, each rewritten whole: [firstSlot, lastSlot] pairs.
    const spans: Array<{ first: number; last: number; buf: Buffer }> = [];
    for (let i = 0; i < slots.length;) {
      const first = slots[i]!;
      let last = first;
      let j = i + 1;
      while (j < slots.length && slots[j]! - last <= SLOT_SPAN_GAP && slots[j]! - first < SLOT_SPAN_MAX) last = slots[j++]!;
      spans.push({ first, last, buf: Buffer.allocUnsafe((last - first + 1) * HASH_SLOT_SIZE) });
      i = j;
    }
    // 1. Read the slots' current values: they are what this round's oldest entries link to.
    for (const s of spans) await readAt(this.fd, s.buf, INDEX_HEADER_SIZE + s.first * HASH_SLOT_SIZE);
    let newSlots = 0;
    for (const s of spans) {
      for (const [slot, head] of this.slotsIn(g, s.first, s.last)) {
        const at = (slot - s.first) * HASH_SLOT_SIZE;
        // Oldest entry of this round in the slot's chain: link it to the disk value if unresolved.
        let e = head;
        for (;;) {
          const prev = g.buf.readInt32BE(g.pos(e) + 16);
          if (prev === UNRESOLVED) {
            let old = s.buf.readInt32BE(at);
            if (old <= INVALID_INDEX || old >= g.start) {
              old = INVALID_INDEX;
              newSlots++;
            }
            g.buf.writeInt32BE(old, g.pos(e) + 16);
            break;
          }
          if (!g.has(prev)) break;
          e = prev;
        }
        s.buf.writeInt32BE(head, at);
      }
    }
    this.hashSlotCount += newSlots;
    header[4] = this.hashSlotCount;
    // 2. Entries, 3. slots, 4. header: a reader of the file never meets a slot pointing at an unwritten entry.
    await writeAt(this.fd, g.buf.subarray(0, g.count * INDEX_ENTRY_SIZE), this.entriesPos + g.start * INDEX_ENTRY_SIZE, this.path);
    for (const s of spans) await writeAt(this.fd, s.buf, INDEX_HEADER_SIZE + s.first * HASH_SLOT_SIZE, this.path);
    await writeAt(this.fd, this.headerBytes(header), 0, this.path);
  }

  private *slotsIn(g: Overlay, first: number, last: number): Iterable<[number, number]> {
    for (let slot = first; slot <= last; slot++) {
      const head = g.slots.get(slot);
      if (head !== undefined) yield [slot, head];
    }
  }

  /** Makes the written bytes durable. */
  datasync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Closes the file once a running flush has finished; queries stop at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushing) void this.flushing.catch(() => undefined).then(() => closeSync(this.fd));
    else closeSync(this.fd);
  }

  /** Closes and deletes the file. */
  destroy(): void {
    this.close();
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
