#!/usr/bin/env node
import { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { choice, collectConf, fmtBytes, fmtDuration, fmtInt, GiB, log, parseBytes, positiveInt, table } from './common.js';
import { defaultRun } from './default-run.js';
import { findScenario, SCENARIOS, type OptionKey, type Scenario, type ScenarioOptions } from './scenarios/index.js';
import { disposeAllChildren } from './standalone-child.js';

/**
 * `npm run bench -- [scenario] [flags]`. Without a scenario: the classic run (timed sends, then a
 * drain) against a standalone child or an existing system. With one: that scenario against its own
 * standalone child, printing a table and one `BENCH_JSON {"scenario":…}` line. `--all` runs them all
 * with quick defaults.
 */

const GLOBAL_DEFAULTS: ScenarioOptions = {
  producers: 4,
  inflight: 256,
  size: 1024,
  duration: 10,
  warmup: 3,
  queues: 8,
  pullBatch: 32,
  pullInflight: 1,
  serialize: 'ROCKETMQ',
  flush: 'ASYNC_FLUSH',
  backlog: 1_000_000,
  messages: 100_000_000,
  window: 10,
  pulls: 200,
  topics: 1000,
  bytes: GiB,
  fillBatch: 32,
  idleSettle: 5,
  brokerConf: {},
  tmp: undefined,
  keepStore: false,
};

/** Commander attribute → ScenarioOptions key, for flags that scenarios read. */
const FLAG_KEYS: Record<string, OptionKey> = {
  producers: 'producers', totalInflight: 'inflight', size: 'size', duration: 'duration', warmup: 'warmup', queues: 'queues', pullBatch: 'pullBatch', pullInflight: 'pullInflight',
  serialize: 'serialize', flush: 'flush', backlog: 'backlog', messages: 'messages', window: 'window', pulls: 'pulls', topics: 'topics',
  bytes: 'bytes', fillBatch: 'fillBatch', idleSettle: 'idleSettle', brokerConf: 'brokerConf', tmp: 'tmp', keepStore: 'keepStore', autoBatch: 'autoBatch', autoBatchBytes: 'autoBatchBytes',
};

/** How a value reads in --help and the --all notes. */
function show(key: OptionKey, v: unknown): string {
  if (key === 'bytes' && typeof v === 'number') return fmtBytes(v);
  if (typeof v === 'number') return fmtInt(v);
  return String(v);
}

const FLAG_OF: Partial<Record<OptionKey, string>> = { inflight: '--total-inflight', pullBatch: '--pull-batch', pullInflight: '--pull-inflight', fillBatch: '--fill-batch', idleSettle: '--idle-settle', autoBatch: '--auto-batch', autoBatchBytes: '--auto-batch-bytes' };
const flagOf = (k: OptionKey): string => FLAG_OF[k] ?? `--${k}`;

function scenarioHelp(): string {
  const lines = ['', 'Scenarios (each starts its own standalone child and prints a table and one BENCH_JSON line):'];
  for (const s of SCENARIOS) {
    lines.push(`  ${s.name.padEnd(8)} ${s.summary}`);
    const d = Object.entries(s.defaults ?? {}).map(([k, v]) => `${flagOf(k as OptionKey)} ${show(k as OptionKey, v)}`);
    const q = Object.entries(s.quick ?? {}).map(([k, v]) => `${flagOf(k as OptionKey)} ${show(k as OptionKey, v)}`);
    if (d.length) lines.push(`           defaults: ${d.join(', ')}`);
    if (q.length) lines.push(`           with --all: ${q.join(', ')}`);
  }
  lines.push(
    '',
    'Without a scenario: the classic run — send for --duration from --producers × --inflight, then drain —',
    'against a standalone child, or an existing system with --namesrv (and --broker-pid for its RSS).',
    '',
    'Examples:',
    '  npm run bench -- async',
    '  npm run bench -- drain --backlog 100000',
    '  npm run bench -- backlog --messages 1000000',
    '  npm run bench -- restart --bytes 200MiB',
    '  npm run bench -- topics --topics 100 --duration 5',
    '  npm run bench -- --all',
  );
  return lines.join('\n');
}

const program = new Command('bench')
  .description('RocketMQ benchmark: scenarios against a standalone child process, or the classic send/consume run')
  .argument('[scenario]', `one of ${SCENARIOS.map((s) => s.name).join(', ')}; none = the classic run`)
  .option('--all', 'run every scenario with quick defaults (~10 minutes; flags given still apply)')
  .option('--dry-run', 'scenarios: print the resolved options of each scenario and exit')
  .option('--producers <n>', 'producer instances, one connection each (default 4; single: 1)', positiveInt('--producers'))
  .option('--total-inflight <n>', 'scenarios: outstanding sends in total, spread over the producers (default 256; single: 1)', positiveInt('--total-inflight'))
  .option('--inflight <n>', 'classic run: outstanding sends per producer (default 64); with a scenario: total = producers × n', positiveInt('--inflight'))
  .option('--size <bytes>', 'message body size (default 1024; backlog: 128)', positiveInt('--size'))
  .option('--duration <seconds>', 'length of each timed send phase (default 10)', positiveInt('--duration'))
  .option('--warmup <seconds>', 'scenarios: the same load, untimed, before each timed send phase (default 3; 0 = none)', positiveInt('--warmup', 0))
  .option('--queues <n>', 'queues per topic, created on every master first (default 8; classic run: 0 = rely on auto-creation)', positiveInt('--queues', 0))
  .option('--pull-batch <n>', 'messages per pull (default 32)', positiveInt('--pull-batch'))
  .option('--pull-inflight <n>', 'drain: pulls outstanding per queue, each at the offset the one before it ends at (default 1, as upstream consumers keep)', positiveInt('--pull-inflight'))
  .option('--flush <type>', 'flushDiskType of the child broker: ASYNC_FLUSH or SYNC_FLUSH (default ASYNC_FLUSH; async/sync set their own)', choice(['ASYNC_FLUSH', 'SYNC_FLUSH'] as const))
  .option('--serialize <type>', 'request header serialization: ROCKETMQ or JSON (default ROCKETMQ)', choice(['ROCKETMQ', 'JSON'] as const))
  .option('--backlog <n>', 'drain: messages in the backlog (default 1,000,000)', positiveInt('--backlog'))
  .option('--messages <n>', 'backlog: messages to hold (default 100,000,000 — hours; progress on stderr)', positiveInt('--messages'))
  .option('--window <seconds>', 'backlog: TPS window at the start and at the end (default 10)', positiveInt('--window'))
  .option('--pulls <n>', 'backlog: pulls at random old offsets (default 200)', positiveInt('--pulls'))
  .option('--topics <n>', 'topics: how many topics (default 1000)', positiveInt('--topics'))
  .option('--bytes <size>', 'restart: CommitLog bytes to fill, e.g. 200MiB, 1GiB (default 1GiB)', parseBytes)
  .option('--fill-batch <n>', 'drain, restart: messages per send while filling, untimed (default 32; 1 = single sends)', positiveInt('--fill-batch'))
  .option('--idle-settle <seconds>', 'restart: idle time of a fresh standalone before its RSS is read (default 5)', positiveInt('--idle-settle', 0))
  .option('--broker-conf <key=value>', 'scenarios: extra broker.conf line for the child (repeatable), e.g. hotTailCacheBytes=16777216', collectConf)
  .option('--auto-batch <ms>', 'scenarios: producers batch single sends made close together (upstream autoBatch) with this batchMaxDelayMs; 0 = the sends of one event-loop turn (default: off)', positiveInt('--auto-batch', 0))
  .option('--auto-batch-bytes <size>', 'scenarios, with --auto-batch: batchMaxBytes, e.g. 64KiB (default 32KiB, as upstream)', parseBytes)
  .option('--tmp <dir>', 'scenarios: parent directory of the child stores (default: the OS temp dir)')
  .option('--keep-store', 'scenarios: leave the child directories (store, broker.conf, log) in place')
  .option('--topic <name>', 'classic run: topic (default BenchmarkTest-<timestamp>)')
  .option('--namesrv <addr>', 'classic run: use an existing system at this NameServer instead of starting one')
  .option('--broker-pid <pid>', 'classic run with --namesrv: sample this process for broker RSS', positiveInt('--broker-pid'))
  .option('--no-consume', 'classic run: skip the consume phase')
  .addHelpText('after', scenarioHelp())
  .showHelpAfterError('(run with --help for usage)')
  .allowExcessArguments(false);

program.parse();

const raw = program.opts<Record<string, unknown>>();
const fromCli = (attr: string): boolean => program.getOptionValueSource(attr) === 'cli';
const scenarioName = program.args[0];

function fail(msg: string): never {
  program.error(`error: ${msg}`);
  throw new Error(msg);
}

/** Resolved options of one scenario: flag › --all quick value › scenario default › global default. */
function resolve(s: Scenario, quick: boolean): ScenarioOptions {
  const o = { ...GLOBAL_DEFAULTS, ...s.defaults, ...(quick ? s.quick : {}) } as Record<OptionKey, unknown>;
  for (const [attr, key] of Object.entries(FLAG_KEYS)) if (fromCli(attr)) o[key] = raw[attr];
  if (fromCli('inflight') && !fromCli('totalInflight')) o.inflight = (o.producers as number) * (raw.inflight as number);
  return o as unknown as ScenarioOptions;
}

/** The --all values that differ from a scenario's normal defaults and no flag overrode. */
function shrunk(s: Scenario): string[] {
  const out: string[] = [];
  const normal = { ...GLOBAL_DEFAULTS, ...s.defaults } as Record<OptionKey, unknown>;
  for (const [k, v] of Object.entries(s.quick ?? {})) {
    const key = k as OptionKey;
    const attr = Object.keys(FLAG_KEYS).find((a) => FLAG_KEYS[a] === key)!;
    if (fromCli(attr)) continue;
    out.push(`${s.name}: ${flagOf(key)} ${show(key, normal[key])} → ${show(key, v)}`);
  }
  return out;
}

async function runScenarios(list: readonly Scenario[], quick: boolean): Promise<void> {
  if (quick) {
    const notes = list.flatMap(shrunk);
    console.log(notes.length ? `note: --all shrinks these defaults: ${notes.join('; ')}` : 'note: --all: no default shrunk (flags given override the quick values)');
  }
  if (raw.dryRun) {
    for (const s of list) console.log(`${s.name}: ${JSON.stringify(resolve(s, quick))}`);
    return;
  }
  const summary: Array<[string, string]> = [];
  for (const s of list) {
    const o = resolve(s, quick);
    if (!quick && s.name !== 'restart' && s.name !== 'drain' && fromCli('fillBatch')) log(`note: --fill-batch does not apply to ${s.name}`);
    if (!quick && s.name !== 'drain' && fromCli('pullInflight')) log(`note: --pull-inflight does not apply to ${s.name}`);
    log(`\n=== ${s.name}: ${s.summary}`);
    const t0 = performance.now();
    try {
      await s.run(o);
      summary.push([s.name, `ok in ${fmtDuration((performance.now() - t0) / 1000)}`]);
    } catch (err) {
      if (list.length === 1) throw err;
      process.exitCode = 1;
      summary.push([s.name, `FAILED after ${fmtDuration((performance.now() - t0) / 1000)}: ${(err as Error).message.split('\n')[0]}`]);
      log(`${s.name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
    console.log('');
  }
  if (list.length > 1) console.log(table(summary));
}

async function main(): Promise<void> {
  const onSignal = (): void => {
    void disposeAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (raw.all || scenarioName !== undefined) {
      if (raw.all && scenarioName !== undefined) fail('give a scenario or --all, not both');
      for (const f of ['namesrv', 'brokerPid', 'topic', 'consume']) {
        if (fromCli(f)) fail(`--${f === 'consume' ? 'no-consume' : f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies to the classic run only (scenarios start their own standalone child)`);
      }
      if (fromCli('queues') && raw.queues === 0) fail('--queues 0 (auto-creation) applies to the classic run only');
      if (fromCli('autoBatchBytes') && !fromCli('autoBatch')) fail('--auto-batch-bytes needs --auto-batch <ms> (autoBatch is off without it)');
      if (raw.all) {
        await runScenarios(SCENARIOS, true);
      } else {
        const s = findScenario(scenarioName!);
        if (!s) fail(`unknown scenario "${scenarioName}"; one of ${SCENARIOS.map((x) => x.name).join(', ')}`);
        await runScenarios([s], false);
      }
      return;
    }
    for (const f of ['dryRun', 'totalInflight', 'warmup', 'backlog', 'messages', 'window', 'pulls', 'topics', 'bytes', 'fillBatch', 'idleSettle', 'brokerConf', 'tmp', 'keepStore', 'autoBatch', 'autoBatchBytes']) {
      if (fromCli(f)) fail(`--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} applies to scenarios only`);
    }
    await defaultRun({
      producers: (raw.producers as number | undefined) ?? 4,
      inflight: (raw.inflight as number | undefined) ?? 64,
      size: (raw.size as number | undefined) ?? 1024,
      duration: (raw.duration as number | undefined) ?? 10,
      topic: raw.topic as string | undefined,
      flush: (raw.flush as 'ASYNC_FLUSH' | 'SYNC_FLUSH' | undefined) ?? 'ASYNC_FLUSH',
      namesrv: raw.namesrv as string | undefined,
      queues: (raw.queues as number | undefined) ?? 8,
      pullBatch: (raw.pullBatch as number | undefined) ?? 32,
      pullInflight: (raw.pullInflight as number | undefined) ?? 1,
      consume: raw.consume !== false,
      serialize: (raw.serialize as 'ROCKETMQ' | 'JSON' | undefined) ?? 'ROCKETMQ',
      brokerPid: raw.brokerPid as number | undefined,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
