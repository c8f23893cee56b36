import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import type { BrokerConfig } from '../common/config.js';
import { readJsonFile, writeFileAtomic } from '../common/config-file.js';
import { PermName } from '../common/perm.js';
import { SystemTopic, getReplyTopic, getRetryTopic } from '../common/topic.js';
import { newDataVersion, nextDataVersion, type DataVersion, type TopicConfig, type TopicConfigSerializeWrapper } from '../common/route.js';
import { internText } from '../remoting/codec.js';

/** Number of SCHEDULE_TOPIC_XXXX queues: one per delay level. */
export const SCHEDULE_QUEUE_NUMS = 18;

export function newTopicConfig(topicName: string, read = 16, write = 16, perm = PermName.PERM_READ | PermName.PERM_WRITE): TopicConfig {
  return { topicName, readQueueNums: read, writeQueueNums: write, perm, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} };
}

/**
 * The broker's topics (upstream `TopicConfigManager`), persisted as `config/topics.json`.
 * Every change bumps the data version, which the NameServer compares on registration.
 */
export class TopicConfigManager {
  readonly table = new Map<string, TopicConfig>();
  dataVersion: DataVersion = newDataVersion();
  private readonly path: string;
  /** Called after a change, so the broker registers with the NameServers at once. */
  onChange?: () => void;

  constructor(storeRoot: string, private readonly broker: BrokerConfig, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'topics.json');
  }

  /**
   * Enters `tc` under its name, interned: a send's header decodes the topic to the interned
   * string, so the lookup compares references instead of reading a key of the table's own.
   */
  private put(tc: TopicConfig): void {
    this.table.set(internText(tc.topicName), tc);
  }

  /**
   * A slave takes the master's topics (upstream SlaveSynchronize.syncTopicConfig): when the
   * master's data version differs, its table replaces this one, topics it no longer has included.
   * Returns whether anything changed.
   */
  replaceFromMaster(w: { topicConfigTable?: Record<string, TopicConfig>; dataVersion?: DataVersion }): boolean {
    const v = w.dataVersion;
    if (v !== undefined && v.counter === this.dataVersion.counter && v.timestamp === this.dataVersion.timestamp) return false;
    this.table.clear();
    for (const [name, tc] of Object.entries(w.topicConfigTable ?? {})) {
      this.put({ ...newTopicConfig(name), ...tc, topicName: name, attributes: plainAttributeNames(tc.attributes ?? {}) });
    }
    if (v !== undefined) this.dataVersion = { ...newDataVersion(), ...v };
    this.persist();
    this.onChange?.();
    return true;
  }

  load(): void {
    const data = readJsonFile<{ topicConfigTable?: Record<string, TopicConfig>; dataVersion?: DataVersion }>(this.path, (m) => this.logger.warn(m));
    if (data?.topicConfigTable) {
      for (const [name, tc] of Object.entries(data.topicConfigTable)) {
        this.put({ ...newTopicConfig(name), ...tc, topicName: name, attributes: plainAttributeNames(tc.attributes ?? {}) });
      }
    }
    if (data?.dataVersion) this.dataVersion = { ...newDataVersion(), ...data.dataVersion };
    this.createSystemTopics();
  }

  /** The topics upstream creates at broker start. */
  private createSystemTopics(): void {
    const b = this.broker;
    const rw = PermName.PERM_READ | PermName.PERM_WRITE;
    const sys: TopicConfig[] = [
      newTopicConfig(SystemTopic.SELF_TEST_TOPIC, 1, 1),
      newTopicConfig(b.brokerClusterName, 16, 16, rw | (b.brokerPermission & PermName.PERM_INHERIT)),
      newTopicConfig(b.brokerName, 1, 1, rw),
      newTopicConfig(SystemTopic.OFFSET_MOVED_EVENT, 1, 1),
      newTopicConfig(SystemTopic.SCHEDULE_TOPIC, SCHEDULE_QUEUE_NUMS, SCHEDULE_QUEUE_NUMS),
      newTopicConfig(SystemTopic.TRANS_HALF_TOPIC, 1, 1),
      newTopicConfig(SystemTopic.TRANS_OP_HALF_TOPIC, 1, 1),
      newTopicConfig(getReplyTopic(b.brokerClusterName), 1, 1),
    ];
    if (b.traceTopicEnable && b.msgTraceTopicName) {
      // Clients with trace on write their trace records here; their keys (message ids) make them queryable.
      sys.push(newTopicConfig(b.msgTraceTopicName, 1, 1));
    }
    if (b.autoCreateTopicEnable) {
      // TBW102 is the template producers fall back to for unknown topics; INHERIT lets it be copied.
      sys.push(newTopicConfig(SystemTopic.AUTO_CREATE_TOPIC_KEY, b.defaultTopicQueueNums, b.defaultTopicQueueNums, PermName.PERM_INHERIT | rw));
    } else {
      this.table.delete(SystemTopic.AUTO_CREATE_TOPIC_KEY);
    }
    let changed = false;
    for (const tc of sys) {
      if (!this.table.has(tc.topicName)) {
        this.put(tc);
        changed = true;
      }
    }
    if (changed) this.persist();
  }

  get(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  /** Creates or replaces a topic (UPDATE_AND_CREATE_TOPIC). */
  update(tc: TopicConfig): void {
    this.put(tc);
    this.changed();
  }

  delete(topic: string): boolean {
    const existed = this.table.delete(topic);
    if (existed) this.changed();
    return existed;
  }

  /**
   * Creates `topic` on first send when the template topic allows it (upstream
   * `createTopicInSendMessageMethod`): queues = min(requested, template's), perm without INHERIT.
   */
  createTopicInSendMessageMethod(topic: string, defaultTopic: string, requestedQueueNums: number, topicSysFlag: number): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const tmpl = this.table.get(defaultTopic);
    if (!tmpl) {
      this.logger.warn(`create topic ${topic} refused: template topic ${defaultTopic} does not exist on this broker`);
      return undefined;
    }
    if (defaultTopic === SystemTopic.AUTO_CREATE_TOPIC_KEY && !this.broker.autoCreateTopicEnable) return undefined;
    if ((tmpl.perm & PermName.PERM_INHERIT) === 0) {
      this.logger.warn(`create topic ${topic} refused: template topic ${defaultTopic} has no inherit permission`);
      return undefined;
    }
    const queueNums = Math.max(1, Math.min(requestedQueueNums > 0 ? requestedQueueNums : tmpl.writeQueueNums, tmpl.writeQueueNums));
    const tc = newTopicConfig(topic, queueNums, queueNums, tmpl.perm & ~PermName.PERM_INHERIT);
    tc.topicSysFlag = topicSysFlag;
    this.put(tc);
    this.logger.info(`auto-created topic ${topic} from template ${defaultTopic} with ${queueNums} queues`);
    this.changed();
    return tc;
  }

  /** Retry topic of a consumer group, created on demand with `retryQueueNums` queues. */
  createRetryTopicIfAbsent(group: string, queueNums: number): TopicConfig {
    return this.createGroupSystemTopicIfAbsent(getRetryTopic(group), queueNums);
  }

  /** A per-group system topic such as `%DLQ%<group>` (read and write, as upstream from 4.9.2). */
  createGroupSystemTopicIfAbsent(name: string, queueNums: number): TopicConfig {
    const existing = this.table.get(name);
    if (existing) return existing;
    const tc = newTopicConfig(name, queueNums, queueNums);
    this.put(tc);
    this.changed();
    return tc;
  }

  /**
   * Adds or removes the TBW102 template after autoCreateTopicEnable changed at runtime, so that
   * turning it on lets producers create topics again (upstream only decides this at start).
   */
  refreshSystemTopics(): void {
    this.createSystemTopics();
  }

  /**
   * A new data version although no topic changed (brokerPermission did, which masks every
   * registered topic's perm): the NameServers take the next registration as a change.
   */
  bumpDataVersion(): void {
    this.changed();
  }

  private changed(): void {
    this.dataVersion = nextDataVersion(this.dataVersion);
    this.persist();
    this.onChange?.();
  }

  persist(): void {
    writeFileAtomic(this.path, JSON.stringify(this.wrapper(), null, 2));
  }

  wrapper(): TopicConfigSerializeWrapper {
    return { topicConfigTable: Object.fromEntries(this.table), dataVersion: this.dataVersion };
  }
}

/**
 * Attributes under their plain names, as upstream stores them. Earlier versions of this broker
 * kept the `+` of the request (`+message.type`); those files are read as if they had not.
 */
function plainAttributeNames(attrs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) out[k.startsWith('+') ? k.slice(1) : k] = v;
  return out;
}
