import { networkInterfaces } from 'node:os';
import { encodeSocketAddress } from './socket-address.js';
import { putAscii, readLong } from './bytes.js';

/**
 * Offset message id: store host (IP + port) followed by the CommitLog offset, upper-case hex
 * (upstream `MessageDecoder.createMessageId`).
 */
export function createOffsetMessageId(storeHost: Buffer, commitLogOffset: number): string {
  return offsetMessageIdAt(storeHost, 0, storeHost.length, commitLogOffset);
}

/** The same id from store host bytes at `buf[at, at + len)`, hex from a table rather than a copy and `toString`. */
export function offsetMessageIdAt(buf: Buffer, at: number, len: number, commitLogOffset: number): string {
  let hex = '';
  for (let i = at; i < at + len; i++) hex += HEX2[buf[i]!]!;
  return offsetMessageIdOf(hex, commitLogOffset);
}

/** The same id from the store host's hex form, which a broker computes once (send hot path). */
export function offsetMessageIdOf(storeHostHex: string, commitLogOffset: number): string {
  return storeHostHex + commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
}

const UPPER_HEX = Buffer.from('0123456789ABCDEF', 'latin1');

/** Writes a CommitLog offset as the 16 upper-case hex digits that end an offset message id. */
function putOffsetHex(buf: Buffer, at: number, offset: number): number {
  let hi = Math.floor(offset / 0x100000000);
  let lo = offset >>> 0;
  for (let k = 15; k >= 8; k--) {
    buf[at + k] = UPPER_HEX[lo & 15]!;
    lo >>>= 4;
  }
  for (let k = 7; k >= 0; k--) {
    buf[at + k] = UPPER_HEX[hi & 15]!;
    hi >>>= 4;
  }
  return at + 16;
}

/**
 * An offset message id kept as its parts until it is written: a send's answer puts the hex
 * digits straight into its header, so that no string is built for it (it was four per send:
 * hex, upper case, padded, joined).
 */
export class OffsetMessageId {
  constructor(readonly storeHostHex: string, readonly commitLogOffset: number) {}

  /** Characters, each one byte. */
  get length(): number {
    return this.storeHostHex.length + 16;
  }

  /** Writes the id at `buf[at]`, which the caller has checked has room; returns where it ends. */
  writeTo(buf: Buffer, at: number): number {
    return putOffsetHex(buf, putAscii(buf, at, this.storeHostHex), this.commitLogOffset);
  }

  toString(): string {
    return offsetMessageIdOf(this.storeHostHex, this.commitLogOffset);
  }
}

/** The offset message ids of the records at `offsets`, comma-joined (a batch's answer), built in one buffer. */
export function joinedOffsetMessageIds(storeHostHex: string, offsets: readonly number[]): string {
  if (offsets.length === 0) return '';
  const idLen = storeHostHex.length + 16;
  const buf = Buffer.allocUnsafe(offsets.length * (idLen + 1) - 1);
  let at = 0;
  for (let i = 0; i < offsets.length; i++) {
    if (i > 0) buf[at++] = 0x2c; // ','
    at = putOffsetHex(buf, putAscii(buf, at, storeHostHex), offsets[i]!);
  }
  return buf.toString('latin1', 0, at);
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
  /** Upper-case hex of IP, pid and the random int: the fixed 20 characters of every id. */
  private readonly prefixHex: string;
  private counter = 0;
  private startOfMonth = 0;
  private nextMonth = 0;
  /** The ms of the last id and the prefix plus the hex of that ms, reused within the same ms. */
  private lastMs = -1;
  private lastHead = '';

  constructor(ip = localIPv4()) {
    const addr = encodeSocketAddress(ip, 0).subarray(0, 4);
    const prefix = Buffer.allocUnsafe(10);
    addr.copy(prefix, 0);
    prefix.writeUInt16BE(process.pid & 0xffff, 4);
    prefix.writeInt32BE((Math.random() * 0x7fffffff) | 0, 6);
    this.prefixHex = prefix.toString('hex').toUpperCase();
  }

  /** Built from cached hex pieces: every send makes one, so no buffer and no hex encoding per id. */
  next(now = Date.now()): string {
    if (now >= this.nextMonth || now < this.startOfMonth) this.computeMonth(now);
    if (now !== this.lastMs) {
      const t = (now - this.startOfMonth) | 0;
      this.lastMs = now;
      this.lastHead = this.prefixHex + HEX2[(t >>> 24) & 0xff]! + HEX2[(t >>> 16) & 0xff]! + HEX2[(t >>> 8) & 0xff]! + HEX2[t & 0xff]!;
    }
    const c = this.counter;
    this.counter = (c + 1) & 0xffff;
    return this.lastHead + HEX2[c >>> 8]! + HEX2[c & 0xff]!;
  }

  private computeMonth(now: number): void {
    const d = new Date(now);
    this.startOfMonth = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    this.nextMonth = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
  }
}

/** Upper-case two-digit hex of every byte value. */
const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
