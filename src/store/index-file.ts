import { closeSync, fdatasync, ftruncateSync, openSync, readSync, unlinkSync, write, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { readLong, writeLong } from '../common/bytes.js';
import { javaStringHashCode } from '../common/java.js';
import { PoolOps } from './pool-ops.js';

/** IndexHeader: beginTs@0, endTs@8, beginPhyOffset@16, endPhyOffset@24, hashSlotCount@32, indexCount@36. */
export const INDEX_HEADER_SIZE = 40;
export const HASH_SLOT_SIZE = 4;
/** One entry: int keyHash, long phyOffset, int timeDiff (seconds from beginTs), int prevIndex. */
export const INDEX_ENTRY_SIZE = 20;
/** Entry number 0 is never used, so 0 ends a chain and marks an empty slot (upstream `invalidIndex`). */
const INVALID_INDEX = 0;
const INT_MAX = 0x7fffffff;
/** The slot table is tracked dirty in pages of 1024 slots (4 KiB): the unit a flush rewrites. */
const SLOT_PAGE_SHIFT = 10;
/** Bytes of one slot page. Offsets are multiplied, not shifted: a table may approach 2 GiB. */
const SLOT_PAGE_BYTES = (1 << SLOT_PAGE_SHIFT) * HASH_SLOT_SIZE;
/** Clean pages up to this many between two dirty ones are written too: one syscall instead of two. */
const SLOT_GAP_PAGES = 4;
/** Longest slot write (1 MiB), the size of the buffer a flush copies the table into. */
const SLOT_SPAN_PAGES = 256;
/**
 * Flush rounds between two writes of the slot table (and header) of a file still taking puts.
 * Queries read slots from memory, and after a crash such a file is rebuilt from the CommitLog
 * whatever it holds, so the writes only keep the file on disk from lagging far behind; at peak
 * load nearly every page is dirty each round, and rewriting 20 MB each second cost more than
 * indexing itself. A full file, and every file at shutdown, is written whole.
 */
const SLOT_WRITE_ROUNDS = 10;
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

/** An overlay's buffers grow by doubling up to this many entries each; past that, one more of this size at a time. */
const OVERLAY_CHUNK_MAX_ENTRIES = 32 * 1024;

/**
 * Entries appended since the last flush began, in file order from entry number `start`, in
 * chunks: a recovery that rebuilds a million entries before the first flush would otherwise
 * copy its one buffer at every doubling (a tenth of a recovery profile, page faults included).
 */
class Overlay {
  count = 0;
  /** Entry buffers in order; all but the last are full. */
  readonly chunks: Buffer[] = [];
  /** Entries before each chunk. */
  private readonly firsts: number[] = [];
  /** The last chunk, which the put path writes through without Buffer's per-call checks. */
  view!: DataView;
  private lastFirst = 0;
  private lastEntries = 0;

  constructor(readonly start: number, first: Buffer) {
    this.add(first);
  }

  private add(buf: Buffer): void {
    this.chunks.push(buf);
    this.firsts.push(this.count);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.lastFirst = this.count;
    this.lastEntries = Math.floor(buf.length / INDEX_ENTRY_SIZE);
  }

  /** Room for one more entry; returns its byte position in `view`. */
  reserve(): number {
    if (this.count - this.lastFirst >= this.lastEntries) {
      this.add(Buffer.allocUnsafe(Math.min(this.lastEntries * 2, OVERLAY_CHUNK_MAX_ENTRIES) * INDEX_ENTRY_SIZE));
    }
    return (this.count - this.lastFirst) * INDEX_ENTRY_SIZE;
  }

  has(n: number): boolean {
    return n >= this.start && n < this.start + this.count;
  }

  /** The chunk holding entry `n` (one this overlay `has`). */
  chunkOf(n: number): number {
    const k = n - this.start;
    let i = this.chunks.length - 1;
    while (this.firsts[i]! > k) i--;
    return i;
  }

  /** Entry `n`'s 32-bit field at byte `field` of the entry. */
  int32Of(n: number, field: number): number {
    const i = this.chunkOf(n);
    return this.chunks[i]!.readInt32BE((n - this.start - this.firsts[i]!) * INDEX_ENTRY_SIZE + field);
  }

  /** Copies entry `n` into `dst` at 0. */
  copyEntry(n: number, dst: Buffer): void {
    const i = this.chunkOf(n);
    const at = (n - this.start - this.firsts[i]!) * INDEX_ENTRY_SIZE;
    this.chunks[i]!.copy(dst, 0, at, at + INDEX_ENTRY_SIZE);
  }

  /** The bytes of every entry, chunk by chunk. */
  used(): Buffer[] {
    return this.chunks.map((c, i) => c.subarray(0, ((i + 1 < this.chunks.length ? this.firsts[i + 1]! : this.count) - this.firsts[i]!) * INDEX_ENTRY_SIZE));
  }
}

interface Entry {
  keyHash: number;
  phyOffset: number;
  timeDiff: number;
  prev: number;
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
 * The file is created sparse at its full size and never mapped. While it takes puts, its whole
 * slot table lives in memory (4 bytes a slot, big-endian as on disk), so a put links its entry
 * with no I/O and a flush writes the pages of slots it changed without reading them first; new
 * entries wait in an in-memory overlay. A flush writes the entries and, every few rounds, the
 * dirty slot pages then the header; the header only ever names slots and entries already
 * written, so the file on disk is always consistent, if behind. Once a full file is flushed its table is dropped: sealed files cost no memory and
 * their queries read the slots from disk.
 */
/**
 * Slot tables (20 MB each by default) handed from a sealed file to the next one. Freeing one
 * and allocating the next made glibc raise its mmap threshold to the table's size, after
 * which every smaller buffer (the CommitLog's 4 MiB write pages) came from the heap and the
 * broker's RSS grew by ~15 MB at each index file roll: 240 → 287 MiB over 100 M messages.
 */
export class SlotTablePool {
  private spare?: Buffer;

  /** A zeroed table of `bytes`. */
  take(bytes: number): Buffer {
    const t = this.spare;
    if (t && t.length === bytes) {
      this.spare = undefined;
      return t.fill(0);
    }
    return Buffer.alloc(bytes);
  }

  give(table: Buffer): void {
    this.spare ??= table;
  }
}

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
  /** fdatasyncs handed to the thread pool: the descriptor closes after them. */
  private readonly pool = new PoolOps();
  private spare?: Buffer;
  private closed = false;
  private readonly entriesPos: number;
  private readonly scratch = Buffer.alloc(INDEX_ENTRY_SIZE);
  /** The slot table as the file will hold it, from the first put until the full file is flushed. */
  private slots?: DataView;
  /** One byte per slot page: changed in memory since a flush last took it. */
  private dirty?: Uint8Array;
  private dirtyPages = 0;
  /** Flush rounds begun, for SLOT_WRITE_ROUNDS. */
  private rounds = 0;
  /** The pages a running flush writes (the bitmap `dirty` was when it began); all zero between flushes. */
  private writing?: Uint8Array;
  /** Where a flush copies slot pages before writing them, so the bytes cannot change under the write. */
  private spanBuf?: Buffer;
  /** What touchSlots last read (see there). */
  private touched = 0;

  private constructor(readonly path: string, readonly hashSlotNum: number, readonly indexNum: number, private readonly fd: number, private readonly tables: SlotTablePool) {
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
  static create(path: string, hashSlotNum: number, indexNum: number, endPhyOffset = 0, endTimestamp = 0, tables = new SlotTablePool()): IndexFile {
    const fd = openSync(path, 'wx+');
    const f = new IndexFile(path, hashSlotNum, indexNum, fd, tables);
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
  static open(path: string, hashSlotNum: number, indexNum: number, tables = new SlotTablePool()): IndexFile {
    const fd = openSync(path, 'r+');
    const f = new IndexFile(path, hashSlotNum, indexNum, fd, tables);
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    readSync(fd, h, 0, INDEX_HEADER_SIZE, 0);
    f.beginTimestamp = readLong(h, 0);
    f.endTimestamp = readLong(h, 8);
    f.beginPhyOffset = readLong(h, 16);
    f.endPhyOffset = readLong(h, 24);
    f.hashSlotCount = h.readInt32BE(32);
    f.indexCount = Math.min(Math.max(h.readInt32BE(36), 1), indexNum);
    f.cur = new Overlay(f.indexCount, f.cur.chunks[0]!);
    return f;
  }

  isWriteFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  /** Entries held in memory that no flush has taken yet. */
  get pendingEntries(): number {
    return this.cur.count;
  }

  /** Whether entries or slots wait in memory or a flush is running. */
  get hasUnflushed(): boolean {
    return this.cur.count > 0 || this.pending.length > 0 || this.dirtyPages > 0 || this.flushing !== undefined;
  }

  /** Whether the slot table is held in memory (from the first put until the full file is flushed). */
  get holdsSlotTable(): boolean {
    return this.slots !== undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  putKey(key: string, phyOffset: number, storeTimestamp: number): boolean {
    return this.putKeyHash(indexKeyHash(key), phyOffset, storeTimestamp);
  }

  /**
   * Adds an entry for a key whose index hash is `keyHash`; false when the file is full
   * (upstream `putKey`). Touches memory only, except that the first put after opening a file
   * with entries reads its slot table.
   */
  putKeyHash(keyHash: number, phyOffset: number, storeTimestamp: number): boolean {
    if (this.closed || this.indexCount >= this.indexNum) return false;
    const slots = this.slots ?? this.loadSlotTable();
    const slot = keyHash % this.hashSlotNum;
    const n = this.indexCount;
    let prev = slots.getInt32(slot * HASH_SLOT_SIZE);
    // As upstream, a value that cannot be an older entry starts a new chain.
    if (prev <= INVALID_INDEX || prev >= n) {
      prev = INVALID_INDEX;
      this.hashSlotCount++;
    }
    slots.setInt32(slot * HASH_SLOT_SIZE, n);
    const page = slot >>> SLOT_PAGE_SHIFT;
    const dirty = this.dirty!;
    if (dirty[page] === 0) {
      dirty[page] = 1;
      this.dirtyPages++;
    }
    if (n <= 1) {
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
    const g = this.cur;
    const p = g.reserve();
    const v = g.view;
    v.setInt32(p, keyHash);
    // CommitLog offsets stay below 2^53: the high word is exact.
    const hi = Math.floor(phyOffset / 0x100000000);
    v.setInt32(p + 4, hi);
    v.setUint32(p + 8, phyOffset - hi * 0x100000000);
    v.setInt32(p + 12, timeDiff);
    v.setInt32(p + 16, prev);
    g.count++;
    this.indexCount = n + 1;
    this.endPhyOffset = phyOffset;
    this.endTimestamp = storeTimestamp;
    return true;
  }

  /**
   * Reads the slots of the first `n` key hashes (-1: none) one after the other, so that their
   * cache misses overlap and the puts that follow find them cached (IndexService.buildIndexes).
   * Nothing changes; a table not yet loaded is left alone.
   */
  touchSlots(keyHashes: Int32Array, n: number): void {
    const slots = this.slots;
    if (slots === undefined) return;
    const slotNum = this.hashSlotNum;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const h = keyHashes[i]!;
      if (h >= 0) sum ^= slots.getInt32((h % slotNum) * HASH_SLOT_SIZE);
    }
    // Kept, so that the compiler cannot drop the reads.
    this.touched = sum;
  }

  /**
   * Allocates the slot table and, when the file already has entries (reopened after a clean
   * shutdown), reads it from disk once, instead of a read per slot later.
   */
  private loadSlotTable(): DataView {
    const bytes = this.hashSlotNum * HASH_SLOT_SIZE;
    // Zeroed: a new file's slots are holes, which read as 0 (empty).
    const table = this.tables.take(bytes);
    if (this.indexCount > 1) {
      for (let done = 0; done < bytes;) {
        const n = readSync(this.fd, table, done, bytes - done, INDEX_HEADER_SIZE + done);
        if (n === 0) break;
        done += n;
      }
    }
    const pages = ((this.hashSlotNum - 1) >>> SLOT_PAGE_SHIFT) + 1;
    this.dirty = new Uint8Array(pages);
    this.writing = new Uint8Array(pages);
    this.dirtyPages = 0;
    this.slots = new DataView(table.buffer, table.byteOffset, table.byteLength);
    return this.slots;
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
    let n = this.slotValue(keyHash % this.hashSlotNum);
    if (n <= INVALID_INDEX || n >= this.indexCount || this.indexCount <= 1) return;
    const e: Entry = { keyHash: 0, phyOffset: 0, timeDiff: 0, prev: 0 };
    for (let steps = 1; ; steps++) {
      if (out.length >= maxNum) break;
      if (!this.readEntry(n, e)) break;
      if (e.timeDiff < 0) break;
      const timeRead = this.beginTimestamp + e.timeDiff * 1000;
      if (keyHash === e.keyHash && timeRead >= begin && timeRead <= end) out.push(e.phyOffset);
      // Chains only point backwards; anything else is damage, and the walk stops there.
      if (e.prev <= INVALID_INDEX || e.prev >= n || timeRead < begin) break;
      n = e.prev;
      if (steps % YIELD_EVERY === 0) {
        // Sync reads keep each step consistent with the overlay; between batches others may run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
    }
  }

  /** A slot's newest entry: from the table while it is held, else from the file (then complete). */
  private slotValue(slot: number): number {
    if (this.slots) return this.slots.getInt32(slot * HASH_SLOT_SIZE);
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
      b = this.scratch;
      p = 0;
      g.copyEntry(n, b);
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
   * Writes the entries memory holds as of this call and, in a slot round (every
   * SLOT_WRITE_ROUNDS-th, once the file is full, or with `all`), the slot pages changed then the
   * header, so that such a round leaves a file as consistent as if puts had stopped at the call.
   * Entries written in other rounds lie past the header's count until then. One flush at a
   * time; puts made meanwhile wait for the next. Resolves when the bytes are handed to the
   * kernel; after a failed write the entries and pages stay in memory and the next flush tries again.
   */
  flush(all = false): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.closed || !this.hasUnflushed) return Promise.resolve();
    if (this.cur.count > 0) {
      this.pending.push(this.cur);
      this.cur = new Overlay(this.indexCount, this.spare ?? Buffer.allocUnsafe(64 * INDEX_ENTRY_SIZE));
      this.spare = undefined;
    }
    const withSlots = all || this.isWriteFull() || this.rounds % SLOT_WRITE_ROUNDS === 0;
    this.rounds++;
    const limit = this.indexCount;
    const header = headerBytes(this.snapshotHeader());
    // The pages changed so far are this round's; puts from now on mark pages for the next one.
    if (withSlots && this.dirty && this.dirtyPages > 0) {
      const taken = this.dirty;
      this.dirty = this.writing!;
      this.writing = taken;
      this.dirtyPages = 0;
    }
    const run = async (): Promise<void> => {
      while (this.pending.length > 0) {
        const g = this.pending[0]!;
        let at = this.entriesPos + g.start * INDEX_ENTRY_SIZE;
        for (const part of g.used()) {
          await writeAt(this.fd, part, at, this.path);
          at += part.length;
        }
        this.pending.shift();
        // The largest chunk starts the next round's overlay.
        this.spare = g.chunks[g.chunks.length - 1];
      }
      if (!withSlots) return;
      await this.writeSlotPages(limit);
      await writeAt(this.fd, header, 0, this.path);
      // A full file takes no more puts: once all of it is written, queries can read slots from disk.
      if (this.isWriteFull() && this.cur.count === 0 && this.dirtyPages === 0) this.dropSlotTable();
    };
    this.flushing = run().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /**
   * Writes the pages in `writing`, a run of nearby pages at a time, each copied first. Puts made
   * since the flush began may have changed a copied page (they marked it dirty again): their
   * slots are written as they were before entry `limit`, found by following the new entries'
   * links back, so the slots on disk never name an entry the header does not count. Those
   * pages stay dirty for the next round.
   */
  private async writeSlotPages(limit: number): Promise<void> {
    const slots = this.slots;
    const writing = this.writing;
    if (!slots || !writing) return;
    const pages = writing.length;
    const tableBytes = this.hashSlotNum * HASH_SLOT_SIZE;
    const buf = (this.spanBuf ??= Buffer.allocUnsafe(SLOT_SPAN_PAGES * SLOT_PAGE_BYTES));
    const table = new Uint8Array(slots.buffer, slots.byteOffset, slots.byteLength);
    let p = 0;
    try {
      for (;;) {
        while (p < pages && writing[p] === 0) p++;
        if (p >= pages) break;
        const first = p;
        let last = p;
        for (let q = p + 1; q < pages && q - first < SLOT_SPAN_PAGES && q - last <= SLOT_GAP_PAGES; q++) if (writing[q] !== 0) last = q;
        const from = first * SLOT_PAGE_BYTES;
        const to = Math.min((last + 1) * SLOT_PAGE_BYTES, tableBytes);
        buf.set(table.subarray(from, to));
        // `dirty` is read each time: the bitmaps swap only when a flush begins, and this one is running.
        const dirty = this.dirty!;
        for (let q = first; q <= last; q++) if (dirty[q] !== 0) this.unlinkNewer(buf, from, q, to, limit);
        await writeAt(this.fd, buf.subarray(0, to - from), INDEX_HEADER_SIZE + from, this.path);
        writing.fill(0, first, last + 1);
        p = last + 1;
      }
    } catch (err) {
      // Pages not written go back to the next round.
      for (let q = p; q < pages; q++) {
        if (writing[q] === 0) continue;
        writing[q] = 0;
        if (this.dirty![q] === 0) {
          this.dirty![q] = 1;
          this.dirtyPages++;
        }
      }
      throw err;
    }
  }

  /** In a copy of slot page `page` (copy starts at table byte `from`), turns slots naming entries ≥ `limit` back to their older value. */
  private unlinkNewer(copy: Buffer, from: number, page: number, to: number, limit: number): void {
    const g = this.cur;
    const start = Math.max(page * SLOT_PAGE_BYTES, from) - from;
    const stop = Math.min((page + 1) * SLOT_PAGE_BYTES, to) - from;
    for (let at = start; at < stop; at += HASH_SLOT_SIZE) {
      let v = copy.readInt32BE(at);
      if (v < limit) continue;
      // Entries from `limit` on were all put after this flush began, so the current overlay holds them.
      while (v >= limit && g.has(v)) v = g.int32Of(v, 16);
      copy.writeInt32BE(v >= limit ? INVALID_INDEX : v, at);
    }
  }

  private dropSlotTable(): void {
    const slots = this.slots;
    if (slots) this.tables.give(Buffer.from(slots.buffer, slots.byteOffset, slots.byteLength));
    this.slots = undefined;
    this.dirty = undefined;
    this.writing = undefined;
    this.spanBuf = undefined;
    this.dirtyPages = 0;
  }

  /** Flushes until nothing is left in memory. */
  async flushAll(): Promise<void> {
    while (!this.closed && this.hasUnflushed) await this.flush(true);
  }

  private snapshotHeader(): number[] {
    return [this.beginTimestamp, this.endTimestamp, this.beginPhyOffset, this.endPhyOffset, this.hashSlotCount, this.indexCount];
  }

  /** Makes the written bytes durable. */
  datasync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(this.fd, this.pool.wrap((err) => (err ? reject(err) : resolve()))));
  }

  /**
   * Closes the file once a running flush and the fdatasyncs in the thread pool have finished
   * (closed earlier, the descriptor's number could go to a file opened meanwhile, and a sync
   * still queued would fail or sync that file); queries stop at once.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const done = (): void => this.pool.whenIdle(() => {
      closeSync(this.fd);
      this.dropSlotTable();
    });
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
