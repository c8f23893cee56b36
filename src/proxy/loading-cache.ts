/** Bounds and ages of a LoadingCache (upstream's Guava `CacheBuilder` settings). */
export interface LoadingCacheOptions {
  /** Entries kept at most; the least recently read goes first (`maximumSize`). */
  maxNum: number;
  /** An entry not read for this long is dropped and loaded again when next asked for, ms (`expireAfterAccess`). */
  expireAfterAccessMs: number;
  /** An entry older than this is reloaded in the background when read, the old value served meanwhile, ms (`refreshAfterWrite`). */
  refreshAfterWriteMs: number;
  now?: () => number;
  /** Told when a background reload fails (the old value is kept, as upstream's `AbstractCacheLoader.reload`). */
  onRefreshError?: (key: string, err: unknown) => void;
}

interface Entry<V> {
  value: V;
  writtenAt: number;
  readAt: number;
  refreshing: boolean;
}

/**
 * A cache that loads what it lacks, the way upstream's proxy caches brokers' metadata (Guava
 * `LoadingCache` with `AbstractCacheLoader`): a miss waits for the load (concurrent misses of a
 * key share one), a stale hit is answered at once and reloaded behind it. It keeps no timer:
 * ages are looked at when a key is read.
 */
export class LoadingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V>>();
  private readonly now: () => number;

  constructor(private readonly load: (key: string) => Promise<V>, private readonly opts: LoadingCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string): Promise<V> {
    const now = this.now();
    const e = this.entries.get(key);
    if (e && now - e.readAt < this.opts.expireAfterAccessMs) {
      e.readAt = now;
      // Map order is the eviction order: a read moves the key to the young end.
      this.entries.delete(key);
      this.entries.set(key, e);
      if (now - e.writtenAt >= this.opts.refreshAfterWriteMs && !e.refreshing) this.refresh(key, e);
      return e.value;
    }
    if (e) this.entries.delete(key);
    let p = this.loading.get(key);
    if (!p) {
      p = this.load(key).then((value) => {
        this.put(key, value);
        return value;
      }).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  private refresh(key: string, e: Entry<V>): void {
    e.refreshing = true;
    this.load(key).then((value) => {
      if (this.entries.get(key) === e) this.put(key, value);
    }, (err: unknown) => {
      e.refreshing = false;
      e.writtenAt = this.now();
      this.opts.onRefreshError?.(key, err);
    });
  }

  private put(key: string, value: V): void {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, writtenAt: now, readAt: now, refreshing: false });
    while (this.entries.size > Math.max(1, this.opts.maxNum)) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
