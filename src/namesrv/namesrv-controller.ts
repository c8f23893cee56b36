import type { NamesrvConfig } from '../common/config.js';
import { createLogger, type Logger } from '../common/logger.js';
import type { Connection } from '../remoting/connection.js';
import { RemotingServer } from '../remoting/server.js';
import { KVConfigManager } from './kv-config-manager.js';
import { brokerRegistrationProcessors } from './processors/broker-registration.js';
import { clusterProcessors } from './processors/cluster.js';
import { kvConfigProcessors } from './processors/kv-config.js';
import { guard, type NamesrvContext } from './processors/processor.js';
import { routeProcessors } from './processors/route.js';
import { topicProcessors } from './processors/topic.js';
import { namesrvConfigProcessors, namesrvRuntimeConfig } from './processors/namesrv-config.js';
import type { RuntimeConfig } from '../common/runtime-config.js';
import { RouteInfoManager } from './route-info-manager.js';

export interface NamesrvControllerOptions {
  /** Interface to listen on; default all (0.0.0.0). */
  host?: string;
  logger?: Logger;
  /** Clock for broker liveness and the needWaitForService window (tests). */
  now?: () => number;
  /** Where UPDATE_NAMESRV_CONFIG writes (upstream `configStorePath`); default namesrv.properties beside kvConfigPath. */
  configStorePath?: string;
}

/**
 * The NameServer role (upstream `NamesrvController`): a Remoting server whose processors read
 * and write the route registry and the KV store, plus the periodic scan that expires brokers
 * that stopped registering. Instances share nothing, so several can run in one process.
 */
export class NamesrvController {
  readonly config: NamesrvConfig;
  readonly routeInfoManager: RouteInfoManager;
  readonly kvConfigManager: KVConfigManager;
  readonly configuration: RuntimeConfig;
  private readonly logger: Logger;
  private readonly host: string;
  private readonly now: () => number;
  private server?: RemotingServer;
  private scanTimer?: NodeJS.Timeout;

  constructor(config: NamesrvConfig, opts: NamesrvControllerOptions = {}) {
    this.config = { ...config };
    this.host = opts.host ?? '0.0.0.0';
    this.logger = opts.logger ?? createLogger('namesrv');
    this.now = opts.now ?? Date.now;
    this.routeInfoManager = new RouteInfoManager({
      brokerChannelExpiredTime: this.config.brokerChannelExpiredTime,
      deleteTopicWithBrokerRegistration: this.config.deleteTopicWithBrokerRegistration,
      supportActingMaster: this.config.supportActingMaster,
      logger: this.logger,
      now: opts.now,
    });
    this.kvConfigManager = new KVConfigManager(this.config.kvConfigPath, this.logger);
    this.configuration = namesrvRuntimeConfig(this.config, opts.configStorePath);
  }

  /** The bound port (the real one when listenPort is 0); 0 before start. */
  get port(): number {
    return this.server?.port ?? 0;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('NameServer already started');
    await this.kvConfigManager.load();
    const server = new RemotingServer({ port: this.config.listenPort, host: this.host, logger: this.logger });
    const ctx: NamesrvContext = {
      config: this.config,
      routeInfoManager: this.routeInfoManager,
      kvConfigManager: this.kvConfigManager,
      configuration: this.configuration,
      logger: this.logger,
      startupTimeMillis: this.now(),
      now: this.now,
    };
    const families = [brokerRegistrationProcessors, routeProcessors, clusterProcessors, topicProcessors, kvConfigProcessors, namesrvConfigProcessors];
    for (const family of families) {
      for (const [code, handler] of family(ctx)) server.registerProcessor(code, guard(handler));
    }
    // Upstream `BrokerHousekeepingService`: a closed, failed or idle channel takes its brokers with it.
    server.on('disconnect', (conn: Connection) => this.routeInfoManager.onChannelDestroy(conn));
    await server.start();
    this.server = server;
    const interval = this.config.scanNotActiveBrokerInterval;
    if (interval > 0) {
      this.scanTimer = setInterval(() => {
        try {
          this.routeInfoManager.scanNotActiveBroker();
        } catch (err) {
          this.logger.error({ err }, 'scanning for inactive brokers failed');
        }
      }, interval);
    }
    this.logger.info(`NameServer started, listening on ${this.host}:${server.port}`);
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
    await server.shutdown();
    await this.kvConfigManager.flush();
    this.logger.info(`NameServer on port ${server.port} shut down`);
  }
}
