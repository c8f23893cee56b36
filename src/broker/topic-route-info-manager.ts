import type { Logger } from '../common/logger.js';
import { isReadable } from '../common/perm.js';
import type { AssignedQueue } from '../common/message-request-mode.js';
import type { BrokerOuterAPI } from './broker-outer-api.js';
import type { TopicConfigManager } from './topic-config-manager.js';

/** How long a topic's queues are trusted before the NameServer is asked again (upstream `loadBalancePollNameServerInterval`). */
const ROUTE_TTL_MS = 30_000;

/**
 * The readable queues of a topic across the whole cluster, as the broker's QUERY_ASSIGNMENT
 * hands them out (upstream `TopicRouteInfoManager.getTopicSubscribeInfo`): fetched from the
 * NameServers on a miss and kept for 30 s. Upstream refreshes its table on a timer instead; a
 * cache that expires gives the same freshness without one. A broker registered with no
 * NameServer serves its own topics.
 */
export class TopicRouteInfoManager {
  private readonly cache = new Map<string, { queues: AssignedQueue[] | undefined; at: number }>();

  constructor(
    private readonly outerAPI: BrokerOuterAPI,
    private readonly namesrvAddrs: () => string[],
    private readonly brokerName: () => string,
    private readonly topics: TopicConfigManager,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The topic's readable queues (topicRouteData2TopicSubscribeInfo), or undefined when it does not exist. */
  async getTopicSubscribeInfo(topic: string): Promise<AssignedQueue[] | undefined> {
    const hit = this.cache.get(topic);
    if (hit && hit.queues && this.now() - hit.at < ROUTE_TTL_MS) return hit.queues;
    const addrs = this.namesrvAddrs();
    let queues: AssignedQueue[] | undefined;
    if (addrs.length === 0) {
      const tc = this.topics.get(topic);
      if (tc && isReadable(tc.perm)) queues = Array.from({ length: tc.readQueueNums }, (_, queueId) => ({ topic, brokerName: this.brokerName(), queueId }));
    } else {
      try {
        const route = await this.outerAPI.getTopicRouteInfoFromNameServer(addrs, topic);
        if (route) {
          queues = [];
          for (const qd of route.queueDatas) {
            if (!isReadable(qd.perm)) continue;
            for (let queueId = 0; queueId < qd.readQueueNums; queueId++) queues.push({ topic, brokerName: qd.brokerName, queueId });
          }
        }
      } catch (err) {
        this.logger.warn(`no route of topic ${topic} for the assignment of its queues: ${(err as Error).message}`);
        // A NameServer that did not answer: what was known before is still the best answer.
        return hit?.queues;
      }
    }
    // Misses are not kept: a topic created a moment later is found at the next query.
    if (queues && queues.length > 0) this.cache.set(topic, { queues, at: this.now() });
    else this.cache.delete(topic);
    return queues && queues.length > 0 ? queues : undefined;
  }
}
