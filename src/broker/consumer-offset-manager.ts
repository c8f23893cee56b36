import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../common/config-file.js';

/**
 * Committed consumer offsets (upstream `ConsumerOffsetManager`): `topic@group` → queueId →
 * next offset to consume, persisted as `config/consumerOffset.json` every
 * flushConsumerOffsetInterval and at shutdown.
 */
export class ConsumerOffsetManager {
  private readonly offsetTable = new Map<string, Map<number, number>>();
  /**
   * Where each group's last pull ended, `topic@group` → queueId → next offset (upstream
   * `pullOffsetTable`, in memory only): ahead of the committed offset by what is in flight.
   */
  private readonly pullOffsetTable = new Map<string, Map<number, number>>();
  private readonly path: string;
  private dirty = false;

  constructor(storeRoot: string, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'consumerOffset.json');
  }

  load(): void {
    const data = readJsonFile<{ offsetTable?: Record<string, Record<string, number>> }>(this.path, (m) => this.logger.warn(m));
    for (const [key, queues] of Object.entries(data?.offsetTable ?? {})) {
      const m = new Map<number, number>();
      for (const [q, off] of Object.entries(queues)) m.set(Number(q), Number(off));
      this.offsetTable.set(key, m);
    }
  }

  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    setOffset(this.offsetTable, group, topic, queueId, offset);
    this.dirty = true;
  }

  /** A pull of the group on this queue ended at `offset` (the next one it will ask for). */
  commitPullOffset(group: string, topic: string, queueId: number, offset: number): void {
    setOffset(this.pullOffsetTable, group, topic, queueId, offset);
  }

  /** Where the group's last pull on this queue ended; its committed offset when it pulled none since start. */
  queryPullOffset(group: string, topic: string, queueId: number): number {
    return this.pullOffsetTable.get(`${topic}@${group}`)?.get(queueId) ?? this.queryOffset(group, topic, queueId);
  }

  /** Forgets the group's pull offsets on `topic` (its offsets were reset). */
  clearPullOffset(group: string, topic: string): void {
    this.pullOffsetTable.delete(`${topic}@${group}`);
  }

  /** The committed offset, or -1 when the group never committed one for this queue. */
  queryOffset(group: string, topic: string, queueId: number): number {
    return this.offsetTable.get(`${topic}@${group}`)?.get(queueId) ?? -1;
  }

  /** queueId → offset for one group and topic. */
  queryOffsets(group: string, topic: string): Map<number, number> {
    return new Map(this.offsetTable.get(`${topic}@${group}`) ?? []);
  }

  /**
   * Per queue of `topic`, the lowest offset any group committed that is still in the queue
   * (not below `minOffsetOf(queueId)`), leaving out `filterGroups` (upstream
   * `queryMinOffsetInAllGroup`; upstream also deletes the filtered groups' offsets while it
   * reads, which this does not).
   */
  queryMinOffsetInAllGroup(topic: string, filterGroups: ReadonlySet<string>, minOffsetOf: (queueId: number) => number): Map<number, number> {
    const out = new Map<number, number>();
    for (const group of this.whichGroupByTopic(topic)) {
      if (filterGroups.has(group)) continue;
      for (const [queueId, offset] of this.offsetTable.get(`${topic}@${group}`)!) {
        if (offset < minOffsetOf(queueId)) continue;
        const cur = out.get(queueId);
        if (cur === undefined || offset < cur) out.set(queueId, offset);
      }
    }
    return out;
  }

  /** Groups with offsets on `topic`. */
  whichGroupByTopic(topic: string): string[] {
    const out: string[] = [];
    for (const key of this.offsetTable.keys()) {
      const at = key.lastIndexOf('@');
      if (key.slice(0, at) === topic) out.push(key.slice(at + 1));
    }
    return out;
  }

  /**
   * Gives `destGroup` the offsets `srcGroup` committed on `topic` (upstream `cloneOffset`);
   * returns how many queues were copied (0 when the source has none there).
   */
  cloneOffset(srcGroup: string, destGroup: string, topic: string): number {
    const src = this.offsetTable.get(`${topic}@${srcGroup}`);
    if (!src || src.size === 0) return 0;
    this.offsetTable.set(`${topic}@${destGroup}`, new Map(src));
    this.dirty = true;
    return src.size;
  }

  /** Topics a group has offsets on. */
  whichTopicByGroup(group: string): string[] {
    const out: string[] = [];
    for (const key of this.offsetTable.keys()) {
      const at = key.lastIndexOf('@');
      if (key.slice(at + 1) === group) out.push(key.slice(0, at));
    }
    return out;
  }

  removeTopic(topic: string): void {
    for (const table of [this.offsetTable, this.pullOffsetTable]) {
      for (const key of [...table.keys()]) {
        if (key.slice(0, key.lastIndexOf('@')) === topic) table.delete(key);
      }
    }
    this.dirty = true;
  }

  removeGroup(group: string): void {
    for (const table of [this.offsetTable, this.pullOffsetTable]) {
      for (const key of [...table.keys()]) {
        if (key.slice(key.lastIndexOf('@') + 1) === group) table.delete(key);
      }
    }
    this.dirty = true;
  }

  persist(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    writeFileAtomic(this.path, this.encode(true));
  }

  /** The table as consumerOffset.json holds it, and GET_ALL_CONSUMER_OFFSET answers it (upstream `encode`). */
  encode(pretty = false): string {
    const table: Record<string, Record<string, number>> = {};
    for (const [key, m] of this.offsetTable) table[key] = Object.fromEntries(m);
    return JSON.stringify({ offsetTable: table }, null, pretty ? 2 : undefined);
  }

  /**
   * A slave takes the master's offsets (upstream SlaveSynchronize: `offsetTable.putAll`): each
   * `topic@group` the master has replaces the slave's; others stay.
   */
  putAll(table: Record<string, Record<string, number>>): void {
    for (const [key, queues] of Object.entries(table)) {
      const m = new Map<number, number>();
      for (const [q, o] of Object.entries(queues)) if (Number.isFinite(Number(q)) && typeof o === 'number') m.set(Number(q), o);
      this.offsetTable.set(key, m);
    }
    this.dirty = true;
  }
}

function setOffset(table: Map<string, Map<number, number>>, group: string, topic: string, queueId: number, offset: number): void {
  const key = `${topic}@${group}`;
  let m = table.get(key);
  if (!m) {
    m = new Map();
    table.set(key, m);
  }
  m.set(queueId, offset);
}
