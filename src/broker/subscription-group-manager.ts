import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../common/config-file.js';
import { newDataVersion, nextDataVersion, type DataVersion } from '../common/route.js';

/** A consumer group's settings (upstream `SubscriptionGroupConfig`). */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeFromMinEnable: boolean;
  consumeBroadcastEnable: boolean;
  consumeMessageOrderly: boolean;
  retryQueueNums: number;
  retryMaxTimes: number;
  brokerId: number;
  whichBrokerWhenConsumeSlowly: number;
  notifyConsumerIdsChangedEnable: boolean;
  groupSysFlag: number;
  consumeTimeoutMinute: number;
  attributes: Record<string, string>;
}

export function newSubscriptionGroupConfig(groupName: string): SubscriptionGroupConfig {
  return {
    groupName, consumeEnable: true, consumeFromMinEnable: true, consumeBroadcastEnable: true, consumeMessageOrderly: false,
    retryQueueNums: 1, retryMaxTimes: 16, brokerId: 0, whichBrokerWhenConsumeSlowly: 1, notifyConsumerIdsChangedEnable: true,
    groupSysFlag: 0, consumeTimeoutMinute: 15, attributes: {},
  };
}

/**
 * Consumer groups (upstream `SubscriptionGroupManager`), persisted as
 * `config/subscriptionGroup.json`; auto-created on first use when autoCreateSubscriptionGroup.
 */
export class SubscriptionGroupManager {
  readonly table = new Map<string, SubscriptionGroupConfig>();
  dataVersion: DataVersion = newDataVersion();
  private readonly path: string;

  constructor(storeRoot: string, private readonly autoCreate: boolean, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'subscriptionGroup.json');
  }

  load(): void {
    const data = readJsonFile<{ subscriptionGroupTable?: Record<string, Partial<SubscriptionGroupConfig>>; dataVersion?: DataVersion }>(this.path, (m) => this.logger.warn(m));
    for (const [name, cfg] of Object.entries(data?.subscriptionGroupTable ?? {})) {
      this.table.set(name, { ...newSubscriptionGroupConfig(name), ...cfg, groupName: name });
    }
    if (data?.dataVersion) this.dataVersion = { ...newDataVersion(), ...data.dataVersion };
  }

  /** The group's config, auto-created when allowed; undefined when the group does not exist. */
  findSubscriptionGroupConfig(group: string): SubscriptionGroupConfig | undefined {
    let cfg = this.table.get(group);
    if (!cfg && this.autoCreate) {
      cfg = newSubscriptionGroupConfig(group);
      this.table.set(group, cfg);
      this.changed();
    }
    return cfg;
  }

  update(cfg: SubscriptionGroupConfig): void {
    this.table.set(cfg.groupName, { ...newSubscriptionGroupConfig(cfg.groupName), ...cfg });
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

  persist(): void {
    writeFileAtomic(this.path, JSON.stringify({ subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.dataVersion }, null, 2));
  }
}
