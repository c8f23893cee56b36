import { connect } from 'node:net';
import { createResponse, type RemotingCommand } from './command.js';
import { Connection, type RequestHandler } from './connection.js';
import { ReadSlab } from './read-slab.js';
import { RemotingConnectError } from './errors.js';
import { ResponseCode } from './codes.js';
import { splitAddress } from '../common/socket-address.js';
import { DEFAULT_MAX_FRAME_SIZE } from './codec.js';

export interface RemotingClientOptions {
  connectTimeoutMs?: number;
  maxFrameSize?: number;
  /** Handles requests the server sends on our connection (NOTIFY_CONSUMER_IDS_CHANGED, …). */
  onRequest?: RequestHandler;
  onError?: (addr: string, err: Error) => void;
  /** Called when a connection to `addr` opens, before any request is written on it. */
  onConnect?: (addr: string) => void;
  /**
   * Called with every request before it is written (upstream `RPCHook.doBeforeRequest`), e.g. to
   * sign it with the ACL credentials (`aclRpcHook`).
   */
  rpcHook?: (addr: string, cmd: RemotingCommand) => void;
}

/** Remoting client: one lazily opened connection per server address, reopened after a close. */
export class RemotingClient {
  private readonly conns = new Map<string, Promise<Connection>>();
  /** The connections of `conns` that are open, for the synchronous fast path of `invoke`. */
  private readonly ready = new Map<string, Connection>();
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {}

  invoke(addr: string, cmd: RemotingCommand, timeoutMs = 3000): Promise<RemotingCommand> {
    this.opts.rpcHook?.(addr, cmd);
    // An open connection is used at once: no promise hop on every request.
    const ready = this.ready.get(addr);
    if (ready !== undefined && !ready.isClosed && !this.closed) return ready.invoke(cmd, timeoutMs);
    return this.getConnection(addr).then((conn) => conn.invoke(cmd, timeoutMs));
  }

  async invokeOneway(addr: string, cmd: RemotingCommand): Promise<void> {
    this.opts.rpcHook?.(addr, cmd);
    const conn = await this.getConnection(addr);
    conn.invokeOneway(cmd);
  }

  getConnection(addr: string): Promise<Connection> {
    if (this.closed) return Promise.reject(new RemotingConnectError(addr, new Error('client is shut down')));
    let p = this.conns.get(addr);
    if (!p) {
      p = this.open(addr);
      this.conns.set(addr, p);
      p.catch(() => {
        if (this.conns.get(addr) === p) this.conns.delete(addr);
      });
    }
    return p;
  }

  private open(addr: string): Promise<Connection> {
    const { host, port } = splitAddress(addr);
    const timeout = this.opts.connectTimeoutMs ?? 3000;
    return new Promise((resolve, reject) => {
      const slab = new ReadSlab();
      let conn: Connection | undefined;
      const socket = connect({
        host, port, noDelay: true,
        onread: { buffer: () => slab.next(), callback: (n, into) => { conn?.receive(slab.take(into as Buffer, n)); return true; } },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RemotingConnectError(addr, new Error(`timed out after ${timeout} ms`)));
      }, timeout);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new RemotingConnectError(addr, err));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        const handler: RequestHandler = this.opts.onRequest ?? ((req) => createResponse(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${req.code} not supported`));
        const opened = new Connection(socket, handler, (_c, err) => this.opts.onError?.(addr, err), this.opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, undefined, true);
        conn = opened;
        this.ready.set(addr, opened);
        try {
          this.opts.onConnect?.(addr);
        } catch (err) {
          this.opts.onError?.(addr, err as Error);
        }
        opened.once('close', () => {
          if (this.ready.get(addr) === opened) this.ready.delete(addr);
          const cur = this.conns.get(addr);
          if (cur) void cur.then((c) => { if (c === opened) this.conns.delete(addr); }, () => undefined);
        });
        resolve(opened);
      });
    });
  }

  /** Closes the connection to one address (the next call reconnects). */
  closeConnection(addr: string): void {
    const p = this.conns.get(addr);
    this.conns.delete(addr);
    this.ready.delete(addr);
    if (p) void p.then((c) => c.close(), () => undefined);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    const all = [...this.conns.values()];
    this.conns.clear();
    this.ready.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close(), () => undefined)));
  }
}
