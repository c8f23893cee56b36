import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One process-wide root logger; each role takes a child named after it. The level comes from
 * `ROCKETMQ_LOG_LEVEL` (default `info`; the test runner sets `warn`).
 */
const root: Logger = pino({
  level: process.env.ROCKETMQ_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
  // Synchronous writes: a server logs little, and lines must come out in the order they were
  // logged even when a signal handler logs and exits (an async buffer reordered them).
}, pino.destination({ dest: 1, sync: true }));

export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ name, ...bindings });
}
