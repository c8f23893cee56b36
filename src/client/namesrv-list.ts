import { RemotingError } from '../remoting/errors.js';
import { ClientErrorCode, MQClientError } from './errors.js';

/** Splits a `host:port;host2:port` NameServer list (upstream separator `;`). */
export function parseNamesrvAddr(addr: string | undefined): string[] {
  if (!addr) return [];
  return addr.split(';').map((a) => a.trim()).filter((a) => a.length > 0);
}

/**
 * The NameServers a client talks to. As upstream, one is chosen (random start) and kept while it
 * answers; a connection-level failure moves on to the next, trying each at most once per call.
 * Broker-level answers (e.g. TOPIC_NOT_EXIST) are returned as they are: every NameServer would
 * give the same.
 */
export class NamesrvAddressList {
  private readonly addrs: string[];
  private current: number;

  constructor(addr: string | undefined, random: () => number = Math.random) {
    this.addrs = parseNamesrvAddr(addr);
    this.current = this.addrs.length > 0 ? Math.floor(random() * this.addrs.length) : 0;
  }

  get list(): readonly string[] {
    return this.addrs;
  }

  async invoke<T>(fn: (addr: string) => Promise<T>): Promise<T> {
    const n = this.addrs.length;
    if (n === 0) {
      throw new MQClientError('no NameServer address: pass namesrvAddr (host:9876;host2:9876) or set the NAMESRV_ADDR environment variable', ClientErrorCode.NO_NAMESRV);
    }
    let lastErr: unknown;
    for (let i = 0; i < n; i++) {
      const idx = (this.current + i) % n;
      try {
        const r = await fn(this.addrs[idx]!);
        this.current = idx;
        return r;
      } catch (err) {
        if (!(err instanceof RemotingError)) throw err;
        lastErr = err;
      }
    }
    throw lastErr;
  }
}
