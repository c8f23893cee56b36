import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearSql92Cache, compileSql92, compileSql92Uncached, DEFAULT_FILTER_LIMITS, FilterParseError, parseSql92, SQL92_CACHE_SIZE, sql92CacheSize, tryCompileSql92,
} from '../../src/filter/index.js';

function limitError(text: string, limits = DEFAULT_FILTER_LIMITS): FilterParseError {
  try {
    parseSql92(text, limits);
  } catch (e) {
    assert.ok(e instanceof FilterParseError, String(e));
    assert.equal(e.kind, 'limit', e.message);
    return e;
  }
  assert.fail('parsed');
}

test('an expression longer than maxLength is refused, naming the limit', () => {
  const max = DEFAULT_FILTER_LIMITS.maxLength;
  const fits = `a = '${'x'.repeat(max - 6)}'`;
  assert.equal(fits.length, max);
  parseSql92(fits);
  const e = limitError(`a = '${'x'.repeat(max - 5)}'`);
  assert.match(e.message, new RegExp(`${max + 1} characters, the limit is ${max}`));
  assert.equal(e.column, max + 1);
});

test('more nodes than maxNodes is refused, naming the limit', () => {
  // Each `aN = N` is 3 nodes, plus one for the OR list.
  const terms = (n: number) => Array.from({ length: n }, (_, i) => `a${i} = ${i}`).join(' OR ');
  const fitting = Math.floor((DEFAULT_FILTER_LIMITS.maxNodes - 1) / 3);
  parseSql92(terms(fitting));
  const e = limitError(terms(fitting + 1));
  assert.match(e.message, new RegExp(`more than ${DEFAULT_FILTER_LIMITS.maxNodes} nodes`));
});

test('BETWEEN repeats its operand: the node count is what evaluation does, so nesting cannot blow up', () => {
  // Each level evaluates the one inside twice: 2^k work from a short text.
  let e = 'a';
  for (let k = 0; k < 12; k++) e = `-(${e} BETWEEN 1 AND 2)`;
  const text = `${e} > 0`;
  assert.ok(text.length < 400);
  assert.match(limitError(text).message, /nodes/);
});

test('nesting deeper than maxDepth is refused: parentheses, unary operators, chained comparisons', () => {
  const d = DEFAULT_FILTER_LIMITS.maxDepth;
  parseSql92(`${'('.repeat(d - 1)}a = 1${')'.repeat(d - 1)}`);
  const deepParens = limitError(`${'('.repeat(d + 1)}a = 1${')'.repeat(d + 1)}`);
  assert.match(deepParens.message, new RegExp(`more than ${d} levels`));
  assert.equal(deepParens.column, d + 1);
  assert.match(limitError(`${'NOT '.repeat(d + 1)}a`).message, /levels/);
  assert.match(limitError(`a = ${'- '.repeat(d + 1)}1`).message, /levels/);
  assert.match(limitError(`a = 1${' = TRUE'.repeat(d + 1)}`).message, /levels/);
  // A very deep text is refused without exhausting the stack.
  assert.match(limitError('('.repeat(8000)).message, /levels/);
  // Long AND / OR chains are flat, not deep.
  parseSql92(Array.from({ length: 200 }, (_, i) => `a${i} IS NULL`).join(' AND '));
});

test('an IN list longer than maxInListSize is refused at the first string over, naming the limit', () => {
  const list = (n: number) => `a IN (${Array.from({ length: n }, (_, i) => `'${i}'`).join(',')})`;
  parseSql92(list(DEFAULT_FILTER_LIMITS.maxInListSize));
  const text = list(DEFAULT_FILTER_LIMITS.maxInListSize + 1);
  const e = limitError(text);
  assert.match(e.message, new RegExp(`more than ${DEFAULT_FILTER_LIMITS.maxInListSize} strings`));
  assert.equal(e.offset, text.lastIndexOf("'1024'"));
});

test('limits can be tightened per call', () => {
  const limits = { maxLength: 20, maxNodes: 5, maxDepth: 3, maxInListSize: 2 };
  assert.match(limitError('a = 1 AND b = 2 AND c = 3', limits).message, /too long/);
  assert.match(limitError('a = 1 AND b = 2', limits).message, /5 nodes/);
  assert.match(limitError('NOT NOT NOT (a = 1)', limits).message, /3 levels/);
  assert.match(limitError("a IN ('1','2','3')", limits).message, /2 strings/);
  compileSql92Uncached("a IN ('1','2')", limits);
});

test('the compiled-expression cache: keyed by text, failures cached too, bounded, least recently used evicted', () => {
  clearSql92Cache();
  const a = compileSql92("x = 'a'");
  assert.equal(compileSql92("x = 'a'"), a, 'same instance from the cache');
  assert.notEqual(compileSql92("x = 'a' "), a, 'keyed by the exact text');
  const bad = tryCompileSql92('x = ');
  assert.ok(bad.error);
  assert.equal(tryCompileSql92('x = ').error, bad.error, 'the failure is cached');
  assert.throws(() => compileSql92('x = '), FilterParseError);
  const old = compileSql92("x = 'old'");
  for (let i = 0; i < SQL92_CACHE_SIZE * 2; i++) {
    compileSql92(`n = ${i}`);
    compileSql92("x = 'a'"); // kept warm
  }
  assert.equal(sql92CacheSize(), SQL92_CACHE_SIZE);
  assert.equal(compileSql92("x = 'a'"), a, 'a recently used entry survives');
  assert.notEqual(compileSql92("x = 'old'"), old, 'the least recently used entry was evicted');
  // Texts over the length limit are answered but not kept.
  clearSql92Cache();
  assert.ok(tryCompileSql92('a'.repeat(DEFAULT_FILTER_LIMITS.maxLength + 1)).error);
  assert.equal(sql92CacheSize(), 0);
});

test('compiled expressions list the properties they read', () => {
  const c = compileSql92Uncached("TAGS = 'x' AND (a > 1 OR b IN ('y')) AND c IS NULL AND d CONTAINS 'z'");
  assert.deepEqual([...c.properties].sort(), ['TAGS', 'a', 'b', 'c', 'd']);
});
