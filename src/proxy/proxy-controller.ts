import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createLogger, type Logger } from '../common/logger.js';
import { GrpcMessagingApplication } from './grpc-messaging-application.js';
import type { MessagingProcessor } from './messaging-processor.js';
import { MessagingServiceService } from './proto.js';
import { defaultProxyConfig, type ProxyConfig } from './proxy-config.js';
import type { ProxyAuth } from './authentication.js';

export interface ProxyControllerOptions {
  config?: Partial<ProxyConfig>;
  processor: MessagingProcessor;
  /** Host advertised in routes when a client does not say which address it dialled. */
  advertisedHost?: string;
  /** The broker a request that names none goes to. */
  defaultBrokerName: () => string;
  logger?: Logger;
  /** The broker's users, ACLs and auth switches (standalone: the proxy authenticates against the broker's store). */
  auth?: ProxyAuth;
}

/** Largest gRPC request accepted (upstream `grpcMaxInboundMessageSize`, 130 MiB): a too-large body is answered, not cut. */
const MAX_INBOUND_MESSAGE_SIZE = 130 * 1024 * 1024;
/** How long shutdown waits for calls in progress before cutting them. */
const SHUTDOWN_GRACE_MS = 3_000;

/**
 * The Proxy role (upstream `ProxyStartup` + `GrpcServer`): serves `apache.rocketmq.v2.MessagingService`
 * over gRPC (port 8081 by default) in front of a MessagingProcessor — the broker of this process
 * in local mode, brokers over Remoting in cluster mode.
 */
export class ProxyController {
  readonly config: ProxyConfig;
  readonly logger: Logger;
  readonly application: GrpcMessagingApplication;
  private readonly processor: MessagingProcessor;
  private server?: Server;
  private boundPort = 0;
  private sweepTimer?: NodeJS.Timeout;
  private readonly advertisedHost: string;

  constructor(opts: ProxyControllerOptions) {
    this.config = { ...defaultProxyConfig(), ...opts.config };
    this.logger = opts.logger ?? createLogger('proxy');
    this.processor = opts.processor;
    this.advertisedHost = opts.advertisedHost ?? '127.0.0.1';
    this.application = new GrpcMessagingApplication({
      config: this.config, processor: this.processor, logger: this.logger,
      selfEndpoint: () => ({ host: this.advertisedHost, port: this.boundPort }),
      defaultBrokerName: opts.defaultBrokerName,
      ...(opts.auth ? { auth: opts.auth } : {}),
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** host:port for a 5.x client's `endpoints`. */
  get address(): string {
    return `${this.advertisedHost.includes(':') ? `[${this.advertisedHost}]` : this.advertisedHost}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    await this.processor.start();
    const server = new Server({
      'grpc.max_receive_message_length': MAX_INBOUND_MESSAGE_SIZE,
      'grpc.keepalive_permit_without_calls': 1,
    });
    server.addService(MessagingServiceService, this.application.service());
    const host = this.config.host ?? '0.0.0.0';
    const bindHost = host.includes(':') ? `[${host}]` : host;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${bindHost}:${this.config.grpcServerPort}`, ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(err);
        else resolve(port);
      });
    }).catch(async (err: Error) => {
      server.forceShutdown();
      await this.processor.shutdown();
      throw new Error(`the proxy cannot listen on ${bindHost}:${this.config.grpcServerPort}: ${err.message}`, { cause: err });
    });
    this.server = server;
    this.sweepTimer = setInterval(() => this.application.clients.sweep(this.config.channelExpiredTimeout), 10_000);
    this.sweepTimer.unref();
    this.logger.info(`The proxy (gRPC apache.rocketmq.v2) listens on ${bindHost}:${this.boundPort}`);
  }

  /** Ends long polls and Telemetry streams, stops the server, leaves no handle open. */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.application.stop();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await this.processor.shutdown();
    this.logger.info('The proxy shutdown OK');
  }
}
