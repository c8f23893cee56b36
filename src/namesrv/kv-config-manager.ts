import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../common/logger.js';
import { parseRemotingJson } from '../common/route.js';

/**
 * The NameServer's namespaced key/value store (upstream `KVConfigManager`), e.g. namespace
 * ORDER_TOPIC_CONFIG maps a topic to its order config. Persisted to `kvConfigPath` in upstream's
 * format `{"configTable":{ns:{k:v}}}`, so a file written by a Java NameServer loads here and back.
 */
export class KVConfigManager {
  private readonly configTable = new Map<string, Map<string, string>>();
  /** Persists run one after another: each writes the latest table through the same temp file. */
  private writeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Loads the file if it exists. A file that is not a config table stops start-up rather than being overwritten. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (text.trim() === '') return;
    let table: unknown;
    try {
      table = (parseRemotingJson(text) as { configTable?: unknown } | null)?.configTable;
    } catch (err) {
      throw new Error(`KV config file ${this.path} is not valid JSON (${(err as Error).message}); repair it or move it away, then restart`);
    }
    if (table === undefined || table === null) return;
    if (typeof table !== 'object' || Array.isArray(table)) {
      throw new Error(`KV config file ${this.path}: "configTable" must be an object of namespaces; repair it or move it away, then restart`);
    }
    this.configTable.clear();
    for (const [ns, kv] of Object.entries(table as Record<string, unknown>)) {
      if (kv === null || typeof kv !== 'object') continue;
      const m = new Map<string, string>();
      for (const [k, v] of Object.entries(kv as Record<string, unknown>)) {
        if (v !== null && v !== undefined) m.set(k, String(v));
      }
      this.configTable.set(ns, m);
    }
    this.logger.debug(`loaded KV config from ${this.path}: ${this.configTable.size} namespace(s)`);
  }

  /** Sets one value and persists; resolves once the file is durable. */
  async putKVConfig(namespace: string, key: string, value: string): Promise<void> {
    let kv = this.configTable.get(namespace);
    if (!kv) {
      kv = new Map();
      this.configTable.set(namespace, kv);
    }
    kv.set(key, value);
    await this.persist();
  }

  /** Removes one value and persists. As upstream, an emptied namespace stays (listing it gives an empty table). */
  async deleteKVConfig(namespace: string, key: string): Promise<void> {
    const kv = this.configTable.get(namespace);
    if (!kv || !kv.delete(key)) return;
    await this.persist();
  }

  getKVConfig(namespace: string, key: string): string | undefined {
    return this.configTable.get(namespace)?.get(key);
  }

  /** The whole namespace, or undefined when it was never created. */
  getKVListByNamespace(namespace: string): Record<string, string> | undefined {
    const kv = this.configTable.get(namespace);
    return kv ? Object.fromEntries(kv) : undefined;
  }

  /** Writes the table atomically: temp file, fsync, rename, fsync of the directory. */
  persist(): Promise<void> {
    const run = this.writeChain.then(() => this.writeFile());
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** Waits for the writes already queued (shutdown must not leave a file handle open). */
  async flush(): Promise<void> {
    await this.writeChain;
  }

  private async writeFile(): Promise<void> {
    const configTable: Record<string, Record<string, string>> = {};
    for (const [ns, kv] of this.configTable) configTable[ns] = Object.fromEntries(kv);
    const content = JSON.stringify({ configTable });
    const dir = dirname(this.path);
    const tmp = `${this.path}.tmp`;
    try {
      await mkdir(dir, { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(content, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      await syncDir(dir);
    } catch (err) {
      throw new Error(`persisting KV config to ${this.path} failed: ${(err as Error).message}; check that the directory is writable and the disk not full`);
    }
  }
}

/** Makes the rename durable. Some platforms cannot open a directory for fsync; the rename itself is done. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Best effort only (see above).
  } finally {
    await fh?.close();
  }
}
