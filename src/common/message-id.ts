import { networkInterfaces } from 'node:os';
import { encodeSocketAddress } from './socket-address.js';
import { readLong } from './bytes.js';

/**
 * Offset message id: store host (IP + port) followed by the CommitLog offset, upper-case hex
 * (upstream `MessageDecoder.createMessageId`).
 */
export function createOffsetMessageId(storeHost: Buffer, commitLogOffset: number): string {
  return offsetMessageIdOf(storeHost.toString('hex').toUpperCase(), commitLogOffset);
}

/** The same id from the store host's hex form, which a broker computes once (send hot path). */
export function offsetMessageIdOf(storeHostHex: string, commitLogOffset: number): string {
  return storeHostHex + commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
}

export interface DecodedMessageId {
  /** `ip:port` of the broker that stored the message. */
  address: string;
  commitLogOffset: number;
}

/** Decodes an offset message id (32 hex chars for IPv4, 56 for IPv6). */
export function decodeOffsetMessageId(msgId: string): DecodedMessageId {
  if (!/^[0-9A-Fa-f]+$/.test(msgId) || (msgId.length !== 32 && msgId.length !== 56)) {
    throw new Error(`"${msgId}" is not an offset message id: expected 32 or 56 hex characters`);
  }
  const buf = Buffer.from(msgId, 'hex');
  const ipLen = buf.length === 16 ? 4 : 16;
  let host: string;
  if (ipLen === 4) host = `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
  else {
    const g: string[] = [];
    for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(i * 2).toString(16));
    host = g.join(':');
  }
  const port = buf.readInt32BE(ipLen);
  return { address: `${host}:${port}`, commitLogOffset: readLong(buf, ipLen + 4) };
}

/** Picks this machine's first non-internal IPv4 address (127.0.0.1 when there is none). */
export function localIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family === 'IPv4' && !ni.internal) return ni.address;
    }
  }
  return '127.0.0.1';
}

/**
 * Generates unique client message ids (`UNIQ_KEY`): IP(4) + pid(2) + a per-process random int(4)
 * standing for upstream's class-loader hash + ms since the start of the month(4) + counter(2).
 */
export class MessageIdGenerator {
  private readonly prefix: Buffer;
  private counter = 0;
  private startOfMonth = 0;
  private nextMonth = 0;

  constructor(ip = localIPv4()) {
    const addr = encodeSocketAddress(ip, 0).subarray(0, 4);
    this.prefix = Buffer.allocUnsafe(10);
    addr.copy(this.prefix, 0);
    this.prefix.writeUInt16BE(process.pid & 0xffff, 4);
    this.prefix.writeInt32BE((Math.random() * 0x7fffffff) | 0, 6);
  }

  next(now = Date.now()): string {
    if (now >= this.nextMonth) this.computeMonth(now);
    const buf = Buffer.allocUnsafe(16);
    this.prefix.copy(buf, 0);
    buf.writeInt32BE((now - this.startOfMonth) | 0, 10);
    buf.writeUInt16BE(this.counter, 14);
    this.counter = (this.counter + 1) & 0xffff;
    return buf.toString('hex').toUpperCase();
  }

  private computeMonth(now: number): void {
    const d = new Date(now);
    this.startOfMonth = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    this.nextMonth = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
  }
}
