#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:${GLIBC_TUNABLES} node --initial-old-space-size=64
import { Command } from 'commander';
import { BrokerController } from '../broker/index.js';
import { configEntries, IMPORTANT_BROKER_KEYS, loadBrokerConfig } from '../common/config-loader.js';
import { createLogger } from '../common/logger.js';
import {
  logNotices,
  parseNonEmptyFlag,
  parsePortFlag,
  printConfig,
  readOptionalConfigFile,
  runServer,
} from './common.js';

/**
 * `mqbroker -n host:9876 -c broker.conf`: runs one Broker, with upstream's flags (-n, -c, -p, -m)
 * plus direct overrides. namesrvAddr comes from NAMESRV_ADDR, then the file, then -n.
 */

interface Flags {
  namesrvAddr?: string;
  configFile?: string;
  printConfigItem?: boolean;
  printImportantConfig?: boolean;
  store?: string;
  listenPort?: number;
}

const program = new Command('mqbroker')
  .description('Start a RocketMQ Broker (stores messages and serves producers and consumers).')
  .option('-n, --namesrvAddr <addrs>', "NameServer address list, e.g. '192.168.0.1:9876;192.168.0.2:9876' (default: $NAMESRV_ADDR)", parseNonEmptyFlag)
  .option('-c, --configFile <file>', 'Broker config properties file (broker.conf)', parseNonEmptyFlag)
  .option('-p, --printConfigItem', 'print all config items as key=value and exit')
  .option('-m, --printImportantConfig', 'print the important config items as key=value and exit')
  .option('--store <dir>', 'store root directory, overrides storePathRootDir (default: ~/store)', parseNonEmptyFlag)
  .option('--listen-port <port>', 'listen port, overrides listenPort; the fast port is this - 2; 0 picks a free one (default: 10911)', parsePortFlag)
  .allowExcessArguments(false)
  .showHelpAfterError('(run mqbroker --help for usage)')
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('mqbroker');

await runServer({
  name: 'mqbroker',
  logger,
  role: 'Broker',
  ports: { Broker: '--listen-port (or listenPort in broker.conf)' },
  start: async () => {
    const overrides: Record<string, string> = {};
    if (flags.namesrvAddr !== undefined) overrides.namesrvAddr = flags.namesrvAddr;
    if (flags.store !== undefined) overrides.storePathRootDir = flags.store;
    if (flags.listenPort !== undefined) overrides.listenPort = String(flags.listenPort);
    const { brokerConfig, storeConfig, notices } = loadBrokerConfig([
      { source: flags.configFile ?? 'broker config', props: readOptionalConfigFile(flags.configFile) },
      { source: 'the command line', props: overrides },
    ]);
    if (flags.printConfigItem || flags.printImportantConfig) {
      const all = new Map(configEntries(brokerConfig, storeConfig));
      printConfig(flags.printConfigItem ? all : IMPORTANT_BROKER_KEYS.map((k) => [k, all.get(k) ?? ''] as const));
      process.exit(0);
    }
    logNotices(logger, notices);
    if (brokerConfig.namesrvAddr === '') {
      logger.warn('no NameServer address: this broker registers nowhere, so clients cannot find it. Pass -n host:9876, set namesrvAddr in broker.conf, or set NAMESRV_ADDR');
    }
    const controller = new BrokerController({ brokerConfig, storeConfig, configFile: flags.configFile });
    try {
      await controller.start();
    } catch (err) {
      // Release whatever part of it did start (store files, timers, a bound socket).
      await controller.shutdown().catch(() => undefined);
      throw err;
    }
    // The controller logs its own "boot success" line with address, NameServers and store.
    return controller;
  },
});
