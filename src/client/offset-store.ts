import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from '../common/config-file.js';
import { parseLenientJson } from '../common/json.js';
import type { Logger } from '../common/logger.js';
import { messageQueueKey, toMessageQueue, type MessageQueue } from './route.js';

/** Where `readOffset` looks (upstream `ReadOffsetType`). */
export const ReadOffsetType = {
  /** The in-memory value only. */
  READ_FROM_MEMORY: 'READ_FROM_MEMORY',
  /** The persisted value (broker or file), which then replaces the in-memory one. */
  READ_FROM_STORE: 'READ_FROM_STORE',
  /** Memory when known, else the store. */
  MEMORY_FIRST_THEN_STORE: 'MEMORY_FIRST_THEN_STORE',
} as const;
export type ReadOffsetTypeValue = (typeof ReadOffsetType)[keyof typeof ReadOffsetType];

/**
 * A consumer group's consume offsets (upstream `OffsetStore`): the next offset to consume per
 * queue, kept in memory and persisted periodically. -1 means "none stored"; other negative
 * values mean the store could not be read (the caller retries later).
 */
export interface OffsetStore {
  load(): Promise<void>;
  /** Sets the in-memory offset; with `increaseOnly`, never moves it backwards. */
  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  readOffset(mq: MessageQueue, type: ReadOffsetTypeValue): Promise<number>;
  /** Persists the offsets of `mqs` (others are forgotten, as upstream). */
  persistAll(mqs: readonly MessageQueue[]): Promise<void>;
  /** Persists one queue's offset and waits until it is stored. */
  persist(mq: MessageQueue): Promise<void>;
  removeOffset(mq: MessageQueue): void;
  /** The in-memory table (for running-info and tests). */
  cloneOffsetTable(topic?: string): Map<string, { mq: MessageQueue; offset: number }>;
}

/** What a store needs from the broker for CLUSTERING offsets. */
export interface BrokerOffsetAccess {
  queryConsumerOffset(mq: MessageQueue): Promise<number>;
  updateConsumerOffset(mq: MessageQueue, offset: number, oneway: boolean): Promise<void>;
}

abstract class MemoryOffsetTable {
  protected readonly table = new Map<string, { mq: MessageQueue; offset: number }>();

  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const k = messageQueueKey(mq);
    const cur = this.table.get(k);
    if (!cur) this.table.set(k, { mq, offset });
    else if (!increaseOnly || offset > cur.offset) cur.offset = offset;
  }

  removeOffset(mq: MessageQueue): void {
    this.table.delete(messageQueueKey(mq));
  }

  cloneOffsetTable(topic?: string): Map<string, { mq: MessageQueue; offset: number }> {
    const out = new Map<string, { mq: MessageQueue; offset: number }>();
    for (const [k, v] of this.table) if (topic === undefined || v.mq.topic === topic) out.set(k, { mq: v.mq, offset: v.offset });
    return out;
  }

  protected memory(mq: MessageQueue): number | undefined {
    return this.table.get(messageQueueKey(mq))?.offset;
  }
}

/**
 * CLUSTERING offsets, stored on the broker that holds the queue (upstream
 * `RemoteBrokerOffsetStore`). Periodic persistence is oneway; `persist` (used when a queue
 * leaves this consumer and at shutdown) waits for the broker, so the next owner reads it.
 */
export class RemoteBrokerOffsetStore extends MemoryOffsetTable implements OffsetStore {
  constructor(private readonly access: BrokerOffsetAccess, private readonly log: Logger) {
    super();
  }

  async load(): Promise<void> {
    // Nothing local: offsets are read from the broker when a queue is assigned.
  }

  async readOffset(mq: MessageQueue, type: ReadOffsetTypeValue): Promise<number> {
    if (type !== ReadOffsetType.READ_FROM_STORE) {
      const m = this.memory(mq);
      if (m !== undefined) return m;
      if (type === ReadOffsetType.READ_FROM_MEMORY) return -1;
    }
    try {
      const offset = await this.access.queryConsumerOffset(mq);
      if (offset >= 0) this.updateOffset(mq, offset, false);
      return offset;
    } catch (err) {
      this.log.warn(`reading the offset of ${messageQueueKey(mq)} from the broker failed: ${(err as Error).message}`);
      return -2;
    }
  }

  async persistAll(mqs: readonly MessageQueue[]): Promise<void> {
    const keep = new Set(mqs.map(messageQueueKey));
    await Promise.all([...this.table].map(async ([k, v]) => {
      if (!keep.has(k)) return;
      await this.access.updateConsumerOffset(v.mq, v.offset, true).catch((err: Error) =>
        this.log.warn(`persisting the offset ${v.offset} of ${k} failed: ${err.message}`));
    }));
    for (const k of [...this.table.keys()]) if (!keep.has(k)) this.table.delete(k);
  }

  async persist(mq: MessageQueue): Promise<void> {
    const v = this.table.get(messageQueueKey(mq));
    if (!v) return;
    await this.access.updateConsumerOffset(mq, v.offset, false).catch((err: Error) =>
      this.log.warn(`persisting the offset ${v.offset} of ${messageQueueKey(mq)} failed: ${err.message}`));
  }
}

/** Default root of BROADCASTING offset files (upstream `rocketmq.client.localOffsetStoreDir`). */
export function defaultLocalOffsetStoreDir(): string {
  return process.env.ROCKETMQ_CLIENT_LOCAL_OFFSET_STORE_DIR ?? join(homedir(), '.rocketmq_offsets');
}

/**
 * BROADCASTING offsets, in a file per client and group (upstream `LocalFileOffsetStore`):
 * `<dir>/<clientId>/<group>/offsets.json` = `{"offsetTable":{"<MessageQueue JSON>":offset}}`,
 * written atomically with a `.bak` of the previous version. Upstream writes the MessageQueue as
 * a bare object key; both forms are read.
 */
export class LocalFileOffsetStore extends MemoryOffsetTable implements OffsetStore {
  /** The offsets file. */
  readonly path: string;

  constructor(dir: string, clientId: string, group: string, private readonly log: Logger) {
    super();
    this.path = join(dir, clientId, group, 'offsets.json');
  }

  async load(): Promise<void> {
    for (const p of [this.path, `${this.path}.bak`]) {
      if (!existsSync(p)) continue;
      try {
        const o = parseLenientJson(readFileSync(p)) as { offsetTable?: Record<string, unknown> };
        for (const [k, v] of Object.entries(o.offsetTable ?? {})) this.updateOffset(toMessageQueue(k), Number(v), false);
        return;
      } catch (err) {
        this.log.warn(`offsets file ${p} cannot be read (${(err as Error).message}); trying its backup`);
      }
    }
  }

  async readOffset(mq: MessageQueue, type: ReadOffsetTypeValue): Promise<number> {
    if (type !== ReadOffsetType.READ_FROM_STORE) {
      const m = this.memory(mq);
      if (m !== undefined) return m;
      if (type === ReadOffsetType.READ_FROM_MEMORY) return -1;
    }
    const stored = this.readFile().get(messageQueueKey(mq));
    if (stored === undefined) return -1;
    this.updateOffset(mq, stored.offset, false);
    return stored.offset;
  }

  private readFile(): Map<string, { mq: MessageQueue; offset: number }> {
    const out = new Map<string, { mq: MessageQueue; offset: number }>();
    for (const p of [this.path, `${this.path}.bak`]) {
      if (!existsSync(p)) continue;
      try {
        const o = parseLenientJson(readFileSync(p)) as { offsetTable?: Record<string, unknown> };
        for (const [k, v] of Object.entries(o.offsetTable ?? {})) {
          const mq = toMessageQueue(k);
          out.set(messageQueueKey(mq), { mq, offset: Number(v) });
        }
        return out;
      } catch {
        // Try the backup.
      }
    }
    return out;
  }

  async persistAll(mqs: readonly MessageQueue[]): Promise<void> {
    const keep = new Set(mqs.map(messageQueueKey));
    // As upstream: merge into what the file holds, so queues not held now keep their offsets.
    const merged = this.readFile();
    let any = false;
    for (const [k, v] of this.table) {
      if (keep.has(k)) {
        merged.set(k, v);
        any = true;
      }
    }
    if (!any) return;
    const offsetTable: Record<string, number> = {};
    for (const v of merged.values()) offsetTable[JSON.stringify({ brokerName: v.mq.brokerName, queueId: v.mq.queueId, topic: v.mq.topic })] = v.offset;
    try {
      writeFileAtomic(this.path, JSON.stringify({ offsetTable }, null, 2));
    } catch (err) {
      this.log.warn(`writing the offsets file ${this.path} failed: ${(err as Error).message}`);
    }
  }

  async persist(mq: MessageQueue): Promise<void> {
    const mqs = [...this.table.values()].map((v) => v.mq);
    if (mqs.some((m) => messageQueueKey(m) === messageQueueKey(mq))) await this.persistAll(mqs);
  }
}
