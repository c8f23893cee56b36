#!/usr/bin/env node
import { Command } from 'commander';
import { configEntries, loadNamesrvConfig } from '../common/config-loader.js';
import { createLogger } from '../common/logger.js';
import { NamesrvController } from '../namesrv/index.js';
import {
  logNotices,
  parseNonEmptyFlag,
  parsePortFlag,
  printConfig,
  readOptionalConfigFile,
  runServer,
} from './common.js';

/** `mqnamesrv`: runs one NameServer, with upstream's flags (-c, -p) plus direct overrides. */

interface Flags {
  configFile?: string;
  printConfigItem?: boolean;
  listenPort?: number;
  kvConfigPath?: string;
}

const program = new Command('mqnamesrv')
  .description('Start a RocketMQ NameServer (the route registry brokers register with and clients ask).')
  .option('-c, --configFile <file>', 'NameServer config properties file (namesrv.conf)', parseNonEmptyFlag)
  .option('-p, --printConfigItem', 'print all config items as key=value and exit')
  .option('--listen-port <port>', 'port to listen on; 0 picks a free one (default: 9876, or listenPort in the config file)', parsePortFlag)
  .option('--kv-config-path <file>', 'where the KV config is persisted (default: ~/namesrv/kvConfig.json, or kvConfigPath)', parseNonEmptyFlag)
  .allowExcessArguments(false)
  .showHelpAfterError('(run mqnamesrv --help for usage)')
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('mqnamesrv');

await runServer({
  name: 'mqnamesrv',
  logger,
  role: 'NameServer',
  ports: { NameServer: '--listen-port (or listenPort in the config file)' },
  start: async () => {
    const overrides: Record<string, string> = {};
    if (flags.listenPort !== undefined) overrides.listenPort = String(flags.listenPort);
    if (flags.kvConfigPath !== undefined) overrides.kvConfigPath = flags.kvConfigPath;
    const { namesrvConfig, notices } = loadNamesrvConfig([
      { source: flags.configFile ?? 'namesrv config', props: readOptionalConfigFile(flags.configFile) },
      { source: 'the command line', props: overrides },
    ]);
    if (flags.printConfigItem) {
      printConfig(configEntries(namesrvConfig));
      process.exit(0);
    }
    logNotices(logger, notices);
    const controller = new NamesrvController(namesrvConfig);
    try {
      await controller.start();
    } catch (err) {
      // Release whatever part of it did start (timers, a bound socket) so the process can exit.
      await controller.shutdown().catch(() => undefined);
      throw err;
    }
    return controller;
  },
});
