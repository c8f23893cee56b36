import { parseDelayLevels } from './delay-level.js';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import {
  defaultBrokerConfig,
  defaultMessageStoreConfig,
  defaultNamesrvConfig,
  type BrokerConfig,
  type MessageStoreConfig,
  type NamesrvConfig,
} from './config.js';
import { parseProperties, PropertiesParseError } from './properties-file.js';

/**
 * Maps broker.conf / namesrv.conf properties onto the role configurations, the way upstream's
 * `MixAll.properties2Object` does (one flat file, keys are field names), but strictly: a value
 * that does not parse stops start-up instead of being dropped silently, and keys nobody reads
 * are reported. Pure: nothing is logged here; callers log the returned notices.
 */

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    /** The offending key, when one key is to blame. */
    readonly key?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigNotice {
  level: 'info' | 'warn';
  key: string;
  message: string;
}

/** How one key's text becomes a value, and which values are allowed. */
export type KeySpec =
  | { type: 'string'; describe?: string; check?: (v: string) => boolean; normalize?: (v: string) => string }
  | { type: 'int' | 'long'; min?: number; max?: number; multipleOf?: number }
  | { type: 'bool' }
  | { type: 'enum'; values: readonly string[] };

export type ConfigSpec<T> = { readonly [K in keyof T]: KeySpec };

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/**
 * Builds a key table from a defaults object: the default's JS type gives the key's type
 * (numbers are Java `int` unless listed as `long`), then per-key overrides add enums and ranges.
 * Numbers default to non-negative: every numeric setting here is a size, count, port or time.
 */
function deriveSpec<T extends object>(
  defaults: T,
  longKeys: readonly (keyof T)[],
  overrides: Partial<Record<keyof T, KeySpec>>,
): ConfigSpec<T> {
  const out: Partial<Record<keyof T, KeySpec>> = {};
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const override = overrides[key];
    if (override) {
      out[key] = override;
      continue;
    }
    const v = defaults[key];
    if (typeof v === 'boolean') out[key] = { type: 'bool' };
    else if (typeof v === 'number') out[key] = { type: longKeys.includes(key) ? 'long' : 'int', min: 0 };
    else out[key] = { type: 'string' };
  }
  return out as ConfigSpec<T>;
}

const PORT: KeySpec = { type: 'int', min: 0, max: 65535 };
const POSITIVE_INT: KeySpec = { type: 'int', min: 1 };
const POSITIVE_LONG: KeySpec = { type: 'long', min: 1 };
const NON_EMPTY: KeySpec = { type: 'string', describe: 'a non-empty string', check: (v) => v !== '' };
const IPV4_OR_EMPTY: KeySpec = {
  type: 'string',
  describe: 'an IPv4 address such as 192.168.0.10 (it is encoded into message ids), or empty to pick one',
  check: (v) => v === '' || isIPv4(v),
};

/** The addresses of a `;`-separated NameServer list, trimmed, empty parts dropped. */
export function splitNamesrvAddr(v: string): string[] {
  return v.split(';').map((p) => p.trim()).filter((p) => p !== '');
}

/** `host:port` pairs separated by `;`, as upstream's BrokerStartup validates namesrvAddr. */
export function isNamesrvAddrList(v: string): boolean {
  if (v === '') return true;
  const parts = splitNamesrvAddr(v);
  return parts.length > 0 && parts.every((p) => {
    const m = /^(.+):(\d{1,5})$/.exec(p);
    if (!m || /\s/.test(m[1] as string)) return false;
    const port = Number(m[2]);
    return port >= 1 && port <= 65535;
  });
}

/** Hours of the day separated by `;` ("04", "04;16"), read by the CommitLog clean-up service. */
function isDeleteWhen(v: string): boolean {
  return v.split(';').every((h) => /^\d{1,2}$/.test(h.trim()) && Number(h) <= 23);
}

/** Space-separated durations with a unit s/m/h/d ("1s 5s 10s ... 2h"), upstream's delay levels. */
function isDelayLevels(v: string): boolean {
  try {
    return parseDelayLevels(v).length > 0;
  } catch {
    return false;
  }
}

export const BROKER_CONFIG_SPEC: ConfigSpec<BrokerConfig> = deriveSpec(
  defaultBrokerConfig(),
  ['brokerId', 'shortPollingTimeMills', 'channelExpiredTimeout', 'transactionTimeOut', 'transactionCheckInterval', 'startAcceptSendRequestTimeStamp'],
  {
    brokerClusterName: NON_EMPTY,
    brokerName: NON_EMPTY,
    brokerId: { type: 'long', min: 0 },
    maxStatsIdleTimeInMinutes: { type: 'int' },
    namesrvAddr: {
      type: 'string',
      describe: 'NameServer addresses as host:port separated by ";", e.g. "127.0.0.1:9876;192.168.0.1:9876"',
      check: isNamesrvAddrList,
      // Consumers split on ';' and should not have to trim each part.
      normalize: (v) => splitNamesrvAddr(v).join(';'),
    },
    brokerIP1: IPV4_OR_EMPTY,
    brokerIP2: IPV4_OR_EMPTY,
    listenPort: PORT,
    brokerRole: { type: 'enum', values: ['ASYNC_MASTER', 'SYNC_MASTER', 'SLAVE'] },
    defaultTopicQueueNums: POSITIVE_INT,
    brokerPermission: { type: 'int', min: 0, max: 15 },
    registerNameServerPeriod: POSITIVE_INT,
    registerBrokerTimeoutMills: POSITIVE_INT,
    channelExpiredTimeout: POSITIVE_LONG,
    flushConsumerOffsetInterval: POSITIVE_INT,
    maxFrameSize: POSITIVE_INT,
    transactionTimeOut: POSITIVE_LONG,
    transactionCheckInterval: POSITIVE_LONG,
    transactionMetricFlushInterval: POSITIVE_LONG,
    defaultMessageRequestMode: { type: 'enum', values: ['PULL', 'POP'] },
    defaultPopShareQueueNum: { type: 'int', min: -1 },
  },
);

export const MESSAGE_STORE_CONFIG_SPEC: ConfigSpec<MessageStoreConfig> = deriveSpec(
  defaultMessageStoreConfig(),
  ['hotTailCacheBytes'],
  {
    storePathRootDir: NON_EMPTY,
    mappedFileSizeCommitLog: POSITIVE_INT,
    // A ConsumeQueue file holds whole 20-byte entries (upstream CQ_STORE_UNIT_SIZE).
    mappedFileSizeConsumeQueue: { type: 'int', min: 20, multipleOf: 20 },
    flushDiskType: { type: 'enum', values: ['ASYNC_FLUSH', 'SYNC_FLUSH'] },
    flushIntervalCommitLog: POSITIVE_INT,
    flushIntervalConsumeQueue: POSITIVE_INT,
    flushConsumeQueueThoroughInterval: POSITIVE_INT,
    flushDelayOffsetInterval: POSITIVE_INT,
    syncFlushTimeout: POSITIVE_INT,
    maxMessageSize: POSITIVE_INT,
    deleteWhen: {
      type: 'string',
      describe: 'hours of the day 0-23 separated by ";", e.g. "04" or "04;16"',
      check: isDeleteWhen,
    },
    diskMaxUsedSpaceRatio: { type: 'int', min: 0, max: 100 },
    diskSpaceCleanForciblyRatio: { type: 'int', min: 0, max: 100 },
    diskSpaceWarningLevelRatio: { type: 'int', min: 0, max: 100 },
    deleteFileBatchMax: POSITIVE_INT,
    cleanResourceInterval: POSITIVE_INT,
    messageDelayLevel: {
      type: 'string',
      describe: 'space-separated durations with a unit s, m, h or d, e.g. "1s 5s 10s 30s 1m"',
      check: isDelayLevels,
    },
    maxTransferBytesOnMessageInMemory: POSITIVE_INT,
    maxTransferCountOnMessageInMemory: POSITIVE_INT,
    maxTransferBytesOnMessageInDisk: POSITIVE_INT,
    maxTransferCountOnMessageInDisk: POSITIVE_INT,
    haListenPort: { type: 'int', min: 0, max: 65535 },
    haSendHeartbeatInterval: POSITIVE_INT,
    haHousekeepingInterval: POSITIVE_INT,
    haTransferBatchSize: POSITIVE_INT,
    slaveTimeout: POSITIVE_INT,
    totalReplicas: POSITIVE_INT,
    inSyncReplicas: POSITIVE_INT,
  },
);

export const NAMESRV_CONFIG_SPEC: ConfigSpec<NamesrvConfig> = deriveSpec(
  defaultNamesrvConfig(),
  ['scanNotActiveBrokerInterval', 'brokerChannelExpiredTime'],
  {
    listenPort: PORT,
    kvConfigPath: NON_EMPTY,
    scanNotActiveBrokerInterval: POSITIVE_LONG,
    brokerChannelExpiredTime: POSITIVE_LONG,
  },
);

/**
 * Old spellings still found in many broker.conf files: RocketMQ up to 4.3 named these fields
 * `maped…`; current upstream ignores them silently, we map them to the current field.
 */
export const LEGACY_KEYS: Readonly<Record<string, keyof MessageStoreConfig>> = {
  mapedFileSizeCommitLog: 'mappedFileSizeCommitLog',
  mapedFileSizeConsumeQueue: 'mappedFileSizeConsumeQueue',
};

/** The settings `mqbroker -m` prints (upstream marks these `@ImportantField`). */
export const IMPORTANT_BROKER_KEYS: readonly (keyof BrokerConfig | keyof MessageStoreConfig)[] = [
  'brokerClusterName', 'brokerName', 'brokerId', 'namesrvAddr', 'brokerIP1', 'listenPort',
  'brokerRole', 'autoCreateTopicEnable', 'autoCreateSubscriptionGroup', 'defaultTopicQueueNums',
  'rejectTransactionMessage', 'storePathRootDir', 'storePathCommitLog', 'flushDiskType',
  'mappedFileSizeCommitLog', 'mappedFileSizeConsumeQueue', 'maxMessageSize', 'deleteWhen',
  'fileReservedTime', 'diskMaxUsedSpaceRatio',
];

function words(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== '');
}

/** Upstream NettyServerConfig + NettyClientConfig fields: every role's file may carry them. */
const UPSTREAM_NETTY_KEYS = words(`
  bindAddress listenPort serverWorkerThreads serverCallbackExecutorThreads serverSelectorThreads
  serverOnewaySemaphoreValue serverAsyncSemaphoreValue serverChannelMaxIdleTimeSeconds
  serverSocketSndBufSize serverSocketRcvBufSize writeBufferHighWaterMark writeBufferLowWaterMark
  serverSocketBacklog serverNettyWorkerGroupEnable serverPooledByteBufAllocatorEnable
  enableShutdownGracefully shutdownWaitTimeSeconds useEpollNativeSelector
  clientWorkerThreads clientCallbackExecutorThreads clientOnewaySemaphoreValue
  clientAsyncSemaphoreValue connectTimeoutMillis channelNotActiveInterval isScanAvailableNameSrv
  clientChannelMaxIdleTimeSeconds clientSocketSndBufSize clientSocketRcvBufSize
  clientPooledByteBufAllocatorEnable clientCloseSocketIfTimeout useTLS socksProxyConfig
  disableCallbackExecutor disableNettyWorkerGroup maxReconnectIntervalTimeSeconds
  enableReconnectForGoAway
`);

/**
 * Upstream BrokerIdentity, BrokerConfig, MessageStoreConfig and AuthConfig fields, plus keys
 * that 4.x-era broker.conf files commonly carry (store sub-paths, address-server settings).
 * Any of these may appear in a real broker.conf; those we implement are filtered out below.
 */
const UPSTREAM_BROKER_KEYS = words(`
  brokerName brokerClusterName brokerId isBrokerContainer isInBrokerContainer
  brokerConfigPath rocketmqHome namesrvAddr listenPort brokerIP1 brokerIP2 recoverConcurrently
  brokerPermission defaultTopicQueueNums autoCreateTopicEnable clusterTopicEnable brokerTopicEnable
  autoCreateSubscriptionGroup messageStorePlugIn msgTraceTopicName traceTopicEnable
  sendMessageThreadPoolNums putMessageFutureThreadPoolNums pullMessageThreadPoolNums
  litePullMessageThreadPoolNums ackMessageThreadPoolNums processReplyMessageThreadPoolNums
  queryMessageThreadPoolNums adminBrokerThreadPoolNums clientManageThreadPoolNums
  consumerManageThreadPoolNums loadBalanceProcessorThreadPoolNums heartbeatThreadPoolNums
  recoverThreadPoolNums endTransactionThreadPoolNums flushConsumerOffsetInterval
  flushConsumerOffsetHistoryInterval rejectTransactionMessage fetchNameSrvAddrByDnsLookup
  fetchNamesrvAddrByAddressServer sendThreadPoolQueueCapacity putThreadPoolQueueCapacity
  pullThreadPoolQueueCapacity litePullThreadPoolQueueCapacity ackThreadPoolQueueCapacity
  replyThreadPoolQueueCapacity queryThreadPoolQueueCapacity clientManagerThreadPoolQueueCapacity
  consumerManagerThreadPoolQueueCapacity heartbeatThreadPoolQueueCapacity
  endTransactionPoolQueueCapacity adminBrokerThreadPoolQueueCapacity
  loadBalanceThreadPoolQueueCapacity longPollingEnable shortPollingTimeMills
  notifyConsumerIdsChangedEnable highSpeedMode commercialBaseCount commercialSizePerMsg
  accountStatsEnable accountStatsPrintZeroValues maxStatsIdleTimeInMinutes transferMsgByHeap
  regionId registerBrokerTimeoutMills sendHeartbeatTimeoutMillis slaveReadEnable
  disableConsumeIfConsumerReadSlowly consumerFallbehindThreshold brokerFastFailureEnable
  waitTimeMillsInSendQueue waitTimeMillsInPullQueue waitTimeMillsInLitePullQueue
  waitTimeMillsInHeartbeatQueue waitTimeMillsInTransactionQueue waitTimeMillsInAckQueue
  waitTimeMillsInAdminBrokerQueue startAcceptSendRequestTimeStamp traceOn enableCalcFilterBitMap
  rejectPullConsumerEnable expectConsumerNumUseFilter maxErrorRateOfBloomFilter
  filterDataCleanTimeSpan filterSupportRetry enablePropertyFilter compressedRegister
  forceRegister registerNameServerPeriod updateNameServerAddrPeriod brokerHeartbeatInterval
  brokerNotActiveTimeoutMillis enableNetWorkFlowControl enableBroadcastOffsetStore
  broadcastOffsetExpireSecond broadcastOffsetExpireMaxSecond popPollingSize popPollingMapSize
  popPollingMapExpireTimeSeconds maxPopPollingSize reviveQueueNum reviveInterval reviveMaxSlow
  reviveScanTime enableSkipLongAwaitingAck reviveAckWaitMs enablePopLog enablePopBufferMerge
  popCkStayBufferTime popCkStayBufferTimeOut popCkMaxBufferSize popCkOffsetMaxQueueSize
  enablePopBatchAck popLongPollingForceNotifyInterval enableNotifyBeforePopCalculateLag
  enableNotifyAfterPopOrderLockRelease initPopOffsetByCheckMsgInMem
  retrieveMessageFromPopRetryTopicV1 enableRetryTopicV2 popFromRetryProbability
  popConsumerFSServiceInit popConsumerKVServiceLog popConsumerKVServiceInit
  popConsumerKVServiceEnable popReviveMaxReturnSizePerRead popReviveMaxAttemptTimes
  realTimeNotifyConsumerChange litePullMessageEnable syncBrokerMemberGroupPeriod
  loadBalancePollNameServerInterval cleanOfflineBrokerInterval serverLoadBalancerEnable
  defaultMessageRequestMode defaultPopShareQueueNum transactionTimeOut transactionCheckMax
  transactionCheckInterval transactionMetricFlushInterval transactionOpMsgMaxSize
  transactionOpBatchInterval aclEnable storeReplyMessageEnable enableDetailStat
  autoDeleteUnusedStats isolateLogEnable forwardTimeout enableSlaveActingMaster enableRemoteEscape
  skipPreOnline asyncSendEnable useServerSideResetOffset consumerOffsetUpdateVersionStep
  delayOffsetUpdateVersionStep lockInStrictMode compatibleWithOldNameSrv enableControllerMode
  controllerAddr fetchControllerAddrByDnsLookup syncBrokerMetadataPeriod checkSyncStateSetPeriod
  syncControllerMetadataPeriod controllerHeartBeatTimeoutMills validateSystemTopicWhenUpdateTopic
  brokerElectionPriority useStaticSubscription metricsExporterType metricsOtelCardinalityLimit
  metricsGrpcExporterTarget metricsGrpcExporterHeader metricGrpcExporterTimeOutInMills
  metricGrpcExporterIntervalInMills metricLoggingExporterIntervalInMills metricsPromExporterPort
  metricsPromExporterHost metricsLabel metricsInDelta enableRemotingMetrics
  enableMessageStoreMetrics enablePopMetrics enableConnectionMetrics enableTransactionMetrics
  enableStatsMetrics enableRequestMetrics enableLagAndDlqMetrics channelExpiredTimeout
  subscriptionExpiredTimeout estimateAccumulation coldCtrStrategyEnable usePIDColdCtrStrategy
  cgColdReadThreshold globalColdReadThreshold fetchNamesrvAddrInterval
  popResponseReturnActualRetryTopic enableSingleTopicRegister enableMixedMessageType
  enableSplitRegistration enableSplitMetadata splitMetadataSize popInflightMessageThreshold
  enablePopMessageThreshold enableFastChannelEventProcess printChannelGroups
  printChannelGroupsMinNum splitRegistrationSize configBlackList skipWhenCKRePutReachMaxTimes
  appendAckAsync appendCkAsync clearRetryTopicWhenDeleteTopic enableLmqStats configManagerVersion
  allowRecallWhenBrokerNotWriteable recallMessageEnable enableRegisterProducer enableCreateSysGroup

  storePathRootDir storePathCommitLog storePathDLedgerCommitLog storePathEpochFile
  storePathBrokerIdentity readOnlyCommitLogStorePaths mappedFileSizeCommitLog
  compactionMappedFileSize compactionCqMappedFileSize compactionScheduleInternal maxOffsetMapSize
  compactionThreadNum enableCompaction mappedFileSizeTimerLog timerPrecisionMs timerRollWindowSlot
  timerFlushIntervalMs timerGetMessageThreadNum timerPutMessageThreadNum timerEnableDisruptor
  timerEnableCheckMetrics timerInterceptDelayLevel timerMaxDelaySec timerWheelEnable
  disappearTimeAfterStart timerStopEnqueue timerCheckMetricsWhen timerSkipUnknownError
  timerWarmEnable timerStopDequeue timerEnableRetryUntilSuccess timerCongestNumEachSlot
  timerMetricSmallThreshold timerProgressLogIntervalMs storeType mappedFileSizeConsumeQueue
  enableConsumeQueueExt mappedFileSizeConsumeQueueExt mapperFileSizeBatchConsumeQueue
  bitMapLengthConsumeQueueExt flushIntervalCommitLog commitIntervalCommitLog
  maxRecoveryCommitlogFiles diskSpaceWarningLevelRatio diskSpaceCleanForciblyRatio
  useReentrantLockWhenPutMessage flushCommitLogTimed flushIntervalConsumeQueue
  cleanResourceInterval deleteCommitLogFilesInterval deleteConsumeQueueFilesInterval
  destroyMapedFileIntervalForcibly redeleteHangedFileInterval deleteWhen diskMaxUsedSpaceRatio
  fileReservedTime deleteFileBatchMax putMsgIndexHightWater maxMessageSize maxFilterMessageSize
  checkCRCOnRecover flushCommitLogLeastPages commitCommitLogLeastPages
  flushLeastPagesWhenWarmMapedFile flushConsumeQueueLeastPages flushCommitLogThoroughInterval
  commitCommitLogThoroughInterval flushConsumeQueueThoroughInterval
  maxTransferBytesOnMessageInMemory maxTransferCountOnMessageInMemory
  maxTransferBytesOnMessageInDisk maxTransferCountOnMessageInDisk accessMessageInMemoryMaxRatio
  messageIndexEnable maxHashSlotNum maxIndexNum maxMsgsNumBatch messageIndexSafe haListenPort
  haSendHeartbeatInterval haHousekeepingInterval haTransferBatchSize haMasterAddress
  haMaxGapNotInSync brokerRole flushDiskType syncFlushTimeout putMessageTimeout slaveTimeout
  messageDelayLevel flushDelayOffsetInterval cleanFileForciblyEnable warmMapedFileEnable
  offsetCheckInSlave debugLockEnable duplicationEnable diskFallRecorded osPageCacheBusyTimeOutMills
  defaultQueryMaxNum transientStorePoolEnable transientStorePoolSize fastFailIfNoBufferInStorePool
  writeWithoutMmap enableDLegerCommitLog dLegerGroup dLegerPeers dLegerSelfId preferredLeaderId
  enableBatchPush enableScheduleMessageStats enableLmq enableMultiDispatch maxLmqConsumeQueueNum
  enableScheduleAsyncDeliver scheduleAsyncDeliverMaxPendingLimit
  scheduleAsyncDeliverMaxResendNum2Blocked maxBatchDeleteFilesNum dispatchCqThreads
  dispatchCqCacheNum enableAsyncReput recheckReputOffsetFromCq maxTopicLength
  autoMessageVersionOnTopicLen enableRunningFlagsInFlush enabledAppendPropCRC forceVerifyPropCRC
  travelCqFileNumWhenGetMessage correctLogicMinOffsetSleepInterval
  correctLogicMinOffsetForceInterval mappedFileSwapEnable commitLogForceSwapMapInterval
  commitLogSwapMapInterval commitLogSwapMapReserveFileNum logicQueueForceSwapMapInterval
  logicQueueSwapMapInterval cleanSwapedMapInterval logicQueueSwapMapReserveFileNum
  searchBcqByCacheEnable dispatchFromSenderThread wakeCommitWhenPutMessage wakeFlushWhenPutMessage
  enableCleanExpiredOffset maxAsyncPutMessageRequests pullBatchMaxMessageCount totalReplicas
  inSyncReplicas minInSyncReplicas allAckInSyncStateSet enableAutoInSyncReplicas
  haFlowControlEnable maxHaTransferByteInSecond haMaxTimeSlaveNotCatchup
  syncMasterFlushOffsetWhenStartup maxChecksumRange replicasPerDiskPartition
  logicalDiskSpaceCleanForciblyThreshold maxSlaveResendLength syncFromLastFile asyncLearner
  maxConsumeQueueScan sampleCountThreshold coldDataFlowControlEnable coldDataScanEnable
  dataReadAheadEnable timerColdDataCheckIntervalMs sampleSteps accessMessageInMemoryHotRatio
  enableBuildConsumeQueueConcurrently batchDispatchRequestThreadPoolNums
  cleanRocksDBDirtyCQIntervalMin statRocksDBCQIntervalSec memTableFlushIntervalMs
  realTimePersistRocksDBConfig enableRocksDBLog topicQueueLockNum readUnCommitted
  putConsumeQueueDataByFileChannel rocksdbCQDoubleWriteEnable combineCQLoadingCQTypes
  combineCQPreferCQType combineAssignOffsetCQType combineCQEnableCheckSelf
  combineCQMaxExtraSearchCommitLogFiles bottomMostCompressionTypeForConsumeQueueStore
  rocksdbCompressionType rocksdbFlushWalFrequency rocksdbWalFileRollingThreshold
  enableAcceleratedRecovery spinLockCollisionRetreatOptimalDegree useABSLock
  enableLogConsumeQueueRepeatedlyBuildWhenRecover

  authConfigPath authenticationEnabled authenticationProvider authenticationMetadataProvider
  authenticationStrategy authenticationWhitelist initAuthenticationUser
  innerClientAuthenticationCredentials authorizationEnabled authorizationProvider
  authorizationMetadataProvider authorizationStrategy authorizationWhitelist
  migrateAuthFromV1Enabled userCacheMaxNum userCacheExpiredSecond userCacheRefreshSecond
  aclCacheMaxNum aclCacheExpiredSecond aclCacheRefreshSecond statefulAuthenticationCacheMaxNum
  statefulAuthenticationCacheExpiredSecond statefulAuthorizationCacheMaxNum
  statefulAuthorizationCacheExpiredSecond

  storePathConsumeQueue storePathIndex storeCheckpoint abortFile
  rmqAddressServerDomain rmqAddressServerSubGroup
`);

/** Upstream NamesrvConfig fields. */
const UPSTREAM_NAMESRV_KEYS = words(`
  rocketmqHome kvConfigPath configStorePath productEnvName clusterTest orderMessageEnable
  returnOrderTopicConfigToBroker clientRequestThreadPoolNums defaultThreadPoolNums
  clientRequestThreadPoolQueueCapacity defaultThreadPoolQueueCapacity scanNotActiveBrokerInterval
  unRegisterBrokerQueueCapacity supportActingMaster enableAllTopicList enableTopicList
  notifyMinBrokerIdChanged enableControllerInNamesrv needWaitForService waitSecondsForService
  deleteTopicWithBrokerRegistration configBlackList
`);

function knownUnused(upstream: readonly string[], ...used: object[]): ReadonlySet<string> {
  const usedKeys = new Set(used.flatMap((s) => Object.keys(s)));
  return new Set(upstream.filter((k) => !usedKeys.has(k) && !Object.hasOwn(LEGACY_KEYS, k)));
}

/** Upstream broker.conf keys this implementation accepts but does not act on. */
export const KNOWN_UNUSED_BROKER_KEYS: ReadonlySet<string> = knownUnused(
  [...UPSTREAM_BROKER_KEYS, ...UPSTREAM_NETTY_KEYS],
  BROKER_CONFIG_SPEC,
  MESSAGE_STORE_CONFIG_SPEC,
);

/** Upstream namesrv.conf keys this implementation accepts but does not act on. */
export const KNOWN_UNUSED_NAMESRV_KEYS: ReadonlySet<string> = knownUnused(
  [...UPSTREAM_NAMESRV_KEYS, ...UPSTREAM_NETTY_KEYS],
  NAMESRV_CONFIG_SPEC,
);

/** What a key accepts, in words ("an integer from 1 to 2147483647"). */
export function describeKeySpec(spec: KeySpec): string {
  switch (spec.type) {
    case 'bool':
      return 'true or false';
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'string':
      return spec.describe ?? 'a string';
    default: {
      const min = spec.min ?? (spec.type === 'int' ? INT_MIN : Number.MIN_SAFE_INTEGER);
      const max = spec.max ?? (spec.type === 'int' ? INT_MAX : Number.MAX_SAFE_INTEGER);
      let s = `an integer from ${min} to ${max}`;
      if (spec.multipleOf !== undefined) s += ` that is a multiple of ${spec.multipleOf}`;
      return s;
    }
  }
}

function invalid(key: string, shown: string, spec: KeySpec, source: string): ConfigError {
  return new ConfigError(
    `invalid value for ${key} in ${source}: ${shown} is not allowed; expected ${describeKeySpec(spec)}. ` +
      `Fix ${key} and start again.`,
    key,
  );
}

/** Checks a value already of the right JS type against the key's range rules. */
function inRange(value: unknown, spec: KeySpec): boolean {
  switch (spec.type) {
    case 'bool':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value);
    case 'string':
      return typeof value === 'string' && (spec.check ? spec.check(value) : true);
    default: {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return false;
      if (spec.type === 'int' && (value < INT_MIN || value > INT_MAX)) return false;
      if (spec.min !== undefined && value < spec.min) return false;
      if (spec.max !== undefined && value > spec.max) return false;
      return spec.multipleOf === undefined || value % spec.multipleOf === 0;
    }
  }
}

/**
 * Text → typed value. Values are trimmed: `Properties.load` keeps trailing blanks, which are
 * invisible in an editor and should not make `listenPort=10911 ` invalid.
 */
export function parseConfigValue(key: string, raw: string, spec: KeySpec, source = 'config'): string | number | boolean {
  const text = raw.trim();
  let value: string | number | boolean | undefined;
  switch (spec.type) {
    case 'bool':
      // Stricter than Java's Boolean.parseBoolean, which turns any typo into false.
      if (/^true$/i.test(text)) value = true;
      else if (/^false$/i.test(text)) value = false;
      break;
    case 'int':
    case 'long':
      // `+ 0` turns "-0" into 0 rather than -0.
      if (/^[+-]?\d+$/.test(text)) value = Number(text) + 0;
      break;
    default:
      value = text;
  }
  if (value === undefined || !inRange(value, spec)) throw invalid(key, JSON.stringify(raw), spec, source);
  if (spec.type === 'string' && spec.normalize) return spec.normalize(value as string);
  return value;
}

function validateObject<T extends object>(cfg: T, spec: ConfigSpec<T>, source: string): void {
  for (const key of Object.keys(spec) as (keyof T & string)[]) {
    const value = cfg[key];
    if (!inRange(value, spec[key])) throw invalid(key, JSON.stringify(value), spec[key], source);
  }
}

/** Levenshtein distance, small inputs only: used to suggest the key a typo was meant to be. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length] as number;
}

function suggest(key: string, candidates: Iterable<string>): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === lower ? 0 : distance(key, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= 2 ? best : undefined;
}

/** Parsed properties: as `parseProperties` returns them, or a plain object. */
export type ConfigProps = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

function entriesOf(props: ConfigProps): [string, string][] {
  return props instanceof Map ? [...props.entries()] : Object.entries(props);
}

/** Properties from one place (a file, the command line); later layers override earlier ones. */
export interface ConfigLayer {
  /** Named in messages: a file path, "the command line". */
  source: string;
  props: ConfigProps;
}

export type ConfigInput = ConfigProps | readonly ConfigLayer[];

function layersOf(input: ConfigInput, source: string | undefined, fallback: string): { layers: ConfigLayer[]; source: string } {
  if (Array.isArray(input)) {
    const layers = input as readonly ConfigLayer[];
    return { layers: [...layers], source: source ?? (layers.map((l) => l.source).join(' + ') || fallback) };
  }
  return { layers: [{ source: source ?? fallback, props: input as ConfigProps }], source: source ?? fallback };
}

function unknownNotice(key: string, source: string, candidates: Iterable<string>): ConfigNotice {
  const hint = suggest(key, candidates);
  return {
    level: 'warn',
    key,
    message:
      `unknown key "${key}" in ${source} is ignored` +
      (hint ? `; did you mean "${hint}"?` : '; check its spelling against RocketMQ\'s configuration names'),
  };
}

function unusedNotice(key: string, source: string): ConfigNotice {
  return {
    level: 'info',
    key,
    message: `${key} in ${source} is a known RocketMQ setting not used by this implementation; ignored`,
  };
}

export interface BrokerConfigResult {
  brokerConfig: BrokerConfig;
  storeConfig: MessageStoreConfig;
  notices: ConfigNotice[];
}

/**
 * broker.conf → BrokerConfig + MessageStoreConfig (one file carries both, as upstream).
 * `input` is one set of properties, or layers applied in order (e.g. the file, then the command
 * line) so each value's message names where it came from. `source` names a single set in
 * messages; `brokerConfig` / `storeConfig` are the values to start from instead of the upstream
 * defaults. Throws ConfigError on the first invalid value; returns notices for ignored keys.
 */
export function loadBrokerConfig(
  input: ConfigInput,
  opts: { source?: string; brokerConfig?: Partial<BrokerConfig>; storeConfig?: Partial<MessageStoreConfig> } = {},
): BrokerConfigResult {
  const { layers, source } = layersOf(input, opts.source, 'broker config');
  const brokerConfig: BrokerConfig = { ...defaultBrokerConfig(), ...opts.brokerConfig };
  const storeConfig: MessageStoreConfig = { ...defaultMessageStoreConfig(), ...opts.storeConfig };
  const notices: ConfigNotice[] = [];
  const b = brokerConfig as unknown as Record<string, unknown>;
  const s = storeConfig as unknown as Record<string, unknown>;

  for (const layer of layers) {
    const entries = entriesOf(layer.props);
    const present = new Set(entries.map(([k]) => k));
    for (const [key, raw] of entries) {
      if (Object.hasOwn(BROKER_CONFIG_SPEC, key)) {
        b[key] = parseConfigValue(key, raw, BROKER_CONFIG_SPEC[key as keyof BrokerConfig], layer.source);
      } else if (Object.hasOwn(MESSAGE_STORE_CONFIG_SPEC, key)) {
        s[key] = parseConfigValue(key, raw, MESSAGE_STORE_CONFIG_SPEC[key as keyof MessageStoreConfig], layer.source);
      } else if (Object.hasOwn(LEGACY_KEYS, key)) {
        const target = LEGACY_KEYS[key] as keyof MessageStoreConfig;
        if (present.has(target)) {
          notices.push({
            level: 'warn',
            key,
            message: `${key} in ${layer.source} is ignored because ${target} is also set; remove the old spelling ${key}`,
          });
          continue;
        }
        s[target] = parseConfigValue(key, raw, MESSAGE_STORE_CONFIG_SPEC[target], layer.source);
      } else if (KNOWN_UNUSED_BROKER_KEYS.has(key)) {
        notices.push(unusedNotice(key, layer.source));
      } else {
        notices.push(
          unknownNotice(key, layer.source, [
            ...Object.keys(BROKER_CONFIG_SPEC),
            ...Object.keys(MESSAGE_STORE_CONFIG_SPEC),
            ...Object.keys(LEGACY_KEYS),
          ]),
        );
      }
    }
  }
  notices.push(...validateBrokerConfig(brokerConfig, storeConfig, source));
  return { brokerConfig, storeConfig, notices };
}

/**
 * Checks a complete broker + store configuration (also ones built in code, not read from a file)
 * and applies upstream's rule that a master always has brokerId 0. Throws ConfigError; returns
 * warnings for settings that are allowed but will not work as the user probably expects.
 */
export function validateBrokerConfig(
  brokerConfig: BrokerConfig,
  storeConfig: MessageStoreConfig,
  source = 'broker config',
): ConfigNotice[] {
  validateObject(brokerConfig, BROKER_CONFIG_SPEC, source);
  validateObject(storeConfig, MESSAGE_STORE_CONFIG_SPEC, source);
  const notices: ConfigNotice[] = [];
  if (brokerConfig.brokerRole === 'SLAVE') {
    if (brokerConfig.brokerId <= 0) {
      throw new ConfigError(
        `invalid value for brokerId in ${source}: a SLAVE needs brokerId > 0 (0 is the master). ` +
          'Set brokerId to 1 or higher, or set brokerRole to ASYNC_MASTER.',
        'brokerId',
      );
    }
  } else if (brokerConfig.brokerId !== 0) {
    // As upstream BrokerStartup: the role decides, a master is always id 0.
    notices.push({
      level: 'warn',
      key: 'brokerId',
      message: `brokerId=${brokerConfig.brokerId} in ${source} is replaced by 0 because brokerRole is ${brokerConfig.brokerRole} (a master is always 0)`,
    });
    brokerConfig.brokerId = 0;
  }
  if (brokerConfig.brokerRole === 'SYNC_MASTER' && storeConfig.inSyncReplicas <= 1) {
    // Upstream 5.x's CommitLog#handleHA waits for inSyncReplicas replicas, the master one of
    // them: a 4.x-style broker.conf with only brokerRole=SYNC_MASTER replicates asynchronously.
    notices.push({
      level: 'warn',
      key: 'inSyncReplicas',
      message: `brokerRole=SYNC_MASTER with inSyncReplicas=${storeConfig.inSyncReplicas} in ${source} acknowledges sends without waiting for a slave, ` +
        'as upstream 5.x does; set totalReplicas=2 and inSyncReplicas=2 for a send to wait until its slave has it',
    });
  }
  if (storeConfig.maxMessageSize > storeConfig.mappedFileSizeCommitLog) {
    notices.push({
      level: 'warn',
      key: 'maxMessageSize',
      message:
        `maxMessageSize=${storeConfig.maxMessageSize} is larger than mappedFileSizeCommitLog=${storeConfig.mappedFileSizeCommitLog} ` +
        'in ' + source + ': a message must fit in one CommitLog file, so messages that large will be rejected',
    });
  }
  if (storeConfig.maxMessageSize >= brokerConfig.maxFrameSize) {
    notices.push({
      level: 'warn',
      key: 'maxMessageSize',
      message:
        `maxMessageSize=${storeConfig.maxMessageSize} is not below maxFrameSize=${brokerConfig.maxFrameSize} in ${source}: ` +
        'requests carrying messages that large cannot arrive; raise maxFrameSize',
    });
  }
  return notices;
}

export interface NamesrvConfigResult {
  namesrvConfig: NamesrvConfig;
  notices: ConfigNotice[];
}

/** namesrv.conf → NamesrvConfig; `input` and `opts` as for loadBrokerConfig. Throws ConfigError on the first invalid value. */
export function loadNamesrvConfig(
  input: ConfigInput,
  opts: { source?: string; namesrvConfig?: Partial<NamesrvConfig> } = {},
): NamesrvConfigResult {
  const { layers, source } = layersOf(input, opts.source, 'namesrv config');
  const namesrvConfig: NamesrvConfig = { ...defaultNamesrvConfig(), ...opts.namesrvConfig };
  const n = namesrvConfig as unknown as Record<string, unknown>;
  const notices: ConfigNotice[] = [];
  for (const layer of layers) {
    for (const [key, raw] of entriesOf(layer.props)) {
      if (Object.hasOwn(NAMESRV_CONFIG_SPEC, key)) {
        n[key] = parseConfigValue(key, raw, NAMESRV_CONFIG_SPEC[key as keyof NamesrvConfig], layer.source);
      } else if (KNOWN_UNUSED_NAMESRV_KEYS.has(key)) {
        notices.push(unusedNotice(key, layer.source));
      } else {
        notices.push(unknownNotice(key, layer.source, Object.keys(NAMESRV_CONFIG_SPEC)));
      }
    }
  }
  validateNamesrvConfig(namesrvConfig, source);
  return { namesrvConfig, notices };
}

export function validateNamesrvConfig(namesrvConfig: NamesrvConfig, source = 'namesrv config'): void {
  validateObject(namesrvConfig, NAMESRV_CONFIG_SPEC, source);
}

/** Reads a .properties file, turning I/O and syntax problems into a ConfigError saying what to do. */
export function readConfigFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' :
      code === 'EACCES' ? 'permission denied' :
      code === 'EISDIR' ? 'it is a directory' :
      (err as Error).message;
    throw new ConfigError(`cannot read config file ${path}: ${why}. Check the path given with -c.`);
  }
  try {
    return parseProperties(text);
  } catch (err) {
    if (err instanceof PropertiesParseError) {
      throw new ConfigError(`cannot parse config file ${path}, ${err.message}. Fix that line and start again.`);
    }
    throw err;
  }
}

/** The configuration as `key=value` pairs in declaration order, for `-p` / `-m` printing. */
export function configEntries(...configs: object[]): [string, string][] {
  return configs.flatMap((c) => Object.entries(c).map(([k, v]): [string, string] => [k, String(v)]));
}
