import { InvalidArgumentError } from 'commander';
import { ConfigError, readConfigFile, type ConfigNotice } from '../common/config-loader.js';
import type { Logger } from '../common/logger.js';
import { stringifyProperties } from '../common/properties-file.js';
// Type-only: mqnamesrv and mqbroker must not load the standalone module (and with it every role).
import type { RoleStartError, StandaloneRole } from '../standalone.js';

/**
 * What the server entry points (mqnamesrv, mqbroker, rocketmq-standalone) share: flag parsing,
 * how start-up failures are explained, and the process lifecycle (signals, crashes, exit codes).
 */

/** commander argument parser for port flags. */
export function parsePortFlag(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535 (0 picks a free port).');
  }
  return Number(text);
}

/** commander argument parser for flags that must not be empty (paths, addresses). */
export function parseNonEmptyFlag(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty value.');
  return value.trim();
}

export function logNotices(logger: Logger, notices: readonly ConfigNotice[]): void {
  for (const n of notices) logger[n.level](n.message);
}

/** Reads `-c <file>` if given; an empty map otherwise. */
export function readOptionalConfigFile(path: string | undefined): Map<string, string> {
  return path === undefined ? new Map() : readConfigFile(path);
}

/** `-p` / `-m` output: key=value lines a user can save as a config file and load back. */
export function printConfig(entries: Iterable<readonly [string, string]>): void {
  process.stdout.write(stringifyProperties(entries));
}

/** Tells the user how to change each role's port: the flag and the config key. */
export type PortAdvice = Partial<Record<StandaloneRole, string>>;

function isRoleStartError(err: unknown): err is RoleStartError {
  return err instanceof Error && (err as { code?: unknown }).code === 'ROLE_START_FAILED';
}

function errnoOf(err: unknown): NodeJS.ErrnoException | undefined {
  return err instanceof Error && 'code' in err ? (err as NodeJS.ErrnoException) : undefined;
}

/**
 * One line saying what went wrong and what to do, for the failures a user causes and can fix:
 * a bad config value, an unreadable file, a port that is taken or not allowed, an unwritable
 * store. Undefined for anything else (a bug), which the caller reports with its stack.
 * `role` names the server when the error is not a RoleStartError (single-role commands).
 */
export function explainStartupError(err: unknown, ports: PortAdvice, role?: StandaloneRole): string | undefined {
  if (err instanceof ConfigError) return err.message;
  let cause: NodeJS.ErrnoException | undefined;
  if (isRoleStartError(err)) {
    role = err.role;
    cause = errnoOf(err.cause);
  } else {
    cause = errnoOf(err);
  }
  if (!cause || !role) return undefined;
  if (cause.syscall === 'listen') {
    const port = (cause as { port?: unknown }).port;
    const which = typeof port === 'number' ? `port ${port}` : 'its port';
    // The broker's second listener is easy to forget when only listenPort was checked.
    const also = role === 'Broker' ? ' (a broker listens on listenPort and on listenPort - 2)' : '';
    const change = ports[role] ?? 'the listen port setting';
    switch (cause.code) {
      case 'EADDRINUSE':
        return `${role} cannot listen on ${which}${also}: it is already in use. Stop the process using it, or choose another port with ${change}.`;
      case 'EACCES':
        return `${role} cannot listen on ${which}${also}: permission denied (ports below 1024 need privileges). Choose a port from 1024 up with ${change}.`;
      case 'EADDRNOTAVAIL':
        return `${role} cannot listen on ${which}: the address is not one of this machine's. Check the configured IP address.`;
      default:
        return undefined;
    }
  }
  // File system trouble under the store or a config path: the user can fix permissions or paths.
  if (cause.path && ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EISDIR'].includes(cause.code ?? '')) {
    return `${role} failed to start: ${cause.code} on ${cause.path}. Check that the path is a writable directory with free space, or choose another store directory.`;
  }
  return undefined;
}

export interface RunningServer {
  shutdown(): Promise<void>;
}

export interface RunServerOptions {
  /** The command's name, as the user typed it (mqnamesrv, mqbroker, rocketmq-standalone). */
  name: string;
  logger: Logger;
  ports: PortAdvice;
  /** The role a bare start-up error belongs to (commands that run one role). */
  role?: StandaloneRole;
  start: () => Promise<RunningServer>;
  /** A shutdown that takes longer is abandoned with exit code 1 (a hung flush must not hang forever). */
  shutdownTimeoutMs?: number;
}

/**
 * Starts a server and keeps the process alive until SIGINT/SIGTERM, then shuts it down once and
 * exits 0. Further signals during shutdown are ignored: `npm start` forwards the terminal's
 * Ctrl-C to the child, which then receives it twice, and the second must not cut the flush short.
 */
export async function runServer(opts: RunServerOptions): Promise<void> {
  const { name, logger } = opts;
  const die = (what: string) => (err: unknown): void => {
    logger.fatal({ err }, `${name} ${what}: ${err instanceof Error ? err.message : String(err)}; exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', die('crashed on an uncaught exception'));
  process.on('unhandledRejection', die('crashed on an unhandled promise rejection'));

  let server: RunningServer | undefined;
  let signal: NodeJS.Signals | undefined;
  const stop = async (sig: NodeJS.Signals, running: RunningServer): Promise<void> => {
    logger.info(`${sig} received, shutting down ${name}`);
    const limit = opts.shutdownTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      logger.error(`${name} did not finish shutting down within ${limit} ms; exiting anyway (the next start will recover the store)`);
      process.exit(1);
    }, limit);
    timer.unref();
    try {
      await running.shutdown();
    } catch (err) {
      die('failed while shutting down')(err);
      return;
    }
    clearTimeout(timer);
    logger.info(`${name} stopped`);
    process.exit(0);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signal) return;
    signal = sig;
    // A signal during start-up is acted on once start() has settled.
    if (server) void stop(sig, server);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    server = await opts.start();
  } catch (err) {
    const line = explainStartupError(err, opts.ports, opts.role);
    if (line !== undefined) process.stderr.write(`${name}: ${line}\n`);
    // Not a mistake the user can see from here: keep the stack for whoever investigates.
    else logger.fatal({ err }, `${name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  if (signal) await stop(signal, server);
}
