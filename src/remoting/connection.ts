import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { CodecError, DEFAULT_MAX_FRAME_SIZE, decodeCommand, FrameDecoder, measureHead, writeHead } from './codec.js';
import { RPC_ONEWAY, isResponse, type RemotingCommand } from './command.js';
import { RemotingSendRequestError, RemotingTimeoutError } from './errors.js';
import type { BusyPoll } from './busy-poll.js';
import { PendingTable } from './pending-table.js';
import { adjacentJoined } from '../common/bytes.js';

export type RequestHandler = (request: RemotingCommand, conn: Connection) => Promise<RemotingCommand | null> | RemotingCommand | null;

interface Pending {
  readonly opaque: number;
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  /**
   * Wall-clock time of the first timeout scan that saw the request (0 until then): never
   * before it was sent, so a request never times out early.
   */
  seenAt: number;
  timeoutMs: number;
  code: number;
}

/**
 * Period of the scan for requests past their deadline (upstream scans its response table once
 * a second). One interval per busy connection instead of a timer per request: a timer costs an
 * allocation and two list operations on every send, the scan a few comparisons per 50 ms.
 */
const TIMEOUT_SCAN_MS = 50;

/** Output slab sizes: the first is small (most connections are quiet), each next one twice as big up to the max. */
const OUT_SLAB_MIN = 16 * 1024;
const OUT_SLAB_MAX = 256 * 1024;
/** Bodies at least this large leave as their own buffer instead of being copied into the slab. */
const COPY_BODY_MAX = 16 * 1024;
/**
 * Once this many bytes of a tick's frames are waiting, the first of them leave at once, once
 * per tick; the rest still leave together at the tick's end. One connection carrying a window
 * of requests otherwise moves it as a single block: the peer sits idle while this side encodes
 * the whole window, then this side while the peer answers it, each process about half busy.
 * An early part lets the peer start while this side goes on (one producer with 256 sends in
 * flight: 102,000-105,000 → 132,000-143,000 msgs/s; with four connections and under
 * SYNC_FLUSH no change, where a write at every 16 KiB cost 5 % of the sync rate).
 */
const EARLY_FLUSH_BYTES = 16 * 1024;

/**
 * One full-duplex Remoting connection: frames in and out, requests both ways paired by
 * opaque, reads paused while the socket's send buffer is full.
 *
 * Output: every frame of a tick is encoded straight into a shared slab and the tick ends with
 * one socket write of the new bytes (a Node socket costs about as much per write as per
 * kilobyte copied, so hundreds of small replies must not be hundreds of writes). Written
 * parts of the slab are never touched again; the rest keeps filling in later ticks until a
 * new slab is needed. Large bodies (pull responses) leave at once and without a copy.
 */
export class Connection extends EventEmitter {
  readonly remoteAddress: string;
  readonly localAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new PendingTable<Pending>();
  private out: Buffer | undefined;
  /** Writes of `out` bytes handed to the socket (or queued) and not completed yet. */
  private outPending = 0;
  /** Completion callback of the writes of the current slab (one closure per slab, not per write). */
  private outDone: (() => void) | undefined;
  /** Start of the bytes of `out` not handed to the socket yet, and the end of those. */
  private outStart = 0;
  private outEnd = 0;
  /** Whole buffers queued behind the slab bytes (large bodies), in order. */
  private outQueue: Buffer[] = [];
  /** Per `outQueue` entry: the completion callback when the entry is slab bytes. */
  private outQueueDone: Array<(() => void) | undefined> = [];
  private flushScheduled = false;
  /** Whether this tick already sent its early part (see EARLY_FLUSH_BYTES). */
  private earlyFlushed = false;
  /** Bytes of slab frames encoded since the last write to the socket. */
  private unsent = 0;
  private slabSize = OUT_SLAB_MIN;
  private closed = false;
  private nextOpaque = 1;
  private timeoutScan: NodeJS.Timeout | undefined;
  /** Free-form per-connection state for the roles (client id, language, version). */
  readonly attrs: Record<string, unknown> = {};

  constructor(
    readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly onError: (conn: Connection, err: Error) => void,
    maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
    /** Told of every read (servers only): keeps the loop polling while clients send one request at a time. */
    private readonly busyPoll?: BusyPoll,
    /** The socket reads into a ReadSlab (net `onread`), whose callback calls `receive`: no 'data' events. */
    slabReads = false,
  ) {
    super();
    this.decoder = new FrameDecoder(maxFrameSize);
    this.remoteAddress = `${stripV4Mapped(socket.remoteAddress ?? 'unknown')}:${socket.remotePort ?? 0}`;
    this.localAddress = `${stripV4Mapped(socket.localAddress ?? 'unknown')}:${socket.localPort ?? 0}`;
    socket.setNoDelay(true);
    if (!slabReads) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => {
      if (!this.closed) this.onError(this, err);
    });
    socket.on('close', (hadError) => {
      // The peer left in the middle of a frame: say so once (an 'error' was already reported).
      if (!this.closed && !hadError && this.decoder.buffered > 0) {
        this.onError(this, new CodecError(`peer closed the connection in the middle of a frame (${this.decoder.buffered} bytes of it received)`));
      }
      this.onClose();
    });
    socket.on('drain', () => socket.resume());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes read from the socket, in order. */
  receive(chunk: Buffer): void {
    let frames = 0;
    try {
      this.decoder.push(chunk, (frame) => {
        frames++;
        this.onFrame(frame);
      });
    } catch (err) {
      this.onError(this, err as Error);
      this.close();
    }
    this.busyPoll?.onRead(frames);
  }

  private onFrame(frame: Buffer): void {
    const cmd = decodeCommand(frame); // CodecError propagates to receive and closes the connection
    if (isResponse(cmd)) {
      this.pending.take(cmd.opaque)?.resolve(cmd);
      return;
    }
    this.dispatch(cmd);
  }

  private dispatch(cmd: RemotingCommand): void {
    let result: Promise<RemotingCommand | null> | RemotingCommand | null;
    try {
      result = this.handler(cmd, this);
    } catch (err) {
      this.replyError(cmd, err as Error);
      return;
    }
    if (result && typeof (result as Promise<RemotingCommand | null>).then === 'function') {
      (result as Promise<RemotingCommand | null>).then(
        (res) => { if (res) this.reply(cmd, res); },
        (err: Error) => this.replyError(cmd, err),
      );
    } else if (result) {
      this.reply(cmd, result as RemotingCommand);
    }
  }

  /** Sends `res` as the response to `req` (no-op for oneway requests). Used for deferred replies too. */
  reply(req: RemotingCommand, res: RemotingCommand): void {
    if ((req.flag & RPC_ONEWAY) !== 0) {
      res.onWritten?.();
      return;
    }
    res.opaque = req.opaque;
    this.writeCommand(res);
  }

  /**
   * Answers a request whose processor threw. Errors that carry a `responseCode` (bad headers,
   * bad bodies) are the client's fault and answered with it; anything else is SYSTEM_ERROR.
   */
  private replyError(req: RemotingCommand, err: Error): void {
    const responseCode = (err as { responseCode?: number }).responseCode;
    if (responseCode === undefined) this.onError(this, err);
    if ((req.flag & RPC_ONEWAY) !== 0) return;
    const res: RemotingCommand = {
      code: responseCode ?? 1, language: 'JAVA', version: req.version, opaque: req.opaque, flag: 1,
      remark: responseCode === undefined ? `${err.name}: ${err.message}` : err.message, serializeType: req.serializeType,
    };
    this.writeCommand(res);
  }

  /** Encodes `cmd` (with `body` or `bodyParts`) into the output of this tick. */
  writeCommand(cmd: RemotingCommand): void {
    if (this.closed) {
      cmd.onWritten?.();
      return;
    }
    let bodyLen = 0;
    const parts = cmd.bodyParts;
    if (parts) for (let i = 0; i < parts.length; i++) bodyLen += parts[i]!.length;
    else if (cmd.body) bodyLen = cmd.body.length;
    const headLen = measureHead(cmd);
    const copyBody = bodyLen < COPY_BODY_MAX;
    const need = headLen + (copyBody ? bodyLen : 0);
    let out = this.out;
    if (!out || this.outEnd + need > out.length) out = this.newSlab(need);
    let p = this.outEnd;
    writeHead(out, p, cmd, headLen, bodyLen);
    p += headLen;
    if (copyBody) {
      if (parts) for (let i = 0; i < parts.length; i++) p += parts[i]!.copy(out, p);
      else if (cmd.body) p += cmd.body.copy(out, p);
      this.outEnd = p;
      cmd.onWritten?.();
      this.unsent += need;
      if (!this.earlyFlushed && this.unsent >= EARLY_FLUSH_BYTES) {
        this.earlyFlushed = true;
        this.writeOut();
      }
    } else {
      this.outEnd = p;
      this.moveSlabToQueue();
      // The socket is done with every part once the last one's write completes (in order).
      if (parts) {
        const joined = adjacentJoined(parts);
        for (let i = 0; i < joined.length; i++) this.enqueue(joined[i]!, i === joined.length - 1 ? cmd.onWritten : undefined);
      }
      else this.enqueue(cmd.body!, cmd.onWritten);
      // A large response body leaves at once, with what the tick wrote before it: the peer
      // reads and decodes it while this side goes on with the tick (a drain's pull answers
      // otherwise leave together at its end, and the two processes take turns instead of
      // overlapping). Requests (producers' batches) still leave together at the tick's end.
      if (isResponse(cmd)) {
        this.flush();
        return;
      }
    }
    this.scheduleFlush();
  }

  /** Queues a whole buffer behind what this tick wrote; `done` when it is slab bytes. */
  private enqueue(buf: Buffer, done: (() => void) | undefined): void {
    this.outQueue.push(buf);
    this.outQueueDone.push(done);
  }

  /**
   * A slab with room for `need` bytes; what the old one holds unwritten is queued first. When
   * every write of the current slab has completed, the slab is reused from its start: busy
   * connections then allocate nothing per tick (fresh buffers are external memory, and V8 runs
   * full collections as that grows).
   */
  private newSlab(need: number): Buffer {
    this.moveSlabToQueue();
    const cur = this.out;
    if (cur !== undefined && this.outPending === 0 && need <= cur.length) {
      this.outStart = 0;
      this.outEnd = 0;
      return cur;
    }
    const out = Buffer.allocUnsafe(Math.max(this.slabSize, need));
    this.slabSize = Math.min(this.slabSize * 2, OUT_SLAB_MAX);
    this.out = out;
    this.outStart = 0;
    this.outEnd = 0;
    this.outPending = 0;
    // A slab given up while writes of it were pending must not touch the new slab's count.
    this.outDone = (): void => {
      if (this.out === out) this.outPending--;
    };
    return out;
  }

  private moveSlabToQueue(): void {
    if (this.outEnd > this.outStart) {
      this.enqueue(this.out!.subarray(this.outStart, this.outEnd), this.outDone);
      this.outPending++;
      this.outStart = this.outEnd;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Hands everything queued to the socket (at the end of a tick, or at once for a large body). */
  private flush(): void {
    this.flushScheduled = false;
    this.earlyFlushed = false;
    this.writeOut();
  }

  private writeOut(): void {
    this.unsent = 0;
    if (this.closed) return;
    const socket = this.socket;
    const q = this.outQueue;
    if (q.length === 0) {
      // The common case: only slab bytes, one write.
      if (this.outEnd > this.outStart) {
        this.outPending++;
        socket.write(this.out!.subarray(this.outStart, this.outEnd), this.outDone);
        this.outStart = this.outEnd;
      }
    } else {
      this.moveSlabToQueue();
      const done = this.outQueueDone;
      this.outQueue = [];
      this.outQueueDone = [];
      socket.cork();
      for (let i = 0; i < q.length; i++) socket.write(q[i]!, done[i]);
      socket.uncork();
    }
    // Backpressure: stop reading requests while replies cannot leave.
    if (socket.writableNeedDrain) socket.pause();
  }

  /** Sends a request and waits for its response. */
  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closed) return Promise.reject(new RemotingSendRequestError(this.remoteAddress, 'connection closed'));
    const opaque = this.allocOpaque();
    cmd.opaque = opaque;
    cmd.flag &= ~1;
    return new Promise((resolve, reject) => {
      this.pending.set({ opaque, resolve, reject, seenAt: 0, timeoutMs, code: cmd.code });
      if (this.timeoutScan === undefined) this.timeoutScan = setInterval(() => this.scanTimeouts(), TIMEOUT_SCAN_MS);
      this.writeCommand(cmd);
    });
  }

  /** Fails the requests past their deadline; stops itself when nothing is pending. */
  private scanTimeouts(): void {
    if (this.pending.size === 0) {
      clearInterval(this.timeoutScan);
      this.timeoutScan = undefined;
      return;
    }
    // Deadlines are measured on the clock, not in scans: under load the interval fires late
    // and a count of scans would stretch every timeout by the lag. A request times out at the
    // first scan timeoutMs after the scan that first saw it, so between timeoutMs and timeoutMs
    // plus two scan periods after it was sent, however late the periods run.
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (p.seenAt === 0) p.seenAt = now;
      if (now - p.seenAt < p.timeoutMs) continue;
      this.pending.take(p.opaque);
      p.reject(new RemotingTimeoutError(this.remoteAddress, p.timeoutMs, p.code));
    }
  }

  /** Sends a request that gets no response. */
  invokeOneway(cmd: RemotingCommand): void {
    cmd.opaque = this.allocOpaque();
    cmd.flag |= RPC_ONEWAY;
    this.writeCommand(cmd);
  }

  private allocOpaque(): number {
    const o = this.nextOpaque;
    this.nextOpaque = this.nextOpaque >= 0x7ffffff0 ? 1 : this.nextOpaque + 1;
    return o;
  }

  close(): void {
    if (this.closed) return;
    this.socket.destroy();
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timeoutScan);
    this.timeoutScan = undefined;
    for (const p of this.pending.values()) {
      p.reject(new RemotingSendRequestError(this.remoteAddress, 'connection closed before the response arrived'));
    }
    this.pending.clear();
    this.emit('close');
  }
}

/** An IPv4 peer of a dual-stack socket as Java prints it: `127.0.0.1`, not `::ffff:127.0.0.1`. */
export function stripV4Mapped(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export { CodecError };
