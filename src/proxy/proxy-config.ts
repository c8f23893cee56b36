import { DEFAULT_CLUSTER } from '../common/topic.js';

/**
 * Proxy settings (upstream `ProxyConfig`), with upstream's names and defaults where they exist.
 */
export interface ProxyConfig {
  /** gRPC listen port (upstream `grpcServerPort`); 0 picks a free one. */
  grpcServerPort: number;
  /** Address to bind (default all interfaces). */
  host?: string;
  /** Shortest invisible time a SimpleConsumer may ask for, ms (upstream `minInvisibleTimeMillsForRecv`, 10 s). */
  minInvisibleTimeMillsForRecv: number;
  /** Longest invisible time, ms (12 h). */
  maxInvisibleTimeMills: number;
  /** Invisible time of push consumers (auto_renew), renewed while they live, ms (upstream 60 s). */
  defaultInvisibleTimeMills: number;
  /** Long polling bounds, ms (upstream `grpcClientConsumerMinLongPollingTimeoutMillis` 5 s / `…Max…` 20 s). */
  minLongPollingTimeoutMillis: number;
  maxLongPollingTimeoutMillis: number;
  /**
   * Receive batch size told to clients in their settings (upstream
   * `grpcClientConsumerLongPollingBatchSize`, 32), and a receive's cap when lower than
   * MAX_MSG_NUMS_FOR_POP_REQUEST.
   */
  maxReceiveBatchSize: number;
  /** Largest body, bytes (upstream `maxMessageSize`, 4 MiB); 0 = the broker's maxMessageSize. */
  maxMessageSize: number;
  /** Most user properties on a message (upstream `maxUserPropertySize` 128 … the proxy's own check). */
  maxUserPropertyCount: number;
  /** Bytes of tag + keys + user properties at most (upstream `maxMessagePropertySize`, 16 KiB). */
  maxMessagePropertySize: number;
  /** Farthest delivery timestamp ahead, ms (upstream `maxDelayTimeMills`, 1 day). */
  maxDelayTimeMills: number;
  /** Longest orphaned transaction recovery duration a producer may ask for, s (upstream `maxTransactionRecoverySecond`, 1 h). */
  maxTransactionRecoverySecond: number;
  /** Check send message types against the topic's `message.type` (upstream `enableTopicMessageTypeCheck`). */
  enableTopicMessageTypeCheck: boolean;
  /** Receives waiting at once; more answer TOO_MANY_REQUESTS "polling full". */
  maxPollingWaiters: number;
  /**
   * Accounts whose signed requests are accepted (upstream ACL: accessKey → secretKey). When
   * set, every request must carry a valid `authorization` header, else UNAUTHORIZED.
   */
  acl?: { accounts: Array<{ accessKey: string; secretKey: string }> };
  /**
   * Cluster mode: JSON `{"accessKey":…,"secretKey":…}` the proxy signs its requests to the
   * brokers with (upstream's AuthConfig key of the same name), for brokers with authentication on.
   */
  innerClientAuthenticationCredentials?: string;
  /** How long a client may stay silent before the proxy forgets it, ms (upstream channelExpiredTimeout). */
  channelExpiredTimeout: number;
  /**
   * Cluster mode, ACL 2.0 (upstream `AuthConfig`, read from the same rmq-proxy.json): every gRPC
   * request must be signed by an enabled user of the brokers' store. In a standalone the
   * broker's own switches rule instead.
   */
  authenticationEnabled: boolean;
  /** Cluster mode: each resource an RPC touches must be allowed by the user's ACL on the brokers. */
  authorizationEnabled: boolean;
  /**
   * Cluster mode (upstream `AuthConfig`): comma-separated gRPC requests that skip authentication
   * / authorization, named by their message's full name, e.g. `apache.rocketmq.v2.QueryRouteRequest`.
   */
  authenticationWhitelist: string;
  authorizationWhitelist: string;
  /**
   * Upstream's pluggable auth classes (`authenticationProvider`, `authenticationMetadataProvider`,
   * `authenticationStrategy`, and the authorization ones). Accepted so an upstream file can be
   * reused; this proxy has one implementation of each, the defaults upstream's proxy uses.
   */
  authenticationProvider?: string;
  authenticationMetadataProvider?: string;
  authenticationStrategy?: string;
  authorizationProvider?: string;
  authorizationMetadataProvider?: string;
  authorizationStrategy?: string;
  /** The cluster whose brokers users and ACLs are read from (upstream `rocketMQClusterName`). */
  rocketMQClusterName: string;
  /**
   * The proxy's caches of the brokers' users and ACLs (upstream ProxyConfig, used by
   * `ClusterMetadataService`): entries at most, dropped after this many seconds unread,
   * reloaded in the background when older than this many seconds.
   */
  userCacheMaxNum: number;
  userCacheExpiredSeconds: number;
  userCacheRefreshSeconds: number;
  aclCacheMaxNum: number;
  aclCacheExpiredSeconds: number;
  aclCacheRefreshSeconds: number;
}

export const DEFAULT_PROXY_PORT = 8081;

/**
 * Messages one receive asks a broker for at most, whatever the client or the config ask (upstream
 * `ProxyUtils.MAX_MSG_NUMS_FOR_POP_REQUEST`): a broker refuses a POP of more than 32.
 */
export const MAX_MSG_NUMS_FOR_POP_REQUEST = 32;

export function defaultProxyConfig(): ProxyConfig {
  return {
    grpcServerPort: DEFAULT_PROXY_PORT,
    minInvisibleTimeMillsForRecv: 10_000,
    maxInvisibleTimeMills: 12 * 3600_000,
    defaultInvisibleTimeMills: 60_000,
    minLongPollingTimeoutMillis: 5_000,
    maxLongPollingTimeoutMillis: 20_000,
    maxReceiveBatchSize: 32,
    maxMessageSize: 0,
    maxUserPropertyCount: 128,
    maxMessagePropertySize: 16 * 1024,
    maxDelayTimeMills: 24 * 3600_000,
    maxTransactionRecoverySecond: 3600,
    enableTopicMessageTypeCheck: true,
    maxPollingWaiters: 10_000,
    channelExpiredTimeout: 120_000,
    authenticationEnabled: false,
    authorizationEnabled: false,
    authenticationWhitelist: '',
    authorizationWhitelist: '',
    rocketMQClusterName: DEFAULT_CLUSTER,
    userCacheMaxNum: 20_000,
    userCacheExpiredSeconds: 300,
    userCacheRefreshSeconds: 20,
    aclCacheMaxNum: 20_000,
    aclCacheExpiredSeconds: 300,
    aclCacheRefreshSeconds: 20,
  };
}

const NUMERIC_KEYS = [
  'grpcServerPort', 'minInvisibleTimeMillsForRecv', 'maxInvisibleTimeMills', 'defaultInvisibleTimeMills', 'minLongPollingTimeoutMillis',
  'maxLongPollingTimeoutMillis', 'maxReceiveBatchSize', 'maxMessageSize', 'maxUserPropertyCount', 'maxMessagePropertySize',
  'maxDelayTimeMills', 'maxTransactionRecoverySecond', 'maxPollingWaiters', 'channelExpiredTimeout',
  'userCacheMaxNum', 'userCacheExpiredSeconds', 'userCacheRefreshSeconds', 'aclCacheMaxNum', 'aclCacheExpiredSeconds', 'aclCacheRefreshSeconds',
] as const;

const BOOLEAN_KEYS = ['enableTopicMessageTypeCheck', 'authenticationEnabled', 'authorizationEnabled'] as const;

const STRING_KEYS = [
  'host', 'innerClientAuthenticationCredentials', 'rocketMQClusterName', 'authenticationProvider', 'authenticationMetadataProvider',
  'authenticationStrategy', 'authorizationProvider', 'authorizationMetadataProvider', 'authorizationStrategy',
  'authenticationWhitelist', 'authorizationWhitelist',
] as const;

/**
 * Reads a proxy config file (upstream `rmq-proxy.json`): a JSON object with ProxyConfig keys.
 * Keys this proxy does not have are reported, not fatal, so an upstream file can be reused.
 */
export function parseProxyConfig(text: string, source: string): { config: Partial<ProxyConfig>; unknown: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source} must hold a JSON object of proxy settings`);
  const o = raw as Record<string, unknown>;
  const config: Partial<ProxyConfig> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if ((NUMERIC_KEYS as readonly string[]).includes(k)) {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error(`${source}: ${k} must be a non-negative integer, not ${JSON.stringify(v)}`);
      (config as Record<string, number>)[k] = n;
    } else if ((BOOLEAN_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== 'boolean') throw new Error(`${source}: ${k} must be true or false`);
      (config as Record<string, boolean>)[k] = v;
    } else if (k === 'innerClientAuthenticationCredentials') {
      if (typeof v !== 'string') throw new Error(`${source}: ${k} must be a string holding JSON {"accessKey": "...", "secretKey": "..."}`);
      config.innerClientAuthenticationCredentials = v;
    } else if ((STRING_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== 'string') throw new Error(`${source}: ${k} must be a string`);
      (config as Record<string, string>)[k] = v;
    } else if (k === 'acl') {
      const accounts = (v as { accounts?: unknown })?.accounts;
      if (!Array.isArray(accounts) || accounts.some((a) => typeof a?.accessKey !== 'string' || typeof a?.secretKey !== 'string')) {
        throw new Error(`${source}: acl must be {"accounts": [{"accessKey": "...", "secretKey": "..."}]}`);
      }
      config.acl = { accounts: accounts as Array<{ accessKey: string; secretKey: string }> };
    } else {
      unknown.push(k);
    }
  }
  return { config, unknown };
}
