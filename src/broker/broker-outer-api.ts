import { crc32 } from 'node:zlib';
import type { Logger } from '../common/logger.js';
import { decodeTopicRouteData, encodeRegisterBrokerBody, type TopicConfigSerializeWrapper, type TopicRouteData } from '../common/route.js';
import { RemotingClient } from '../remoting/client.js';
import { aclRpcHook, type SessionCredentials } from '../remoting/acl-signature.js';
import { createRequest } from '../remoting/command.js';
import { RequestCode, ResponseCode, SerializeType } from '../remoting/codes.js';

export interface BrokerIdentity {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  haServerAddr: string;
}

/** A NameServer's answer to REGISTER_BROKER (header `RegisterBrokerResponseHeader`). */
export interface RegisterBrokerResult {
  haServerAddr: string;
  masterAddr: string;
}

/**
 * The broker's calls to NameServers (upstream `BrokerOuterAPI`): REGISTER_BROKER to every
 * NameServer in parallel, UNREGISTER_BROKER at shutdown, GET_ROUTEINFO_BY_TOPIC for the
 * server-side assignment of queues (QUERY_ASSIGNMENT).
 */
export class BrokerOuterAPI {
  private readonly client: RemotingClient;

  constructor(private readonly logger: Logger, credentials?: SessionCredentials) {
    this.client = new RemotingClient({ connectTimeoutMs: 3000, rpcHook: aclRpcHook(credentials) });
  }

  /**
   * Returns what the NameServers answered (upstream `RegisterBrokerResult`): the master's HA and
   * Remoting addresses of the broker group, for a slave; empty strings where a NameServer knows
   * no live master or did not answer.
   */
  async registerBrokerAll(namesrvAddrs: string[], id: BrokerIdentity, wrapper: TopicConfigSerializeWrapper, timeoutMs: number): Promise<RegisterBrokerResult[]> {
    const body = encodeRegisterBrokerBody({ topicConfigSerializeWrapper: wrapper, filterServerList: [] }, false);
    const bodyCrc32 = crc32(body) & 0x7fffffff;
    return Promise.all(namesrvAddrs.map(async (addr): Promise<RegisterBrokerResult> => {
      const req = createRequest(RequestCode.REGISTER_BROKER, {
        extFields: {
          brokerName: id.brokerName, brokerAddr: id.brokerAddr, clusterName: id.clusterName,
          haServerAddr: id.haServerAddr, brokerId: id.brokerId, compressed: false, bodyCrc32,
        },
        body,
        serializeType: SerializeType.ROCKETMQ,
        language: 'JAVA',
      });
      try {
        const res = await this.client.invoke(addr, req, timeoutMs);
        if (res.code !== ResponseCode.SUCCESS) this.logger.warn(`register broker to NameServer ${addr} failed: code ${res.code} ${res.remark ?? ''}`);
        else return { haServerAddr: res.extFields?.haServerAddr ?? '', masterAddr: res.extFields?.masterAddr ?? '' };
      } catch (err) {
        this.logger.warn(`register broker to NameServer ${addr} failed: ${(err as Error).message}`);
      }
      return { haServerAddr: '', masterAddr: '' };
    }));
  }

  async unregisterBrokerAll(namesrvAddrs: string[], id: BrokerIdentity): Promise<void> {
    await Promise.all(namesrvAddrs.map(async (addr) => {
      const req = createRequest(RequestCode.UNREGISTER_BROKER, {
        extFields: { brokerName: id.brokerName, brokerAddr: id.brokerAddr, clusterName: id.clusterName, brokerId: id.brokerId },
        serializeType: SerializeType.ROCKETMQ,
        language: 'JAVA',
      });
      try {
        await this.client.invoke(addr, req, 3000);
      } catch (err) {
        this.logger.warn(`unregister broker from NameServer ${addr} failed: ${(err as Error).message}`);
      }
    }));
  }

  /**
   * GET_ROUTEINFO_BY_TOPIC from the first NameServer that answers (upstream
   * `getTopicRouteInfoFromNameServer`); undefined when the topic is unknown to all of them.
   */
  async getTopicRouteInfoFromNameServer(namesrvAddrs: string[], topic: string, timeoutMs = 3000): Promise<TopicRouteData | undefined> {
    let lastErr: Error | undefined;
    for (const addr of namesrvAddrs) {
      const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic }, serializeType: SerializeType.ROCKETMQ, language: 'JAVA' });
      try {
        const res = await this.client.invoke(addr, req, timeoutMs);
        if (res.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
        if (res.code !== ResponseCode.SUCCESS || !res.body) throw new Error(`code ${res.code} ${res.remark ?? ''}`);
        return decodeTopicRouteData(res.body);
      } catch (err) {
        lastErr = err as Error;
        this.logger.warn(`get route of topic ${topic} from NameServer ${addr} failed: ${lastErr.message}`);
      }
    }
    if (lastErr) throw lastErr;
    return undefined;
  }

  /**
   * A slave's read of its master's metadata (upstream `getAllTopicConfig`,
   * `getAllConsumerOffset`, `getAllDelayOffset`, `getAllSubscriptionGroupConfig`,
   * `getAllMessageRequestMode`): the body of `code`'s answer, signed as every request here.
   */
  async fetchFromMaster(masterAddr: string, code: number, timeoutMs = 5000): Promise<string> {
    const res = await this.client.invoke(masterAddr, createRequest(code, {}), timeoutMs);
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`code ${res.code} ${res.remark ?? ''}`);
    return res.body?.toString('utf8') ?? '';
  }

  shutdown(): Promise<void> {
    return this.client.shutdown();
  }
}
