import { createServer, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import type { Logger } from '../common/logger.js';
import { ResponseCode } from './codes.js';
import { createResponse, type RemotingCommand } from './command.js';
import { Connection, type RequestHandler } from './connection.js';
import { DEFAULT_MAX_FRAME_SIZE } from './codec.js';
import { BusyPoll } from './busy-poll.js';

export interface RemotingServerOptions {
  port: number;
  host?: string;
  maxFrameSize?: number;
  /** Connections idle this long are closed (upstream: 120 s). 0 disables. */
  idleTimeoutMs?: number;
  /** Longest busy-polling window after a read, in µs (see BusyPoll); 0 disables busy polling. */
  busyPollMicros?: number;
  logger: Logger;
}

/** Checks a request before its processor runs; returns the response that ends it, or null to go on. */
export type RequestPipeline = (request: RemotingCommand, conn: Connection) => RemotingCommand | null;

/**
 * Remoting TCP server: one processor per request code, REQUEST_CODE_NOT_SUPPORTED for the rest.
 * Emits `connection` and `disconnect` with the Connection, so roles can track channels.
 */
export class RemotingServer extends EventEmitter {
  private server?: Server;
  private readonly processors = new Map<number, RequestHandler>();
  private readonly connections = new Set<Connection>();
  private boundPort = 0;
  private readonly busyPoll: BusyPoll | undefined;
  private pipeline: RequestPipeline | undefined;

  constructor(private readonly opts: RemotingServerOptions) {
    super();
    this.busyPoll = opts.busyPollMicros ? new BusyPoll(opts.busyPollMicros) : undefined;
  }

  registerProcessor(code: number, handler: RequestHandler): void {
    this.processors.set(code, handler);
  }

  /**
   * Runs before the processor of every supported request (upstream `RequestPipeline`, e.g. the
   * broker's authentication and authorization): a command it returns is the answer instead.
   */
  setRequestPipeline(pipeline: RequestPipeline | undefined): void {
    this.pipeline = pipeline;
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.onSocket(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ port: this.opts.port, host: this.opts.host ?? '0.0.0.0', backlog: 1024 }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.opts.port;
    server.on('error', (err) => this.opts.logger.error({ err }, 'remoting server error'));
  }

  private onSocket(socket: Socket): void {
    const conn = new Connection(
      socket,
      (req, c) => this.handle(req, c),
      (c, err) => this.opts.logger.warn(`connection ${c.remoteAddress}: ${err.message}; closing it if the stream is unusable`),
      this.opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      this.busyPoll,
    );
    const idle = this.opts.idleTimeoutMs ?? 120_000;
    if (idle > 0) {
      socket.setTimeout(idle, () => {
        this.opts.logger.info(`connection ${conn.remoteAddress} idle for ${idle} ms, closing it`);
        conn.close();
      });
    }
    this.connections.add(conn);
    conn.once('close', () => {
      this.connections.delete(conn);
      this.emit('disconnect', conn);
    });
    this.emit('connection', conn);
  }

  private handle(req: RemotingCommand, conn: Connection): Promise<RemotingCommand | null> | RemotingCommand | null {
    const p = this.processors.get(req.code);
    if (!p) {
      return createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${req.code} not supported`);
    }
    if (this.pipeline) {
      const abort = this.pipeline(req, conn);
      if (abort) return abort;
    }
    return p(req, conn);
  }

  /** Stops accepting and closes every connection. */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const c of this.connections) c.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
