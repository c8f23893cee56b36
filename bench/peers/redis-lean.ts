import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A lean Redis client over node:net for the peer benchmark: RESP2 commands, pipelined (any
 * number outstanding, replies matched first-in first-out), and a resumable reply parser whose
 * bulk strings are views into the read buffer. Commands issued within one tick go out in one write.
 */

export type RespValue = string | number | Buffer | null | RespValue[];

export class RedisError extends Error {
  override name = 'RedisError';
}

export type ReplyCallback = (err: Error | undefined, value: RespValue) => void;

const CRLF = Buffer.from('\r\n');

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, CRLF);
  }
  return Buffer.concat(parts);
}

/** A FIFO of callbacks over a growable ring (Array.shift is O(n) on long queues). */
class CallbackQueue {
  private buf: Array<ReplyCallback | undefined> = new Array(1024);
  private head = 0;
  size = 0;

  push(cb: ReplyCallback): void {
    if (this.size === this.buf.length) {
      const grown: Array<ReplyCallback | undefined> = new Array(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) grown[i] = this.buf[(this.head + i) % this.buf.length];
      this.buf = grown;
      this.head = 0;
    }
    this.buf[(this.head + this.size) % this.buf.length] = cb;
    this.size++;
  }

  shift(): ReplyCallback | undefined {
    if (this.size === 0) return undefined;
    const cb = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.size--;
    return cb;
  }
}

interface Frame {
  items: RespValue[];
  left: number;
}

/**
 * Resumable RESP2 parser: arrays under construction stay on a stack between chunks, so a large
 * reply (XREAD of 1000 entries) is parsed once however it is split. Only an incomplete scalar at
 * the end of a chunk is carried over.
 */
class RespParser {
  private stack: Frame[] = [];
  private chunks: Buffer[] = [];
  private chunksLen = 0;
  private need = 0;

  constructor(private readonly onReply: (v: RespValue, err?: RedisError) => void) {}

  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunksLen += chunk.length;
    if (this.chunksLen < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunksLen);
    const used = this.parse(buf);
    const rest = used >= buf.length ? undefined : buf.subarray(used);
    this.chunks = rest ? [rest] : [];
    this.chunksLen = rest ? rest.length : 0;
  }

  /** Parses the integer at buf[from..] up to its CR; returns it and leaves the CR's index in `this.eol` (-1 if absent). */
  private eol = -1;
  private int(buf: Buffer, from: number): number {
    let i = from;
    let neg = false;
    if (buf[i] === 0x2d /* - */) {
      neg = true;
      i++;
    }
    let n = 0;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === 0x0d) break;
      n = n * 10 + (c - 0x30);
    }
    // The CR must be followed by its LF within the buffer for the line to be complete.
    this.eol = i + 1 < buf.length ? i : -1;
    return neg ? -n : n;
  }

  private parse(buf: Buffer): number {
    let pos = 0;
    this.need = 0;
    while (pos < buf.length) {
      const type = buf[pos]!;
      let value: RespValue;
      let err: RedisError | undefined;
      // Lengths and integers are read digit by digit; the other lines are searched for.
      const isNum = type === 0x24 || type === 0x2a || type === 0x3a;
      const num = isNum ? this.int(buf, pos + 1) : 0;
      const eol = isNum ? this.eol : buf.indexOf(CRLF, pos);
      if (eol < 0) {
        this.need = buf.length - pos + 1;
        return pos;
      }
      switch (type) {
        case 0x24 /* $ */: {
          const len = num;
          if (len < 0) {
            value = null;
            pos = eol + 2;
            break;
          }
          const end = eol + 2 + len;
          if (end + 2 > buf.length) {
            this.need = end + 2 - pos;
            return pos;
          }
          value = buf.subarray(eol + 2, end);
          pos = end + 2;
          break;
        }
        case 0x2a /* * */: {
          const n = num;
          pos = eol + 2;
          if (n > 0) {
            this.stack.push({ items: [], left: n });
            continue;
          }
          value = n < 0 ? null : [];
          break;
        }
        case 0x2b /* + */:
          value = buf.toString('utf8', pos + 1, eol);
          pos = eol + 2;
          break;
        case 0x3a /* : */:
          value = num;
          pos = eol + 2;
          break;
        case 0x2d /* - */:
          value = null;
          err = new RedisError(buf.toString('utf8', pos + 1, eol));
          pos = eol + 2;
          break;
        default:
          throw new RedisError(`protocol error: unexpected byte 0x${type.toString(16)} in a reply`);
      }
      this.emit(value, err);
    }
    return pos;
  }

  private emit(value: RespValue, err: RedisError | undefined): void {
    let v = value;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) {
        this.onReply(v, err);
        return;
      }
      // An error inside an array (EXEC replies) is kept as its message; top-level errors reject.
      top.items.push(err ? err.message : v);
      err = undefined;
      if (--top.left > 0) return;
      this.stack.pop();
      v = top.items;
    }
  }
}

export class RedisConnection {
  private readonly queue = new CallbackQueue();
  private readonly parser: RespParser;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private closedErr?: Error;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    this.parser = new RespParser((v, err) => {
      const cb = this.queue.shift();
      if (cb) cb(err, v);
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        this.parser.feed(chunk);
      } catch (err) {
        this.fail(err as Error);
        sock.destroy();
      }
    });
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new RedisError('connection closed')));
  }

  static async connect(host: string, port: number): Promise<RedisConnection> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    return new RedisConnection(sock);
  }

  /** Sends a pre-encoded command (see encodeCommand); cb gets its reply in order. */
  sendEncoded(cmd: Buffer, cb: ReplyCallback): void {
    if (this.closedErr) {
      const err = this.closedErr;
      queueMicrotask(() => cb(err, null));
      return;
    }
    this.queue.push(cb);
    this.out.push(cmd);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushOut());
    }
  }

  command(args: ReadonlyArray<string | Buffer>): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      this.sendEncoded(encodeCommand(args), (err, v) => (err ? reject(err) : resolve(v)));
    });
  }

  get outstanding(): number {
    return this.queue.size;
  }

  private flushOut(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.closedErr) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.sock.write(data);
  }

  close(): void {
    this.fail(new RedisError('connection closed by the client'));
    this.sock.destroy();
  }

  private fail(err: Error): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (let cb = this.queue.shift(); cb; cb = this.queue.shift()) cb(err, null);
  }
}

/** Waits until the server answers PING with PONG (not -LOADING). */
export async function waitForRedis(rc: RedisConnection, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await rc.command(['PING'])) === 'PONG') return;
    } catch (err) {
      if (Date.now() > end) throw err;
    }
    if (Date.now() > end) throw new RedisError('PING did not answer PONG');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A field of INFO, e.g. infoField(rc, 'server', 'redis_version'). */
export async function infoField(rc: RedisConnection, section: string, field: string): Promise<string | undefined> {
  const v = await rc.command(['INFO', section]);
  const text = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(text);
  return m?.[1]?.trim();
}

/** XADD <stream> * f <value>, encoded once: every publish writes the same bytes. */
export class StreamAppender {
  private readonly cmd: Buffer;

  constructor(private readonly rc: RedisConnection, stream: string, value: Buffer) {
    this.cmd = encodeCommand(['XADD', stream, '*', 'f', value]);
  }

  publish(done: (err?: Error) => void): void {
    this.rc.sendEncoded(this.cmd, (err, v) => {
      if (err) done(err);
      else if (!Buffer.isBuffer(v)) done(new RedisError(`unexpected XADD reply: ${String(v)}`));
      else done();
    });
  }
}

export interface XReadResult {
  messages: number;
  bytes: number;
  requests: number;
  elapsedMs: number;
}

/** Reads `expected` entries from the start of a stream with an `XREAD COUNT <count>` loop (one call outstanding). */
export async function xreadDrain(rc: RedisConnection, stream: string, expected: number, count: number): Promise<XReadResult> {
  let last = '0-0';
  let messages = 0;
  let bytes = 0;
  let requests = 0;
  const start = performance.now();
  while (messages < expected) {
    requests++;
    const reply = await rc.command(['XREAD', 'COUNT', String(count), 'STREAMS', stream, last]);
    // [[stream, [[id, [field, value, ...]], ...]]] or null when nothing follows `last`.
    if (reply === null) throw new RedisError(`XREAD found nothing after ${last} at ${messages}/${expected} entries`);
    const entries = ((reply as RespValue[])[0] as RespValue[])[1] as RespValue[];
    for (const e of entries) {
      const fields = (e as RespValue[])[1] as RespValue[];
      for (let i = 1; i < fields.length; i += 2) bytes += (fields[i] as Buffer).length;
    }
    messages += entries.length;
    const lastEntry = entries[entries.length - 1] as RespValue[] | undefined;
    if (!lastEntry) break;
    last = (lastEntry[0] as Buffer).toString('latin1');
  }
  return { messages, bytes, requests, elapsedMs: performance.now() - start };
}
