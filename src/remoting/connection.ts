import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { CodecError, DEFAULT_MAX_FRAME_SIZE, decodeCommand, encodeCommand, encodeCommandHead, FrameDecoder } from './codec.js';
import { RPC_ONEWAY, isResponse, type RemotingCommand } from './command.js';
import { RemotingSendRequestError, RemotingTimeoutError } from './errors.js';

export type RequestHandler = (request: RemotingCommand, conn: Connection) => Promise<RemotingCommand | null> | RemotingCommand | null;

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One full-duplex Remoting connection: frames in and out, requests both ways paired by
 * opaque, replies written in batches (one corked write per tick), reads paused while the
 * socket's send buffer is full.
 */
export class Connection extends EventEmitter {
  readonly remoteAddress: string;
  readonly localAddress: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private corked = false;
  private closed = false;
  private nextOpaque = 1;
  /** Free-form per-connection state for the roles (client id, language, version). */
  readonly attrs: Record<string, unknown> = {};

  constructor(
    readonly socket: Socket,
    private readonly handler: RequestHandler,
    private readonly onError: (conn: Connection, err: Error) => void,
    maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
  ) {
    super();
    this.decoder = new FrameDecoder(maxFrameSize);
    this.remoteAddress = `${stripV4Mapped(socket.remoteAddress ?? 'unknown')}:${socket.remotePort ?? 0}`;
    this.localAddress = `${stripV4Mapped(socket.localAddress ?? 'unknown')}:${socket.localPort ?? 0}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
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

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, (frame) => this.onFrame(frame));
    } catch (err) {
      this.onError(this, err as Error);
      this.close();
    }
  }

  private onFrame(frame: Buffer): void {
    const cmd = decodeCommand(frame); // CodecError propagates to onData and closes the connection
    if (isResponse(cmd)) {
      const p = this.pending.get(cmd.opaque);
      if (p) {
        this.pending.delete(cmd.opaque);
        clearTimeout(p.timer);
        p.resolve(cmd);
      }
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
    if ((req.flag & RPC_ONEWAY) !== 0) return;
    res.opaque = req.opaque;
    if (res.bodyParts) {
      let len = 0;
      for (const p of res.bodyParts) len += p.length;
      this.write(encodeCommandHead(res, len));
      for (const p of res.bodyParts) this.write(p);
    } else {
      this.write(encodeCommand(res));
    }
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
    this.write(encodeCommand(res));
  }

  /** Writes raw frame bytes; several writes in one tick leave as one writev. */
  write(data: Buffer): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => this.uncork());
    }
    this.socket.write(data);
  }

  /** Writes a frame given as several buffers (header + body views) without concatenating. */
  writeParts(parts: Buffer[]): void {
    for (const p of parts) this.write(p);
  }

  private uncork(): void {
    this.corked = false;
    this.socket.uncork();
    // Backpressure: stop reading requests while replies cannot leave.
    if (this.socket.writableNeedDrain) this.socket.pause();
  }

  /** Sends a request and waits for its response. */
  invoke(cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    if (this.closed) return Promise.reject(new RemotingSendRequestError(this.remoteAddress, 'connection closed'));
    const opaque = this.allocOpaque();
    cmd.opaque = opaque;
    cmd.flag &= ~1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new RemotingTimeoutError(this.remoteAddress, timeoutMs, cmd.code));
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
      this.write(encodeCommand(cmd));
    });
  }

  /** Sends a request that gets no response. */
  invokeOneway(cmd: RemotingCommand): void {
    cmd.opaque = this.allocOpaque();
    cmd.flag |= RPC_ONEWAY;
    this.write(encodeCommand(cmd));
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
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RemotingSendRequestError(this.remoteAddress, 'connection closed before the response arrived'));
    }
    this.pending.clear();
    this.emit('close');
  }
}

function stripV4Mapped(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

export { CodecError };
