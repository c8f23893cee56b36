import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { BrokerController } from './broker/index.js';
import {
  defaultBrokerConfig,
  defaultMessageStoreConfig,
  defaultNamesrvConfig,
  type BrokerConfig,
  type MessageStoreConfig,
  type NamesrvConfig,
} from './common/config.js';
import { ConfigError, validateBrokerConfig, validateNamesrvConfig } from './common/config-loader.js';
import { createLogger, type Logger } from './common/logger.js';
import { DEFAULT_CLUSTER } from './common/topic.js';
import { NamesrvController } from './namesrv/index.js';
import { DEFAULT_PROXY_PORT, LocalMessagingProcessor, ProxyController, localProxyAuth, type ProxyConfig } from './proxy/index.js';

/**
 * The standalone system: one NameServer, one Broker and the gRPC Proxy (local mode: it calls
 * the broker directly) in this process, the broker registered with that NameServer. It is what
 * `npm start` runs, and what applications start in their own tests
 * (`const mq = await startStandalone({ storeDir, ports: { namesrv: 0, broker: 0, proxy: 0 } })`).
 */

/** What standalone mode uses where the caller says nothing. */
export const STANDALONE_DEFAULTS = {
  storeDir: './store',
  namesrvPort: 9876,
  brokerPort: 10911,
  /** gRPC endpoint of 5.x clients (apache.rocketmq.v2). */
  proxyPort: DEFAULT_PROXY_PORT,
  brokerName: 'broker-a',
  brokerClusterName: DEFAULT_CLUSTER,
  /** Advertised to clients unless brokerIP1 is configured: standalone is a local system. */
  brokerIP1: '127.0.0.1',
} as const;

export interface StandaloneOptions {
  /** Root of all state: commitlog/, consumequeue/, config/, namesrv/kvConfig.json. Default ./store. */
  storeDir?: string;
  /**
   * Listen ports; 0 picks a free port. Defaults 9876, 10911 (plus 10909, listenPort − 2) and
   * 8081 for the proxy — except that the proxy follows the broker onto a free port when the
   * broker port is 0 and no proxy port is given, so tests asking for free ports never collide.
   */
  ports?: { namesrv?: number; broker?: number; proxy?: number };
  brokerConfig?: Partial<BrokerConfig>;
  storeConfig?: Partial<MessageStoreConfig>;
  namesrvConfig?: Partial<NamesrvConfig>;
  /** Proxy settings (upstream ProxyConfig names); `false` runs no proxy. */
  proxyConfig?: Partial<ProxyConfig> | false;
  /**
   * Interface the NameServer and Broker listen on (default all). A specific address is also
   * what they advertise; otherwise they advertise 127.0.0.1.
   */
  host?: string;
  logger?: Logger;
}

export interface Standalone {
  /** host:port of the NameServer, the value for a client's namesrvAddr. */
  namesrvAddr: string;
  /** brokerIP1:port the broker registered with. */
  brokerAddr: string;
  /** host:port of the gRPC proxy, the `endpoints` of a 5.x client; empty when no proxy runs. */
  proxyAddr: string;
  /** Absolute store root. */
  storeDir: string;
  namesrv: NamesrvController;
  broker: BrokerController;
  /** The gRPC proxy, unless `proxyConfig: false`. */
  proxy?: ProxyController;
  /** Stops the proxy, then the broker (flush, checkpoint, abort file removed), then the NameServer. Idempotent. */
  shutdown(): Promise<void>;
}

export type StandaloneRole = 'NameServer' | 'Broker' | 'Proxy';

/** A role failed to start; `cause` is the underlying error (e.g. EADDRINUSE with its port). */
export class RoleStartError extends Error {
  readonly code = 'ROLE_START_FAILED';
  constructor(
    readonly role: StandaloneRole,
    /** The port the role was asked to listen on. */
    readonly port: number,
    override readonly cause: unknown,
  ) {
    super(`${role} failed to start: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'RoleStartError';
  }
}

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `invalid value for ${name} in startStandalone(): ${String(port)} is not allowed; expected an integer from 0 to 65535 (0 picks a free port)`,
      name,
    );
  }
  return port;
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function prepareStoreDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `cannot create the store directory ${dir} (${code ?? (err as Error).message}); choose a writable directory`,
      'storePathRootDir',
    );
  }
}

export async function startStandalone(opts: StandaloneOptions = {}): Promise<Standalone> {
  const logger = opts.logger ?? createLogger('standalone');
  const host = opts.host;
  if (host !== undefined && !isUnspecified(host) && isIP(host) === 0) {
    throw new ConfigError(`invalid value for host in startStandalone(): "${host}" is not an IP address`, 'host');
  }
  const advertised = host !== undefined && !isUnspecified(host) ? host : STANDALONE_DEFAULTS.brokerIP1;
  const storeDir = resolve(opts.storeDir ?? opts.storeConfig?.storePathRootDir ?? STANDALONE_DEFAULTS.storeDir);
  const namesrvPort = checkPort(
    'ports.namesrv',
    opts.ports?.namesrv ?? opts.namesrvConfig?.listenPort ?? STANDALONE_DEFAULTS.namesrvPort,
  );
  const brokerPort = checkPort(
    'ports.broker',
    opts.ports?.broker ?? opts.brokerConfig?.listenPort ?? STANDALONE_DEFAULTS.brokerPort,
  );
  const proxyPort = checkPort(
    'ports.proxy',
    opts.ports?.proxy ?? (opts.proxyConfig ? opts.proxyConfig.grpcServerPort : undefined) ?? (brokerPort === 0 ? 0 : STANDALONE_DEFAULTS.proxyPort),
  );

  const namesrvConfig: NamesrvConfig = {
    ...defaultNamesrvConfig(),
    kvConfigPath: join(storeDir, 'namesrv', 'kvConfig.json'),
    ...opts.namesrvConfig,
    listenPort: namesrvPort,
  };
  const storeConfig: MessageStoreConfig = {
    ...defaultMessageStoreConfig(),
    ...opts.storeConfig,
    storePathRootDir: storeDir,
  };
  const brokerConfig: BrokerConfig = {
    ...defaultBrokerConfig(),
    brokerName: STANDALONE_DEFAULTS.brokerName,
    brokerClusterName: STANDALONE_DEFAULTS.brokerClusterName,
    ...opts.brokerConfig,
    listenPort: brokerPort,
    // Only known once the NameServer has its port; set below.
    namesrvAddr: '',
  };
  // An empty brokerIP1 means "not configured" (the loaders' default), so `||` rather than `??`.
  brokerConfig.brokerIP1 = opts.brokerConfig?.brokerIP1 || advertised;
  // Validate everything before anything listens, so a bad value never leaves a half-started system.
  validateNamesrvConfig(namesrvConfig, 'startStandalone()');
  for (const n of validateBrokerConfig(brokerConfig, storeConfig, 'startStandalone()')) {
    logger[n.level](n.message);
  }
  prepareStoreDir(storeDir);

  const namesrv = new NamesrvController(namesrvConfig, {
    host,
    logger: opts.logger ? opts.logger.child({ role: 'namesrv' }) : undefined,
  });
  try {
    await namesrv.start();
  } catch (err) {
    await namesrv.shutdown().catch(() => undefined);
    throw new RoleStartError('NameServer', namesrvPort, err);
  }
  const namesrvAddr = `${advertised}:${namesrv.port}`;
  if (opts.brokerConfig?.namesrvAddr && opts.brokerConfig.namesrvAddr !== namesrvAddr) {
    logger.info(
      `namesrvAddr ${opts.brokerConfig.namesrvAddr} is replaced by ${namesrvAddr}: the standalone broker registers with its own NameServer`,
    );
  }
  brokerConfig.namesrvAddr = namesrvAddr;

  const broker = new BrokerController({
    brokerConfig,
    storeConfig,
    host,
    logger: opts.logger ? opts.logger.child({ role: 'broker' }) : undefined,
  });
  try {
    await broker.start();
  } catch (err) {
    await broker.shutdown().catch(() => undefined);
    await namesrv.shutdown().catch(() => undefined);
    throw new RoleStartError('Broker', brokerPort, err);
  }

  let proxy: ProxyController | undefined;
  if (opts.proxyConfig !== false) {
    proxy = new ProxyController({
      config: { ...opts.proxyConfig, grpcServerPort: proxyPort, host: opts.proxyConfig?.host ?? host },
      processor: new LocalMessagingProcessor(broker),
      advertisedHost: advertised,
      defaultBrokerName: () => brokerConfig.brokerName,
      logger: opts.logger ? opts.logger.child({ role: 'proxy' }) : undefined,
      // The gRPC endpoint checks the broker's users and ACLs when its switches are on.
      auth: localProxyAuth(broker.authMetadataStore, broker.brokerConfig),
    });
    try {
      await proxy.start();
    } catch (err) {
      await broker.shutdown().catch(() => undefined);
      await namesrv.shutdown().catch(() => undefined);
      throw new RoleStartError('Proxy', proxyPort, err);
    }
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      // Proxy first (its clients stop), then the broker: it unregisters from the NameServer and must flush before the process ends.
      let brokerError: unknown;
      try {
        await proxy?.shutdown();
      } catch (err) {
        brokerError = err;
      }
      try {
        await broker.shutdown();
      } catch (err) {
        brokerError = err;
      }
      await namesrv.shutdown();
      if (brokerError !== undefined) throw brokerError;
    })();
    return stopping;
  };

  return { namesrvAddr, brokerAddr: broker.address, proxyAddr: proxy?.address ?? '', storeDir, namesrv, broker, proxy, shutdown };
}
