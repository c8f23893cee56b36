import { closeSync, existsSync, fdatasync, fsyncSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { readLong, writeLong } from '../../common/bytes.js';

/** `long timeUnit, long firstPos, long lastPos, int num, int magic` (upstream `Slot`). */
export const SLOT_SIZE = 32;

export interface Slot {
  /** Slot time in precision units (ms / precisionMs). */
  timeUnit: number;
  firstPos: number;
  lastPos: number;
  /** Units filed minus delete markers (upstream's count; informational). */
  num: number;
  magic: number;
}

/**
 * The timing wheel (upstream `TimerWheel`): `slots` fixed-size slots, slot of time unit `t` at
 * index `t % slots`, each holding the head and tail of that time's chain of TimerLog units.
 * A slot whose stored time is not the one asked for belongs to another turn of the wheel and
 * counts as empty. The whole wheel lives in one Buffer (32 bytes a slot, whatever the number
 * of timers); changed slots are written back to the `timerwheel` file by `persist()`.
 */
export class TimerWheel {
  readonly buf: Buffer;
  private readonly dirty = new Set<number>();
  private fd = -1;

  constructor(readonly path: string, readonly slots: number, buf?: Buffer) {
    this.buf = buf ?? Buffer.alloc(slots * SLOT_SIZE);
    if (this.buf.length !== slots * SLOT_SIZE) throw new Error(`timer wheel buffer of ${this.buf.length} bytes does not hold ${slots} slots`);
  }

  /** The wheel file's content, or undefined when there is none (or it is not made of whole slots). */
  static readFile(path: string): Buffer | undefined {
    if (!existsSync(path)) return undefined;
    const size = statSync(path).size;
    if (size === 0 || size % SLOT_SIZE !== 0) return undefined;
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, buf, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return done === size ? buf : undefined;
    } finally {
      closeSync(fd);
    }
  }

  index(timeUnit: number): number {
    return timeUnit % this.slots;
  }

  /** The slot of time unit `t`, or undefined when nothing is filed under that time. */
  get(t: number): Slot | undefined {
    const at = this.index(t) * SLOT_SIZE;
    if (readLong(this.buf, at) !== t) return undefined;
    const lastPos = readLong(this.buf, at + 16);
    if (lastPos < 0) return undefined;
    return { timeUnit: t, firstPos: readLong(this.buf, at + 8), lastPos, num: this.buf.readInt32BE(at + 24), magic: this.buf.readInt32BE(at + 28) };
  }

  /** The slot at index `i`, whatever time it holds. */
  raw(i: number): Slot {
    const at = i * SLOT_SIZE;
    return {
      timeUnit: readLong(this.buf, at), firstPos: readLong(this.buf, at + 8), lastPos: readLong(this.buf, at + 16),
      num: this.buf.readInt32BE(at + 24), magic: this.buf.readInt32BE(at + 28),
    };
  }

  put(t: number, firstPos: number, lastPos: number, num: number, magic = 0): void {
    const i = this.index(t);
    const at = i * SLOT_SIZE;
    writeLong(this.buf, t, at);
    writeLong(this.buf, firstPos, at + 8);
    writeLong(this.buf, lastPos, at + 16);
    this.buf.writeInt32BE(num | 0, at + 24);
    this.buf.writeInt32BE(magic | 0, at + 28);
    this.dirty.add(i);
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  private handle(): number {
    if (this.fd < 0) {
      const exists = existsSync(this.path);
      this.fd = openSync(this.path, exists ? 'r+' : 'w+');
      if (!exists || statSync(this.path).size !== this.buf.length) {
        // A new file starts as the whole wheel.
        writeSync(this.fd, this.buf, 0, this.buf.length, 0);
        this.dirty.clear();
      }
    }
    return this.fd;
  }

  /** Writes the changed slots (runs of adjacent slots in one write each) and fdatasyncs. */
  async persist(): Promise<void> {
    // No file until something was filed: an unused wheel costs no disk.
    if (this.fd < 0 && this.dirty.size === 0 && !existsSync(this.path)) return;
    const fd = this.handle();
    if (this.dirty.size > 0) {
      const idx = [...this.dirty].sort((a, b) => a - b);
      this.dirty.clear();
      let i = 0;
      while (i < idx.length) {
        let j = i + 1;
        while (j < idx.length && idx[j] === idx[j - 1]! + 1) j++;
        const from = idx[i]! * SLOT_SIZE;
        const len = (idx[j - 1]! + 1) * SLOT_SIZE - from;
        writeSync(fd, this.buf, from, len, from);
        i = j;
      }
    }
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Replaces the file with the whole wheel, atomically (after a change of geometry). */
  writeWhole(): void {
    this.close();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, this.buf, 0, this.buf.length, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.dirty.clear();
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
