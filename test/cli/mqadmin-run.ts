import assert from 'node:assert/strict';
import { runMqadmin } from '../../src/cli/mqadmin.js';

// Runs mqadmin in-process, as a user's shell would (without NAMESRV_ADDR from the test's own
// environment), for the mqadmin tests.

export interface Run { code: number; out: string; err: string }

export async function mqadmin(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const env = { ...process.env };
  delete env.NAMESRV_ADDR;
  const code = await runMqadmin(args, { out: (t) => { out += t; }, err: (t) => { err += t; }, env });
  return { code, out, err };
}

/** Runs a command that must succeed; its stdout. */
export async function ok(...args: string[]): Promise<string> {
  const r = await mqadmin(...args);
  assert.equal(r.code, 0, `mqadmin ${args.join(' ')} failed: ${r.err}`);
  return r.out;
}

/** Runs a command that must fail: exit 1, nothing on stdout, one line on stderr matching `why`. */
export async function fails(why: RegExp, ...args: string[]): Promise<void> {
  const r = await mqadmin(...args);
  assert.equal(r.code, 1, `mqadmin ${args.join(' ')} should fail: ${r.out}`);
  assert.match(r.err, why);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}

/** Rows of a column table, split on runs of spaces. */
export function rows(out: string): string[][] {
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/));
}
