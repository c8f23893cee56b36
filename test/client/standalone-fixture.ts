import { before, after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real NameServer + Broker in this process (src/standalone.ts) for the client's end-to-end tests.

export interface Standalone {
  namesrvAddr: string;
  brokerAddr: string;
  shutdown(): Promise<void>;
}
/** Extra settings for the roles (as `startStandalone` takes them). */
export interface StandaloneSettings {
  brokerConfig?: Record<string, unknown>;
  storeConfig?: Record<string, unknown>;
}
type StartStandalone = (opts: { storeDir: string; ports: { namesrv: number; broker: number } } & StandaloneSettings) => Promise<Standalone>;

// Loaded at run time so the tests compile while the standalone module is being written.
const standalonePath = '../../src/standalone.js';
let startStandalone: StartStandalone | undefined;
try {
  startStandalone = ((await import(standalonePath)) as { startStandalone: StartStandalone }).startStandalone;
} catch {
  startStandalone = undefined;
}

/** The `skip` option of the tests that need the standalone: why they cannot run, or false. */
export const skip = startStandalone ? false : 'src/standalone.ts is not available';

export interface StandaloneHooks {
  /** Runs once the NameServer and the Broker are up: create the clients here. */
  started?(mq: Standalone): Promise<void> | void;
  /** Runs before they stop: shut the clients down here. */
  stopping?(): Promise<void> | void;
}

/**
 * Registers `before`/`after` hooks that run a standalone NameServer + Broker on free ports over
 * a temporary store directory (prefixed `tmpPrefix`), removed afterwards, with `settings` on top
 * of the defaults. Does nothing when the
 * standalone module is not available (the tests are then skipped, see `skip`).
 */
export function useStandalone(tmpPrefix: string, hooks: StandaloneHooks = {}, settings: StandaloneSettings = {}): void {
  const start = startStandalone;
  if (!start) return;
  let mq: Standalone | undefined;
  let storeDir: string | undefined;
  before(async () => {
    storeDir = mkdtempSync(join(tmpdir(), tmpPrefix));
    mq = await start({ storeDir, ports: { namesrv: 0, broker: 0 }, ...settings });
    await hooks.started?.(mq);
  });
  after(async () => {
    await hooks.stopping?.();
    await mq?.shutdown();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });
}
