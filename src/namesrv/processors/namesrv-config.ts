import { dirname, join } from 'node:path';
import type { NamesrvConfig } from '../../common/config.js';
import { KNOWN_UNUSED_NAMESRV_KEYS, NAMESRV_CONFIG_SPEC } from '../../common/config-loader.js';
import { configBlackList, ConfigUpdateError, RuntimeConfig } from '../../common/runtime-config.js';
import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse } from '../../remoting/command.js';
import type { NamesrvContext, ProcessorTable } from './processor.js';

/**
 * NameServer keys read on every use, so UPDATE_NAMESRV_CONFIG changes them at once: orderMessageEnable
 * per route lookup, the topic-list switches per request, returnOrderTopicConfigToBroker per
 * registration, needWaitForService and waitSecondsForService per route lookup.
 */
export const NAMESRV_RUNTIME_KEYS: ReadonlySet<keyof NamesrvConfig> = new Set<keyof NamesrvConfig>([
  'orderMessageEnable', 'enableAllTopicList', 'enableTopicList', 'returnOrderTopicConfigToBroker', 'needWaitForService', 'waitSecondsForService',
]);

/**
 * Keys never changed remotely whatever `configBlackList` says (upstream `DefaultRequestProcessor.initConfigBlackList`):
 * the list itself, the two paths, and rocketmqHome.
 */
export const NAMESRV_CONFIG_BLACK_LIST: ReadonlySet<string> = new Set(['configBlackList', 'configStorePath', 'kvConfigPath', 'rocketmqHome']);

/**
 * The NameServer's configuration for GET/UPDATE_NAMESRV_CONFIG. As upstream, changes are written
 * to `configStorePath`, by default `namesrv.properties` beside the KV config
 * (upstream: `~/namesrv/namesrv.properties`, beside `~/namesrv/kvConfig.json`).
 */
export function namesrvRuntimeConfig(config: NamesrvConfig, configStorePath?: string): RuntimeConfig {
  return new RuntimeConfig({
    role: 'NameServer',
    sections: [{ spec: NAMESRV_CONFIG_SPEC, target: config }],
    runtimeKeys: NAMESRV_RUNTIME_KEYS,
    blackList: configBlackList(NAMESRV_CONFIG_BLACK_LIST, config.configBlackList),
    knownUnused: KNOWN_UNUSED_NAMESRV_KEYS,
    filePath: configStorePath ?? join(dirname(config.kvConfigPath), 'namesrv.properties'),
    fileHint: 'namesrv.conf',
  });
}

/** GET_NAMESRV_CONFIG (319) and UPDATE_NAMESRV_CONFIG (318) (upstream `DefaultRequestProcessor`). */
export function namesrvConfigProcessors(ctx: NamesrvContext): ProcessorTable {
  const { configuration: conf, logger } = ctx;
  return [
    [RequestCode.UPDATE_NAMESRV_CONFIG, (req, conn) => {
      if (!req.body || req.body.length === 0) return createResponse(req, ResponseCode.SUCCESS);
      try {
        const changes = conf.update(req.body.toString('utf8'));
        logger.info(`NameServer config updated by ${conn.remoteAddress}: ${changes.map((c) => `${c.key}: ${String(c.previous)} -> ${String(c.value)}`).join(', ')}; written to ${conf.filePath}`);
        return createResponse(req, ResponseCode.SUCCESS);
      } catch (err) {
        if (!(err instanceof ConfigUpdateError)) throw err;
        logger.warn(`update NameServer config from ${conn.remoteAddress} refused: ${err.message}`);
        return createResponse(req, err.reason === 'blackList' ? ResponseCode.NO_PERMISSION : ResponseCode.INVALID_PARAMETER, err.message);
      }
    }],
    [RequestCode.GET_NAMESRV_CONFIG, (req) =>
      createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(conf.toText(), 'utf8') })],
  ];
}
