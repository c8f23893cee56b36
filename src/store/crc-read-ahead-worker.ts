import { closeSync, openSync, readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { Ctl, MAIN_AT, PUBLISH_EVERY, VERIFIED_AT, type CrcReadAheadData } from './crc-read-ahead.js';
import { walkSegment, WalkBuffer } from './record-walk.js';

/**
 * Runs in a worker thread during crash recovery: walks the CommitLog ahead of the main thread
 * with the same record walk and checks every body CRC, publishing how far every record is
 * verified. Where the main thread got ahead (it checks records itself rather than wait), this
 * thread skips to where it is. It stops at the first record it cannot vouch for; the main
 * thread then checks from there itself, so this thread only ever saves work, it never decides.
 */
const { sab, segments, fileSize } = workerData as CrcReadAheadData;
const ctl = new Int32Array(sab, 0, 4);
const verified = new BigInt64Array(sab, VERIFIED_AT, 1);
const mainAt = new BigInt64Array(sab, MAIN_AT, 1);

function publish(offset: number): void {
  Atomics.store(verified, 0, BigInt(offset));
}

/** The segment holding log offset `at` (a segment's end counts as the next one's start), from `i` on; -1 when none. */
function segmentOf(at: number, i: number): number {
  for (; i < segments.length; i++) if (at < segments[i]!.fileFromOffset + fileSize) return i;
  return -1;
}

function run(): void {
  const scratch = new WalkBuffer();
  let si = 0;
  let from = segments[0]!.from;
  while (si < segments.length) {
    const seg = segments[si]!;
    let last = seg.fileFromOffset + from;
    let skipTo = -1;
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
      r = walkSegment(read, scratch, from, seg.len, true, (_buf, _rel, filePos, size) => {
        const end = seg.fileFromOffset + filePos + size;
        if (end - last >= PUBLISH_EVERY) {
          publish(end);
          last = end;
          if (Atomics.load(ctl, Ctl.STOP) !== 0) return false;
          const main = Number(Atomics.load(mainAt, 0));
          if (main > end) {
            skipTo = main;
            return false;
          }
        }
        return true;
      });
    } finally {
      closeSync(fd);
    }
    if (skipTo < 0) {
      if (r.stop === 'stopped') return;
      if (r.stop === 'blank') {
        publish(seg.fileFromOffset + fileSize);
      } else {
        publish(seg.fileFromOffset + r.filePos);
        // A segment that ends short of its size is the end of the log, as for the main walk.
        if (r.stop !== 'end' || r.filePos < fileSize) return;
      }
      // The next segment, from its start.
      skipTo = seg.fileFromOffset + fileSize;
    }
    // Go on from that record boundary (where the main thread checked up to itself, or the next segment).
    si = segmentOf(skipTo, si);
    if (si < 0) return;
    from = Math.max(skipTo - segments[si]!.fileFromOffset, segments[si]!.from);
  }
}

try {
  run();
  Atomics.store(ctl, Ctl.STATE, 1);
} catch {
  // The main thread checks whatever is not published as verified itself.
  Atomics.store(ctl, Ctl.STATE, 2);
}
