import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../common/config-file.js';
import { newDataVersion, nextDataVersion, type DataVersion } from '../common/route.js';
import { newBrokerSubscriptionGroupConfig, type BrokerSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../common/subscription-group.js';

// On the broker a group's config is its full record: the broker's processors know these by the plain names.
export {
  newBrokerSubscriptionGroupConfig as newSubscriptionGroupConfig, type BrokerSubscriptionGroupConfig as SubscriptionGroupConfig,
} from '../common/subscription-group.js';

/**
 * Consumer groups (upstream `SubscriptionGroupManager`), persisted as
 * `config/subscriptionGroup.json`; auto-created on first use when autoCreateSubscriptionGroup.
 */
export class SubscriptionGroupManager {
  readonly table = new Map<string, BrokerSubscriptionGroupConfig>();
  /**
   * Per group, per topic: a bit set of what the group may not do on the topic (upstream
   * `forbiddenTable`; bit PermName.INDEX_PERM_READ forbids pulling), persisted with the groups.
   */
  readonly forbiddenTable = new Map<string, Map<string, number>>();
  dataVersion: DataVersion = newDataVersion();
  private readonly path: string;

  constructor(storeRoot: string, private readonly autoCreate: boolean, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'subscriptionGroup.json');
  }

  load(): void {
    const data = readJsonFile<SubscriptionGroupWrapper>(this.path, (m) => this.logger.warn(m));
    this.apply(data);
  }

  /**
   * A slave takes the master's groups (upstream SlaveSynchronize.syncSubscriptionGroupConfig)
   * when the master's data version differs. Returns whether anything changed.
   */
  replaceFromMaster(w: SubscriptionGroupWrapper): boolean {
    const v = w.dataVersion;
    if (v !== undefined && v.counter === this.dataVersion.counter && v.timestamp === this.dataVersion.timestamp) return false;
    this.table.clear();
    this.forbiddenTable.clear();
    this.apply(w);
    this.persist();
    return true;
  }

  private apply(data: SubscriptionGroupWrapper | undefined): void {
    for (const [name, cfg] of Object.entries(data?.subscriptionGroupTable ?? {})) {
      this.table.set(name, { ...newBrokerSubscriptionGroupConfig(name), ...cfg, groupName: name });
    }
    for (const [group, topics] of Object.entries(data?.forbiddenTable ?? {})) {
      if (typeof topics !== 'object' || topics === null) continue;
      const m = new Map<string, number>();
      for (const [topic, bits] of Object.entries(topics)) if (typeof bits === 'number' && bits > 0) m.set(topic, bits);
      if (m.size > 0) this.forbiddenTable.set(group, m);
    }
    if (data?.dataVersion) this.dataVersion = { ...newDataVersion(), ...data.dataVersion };
  }

  /** The group's config, auto-created when allowed; undefined when the group does not exist. */
  findSubscriptionGroupConfig(group: string): BrokerSubscriptionGroupConfig | undefined {
    let cfg = this.table.get(group);
    if (!cfg && this.autoCreate) {
      cfg = newBrokerSubscriptionGroupConfig(group);
      this.table.set(group, cfg);
      this.changed();
    }
    return cfg;
  }

  update(cfg: SubscriptionGroupConfig): void {
    this.table.set(cfg.groupName, { ...newBrokerSubscriptionGroupConfig(cfg.groupName), ...cfg });
    this.changed();
  }

  /** Deletes the group and what it was forbidden (upstream `deleteSubscriptionGroupConfig`). */
  delete(group: string): boolean {
    const had = this.table.delete(group);
    const hadForbidden = this.forbiddenTable.delete(group);
    if (had || hadForbidden) this.changed();
    return had;
  }

  /** The forbidden bits of `group` on `topic` (0: nothing forbidden). */
  forbiddenBits(group: string, topic: string): number {
    return this.forbiddenTable.get(group)?.get(topic) ?? 0;
  }

  /** Whether bit `index` (a PermName.INDEX_PERM_*) is forbidden to `group` on `topic`. */
  isForbidden(group: string, topic: string, index: number): boolean {
    return (this.forbiddenBits(group, topic) & (1 << index)) !== 0;
  }

  /**
   * Sets or clears bit `index` for `group` on `topic` (upstream `updateForbidden`). Clearing the
   * last bit of a topic drops its entry; upstream drops the group's whole entry then, and with it
   * what other topics forbade, which this does not.
   */
  updateForbidden(group: string, topic: string, index: number, forbid: boolean): void {
    const old = this.forbiddenBits(group, topic);
    const bits = forbid ? old | (1 << index) : old & ~(1 << index);
    if (bits === old) return;
    let topics = this.forbiddenTable.get(group);
    if (bits === 0) {
      topics?.delete(topic);
      if (topics?.size === 0) this.forbiddenTable.delete(group);
    } else {
      if (topics === undefined) this.forbiddenTable.set(group, (topics = new Map()));
      topics.set(topic, bits);
    }
    this.logger.info(`group ${group} forbidden bits on topic ${topic}: ${old} -> ${bits}`);
    this.changed();
  }

  /** The forbidden table as upstream's JSON carries it: `{group: {topic: bits}}`. */
  forbiddenTableJson(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.forbiddenTable].map(([g, topics]) => [g, Object.fromEntries(topics)]));
  }

  private changed(): void {
    this.dataVersion = nextDataVersion(this.dataVersion);
    this.persist();
  }

  /** The names of every configured group (upstream `getSubscriptionGroupTable().keySet()`). */
  groups(): string[] {
    return [...this.table.keys()];
  }

  persist(): void {
    writeFileAtomic(this.path, JSON.stringify({
      subscriptionGroupTable: Object.fromEntries(this.table), forbiddenTable: this.forbiddenTableJson(), dataVersion: this.dataVersion,
    }, null, 2));
  }
}

/** subscriptionGroup.json, and the body of GET_ALL_SUBSCRIPTIONGROUP_CONFIG. */
interface SubscriptionGroupWrapper {
  subscriptionGroupTable?: Record<string, Partial<BrokerSubscriptionGroupConfig>>;
  forbiddenTable?: Record<string, Record<string, unknown>>;
  dataVersion?: DataVersion;
}
