import type { Logger } from '../../common/logger.js';
import type { DataVersion, TopicConfig } from '../../common/route.js';
import { RequestCode } from '../../remoting/codes.js';
import type { BrokerController } from '../broker-controller.js';
import type { BrokerOuterAPI } from '../broker-outer-api.js';

/** How often a slave copies the master's metadata (upstream: every 10 s, and once at start). */
export const SLAVE_SYNC_INTERVAL_MS = 10_000;

/**
 * A slave's copy of its master's metadata (upstream `SlaveSynchronize`): topics, consumer
 * offsets, delay-level cursors, subscription groups and (5.x) message request modes, fetched
 * with the master's own admin requests. Timer state (5.x syncTimerCheckPoint) is not copied:
 * this broker's timer wheel keeps no checkpoint a slave could take over.
 */
export class SlaveSynchronize {
  /** The master's Remoting address, from the NameServer's registration answer. */
  masterAddr = '';
  private running?: Promise<void>;
  /** A round asked for while one ran: it starts when that one ends (one at most). */
  private next?: Promise<void>;

  /**
   * Requests go through the broker's one outbound client (upstream: BrokerOuterAPI), signed with
   * innerClientAuthenticationCredentials, so a master with authenticationEnabled answers its slave.
   */
  constructor(private readonly broker: BrokerController, private readonly outerAPI: BrokerOuterAPI, private readonly logger: Logger) {}

  /** One round of every sync, started after this call (rounds never overlap); resolves when it is over. */
  syncAll(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.doSyncAll().finally(() => { this.running = undefined; });
      return this.running;
    }
    this.next ??= this.running.then(() => {
      this.next = undefined;
      return this.syncAll();
    });
    return this.next;
  }

  private async doSyncAll(): Promise<void> {
    const addr = this.masterAddr;
    if (addr === '' || addr === this.broker.address) return;
    await this.step('topic config', () => this.syncTopicConfig(addr));
    await this.step('consumer offset', () => this.syncConsumerOffset(addr));
    await this.step('delay offset', () => this.syncDelayOffset(addr));
    await this.step('subscription group config', () => this.syncSubscriptionGroupConfig(addr));
    await this.step('message request mode', () => this.syncMessageRequestMode(addr));
  }

  private async step(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.warn(`SlaveSynchronize: sync ${what} from master ${this.masterAddr} failed: ${(err as Error).message}`);
    }
  }

  private fetch(addr: string, code: number): Promise<string> {
    return this.outerAPI.fetchFromMaster(addr, code);
  }

  private async syncTopicConfig(addr: string): Promise<void> {
    const w = JSON.parse(await this.fetch(addr, RequestCode.GET_ALL_TOPIC_CONFIG)) as { topicConfigTable?: Record<string, TopicConfig>; dataVersion?: DataVersion };
    if (this.broker.topicConfigManager.replaceFromMaster(w)) this.logger.info(`SlaveSynchronize: topic config updated from master ${addr}`);
  }

  private async syncConsumerOffset(addr: string): Promise<void> {
    const w = JSON.parse(await this.fetch(addr, RequestCode.GET_ALL_CONSUMER_OFFSET)) as { offsetTable?: Record<string, Record<string, number>> };
    this.broker.consumerOffsetManager.putAll(w.offsetTable ?? {});
    this.broker.consumerOffsetManager.persist();
  }

  private async syncDelayOffset(addr: string): Promise<void> {
    const text = await this.fetch(addr, RequestCode.GET_ALL_DELAY_OFFSET);
    if (text === '') return;
    const w = JSON.parse(text) as { offsetTable?: Record<string, number> };
    this.broker.scheduleMessageService.replaceOffsets(w.offsetTable ?? {});
  }

  private async syncSubscriptionGroupConfig(addr: string): Promise<void> {
    const w = JSON.parse(await this.fetch(addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)) as Parameters<BrokerController['subscriptionGroupManager']['replaceFromMaster']>[0];
    if (this.broker.subscriptionGroupManager.replaceFromMaster(w)) this.logger.info(`SlaveSynchronize: subscription group config updated from master ${addr}`);
  }

  private async syncMessageRequestMode(addr: string): Promise<void> {
    const text = await this.fetch(addr, RequestCode.GET_ALL_MESSAGE_REQUEST_MODE);
    if (text !== '') this.broker.messageRequestModeManager.replaceFromMaster(text);
  }

  async shutdown(): Promise<void> {
    await (this.next ?? this.running)?.catch(() => undefined);
  }
}
