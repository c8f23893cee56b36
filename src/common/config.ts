import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CLUSTER } from './topic.js';

/**
 * Role configurations with RocketMQ's key names and defaults (upstream `BrokerConfig`,
 * `MessageStoreConfig`, `NamesrvConfig`, `NettyServerConfig`). A broker.conf is a flat
 * .properties file whose keys are the field names below; `config-loader.ts` maps it.
 */

export type FlushDiskType = 'ASYNC_FLUSH' | 'SYNC_FLUSH';
export type BrokerRole = 'ASYNC_MASTER' | 'SYNC_MASTER' | 'SLAVE';

export interface BrokerConfig {
  brokerClusterName: string;
  brokerName: string;
  brokerId: number;
  /** `;`-separated NameServer addresses; empty = do not register anywhere. */
  namesrvAddr: string;
  /** Address advertised to clients. */
  brokerIP1: string;
  brokerIP2: string;
  listenPort: number;
  /** Listen on listenPort - 2 as well (the "VIP" channel of old clients). */
  fastListenPortEnable: boolean;
  brokerRole: BrokerRole;
  autoCreateTopicEnable: boolean;
  autoCreateSubscriptionGroup: boolean;
  defaultTopicQueueNums: number;
  brokerPermission: number;
  registerNameServerPeriod: number;
  registerBrokerTimeoutMills: number;
  longPollingEnable: boolean;
  /** Whether LITE_PULL_MESSAGE is served; refused with NO_PERMISSION when false (upstream default true). */
  litePullMessageEnable: boolean;
  shortPollingTimeMills: number;
  notifyConsumerIdsChangedEnable: boolean;
  channelExpiredTimeout: number;
  flushConsumerOffsetInterval: number;
  /** Maximum Remoting frame size in bytes (upstream `com.rocketmq.remoting.frameMaxLength`). */
  maxFrameSize: number;
  /**
   * Longest window, in µs, for which the broker keeps polling its sockets after a request
   * that came alone, to spare the next one a wake-up (see src/remoting/busy-poll.ts). The
   * window adapts to how often requests come and stays closed under load; 0 disables it.
   */
  busyPollMicros: number;
  regionId: string;
  traceOn: boolean;
  /**
   * Epoch ms before which every send (single, batch, V2, reply) is refused with SYSTEM_ERROR and
   * a recall with SERVICE_NOT_AVAILABLE (upstream `startAcceptSendRequestTimeStamp`); 0 = at once.
   */
  startAcceptSendRequestTimeStamp: number;
  /** Statistics items (per topic, per topic@group) idle this long are dropped; < 0 keeps them (upstream's default). */
  maxStatsIdleTimeInMinutes: number;
  /** Allow topics of message.type MIXED (several message types on one topic). */
  enableMixedMessageType: boolean;
  /**
   * `;`-separated keys UPDATE_BROKER_CONFIG refuses, on top of the fixed ones (upstream
   * `BrokerConfig.configBlackList`, read once at start).
   */
  configBlackList: string;
  /** DELETE_TOPIC_IN_BROKER also deletes the POP retry topics of the topic's groups (upstream default true). */
  clearRetryTopicWhenDeleteTopic: boolean;
  /**
   * UPDATE_AND_CREATE_TOPIC(_LIST) and DELETE_TOPIC_IN_BROKER refuse system topics (upstream
   * default true); false lets an operator change or delete them, at their own risk.
   */
  validateSystemTopicWhenUpdateTopic: boolean;
  /** Store reply messages (SEND_REPLY_MESSAGE) in the reply topic as well as pushing them to the requester. */
  storeReplyMessageEnable: boolean;
  /** Create the message trace topic at start (upstream `traceTopicEnable`). */
  traceTopicEnable: boolean;
  msgTraceTopicName: string;
  enablePropertyFilter: boolean;
  /** SQL92-filter retry-topic pulls with the group's filter of the message's original topic (upstream's default false). */
  filterSupportRetry: boolean;
  rejectTransactionMessage: boolean;
  transactionTimeOut: number;
  transactionCheckMax: number;
  transactionCheckInterval: number;
  /** How often config/transactionMetrics (open halves per topic) is written (upstream TransactionMetricsFlushService). */
  transactionMetricFlushInterval: number;
  /** QUERY_ASSIGNMENT balances a group's queues over its consumers; false gives every consumer every queue (upstream). */
  serverLoadBalancerEnable: boolean;
  /** The mode QUERY_ASSIGNMENT answers for a group and topic never set with setConsumeMode (upstream `PULL`). */
  defaultMessageRequestMode: 'PULL' | 'POP';
  /** popShareQueueNum of that default when it is POP (upstream −1: every consumer pops every queue). */
  defaultPopShareQueueNum: number;
  /**
   * ACL 2.0 (upstream `AuthConfig`, read from the same broker.conf): every Remoting request must
   * be signed by an enabled user of the broker's user store (see src/broker/auth/).
   */
  authenticationEnabled: boolean;
  /** Each request is checked against its user's ACL policies (super users pass). */
  authorizationEnabled: boolean;
  /** `,`-separated request codes that pass without a signature. */
  authenticationWhitelist: string;
  /** `,`-separated request codes that pass without an ACL check. */
  authorizationWhitelist: string;
  /** JSON `{"username":…,"password":…}`: the first super user, created at start when missing. */
  initAuthenticationUser: string;
  /**
   * JSON `{"accessKey":…,"secretKey":…}`: the broker signs its own requests (to the NameServers)
   * with it, and it is a super user of the store.
   */
  innerClientAuthenticationCredentials: string;
  /**
   * Upstream's strategy class: stateless (default) checks every request; a name containing
   * `Stateful` remembers each connection's verdict for statefulAuthenticationCacheExpiredSecond.
   */
  authenticationStrategy: string;
  authorizationStrategy: string;
  statefulAuthenticationCacheExpiredSecond: number;
  statefulAuthorizationCacheExpiredSecond: number;
  /**
   * At start, ACL 1.0 accounts (`$ROCKETMQ_HOME/conf/plain_acl.yml`, `conf/acl/*.yml`) become
   * users and ACLs of the store; existing users are left alone (upstream `AuthMigrator`).
   */
  migrateAuthFromV1Enabled: boolean;
  /** RocketMQ's home, where `conf/` is (upstream `rocketmqHome`); empty: the ROCKETMQ_HOME environment variable. */
  rocketmqHome: string;
  /**
   * A master suggests its slave (brokerId 1) to a pull whose messages are no longer in memory,
   * and a slave serves pulls from its consumers (upstream default false).
   */
  slaveReadEnable: boolean;
}

export interface MessageStoreConfig {
  storePathRootDir: string;
  /** Defaults to `<storePathRootDir>/commitlog` when empty; several directories separated by `,` spread the segments over them. */
  storePathCommitLog: string;
  /**
   * With a multi-path storePathCommitLog: more `,`-separated directories whose segments are
   * loaded and read but never written (upstream, for moving a CommitLog off a disk).
   */
  readOnlyCommitLogStorePaths: string;
  mappedFileSizeCommitLog: number;
  mappedFileSizeConsumeQueue: number;
  flushDiskType: FlushDiskType;
  flushIntervalCommitLog: number;
  flushIntervalConsumeQueue: number;
  /** Every ConsumeQueue is made durable (fdatasync) at least this often, in ms (upstream default 60 s). */
  flushConsumeQueueThoroughInterval: number;
  /**
   * The delay levels' cursors (`config/delayOffset.json`) are written this often, in ms, when
   * they moved; a crash delivers again what was delivered since. Upstream's default is 10 s;
   * ours is 1 s, so a crash repeats less.
   */
  flushDelayOffsetInterval: number;
  syncFlushTimeout: number;
  maxMessageSize: number;
  checkCRCOnRecover: boolean;
  messageIndexEnable: boolean;
  /** Hash slots per index file (upstream default 5,000,000). */
  maxHashSlotNum: number;
  /** Entries per index file (upstream default 20,000,000; a file is 40 + 4·slots + 20·entries bytes). */
  maxIndexNum: number;
  /** Most offsets one QUERY_MESSAGE returns. */
  maxMsgsNumBatch: number;
  /** maxNum of a query by unique key (`_UNIQUE_KEY_QUERY=true`). */
  defaultQueryMaxNum: number;
  deleteWhen: string;
  fileReservedTime: number;
  diskMaxUsedSpaceRatio: number;
  /** Percent of disk use above which files are deleted even before they expire (cleanFileForciblyEnable). */
  diskSpaceCleanForciblyRatio: number;
  /** Percent of disk use above which the store refuses writes until cleanup frees space. */
  diskSpaceWarningLevelRatio: number;
  cleanFileForciblyEnable: boolean;
  deleteFileBatchMax: number;
  cleanResourceInterval: number;
  messageDelayLevel: string;
  maxTransferBytesOnMessageInMemory: number;
  maxTransferCountOnMessageInMemory: number;
  maxTransferBytesOnMessageInDisk: number;
  maxTransferCountOnMessageInDisk: number;
  /** Bytes of recently written CommitLog kept in memory to serve pulls of the hot tail. */
  hotTailCacheBytes: number;
  /** Accept timer messages (TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS); false rejects them with SYSTEM_ERROR. */
  timerWheelEnable: boolean;
  /** Longest accepted timer delay in seconds; longer ones are MESSAGE_ILLEGAL (upstream: 3 days). */
  timerMaxDelaySec: number;
  /** Timer precision (ms), snapped down to 100, 200, 500 or 1000 as upstream; delivery times are rounded down to it. */
  timerPrecisionMs: number;
  /** Port a master accepts its slaves on; 0 = listenPort + 1 (upstream BrokerStartup), or a free one when listenPort is 0. */
  haListenPort: number;
  /** A slave reports its offset, and a master with nothing to send sends an empty frame, this often (ms). */
  haSendHeartbeatInterval: number;
  /** An HA connection silent this long (ms) is closed. */
  haHousekeepingInterval: number;
  /** Most CommitLog bytes in one frame to a slave. */
  haTransferBatchSize: number;
  /** `host:port` of the master's HA port for a slave; empty = learnt from the NameServer registration. */
  haMasterAddress: string;
  /** A slave further behind than this many bytes is not in sync (SYNC_MASTER does not count on it). */
  haMaxGapNotInSync: number;
  /** SYNC_MASTER: how long a send waits for its slave acks before FLUSH_SLAVE_TIMEOUT (ms). */
  slaveTimeout: number;
  /**
   * A slave answers PULL_OFFSET_MOVED, which makes the consumer move its offset, only when this
   * is on (upstream, off by default: a slave's queue may just lag the master's).
   */
  offsetCheckInSlave: boolean;
  /** Replicas of the broker group, master included (upstream 5.x). */
  totalReplicas: number;
  /** SYNC_MASTER: replicas, master included, that must have a message before its send is acknowledged (upstream 5.x; 1 = no wait). */
  inSyncReplicas: number;
  /**
   * Timers one slot may hold before sends to it are refused (upstream `isReject`): past this at
   * random, from twice this always (SYSTEM_ERROR, flow control). Upstream's default Integer.MAX_VALUE.
   */
  timerCongestNumEachSlot: number;
  /** Stop filing timer messages into the wheel (they wait on rmq_sys_wheel_timer); upstream timerStopEnqueue. */
  timerStopEnqueue: boolean;
  /** Stop delivering due timers (they stay in the wheel); upstream timerStopDequeue. */
  timerStopDequeue: boolean;
}

export interface NamesrvConfig {
  listenPort: number;
  kvConfigPath: string;
  scanNotActiveBrokerInterval: number;
  brokerChannelExpiredTime: number;
  orderMessageEnable: boolean;
  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER is answered; false refuses it (large deployments). */
  enableAllTopicList: boolean;
  /** GET_TOPICS_BY_CLUSTER and the unit topic lists are answered; false refuses them. */
  enableTopicList: boolean;
  /** A REGISTER_BROKER response carries the ORDER_TOPIC_CONFIG namespace. */
  returnOrderTopicConfigToBroker: boolean;
  /** Refuse route lookups for waitSecondsForService after start, until the brokers have re-registered. */
  needWaitForService: boolean;
  waitSecondsForService: number;
  /** Routes name a master-less acting-master group's lowest slave as broker 0 (upstream default false). */
  supportActingMaster: boolean;
  /** A master's registration drops its queues of topics its topic table no longer has (upstream default false). */
  deleteTopicWithBrokerRegistration: boolean;
  /** `;`-separated keys UPDATE_NAMESRV_CONFIG refuses, on top of the fixed ones. */
  configBlackList: string;
}

export function defaultBrokerConfig(): BrokerConfig {
  return {
    brokerClusterName: DEFAULT_CLUSTER,
    brokerName: hostname() || 'broker-a',
    brokerId: 0,
    namesrvAddr: process.env.NAMESRV_ADDR ?? '',
    brokerIP1: '',
    brokerIP2: '',
    listenPort: 10911,
    fastListenPortEnable: true,
    brokerRole: 'ASYNC_MASTER',
    autoCreateTopicEnable: true,
    autoCreateSubscriptionGroup: true,
    defaultTopicQueueNums: 8,
    brokerPermission: 6,
    registerNameServerPeriod: 30_000,
    registerBrokerTimeoutMills: 6_000,
    longPollingEnable: true,
    litePullMessageEnable: true,
    shortPollingTimeMills: 1_000,
    notifyConsumerIdsChangedEnable: true,
    channelExpiredTimeout: 120_000,
    flushConsumerOffsetInterval: 5_000,
    maxFrameSize: 16 * 1024 * 1024,
    busyPollMicros: 200,
    regionId: 'DefaultRegion',
    traceOn: true,
    startAcceptSendRequestTimeStamp: 0,
    maxStatsIdleTimeInMinutes: -1,
    enableMixedMessageType: false,
    configBlackList: 'configBlackList;brokerConfigPath',
    clearRetryTopicWhenDeleteTopic: true,
    validateSystemTopicWhenUpdateTopic: true,
    storeReplyMessageEnable: true,
    traceTopicEnable: false,
    msgTraceTopicName: 'RMQ_SYS_TRACE_TOPIC',
    enablePropertyFilter: false,
    filterSupportRetry: false,
    rejectTransactionMessage: false,
    transactionTimeOut: 6_000,
    transactionCheckMax: 15,
    transactionCheckInterval: 30_000,
    transactionMetricFlushInterval: 10_000,
    serverLoadBalancerEnable: true,
    defaultMessageRequestMode: 'PULL',
    defaultPopShareQueueNum: -1,
    authenticationEnabled: false,
    authorizationEnabled: false,
    authenticationWhitelist: '',
    authorizationWhitelist: '',
    initAuthenticationUser: '',
    innerClientAuthenticationCredentials: '',
    authenticationStrategy: '',
    authorizationStrategy: '',
    statefulAuthenticationCacheExpiredSecond: 60,
    statefulAuthorizationCacheExpiredSecond: 60,
    migrateAuthFromV1Enabled: false,
    rocketmqHome: '',
    slaveReadEnable: false,
  };
}

export function defaultMessageStoreConfig(): MessageStoreConfig {
  return {
    storePathRootDir: join(homedir(), 'store'),
    storePathCommitLog: '',
    readOnlyCommitLogStorePaths: '',
    mappedFileSizeCommitLog: 1024 * 1024 * 1024,
    mappedFileSizeConsumeQueue: 300_000 * 20,
    flushDiskType: 'ASYNC_FLUSH',
    flushIntervalCommitLog: 500,
    flushIntervalConsumeQueue: 1_000,
    flushConsumeQueueThoroughInterval: 60_000,
    flushDelayOffsetInterval: 1_000,
    syncFlushTimeout: 5_000,
    maxMessageSize: 4 * 1024 * 1024,
    checkCRCOnRecover: true,
    messageIndexEnable: true,
    maxHashSlotNum: 5_000_000,
    maxIndexNum: 5_000_000 * 4,
    maxMsgsNumBatch: 64,
    defaultQueryMaxNum: 32,
    deleteWhen: '04',
    fileReservedTime: 72,
    diskMaxUsedSpaceRatio: 75,
    diskSpaceCleanForciblyRatio: 85,
    diskSpaceWarningLevelRatio: 90,
    cleanFileForciblyEnable: true,
    deleteFileBatchMax: 10,
    cleanResourceInterval: 10_000,
    messageDelayLevel: '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h',
    maxTransferBytesOnMessageInMemory: 256 * 1024,
    maxTransferCountOnMessageInMemory: 32,
    maxTransferBytesOnMessageInDisk: 64 * 1024,
    maxTransferCountOnMessageInDisk: 8,
    hotTailCacheBytes: 32 * 1024 * 1024,
    timerWheelEnable: true,
    timerMaxDelaySec: 3 * 24 * 3600,
    timerPrecisionMs: 1_000,
    haListenPort: 0,
    haSendHeartbeatInterval: 5_000,
    haHousekeepingInterval: 20_000,
    haTransferBatchSize: 32 * 1024,
    haMasterAddress: '',
    haMaxGapNotInSync: 256 * 1024 * 1024,
    slaveTimeout: 3_000,
    offsetCheckInSlave: false,
    totalReplicas: 1,
    inSyncReplicas: 1,
    timerCongestNumEachSlot: 2_147_483_647,
    timerStopEnqueue: false,
    timerStopDequeue: false,
  };
}

export function defaultNamesrvConfig(): NamesrvConfig {
  return {
    listenPort: 9876,
    kvConfigPath: join(homedir(), 'namesrv', 'kvConfig.json'),
    scanNotActiveBrokerInterval: 5_000,
    brokerChannelExpiredTime: 120_000,
    orderMessageEnable: false,
    enableAllTopicList: true,
    enableTopicList: true,
    returnOrderTopicConfigToBroker: true,
    needWaitForService: false,
    waitSecondsForService: 45,
    deleteTopicWithBrokerRegistration: false,
    supportActingMaster: false,
    configBlackList: 'configBlackList;configStorePath;kvConfigPath',
  };
}

export function commitLogDir(cfg: MessageStoreConfig): string {
  return cfg.storePathCommitLog || join(cfg.storePathRootDir, 'commitlog');
}

/**
 * The CommitLog's directories: several when the path lists them separated by `,` (upstream
 * MixAll.MULTI_PATH_SPLITTER; the CommitLog then spreads its segments over them).
 */
export function commitLogDirs(cfg: MessageStoreConfig): string[] {
  const dir = commitLogDir(cfg);
  return dir.includes(',') ? splitStorePaths(dir) : [dir];
}

/** A `,`-separated list of store paths, as upstream splits storePathCommitLog. */
export function splitStorePaths(paths: string): string[] {
  return paths.trim().split(',').filter((p) => p !== '');
}
