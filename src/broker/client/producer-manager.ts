import type { Logger } from '../../common/logger.js';
import type { Connection } from '../../remoting/connection.js';
import type { ClientChannelInfo } from './consumer-manager.js';

/** Live producers by group (upstream `ProducerManager`); transaction check-backs pick a channel here. */
export class ProducerManager {
  readonly groups = new Map<string, Map<Connection, ClientChannelInfo>>();

  constructor(private readonly logger: Logger) {}

  register(group: string, conn: Connection, clientId: string, now = Date.now()): void {
    let m = this.groups.get(group);
    if (!m) {
      m = new Map();
      this.groups.set(group, m);
    }
    const info = m.get(conn);
    if (info) info.lastUpdateTimestamp = now;
    else {
      m.set(conn, { conn, clientId, language: (conn.attrs.language as string) ?? 'JAVA', version: (conn.attrs.version as number) ?? 0, lastUpdateTimestamp: now });
      this.logger.info(`new producer connected, group: ${group} clientId: ${clientId} ${conn.remoteAddress}`);
    }
  }

  unregister(group: string, conn: Connection): void {
    const m = this.groups.get(group);
    if (m?.delete(conn) && m.size === 0) this.groups.delete(group);
  }

  onConnectionClosed(conn: Connection): void {
    for (const [g, m] of [...this.groups]) if (m.delete(conn) && m.size === 0) this.groups.delete(g);
  }

  scanNotActiveChannel(expiredMs: number, now = Date.now()): void {
    for (const [g, m] of [...this.groups]) {
      for (const [conn, info] of [...m]) {
        if (now - info.lastUpdateTimestamp > expiredMs) {
          this.logger.warn(`producer channel ${conn.remoteAddress} (${info.clientId}) of group ${g} silent for ${now - info.lastUpdateTimestamp} ms, removing it`);
          m.delete(conn);
          conn.close();
        }
      }
      if (m.size === 0) this.groups.delete(g);
    }
  }

  /** The live channel of the producer `clientId`, in any group (upstream `findChannel`: replies go back to it). */
  findChannel(clientId: string): ClientChannelInfo | undefined {
    for (const m of this.groups.values()) {
      for (const info of m.values()) if (info.clientId === clientId && !info.conn.isClosed) return info;
    }
    return undefined;
  }

  /** A live channel of `group`, for broker-initiated requests. */
  getAvailableChannel(group: string): ClientChannelInfo | undefined {
    const m = this.groups.get(group);
    if (!m) return undefined;
    for (const info of m.values()) if (!info.conn.isClosed) return info;
    return undefined;
  }
}
