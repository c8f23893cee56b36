import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Golden data lives in ../shared/fixtures beside the checkout (present in CI), never copied here. */
export const FIXTURES_DIR = resolve(process.cwd(), '..', 'shared', 'fixtures');

export function hasFixtures(): boolean {
  return existsSync(FIXTURES_DIR);
}

export function readFixture(...parts: string[]): Buffer {
  return readFileSync(join(FIXTURES_DIR, ...parts));
}
