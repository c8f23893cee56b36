import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../common/logger.js';
import type { MessageStoreConfig } from '../../common/config.js';
import type { DefaultMessageStore } from '../../store/message-store.js';
import type { HAConnectionRuntimeInfo } from '../../common/ha-runtime-info.js';
import { stripV4Mapped } from '../../remoting/connection.js';

/*
 * Classic master/slave replication (upstream `store/.../ha/DefaultHAService`,
 * `DefaultHAConnection`, `DefaultHAClient`, `GroupTransferService`; no controller, no DLedger).
 *
 * - The master listens on haListenPort (listenPort + 1 unless set; a free port when listenPort
 *   is 0) and advertises `brokerIP2:port` as haServerAddr in REGISTER_BROKER. A slave finds it
 *   in the registration response (or in haMasterAddress) and connects (ha-client.ts).
 * - Slave → master: an 8-byte big-endian long, the slave's CommitLog max offset: on connect,
 *   after every frame applied, and every haSendHeartbeatInterval. The first report says where to
 *   start: 0 (an empty slave) = the start of the master's last CommitLog segment, as upstream.
 * - Master → slave: frames of `long phyOffset, int size` + `size` bytes of the CommitLog as they
 *   are on disk (≤ haTransferBatchSize, never across a segment end); size 0 is a heartbeat,
 *   sent after haSendHeartbeatInterval with nothing to send. The master wakes its connections
 *   once per written batch (DefaultMessageStore.onCommitLogGrew), not per message.
 * - The slave appends the bytes verbatim at the same offsets (DefaultMessageStore
 *   .appendToCommitLog) and its own reput builds the ConsumeQueues and the index; a frame whose
 *   offset is not its log's end closes the connection (upstream: "master pushed offset not equal
 *   the max phy offset in slave"). Either side closes a connection silent for
 *   haHousekeepingInterval; the slave reconnects, so a master restart is survived, and a slave
 *   that crashed recovers its CommitLog as any broker does and resumes from its own max offset.
 * - SYNC_MASTER, as upstream HEAD's CommitLog#handleHA for a classic master: a send with WAIT
 *   (the default) waits until `inSyncReplicas` replicas, the master counting as one, have the
 *   record (a slave's reported offset is past its end); inSyncReplicas 1 (the default) waits for
 *   nothing. A classic pair with a synchronous slave is therefore `totalReplicas=2`,
 *   `inSyncReplicas=2`. Past slaveTimeout the send answers FLUSH_SLAVE_TIMEOUT (the message is
 *   stored). Where HEAD would wait out slaveTimeout with too few slaves connected and in sync
 *   (less than haMaxGapNotInSync behind), we answer SLAVE_NOT_AVAILABLE at once, as 4.x did
 *   (`isSlaveOK`): the code 4.x and 5.x clients know as SendStatus.SLAVE_NOT_AVAILABLE. The wait
 *   starts after the master's own write (and fdatasync under SYNC_FLUSH): no ack precedes it.
 */

/** Frame header from master to slave: long phyOffset, int size. */
export const HA_FRAME_HEADER_SIZE = 12;
/** Report from slave to master: long maxOffset. */
export const HA_REPORT_SIZE = 8;
/** Bytes queued on a slave's socket past which the master waits for 'drain' before reading more. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** How often connections are checked for heartbeats and silence (upstream's services wake every second or so). */
const TICK_MS = 1_000;

/** Outcome of the SYNC_MASTER wait (upstream `PutMessageStatus`). */
export type ReplicaStatus = 'PUT_OK' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

interface TransferRequest {
  nextOffset: number;
  acks: number;
  resolve: (s: ReplicaStatus) => void;
  timer: NodeJS.Timeout;
}

/**
 * The master's side (upstream `DefaultHAService` with its `AcceptSocketService` and
 * `GroupTransferService`): accepts slaves, keeps one HAConnection each, and holds the sends of a
 * SYNC_MASTER until enough slaves acknowledged them.
 */
export class HAService {
  private server?: Server;
  readonly connections = new Set<HAConnection>();
  private requests: TransferRequest[] = [];
  private timer?: NodeJS.Timeout;
  private boundPort = 0;
  /** Highest offset any slave acknowledged (upstream `push2SlaveMaxOffset`). */
  push2SlaveMaxOffset = 0;

  constructor(readonly store: DefaultMessageStore, readonly config: MessageStoreConfig, readonly logger: Logger) {}

  get port(): number {
    return this.boundPort;
  }

  async start(port: number, host?: string): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error(`HA server: ${err.message}`));
    this.server = server;
    const a = server.address();
    this.boundPort = typeof a === 'object' && a !== null ? a.port : port;
    this.store.onCommitLogGrew = () => {
      for (const c of this.connections) c.pump();
    };
    this.timer = setInterval(() => {
      for (const c of this.connections) c.tick();
    }, TICK_MS);
    this.timer.unref();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    // Logged once the slave has said where it stands (its first report).
    this.connections.add(new HAConnection(this, socket));
  }

  /** Called by a connection when it closes. */
  removeConnection(c: HAConnection, why: string): void {
    if (!this.connections.delete(c)) return;
    this.logger.info(`HA: slave ${c.addr} disconnected (${why}), acknowledged up to ${c.slaveAckOffset}`);
  }

  /** A slave acknowledged `offset`: sends waiting for it may go (upstream `notifyTransferSome`). */
  onAck(offset: number): void {
    if (offset > this.push2SlaveMaxOffset) this.push2SlaveMaxOffset = offset;
    if (this.requests.length === 0) return;
    const left: TransferRequest[] = [];
    for (const r of this.requests) {
      if (this.ackCount(r.nextOffset) >= r.acks) {
        clearTimeout(r.timer);
        r.resolve('PUT_OK');
      } else {
        left.push(r);
      }
    }
    this.requests = left;
  }

  /** Replicas holding the log up to `offset`, the master included. */
  private ackCount(offset: number): number {
    let n = 1;
    for (const c of this.connections) if (c.slaveAckOffset >= offset) n++;
    return n;
  }

  /** Slaves connected and less than haMaxGapNotInSync behind (upstream 4.x `isSlaveOK`, counted). */
  inSyncSlaves(masterOffset: number): number {
    let n = 0;
    for (const c of this.connections) if (this.isInSync(c, masterOffset)) n++;
    return n;
  }

  private isInSync(c: HAConnection, masterOffset: number): boolean {
    return c.slaveAckOffset >= 0 && !c.behindLogStart && masterOffset - c.slaveAckOffset < this.config.haMaxGapNotInSync;
  }

  /**
   * SYNC_MASTER: resolves once `inSyncReplicas` replicas (the master one of them) hold the log
   * up to `nextOffset`, the end of a record the master has written.
   */
  waitForReplicas(nextOffset: number): Promise<ReplicaStatus> | ReplicaStatus {
    const acks = this.config.inSyncReplicas;
    if (acks <= 1) return 'PUT_OK';
    if (this.inSyncSlaves(this.store.commitLog.maxOffset) < acks - 1) return 'SLAVE_NOT_AVAILABLE';
    if (this.ackCount(nextOffset) >= acks) return 'PUT_OK';
    return new Promise((resolve) => {
      const r: TransferRequest = {
        nextOffset, acks, resolve,
        timer: setTimeout(() => {
          this.requests = this.requests.filter((x) => x !== r);
          this.logger.warn(`HA: transfer to slaves timed out after ${this.config.slaveTimeout} ms (slaveTimeout), offset ${nextOffset}, acks wanted ${acks}`);
          resolve('FLUSH_SLAVE_TIMEOUT');
        }, this.config.slaveTimeout),
      };
      this.requests.push(r);
    });
  }

  /** What GET_BROKER_HA_STATUS and runtime info show of the slaves. */
  connectionInfo(): HAConnectionRuntimeInfo[] {
    const max = this.store.commitLog.maxOffset;
    return [...this.connections].map((c) => ({
      addr: c.addr,
      slaveAckOffset: c.slaveAckOffset,
      diff: c.slaveAckOffset >= 0 ? max - c.slaveAckOffset : max,
      inSync: this.isInSync(c, max),
      transferredByteInSecond: c.transferredByteInSecond(),
      transferFromWhere: c.nextTransferFromWhere,
    }));
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.store.onCommitLogGrew = undefined;
    for (const r of this.requests) {
      clearTimeout(r.timer);
      r.resolve('FLUSH_SLAVE_TIMEOUT');
    }
    this.requests = [];
    for (const c of [...this.connections]) c.close('master shutting down');
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * One slave's connection on the master (upstream `DefaultHAConnection`): reads its offset
 * reports, writes it the CommitLog from where it asked, frame after frame, as fast as the socket
 * drains.
 */
export class HAConnection {
  readonly addr: string;
  /** Where the slave asked to start; -1 until its first report. */
  slaveRequestOffset = -1;
  /** The slave's last reported max offset; -1 until its first report. */
  slaveAckOffset = -1;
  /** Next CommitLog offset to send; -1 until the slave reported. */
  nextTransferFromWhere = -1;
  private readBuf: Buffer = Buffer.alloc(0);
  private lastReadTimestamp = Date.now();
  private lastWriteTimestamp = 0;
  private waitingDrain = false;
  private closed = false;
  /** What the slave needs next was deleted from the master's log: it cannot catch up. */
  behindLogStart = false;
  /** Bytes sent in the current and the previous second (upstream `FlowMonitor`). */
  private bytesThisSecond = 0;
  private bytesLastSecond = 0;
  private second = Math.floor(Date.now() / 1000);

  constructor(private readonly service: HAService, private readonly socket: Socket) {
    this.addr = `${stripV4Mapped(socket.remoteAddress ?? '?')}:${socket.remotePort ?? 0}`;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.close(err.message));
    socket.on('close', () => this.close('closed by the slave'));
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.pump();
    });
  }

  /** Offset reports; only the last whole one of a read counts (upstream `processReadEvent`). */
  private onData(d: Buffer): void {
    this.lastReadTimestamp = Date.now();
    this.readBuf = this.readBuf.length === 0 ? d : Buffer.concat([this.readBuf, d]);
    const whole = this.readBuf.length - (this.readBuf.length % HA_REPORT_SIZE);
    if (whole === 0) return;
    const offset = Number(this.readBuf.readBigInt64BE(whole - HA_REPORT_SIZE));
    this.readBuf = this.readBuf.subarray(whole);
    const masterMax = this.service.store.commitLog.maxOffset;
    if (offset > masterMax) {
      // The slave holds bytes this master never wrote (the master lost its tail, or the slave
      // replicated another master). Upstream's classic HA would stream its own bytes on top of
      // them once its log grows past that offset, and count the slave's report as an ack of
      // records the slave does not have; refusing leaves the slave's store for an operator to
      // clear, and SYNC_MASTER sends answer SLAVE_NOT_AVAILABLE meanwhile.
      this.service.logger.error(`HA: slave ${this.addr} reports offset ${offset}, ahead of the master's max offset ${masterMax}: its log is not this master's; closing the connection (clear the slave's store to replicate this master)`);
      this.close('log ahead of the master');
      return;
    }
    this.slaveAckOffset = offset;
    if (this.slaveRequestOffset < 0) {
      this.slaveRequestOffset = offset;
      // As upstream: an empty slave starts at the master's last segment, not at its first.
      this.nextTransferFromWhere = offset === 0 ? masterMax - (masterMax % this.service.config.mappedFileSizeCommitLog) : offset;
      this.service.logger.info(`HA: slave ${this.addr} connected, requests offset ${offset}; transfer starts at ${this.nextTransferFromWhere}`);
    }
    this.service.onAck(offset);
    this.pump();
  }

  /** Sends what the slave does not have yet, until the socket is full or the log's end. */
  pump(): void {
    if (this.closed || this.waitingDrain || this.nextTransferFromWhere < 0) return;
    const log = this.service.store.commitLog;
    const fileSize = this.service.config.mappedFileSizeCommitLog;
    const batch = this.service.config.haTransferBatchSize;
    for (;;) {
      const from = this.nextTransferFromWhere;
      const fileEnd = from - (from % fileSize) + fileSize;
      const size = Math.min(batch, Math.min(log.writtenOffset, fileEnd) - from);
      if (size <= 0) break;
      const data = log.getDataSync(from, size);
      if (data === undefined) {
        // Not readable yet, or below the log's start: retention deleted what the slave needs next.
        // Upstream's DefaultHAConnection then waits without a word; the slave can never catch up
        // from this master, so say it once, and count it out of sync.
        if (from < log.minOffset && !this.behindLogStart) {
          this.behindLogStart = true;
          this.service.logger.error(`HA: slave ${this.addr} needs offset ${from}, below the master's min offset ${log.minOffset} (its CommitLog files were deleted); nothing can be sent to it: clear the slave's store to replicate from the master's last segment`);
        }
        break;
      }
      this.writeFrame(from, data);
      this.nextTransferFromWhere = from + size;
      if (this.socket.writableLength >= SOCKET_HIGH_WATER) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  private writeFrame(offset: number, data: Buffer | undefined): void {
    const header = Buffer.allocUnsafe(HA_FRAME_HEADER_SIZE);
    header.writeBigInt64BE(BigInt(offset), 0);
    header.writeInt32BE(data?.length ?? 0, 8);
    this.socket.write(header);
    if (data !== undefined) this.socket.write(data);
    this.lastWriteTimestamp = Date.now();
    const n = HA_FRAME_HEADER_SIZE + (data?.length ?? 0);
    const sec = Math.floor(this.lastWriteTimestamp / 1000);
    if (sec !== this.second) {
      this.bytesLastSecond = sec === this.second + 1 ? this.bytesThisSecond : 0;
      this.bytesThisSecond = 0;
      this.second = sec;
    }
    this.bytesThisSecond += n;
  }

  transferredByteInSecond(): number {
    const sec = Math.floor(Date.now() / 1000);
    if (sec === this.second) return this.bytesLastSecond;
    return sec === this.second + 1 ? this.bytesThisSecond : 0;
  }

  /** Heartbeat when idle, housekeeping when the slave went silent. */
  tick(): void {
    const now = Date.now();
    if (now - this.lastReadTimestamp > this.service.config.haHousekeepingInterval) {
      this.close(`no report for ${now - this.lastReadTimestamp} ms (haHousekeepingInterval)`);
      return;
    }
    this.pump();
    if (this.nextTransferFromWhere >= 0 && !this.waitingDrain && now - this.lastWriteTimestamp > this.service.config.haSendHeartbeatInterval) {
      this.writeFrame(this.nextTransferFromWhere, undefined);
    }
  }

  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.service.removeConnection(this, why);
  }
}
