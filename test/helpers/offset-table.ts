import { existsSync, readFileSync } from 'node:fs';

/**
 * The offsetTable of a broker's offsets file (`config/consumerOffset.json`,
 * `config/delayOffset.json`: written whole, by rename), or undefined while there is none.
 */
export function persistedOffsetTable(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as { offsetTable?: Record<string, unknown> }).offsetTable;
}
