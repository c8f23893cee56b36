import { InvalidArgumentError } from 'commander';
import { randomBytes } from 'node:crypto';
import { masterAddrOf, type MQClientAPI } from '../src/client/index.js';
import type { LatencyHistogram } from './histogram.js';

/** Small shared pieces of the bench: units, printing, polling, flag parsers, topic creation. */

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * 1024 * 1024;

export const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

/** CPU seconds spread over `messages`, as µs per message (null without messages): both benches print it. */
export function usPerMessage(cpuSec: number, messages: number): number | null {
  return messages > 0 ? round((cpuSec * 1e6) / messages, 2) : null;
}
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Progress and notes go to stderr; stdout carries only tables and BENCH_JSON lines. */
export function log(line: string): void {
  process.stderr.write(line + '\n');
}

export type Row = [string, string | number];

export function table(rows: readonly Row[]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** Prints a scenario's table and its one `BENCH_JSON {"scenario":…}` line. */
export function emit(scenario: string, rows: readonly Row[], json: Record<string, unknown>, notes: readonly string[] = []): void {
  console.log(table([['scenario', scenario], ...rows]));
  for (const n of notes) console.log(`note: ${n}`);
  console.log('BENCH_JSON ' + JSON.stringify({ scenario, ...json }));
}

export interface RtStats {
  count: number;
  avg: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function rtStats(h: LatencyHistogram): RtStats {
  return {
    count: h.count,
    avg: round(h.mean(), 3),
    p50: round(h.percentile(0.5), 3),
    p99: round(h.percentile(0.99), 3),
    p999: round(h.percentile(0.999), 3),
    max: round(h.max(), 3),
  };
}

/** Table rows `<what> p50 (ms)` … for a latency histogram. */
export function rtRows(what: string, h: LatencyHistogram, which: ReadonlyArray<'avg' | 'p50' | 'p99' | 'p999' | 'max'> = ['avg', 'p50', 'p99', 'p999', 'max']): Row[] {
  const s = rtStats(h);
  const label = { avg: 'avg', p50: 'p50', p99: 'p99', p999: 'p99.9', max: 'max' } as const;
  return which.map((k) => [`${what} ${label[k]} (ms)`, s[k]]);
}

/** Samples a process's RSS (every 250 ms by default), keeping the peak and the last value. */
export class RssSampler {
  peak = 0;
  last = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly read: () => number | undefined, private readonly periodMs = 250) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const v = this.read();
    if (v === undefined) return;
    this.last = v;
    if (v > this.peak) this.peak = v;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  json(): { peak: number; final: number } | null {
    return this.peak > 0 ? { peak: round(this.peak / MiB, 1), final: round(this.last / MiB, 1) } : null;
  }

  rows(who = 'broker'): Row[] {
    const ok = this.peak > 0;
    return [
      [`${who} RSS peak (MiB)`, ok ? round(this.peak / MiB, 1) : 'n/a'],
      [`${who} RSS final (MiB)`, ok ? round(this.last / MiB, 1) : 'n/a'],
    ];
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, pollMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(pollMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

/** Runs `fn` over `items` with at most `concurrency` calls outstanding. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** The master addresses of the cluster, once at least one broker has registered. */
export async function masterAddrs(api: MQClientAPI, namesrvAddr: string): Promise<string[]> {
  const cluster = await waitFor('a registered broker', async () => {
    const ci = await api.getBrokerClusterInfo(namesrvAddr);
    return Object.keys(ci.brokerAddrTable).length > 0 ? ci : undefined;
  }, 30_000);
  return Object.values(cluster.brokerAddrTable).map(masterAddrOf).filter((a): a is string => a !== undefined);
}

/** UPDATE_AND_CREATE_TOPIC of `topic` with `queues` read/write queues on one broker. */
export function createTopicOn(api: MQClientAPI, brokerAddr: string, topic: string, queues: number): Promise<void> {
  return api.createTopic(brokerAddr, 'TBW102', {
    topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
  });
}

/** Waits until the NameServer has a route for `topic`. */
export async function waitForRoute(api: MQClientAPI, namesrvAddr: string, topic: string, timeoutMs = 35_000): Promise<void> {
  await waitFor(`the route of ${topic}`, async () => {
    const r = await api.getTopicRouteInfoFromNameServer(namesrvAddr, topic);
    return r.queueDatas.length > 0 ? r : undefined;
  }, timeoutMs);
}

/** Creates the topic on every master broker of the cluster and waits until the NameServer routes it. */
export async function createTopic(api: MQClientAPI, namesrvAddr: string, topic: string, queues: number): Promise<void> {
  for (const addr of await masterAddrs(api, namesrvAddr)) await createTopicOn(api, addr, topic, queues);
  await waitForRoute(api, namesrvAddr, topic);
}

/** A body of random letters: realistic, and compressible like upstream's when ≥ 4096 bytes. */
export function makeBody(size: number): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Buffer.from(Array.from(randomBytes(size), (b) => alphabet[b % alphabet.length]).join(''));
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---- flag parsers (commander) ----

export function positiveInt(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v.replace(/[_,]/g, ''));
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

export function choice<T extends string>(values: readonly T[]) {
  return (v: string): T => {
    const u = v.toUpperCase() as T;
    if (!values.includes(u)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return u;
  };
}

/** `1073741824`, `200MiB`, `200M`, `1GiB`, `1g`, `512k` (binary units). */
export function parseBytes(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(v.replace(/[_,]/g, ''));
  if (!m) throw new InvalidArgumentError('expected a size such as 1073741824, 200MiB or 1GiB');
  const mult = { '': 1, k: KiB, m: MiB, g: GiB, t: GiB * 1024 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive size');
  return n;
}

/** `key=value` lines for broker.conf, collected from a repeatable flag. */
export function collectConf(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('expected key=value (a broker.conf line)');
  return { ...prev, [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
}

export function fmtBytes(n: number): string {
  if (n >= GiB) return `${round(n / GiB, 2)} GiB`;
  if (n >= MiB) return `${round(n / MiB, 1)} MiB`;
  if (n >= KiB) return `${round(n / KiB, 1)} KiB`;
  return `${n} B`;
}
