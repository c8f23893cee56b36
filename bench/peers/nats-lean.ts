import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A lean NATS client over node:net, just enough for the peer benchmark: the text protocol
 * (INFO, CONNECT with verbose=false, PUB, SUB, MSG/HMSG, PING/PONG, +OK/-ERR) and a handful of
 * JetStream API calls made over it. Writes issued within one tick go out in one socket write;
 * incoming payloads are handed out as views into the read buffer, never copied.
 */

const CRLF = Buffer.from('\r\n');

export interface NatsMsg {
  subject: string;
  sid: number;
  reply: string | undefined;
  /** Raw header block (HMSG only), e.g. `NATS/1.0 404 No Messages\r\n\r\n`. */
  headers: Buffer | undefined;
  /** Status code from the header block's first line (JetStream flow and error statuses), or 0. */
  status: number;
  /** Valid only during the callback unless copied. */
  payload: Buffer;
}

export type MsgHandler = (msg: NatsMsg) => void;

export class NatsError extends Error {
  override name = 'NatsError';
}

interface PendingRequest {
  resolve: (m: NatsMsg) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function statusOf(headers: Buffer): number {
  // "NATS/1.0 404 No Messages" — the code follows the version when there is one.
  const eol = headers.indexOf(CRLF);
  const line = headers.toString('latin1', 0, eol < 0 ? headers.length : eol);
  const m = /^NATS\/1\.0 (\d{3})/.exec(line);
  return m ? Number(m[1]) : 0;
}

export class NatsConnection {
  /** Unique prefix of this connection's reply subjects. */
  readonly inbox = `_INBOX.${randomBytes(8).toString('hex')}`;
  serverInfo: Record<string, unknown> = {};

  private readonly subs = new Map<number, MsgHandler>();
  private nextSid = 1;
  private out: Buffer[] = [];
  private flushScheduled = false;
  private pongWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private infoWaiter?: () => void;
  private readonly requests = new Map<number, PendingRequest>();
  private nextReq = 1;
  private reqSid = 0;
  private closedErr?: Error;
  private lastServerErr?: string;

  // Read side: unparsed bytes split over chunks, and how many bytes the next frame needs.
  private chunks: Buffer[] = [];
  private chunksLen = 0;
  private need = 0;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new NatsError(this.lastServerErr ? `connection closed: ${this.lastServerErr}` : 'connection closed')));
  }

  /** Connects, waits for INFO, sends CONNECT (verbose=false, headers on for JetStream statuses) and round-trips a PING. */
  static async connect(host: string, port: number, name = 'bench-peers'): Promise<NatsConnection> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const nc = new NatsConnection(sock);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new NatsError('no INFO from the server within 5 s')), 5000);
      nc.infoWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const connectOpts = { verbose: false, pedantic: false, tls_required: false, name, lang: 'node-lean', version: '0.1.0', protocol: 1, headers: true, no_responders: true, echo: false };
    nc.write(Buffer.from(`CONNECT ${JSON.stringify(connectOpts)}\r\n`));
    await nc.flush();
    nc.reqSid = nc.subscribe(`${nc.inbox}.r.*`, (m) => nc.onResponse(m));
    return nc;
  }

  /** Queues bytes; everything queued within the current tick goes out in one write. */
  private write(buf: Buffer): void {
    if (this.closedErr) throw this.closedErr;
    this.out.push(buf);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushOut());
    }
  }

  private flushOut(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.closedErr) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.sock.write(data);
  }

  /** PUB <subject> [reply] <#bytes>. */
  publish(subject: string, payload: Buffer, reply?: string): void {
    const head = reply ? `PUB ${subject} ${reply} ${payload.length}\r\n` : `PUB ${subject} ${payload.length}\r\n`;
    this.write(Buffer.from(head, 'latin1'));
    this.write(payload);
    this.write(CRLF);
  }

  /** SUB <subject> <sid>; returns the sid. */
  subscribe(subject: string, handler: MsgHandler): number {
    const sid = this.nextSid++;
    this.subs.set(sid, handler);
    this.write(Buffer.from(`SUB ${subject} ${sid}\r\n`, 'latin1'));
    return sid;
  }

  unsubscribe(sid: number): void {
    this.subs.delete(sid);
    this.write(Buffer.from(`UNSUB ${sid}\r\n`, 'latin1'));
  }

  /** PING, resolved on the matching PONG: everything written before has been processed by the server. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      try {
        this.write(Buffer.from('PING\r\n'));
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.pongWaiters.push({ resolve, reject });
    });
  }

  /** Request/reply over this connection's inbox; a 503 status (no responders) rejects. */
  request(subject: string, payload: Buffer | string, timeoutMs = 5000): Promise<NatsMsg> {
    const id = this.nextReq++;
    return new Promise<NatsMsg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new NatsError(`request to ${subject} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.requests.set(id, { resolve, reject, timer });
      try {
        this.publish(subject, typeof payload === 'string' ? Buffer.from(payload) : payload, `${this.inbox}.r.${id}`);
      } catch (err) {
        clearTimeout(timer);
        this.requests.delete(id);
        reject(err as Error);
      }
    });
  }

  private onResponse(m: NatsMsg): void {
    const id = Number(m.subject.slice(m.subject.lastIndexOf('.') + 1));
    const p = this.requests.get(id);
    if (!p) return;
    this.requests.delete(id);
    clearTimeout(p.timer);
    if (m.status === 503) p.reject(new NatsError('no responders (is JetStream enabled?)'));
    else p.resolve({ ...m, payload: Buffer.from(m.payload) });
  }

  close(): void {
    this.fail(new NatsError('connection closed by the client'));
    this.sock.destroy();
  }

  get closed(): boolean {
    return this.closedErr !== undefined;
  }

  private fail(err: Error): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (const w of this.pongWaiters) w.reject(err);
    this.pongWaiters = [];
    for (const p of this.requests.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.requests.clear();
    this.onClose?.(err);
  }

  /** Called once when the connection fails or closes. */
  onClose?: (err: Error) => void;

  // ---- read side -----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.chunksLen += chunk.length;
    if (this.chunksLen < this.need) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunksLen);
    const used = this.parse(buf);
    if (used >= buf.length) {
      this.chunks = [];
      this.chunksLen = 0;
    } else {
      const rest = used === 0 ? buf : buf.subarray(used);
      this.chunks = [rest];
      this.chunksLen = rest.length;
    }
  }

  /** Parses whole frames from buf; returns the bytes consumed and sets `need` for a partial frame. */
  private parse(buf: Buffer): number {
    let pos = 0;
    this.need = 0;
    while (pos < buf.length) {
      const eol = buf.indexOf(CRLF, pos);
      if (eol < 0) {
        this.need = buf.length - pos + 1;
        return pos;
      }
      const c0 = buf[pos]!;
      if (c0 === 0x4d /* M */ || c0 === 0x48 /* H */) {
        // MSG <subject> <sid> [reply-to] <#bytes> | HMSG <subject> <sid> [reply-to] <#hdr> <#total>
        const parts = buf.toString('latin1', pos, eol).split(' ');
        const isH = c0 === 0x48;
        const nargs = parts.length - 1;
        const total = Number(parts[parts.length - 1]);
        const hdrLen = isH ? Number(parts[parts.length - 2]) : 0;
        const hasReply = nargs === (isH ? 5 : 4);
        const start = eol + 2;
        const end = start + total;
        if (end + 2 > buf.length) {
          this.need = end + 2 - pos;
          return pos;
        }
        const headers = isH ? buf.subarray(start, start + hdrLen) : undefined;
        const msg: NatsMsg = {
          subject: parts[1]!,
          sid: Number(parts[2]),
          reply: hasReply ? parts[3] : undefined,
          headers,
          status: headers ? statusOf(headers) : 0,
          payload: buf.subarray(start + hdrLen, end),
        };
        pos = end + 2;
        const h = this.subs.get(msg.sid);
        if (h) h(msg);
        continue;
      }
      const line = buf.toString('latin1', pos, eol);
      pos = eol + 2;
      if (line === 'PING') this.write(Buffer.from('PONG\r\n'));
      else if (line === 'PONG') this.pongWaiters.shift()?.resolve();
      else if (line.startsWith('+OK')) continue;
      else if (line.startsWith('-ERR')) this.onServerError(line.slice(4).trim());
      else if (line.startsWith('INFO')) {
        try {
          this.serverInfo = JSON.parse(line.slice(4).trim()) as Record<string, unknown>;
        } catch {
          this.serverInfo = {};
        }
        this.infoWaiter?.();
        this.infoWaiter = undefined;
      }
    }
    return pos;
  }

  private onServerError(text: string): void {
    this.lastServerErr = text;
    // Permission errors keep the connection; the others are followed by the server closing it.
    // Either way, anyone waiting on a PONG would wait forever if this error replaced it.
    const err = new NatsError(`server error: ${text}`);
    if (!/permissions violation/i.test(text)) {
      for (const w of this.pongWaiters) w.reject(err);
      this.pongWaiters = [];
    }
  }
}

// ---- JetStream over the connection -----------------------------------------------------------

export class JetStreamApiError extends NatsError {
  override name = 'JetStreamApiError';
  constructor(readonly api: string, readonly code: number, readonly errCode: number, description: string) {
    super(`${api}: ${description} (code ${code}, err_code ${errCode})`);
  }
}

interface ApiErrorBody {
  error?: { code?: number; err_code?: number; description?: string };
}

/** One `$JS.API.<api>` request with a JSON body; returns the parsed response or throws its error. */
export async function jsApi<T = Record<string, unknown>>(nc: NatsConnection, api: string, body: unknown = '', timeoutMs = 10_000): Promise<T> {
  const payload = body === '' ? '' : JSON.stringify(body);
  const m = await nc.request(`$JS.API.${api}`, payload, timeoutMs);
  const resp = JSON.parse(m.payload.toString('utf8')) as T & ApiErrorBody;
  if (resp.error) throw new JetStreamApiError(api, resp.error.code ?? 0, resp.error.err_code ?? 0, resp.error.description ?? 'unknown error');
  return resp;
}

/** Waits until JetStream answers `$JS.API.INFO` (it may come up a moment after the client port). */
export async function waitForJetStream(nc: NatsConnection, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsApi(nc, 'INFO', '', 2000);
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A stream with file storage and limits retention over the given subjects. */
export async function createFileStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  await jsApi(nc, `STREAM.CREATE.${name}`, {
    name,
    subjects,
    storage: 'file',
    retention: 'limits',
    discard: 'old',
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    num_replicas: 1,
  });
}

/** A durable pull consumer from the start of the stream that needs no acks. */
export async function createDurablePullConsumer(nc: NatsConnection, stream: string, durable: string): Promise<void> {
  await jsApi(nc, `CONSUMER.DURABLE.CREATE.${stream}.${durable}`, {
    stream_name: stream,
    config: { durable_name: durable, ack_policy: 'none', deliver_policy: 'all', replay_policy: 'instant' },
  });
}

/**
 * JetStream publishing: PUB <subject> <inbox>.a.<n>, the ack `{"stream":..,"seq":..}` (or
 * `{"error":..}`) coming back on that inbox. Any number may be outstanding.
 */
export class JetStreamPublisher {
  private readonly pending = new Map<number, (err?: Error) => void>();
  private nextId = 1;
  private readonly prefix: string;

  constructor(private readonly nc: NatsConnection, private readonly subject: string) {
    this.prefix = `${nc.inbox}.a.`;
    nc.subscribe(`${this.prefix}*`, (m) => this.onAck(m));
    nc.onClose = (err) => {
      for (const cb of this.pending.values()) cb(err);
      this.pending.clear();
    };
  }

  /** Publishes; `done` is always called asynchronously, with the ack's error if any. */
  publish(payload: Buffer, done: (err?: Error) => void): void {
    const id = this.nextId++;
    try {
      this.nc.publish(this.subject, payload, this.prefix + id);
    } catch (err) {
      queueMicrotask(() => done(err as Error));
      return;
    }
    this.pending.set(id, done);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  private onAck(m: NatsMsg): void {
    const id = Number(m.subject.slice(this.prefix.length));
    const cb = this.pending.get(id);
    if (!cb) return;
    this.pending.delete(id);
    if (m.status === 503) return cb(new NatsError('no responders: no stream listens on the subject'));
    // The common case is `{"stream":"NAME","seq":N}`; anything else is parsed to find the error.
    if (m.payload.length > 10 && m.payload.toString('latin1', 0, 10) === '{"stream":') return cb();
    try {
      const r = JSON.parse(m.payload.toString('utf8')) as ApiErrorBody & { seq?: number };
      if (r.error) return cb(new JetStreamApiError('publish', r.error.code ?? 0, r.error.err_code ?? 0, r.error.description ?? 'error'));
      if (typeof r.seq === 'number') return cb();
      cb(new NatsError(`unexpected publish ack: ${m.payload.toString('utf8').slice(0, 200)}`));
    } catch {
      cb(new NatsError(`unparsable publish ack: ${m.payload.toString('utf8').slice(0, 200)}`));
    }
  }
}

export interface PullResult {
  messages: number;
  bytes: number;
  requests: number;
  elapsedMs: number;
}

/**
 * Drains `expected` messages from a pull consumer with `$JS.API.CONSUMER.MSG.NEXT` requests of
 * `{"batch":batch,"no_wait":true}`, keeping `inflight` requests outstanding.
 *
 * Delivered messages carry the stream's subject, not the request's inbox, so they are counted
 * against the oldest outstanding request: the server fills its waiting requests first-in
 * first-out, over one ordered queue. A request is done when `batch` messages arrived for it, or
 * when a status on its inbox ends it (404 no messages; 408 at the end of the stream, or refused
 * because the requests already waiting cover what is pending).
 */
export function pullDrain(nc: NatsConnection, stream: string, durable: string, expected: number, batch: number, inflight: number, stallMs = 10_000): Promise<PullResult> {
  const subject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`;
  const prefix = `${nc.inbox}.p.`;
  const body = Buffer.from(JSON.stringify({ batch, no_wait: true }));
  const waiting: Array<{ id: number; left: number }> = [];
  let nextId = 1;
  let messages = 0;
  let bytes = 0;
  let requests = 0;
  let emptyInARow = 0;
  const start = performance.now();
  return new Promise<PullResult>((resolve, reject) => {
    let sid = 0;
    let settled = false;
    let lastProgress = Date.now();
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      if (sid) nc.unsubscribe(sid);
      if (err) reject(err);
      else resolve({ messages, bytes, requests, elapsedMs: performance.now() - start });
    };
    const issue = (): void => {
      const id = nextId++;
      waiting.push({ id, left: batch });
      requests++;
      nc.publish(subject, body, prefix + id);
    };
    const ended = (status: number): void => {
      if (messages >= expected) {
        if (waiting.length === 0) finish();
        return;
      }
      if (status === 404 || status === 408) {
        // The requests still waiting (if any) carry on; only the last one asks again.
        if (waiting.length > 0) return;
        if (++emptyInARow > 100) return finish(new NatsError(`pull stalled at ${messages}/${expected} messages (status ${status})`));
      } else if (status !== 0) {
        return finish(new NatsError(`pull request ended with status ${status}`));
      } else {
        emptyInARow = 0;
      }
      issue();
    };
    sid = nc.subscribe(`${prefix}*`, (m) => {
      if (m.status !== 0) {
        if (m.status === 100) return; // idle heartbeat
        const id = Number(m.subject.slice(prefix.length));
        const i = waiting.findIndex((w) => w.id === id);
        if (i < 0) return;
        waiting.splice(i, 1);
        return ended(m.status);
      }
      messages++;
      bytes += m.payload.length;
      lastProgress = Date.now();
      const head = waiting[0];
      if (head && --head.left === 0) {
        waiting.shift();
        ended(0);
      }
    });
    const watchdog = setInterval(() => {
      if (Date.now() - lastProgress > stallMs) finish(new NatsError(`no message for ${stallMs} ms at ${messages}/${expected}`));
    }, 500);
    for (let i = 0; i < inflight; i++) issue();
  });
}
