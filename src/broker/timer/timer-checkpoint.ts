import { closeSync, existsSync, fdatasync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { readLong, writeLong } from '../../common/bytes.js';

const PAGE = 4096;
const LENGTH = 56;

/**
 * `config/timercheck` (upstream `TimerCheckpoint`, one 4 KiB page): `long lastReadTimeMs@0,
 * long lastTimerLogFlushPos@8, long lastTimerQueueOffset@16, long masterTimerQueueOffset@24`,
 * then the data version (`stateVersion@32, timestamp@40, counter@48`).
 */
export class TimerCheckpoint {
  lastReadTimeMs = 0;
  lastTimerLogFlushPos = 0;
  lastTimerQueueOffset = 0;
  masterTimerQueueOffset = 0;
  stateVersion = 0;
  timestamp = 0;
  counter = 0;
  /** Whether the file existed when opened (false on a new store). */
  readonly existed: boolean;
  private fd: number;
  private readonly buf = Buffer.alloc(LENGTH);

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.existed = existsSync(path) && statSync(path).size >= 32;
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    if (this.existed) {
      const n = readSync(this.fd, this.buf, 0, LENGTH, 0);
      this.lastReadTimeMs = readLong(this.buf, 0);
      this.lastTimerLogFlushPos = readLong(this.buf, 8);
      this.lastTimerQueueOffset = readLong(this.buf, 16);
      this.masterTimerQueueOffset = readLong(this.buf, 24);
      if (n >= LENGTH) {
        this.stateVersion = readLong(this.buf, 32);
        this.timestamp = readLong(this.buf, 40);
        this.counter = readLong(this.buf, 48);
      }
    } else {
      ftruncateSync(this.fd, PAGE);
    }
  }

  /** The 56 bytes as the file holds them (upstream `TimerCheckpoint.encode`, GET_TIMER_CHECK_POINT's body). */
  encode(): Buffer {
    return Buffer.from(this.fill());
  }

  private fill(): Buffer {
    writeLong(this.buf, this.lastReadTimeMs, 0);
    writeLong(this.buf, this.lastTimerLogFlushPos, 8);
    writeLong(this.buf, this.lastTimerQueueOffset, 16);
    writeLong(this.buf, this.masterTimerQueueOffset, 24);
    writeLong(this.buf, this.stateVersion, 32);
    writeLong(this.buf, this.timestamp, 40);
    writeLong(this.buf, this.counter, 48);
    return this.buf;
  }

  /** Writes the fields (one positional write); `sync` also fdatasyncs. */
  async flush(sync: boolean): Promise<void> {
    if (this.fd < 0) return;
    writeSync(this.fd, this.fill(), 0, LENGTH, 0);
    if (!sync) return;
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
