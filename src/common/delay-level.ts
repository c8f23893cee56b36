/**
 * Delay levels (upstream `messageDelayLevel`, default `1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m
 * 10m 20m 30m 1h 2h`): level n (1-based) waits the n-th duration. Units s, m, h, d.
 */
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses the level list into milliseconds; throws with the offending item when malformed. */
export function parseDelayLevels(text: string): number[] {
  const out: number[] = [];
  for (const item of text.trim().split(/\s+/)) {
    const m = /^(\d+)([smhd])$/.exec(item);
    if (!m) throw new Error(`messageDelayLevel item "${item}" is not a number followed by s, m, h or d`);
    out.push(Number(m[1]) * UNIT_MS[m[2]!]!);
  }
  return out;
}

/** The delay level of a consume retry after `reconsumeTimes` attempts (upstream: 3 + reconsumeTimes, 10 s first). */
export function retryDelayLevel(reconsumeTimes: number): number {
  return 3 + reconsumeTimes;
}

/** Delay of `level` in ms: levels above the highest are clamped to it, as upstream. */
export function delayOfLevel(levels: readonly number[], level: number): number {
  if (level <= 0 || levels.length === 0) return 0;
  return levels[Math.min(level, levels.length) - 1]!;
}
