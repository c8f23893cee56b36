import { totalmem } from 'node:os';
import { createLogger, type Logger } from '../common/logger.js';
import type { BrokerConfig, MessageStoreConfig } from '../common/config.js';
import { encodeSocketAddress } from '../common/socket-address.js';
import { localIPv4, MessageIdGenerator } from '../common/message-id.js';
import { RemotingServer } from '../remoting/server.js';
import { RequestCode } from '../remoting/codes.js';
import type { RequestHandler } from '../remoting/connection.js';
import { DefaultMessageStore } from '../store/message-store.js';
import { TopicConfigManager } from './topic-config-manager.js';
import { ConsumerOffsetManager } from './consumer-offset-manager.js';
import { SubscriptionGroupManager } from './subscription-group-manager.js';
import { ConsumerManager } from './client/consumer-manager.js';
import { ProducerManager } from './client/producer-manager.js';
import { PullRequestHoldService } from './longpolling/pull-request-hold-service.js';
import { RebalanceLockManager } from './rebalance-lock-manager.js';
import { BrokerOuterAPI } from './broker-outer-api.js';
import { SendMessageProcessor } from './processors/send.js';
import { PullMessageProcessor } from './processors/pull.js';
import { ConsumerManageProcessor } from './processors/consumer-manage.js';
import { ClientManageProcessor } from './processors/client-manage.js';
import { AdminBrokerProcessor } from './processors/admin.js';
import { StatsProcessor } from './processors/stats.js';
import { BrokerStatsManager } from '../store/stats/broker-stats-manager.js';
import { BrokerStats, msUntilNextMorning } from '../store/stats/broker-stats.js';
import { ReplyMessageProcessor } from './processors/reply.js';
import { ConnectionsProcessor } from './processors/connections.js';
import { SubscriptionGroupProcessor } from './processors/subscription-group.js';
import { ResetOffsetProcessor } from './processors/reset-offset.js';
import { RelayProcessor } from './processors/relay.js';
import { QueryMessageProcessor } from './processors/query-message.js';
import { SendMessageBackProcessor } from './processors/send-back.js';
import { EndTransactionProcessor } from './processors/end-transaction.js';
import { TransactionalMessageService } from './transaction/transactional-message-service.js';
import { ScheduleMessageService } from './schedule/schedule-message-service.js';
import { TimerMessageStore } from './timer/timer-message-store.js';
import { RecallMessageProcessor } from './processors/recall.js';
import { PopMessageService } from './pop/pop-message-service.js';
import { PopRemotingProcessor, PopRequestCode } from './pop/pop-processors.js';
import { NotificationProcessor } from './pop/notification-processor.js';
import { SystemTopic } from '../common/topic.js';
import type { RuntimeConfig } from '../common/runtime-config.js';
import { BrokerConfigProcessor, brokerRuntimeConfig } from './processors/broker-config.js';
import { MessageRequestModeManager } from './message-request-mode-manager.js';
import { TopicRouteInfoManager } from './topic-route-info-manager.js';
import { QueryAssignmentProcessor } from './processors/query-assignment.js';
import { migrateAuthFromV1, plainAclFiles } from './auth/auth-migrator.js';
import { AuthMetadataStore } from './auth/auth-metadata-store.js';
import { AuthPipeline } from './auth/auth-pipeline.js';
import { AuthAdminProcessor } from './processors/auth.js';
import { innerClientCredentials } from './auth/inner-credentials.js';
import { HAService } from './ha/ha-service.js';
import type { HARuntimeInfo } from '../common/ha-runtime-info.js';
import { HAClient } from './ha/ha-client.js';
import { SlaveSynchronize, SLAVE_SYNC_INTERVAL_MS } from './slave/slave-synchronize.js';
import { HAAdminProcessor } from './processors/ha.js';

export interface BrokerControllerOptions {
  brokerConfig: BrokerConfig;
  storeConfig: MessageStoreConfig;
  logger?: Logger;
  /** Address to bind (default all interfaces). */
  host?: string;
  /**
   * The broker.conf the broker was started with: UPDATE_BROKER_CONFIG writes its changes there
   * (default `<storePathRootDir>/config/broker.properties`, as upstream's `~/store/config`).
   */
  configFile?: string;
}

/** How often timer metrics of deleted topics are dropped (upstream: 3 min). */
const TIMER_METRICS_CLEAN_INTERVAL = 3 * 60_000;

/** How often client channels are checked for silence (upstream: 10 s). */
const CHANNEL_SCAN_INTERVAL = 10_000;

/**
 * The Broker role (upstream `BrokerController`): the message store, the topic, offset and group
 * managers, client tables, long polling, the Remoting servers on listenPort and listenPort − 2,
 * and registration with every NameServer.
 */
export class BrokerController {
  readonly brokerConfig: BrokerConfig;
  readonly storeConfig: MessageStoreConfig;
  readonly logger: Logger;
  readonly messageStore: DefaultMessageStore;
  readonly topicConfigManager: TopicConfigManager;
  readonly consumerOffsetManager: ConsumerOffsetManager;
  readonly subscriptionGroupManager: SubscriptionGroupManager;
  readonly consumerManager: ConsumerManager;
  readonly producerManager: ProducerManager;
  readonly pullRequestHoldService: PullRequestHoldService;
  readonly rebalanceLockManager = new RebalanceLockManager();
  readonly scheduleMessageService: ScheduleMessageService;
  /** Timer messages (TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS) and their recall. */
  readonly timerMessageStore: TimerMessageStore;
  readonly transactionalMessageService: TransactionalMessageService;
  /** POP consumption (receive / ack / change invisible time), the basis of gRPC consumers. */
  readonly popMessageService: PopMessageService;
  readonly msgIdGenerator: MessageIdGenerator;
  /** broker.conf as GET_BROKER_CONFIG shows it and UPDATE_BROKER_CONFIG changes it. */
  readonly configuration: RuntimeConfig;
  /** Message statistics per topic and group (mqadmin statsAll, topic and consume stats). */
  readonly brokerStatsManager: BrokerStatsManager;
  /** Yesterday's and today's totals, recorded at midnight (runtime info). */
  readonly brokerStats: BrokerStats;
  /** PULL or POP per topic and group, for QUERY_ASSIGNMENT (set with mqadmin setConsumeMode). */
  readonly messageRequestModeManager: MessageRequestModeManager;
  /** Every broker's queues of a topic, from the NameServers, for QUERY_ASSIGNMENT. */
  readonly topicRouteInfoManager: TopicRouteInfoManager;
  /** ACL 2.0 users and ACLs (AUTH_* codes), checked by the auth pipeline when the switches are on. */
  readonly authMetadataStore: AuthMetadataStore;
  private readonly authPipeline: AuthPipeline;
  startTimestamp = 0;
  private readonly outerAPI: BrokerOuterAPI;
  private server?: RemotingServer;
  private fastServer?: RemotingServer;
  private readonly timers: NodeJS.Timeout[] = [];
  private pendingRegister: Promise<void> | undefined;
  private started = false;
  private brokerIP: string;
  private boundPort = 0;
  private readonly pullProcessor: PullMessageProcessor;
  private readonly host?: string;
  /** A master's replication to its slaves (none on a slave). */
  haService?: HAService;
  /** A slave's replication from its master (none on a master). */
  haClient?: HAClient;
  /** A slave's copy of the master's metadata. */
  slaveSynchronize?: SlaveSynchronize;

  constructor(opts: BrokerControllerOptions) {
    this.brokerConfig = { ...opts.brokerConfig };
    this.storeConfig = { ...opts.storeConfig };
    this.logger = opts.logger ?? createLogger('broker', { brokerName: opts.brokerConfig.brokerName });
    this.host = opts.host;
    this.configuration = brokerRuntimeConfig(this.brokerConfig, this.storeConfig, opts.configFile);
    this.brokerIP = this.brokerConfig.brokerIP1 || localIPv4();
    this.msgIdGenerator = new MessageIdGenerator(this.brokerIP);
    // The store host is written into every record; its port is fixed at start, when it is known.
    this.messageStore = new DefaultMessageStore(this.storeConfig, encodeSocketAddress(this.brokerIP, this.brokerConfig.listenPort), this.logger, totalmem(), { replica: this.isSlave });
    this.brokerStatsManager = new BrokerStatsManager({
      clusterName: this.brokerConfig.brokerClusterName,
      maxStatsIdleTimeInMinutes: () => this.brokerConfig.maxStatsIdleTimeInMinutes,
      logger: this.logger,
    });
    this.messageStore.brokerStatsManager = this.brokerStatsManager;
    this.brokerStats = new BrokerStats(this.brokerStatsManager);
    const root = this.storeConfig.storePathRootDir;
    this.topicConfigManager = new TopicConfigManager(root, this.brokerConfig, this.logger);
    this.consumerOffsetManager = new ConsumerOffsetManager(root, this.logger);
    this.subscriptionGroupManager = new SubscriptionGroupManager(root, this.brokerConfig.autoCreateSubscriptionGroup, this.logger);
    this.consumerManager = new ConsumerManager(this.logger, () => this.brokerConfig.notifyConsumerIdsChangedEnable);
    this.producerManager = new ProducerManager(this.logger);
    // As upstream's BrokerOuterAPI: requests to the NameServers are signed with the inner credentials.
    this.outerAPI = new BrokerOuterAPI(this.logger, innerClientCredentials(this.brokerConfig.innerClientAuthenticationCredentials));
    this.authMetadataStore = new AuthMetadataStore(root, this.logger);
    this.authPipeline = new AuthPipeline(this.brokerConfig, this.authMetadataStore, this.logger);
    this.messageRequestModeManager = new MessageRequestModeManager(root, this.logger);
    this.topicRouteInfoManager = new TopicRouteInfoManager(
      this.outerAPI, () => this.namesrvList(), () => this.brokerConfig.brokerName, this.topicConfigManager, this.logger,
    );
    this.scheduleMessageService = new ScheduleMessageService(this.messageStore, root, this.logger);
    this.timerMessageStore = new TimerMessageStore(this.messageStore, this.storeConfig, root, this.logger);
    this.transactionalMessageService = new TransactionalMessageService(this, this.logger);
    this.popMessageService = new PopMessageService(this, this.logger);
    this.pullProcessor = new PullMessageProcessor(this);
    this.pullRequestHoldService = new PullRequestHoldService(
      (r) => this.pullProcessor.rerun(r.request, r.conn),
      (topic, queueId) => this.messageStore.getMaxOffsetInQueue(topic, queueId),
      this.logger,
    );
  }

  /** brokerRole=SLAVE: replicates its master, refuses writes, runs none of the master's delivery services. */
  get isSlave(): boolean {
    return this.brokerConfig.brokerRole === 'SLAVE';
  }

  /** Actual listen port (resolved when listenPort was 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Address advertised to clients and NameServers: brokerIP1:port. */
  get address(): string {
    return `${this.brokerIP}:${this.boundPort}`;
  }

  /** Upstream `AuthMigrator.migrate` at broker start: ACL 1.0 accounts under ROCKETMQ_HOME become users and ACLs. */
  private migrateAuthFromV1(): void {
    const home = this.brokerConfig.rocketmqHome || process.env.ROCKETMQ_HOME || '';
    if (home === '') {
      this.logger.warn('[ACL MIGRATE] migrateAuthFromV1Enabled is on but neither rocketmqHome nor ROCKETMQ_HOME is set: no plain_acl.yml to migrate');
      return;
    }
    migrateAuthFromV1(this.authMetadataStore, plainAclFiles(home), this.logger);
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    // Load and recover before listening, so no request meets a half-loaded store.
    const rec = this.messageStore.load();
    this.topicConfigManager.load();
    this.consumerOffsetManager.load();
    this.subscriptionGroupManager.load();
    this.messageRequestModeManager.load();
    this.authMetadataStore.load();
    this.authMetadataStore.initUsers(this.brokerConfig.initAuthenticationUser, this.brokerConfig.innerClientAuthenticationCredentials);
    if (this.brokerConfig.migrateAuthFromV1Enabled) this.migrateAuthFromV1();
    this.scheduleMessageService.load();
    await this.timerMessageStore.load();
    if (rec.abnormal) {
      this.logger.warn(`store recovered after an abnormal exit: verified the CommitLog from offset ${rec.recoveredFrom} to ${rec.maxOffset} in ${rec.ms} ms`);
    }
    this.server = new RemotingServer({ port: this.brokerConfig.listenPort, host: this.host, maxFrameSize: this.brokerConfig.maxFrameSize, busyPollMicros: this.brokerConfig.busyPollMicros, logger: this.logger });
    this.registerProcessors(this.server, true);
    await this.server.start();
    this.boundPort = this.server.port;
    if (this.brokerConfig.fastListenPortEnable && this.brokerConfig.listenPort > 2) {
      // The "VIP" channel old clients use: same handlers except PULL (upstream).
      this.fastServer = new RemotingServer({ port: this.brokerConfig.listenPort - 2, host: this.host, maxFrameSize: this.brokerConfig.maxFrameSize, busyPollMicros: this.brokerConfig.busyPollMicros, logger: this.logger });
      this.registerProcessors(this.fastServer, false);
      try {
        await this.fastServer.start();
      } catch (err) {
        await this.server.shutdown();
        throw err;
      }
    }
    this.messageStore.storeHost.writeInt32BE(this.boundPort, this.messageStore.storeHost.length - 4);
    this.messageStore.setMessageArrivingListener((topic, queueId, maxOffset, tagsCode) => {
      if (topic === SystemTopic.SCHEDULE_TOPIC) this.scheduleMessageService.onArrival(queueId);
      else if (topic === SystemTopic.TIMER_TOPIC) this.timerMessageStore.onArrival();
      else {
        this.pullRequestHoldService.notifyMessageArriving(topic, queueId, maxOffset, tagsCode);
        this.popMessageService.notifyMessageArriving(topic);
      }
    });
    this.messageStore.start();
    this.brokerStatsManager.start();
    if (this.isSlave) {
      // As upstream changeSpecialServiceStatus(false): delay and timer delivery, transaction
      // checks and POP revive run on the master only; the slave replicates their effects.
      this.haClient = new HAClient(this.messageStore, this.storeConfig, this.logger);
      this.haClient.start();
      if (this.storeConfig.haMasterAddress !== '') this.haClient.updateHaMasterAddress(this.storeConfig.haMasterAddress);
      this.slaveSynchronize = new SlaveSynchronize(this, this.outerAPI, this.logger);
      this.every(SLAVE_SYNC_INTERVAL_MS, () => void this.slaveSynchronize?.syncAll());
    } else {
      this.haService = new HAService(this.messageStore, this.storeConfig, this.logger);
      const l = this.brokerConfig.listenPort;
      await this.haService.start(this.storeConfig.haListenPort > 0 ? this.storeConfig.haListenPort : l === 0 ? 0 : l + 1, this.host);
      await this.popMessageService.start();
      this.scheduleMessageService.start();
      this.timerMessageStore.start();
      this.transactionalMessageService.start();
    }
    this.pullRequestHoldService.start();
    this.topicConfigManager.onChange = () => void this.scheduleRegister();
    this.startTimestamp = Date.now();
    this.every(this.brokerConfig.flushConsumerOffsetInterval, () => this.consumerOffsetManager.persist());
    this.every(CHANNEL_SCAN_INTERVAL, () => {
      this.consumerManager.scanNotActiveChannel(this.brokerConfig.channelExpiredTimeout);
      this.producerManager.scanNotActiveChannel(this.brokerConfig.channelExpiredTimeout);
    });
    // As upstream: every 3 minutes the timer metrics of topics the broker no longer has are dropped.
    this.every(TIMER_METRICS_CLEAN_INTERVAL, () => this.timerMessageStore.metrics.cleanMetrics(new Set(this.topicConfigManager.table.keys())));
    this.atEveryMorning(() => {
      const y = this.brokerStats.record();
      this.logger.info(`yesterday put message total: ${y.putYesterday}, get message total: ${y.getYesterday}`);
    });
    const period = Math.max(10_000, Math.min(60_000, this.brokerConfig.registerNameServerPeriod));
    this.every(period, () => void this.registerBrokerAll());
    this.started = true;
    await this.registerBrokerAll();
    void this.slaveSynchronize?.syncAll();
    this.logger.info(`The broker[${this.brokerConfig.brokerName}, ${this.address}] boot success. serializeType=JSON/ROCKETMQ and name server is ${this.brokerConfig.namesrvAddr || '(none)'}; store ${this.storeConfig.storePathRootDir}, ${this.storeConfig.flushDiskType}, started in ${Date.now() - t0} ms`);
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'periodic broker task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Runs `fn` at each local midnight (upstream: first at the next morning, then daily). */
  private atEveryMorning(fn: () => void): void {
    const t = setTimeout(() => {
      fn();
      this.every(24 * 60 * 60_000, fn);
    }, msUntilNextMorning(Date.now()));
    t.unref();
    this.timers.push(t);
  }

  private registerProcessors(server: RemotingServer, withPull: boolean): void {
    // The switches are fixed for the broker's life (not runtime configuration, as upstream's AuthConfig): off, no request pays for them.
    if (this.brokerConfig.authenticationEnabled || this.brokerConfig.authorizationEnabled) server.setRequestPipeline(this.authPipeline.handle);
    const send = new SendMessageProcessor(this);
    const cm = new ConsumerManageProcessor(this);
    const client = new ClientManageProcessor(this);
    const admin = new AdminBrokerProcessor(this);
    const query = new QueryMessageProcessor(this);
    const sendBack = new SendMessageBackProcessor(this);
    const endTx = new EndTransactionProcessor(this);
    const recall = new RecallMessageProcessor(this);
    const reg = (code: number, h: RequestHandler): void => server.registerProcessor(code, h);
    const sendHandler: RequestHandler = (req, conn) => send.process(req, conn);
    reg(RequestCode.SEND_MESSAGE, sendHandler);
    reg(RequestCode.SEND_MESSAGE_V2, sendHandler);
    reg(RequestCode.SEND_BATCH_MESSAGE, sendHandler);
    const reply = new ReplyMessageProcessor(this, send);
    reg(RequestCode.SEND_REPLY_MESSAGE, (req, conn) => reply.process(req, conn));
    reg(RequestCode.SEND_REPLY_MESSAGE_V2, (req, conn) => reply.process(req, conn));
    const pop = new PopRemotingProcessor(this);
    if (withPull) {
      reg(RequestCode.PULL_MESSAGE, (req, conn) => this.pullProcessor.process(req, conn));
      reg(RequestCode.LITE_PULL_MESSAGE, (req, conn) => this.pullProcessor.process(req, conn));
      reg(PopRequestCode.POP_MESSAGE, (req) => pop.popMessage(req));
      // As upstream: NOTIFICATION and POLLING_INFO on the main port only, with the pops.
      const notification = new NotificationProcessor(this);
      reg(RequestCode.NOTIFICATION, (req, conn) => notification.notification(req, conn));
      reg(RequestCode.POLLING_INFO, (req, conn) => notification.pollingInfo(req, conn));
    }
    // As upstream: acks and invisible-time changes also on the VIP port.
    reg(PopRequestCode.ACK_MESSAGE, (req) => pop.ackMessage(req));
    reg(PopRequestCode.BATCH_ACK_MESSAGE, (req) => pop.batchAckMessage(req));
    reg(PopRequestCode.CHANGE_MESSAGE_INVISIBLETIME, (req) => pop.changeInvisibleTime(req));
    const assignment = new QueryAssignmentProcessor(this);
    reg(RequestCode.QUERY_ASSIGNMENT, (req, conn) => assignment.queryAssignment(req, conn));
    reg(RequestCode.SET_MESSAGE_REQUEST_MODE, (req) => assignment.setMessageRequestMode(req));
    reg(RequestCode.GET_ALL_MESSAGE_REQUEST_MODE, (req) => assignment.getAllMessageRequestMode(req));
    reg(RequestCode.CONSUMER_SEND_MSG_BACK, (req) => sendBack.process(req));
    reg(RequestCode.END_TRANSACTION, (req, conn) => endTx.process(req, conn));
    reg(RequestCode.RECALL_MESSAGE, (req, conn) => recall.process(req, conn));
    reg(RequestCode.QUERY_CONSUMER_OFFSET, (req) => cm.queryConsumerOffset(req));
    reg(RequestCode.UPDATE_CONSUMER_OFFSET, (req) => cm.updateConsumerOffset(req));
    reg(RequestCode.GET_CONSUMER_LIST_BY_GROUP, (req) => cm.getConsumerListByGroup(req));
    reg(RequestCode.QUERY_CONSUME_TIME_SPAN, (req) => cm.queryConsumeTimeSpan(req));
    reg(RequestCode.HEART_BEAT, (req, conn) => client.heartBeat(req, conn));
    reg(RequestCode.UNREGISTER_CLIENT, (req, conn) => client.unregisterClient(req, conn));
    reg(RequestCode.LOCK_BATCH_MQ, (req) => client.lockBatchMQ(req));
    reg(RequestCode.UNLOCK_BATCH_MQ, (req) => client.unlockBatchMQ(req));
    reg(RequestCode.CHECK_CLIENT_CONFIG, (req) => client.checkClientConfig(req));
    reg(RequestCode.UPDATE_AND_CREATE_TOPIC, (req) => admin.updateAndCreateTopic(req));
    reg(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST, (req) => admin.updateAndCreateTopicList(req));
    reg(RequestCode.DELETE_TOPIC_IN_BROKER, (req) => admin.deleteTopic(req));
    reg(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER, (req) => admin.getSystemTopicListFromBroker(req));
    reg(RequestCode.GET_ALL_TOPIC_CONFIG, (req) => admin.getAllTopicConfig(req));
    reg(RequestCode.GET_TOPIC_CONFIG, (req) => admin.getTopicConfig(req));
    reg(RequestCode.GET_MAX_OFFSET, (req) => admin.getMaxOffset(req));
    reg(RequestCode.GET_MIN_OFFSET, (req) => admin.getMinOffset(req));
    reg(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, (req) => admin.searchOffsetByTimestamp(req));
    reg(RequestCode.GET_EARLIEST_MSG_STORETIME, (req) => admin.getEarliestMsgStoretime(req));
    reg(RequestCode.VIEW_MESSAGE_BY_ID, (req) => admin.viewMessageById(req));
    reg(RequestCode.QUERY_MESSAGE, (req) => query.queryMessage(req));
    reg(RequestCode.GET_BROKER_RUNTIME_INFO, (req) => admin.getBrokerRuntimeInfo(req));
    reg(RequestCode.CLONE_GROUP_OFFSET, (req) => admin.cloneGroupOffset(req));
    reg(RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE, (req) => admin.cleanExpiredConsumeQueue(req));
    // TRIGGER_DELETE_FILES (27) has no handler, as upstream: only this code asks for manual deletion.
    reg(RequestCode.DELETE_EXPIRED_COMMITLOG, (req) => admin.deleteExpiredCommitLog(req));
    reg(RequestCode.CLEAN_UNUSED_TOPIC, (req) => admin.cleanUnusedTopic(req));
    reg(RequestCode.QUERY_CORRECTION_OFFSET, (req) => admin.queryCorrectionOffset(req));
    reg(RequestCode.RESUME_CHECK_HALF_MESSAGE, (req) => admin.resumeCheckHalfMessage(req));
    reg(RequestCode.GET_TIMER_CHECK_POINT, (req) => admin.getTimerCheckPoint(req));
    reg(RequestCode.GET_TIMER_METRICS, (req) => admin.getTimerMetrics(req));
    const ha = new HAAdminProcessor(this);
    reg(RequestCode.GET_BROKER_HA_STATUS, (req) => ha.getBrokerHaStatus(req));
    reg(RequestCode.GET_ALL_CONSUMER_OFFSET, (req) => ha.getAllConsumerOffset(req));
    reg(RequestCode.GET_ALL_DELAY_OFFSET, (req) => ha.getAllDelayOffset(req));
    const brokerConfigProcessor = new BrokerConfigProcessor(this);
    reg(RequestCode.GET_BROKER_CONFIG, (req) => brokerConfigProcessor.getBrokerConfig(req));
    reg(RequestCode.UPDATE_BROKER_CONFIG, (req, conn) => brokerConfigProcessor.updateBrokerConfig(req, conn));
    const stats = new StatsProcessor(this);
    const conns = new ConnectionsProcessor(this);
    const subGroup = new SubscriptionGroupProcessor(this);
    const resetOffset = new ResetOffsetProcessor(this);
    const relay = new RelayProcessor(this);
    reg(RequestCode.GET_TOPIC_STATS_INFO, (req) => stats.getTopicStatsInfo(req));
    reg(RequestCode.GET_CONSUME_STATS, (req) => stats.getConsumeStats(req));
    reg(RequestCode.GET_BROKER_CONSUME_STATS, (req) => stats.getBrokerConsumeStats(req));
    reg(RequestCode.VIEW_BROKER_STATS_DATA, (req) => stats.viewBrokerStatsData(req));
    reg(RequestCode.QUERY_CONSUME_QUEUE, (req) => stats.queryConsumeQueue(req));
    reg(RequestCode.GET_CONSUMER_CONNECTION_LIST, (req) => conns.getConsumerConnectionList(req));
    reg(RequestCode.GET_PRODUCER_CONNECTION_LIST, (req) => conns.getProducerConnectionList(req));
    reg(RequestCode.GET_ALL_PRODUCER_INFO, (req) => conns.getAllProducerInfo(req));
    reg(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, (req) => conns.queryTopicConsumeByWho(req));
    reg(RequestCode.QUERY_TOPICS_BY_CONSUMER, (req) => conns.queryTopicsByConsumer(req));
    reg(RequestCode.QUERY_SUBSCRIPTION_BY_CONSUMER, (req) => conns.querySubscriptionByConsumer(req));
    reg(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, (req) => subGroup.updateAndCreate(req));
    reg(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, (req) => subGroup.updateAndCreateList(req));
    reg(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, (req) => subGroup.getAll(req));
    reg(RequestCode.DELETE_SUBSCRIPTIONGROUP, (req) => subGroup.delete(req));
    reg(RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, (req) => subGroup.get(req));
    reg(RequestCode.UPDATE_AND_GET_GROUP_FORBIDDEN, (req) => subGroup.updateAndGetForbidden(req));
    reg(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, (req) => resetOffset.process(req));
    reg(RequestCode.GET_CONSUMER_RUNNING_INFO, (req) => relay.getConsumerRunningInfo(req));
    const auth = new AuthAdminProcessor(() => this.authMetadataStore);
    for (const code of [
      RequestCode.AUTH_CREATE_USER, RequestCode.AUTH_UPDATE_USER, RequestCode.AUTH_DELETE_USER, RequestCode.AUTH_GET_USER, RequestCode.AUTH_LIST_USER,
      RequestCode.AUTH_CREATE_ACL, RequestCode.AUTH_UPDATE_ACL, RequestCode.AUTH_DELETE_ACL, RequestCode.AUTH_GET_ACL, RequestCode.AUTH_LIST_ACL,
    ]) reg(code, (req) => auth.process(req));
    reg(RequestCode.CONSUME_MESSAGE_DIRECTLY, (req) => relay.consumeMessageDirectly(req));
    reg(RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, (req) => relay.getConsumerStatus(req));
    server.on('disconnect', (conn) => {
      this.consumerManager.onConnectionClosed(conn);
      this.producerManager.onConnectionClosed(conn);
    });
  }

  private namesrvList(): string[] {
    return this.brokerConfig.namesrvAddr.split(';').map((s) => s.trim()).filter(Boolean);
  }

  /** Registers with every NameServer: at start, periodically, and right after topics change. */
  async registerBrokerAll(): Promise<void> {
    const addrs = this.namesrvList();
    if (addrs.length === 0 || !this.started) return;
    const wrapper = this.topicConfigManager.wrapper();
    if ((this.brokerConfig.brokerPermission & 2) === 0 || (this.brokerConfig.brokerPermission & 4) === 0) {
      // As upstream: a broker without write/read permission advertises every topic with its own perm.
      // Masked copies: the broker's own topic configs (and topics.json) keep their permission.
      const perm = this.brokerConfig.brokerPermission;
      wrapper.topicConfigTable = Object.fromEntries(
        Object.entries(wrapper.topicConfigTable).map(([name, tc]) => [name, { ...tc, perm: tc.perm & perm }]),
      );
    }
    const results = await this.outerAPI.registerBrokerAll(addrs, {
      clusterName: this.brokerConfig.brokerClusterName,
      brokerName: this.brokerConfig.brokerName,
      brokerAddr: this.address,
      brokerId: this.brokerConfig.brokerId,
      haServerAddr: `${this.brokerConfig.brokerIP2 || this.brokerIP}:${this.haService?.port ?? this.boundPort + 1}`,
    }, wrapper, this.brokerConfig.registerBrokerTimeoutMills);
    if (!this.isSlave || !this.started) return;
    // As upstream: a slave learns its master's HA address from the answer unless haMasterAddress
    // is set, keeping the last one while no NameServer knows a live master; the master's
    // Remoting address (for SlaveSynchronize) is cleared then, so nothing is synced from it.
    const r = results.find((x) => x.haServerAddr !== '') ?? results[0];
    if (r === undefined) return;
    if (this.storeConfig.haMasterAddress === '' && r.haServerAddr !== '') this.haClient?.updateHaMasterAddress(r.haServerAddr);
    if (this.slaveSynchronize) this.slaveSynchronize.masterAddr = r.masterAddr;
  }

  /** GET_BROKER_HA_STATUS (upstream `DefaultHAService.getRuntimeInfo`). */
  haRuntimeInfo(): HARuntimeInfo {
    const max = this.messageStore.maxPhyOffset;
    const conns = this.haService?.connectionInfo() ?? [];
    const c = this.haClient;
    return {
      master: !this.isSlave,
      masterCommitLogMaxOffset: this.isSlave ? 0 : max,
      inSyncSlaveNums: conns.filter((x) => x.inSync).length,
      haConnectionInfo: conns,
      haClientRuntimeInfo: {
        masterAddr: c?.haMasterAddress ?? '',
        transferredByteInSecond: c?.transferredByteInSecond() ?? 0,
        maxOffset: this.isSlave ? max : 0,
        lastReadTimestamp: c?.lastReadTimestamp ?? 0,
        lastWriteTimestamp: c?.lastReportTimestamp ?? 0,
        masterFlushOffset: c?.masterFlushOffset ?? 0,
        activated: c?.isConnected ?? false,
      },
    };
  }

  /**
   * One registration on the next turn, however many topics changed in this one; resolves once the
   * NameServers have answered (UPDATE_AND_CREATE_TOPIC waits for it, as upstream's
   * registerIncrementBrokerData does, so a route lookup right after `updateTopic` finds the topic).
   */
  scheduleRegister(): Promise<void> {
    this.pendingRegister ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.pendingRegister = undefined;
      return this.registerBrokerAll();
    });
    return this.pendingRegister;
  }

  /** Stops serving, flushes and checkpoints the store, unregisters, leaves no handle open. */
  async shutdown(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.pullRequestHoldService.shutdown();
    this.brokerStatsManager.shutdown();
    this.haClient?.shutdown();
    await this.slaveSynchronize?.shutdown();
    this.transactionalMessageService.shutdown();
    await this.popMessageService.shutdown();
    await this.outerAPI.unregisterBrokerAll(this.namesrvList(), {
      clusterName: this.brokerConfig.brokerClusterName,
      brokerName: this.brokerConfig.brokerName,
      brokerAddr: this.address,
      brokerId: this.brokerConfig.brokerId,
      haServerAddr: '',
    });
    await this.outerAPI.shutdown();
    await this.server?.shutdown();
    await this.fastServer?.shutdown();
    await this.scheduleMessageService.shutdown();
    await this.timerMessageStore.shutdown();
    // After the last writes of the services above: what the store holds still goes to the slaves until here.
    await this.haService?.shutdown();
    await this.messageStore.shutdown();
    this.consumerOffsetManager.persist(true);
    this.logger.info(`The broker[${this.brokerConfig.brokerName}, ${this.address}] shutdown OK`);
  }
}
