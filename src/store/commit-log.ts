import { BLANK_MAGIC_CODE } from '../common/message-record.js';
import { CrcReadAhead, type CrcReadAheadSegment } from './crc-read-ahead.js';
import type { Logger } from '../common/logger.js';
import { MappedFileQueue } from './mapped-file-queue.js';
import type { MappedFile } from './mapped-file.js';
import type { ConsumeQueue } from './consume-queue.js';
import { walkSegment, WalkBuffer } from './record-walk.js';

/** Store-level outcome of an append (upstream `PutMessageStatus`, the subset this store produces). */
export type PutMessageStatus =
  | 'PUT_OK'
  | 'FLUSH_DISK_TIMEOUT'
  | 'FLUSH_SLAVE_TIMEOUT'
  | 'SLAVE_NOT_AVAILABLE'
  | 'SERVICE_NOT_AVAILABLE'
  | 'MESSAGE_ILLEGAL'
  | 'PROPERTIES_SIZE_EXCEEDED'
  | 'UNKNOWN_ERROR';

/** Reused memory for records read by one pull (CommitLog.takeReadArena). */
export interface ReadArena {
  buf: Buffer;
  used: number;
}

/** A pull takes at most maxTransferBytesOnMessageInMemory (256 KiB by default); larger reads allocate. */
const READ_ARENA_BYTES = 256 * 1024;
/** Free arenas kept: pulls in flight at once on a busy broker (4 MiB at most). */
const READ_ARENAS_KEPT = 16;

/** What the dispatcher needs of an appended record (upstream `DispatchRequest`). */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  queueOffset: number;
  phyOffset: number;
  size: number;
  tagsCode: number;
  storeTimestamp: number;
  sysFlag: number;
  /** Raw properties string, for index keys and SQL filtering later. */
  properties: string;
  /** The ConsumeQueue the entry goes to, when the put already looked it up (none for transaction halves). */
  queue: ConsumeQueue | undefined;
  /** The Java hash of `topic#` (`indexKeyPrefixHash`), when the put had it at hand; the index computes it otherwise. */
  keyPrefixHash: number | undefined;
}

export interface AppendResult {
  status: PutMessageStatus;
}

interface Ack {
  resolve: (r: AppendResult) => void;
  needFlush: boolean;
  done: boolean;
  /** When the append arrived (its record's store timestamp). */
  at: number;
}

/** A page of the write buffer: records appended back to back, covering one contiguous range of offsets. */
interface Page {
  buf: Buffer;
  phyStart: number;
  used: number;
  /** A reader was given a slice of `buf` (a pull of the hot tail, an administrative read): never reused. */
  lent: boolean;
}

/** Records written together, completed (dispatched, acknowledged) together. */
interface Batch {
  acks: Ack[];
  dispatches: DispatchRequest[];
  /** Log offset just past the batch. */
  end: number;
  /** Written and, when an ack asked for it, fdatasync'ed. */
  durable: boolean;
}

interface Segment {
  file: MappedFile;
  filePos: number;
  page: Page;
  start: number;
  end: number;
}

const PAGE_SIZE = 4 * 1024 * 1024;
/**
 * Evicted pages kept for reuse. A fresh page is 4 MiB of external memory (V8 runs full
 * collections as that grows) whose every 4 KiB costs a page fault and the kernel's zeroing on
 * first write: at 150 MB/s that was a new page every 27 ms. Only pages no reader holds a slice
 * of are reused, so a write never changes bytes a reader sees.
 */
const FREE_PAGES_KEPT = 2;
/** Records of one pull within this span of the log are fetched with a single read. */
const COALESCE_READ_SPAN = 1024 * 1024;
/**
 * The read window (see readGroupSync): this many bytes of the log, starting READ_WINDOW_BEHIND
 * before the records that missed it, so that queues a little behind the one that moved it still
 * find theirs there.
 */
const READ_WINDOW_BYTES = 1024 * 1024;
const READ_WINDOW_BEHIND = 128 * 1024;
/** A deleted segment's descriptor stays open this long for reads already under way. */
const READ_GRACE_MS = 30_000;
const END_FILE_MIN_BLANK_LENGTH = 8;
/** Batches up to this size are written on the event loop thread (see writeBatch); bigger ones on the thread pool. */
const SYNC_WRITE_MAX_BYTES = 1024 * 1024;
/** SYNC_FLUSH: group-commit fdatasyncs in flight at once, each through a descriptor of its own. */
export const SYNC_LANES = 3;
/** The descriptor lane that syncs the zeros written ahead (after the group commits' lanes). */
export const ZERO_LANE = SYNC_LANES;
/** Below this much log to verify, starting a CRC thread costs more than it saves. */
const CRC_READ_AHEAD_MIN_BYTES = 64 * 1024 * 1024;
/** SYNC_FLUSH: how far past the log's end zeros are kept written and synced, and how much one write of them covers. */
const ZERO_AHEAD_BYTES = 16 * 1024 * 1024;
const ZERO_CHUNK_BYTES = 1024 * 1024;

/** Zeros being written ahead of the log from `from` on; `written` once the write returned. */
interface ZeroFill {
  from: number;
  written: boolean;
  /** Resolves when the write and its fdatasync are over, whatever their outcome. */
  done: Promise<void>;
}

export interface CommitLogOptions {
  dir: string;
  fileSize: number;
  syncFlush: boolean;
  syncFlushTimeoutMs: number;
  flushIntervalMs: number;
  hotTailCacheBytes: number;
  logger: Logger;
  /** Called after a batch is durable as configured, before its acks resolve. */
  onDispatch: (reqs: DispatchRequest[]) => void;
  /** Called with the flushed offset after every successful fdatasync. */
  onFlushed?: (flushedOffset: number) => void;
  /** Told how long each acknowledged append took, ms (the store's put latency statistics). */
  putLatency?: { recordPutLatency(ms: number): void };
  /** Recovery checks body CRCs on a second thread when at least this much log is to be verified (default 64 MiB). */
  crcReadAheadMinBytes?: number;
  /**
   * A slave's log: written only by appendRaw with the master's bytes, never with zeros ahead
   * (a zero write in flight could land on replicated bytes).
   */
  replica?: boolean;
}

/**
 * The single append-only log of every message (upstream `CommitLog`).
 *
 * Appends are synchronous reservations: the record is encoded straight into a write page and
 * gets its physical offset at once. Everything appended while the previous write is in flight
 * leaves in the next single writev (group commit); under SYNC_FLUSH one fdatasync follows each
 * writev before any of its acks. Acks never precede the write returning. Recent pages stay in
 * memory (bounded) to serve pulls of the hot tail without a read.
 */
export class CommitLog {
  readonly files: MappedFileQueue;
  private pages: Page[] = [];
  /** Evicted PAGE_SIZE pages nothing was lent from, for pageFor to reuse. */
  private readonly freePages: Buffer[] = [];
  /** The log bytes last read on the loop thread for interleaved records (see readGroupSync). */
  private readonly readWindow: { buf: Buffer; file: MappedFile | undefined; pos: number; len: number } = { buf: Buffer.alloc(0), file: undefined, pos: 0, len: 0 };
  /** Free read arenas (see takeReadArena). */
  private readonly arenas: ReadArena[] = [];
  private cachedBytes = 0;
  private curPage?: Page;
  private pending: Segment[] = [];
  private pendingAcks: Ack[] = [];
  private pendingDispatch: DispatchRequest[] = [];
  private scheduled = false;
  /** A batch is being written. */
  private writing = false;
  /** Written batches not yet completed, in log order. */
  private written: Batch[] = [];
  /**
   * Which of a segment's SYNC_LANES sync descriptors a sync in flight uses: at most that many
   * group commits sync at once, one per descriptor.
   */
  private readonly laneBusy: boolean[] = new Array<boolean>(SYNC_LANES).fill(false);
  /** SYNC_FLUSH: zeros being written ahead of the log's end (see zeroAheadIfDue). */
  private zeroing?: ZeroFill;
  /** Offset up to which the active segment holds zeros made durable ahead of the data. */
  private zeroedTo = 0;
  /** A batch waits for the zeros being written where it goes. */
  private waitingForZeros = false;
  /** No zeros ahead: ASYNC_FLUSH, a zero write that failed once (group commits go on without), or shutdown. */
  private zeroAheadOff: boolean;
  private idleWaiters: Array<() => void> = [];
  private flushTimer?: NodeJS.Timeout;
  private asyncFlushing = false;
  private writable = true;
  /** Next offset to reserve. */
  private reserveOffset = 0;
  /** Offset up to which data has been handed to the kernel. */
  writtenOffset = 0;
  /** Offset up to which data is known durable. */
  flushedOffset = 0;

  constructor(private readonly opts: CommitLogOptions) {
    // As upstream's CommitLog: a path listing several directories (`a,b`) spreads segments over them.
    this.files = new MappedFileQueue(opts.dir, opts.fileSize, true, opts.dir.includes(','));
    this.zeroAheadOff = !opts.syncFlush || opts.replica === true;
  }

  load(): void {
    this.files.load();
  }

  get maxOffset(): number {
    return this.reserveOffset;
  }

  get minOffset(): number {
    return this.files.firstFile ? this.files.firstFile.fileFromOffset : 0;
  }

  get isWritable(): boolean {
    return this.writable;
  }

  /**
   * Scans records from the start of the segment holding `fromOffset`, checking each (length,
   * magic, and body CRC when asked) and calling `onRecord` for the valid ones at or past
   * `dispatchFrom`. Stops at the first invalid record and cuts the log there, so a torn tail
   * disappears. Returns the end of the last whole record. `buf` is only valid during the call.
   */
  recover(fromOffset: number, dispatchFrom: number, checkCRC: boolean, onRecord: (buf: Buffer, pos: number, phyOffset: number) => void, fromIsRecordStart = false): number {
    const files = this.files.files;
    if (files.length === 0) {
      this.setEnd(Math.max(fromOffset - (fromOffset % this.opts.fileSize), 0));
      return this.reserveOffset;
    }
    let idx = files.findIndex((f) => fromOffset >= f.fileFromOffset && fromOffset < f.fileFromOffset + this.opts.fileSize);
    if (idx < 0) idx = fromOffset < files[0]!.fileFromOffset ? 0 : files.length - 1;
    // Records can only be told apart from a known boundary: a segment start, or an offset the
    // caller knows ends a record (the checkpoint after a clean stop).
    const startInFile = fromIsRecordStart && fromOffset >= files[idx]!.fileFromOffset ? fromOffset - files[idx]!.fileFromOffset : 0;
    const readAhead = checkCRC ? this.startCrcReadAhead(idx, startInFile) : undefined;
    const scratch = new WalkBuffer();
    let validEnd = files[idx]!.fileFromOffset + startInFile;
    let firstPos = startInFile;
    try {
      for (; idx < files.length; idx++) {
        const f = files[idx]!;
        const base = f.fileFromOffset;
        const read = (buf: Buffer, at: number, length: number): number => f.readSyncInto(buf, 0, at, length);
        const r = walkSegment(read, scratch, firstPos, f.wrotePosition, checkCRC, (buf, rel, filePos) => {
          const phy = base + filePos;
          if (phy >= dispatchFrom) onRecord(buf, rel, phy);
          return true;
        }, readAhead ? (end) => readAhead.covers(base + end) : undefined);
        firstPos = 0;
        if (r.stop === 'blank') {
          // End of this segment: the next record starts the next file.
          validEnd = base + this.opts.fileSize;
          continue;
        }
        validEnd = base + r.filePos;
        if (r.stop !== 'end') {
          this.opts.logger.warn(`CommitLog recovery: ${typeof r.stop === 'string' ? r.stop : r.stop.reason} at offset ${validEnd}; the log is cut there`);
          break;
        }
        if (r.filePos < this.opts.fileSize) break; // the last written byte of the log
      }
    } finally {
      // The worker may still read segments that are about to be truncated.
      readAhead?.close();
    }
    this.files.truncateDirtyFiles(validEnd);
    this.setEnd(validEnd);
    return validEnd;
  }

  /** A CRC read-ahead thread over the segments from `idx`, when there is enough to verify to pay for it. */
  private startCrcReadAhead(idx: number, startInFile: number): CrcReadAhead | undefined {
    const files = this.files.files;
    const segments: CrcReadAheadSegment[] = [];
    let bytes = 0;
    for (let i = idx; i < files.length; i++) {
      const f = files[i]!;
      const from = i === idx ? startInFile : 0;
      segments.push({ path: f.path, fileFromOffset: f.fileFromOffset, from, len: f.wrotePosition });
      bytes += Math.max(f.wrotePosition - from, 0);
    }
    if (bytes < (this.opts.crcReadAheadMinBytes ?? CRC_READ_AHEAD_MIN_BYTES)) return undefined;
    return CrcReadAhead.start(segments, this.opts.fileSize, this.opts.logger);
  }

  private setEnd(offset: number): void {
    this.reserveOffset = offset;
    this.writtenOffset = offset;
    this.flushedOffset = offset;
  }

  /** Starts the periodic flush of ASYNC_FLUSH (upstream `FlushRealTimeService`). */
  start(): void {
    if (!this.opts.syncFlush) {
      this.flushTimer = setInterval(() => this.asyncFlush(), this.opts.flushIntervalMs);
      this.flushTimer.unref();
    } else {
      this.zeroAheadIfDue();
    }
  }

  /**
   * SYNC_FLUSH: keeps up to ZERO_AHEAD_BYTES of the active segment past the log's end filled
   * with zeros and fdatasync'ed, ZERO_CHUNK_BYTES at a time in the thread pool. A group commit's
   * fdatasync over such blocks writes data only; over blocks the file does not have yet it must
   * also commit their allocation and the file size to the journal, which halves the syncs a
   * second the disk does. Data is never written where zeros are being written: a batch that
   * reaches them waits for that write (see writeBatch). Zeros past the end read as the end of
   * the log at recovery; a clean stop cuts them off.
   */
  private zeroAheadIfDue(): void {
    if (this.zeroAheadOff || this.zeroing !== undefined || !this.writable) return;
    const file = this.files.lastFile;
    if (!file || file.destroyed) return;
    const fileEnd = file.fileFromOffset + this.opts.fileSize;
    const from = Math.max(this.zeroedTo, this.reserveOffset, file.fileFromOffset);
    if (from >= fileEnd || from - this.reserveOffset >= ZERO_AHEAD_BYTES) return;
    const to = Math.min(fileEnd, from + ZERO_CHUNK_BYTES);
    let finish!: () => void;
    const z: ZeroFill = { from, written: false, done: new Promise((resolve) => { finish = resolve; }) };
    this.zeroing = z;
    const end = (err: Error | null): void => {
      this.zeroing = undefined;
      if (err) {
        this.zeroAheadOff = true;
        this.opts.logger.warn(`writing zeros ahead of the CommitLog failed: ${err.message}; group commits go on without them (check the disk)`);
      } else {
        this.zeroedTo = to;
      }
      finish();
      if (!err) this.zeroAheadIfDue();
    };
    file.writeZeros(from - file.fileFromOffset, to - from, (err) => {
      z.written = true;
      if (this.waitingForZeros) {
        this.waitingForZeros = false;
        this.writeBatch();
      }
      if (err) return end(err);
      file.datasync(end, ZERO_LANE);
    });
  }

  private asyncFlush(): void {
    if (this.asyncFlushing || this.flushedOffset >= this.writtenOffset) return;
    const target = this.writtenOffset;
    const f = this.files.findFileByOffset(Math.max(target - 1, 0));
    if (!f) return;
    this.asyncFlushing = true;
    f.datasync((err) => {
      this.asyncFlushing = false;
      if (err) {
        this.opts.logger.error(`CommitLog flush failed: ${err.message}; check the disk`);
        return;
      }
      if (target > this.flushedOffset) this.flushedOffset = target;
      this.opts.onFlushed?.(this.flushedOffset);
    });
  }

  /**
   * Reserves `size` bytes, lets `fill` encode the record at its final offset, and resolves once
   * the record is written (and, under SYNC_FLUSH with `waitFlush`, fdatasync'ed).
   */
  append(size: number, fill: (buf: Buffer, pos: number, phyOffset: number, storeTimestamp: number) => DispatchRequest, waitFlush: boolean): Promise<AppendResult> {
    const bad = this.checkSize(size);
    if (bad !== undefined) return bad;
    const page = this.reserve(size);
    const now = Date.now();
    this.pendingDispatch.push(fill(page.buf, page.used, this.reserveOffset, now));
    return this.commit(page, size, waitFlush, now);
  }

  /**
   * A batch: reserves `size` bytes for consecutive records in one segment, lets `fill` encode
   * them all and push their dispatch requests to `dispatches`, and resolves once, when the
   * whole batch is written (and synced as for append).
   */
  appendBatch(size: number, fill: (buf: Buffer, pos: number, phyOffset: number, storeTimestamp: number, dispatches: DispatchRequest[]) => void, waitFlush: boolean): Promise<AppendResult> {
    const bad = this.checkSize(size);
    if (bad !== undefined) return bad;
    const page = this.reserve(size);
    const now = Date.now();
    fill(page.buf, page.used, this.reserveOffset, now, this.pendingDispatch);
    return this.commit(page, size, waitFlush, now);
  }

  /**
   * A slave's append (upstream `CommitLog.appendData`): `data` are the master's log bytes from
   * `phyOffset` on, written verbatim at the same offset, whole records or not (a frame may end
   * inside a record; the next one continues it). They must continue the log exactly, or start an
   * empty log at a segment boundary (the master starts a new slave at its last segment). They
   * never cross a segment end: the master cuts its frames there. Written on this thread (frames
   * are at most haTransferBatchSize); flushed as the flush mode says: under ASYNC_FLUSH by the
   * periodic flush, under SYNC_FLUSH right away, in the background (the master does not wait
   * for a slave's disk, only for its ack of the bytes).
   * Returns a reason when the bytes cannot be taken.
   */
  appendRaw(phyOffset: number, data: Buffer): string | undefined {
    if (!this.writable) return 'the CommitLog is read-only after a write error';
    if (this.pending.length > 0 || this.writing) return 'the CommitLog has appends of its own in flight';
    const fileSize = this.opts.fileSize;
    if (phyOffset !== this.reserveOffset) {
      if (this.files.files.length > 0 || this.reserveOffset !== 0 || phyOffset % fileSize !== 0) {
        return `data at offset ${phyOffset} does not continue the log, which ends at ${this.reserveOffset}`;
      }
      this.setEnd(phyOffset);
    }
    if (data.length === 0) return undefined;
    const posInFile = phyOffset % fileSize;
    if (posInFile + data.length > fileSize) return `${data.length} bytes at offset ${phyOffset} cross the end of a ${fileSize}-byte segment`;
    const file = this.currentFile();
    file.writeAtSync([data], posInFile);
    file.wrotePosition = Math.max(file.wrotePosition, posInFile + data.length);
    this.reserveOffset += data.length;
    this.writtenOffset = this.reserveOffset;
    if (this.opts.syncFlush) this.asyncFlush();
    return undefined;
  }

  private checkSize(size: number): Promise<AppendResult> | undefined {
    if (!this.writable) return Promise.resolve({ status: 'SERVICE_NOT_AVAILABLE' });
    if (size + END_FILE_MIN_BLANK_LENGTH > this.opts.fileSize) return Promise.resolve({ status: 'MESSAGE_ILLEGAL' });
    return undefined;
  }

  /**
   * Makes room for `size` bytes at the log's end (`reserveOffset`), in the current segment or,
   * after its blank end, the next; returns the page to encode them into at `page.used`.
   */
  private reserve(size: number): Page {
    const file = this.currentFile();
    const posInFile = this.reserveOffset - file.fileFromOffset;
    if (size + END_FILE_MIN_BLANK_LENGTH > this.opts.fileSize - posInFile) {
      this.writeBlank(file, posInFile);
      this.currentFile(); // the next segment, before a page is taken for it
    }
    return this.pageFor(size);
  }

  /** Queues the reserved (and now encoded) bytes for the next write; resolves when they are written. */
  private commit(page: Page, size: number, waitFlush: boolean, at: number): Promise<AppendResult> {
    const file = this.currentFile();
    this.addSegment(file, this.reserveOffset - file.fileFromOffset, page, size);
    this.reserveOffset += size;
    return new Promise((resolve) => {
      this.pendingAcks.push({ resolve, needFlush: this.opts.syncFlush && waitFlush, done: false, at });
      this.schedule();
    });
  }

  private currentFile(): MappedFile {
    const last = this.files.lastFile;
    if (last && this.reserveOffset < last.fileFromOffset + this.opts.fileSize && this.reserveOffset >= last.fileFromOffset) return last;
    const f = this.files.createFile(this.reserveOffset);
    this.curPage = undefined; // pages never span files
    return f;
  }

  /** End of segment: `int bytesLeft, int BLANK_MAGIC`, then the log moves to the next file. */
  private writeBlank(file: MappedFile, posInFile: number): void {
    const left = this.opts.fileSize - posInFile;
    const page = this.pageFor(END_FILE_MIN_BLANK_LENGTH);
    page.buf.writeInt32BE(left, page.used);
    page.buf.writeInt32BE(BLANK_MAGIC_CODE, page.used + 4);
    this.addSegment(file, posInFile, page, END_FILE_MIN_BLANK_LENGTH);
    this.reserveOffset = file.fileFromOffset + this.opts.fileSize;
    // Give the finished segment its full size now, before the next one can receive data, so a
    // crash never leaves a short segment in the middle of the log. Bytes not yet written read as
    // zeros, which recovery treats as the end of the log.
    file.setLength(this.opts.fileSize);
    this.curPage = undefined;
  }

  private pageFor(size: number): Page {
    const cur = this.curPage;
    if (cur && cur.used + size <= cur.buf.length && cur.phyStart + cur.used === this.reserveOffset) return cur;
    const buf = (size <= PAGE_SIZE ? this.freePages.pop() : undefined) ?? Buffer.allocUnsafeSlow(Math.max(PAGE_SIZE, size));
    const page: Page = { buf, phyStart: this.reserveOffset, used: 0, lent: false };
    this.pages.push(page);
    this.curPage = page;
    this.cachedBytes += page.buf.length;
    this.evictPages();
    return page;
  }

  private evictPages(): void {
    while (this.cachedBytes > this.opts.hotTailCacheBytes && this.pages.length > 2) {
      const oldest = this.pages[0]!;
      if (oldest.phyStart + oldest.used > this.writtenOffset) break; // still to be written
      this.pages.shift();
      this.cachedBytes -= oldest.buf.length;
      if (!oldest.lent && oldest.buf.length === PAGE_SIZE && this.freePages.length < FREE_PAGES_KEPT) this.freePages.push(oldest.buf);
    }
  }

  private addSegment(file: MappedFile, filePos: number, page: Page, size: number): void {
    const last = this.pending[this.pending.length - 1];
    if (last && last.page === page && last.file === file && last.end === page.used) {
      last.end += size;
    } else {
      this.pending.push({ file, filePos, page, start: page.used, end: page.used + size });
    }
    page.used += size;
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writeBatch();
    });
  }

  private writeBatch(): void {
    if (this.writing || this.pending.length === 0) {
      if (this.isIdle()) this.notifyIdle();
      return;
    }
    const needSync = this.pendingAcks.some((a) => a.needFlush);
    // fdatasyncs overlap on the device (measured over written zeros, 75 KiB each: 1 in flight
    // 5.7k syncs/s, 2 7.1-7.9k, 3 9.1-9.7k, 4 10.2k; p99 0.23 / 0.4 / 0.7 / 0.8 ms): with
    // SYNC_LANES in flight, the next batch waits for a descriptor to free up.
    if (needSync && !this.laneBusy.includes(false)) return;
    const z = this.zeroing;
    if (z !== undefined && !z.written && this.reserveOffset > z.from) {
      this.waitingForZeros = true;
      return;
    }
    this.writing = true;
    const segments = this.pending;
    const batch: Batch = { acks: this.pendingAcks, dispatches: this.pendingDispatch, end: this.reserveOffset, durable: !needSync };
    this.pending = [];
    this.pendingAcks = [];
    this.pendingDispatch = [];

    const written = (err: Error | null): void => {
      this.writing = false;
      if (err) return this.failBatch(err, batch);
      for (const s of segments) s.file.wrotePosition = Math.max(s.file.wrotePosition, s.filePos + (s.end - s.start));
      this.writtenOffset = batch.end;
      // Batches complete in log order: dispatch order is queue order.
      this.written.push(batch);
      if (needSync) this.syncBatch(batch, segments);
      this.completeInOrder();
      if (this.pending.length > 0) this.writeBatch();
      this.zeroAheadIfDue();
    };
    // Batches up to 1 MiB are written on this thread: a thread-pool round trip (request
    // object, wake-up of a pool thread, completion through the loop) costs more than copying
    // that much to the page cache, both in latency (one send in flight: p50 0.21 → 0.19 ms,
    // p99 0.49 → 0.37 ms) and in CPU under load. Only a backlog of more goes to the pool, so
    // the loop is never blocked long.
    if (batch.end - segments[0]!.page.phyStart - segments[0]!.start <= SYNC_WRITE_MAX_BYTES) {
      let err: Error | null = null;
      try {
        this.writeSegmentsSync(segments);
      } catch (e) {
        err = e as Error;
      }
      written(err);
    } else {
      this.writeSegments(segments, 0, written);
    }
  }

  /**
   * Group commit: one fdatasync per touched file for the whole batch, through a descriptor no
   * other sync in flight uses. A batch completes on its own sync only: a later sync returning
   * first proves nothing about a writeback error the earlier one may be about to report.
   */
  private syncBatch(batch: Batch, segments: Segment[]): void {
    const touched = [...new Set(segments.map((s) => s.file))];
    // Senders whose flush misses syncFlushTimeout get FLUSH_DISK_TIMEOUT: at the deadline while
    // the fdatasync still runs, or when it returns having taken at least that long. The message
    // is stored either way (upstream's meaning of the code).
    const limit = this.opts.syncFlushTimeoutMs;
    const started = performance.now();
    let late = false;
    const timeoutAcks = (): void => {
      late = true;
      for (const a of batch.acks) if (!a.done && a.needFlush) { a.done = true; a.resolve({ status: 'FLUSH_DISK_TIMEOUT' }); }
    };
    const timer = setTimeout(timeoutAcks, limit);
    const lane = this.laneBusy.indexOf(false);
    this.laneBusy[lane] = true;
    this.syncFiles(touched, 0, lane, (serr) => {
      clearTimeout(timer);
      this.laneBusy[lane] = false;
      if (serr) return this.failBatch(serr, batch);
      if (batch.end > this.flushedOffset) this.flushedOffset = batch.end;
      this.opts.onFlushed?.(this.flushedOffset);
      if (!late && performance.now() - started >= limit) timeoutAcks();
      if (late) this.opts.logger.warn(`CommitLog fdatasync took ${Math.round(performance.now() - started)} ms, reaching syncFlushTimeout ${limit} ms; senders got FLUSH_DISK_TIMEOUT`);
      batch.durable = true;
      this.completeInOrder();
      this.writeBatch();
    });
  }

  private writeSegmentsSync(segs: Segment[]): void {
    for (let i = 0; i < segs.length;) {
      const run = runAt(segs, i);
      run.file.writeAtSync(run.bufs, run.filePos);
      i = run.next;
    }
  }

  private writeSegments(segs: Segment[], i: number, cb: (err: Error | null) => void): void {
    if (i >= segs.length) return cb(null);
    const run = runAt(segs, i);
    run.file.writeAt(run.bufs, run.filePos, (err) => (err ? cb(err) : this.writeSegments(segs, run.next, cb)));
  }

  private syncFiles(files: MappedFile[], i: number, lane: number, cb: (err: Error | null) => void): void {
    if (i >= files.length) return cb(null);
    files[i]!.datasync((err) => (err ? cb(err) : this.syncFiles(files, i + 1, lane, cb)), lane);
  }

  /** Dispatches and acknowledges the written batches that are durable as asked, oldest first. */
  private completeInOrder(): void {
    const q = this.written;
    let n = 0;
    while (n < q.length && q[n]!.durable) n++;
    if (n === 0) return;
    const done = q.splice(0, n);
    const latency = this.opts.putLatency;
    const now = latency ? Date.now() : 0;
    for (const b of done) {
      try {
        this.opts.onDispatch(b.dispatches);
      } catch (err) {
        this.opts.logger.error({ err }, 'dispatch failed');
      }
      for (const a of b.acks) {
        if (a.done) continue;
        a.done = true;
        latency?.recordPutLatency(now - a.at);
        a.resolve({ status: 'PUT_OK' });
      }
    }
    this.evictPages();
    if (this.isIdle()) this.notifyIdle();
  }

  private failBatch(err: Error, batch: Batch): void {
    // The log can no longer be trusted to be contiguous: refuse further writes, as upstream
    // does when the disk is full or failing. Recovery at the next start cuts the tail.
    if (this.writable) this.opts.logger.error(`CommitLog write failed, the store is now read-only: ${err.message}; free disk space or fix the disk, then restart the broker`);
    this.writable = false;
    // No batch still waiting is acknowledged, before or after this one: the error may concern
    // the pages of any of them.
    const failed = [batch, ...this.written.splice(0)];
    for (const a of [...failed.flatMap((b) => b.acks), ...this.pendingAcks]) if (!a.done) { a.done = true; a.resolve({ status: 'SERVICE_NOT_AVAILABLE' }); }
    this.pendingAcks = [];
    this.pending = [];
    this.pendingDispatch = [];
    if (this.isIdle()) this.notifyIdle();
  }

  private isIdle(): boolean {
    return !this.writing && this.written.length === 0 && this.pending.length === 0 && !this.scheduled;
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when every appended record has been written (and its acks sent). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Reads several records. Those in the write pages are sliced; the others are read from the
   * files, records lying close together (a queue's messages interleave with few others) in one
   * read. Records at or past `syncFrom` are taken to be in the page cache (upstream's
   * accessMessageInMemoryMaxRatio) and read on this thread: a thread-pool hop per pull costs
   * more in context switches than the copy itself.
   */
  async readRecords(entries: Array<{ phy: number; size: number }>, syncFrom = Infinity, arena?: ReadArena): Promise<Array<Buffer | undefined>> {
    const out: Array<Buffer | undefined> = new Array(entries.length);
    const onDisk: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const { phy, size } = entries[i]!;
      const cached = this.fromPages(phy, size);
      if (cached) out[i] = cached;
      else onDisk.push(i);
    }
    const reads: Array<Promise<void>> = [];
    let g = 0;
    while (g < onDisk.length) {
      const first = entries[onDisk[g]!]!;
      const file = this.files.findFileByOffset(first.phy);
      const sync = first.phy >= syncFrom;
      let end = first.phy + first.size;
      let h = g + 1;
      while (h < onDisk.length) {
        const e = entries[onDisk[h]!]!;
        if (e.phy < end || e.phy - first.phy + e.size > COALESCE_READ_SPAN || this.files.findFileByOffset(e.phy) !== file) break;
        end = e.phy + e.size;
        h++;
      }
      const group = onDisk.slice(g, h);
      g = h;
      if (!file || end > this.writtenOffset) continue;
      const start = first.phy;
      if (sync) {
        this.readGroupSync(file, start, end, group, entries, out, arena);
      } else {
        reads.push(file.readAsync(start - file.fileFromOffset, end - start).then((buf) => {
          for (const i of group) {
            const e = entries[i]!;
            const at = e.phy - start;
            if (at + e.size <= buf.length) out[i] = buf.subarray(at, at + e.size);
          }
        }));
      }
    }
    if (reads.length > 0) await Promise.all(reads);
    return out;
  }

  /**
   * Reads the records of `group`, lying in [start, end) of `file`, into one buffer holding just
   * them. Records interleaved with other queues' come through the read window: a drain of 8
   * queues pulls the same stretch of the log 8 times, once per queue, so one read of a MiB
   * serves the pulls of every queue there instead of each reading the whole stretch again.
   */
  private readGroupSync(file: MappedFile, start: number, end: number, group: number[], entries: Array<{ phy: number; size: number }>, out: Array<Buffer | undefined>, arena: ReadArena | undefined): void {
    let total = 0;
    for (const i of group) total += entries[i]!.size;
    let dst: Buffer;
    if (arena !== undefined && arena.used + total <= arena.buf.length) {
      dst = arena.buf.subarray(arena.used, arena.used + total);
      arena.used += total;
    } else {
      dst = Buffer.allocUnsafe(total);
    }
    const pos = start - file.fileFromOffset;
    const win = this.readWindow;
    const inWindow = win.file === file && pos >= win.pos && pos + (end - start) <= win.pos + win.len;
    let n = 0;
    if (!inWindow && total === end - start) {
      // One queue's records back to back: straight into their buffer.
      n = file.readSyncInto(dst, 0, pos, total);
    } else {
      if (!inWindow) this.fillReadWindow(file, pos, end - start);
      // Records ascend in the log: copied until the first one the window does not hold whole.
      for (const i of group) {
        const e = entries[i]!;
        const at = e.phy - file.fileFromOffset - win.pos;
        if (at + e.size > win.len) break;
        n += win.buf.copy(dst, n, at, at + e.size);
      }
    }
    let w = 0;
    for (const i of group) {
      const size = entries[i]!.size;
      if (w + size <= n) out[i] = dst.subarray(w, w + size);
      w += size;
    }
  }

  /**
   * Loads the read window with `file`'s bytes from a little before `pos`, at least `len` of them
   * and up to READ_WINDOW_BYTES, never past the written end of the log: bytes below it never
   * change, so the window stays true until it moves (the log is only cut at recovery).
   */
  private fillReadWindow(file: MappedFile, pos: number, len: number): void {
    const win = this.readWindow;
    const from = Math.max(0, pos - READ_WINDOW_BEHIND);
    const written = this.writtenOffset - file.fileFromOffset;
    const want = Math.min(Math.max(READ_WINDOW_BYTES, pos + len - from), written - from);
    if (win.buf.length < want) win.buf = Buffer.allocUnsafe(Math.max(want, READ_WINDOW_BYTES));
    win.file = file;
    win.pos = from;
    win.len = 0; // nothing valid should the read throw
    win.len = file.readSyncInto(win.buf, 0, from, want);
  }

  /**
   * A buffer that readRecords fills instead of allocating (records read on this thread), for a
   * reader that knows when it is done with them: a drain otherwise allocates 30-40 KiB of
   * external memory per pull, and V8 runs full collections as that grows. Give it back with
   * giveBackReadArena once nothing refers to its bytes any more.
   */
  takeReadArena(): ReadArena {
    const a = this.arenas.pop();
    if (a !== undefined) {
      a.used = 0;
      return a;
    }
    return { buf: Buffer.allocUnsafeSlow(READ_ARENA_BYTES), used: 0 };
  }

  giveBackReadArena(a: ReadArena): void {
    if (this.arenas.length < READ_ARENAS_KEPT) this.arenas.push(a);
  }

  /** The bytes at [offset, offset + size), synchronously: for small administrative reads. */
  getDataSync(offset: number, size: number): Buffer | undefined {
    const cached = this.fromPages(offset, size);
    if (cached) return cached;
    if (offset + size > this.writtenOffset) return undefined;
    const f = this.files.findFileByOffset(offset);
    if (!f) return undefined;
    const b = f.readSync(offset - f.fileFromOffset, size);
    return b.length === size ? b : undefined;
  }

  private fromPages(offset: number, size: number): Buffer | undefined {
    const page = this.findPage(offset);
    if (!page || offset + size > page.phyStart + page.used) return undefined;
    const at = offset - page.phyStart;
    page.lent = true;
    return page.buf.subarray(at, at + size);
  }

  private findPage(offset: number): Page | undefined {
    const pages = this.pages;
    let lo = 0;
    let hi = pages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = pages[mid]!;
      if (offset < p.phyStart) hi = mid - 1;
      else if (offset >= p.phyStart + p.used) lo = mid + 1;
      else return p;
    }
    return undefined;
  }

  /**
   * Retention: deletes the oldest segments whose last modification `deletable` accepts (never
   * the segment being written) and forgets cached pages below the new minimum.
   */
  deleteExpiredFiles(deletable: (lastModified: number) => boolean, max: number): number {
    const deleted = this.files.deleteOldestFiles((f) => f.fileFromOffset + this.opts.fileSize <= this.writtenOffset && deletable(f.lastModified()), max, READ_GRACE_MS);
    if (deleted.length > 0) {
      const min = this.minOffset;
      this.pages = this.pages.filter((p) => p.phyStart + p.used > min);
      this.cachedBytes = this.pages.reduce((a, p) => a + p.buf.length, 0);
    }
    return deleted.length;
  }

  /** Flushes everything synchronously (shutdown). */
  async shutdown(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.whenIdle();
    this.zeroAheadOff = true;
    await this.zeroing?.done;
    const last = this.files.lastFile;
    // The zeros written ahead go: the next start finds the log ending where its data does.
    if (last && this.writable && this.opts.syncFlush && last.wrotePosition < this.opts.fileSize) last.setLength(last.wrotePosition);
    if (last && this.writable) {
      last.datasyncSync();
      this.flushedOffset = this.writtenOffset;
    }
    this.files.close();
  }
}

/** The segments from `i` on that lie at consecutive positions of one file: one writev. */
function runAt(segs: Segment[], i: number): { file: MappedFile; filePos: number; bufs: Buffer[]; next: number } {
  const first = segs[i]!;
  const bufs = [first.page.buf.subarray(first.start, first.end)];
  let pos = first.filePos + (first.end - first.start);
  let j = i + 1;
  while (j < segs.length && segs[j]!.file === first.file && segs[j]!.filePos === pos) {
    const s = segs[j]!;
    bufs.push(s.page.buf.subarray(s.start, s.end));
    pos += s.end - s.start;
    j++;
  }
  return { file: first.file, filePos: first.filePos, bufs, next: j };
}
