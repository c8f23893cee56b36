/**
 * 64-bit helpers. Offsets and timestamps stay below 2^53 in practice, so they are JS numbers;
 * these read and write them as Java longs without going through BigInt on the hot path.
 */
const TWO_32 = 4294967296;

/** Straight from the bytes after one bounds check: a third faster than two `readInt32BE` calls, and every record has five. */
export function readLong(buf: Buffer, pos: number): number {
  if (!(pos >= 0 && pos + 8 <= buf.length)) throw new RangeError(`a long at position ${pos} overruns the ${buf.length}-byte buffer`);
  const hi = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

/**
 * A signed big-endian 16-bit value at `pos`, which the caller has checked lies inside `buf`.
 * Header walks read two lengths per field: `readInt16BE` / `readInt32BE` check the bounds and
 * the argument types on every call, and cost about three times as much (170 against 63 ns for
 * the twelve fields of a send header).
 */
export function int16At(buf: Buffer, pos: number): number {
  return ((buf[pos]! << 24) | (buf[pos + 1]! << 16)) >> 16;
}

/** A signed byte at `pos`, which the caller has checked lies inside `buf`. */
export function int8At(buf: Buffer, pos: number): number {
  return (buf[pos]! << 24) >> 24;
}

/**
 * A signed big-endian 32-bit value at `pos`, which the caller has checked lies inside `buf`.
 * Record walks (recovery, pull decoding) read several per record, where `readInt32BE`'s
 * argument validation is not always inlined and showed as 8 % of a recovery profile.
 */
export function int32At(buf: Buffer, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

/** Writes a Java long after one bounds check (Buffer's writeInt32BE checks bounds and types on each of two calls). */
export function writeLong(buf: Buffer, value: number, pos: number): void {
  if (!(pos >= 0 && pos + 8 <= buf.length)) throw new RangeError(`a long at position ${pos} overruns the ${buf.length}-byte buffer`);
  putLong(buf, pos, value);
}

/** Big-endian 16 bits at `p`, which the caller has checked lies inside `b` (a store past the end would be lost). */
export function put16(b: Buffer, p: number, v: number): void {
  b[p] = (v >>> 8) & 0xff;
  b[p + 1] = v & 0xff;
}

/** Big-endian 32 bits at `p`, which the caller has checked lies inside `b`. */
export function put32(b: Buffer, p: number, v: number): void {
  b[p] = (v >>> 24) & 0xff;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

/**
 * Copies a few bytes (a socket address, a header key) byte by byte into `dst` at `p`, which the
 * caller has checked has room: less than a copy() or set() call costs. Returns the end.
 */
export function putSmall(dst: Buffer, p: number, src: Buffer): number {
  for (let i = 0; i < src.length; i++) dst[p + i] = src[i]!;
  return p + src.length;
}

/** `putSmall` for an ASCII string (each character one byte), which the caller has checked fits. */
export function putAscii(dst: Buffer, p: number, src: string): number {
  for (let i = 0; i < src.length; i++) dst[p + i] = src.charCodeAt(i);
  return p + src.length;
}

/** A Java long (a JS number below 2^53) at `p`, which the caller has checked lies inside `b`. */
export function putLong(b: Buffer, p: number, v: number): void {
  const hi = Math.floor(v / TWO_32);
  put32(b, p, hi | 0);
  put32(b, p + 4, (v - hi * TWO_32) >>> 0);
}

/**
 * Buffers lying back to back in one ArrayBuffer joined into one view each run: the records of a
 * pull read together lie so in one read buffer (or write page), and each part handed to the
 * socket costs the stream a queue entry; socket chunks read one after the other into a read slab
 * lie so too, and a frame split between them needs no copy.
 */
export function adjacentJoined(bufs: Buffer[]): Buffer[] {
  if (bufs.length < 2) return bufs;
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 1; i <= bufs.length; i++) {
    const prev = bufs[i - 1]!;
    const b = bufs[i];
    if (b !== undefined && b.buffer === prev.buffer && b.byteOffset === prev.byteOffset + prev.length) continue;
    const first = bufs[start]!;
    out.push(i - start === 1 ? first : Buffer.from(first.buffer, first.byteOffset, prev.byteOffset + prev.length - first.byteOffset));
    start = i;
  }
  return out.length === bufs.length ? bufs : out;
}
