#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:${GLIBC_TUNABLES} node --initial-old-space-size=64
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadBrokerConfig } from '../common/config-loader.js';
import { createLogger } from '../common/logger.js';
import { startStandalone, STANDALONE_DEFAULTS } from '../standalone.js';
import { parseProxyConfig, type ProxyConfig } from '../proxy/proxy-config.js';
import { logNotices, parseNonEmptyFlag, parsePortFlag, readOptionalConfigFile, runServer } from './common.js';

/**
 * `npm start` / `rocketmq-standalone`: a NameServer, a Broker and the gRPC Proxy in one process. Values come
 * from standalone defaults, then broker.conf (-c), then the flags, so that several instances
 * can run side by side with different --store and ports.
 */

interface Flags {
  configFile?: string;
  store?: string;
  namesrvPort?: number;
  brokerPort?: number;
  proxyPort?: number;
  proxyConfig?: string;
}

const program = new Command('rocketmq-standalone')
  .description('Start RocketMQ in one process: a NameServer, a Broker registered with it, and the gRPC proxy for 5.x clients.')
  .option('-c, --configFile <file>', 'Broker config properties file (broker.conf, RocketMQ key names)', parseNonEmptyFlag)
  .option('--store <dir>', `store root directory (default: ${STANDALONE_DEFAULTS.storeDir}, or storePathRootDir in broker.conf)`, parseNonEmptyFlag)
  .option('--namesrv-port <port>', `NameServer port; 0 picks a free one (default: ${STANDALONE_DEFAULTS.namesrvPort})`, parsePortFlag)
  .option(
    '--broker-port <port>',
    `Broker port, the fast port is this - 2; 0 picks a free one (default: ${STANDALONE_DEFAULTS.brokerPort}, or listenPort in broker.conf)`,
    parsePortFlag,
  )
  .option(
    '--proxy-port <port>',
    `gRPC proxy port (apache.rocketmq.v2, for 5.x clients); 0 picks a free one (default: ${STANDALONE_DEFAULTS.proxyPort}, or a free one when --broker-port is 0)`,
    parsePortFlag,
  )
  .option('--proxy-config <file>', 'gRPC proxy settings, JSON with upstream rmq-proxy.json key names (e.g. minInvisibleTimeMillsForRecv, acl)', parseNonEmptyFlag)
  .allowExcessArguments(false)
  .showHelpAfterError('(run with --help for usage)')
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('standalone');

await runServer({
  name: 'rocketmq-standalone',
  logger,
  ports: {
    NameServer: '--namesrv-port',
    Broker: '--broker-port (or listenPort in broker.conf)',
    Proxy: '--proxy-port',
  },
  start: async () => {
    const { brokerConfig, storeConfig, notices } = loadBrokerConfig(
      [{ source: flags.configFile ?? 'broker config', props: readOptionalConfigFile(flags.configFile) }],
      {
        brokerConfig: {
          brokerName: STANDALONE_DEFAULTS.brokerName,
          brokerClusterName: STANDALONE_DEFAULTS.brokerClusterName,
          listenPort: STANDALONE_DEFAULTS.brokerPort,
          // Standalone always registers with its own NameServer; NAMESRV_ADDR is not for it.
          namesrvAddr: '',
        },
        storeConfig: { storePathRootDir: STANDALONE_DEFAULTS.storeDir },
      },
    );
    logNotices(logger, notices);
    let proxyConfig: Partial<ProxyConfig> | undefined;
    if (flags.proxyConfig) {
      const parsed = parseProxyConfig(readFileSync(flags.proxyConfig, 'utf8'), flags.proxyConfig);
      if (parsed.unknown.length > 0) logger.info(`${flags.proxyConfig}: ignoring settings this proxy does not have: ${parsed.unknown.join(', ')}`);
      proxyConfig = parsed.config;
    }
    const mq = await startStandalone({
      storeDir: flags.store ?? storeConfig.storePathRootDir,
      ports: { namesrv: flags.namesrvPort, broker: flags.brokerPort ?? brokerConfig.listenPort, proxy: flags.proxyPort },
      brokerConfig,
      storeConfig,
      proxyConfig,
    });
    logger.info(
      `RocketMQ standalone started: NameServer ${mq.namesrvAddr}, Broker ${mq.brokerAddr}, Proxy ${mq.proxyAddr}, store ${mq.storeDir}`,
    );
    return mq;
  },
});
