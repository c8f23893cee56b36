import { isIPv4, isIPv6 } from 'node:net';

/** An address as RocketMQ encodes it in records: IP bytes (4 or 16) then an int32 port. */
export function encodeSocketAddress(host: string, port: number): Buffer {
  let ip = host;
  if (ip.startsWith('::ffff:') && isIPv4(ip.slice(7))) ip = ip.slice(7);
  if (isIPv4(ip)) {
    const buf = Buffer.allocUnsafe(8);
    const parts = ip.split('.');
    for (let i = 0; i < 4; i++) buf[i] = Number(parts[i]);
    buf.writeInt32BE(port, 4);
    return buf;
  }
  if (isIPv6(ip)) {
    const buf = Buffer.alloc(20);
    writeIPv6(ip, buf);
    buf.writeInt32BE(port, 16);
    return buf;
  }
  // Unresolvable names are stored as 0.0.0.0 rather than failing a send.
  const buf = Buffer.alloc(8);
  buf.writeInt32BE(port, 4);
  return buf;
}

function writeIPv6(ip: string, out: Buffer): void {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups: string[] = [...h];
  if (tail !== undefined) {
    for (let i = 0; i < 8 - h.length - t.length; i++) groups.push('0');
  }
  groups.push(...t);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '0', 16) & 0xffff, i * 2);
}

/** Decodes `ip:port` from record bytes; `len` is 8 (IPv4) or 20 (IPv6). */
export function decodeSocketAddress(buf: Buffer, pos: number, len: number): string {
  if (len === 8) {
    return `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}:${buf.readInt32BE(pos + 4)}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(pos + i * 2).toString(16));
  return `[${groups.join(':')}]:${buf.readInt32BE(pos + 16)}`;
}

/**
 * The host of `host:port` (upstream `substringBeforeLast(addr, ":")`), an IPv6 host without its
 * brackets; `addr` itself when it has no port.
 */
export function hostOf(addr: string): string {
  const i = addr.lastIndexOf(':');
  const h = i > 0 ? addr.slice(0, i) : addr;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** Splits `host:port` on the last colon, as upstream does for broker addresses. */
export function splitAddress(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`address "${addr}" has no port: expected host:port`);
  let host = addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`address "${addr}" has an invalid port: expected host:port with a port from 1 to 65535`);
  }
  return { host, port };
}
