#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1:${GLIBC_TUNABLES} node --initial-old-space-size=64
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createLogger } from '../common/logger.js';
import { ClusterMessagingProcessor } from '../proxy/cluster-messaging-processor.js';
import { ProxyController } from '../proxy/proxy-controller.js';
import { DEFAULT_PROXY_PORT, defaultProxyConfig, parseProxyConfig, type ProxyConfig } from '../proxy/proxy-config.js';
import { clusterProxyAuth } from '../proxy/cluster-auth-metadata.js';
import { localIPv4 } from '../common/message-id.js';
import { parseNonEmptyFlag, parsePortFlag, runServer } from './common.js';
import { RoleStartError } from '../standalone.js';
import { innerClientCredentials } from '../broker/auth/inner-credentials.js';

/**
 * `mqproxy -n host:9876 --port 8081`: the gRPC proxy in cluster mode (upstream `ProxyStartup`
 * with proxyMode=cluster), a client of the brokers registered with the NameServer(s).
 */

interface Flags {
  namesrvAddr?: string;
  port?: number;
  host?: string;
  proxyConfig?: string;
  advertisedHost?: string;
}

const program = new Command('mqproxy')
  .description('Start the gRPC proxy (apache.rocketmq.v2, for 5.x clients) in front of the brokers of a cluster.')
  .option('-n, --namesrvAddr <addr>', 'NameServer address(es), host:9876;host2:9876 (default: NAMESRV_ADDR)', parseNonEmptyFlag)
  .option('--port <port>', `gRPC port; 0 picks a free one (default: ${DEFAULT_PROXY_PORT}, or grpcServerPort in the proxy config)`, parsePortFlag)
  .option('--host <ip>', 'address to listen on (default: all)', parseNonEmptyFlag)
  .option('--advertised-host <host>', 'host clients reach this proxy at, put in routes when a client does not say (default: this machine\'s IP)', parseNonEmptyFlag)
  .option('--proxy-config <file>', 'proxy settings, JSON with upstream rmq-proxy.json key names (upstream: -pc)', parseNonEmptyFlag)
  .allowExcessArguments(false)
  .showHelpAfterError('(run mqproxy --help for usage)')
  .parse();

const flags = program.opts<Flags>();
const logger = createLogger('mqproxy');

await runServer({
  name: 'mqproxy',
  logger,
  role: 'Proxy',
  ports: { Proxy: '--port (or grpcServerPort in the proxy config)' },
  start: async () => {
    let config: Partial<ProxyConfig> = {};
    if (flags.proxyConfig) {
      const parsed = parseProxyConfig(readFileSync(flags.proxyConfig, 'utf8'), flags.proxyConfig);
      if (parsed.unknown.length > 0) logger.info(`${flags.proxyConfig}: ignoring settings this proxy does not have: ${parsed.unknown.join(', ')}`);
      config = parsed.config;
    }
    const namesrvAddr = flags.namesrvAddr ?? process.env.NAMESRV_ADDR;
    if (!namesrvAddr) throw new Error('no NameServer address: pass -n host:9876 or set NAMESRV_ADDR');
    const port = flags.port ?? config.grpcServerPort ?? DEFAULT_PROXY_PORT;
    const proxyConfig: ProxyConfig = { ...defaultProxyConfig(), ...config, grpcServerPort: port, host: flags.host ?? config.host };
    const processor = new ClusterMessagingProcessor({
      namesrvAddr, logger: logger.child({ role: 'cluster' }),
      sessionCredentials: innerClientCredentials(config.innerClientAuthenticationCredentials ?? ''),
      rocketMQClusterName: proxyConfig.rocketMQClusterName,
    });
    // With authenticationEnabled / authorizationEnabled, gRPC clients are checked against the brokers' users and ACLs.
    const auth = clusterProxyAuth(processor, proxyConfig, logger);
    if (auth && !innerClientCredentials(proxyConfig.innerClientAuthenticationCredentials ?? '')) {
      logger.warn('authenticationEnabled/authorizationEnabled without innerClientAuthenticationCredentials: brokers with authentication on will refuse the proxy\'s AUTH_GET_USER / AUTH_GET_ACL');
    }
    const proxy = new ProxyController({
      config: proxyConfig,
      processor,
      ...(auth ? { auth } : {}),
      advertisedHost: flags.advertisedHost ?? (flags.host && flags.host !== '0.0.0.0' ? flags.host : localIPv4()),
      // 5.x clients always name the broker of a queue; nothing to default to in a cluster.
      defaultBrokerName: () => '',
      logger,
    });
    try {
      await proxy.start();
    } catch (err) {
      throw new RoleStartError('Proxy', port, err);
    }
    logger.info(`mqproxy started: gRPC ${proxy.address} in front of the brokers of NameServer ${namesrvAddr}${auth ? `, checking clients against the users and ACLs of cluster ${proxyConfig.rocketMQClusterName}` : ''}`);
    return proxy;
  },
});
