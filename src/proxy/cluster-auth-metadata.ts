import type { AclInfo, UserInfo } from '../common/acl-info.js';
import type { Logger } from '../common/logger.js';
import { aclFromInfo, userFromInfo, type Acl, type User } from '../broker/auth/model.js';
import type { AuthMetadataProvider, ProxyAuth } from './authentication.js';
import { LoadingCache } from './loading-cache.js';
import type { ProxyConfig } from './proxy-config.js';

/** What the cluster-mode proxy asks the brokers (ClusterMessagingProcessor: AUTH_GET_USER, AUTH_GET_ACL). */
export interface BrokerAuthMetadataSource {
  fetchUser(username: string): Promise<UserInfo | undefined>;
  fetchAcl(subject: string): Promise<AclInfo | undefined>;
}

type CacheSettings = Pick<ProxyConfig,
  'userCacheMaxNum' | 'userCacheExpiredSeconds' | 'userCacheRefreshSeconds' | 'aclCacheMaxNum' | 'aclCacheExpiredSeconds' | 'aclCacheRefreshSeconds'>;

/**
 * Users and ACLs of the brokers, for the cluster-mode proxy's gRPC checks (upstream
 * `ProxyAuthenticationMetadataProvider` / `ProxyAuthorizationMetadataProvider` over
 * `ClusterMetadataService`'s userCache and aclCache). A name the brokers do not know is cached
 * as absent too (upstream EMPTY_USER / EMPTY_ACL), so a user created on a broker becomes
 * usable at the proxy once its entry is refreshed (userCacheRefreshSeconds) or expires.
 */
export class ClusterAuthMetadataProvider implements AuthMetadataProvider {
  private readonly users: LoadingCache<User | undefined>;
  private readonly acls: LoadingCache<Acl | undefined>;

  constructor(source: BrokerAuthMetadataSource, config: CacheSettings, logger: Logger) {
    this.users = new LoadingCache(async (username) => {
      const info = await source.fetchUser(username);
      return info ? userFromInfo(info) : undefined;
    }, {
      maxNum: config.userCacheMaxNum, expireAfterAccessMs: config.userCacheExpiredSeconds * 1000, refreshAfterWriteMs: config.userCacheRefreshSeconds * 1000,
      onRefreshError: (k, err) => logger.warn(`load user ${k} from the brokers failed, the cached one is kept: ${(err as Error).message}`),
    });
    this.acls = new LoadingCache(async (subject) => {
      const info = await source.fetchAcl(subject);
      return info && Array.isArray(info.policies) && info.policies.length > 0 ? aclFromInfo(info, subject) : undefined;
    }, {
      maxNum: config.aclCacheMaxNum, expireAfterAccessMs: config.aclCacheExpiredSeconds * 1000, refreshAfterWriteMs: config.aclCacheRefreshSeconds * 1000,
      onRefreshError: (k, err) => logger.warn(`load acl of ${k} from the brokers failed, the cached one is kept: ${(err as Error).message}`),
    });
  }

  getUser(username: string): Promise<User | undefined> {
    return this.users.get(username);
  }

  getAcl(subject: string): Promise<Acl | undefined> {
    return this.acls.get(subject);
  }
}

/**
 * The cluster-mode proxy's ACL 2.0 (upstream proxy with `authenticationEnabled` /
 * `authorizationEnabled` in rmq-proxy.json): undefined when both switches are off.
 */
export function clusterProxyAuth(source: BrokerAuthMetadataSource, config: ProxyConfig, logger: Logger): ProxyAuth | undefined {
  if (!config.authenticationEnabled && !config.authorizationEnabled) return undefined;
  return { metadata: new ClusterAuthMetadataProvider(source, config, logger), switches: config };
}
