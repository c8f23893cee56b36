import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, read, readSync, statSync, unlinkSync, writev, writevSync } from 'node:fs';
import { join } from 'node:path';
import { PoolOps } from './pool-ops.js';

/** Source of writeZeros: one shared MiB, never written to. */
const ZEROS = Buffer.alloc(1024 * 1024);

/** File names are the 20-digit zero-padded start offset (upstream `UtilAll.offset2FileName`). */
export function offset2FileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

/**
 * One segment of a CommitLog or ConsumeQueue: a file of at most `fileSize` bytes whose first
 * byte has global offset `fileFromOffset`. Upstream maps these files into memory; here they are
 * plain file descriptors written with positional writev and read with positional reads, so the
 * process maps nothing and memory stays bounded whatever the backlog. The active segment grows
 * as it is written (under SYNC_FLUSH with zeros written a little ahead of the data, see
 * CommitLog.zeroAheadIfDue); a finished one is extended to its full size, as upstream's are.
 */
export class MappedFile {
  readonly path: string;
  private fd = -1;
  /** More descriptors of the file, one per further fdatasync in flight (see datasync): lane n uses extraFds[n - 1], opened on first use. */
  private extraFds: Array<number | undefined> = [];
  /** Bytes handed to the kernel from the start of the file. */
  wrotePosition: number;
  /** Writes, syncs and reads handed to the thread pool: a deleted file's descriptors close after them (see destroy). */
  private readonly pool = new PoolOps();

  constructor(dir: string, readonly fileFromOffset: number, readonly fileSize: number, length = 0) {
    this.path = join(dir, offset2FileName(fileFromOffset));
    this.wrotePosition = length;
  }

  /** Last modification time of the file (ms), what retention compares with fileReservedTime. */
  lastModified(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return 0;
    }
  }

  private handle(): number {
    if (this.destroyed) throw new Error(`${this.path} was deleted (by retention, or with its topic)`);
    if (this.fd < 0) {
      try {
        this.fd = openSync(this.path, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // 'wx+' creates; positional writes need a mode without O_APPEND.
        this.fd = openSync(this.path, 'wx+');
      }
    }
    return this.fd;
  }

  get fileEndOffset(): number {
    return this.fileFromOffset + this.fileSize;
  }

  /** Positional gather-write; fails when not every byte was written (disk full). */
  writeAt(buffers: Buffer[], position: number, cb: (err: Error | null) => void): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    writev(this.handle(), buffers, position, this.pool.wrap((err, written) => {
      if (err) return cb(err);
      if (written !== total) return cb(new Error(`short write to ${this.path}: ${written} of ${total} bytes; is the disk full?`));
      cb(null);
    }));
  }

  /** The same write on the calling thread: for a few KiB a thread-pool round trip costs more than the copy. */
  writeAtSync(buffers: Buffer[], position: number): void {
    let total = 0;
    for (const b of buffers) total += b.length;
    const written = writevSync(this.handle(), buffers, position);
    if (written !== total) throw new Error(`short write to ${this.path}: ${written} of ${total} bytes; is the disk full?`);
  }

  /**
   * Writes `length` zero bytes at `position`, in the thread pool. Blocks that hold written zeros
   * are allocated and initialized on disk once synced, so a later fdatasync of data written over
   * them has no metadata to commit (measured: 7.1k syncs/s against 3.9k appending).
   */
  writeZeros(position: number, length: number, cb: (err: Error | null) => void): void {
    const bufs: Buffer[] = [];
    for (let left = length; left > 0; left -= ZEROS.length) bufs.push(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
    this.writeAt(bufs, position, cb);
  }

  /**
   * fdatasync through the descriptor of `lane` (0 is the file's own, each other lane opens one
   * of its own). Syncs that overlap each take their own descriptor: the kernel reports a
   * writeback error once per open file description, so two syncs sharing one could see a
   * failure reported to the other and succeed.
   */
  datasync(cb: (err: Error | null) => void, lane = 0): void {
    let fd: number;
    try {
      fd = lane === 0 ? this.handle() : this.extraHandle(lane);
    } catch (err) {
      return cb(err as Error);
    }
    fdatasync(fd, this.pool.wrap(cb));
  }

  private extraHandle(lane: number): number {
    this.handle(); // creates the file if needed
    let fd = this.extraFds[lane - 1];
    if (fd === undefined) {
      fd = openSync(this.path, 'r+');
      this.extraFds[lane - 1] = fd;
    }
    return fd;
  }

  datasyncSync(): void {
    if (this.fd >= 0) fdatasyncSync(this.fd);
  }

  /** Reads up to `length` bytes; the result is shorter at the end of the file. */
  readSync(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const done = this.readSyncInto(buf, 0, position, length);
    return done === length ? buf : buf.subarray(0, done);
  }

  /**
   * Reads up to `length` bytes into `buf` at `offset`; returns how many were read (fewer only at
   * the end of the file). Recovery reuses one buffer for every chunk: a fresh multi-MiB buffer
   * per chunk costs more in page faults than the copy out of the page cache itself.
   */
  readSyncInto(buf: Buffer, offset: number, position: number, length: number): number {
    let done = 0;
    while (done < length) {
      const n = readSync(this.handle(), buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  readAsync(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => {
      read(this.handle(), buf, 0, length, position, this.pool.wrap((err, n) => {
        if (err) reject(err);
        else resolve(n === length ? buf : buf.subarray(0, n));
      }));
    });
  }

  /** Sets the file length (truncating or extending with zeros). */
  setLength(length: number): void {
    ftruncateSync(this.handle(), length);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    for (const fd of this.extraFds) if (fd !== undefined) closeSync(fd);
    this.extraFds = [];
  }

  /**
   * Deletes the file. Its descriptors stay open for `graceMs`, and after that until the thread
   * pool has called back every write, sync and read handed to it, so that these finish on the
   * unlinked file instead of on a reused descriptor number (upstream keeps a reference count and
   * destroys after a delay for the same reason). Reads that a reader started on the descriptor
   * itself are covered by the grace alone.
   */
  destroy(graceMs: number): void {
    try { unlinkSync(this.path); } catch { /* already gone */ }
    // Lanes open their descriptors as they are first used: the array can have holes.
    const fds = [this.fd, ...this.extraFds].filter((fd): fd is number => fd !== undefined && fd >= 0);
    this.fd = -1;
    this.extraFds = [];
    this.destroyed = true;
    if (fds.length === 0) return;
    const afterGrace = (): void => this.pool.whenIdle(() => { for (const fd of fds) closeSync(fd); });
    if (graceMs > 0) setTimeout(afterGrace, graceMs).unref();
    else afterGrace();
  }

  /** Set once the file is deleted: no new reads or writes. */
  destroyed = false;
}
