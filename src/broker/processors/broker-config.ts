import { join } from 'node:path';
import type { BrokerConfig, MessageStoreConfig } from '../../common/config.js';
import { BROKER_CONFIG_SPEC, KNOWN_UNUSED_BROKER_KEYS, MESSAGE_STORE_CONFIG_SPEC } from '../../common/config-loader.js';
import { configBlackList, ConfigUpdateError, RuntimeConfig } from '../../common/runtime-config.js';
import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import type { Connection } from '../../remoting/connection.js';
import type { BrokerController } from '../broker-controller.js';

/**
 * Keys of broker.conf this broker reads on every use, so UPDATE_BROKER_CONFIG changes behaviour
 * at once. The others (ports, names, store paths and file sizes, timer and flush intervals) are
 * fixed when the broker starts.
 */
export const BROKER_RUNTIME_KEYS: ReadonlySet<keyof BrokerConfig | keyof MessageStoreConfig> = new Set<keyof BrokerConfig | keyof MessageStoreConfig>([
  // send, pull and pop check them per request; brokerPermission is re-registered at once.
  'brokerPermission', 'autoCreateTopicEnable', 'rejectTransactionMessage', 'longPollingEnable', 'shortPollingTimeMills',
  'litePullMessageEnable',
  'enablePropertyFilter', 'filterSupportRetry', 'traceOn', 'storeReplyMessageEnable', 'regionId', 'notifyConsumerIdsChangedEnable', 'channelExpiredTimeout',
  'startAcceptSendRequestTimeStamp',
  // read by each topic update or deletion.
  'clearRetryTopicWhenDeleteTopic', 'validateSystemTopicWhenUpdateTopic',
  // read by the hourly statistics clean-up, and by each topic update.
  'maxStatsIdleTimeInMinutes', 'enableMixedMessageType',
  // read by each transaction check round.
  'transactionTimeOut', 'transactionCheckMax',
  // the store reads them per message, per pull or per clean-up round.
  'maxMessageSize', 'maxTransferBytesOnMessageInMemory', 'maxTransferCountOnMessageInMemory', 'maxTransferBytesOnMessageInDisk',
  'maxTransferCountOnMessageInDisk', 'defaultQueryMaxNum', 'fileReservedTime', 'deleteWhen', 'diskMaxUsedSpaceRatio',
  'diskSpaceCleanForciblyRatio', 'diskSpaceWarningLevelRatio', 'cleanFileForciblyEnable', 'deleteFileBatchMax',
  // the timer store reads them per send and per step, as upstream.
  'timerCongestNumEachSlot', 'timerStopEnqueue', 'timerStopDequeue',
]);

/**
 * Upstream keeps these in `AuthConfig`, outside the broker's `Configuration`: GET_BROKER_CONFIG
 * does not show them (initAuthenticationUser and the inner credentials hold secrets) and
 * UPDATE_BROKER_CONFIG does not change them.
 */
const AUTH_CONFIG_KEYS: ReadonlySet<string> = new Set<keyof BrokerConfig>([
  'authenticationEnabled', 'authorizationEnabled', 'authenticationWhitelist', 'authorizationWhitelist', 'initAuthenticationUser',
  'innerClientAuthenticationCredentials', 'authenticationStrategy', 'authorizationStrategy',
  'statefulAuthenticationCacheExpiredSecond', 'statefulAuthorizationCacheExpiredSecond',
]);

const BROKER_SPEC_WITHOUT_AUTH = Object.fromEntries(Object.entries(BROKER_CONFIG_SPEC).filter(([k]) => !AUTH_CONFIG_KEYS.has(k)));

/** Keys never changed remotely whatever `configBlackList` says (upstream `AdminBrokerProcessor.initConfigBlackList`). */
export const BROKER_CONFIG_BLACK_LIST: ReadonlySet<string> = new Set(['brokerConfigPath', 'rocketmqHome', 'configBlackList']);

/**
 * The broker's configuration for GET/UPDATE_BROKER_CONFIG. Changes are written to `configFile`
 * (the file given with `mqbroker -c`, as upstream's `BrokerPathConfigHelper`), or without one
 * to `<storePathRootDir>/config/broker.properties` (upstream: `~/store/config/broker.properties`).
 */
export function brokerRuntimeConfig(brokerConfig: BrokerConfig, storeConfig: MessageStoreConfig, configFile: string | undefined): RuntimeConfig {
  return new RuntimeConfig({
    role: 'broker',
    sections: [{ spec: BROKER_SPEC_WITHOUT_AUTH, target: brokerConfig }, { spec: MESSAGE_STORE_CONFIG_SPEC, target: storeConfig }],
    runtimeKeys: BROKER_RUNTIME_KEYS,
    blackList: configBlackList(BROKER_CONFIG_BLACK_LIST, brokerConfig.configBlackList),
    knownUnused: KNOWN_UNUSED_BROKER_KEYS,
    filePath: configFile ?? join(storeConfig.storePathRootDir, 'config', 'broker.properties'),
    fileHint: configFile ?? 'broker.conf',
  });
}

/** GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25) (upstream `AdminBrokerProcessor`). */
export class BrokerConfigProcessor {
  constructor(private readonly broker: BrokerController) {}

  getBrokerConfig(req: RemotingCommand): RemotingCommand {
    const conf = this.broker.configuration;
    return createResponse(req, ResponseCode.SUCCESS, undefined, {
      extFields: { version: JSON.stringify(conf.dataVersion) },
      body: Buffer.from(conf.toText(), 'utf8'),
    });
  }

  async updateBrokerConfig(req: RemotingCommand, conn: Connection): Promise<RemotingCommand> {
    const b = this.broker;
    if (!req.body || req.body.length === 0) return createResponse(req, ResponseCode.SUCCESS);
    let changes;
    try {
      changes = b.configuration.update(req.body.toString('utf8'));
    } catch (err) {
      if (!(err instanceof ConfigUpdateError)) throw err;
      b.logger.warn(`update broker config from ${conn.remoteAddress} refused: ${err.message}`);
      return createResponse(req, err.reason === 'blackList' ? ResponseCode.NO_PERMISSION : ResponseCode.INVALID_PARAMETER, err.message);
    }
    b.logger.info(`broker config updated by ${conn.remoteAddress}: ${changes.map((c) => `${c.key}: ${String(c.previous)} -> ${String(c.value)}`).join(', ')}; written to ${b.configuration.filePath}`);
    const keys = new Set(changes.map((c) => c.key));
    if (keys.has('autoCreateTopicEnable')) b.topicConfigManager.refreshSystemTopics();
    // As upstream: a new permission (or template topic) reaches the NameServers at once.
    if (keys.has('brokerPermission') || keys.has('autoCreateTopicEnable')) {
      b.topicConfigManager.bumpDataVersion();
      await b.scheduleRegister();
    }
    return createResponse(req, ResponseCode.SUCCESS);
  }
}
