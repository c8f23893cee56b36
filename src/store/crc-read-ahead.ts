import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger.js';

/**
 * Slots of the shared control block (Int32 view). BigInt64s follow: at byte 16 the worker's
 * verified offset, at byte 24 where the main thread is while it checks CRCs itself.
 */
export const Ctl = { STATE: 0, STOP: 1 } as const;
export const VERIFIED_AT = 16;
export const MAIN_AT = 24;
const CTL_BYTES = 32;
/** Each thread tells the other its progress at least this often (bytes of log). */
export const PUBLISH_EVERY = 256 * 1024;

/** One segment range to verify: [from, len) of the file at `path`, which starts at `fileFromOffset`. */
export interface CrcReadAheadSegment {
  path: string;
  fileFromOffset: number;
  from: number;
  len: number;
}

export interface CrcReadAheadData {
  sab: SharedArrayBuffer;
  segments: CrcReadAheadSegment[];
  fileSize: number;
}

const WORKER_FILE = fileURLToPath(new URL('./crc-read-ahead-worker.js', import.meta.url));

/**
 * Body CRC checks of crash recovery, run ahead of the record walk on a second thread. CRC is the
 * largest single cost of verifying the CommitLog; a worker that walks the same records and
 * publishes "every record ending at or before X is whole with a good CRC" lets the main thread
 * skip checking those records (it reads only their size) while it re-dispatches them. Neither
 * thread waits for the other: where the worker is behind, the main thread checks the record
 * itself and says how far it got, and the worker skips ahead to there (a record boundary)
 * instead of checking records twice. So the two threads share the CRC work whichever is faster
 * on the machine. Anything the worker does not vouch for (a mismatch, a torn tail, a worker that
 * died) the main thread checks itself.
 */
export class CrcReadAhead {
  private readonly ctl: Int32Array;
  private readonly verified: BigInt64Array;
  private readonly mainAt: BigInt64Array;
  private known: number;
  /** The last position told to the worker. */
  private told: number;
  private alone = false;

  private constructor(private readonly worker: Worker, sab: SharedArrayBuffer, from: number) {
    this.ctl = new Int32Array(sab, 0, 4);
    this.verified = new BigInt64Array(sab, VERIFIED_AT, 1);
    this.mainAt = new BigInt64Array(sab, MAIN_AT, 1);
    this.known = from;
    this.told = from;
  }

  /** Starts the worker over `segments`, or returns undefined when it cannot run here. */
  static start(segments: CrcReadAheadSegment[], fileSize: number, logger: Logger): CrcReadAhead | undefined {
    // Running from sources (no compiled worker next to this file): the main thread checks alone.
    if (segments.length === 0 || !existsSync(WORKER_FILE)) return undefined;
    const sab = new SharedArrayBuffer(CTL_BYTES);
    const from = segments[0]!.fileFromOffset + segments[0]!.from;
    new BigInt64Array(sab, VERIFIED_AT, 1)[0] = BigInt(from);
    new BigInt64Array(sab, MAIN_AT, 1)[0] = BigInt(from);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_FILE, { workerData: { sab, segments, fileSize } satisfies CrcReadAheadData });
    } catch (err) {
      logger.warn({ err }, 'CommitLog recovery: the CRC read-ahead thread did not start; checking on the main thread');
      return undefined;
    }
    const self = new CrcReadAhead(worker, sab, from);
    worker.on('error', (err) => logger.warn({ err }, 'CommitLog recovery: the CRC read-ahead thread failed; the main thread checked the rest itself'));
    worker.unref();
    return self;
  }

  /**
   * Whether the worker has found every record ending at or before `end` (the end of the record
   * the caller is at) whole, with a good body CRC. False means the caller checks it itself; the
   * worker then learns, every PUBLISH_EVERY bytes, that it need not check before `end`.
   */
  covers(end: number): boolean {
    if (end <= this.known) return true;
    if (this.alone) return false;
    this.known = Number(Atomics.load(this.verified, 0));
    if (end <= this.known) return true;
    if (Atomics.load(this.ctl, Ctl.STATE) !== 0) {
      this.alone = true;
      return false;
    }
    if (end - this.told >= PUBLISH_EVERY) {
      Atomics.store(this.mainAt, 0, BigInt(end));
      this.told = end;
    }
    return false;
  }

  /** The worker has stopped: at the end of the log, at a record it could not vouch for, or failing. */
  get finished(): boolean {
    return Atomics.load(this.ctl, Ctl.STATE) !== 0;
  }

  /** Stops the worker (before the caller truncates anything it may still be reading). */
  close(): void {
    Atomics.store(this.ctl, Ctl.STOP, 1);
    this.worker.terminate().catch(() => { /* it is going away either way */ });
  }
}
