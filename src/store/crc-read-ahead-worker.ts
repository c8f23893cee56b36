import { closeSync, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { Ctl, PUBLISH_EVERY, type CrcReadAheadData } from './crc-read-ahead.js';
import { walkSegment, WalkBuffer } from './record-walk.js';

/**
 * Runs in a worker thread during crash recovery: walks the CommitLog ahead of the main thread
 * with the same record walk and checks every body CRC, publishing how far every record is
 * verified. It stops at the first record it cannot vouch for; the main thread then checks
 * from there itself, so this thread only ever saves work, it never decides.
 */
const { sab, segments, fileSize } = workerData as CrcReadAheadData;
const ctl = new Int32Array(sab, 0, 4);
const verified = new BigInt64Array(sab, 16, 1);

function publish(offset: number): void {
  Atomics.store(verified, 0, BigInt(offset));
  Atomics.add(ctl, Ctl.SEQ, 1);
  Atomics.notify(ctl, Ctl.SEQ);
}

function run(): void {
  const scratch = new WalkBuffer();
  for (const seg of segments) {
    let last = seg.fileFromOffset + seg.from;
    const fd = openSync(seg.path, 'r');
    let r;
    try {
      const read = (buf: Buffer, at: number, length: number): number => {
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buf, done, length - done, at + done);
          if (n === 0) break;
          done += n;
        }
        return done;
      };
      r = walkSegment(read, scratch, seg.from, seg.len, () => true, (_buf, _rel, filePos, size) => {
        const end = seg.fileFromOffset + filePos + size;
        if (end - last >= PUBLISH_EVERY) {
          publish(end);
          last = end;
          if (Atomics.load(ctl, Ctl.STOP) !== 0) return false;
        }
        return true;
      });
    } finally {
      closeSync(fd);
    }
    if (r.stop === 'blank') {
      publish(seg.fileFromOffset + fileSize);
      continue;
    }
    publish(seg.fileFromOffset + r.filePos);
    // A segment that ends short of its size is the end of the log, as for the main walk.
    if (r.stop !== 'end' || r.filePos < fileSize) return;
  }
}

try {
  run();
  Atomics.store(ctl, Ctl.STATE, 1);
} catch {
  // The main thread checks whatever is not published as verified itself.
  Atomics.store(ctl, Ctl.STATE, 2);
}
Atomics.add(ctl, Ctl.SEQ, 1);
Atomics.notify(ctl, Ctl.SEQ);
