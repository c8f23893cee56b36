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

/**
 * The slots an overlay touched: slot → newest entry (its chain head) and, when the slot's older
 * entries are only on disk, the overlay's oldest entry in it, whose link is set at flush. Open
 * addressing over typed arrays: a busy round leaves no per-entry objects for the garbage collector.
 * Entry numbers are ≥ 1, so 0 means "absent" / "nothing to link".
 */
class SlotMap {
  size = 0;
  private keys: Int32Array; // slot + 1; 0 = free
  private heads: Int32Array;
  private firsts: Int32Array;
  private shift: number;

  constructor(bits = 10) {
    this.keys = new Int32Array(1 << bits);
    this.heads = new Int32Array(1 << bits);
    this.firsts = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  private pos(slot: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = Math.imul(slot + 1, 0x9e3779b1) >>> this.shift;
    while (keys[i] !== 0 && keys[i] !== slot + 1) i = (i + 1) & mask;
    return i;
  }

  get(slot: number): number {
    return this.heads[this.pos(slot)]!;
  }

  /**
   * Makes `head` the slot's newest entry and returns the previous one (0 when the slot is new
   * here, in which case `first` is recorded as its oldest entry).
   */
  set(slot: number, head: number, first: number): number {
    const i = this.pos(slot);
    if (this.keys[i] !== 0) {
      const old = this.heads[i]!;
      this.heads[i] = head;
      return old;
    }
    this.keys[i] = slot + 1;
    this.heads[i] = head;
    this.firsts[i] = first;
    if (++this.size * 2 > this.keys.length) this.grow();
    return 0;
  }

  private grow(): void {
    const { keys, heads, firsts } = this;
    this.keys = new Int32Array(keys.length * 2);
    this.heads = new Int32Array(keys.length * 2);
    this.firsts = new Int32Array(keys.length * 2);
    this.shift--;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const j = this.pos(keys[i]! - 1);
      this.keys[j] = keys[i]!;
      this.heads[j] = heads[i]!;
      this.firsts[j] = firsts[i]!;
    }
  }

  /**
   * Every slot held with its head and first entry, ascending by slot: a counting sort by
   * 1024-slot page (slots are below `slotCount`), then insertion sort within each page.
   */
  sorted(slotCount: number): { slots: Int32Array; heads: Int32Array; firsts: Int32Array } {
    const n = this.size;
    const keys = this.keys;
    const pages = (slotCount >>> 10) + 1;
    const starts = new Int32Array(pages + 1);
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) starts[((keys[i]! - 1) >>> 10) + 1]!++;
    for (let p = 1; p <= pages; p++) starts[p]! += starts[p - 1]!;
    const slots = new Int32Array(n);
    const heads = new Int32Array(n);
    const firsts = new Int32Array(n);
    const fill = starts.slice(0, pages);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const slot = keys[i]! - 1;
      const j = fill[slot >>> 10]!++;
      slots[j] = slot;
      heads[j] = this.heads[i]!;
      firsts[j] = this.firsts[i]!;
    }
    for (let p = 0; p < pages; p++) {
      for (let j = starts[p]! + 1; j < starts[p + 1]!; j++) {
        const s = slots[j]!;
        const h = heads[j]!;
        const f = firsts[j]!;
        let k = j - 1;
        for (; k >= starts[p]! && slots[k]! > s; k--) {
          slots[k + 1] = slots[k]!;
          heads[k + 1] = heads[k]!;
          firsts[k + 1] = firsts[k]!;
        }
        slots[k + 1] = s;
        heads[k + 1] = h;
        firsts[k + 1] = f;
      }
    }
    return { slots, heads, firsts };
  }
}

/** Entries appended since the last flush began, plus the newest entry of every slot they touched. */
class Overlay {
  count = 0;
  readonly slots: SlotMap;
  /** `slotBits`: log2 of the slot table's initial capacity, sized from the previous round. */
  constructor(readonly start: number, public buf: Buffer, slotBits = 10) {
    this.slots = new SlotMap(slotBits);
  }

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
 * (the new entries and the slots they changed), and a flush writes the dirty slots as a few
 * read-modify-write spans, the entries with one positional write, then the header. Queries read
 * the overlay first and the file for the rest, so memory stays at the overlay whatever the file size.
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
  /** Overlays handed to a flush and not yet on disk, oldest first (more than one only after a failed write). */
  private readonly pending: Overlay[] = [];
  private flushing?: Promise<void>;
  private spare?: Buffer;
  private closed = false;
  private readonly entriesPos: number;
  private readonly scratch = Buffer.alloc(INDEX_ENTRY_SIZE);
  /** Read-modify-write buffer for slot spans, allocated at the first flush. */
  private spanBuf?: Buffer;

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
      writeSync(fd, headerBytes(f.snapshotHeader()), 0, INDEX_HEADER_SIZE, 0);
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

  /** Entries held in memory that no flush has taken yet. */
  get pendingEntries(): number {
    return this.cur.count;
  }

  /** Whether entries wait in memory or a flush is running. */
  get hasUnflushed(): boolean {
    return this.cur.count > 0 || this.pending.length > 0;
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
    const n = this.indexCount;
    let prev: number;
    if (this.pending.length === 0) {
      prev = g.slots.set(slot, n, n);
    } else {
      // A flush is writing older overlays: the slot's newest entry may be in one of them.
      prev = g.slots.get(slot);
      for (let i = this.pending.length - 1; prev === 0 && i >= 0; i--) prev = this.pending[i]!.slots.get(slot);
      g.slots.set(slot, n, prev === 0 ? n : 0);
    }
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
    const p = g.count * INDEX_ENTRY_SIZE;
    if (p + INDEX_ENTRY_SIZE > g.buf.length) {
      const bigger = Buffer.allocUnsafe(g.buf.length * 2);
      g.buf.copy(bigger, 0, 0, p);
      g.buf = bigger;
    }
    const b = g.buf;
    b.writeInt32BE(keyHash, p);
    writeLong(b, phyOffset, p + 4);
    b.writeInt32BE(timeDiff, p + 12);
    b.writeInt32BE(prev === 0 ? UNRESOLVED : prev, p + 16);
    g.count++;
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
      // The oldest in-memory entry of a slot links to the slot's value on disk.
      const prev = e.prev === UNRESOLVED ? this.diskSlot(slot) : e.prev;
      if (e.timeDiff < 0) break;
      const timeRead = this.beginTimestamp + e.timeDiff * 1000;
      if (keyHash === e.keyHash && timeRead >= begin && timeRead <= end) out.push(e.phyOffset);
      // Chains only point backwards; anything else is damage, and the walk stops there.
      if (prev <= INVALID_INDEX || prev >= n || timeRead < begin) break;
      n = prev;
      if (steps % YIELD_EVERY === 0) {
        // Sync reads keep each step consistent with the overlay; between batches others may run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
    }
  }

  private slotValue(slot: number): number {
    let v = this.cur.slots.get(slot);
    for (let i = this.pending.length - 1; v === 0 && i >= 0; i--) v = this.pending[i]!.slots.get(slot);
    return v === 0 ? this.diskSlot(slot) : v;
  }

  private diskSlot(slot: number): number {
    const b = this.scratch;
    const n = readSync(this.fd, b, 0, HASH_SLOT_SIZE, INDEX_HEADER_SIZE + slot * HASH_SLOT_SIZE);
    return n === HASH_SLOT_SIZE ? b.readInt32BE(0) : INVALID_INDEX;
  }

  private overlayOf(n: number): Overlay | undefined {
    if (this.cur.has(n)) return this.cur;
    for (const g of this.pending) if (g.has(n)) return g;
    return undefined;
  }

  private readEntry(n: number, e: Entry): boolean {
    let b: Buffer;
    let p: number;
    const g = this.overlayOf(n);
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
   * Writes what the overlay holds: slots, entries, then the header. One flush at a time;
   * puts made meanwhile wait for the next. Resolves when the bytes are handed to the kernel;
   * after a failed write the entries stay in memory and the next flush tries again.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.closed || (this.cur.count === 0 && this.pending.length === 0)) return Promise.resolve();
    if (this.cur.count > 0) {
      this.pending.push(this.cur);
      const bits = Math.min(22, Math.max(10, 32 - Math.clz32(this.cur.slots.size * 2)));
      this.cur = new Overlay(this.indexCount, this.spare ?? Buffer.allocUnsafe(64 * INDEX_ENTRY_SIZE), bits);
      this.spare = undefined;
    }
    const header = this.snapshotHeader();
    const run = async (): Promise<void> => {
      while (this.pending.length > 0) {
        const g = this.pending[0]!;
        await this.writeOverlay(g);
        this.pending.shift();
        // Keep a grown buffer for the next round, unless it grew unusually large.
        if (g.buf.length <= 4 * 1024 * 1024) this.spare = g.buf;
      }
      header[4] = this.hashSlotCount;
      await writeAt(this.fd, headerBytes(header), 0, this.path);
    };
    this.flushing = run().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /** Flushes until nothing is left in memory. */
  async flushAll(): Promise<void> {
    while (!this.closed && (this.flushing || this.hasUnflushed)) await this.flush();
  }

  private snapshotHeader(): number[] {
    return [this.beginTimestamp, this.endTimestamp, this.beginPhyOffset, this.endPhyOffset, this.hashSlotCount, this.indexCount];
  }

  /**
   * Writes one overlay: its dirty slots as read-modify-write spans (one reused buffer), linking
   * the overlay's oldest entry of each slot to the slot's value on disk on the way, then its
   * entries with one write. The order is free: while the overlay is pending, queries take these
   * slots from it, not from the file; and after a crash a file not made durable is rebuilt.
   */
  private async writeOverlay(g: Overlay): Promise<void> {
    const { slots, heads, firsts: unresolved } = g.slots.sorted(this.hashSlotNum);
    const buf = (this.spanBuf ??= Buffer.allocUnsafe(SLOT_SPAN_MAX * HASH_SLOT_SIZE));
    for (let i = 0; i < slots.length;) {
      const first = slots[i]!;
      let j = i + 1;
      while (j < slots.length && slots[j]! - slots[j - 1]! <= SLOT_SPAN_GAP && slots[j]! - first < SLOT_SPAN_MAX) j++;
      const span = buf.subarray(0, (slots[j - 1]! - first + 1) * HASH_SLOT_SIZE);
      const pos = INDEX_HEADER_SIZE + first * HASH_SLOT_SIZE;
      // Untouched neighbours are written back as read; a lone slot needs reading only to be linked to.
      if (j - i > 1 || unresolved[i]! > 0) await readAt(this.fd, span, pos);
      for (let k = i; k < j; k++) {
        const at = (slots[k]! - first) * HASH_SLOT_SIZE;
        const e = unresolved[k]!;
        if (e > 0 && g.buf.readInt32BE(g.pos(e) + 16) === UNRESOLVED) {
          let old = span.readInt32BE(at);
          if (old <= INVALID_INDEX || old >= g.start) {
            old = INVALID_INDEX;
            this.hashSlotCount++;
          }
          g.buf.writeInt32BE(old, g.pos(e) + 16);
        }
        span.writeInt32BE(heads[k]!, at);
      }
      await writeAt(this.fd, span, pos, this.path);
      i = j;
    }
    await writeAt(this.fd, g.buf.subarray(0, g.count * INDEX_ENTRY_SIZE), this.entriesPos + g.start * INDEX_ENTRY_SIZE, this.path);
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
    const done = (): void => closeSync(this.fd);
    if (this.flushing) void this.flushing.catch(() => undefined).then(done);
    else done();
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

function headerBytes(h: number[]): Buffer {
  const b = Buffer.alloc(INDEX_HEADER_SIZE);
  writeLong(b, h[0]!, 0);
  writeLong(b, h[1]!, 8);
  writeLong(b, h[2]!, 16);
  writeLong(b, h[3]!, 24);
  b.writeInt32BE(h[4]!, 32);
  b.writeInt32BE(h[5]!, 36);
  return b;
}
