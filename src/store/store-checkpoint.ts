import { closeSync, fdatasync, fdatasyncSync, openSync, readSync, write, writeSync } from 'node:fs';
import { readLong, writeLong } from '../common/bytes.js';

/**
 * The `checkpoint` file (upstream `StoreCheckpoint`): a 4 KiB page of longs.
 * @0 physicMsgTimestamp, @8 logicsMsgTimestamp, @16 indexMsgTimestamp as upstream;
 * @24 (upstream masterFlushedOffset) holds the CommitLog offset known to be fdatasync'ed;
 * @32 (upstream confirmPhyOffset) holds the CommitLog offset up to which every ConsumeQueue
 * entry is on disk. Recovery re-dispatches from the smaller of the two.
 */
export class StoreCheckpoint {
  physicMsgTimestamp = 0;
  logicsMsgTimestamp = 0;
  indexMsgTimestamp = 0;
  flushedPhyOffset = 0;
  consumeQueuePhyOffset = 0;
  private readonly fd: number;
  private readonly page = Buffer.alloc(4096);
  /** What the last flushAsync made durable. */
  private lastAsync?: Buffer;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r+');
      const n = readSync(this.fd, this.page, 0, 4096, 0);
      if (n >= 40) {
        this.physicMsgTimestamp = readLong(this.page, 0);
        this.logicsMsgTimestamp = readLong(this.page, 8);
        this.indexMsgTimestamp = readLong(this.page, 16);
        this.flushedPhyOffset = readLong(this.page, 24);
        this.consumeQueuePhyOffset = readLong(this.page, 32);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.fd = openSync(path, 'w+');
    }
  }

  private fill(page: Buffer): Buffer {
    writeLong(page, this.physicMsgTimestamp, 0);
    writeLong(page, this.logicsMsgTimestamp, 8);
    writeLong(page, this.indexMsgTimestamp, 16);
    writeLong(page, this.flushedPhyOffset, 24);
    writeLong(page, this.consumeQueuePhyOffset, 32);
    return page;
  }

  /** Writes the page; `sync` makes it durable before returning. */
  flush(sync: boolean): void {
    writeSync(this.fd, this.fill(this.page), 0, 4096, 0);
    if (sync) fdatasyncSync(this.fd);
  }

  /**
   * Writes and fdatasyncs the current values in the thread pool, off the event loop. Every
   * value is a lower bound, so a write of this snapshot landing after a newer synchronous
   * flush only makes recovery start earlier until the next flush.
   */
  flushAsync(): Promise<void> {
    const page = this.fill(Buffer.alloc(4096));
    // An idle store changes nothing: no write, no fdatasync.
    if (this.lastAsync?.equals(page)) return Promise.resolve();
    return new Promise((resolve, reject) => write(this.fd, page, 0, 4096, 0, (err) => {
      if (err) return reject(err);
      fdatasync(this.fd, (serr) => {
        if (serr) return reject(serr);
        this.lastAsync = page;
        resolve();
      });
    }));
  }

  close(): void {
    closeSync(this.fd);
  }
}
