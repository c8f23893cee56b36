import { mkdirSync, readdirSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MappedFile } from './mapped-file.js';
import { splitStorePaths } from '../common/config.js';

/**
 * The ordered segments of one log directory (upstream `MappedFileQueue`): each file holds
 * `fileSize` bytes starting at its name's offset, and offset `o` lives in file
 * `o - o % fileSize` at position `o % fileSize`.
 */
export class MappedFileQueue {
  readonly files: MappedFile[] = [];

  /**
   * The directories segments live in: `dir` itself, or with `multiPath` the `,`-separated list it
   * holds (upstream `MultiPathMappedFileQueue`, a CommitLog whose storePathCommitLog names several).
   */
  readonly dirs: readonly string[];
  /**
   * Directories whose disk is over diskSpaceCleanForciblyRatio (set by the clean service, upstream
   * `setFullStorePaths`): new segments go to the others while one has room.
   */
  fullDirs: ReadonlySet<string> = new Set();
  /**
   * More directories of a multi-path queue whose segments are loaded but where none is created
   * (upstream readOnlyCommitLogStorePaths). Set before load().
   */
  readOnlyDirs: readonly string[] = [];

  /** Whether a short segment before the last one may be extended instead of refusing to start. */
  constructor(readonly dir: string, readonly fileSize: number, private readonly repairShortSegments = false, private readonly multiPath = false) {
    this.dirs = multiPath ? splitStorePaths(dir) : [dir];
  }

  /**
   * Loads existing segments. Every segment but the last must have the full size: a shorter
   * one means files are missing or were cut, and start-up stops rather than guessing.
   */
  load(): void {
    // Segment name -> its directory; with several directories, the segments of all, in offset order.
    const where = new Map<string, string>();
    const all = this.multiPath ? [...new Set([...this.dirs, ...this.readOnlyDirs])] : this.dirs;
    for (const dir of all) {
      let found: string[];
      try {
        found = readdirSync(dir).filter((n) => /^\d{20}$/.test(n));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      for (const n of found) {
        const other = where.get(n);
        if (other !== undefined) throw new Error(`segment ${n} is both in ${other} and in ${dir}; remove the stale copy`);
        where.set(n, dir);
      }
    }
    const names = [...where.keys()].sort();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const dir = where.get(name)!;
      const size = statSync(join(dir, name)).size;
      const start = Number(name);
      const last = i === names.length - 1;
      if (!last && size !== this.fileSize) {
        if (size < this.fileSize && this.repairShortSegments) {
          // A crash between filling a segment and extending it (stores written before that was
          // done at rollover): its records are whole, the rest of the segment is unused.
          truncateSync(join(dir, name), this.fileSize);
        } else {
          throw new Error(`${join(dir, name)} has ${size} bytes but the segment size is ${this.fileSize}; ` +
            'check mappedFileSize* in broker.conf matches the size the store was written with');
        }
      }
      if (last && size === 0 && names.length > 1) {
        // An empty last segment carries nothing (upstream deletes it too).
        unlinkSync(join(dir, name));
        continue;
      }
      if (start % this.fileSize !== 0) {
        throw new Error(`${join(dir, name)}: start offset is not a multiple of the segment size ${this.fileSize}`);
      }
      this.files.push(new MappedFile(dir, start, this.fileSize, Math.min(size, this.fileSize)));
    }
  }

  get lastFile(): MappedFile | undefined {
    return this.files[this.files.length - 1];
  }

  get firstFile(): MappedFile | undefined {
    return this.files[0];
  }

  /** Global offset just past the last byte written. */
  get maxOffset(): number {
    const last = this.lastFile;
    return last ? last.fileFromOffset + last.wrotePosition : 0;
  }

  get minOffset(): number {
    return this.files[0]?.fileFromOffset ?? 0;
  }

  /** Creates the segment starting at `startOffset` (rounded down to the segment size). */
  createFile(startOffset: number): MappedFile {
    const from = startOffset - (startOffset % this.fileSize);
    const dir = this.dirFor(from);
    mkdirSync(dir, { recursive: true });
    const f = new MappedFile(dir, from, this.fileSize, 0);
    f.setLength(0);
    this.files.push(f);
    return f;
  }

  /**
   * Where the segment starting at `from` goes: with several directories, as upstream's
   * tryCreateMappedFile, round robin by segment index over the sorted ones not over the forcible
   * ratio nor read-only (all writable ones when none has room).
   */
  private dirFor(from: number): string {
    if (!this.multiPath) return this.dirs[0]!;
    let writable = this.dirs.filter((d) => !this.readOnlyDirs.includes(d));
    if (writable.length === 0) writable = [...this.dirs];
    const open = writable.filter((d) => !this.fullDirs.has(d));
    const paths = [...(open.length > 0 ? open : writable)].sort();
    return paths[Math.floor(from / this.fileSize) % paths.length]!;
  }

  findFileByOffset(offset: number): MappedFile | undefined {
    const first = this.files[0];
    if (!first || offset < first.fileFromOffset) return undefined;
    const idx = Math.floor((offset - first.fileFromOffset) / this.fileSize);
    const f = this.files[idx];
    if (f && offset >= f.fileFromOffset && offset < f.fileFromOffset + this.fileSize) return f;
    // Holes can exist after manual deletion; fall back to a search.
    return this.files.find((x) => offset >= x.fileFromOffset && offset < x.fileFromOffset + this.fileSize);
  }

  /** Drops everything at and after `offset`: later files are deleted, the file holding it is cut. */
  truncateDirtyFiles(offset: number): void {
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      if (f.fileFromOffset >= offset && !(f.fileFromOffset === offset && i === 0)) {
        f.close();
        unlinkSync(f.path);
        this.files.splice(i, 1);
      } else if (f.fileFromOffset + f.wrotePosition > offset) {
        const len = offset - f.fileFromOffset;
        f.setLength(len);
        f.wrotePosition = len;
      }
    }
  }

  /**
   * Retention: deletes the oldest segments (never the last one) that `deletable` accepts,
   * stopping at the first it refuses so the log has no holes; at most `max` per call.
   */
  deleteOldestFiles(deletable: (f: MappedFile) => boolean, max: number, graceMs: number): MappedFile[] {
    const out: MappedFile[] = [];
    while (out.length < max && this.files.length > 1 && deletable(this.files[0]!)) {
      const f = this.files.shift()!;
      f.destroy(graceMs);
      out.push(f);
    }
    return out;
  }

  destroy(): void {
    // Writes and syncs of the queue may still be in the thread pool: their descriptors close after them.
    for (const f of this.files) f.destroy(0);
    this.files.length = 0;
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

