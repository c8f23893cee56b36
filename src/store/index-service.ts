import { existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { MessageConst, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from '../common/message-const.js';
import { MessageSysFlag, transactionValue } from '../common/sysflag.js';
import { continueJavaHash, continueJavaHashUtf8 } from '../common/java.js';
import type { DispatchRequest } from './commit-log.js';
import { hashToIndexHash, IndexFile, indexFileSize, SlotTablePool } from './index-file.js';

/** Wait between attempts to create an index file after one failed (a failing disk costs one attempt a second, not one per message). */
const CREATE_RETRY_MS = 1000;

export interface IndexServiceOptions {
  /** The `index/` directory. */
  dir: string;
  hashSlotNum: number;
  indexNum: number;
  /** Upper bound of offsets one query returns (upstream `maxMsgsNumBatch`). */
  maxMsgsNumBatch: number;
  logger: Logger;
  /** A full index file is durable: its end time becomes checkpoint `indexMsgTimestamp`. */
  onFullFileSynced?: (endTimestamp: number) => void;
  /** Clock for file names; tests inject one. */
  now?: () => number;
}

export interface QueryOffsetResult {
  /** CommitLog offsets, newest first as found. */
  phyOffsets: number[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** Entries kept in memory before a flush is started without waiting for the periodic round. */
const MAX_PENDING_ENTRIES = 256 * 1024;
const INDEX_FILE_NAME = /^\d{17}$/;

/** `yyyyMMddHHmmssSSS` in local time (upstream `UtilAll.timeMillisToHumanString`). */
export function indexFileName(ms: number): string {
  const d = new Date(ms);
  const p = (v: number, w = 2): string => String(v).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${p(d.getMilliseconds(), 3)}`;
}

function parseIndexFileName(name: string): number {
  const n = (a: number, b: number): number => Number(name.slice(a, b));
  return new Date(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14), n(14, 17)).getTime();
}

/**
 * The Java hash of `topic#`, the prefix of every key the index stores for `topic`. The store
 * keeps it with each topic and hands it over with each record: with many topics in turn, a
 * cache of the last topic's prefix misses on nearly every record.
 */
export function indexKeyPrefixHash(topic: string): number {
  return (Math.imul(31, continueJavaHash(0, topic, 0, topic.length)) + 35) | 0;
}

/** Java hash of `prefix` continued over `src[from, to)`: string characters, or UTF-8 bytes as the string they decode to. */
function spanHash(prefix: number, src: string | Buffer, from: number, to: number): number {
  return typeof src === 'string' ? continueJavaHash(prefix, src, from, to) : continueJavaHashUtf8(prefix, src, from, to);
}

/** The first ' ' in `src[from, to)`, or `to`. */
function nextSpace(src: string | Buffer, from: number, to: number): number {
  if (typeof src === 'string') {
    const at = src.indexOf(' ', from);
    return at < 0 || at > to ? to : at;
  }
  let at = from;
  while (at < to && src[at] !== 0x20) at++;
  return at;
}

/** A record without a UNIQ_KEY (index hashes are never negative; IndexFile.touchSlots skips both marks). */
const NO_KEY = -1;
/** A record `buildIndexes` does not index at all. */
const NOT_INDEXED = -2;

const UNIQ_NEEDLE = MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX + NAME_VALUE_SEPARATOR;
const KEYS_NEEDLE = MessageConst.KEYS + NAME_VALUE_SEPARATOR;

/**
 * Where the value of the property `needle` (its name and separator) starts in an encoded
 * properties string, -1 when absent: `getProperty` without the slice.
 */
function valueStart(text: string, needle: string): number {
  for (let from = 0; ;) {
    const at = text.indexOf(needle, from);
    if (at < 0) return -1;
    if (at === 0 || text.charCodeAt(at - 1) === 2) return at + needle.length;
    from = at + 1;
  }
}

function valueEnd(text: string, start: number): number {
  const end = text.indexOf(PROPERTY_SEPARATOR, start);
  return end < 0 ? text.length : end;
}

/**
 * The message index (upstream `IndexService`): every dispatched record's `UNIQ_KEY` and `KEYS`
 * tokens go, as `topic#key`, into the newest IndexFile; a full file is flushed, fdatasync'ed
 * and recorded in the checkpoint, and a new one takes over. Queries walk the files newest first.
 */
export class IndexService {
  private readonly files: IndexFile[] = [];
  /** One slot table passes from each sealed file to the next (see SlotTablePool). */
  private readonly tables = new SlotTablePool();
  private readonly opts: IndexServiceOptions;
  private readonly now: () => number;
  /** Full files whose bytes are durable (their end time is in the checkpoint). */
  private readonly synced = new WeakSet<IndexFile>();
  private flushing?: Promise<void>;
  private createFailed = false;
  /** After a failed file creation, no new attempt before this time: not one per message. */
  private retryCreateAt = 0;
  private closed = false;
  /**
   * CommitLog offset of the last record whose keys are indexed, -1 when none: records at or
   * below it are skipped, which makes re-dispatch after a restart idempotent.
   */
  lastIndexedPhyOffset = -1;
  /** The last topic indexed and the Java hash of `topic#`: consecutive records mostly share a topic. */
  private prefixTopic?: string;
  private prefixHash = 0;
  /** The UNIQ_KEY index hash of each record of the batch `buildIndexes` is putting (or NO_KEY, NOT_INDEXED). */
  private uniqHashes = new Int32Array(256);

  constructor(opts: IndexServiceOptions) {
    if (!Number.isInteger(opts.hashSlotNum) || opts.hashSlotNum < 1 || !Number.isInteger(opts.indexNum) || opts.indexNum < 2) {
      throw new Error(`maxHashSlotNum=${opts.hashSlotNum} and maxIndexNum=${opts.indexNum} must be positive integers (maxIndexNum at least 2)`);
    }
    if (indexFileSize(opts.hashSlotNum, opts.indexNum) > 0x7fffffff) {
      throw new Error(`an index file of maxHashSlotNum=${opts.hashSlotNum} and maxIndexNum=${opts.indexNum} would exceed 2 GiB; lower them (defaults 5000000 and 20000000)`);
    }
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Opens the index files, oldest first. After an abnormal exit, files that end later than the
   * checkpoint's `indexMsgTimestamp` (or hold no entry) may be incomplete: they and every later
   * file are destroyed, and the caller re-dispatches the CommitLog from `lastIndexedPhyOffset`.
   */
  load(lastExitOK: boolean, indexMsgTimestamp: number): void {
    const { dir, hashSlotNum, indexNum, logger } = this.opts;
    mkdirSync(dir, { recursive: true });
    const names = readdirSync(dir).filter((n) => INDEX_FILE_NAME.test(n)).sort();
    const expected = indexFileSize(hashSlotNum, indexNum);
    let destroying = false;
    for (const name of names) {
      const path = join(dir, name);
      const size = statSync(path).size;
      if (size === 0) {
        // Created but not yet sized when the process died: it holds nothing.
        unlinkSync(path);
        continue;
      }
      if (size !== expected) {
        logger.warn(`index file ${path} has ${size} bytes, not ${expected}: it was written with other maxHashSlotNum/maxIndexNum settings and is ignored; restore those settings to query it, or delete it`);
        continue;
      }
      const f = IndexFile.open(path, hashSlotNum, indexNum, this.tables);
      // An empty header can hide a first flush torn by the crash: such a file is rebuilt too.
      if (!lastExitOK && (destroying || f.endTimestamp > indexMsgTimestamp || f.indexCount <= 1)) {
        destroying = true;
        logger.info(`index file ${path} may be incomplete (it ends at ${f.endTimestamp}, the last durable index point is ${indexMsgTimestamp}): rebuilding it from the CommitLog`);
        f.destroy();
        continue;
      }
      this.files.push(f);
      if (f.isWriteFull()) this.synced.add(f);
    }
    const last = this.files[this.files.length - 1];
    // A file with entries, or one that inherited the end of a full predecessor, knows where indexing stopped.
    this.lastIndexedPhyOffset = last && (last.indexCount > 1 || last.endTimestamp > 0) ? last.endPhyOffset : -1;
  }

  /**
   * The CommitLog was cut at `phyOffset` (recovery): records written there later reuse those
   * offsets and must be indexed, even if entries of lost records were made durable before.
   */
  truncateDirty(phyOffset: number): void {
    if (this.lastIndexedPhyOffset >= phyOffset) this.lastIndexedPhyOffset = phyOffset - 1;
  }

  /** Index files, oldest first (read-only view for tests and tools). */
  get indexFiles(): readonly IndexFile[] {
    return this.files;
  }

  /**
   * Puts the keys of a batch of dispatched records (upstream `buildIndex` for each). Memory only,
   * except at file rollover. Runs for every message sent, so keys are hashed where they sit in
   * the properties string: no key, token or `topic#key` string is built. The UNIQ_KEY hashes of
   * the whole batch are taken first and their slots read in one tight loop: with many topics
   * each lands on a random page of the 20 MB slot table, a cache and TLB miss that each put used
   * to wait for alone; read back to back, the CPU has many of them in flight at once, and the
   * puts then find their slots cached.
   */
  buildIndexes(reqs: readonly DispatchRequest[]): void {
    const n = reqs.length;
    if (this.uniqHashes.length < n) this.uniqHashes = new Int32Array(Math.max(n, this.uniqHashes.length * 2));
    const hashes = this.uniqHashes;
    for (let i = 0; i < n; i++) {
      const d = reqs[i]!;
      const props = d.properties;
      if (!props || !this.indexes(d)) {
        hashes[i] = NOT_INDEXED;
        continue;
      }
      const at = valueStart(props, UNIQ_NEEDLE);
      hashes[i] = this.uniqHashOf(d, props, at, at < 0 ? -1 : valueEnd(props, at));
    }
    this.files[this.files.length - 1]?.touchSlots(hashes, n);
    for (let i = 0; i < n; i++) {
      const h = hashes[i]!;
      if (h === NOT_INDEXED) continue;
      const d = reqs[i]!;
      const props = d.properties!;
      const keysAt = valueStart(props, KEYS_NEEDLE);
      this.putKeys(d, props, h, keysAt, keysAt < 0 ? -1 : valueEnd(props, keysAt));
    }
  }

  /**
   * `buildIndexes` for a record read back from the CommitLog (recovery), whose properties were
   * not decoded: the values of UNIQ_KEY and KEYS are the byte spans `[uniqAt, uniqEnd)` and
   * `[keysAt, keysEnd)` of `buf` (-1 when absent), hashed as the strings they decode to.
   */
  buildIndexFromBytes(d: DispatchRequest, buf: Buffer, uniqAt: number, uniqEnd: number, keysAt: number, keysEnd: number): void {
    if (this.indexes(d)) this.putKeys(d, buf, this.uniqHashOf(d, buf, uniqAt, uniqEnd), keysAt, keysEnd);
  }

  /** The index hash of UNIQ_KEY value `src[at, end)` as `topic#key` of record `d`, NO_KEY when it is empty or absent. */
  private uniqHashOf(d: DispatchRequest, src: string | Buffer, at: number, end: number): number {
    // An empty value counts as absent, as an empty string would.
    return end > at ? hashToIndexHash(spanHash(this.keyPrefix(d), src, at, end)) : NO_KEY;
  }

  /**
   * Puts the UNIQ_KEY of record `d` by its index hash (NO_KEY: none) and each KEYS token of
   * `src[keysAt, keysEnd)` as `topic#key`; `src` is the properties string, or a record's bytes.
   */
  private putKeys(d: DispatchRequest, src: string | Buffer, uniqHash: number, keysAt: number, keysEnd: number): void {
    if (uniqHash === NO_KEY && keysEnd <= keysAt) return;
    let file = this.writableFile();
    if (!file) return;
    if (uniqHash !== NO_KEY) file = this.put(file, uniqHash, d);
    // Tokens separated by ' ' (upstream KEY_SEPARATOR); empty ones are skipped.
    const prefix = keysEnd > keysAt ? this.keyPrefix(d) : 0;
    for (let start = keysAt; file && start < keysEnd;) {
      const end = nextSpace(src, start, keysEnd);
      if (end > start) file = this.put(file, hashToIndexHash(spanHash(prefix, src, start, end)), d);
      start = end + 1;
    }
    this.lastIndexedPhyOffset = d.phyOffset;
    if (file && file.pendingEntries >= MAX_PENDING_ENTRIES && !this.flushing) void this.flush();
  }

  /** Whether a dispatched record is one to index: not yet indexed, not a rolled-back half. */
  private indexes(d: DispatchRequest): boolean {
    if (d.phyOffset <= this.lastIndexedPhyOffset || this.closed) return false;
    return transactionValue(d.sysFlag) !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
  }

  /**
   * The Java hash of `topic#` of record `d`: the one the store hands over with it, else (recovery)
   * computed and kept while consecutive records share a topic.
   */
  private keyPrefix(d: DispatchRequest): number {
    if (d.keyPrefixHash !== undefined) return d.keyPrefixHash;
    const topic = d.topic;
    if (topic !== this.prefixTopic) {
      this.prefixTopic = topic;
      this.prefixHash = indexKeyPrefixHash(topic);
    }
    return this.prefixHash;
  }

  private put(file: IndexFile, keyHash: number, d: DispatchRequest): IndexFile | undefined {
    let f: IndexFile | undefined = file;
    // Only a full file refuses a put; its successor is a new, empty file.
    while (f && !f.putKeyHash(keyHash, d.phyOffset, d.storeTimestamp)) {
      f = f.isWriteFull() ? this.writableFile() : undefined;
    }
    return f;
  }

  /** The newest file, or a new one when it is full (upstream `getAndCreateLastIndexFile`). */
  private writableFile(): IndexFile | undefined {
    const last = this.files[this.files.length - 1];
    if (last && !last.isWriteFull()) return last;
    const { dir, hashSlotNum, indexNum, logger } = this.opts;
    const now = this.now();
    if (this.createFailed && now < this.retryCreateAt) return undefined;
    // Names sort in creation order, even when files roll within one millisecond or the clock steps back.
    let ms = now;
    if (last && indexFileName(ms) <= last.name) ms = parseIndexFileName(last.name) + 1;
    while (existsSync(join(dir, indexFileName(ms)))) ms++;
    const path = join(dir, indexFileName(ms));
    let f: IndexFile;
    try {
      mkdirSync(dir, { recursive: true });
      f = IndexFile.create(path, hashSlotNum, indexNum, last?.endPhyOffset ?? 0, last?.endTimestamp ?? 0, this.tables);
    } catch (err) {
      if (!this.createFailed) logger.error({ err }, `cannot create index file ${path}: messages are not indexed until it can be (retried every ${CREATE_RETRY_MS} ms); check the disk`);
      this.createFailed = true;
      this.retryCreateAt = now + CREATE_RETRY_MS;
      return undefined;
    }
    this.createFailed = false;
    this.files.push(f);
    if (last) {
      logger.info(`index file ${last.path} is full; continuing in ${f.path}`);
      // As upstream: the full file is flushed at once, in the background.
      if (!this.flushing) void this.flush();
    }
    return f;
  }

  /**
   * Writes every file's in-memory entries; a full file is then fdatasync'ed and its end time
   * reported for the checkpoint. One flush at a time; a call during one waits for it and runs again.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    const run = async (): Promise<void> => {
      for (const f of [...this.files]) {
        if (f.isClosed) continue;
        try {
          if (f.hasUnflushed) await f.flush();
          if (f.isWriteFull() && !f.hasUnflushed && !this.synced.has(f)) {
            await f.datasync();
            this.synced.add(f);
            this.opts.onFullFileSynced?.(f.endTimestamp);
          }
        } catch (err) {
          this.opts.logger.error({ err }, `index file ${f.path} flush failed; its entries stay in memory and are written again next round; check the disk`);
        }
      }
    };
    this.flushing = run().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /**
   * Finds the CommitLog offsets of `topic#key` stored within [begin, end] (upstream
   * `queryOffset`): files newest first whose time range overlaps, until `maxNum` (at most
   * maxMsgsNumBatch) are found or a file starts before `begin`.
   */
  async queryOffset(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<QueryOffsetResult> {
    const max = Math.min(maxNum, this.opts.maxMsgsNumBatch);
    const phyOffsets: number[] = [];
    let indexLastUpdateTimestamp = 0;
    let indexLastUpdatePhyoffset = 0;
    const files = [...this.files];
    const idxKey = `${topic}#${key}`;
    for (let i = files.length - 1; i >= 0; i--) {
      const f = files[i]!;
      if (i === files.length - 1) {
        indexLastUpdateTimestamp = f.endTimestamp;
        indexLastUpdatePhyoffset = f.endPhyOffset;
      }
      if (f.isTimeMatched(begin, end)) await f.selectPhyOffset(phyOffsets, idxKey, max, begin, end);
      if (f.beginTimestamp < begin || phyOffsets.length >= max) break;
    }
    return { phyOffsets, indexLastUpdateTimestamp, indexLastUpdatePhyoffset };
  }

  /**
   * Deletes the oldest files whose last entry points below `offset`, the CommitLog minimum
   * (upstream `deleteExpiredFile`); never the newest file. Returns how many went.
   */
  deleteExpiredFile(offset: number): number {
    let n = 0;
    while (this.files.length > 1 && this.files[0]!.endPhyOffset < offset) {
      const f = this.files.shift()!;
      f.destroy();
      this.opts.logger.info(`index file ${f.path} deleted: its messages are no longer in the CommitLog`);
      n++;
    }
    return n;
  }

  /** Flushes, makes every file durable (reporting full ones) and closes them. */
  async shutdown(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    for (const f of this.files) {
      try {
        await f.flushAll();
        await f.datasync();
        if (f.isWriteFull() && !this.synced.has(f)) {
          this.synced.add(f);
          this.opts.onFullFileSynced?.(f.endTimestamp);
        }
      } catch (err) {
        this.opts.logger.error({ err }, `index file ${f.path} could not be flushed at shutdown; queries may miss the messages it held`);
      }
      f.close();
    }
    this.files.length = 0;
  }
}
