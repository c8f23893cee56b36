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
  dataVersion: DataVersion = newDataVersion();
  private readonly path: string;

  constructor(storeRoot: string, private readonly autoCreate: boolean, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'subscriptionGroup.json');
  }

  load(): void {
    const data = readJsonFile<{ subscriptionGroupTable?: Record<string, Partial<BrokerSubscriptionGroupConfig>>; dataVersion?: DataVersion }>(this.path, (m) => this.logger.warn(m));
    for (const [name, cfg] of Object.entries(data?.subscriptionGroupTable ?? {})) {
      this.table.set(name, { ...newBrokerSubscriptionGroupConfig(name), ...cfg, groupName: name });
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

  delete(group: string): boolean {
    const had = this.table.delete(group);
    if (had) this.changed();
    return had;
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
    writeFileAtomic(this.path, JSON.stringify({ subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.dataVersion }, null, 2));
  }
}
