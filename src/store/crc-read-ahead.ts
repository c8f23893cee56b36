import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../common/logger.js';

/** Slots of the shared control block (Int32 view); the verified offset is a BigInt64 at byte 16. */
export const Ctl = { SEQ: 0, STATE: 1, STOP: 2 } as const;
/** The worker publishes progress at least this often (bytes of log). */
export const PUBLISH_EVERY = 1024 * 1024;
/** No progress for this long: the worker is presumed stuck and the main thread checks alone. */
const STALL_MS = 5000;

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
 * publishes "every record ending at or before X has a good CRC" lets the main thread skip the
 * CRC for those records while it re-dispatches them. Recovery stays synchronous: the main
 * thread blocks on the shared counter when it catches up. Anything the worker does not vouch
 * for (a mismatch, a torn tail, a worker that died or stalled) the main thread checks itself.
 */
export class CrcReadAhead {
  private readonly ctl: Int32Array;
  private readonly verified: BigInt64Array;
  private known: number;
  private alone = false;

  private constructor(private readonly worker: Worker, sab: SharedArrayBuffer, from: number, private readonly logger: Logger) {
    this.ctl = new Int32Array(sab, 0, 4);
    this.verified = new BigInt64Array(sab, 16, 1);
    this.known = from;
  }

  /** Starts the worker over `segments`, or returns undefined when it cannot run here. */
  static start(segments: CrcReadAheadSegment[], fileSize: number, logger: Logger): CrcReadAhead | undefined {
    // Running from sources (no compiled worker next to this file): the main thread checks alone.
    if (segments.length === 0 || !existsSync(WORKER_FILE)) return undefined;
    const sab = new SharedArrayBuffer(24);
    const from = segments[0]!.fileFromOffset + segments[0]!.from;
    new BigInt64Array(sab, 16, 1)[0] = BigInt(from);
    let worker: Worker;
    try {
      worker = new Worker(WORKER_FILE, { workerData: { sab, segments, fileSize } satisfies CrcReadAheadData });
    } catch (err) {
      logger.warn({ err }, 'CommitLog recovery: the CRC read-ahead thread did not start; checking on the main thread');
      return undefined;
    }
    const self = new CrcReadAhead(worker, sab, from, logger);
    worker.on('error', (err) => logger.warn({ err }, 'CommitLog recovery: the CRC read-ahead thread failed; the main thread checked the rest itself'));
    worker.unref();
    return self;
  }

  /**
   * Whether the worker has found a good body CRC for every record ending at or before `end`,
   * waiting for it to get there. False means the caller must check the CRC itself.
   */
  covers(end: number): boolean {
    if (end <= this.known) return true;
    if (this.alone) return false;
    for (;;) {
      const seq = Atomics.load(this.ctl, Ctl.SEQ);
      this.known = Number(Atomics.load(this.verified, 0));
      if (end <= this.known) return true;
      if (Atomics.load(this.ctl, Ctl.STATE) !== 0) {
        this.alone = true;
        return false;
      }
      if (Atomics.wait(this.ctl, Ctl.SEQ, seq, STALL_MS) === 'timed-out') {
        this.logger.warn(`CommitLog recovery: the CRC read-ahead thread made no progress in ${STALL_MS} ms; checking on the main thread`);
        this.alone = true;
        return false;
      }
    }
  }

  /** Stops the worker (before the caller truncates anything it may still be reading). */
  close(): void {
    Atomics.store(this.ctl, Ctl.STOP, 1);
    this.worker.terminate().catch(() => { /* it is going away either way */ });
  }
}
