/**
 * 64-bit helpers. Offsets and timestamps stay below 2^53 in practice, so they are JS numbers;
 * these read and write them as Java longs without going through BigInt on the hot path.
 */
const TWO_32 = 4294967296;

export function readLong(buf: Buffer, pos: number): number {
  const hi = buf.readInt32BE(pos);
  const lo = buf.readUInt32BE(pos + 4);
  return hi * TWO_32 + lo;
}

export function writeLong(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32);
  const lo = value - hi * TWO_32;
  buf.writeInt32BE(hi | 0, pos);
  buf.writeUInt32BE(lo >>> 0, pos + 4);
}
