import { connect, type Socket } from 'node:net';
import type { Logger } from '../../common/logger.js';
import type { MessageStoreConfig } from '../../common/config.js';
import type { DefaultMessageStore } from '../../store/message-store.js';
import { HA_FRAME_HEADER_SIZE, HA_REPORT_SIZE } from './ha-service.js';

/** Between connection attempts to the master (upstream DefaultHAClient waits 5 s; we retry sooner, a connect costs little). */
const RECONNECT_MS = 1_000;
const TICK_MS = 1_000;

/**
 * A slave's side of replication (upstream `DefaultHAClient`): connects to the master's HA port,
 * reports its CommitLog max offset, and appends the frames the master sends. The wire format and
 * the rules are described in ha-service.ts.
 */
export class HAClient {
  private masterHaAddress = '';
  private socket?: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private timer?: NodeJS.Timeout;
  /** When the master last sent anything, and when the slave last reported (ms). */
  lastReadTimestamp = 0;
  lastReportTimestamp = 0;
  private bytesThisSecond = 0;
  private bytesLastSecond = 0;
  private second = 0;
  private lastConnectAttempt = 0;
  private reportedOffset = -1;
  private stopped = false;
  /** The master's HA address as the slave connected to it (GET_BROKER_HA_STATUS). */
  connectedAddress = '';
  /** When the last frame arrived (ms), 0 before any. */
  lastFrameTimestamp = 0;
  /** The master's max offset as of the last frame: its offset plus size. */
  masterFlushOffset = 0;

  constructor(private readonly store: DefaultMessageStore, private readonly config: MessageStoreConfig, private readonly logger: Logger) {}

  /** Sets where the master is (haMasterAddress, or the NameServer's registration answer); a change reconnects. */
  updateHaMasterAddress(addr: string): void {
    if (addr === this.masterHaAddress) return;
    this.logger.info(`HA: master HA address changed from ${this.masterHaAddress || '(none)'} to ${addr || '(none)'}`);
    this.masterHaAddress = addr;
    this.closeMaster('master address changed');
    this.tick();
  }

  get haMasterAddress(): string {
    return this.masterHaAddress;
  }

  get isConnected(): boolean {
    return this.socket !== undefined && this.connectedAddress !== '';
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    if (this.socket === undefined) {
      if (this.masterHaAddress !== '' && now - this.lastConnectAttempt >= RECONNECT_MS) this.connectMaster();
      return;
    }
    if (this.connectedAddress === '') return; // still connecting
    if (now - this.lastReadTimestamp > this.config.haHousekeepingInterval) {
      this.logger.warn(`HA: nothing from master ${this.connectedAddress} for ${now - this.lastReadTimestamp} ms (haHousekeepingInterval); reconnecting`);
      this.closeMaster('housekeeping');
      return;
    }
    if (now - this.lastReportTimestamp >= this.config.haSendHeartbeatInterval) this.report(true);
  }

  private connectMaster(): void {
    this.lastConnectAttempt = Date.now();
    const addr = this.masterHaAddress;
    const i = addr.lastIndexOf(':');
    const socket = connect({ host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.connectedAddress = addr;
      this.lastReadTimestamp = Date.now();
      this.logger.info(`HA: connected to master ${addr}, reporting offset ${this.store.commitLog.maxOffset}`);
      this.report(true);
    });
    socket.on('data', (d: Buffer) => {
      if (this.socket === socket) this.onData(d);
    });
    socket.on('error', (err) => {
      if (this.socket !== socket) return;
      if (this.connectedAddress !== '') this.logger.warn(`HA: connection to master ${addr} failed: ${err.message}`);
      this.closeMaster(err.message);
    });
    socket.on('close', () => {
      if (this.socket === socket) this.closeMaster('closed by the master');
    });
  }

  /** The slave's max offset to the master: when it changed, or always with `force` (heartbeat). */
  private report(force: boolean): void {
    const s = this.socket;
    if (s === undefined) return;
    const offset = this.store.commitLog.maxOffset;
    if (!force && offset === this.reportedOffset) return;
    const b = Buffer.allocUnsafe(HA_REPORT_SIZE);
    b.writeBigInt64BE(BigInt(offset), 0);
    s.write(b);
    this.reportedOffset = offset;
    this.lastReportTimestamp = Date.now();
  }

  /** Frames as they come (upstream `dispatchReadRequest`); a bad one closes the connection. */
  private onData(d: Buffer): void {
    this.lastReadTimestamp = Date.now();
    const sec = Math.floor(this.lastReadTimestamp / 1000);
    if (sec !== this.second) {
      this.bytesLastSecond = sec === this.second + 1 ? this.bytesThisSecond : 0;
      this.bytesThisSecond = 0;
      this.second = sec;
    }
    this.bytesThisSecond += d.length;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let p = 0;
    while (this.buf.length - p >= HA_FRAME_HEADER_SIZE) {
      const masterPhyOffset = Number(this.buf.readBigInt64BE(p));
      const size = this.buf.readInt32BE(p + 8);
      if (size < 0 || size > this.config.mappedFileSizeCommitLog) {
        this.logger.error(`HA: bad frame from master ${this.connectedAddress}: size ${size}; reconnecting`);
        this.closeMaster('bad frame');
        return;
      }
      if (this.buf.length - p < HA_FRAME_HEADER_SIZE + size) break;
      const slaveMax = this.store.commitLog.maxOffset;
      // As upstream: the master must continue the slave's log (an empty log takes any start).
      if (slaveMax !== 0 && masterPhyOffset !== slaveMax) {
        this.logger.error(`HA: master pushed offset ${masterPhyOffset} not equal to the max phy offset in slave ${slaveMax}; closing the connection`);
        this.closeMaster('offset mismatch');
        return;
      }
      if (size > 0) {
        const data = this.buf.subarray(p + HA_FRAME_HEADER_SIZE, p + HA_FRAME_HEADER_SIZE + size);
        const err = this.store.appendToCommitLog(masterPhyOffset, data);
        if (err !== undefined) {
          this.logger.error(`HA: cannot append ${size} bytes at ${masterPhyOffset} from master: ${err}; closing the connection`);
          this.closeMaster('append failed');
          return;
        }
      }
      this.masterFlushOffset = masterPhyOffset + size;
      this.lastFrameTimestamp = Date.now();
      p += HA_FRAME_HEADER_SIZE + size;
    }
    this.buf = p === this.buf.length ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(p));
    this.report(false);
  }

  private closeMaster(why: string): void {
    const s = this.socket;
    if (s === undefined) return;
    this.socket = undefined;
    s.destroy();
    if (this.connectedAddress !== '') this.logger.info(`HA: disconnected from master ${this.connectedAddress} (${why})`);
    this.connectedAddress = '';
    this.reportedOffset = -1;
    this.buf = Buffer.alloc(0);
  }

  /** Bytes received in the last whole second (upstream `FlowMonitor`). */
  transferredByteInSecond(): number {
    const sec = Math.floor(Date.now() / 1000);
    if (sec === this.second) return this.bytesLastSecond;
    return sec === this.second + 1 ? this.bytesThisSecond : 0;
  }

  shutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closeMaster('shutdown');
  }
}
