import { int32At } from '../common/bytes.js';
import { bodyCrcMatches, checkRecord, isMessageMagic } from '../common/message-record.js';

/**
 * Recovery reads a segment in chunks of this size (a larger record gets a read of its own):
 * small enough that a chunk is still in the CPU cache when its records are checked.
 */
export const RECOVER_CHUNK = 1024 * 1024;

/** Reads up to `length` bytes of a segment at `filePos` into `buf` at 0; returns how many were read. */
export type SegmentRead = (buf: Buffer, filePos: number, length: number) => number;

/**
 * Why a walk stopped: `end` = the written bytes ran out on a record boundary; `blank` = the
 * end-of-segment marker (the log continues in the next segment); otherwise the reason the
 * record at `filePos` is not whole.
 */
export interface WalkResult {
  filePos: number;
  stop: 'end' | 'blank' | 'stopped' | { reason: string };
}

/**
 * Reusable chunk buffer for walks; grows only for a record larger than a chunk. A fresh
 * multi-MiB buffer per chunk costs more in page faults than the copy out of the page cache.
 */
export class WalkBuffer {
  buf = Buffer.allocUnsafeSlow(RECOVER_CHUNK);
}

/**
 * Walks the records of one segment from `filePos`, which must be a record boundary, to
 * `fileLen`: each record is length/magic/layout checked, and its body CRC too with `checkCrc`.
 * `visit` sees every whole record (its `buf` is valid only during the call) and may return false
 * to stop. Recovery and its CRC read-ahead both walk with this, so they split a segment into
 * records identically. With `verified`, a record for whose end it answers true was already
 * checked whole (layout and CRC) by another walk of the same bytes, and only its size is read.
 */
export function walkSegment(
  read: SegmentRead,
  scratch: WalkBuffer,
  filePos: number,
  fileLen: number,
  checkCrc: boolean,
  visit: (buf: Buffer, rel: number, filePos: number, size: number) => boolean,
  verified?: (recordEnd: number) => boolean,
): WalkResult {
  let buf = scratch.buf.subarray(0, 0);
  let bufStart = filePos; // file position of buf[0]
  const fill = (at: number, length: number): void => {
    if (length > scratch.buf.length) scratch.buf = Buffer.allocUnsafeSlow(length);
    buf = scratch.buf.subarray(0, read(scratch.buf, at, length));
    bufStart = at;
  };
  while (filePos < fileLen) {
    let rel = filePos - bufStart;
    if (rel + 8 > buf.length) {
      fill(filePos, Math.min(RECOVER_CHUNK, fileLen - filePos));
      rel = 0;
    }
    if (rel + 8 <= buf.length) {
      const recSize = int32At(buf, rel);
      if (recSize > 0 && rel + recSize > buf.length && filePos + recSize <= fileLen) {
        // Refill from this record so that a record never straddles the buffer.
        fill(filePos, Math.min(Math.max(RECOVER_CHUNK, recSize), fileLen - filePos));
        rel = 0;
      }
    }
    let size = rel + 8 <= buf.length ? int32At(buf, rel) : 0;
    // A message record (never the blank end-of-segment marker) that the other walk vouched for.
    const vouched = verified !== undefined && size > 0 && rel + size <= buf.length && isMessageMagic(int32At(buf, rel + 4)) && verified(filePos + size);
    if (!vouched) {
      const check = checkRecord(buf, rel, false);
      if (!check.ok) return { filePos, stop: check.blank ? 'blank' : { reason: check.reason } };
      size = check.size;
      if (checkCrc && !bodyCrcMatches(buf, rel)) return { filePos, stop: { reason: 'body CRC mismatch' } };
    }
    if (!visit(buf, rel, filePos, size)) return { filePos, stop: 'stopped' };
    filePos += size;
  }
  return { filePos, stop: 'end' };
}
