import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSql92Uncached, FilterEvalError } from '../../src/filter/index.js';

type Props = Record<string, string>;

/** true / false / null (unknown) / 'error' (upstream throws; the broker treats it as no match). */
function ev(expr: string, props: Props = {}): boolean | null | 'error' {
  const c = compileSql92Uncached(expr);
  const map = new Map(Object.entries(props));
  let r: boolean | null | 'error';
  try {
    r = c.evaluate(map);
  } catch (e) {
    assert.ok(e instanceof FilterEvalError, String(e));
    r = 'error';
  }
  assert.equal(c.matches(map), r === true, `matches() agrees with evaluate() for ${expr}`);
  return r;
}

test('a missing property is unknown: comparisons never match, IS NULL does', () => {
  for (const e of ["a = 'x'", 'a = 1', 'a <> 1', "a <> 'x'", 'a > 1', 'a >= 1', 'a < 1', 'a <= 1', 'a BETWEEN 1 AND 2', 'a NOT BETWEEN 1 AND 2',
    "a IN ('x')", "a NOT IN ('x')", 'NOT (a = 1)', 'a', 'NOT a']) {
    assert.equal(ev(e), null, e);
  }
  assert.equal(ev('a IS NULL'), true);
  assert.equal(ev('a IS NOT NULL'), false);
  assert.equal(ev('a IS NULL', { a: '' }), false, 'an empty value is still a value');
  assert.equal(ev('a IS NOT NULL', { a: 'v' }), true);
  // The string tests are false (not unknown) for a missing property, NOT forms included.
  for (const e of ["a CONTAINS 'x'", "a NOT CONTAINS 'x'", "a STARTSWITH 'x'", "a NOT STARTSWITH 'x'", "a ENDSWITH 'x'", "a NOT ENDSWITH 'x'"]) {
    assert.equal(ev(e), false, e);
  }
});

test("upstream's asymmetries with a missing property", () => {
  // `=` with only the right side missing is false, not unknown, so its negation matches.
  assert.equal(ev("'x' = a"), false);
  assert.equal(ev("'x' <> a"), true);
  // Two missing properties are equal (null == null upstream).
  assert.equal(ev('a = b'), true);
  assert.equal(ev('a = b', { b: '1' }), null);
  assert.equal(ev('a = b', { a: '1' }), false);
  assert.equal(ev("a <> 'x'"), null);
  // CONTAINS on a missing property is false, so NOT (...) matches while NOT CONTAINS does not.
  assert.equal(ev("NOT (a CONTAINS 'x')"), true);
  assert.equal(ev("a NOT CONTAINS 'x'"), false);
});

test('three-valued AND / OR / NOT', () => {
  assert.equal(ev('a = 1 OR TRUE'), true);
  assert.equal(ev('a = 1 OR FALSE'), null);
  assert.equal(ev('a = 1 AND FALSE'), false);
  assert.equal(ev('a = 1 AND TRUE'), null);
  assert.equal(ev('NOT (a = 1 AND TRUE)'), null);
  assert.equal(ev('NULL'), null);
  assert.equal(ev('NOT NULL'), null);
  assert.equal(ev('TRUE AND NOT FALSE'), true);
  assert.equal(ev("a IS NULL OR a = 'hello'"), true);
  assert.equal(ev("a IS NULL OR a = 'hello'", { a: 'hello' }), true);
  assert.equal(ev("a IS NULL OR a = 'hello'", { a: 'abc' }), false);
  assert.equal(ev("a is not null and a='hello'", { a: 'hello' }), true);
  assert.equal(ev('a=3 and b<>4 And c>5 AND d<=4', { a: '3', b: '5', c: '6', d: '1' }), true);
  assert.equal(ev('a=3 and b<>4 And c>5 AND d<=4', { a: '4', b: '5', c: '6', d: '1' }), false);
  assert.equal(ev('a=3 or b<>4 Or c>5 OR d<=4', { a: '4', b: '4', c: '3', d: '2' }), true);
  assert.equal(ev('a=3 or b<>4 Or c>5 OR d<=4', { a: '4', b: '4', c: '3', d: '10' }), false);
});

test('a string property compared with a number is converted to that number type', () => {
  assert.equal(ev('a = 5', { a: '5' }), true);
  assert.equal(ev('a = 5', { a: '+5' }), true);
  assert.equal(ev('5 = a', { a: '5' }), true);
  assert.equal(ev('a = 5.0', { a: '5' }), true);
  assert.equal(ev('a = 5.0', { a: '5.00' }), true);
  assert.equal(ev('a = 5.0', { a: '5e0' }), true);
  assert.equal(ev('a = 5', { a: '6' }), false);
  assert.equal(ev('a > 4', { a: '5' }), true);
  assert.equal(ev('a < 4', { a: '-5' }), true);
  assert.equal(ev('a > -6', { a: '-5' }), true);
  assert.equal(ev('a > 3.14', { a: '3.1415' }), true);
  assert.equal(ev('a > 3.1E10', { a: String(3.1415 * 10 ** 10) }), true);
  // An int literal parses the property as a Java int: decimals, spaces, overflow are errors.
  assert.equal(ev('a > 5', { a: '5.5' }), 'error');
  assert.equal(ev('a = 5', { a: ' 5' }), 'error');
  assert.equal(ev('a = 5', { a: 'abc' }), 'error');
  assert.equal(ev('a = 5', { a: '' }), 'error');
  assert.equal(ev('a = 1', { a: '2147483648' }), 'error');
  // ...a long literal as a Java long, a double literal as a Java double (spaces and a d/f suffix allowed).
  assert.equal(ev('a < 2147483648', { a: '2147483647' }), true);
  assert.equal(ev('a = 9223372036854775807', { a: '9223372036854775807' }), true);
  assert.equal(ev('a = 9223372036854775806', { a: '9223372036854775807' }), false, 'longs compare exactly');
  assert.equal(ev('a = 2147483648', { a: '9223372036854775808' }), 'error');
  assert.equal(ev('a = 7.5', { a: ' 7.5 ' }), true);
  assert.equal(ev('a = 7.5', { a: '7.5d' }), true);
  assert.equal(ev('a = 7.5', { a: '7.5F' }), true);
  assert.equal(ev('a > 1.5', { a: 'NaN' }), true, 'Java orders NaN above every number');
  assert.equal(ev('a = 1.5', { a: 'x1.5' }), 'error');
  // An int meets a double: widened.
  assert.equal(ev('5 = 5.0'), true);
  assert.equal(ev('2147483648 > 5'), true);
  assert.equal(ev('a BETWEEN 1 AND 2.5', { a: '2.4' }), 'error', 'the int bound parses the property as an int first');
  assert.equal(ev('a BETWEEN 1.5 AND 2.5', { a: '2' }), true);
});

test('two strings: = compares text; > >= < <= compare them as numbers or fail', () => {
  assert.equal(ev("a = 'abc'", { a: 'abc' }), true);
  assert.equal(ev("a = 'abc'", { a: 'ABC' }), false);
  assert.equal(ev("a = '5'", { a: '5.0' }), false);
  assert.equal(ev('a = b', { a: '3.14', b: '3.14' }), true);
  assert.equal(ev('a <> b', { a: '3.14', b: '3.141' }), true);
  assert.equal(ev('a > b', { a: '10', b: '9' }), true, 'numerically, not "10" < "9"');
  assert.equal(ev('a > b', { a: '10', b: '20' }), false);
  assert.equal(ev('a > b', { a: 'x', b: 'y' }), 'error');
  assert.equal(ev('a between up and low', { a: '3.14', up: 'up', low: 'low' }), 'error');
  assert.equal(ev('key is not null and key between 0 and 100', { key: 'con' }), 'error');
});

test('booleans: a property compared with TRUE / FALSE is true only for "true" in any case', () => {
  assert.equal(ev('a = TRUE', { a: 'true' }), true);
  assert.equal(ev('a = TRUE', { a: 'TRUE' }), true);
  assert.equal(ev('a = TRUE', { a: 'yes' }), false);
  assert.equal(ev('a = FALSE', { a: 'anything' }), true);
  assert.equal(ev('a=TRUE OR b=FALSE', { a: 'true', b: 'false' }), true);
  assert.equal(ev('a=TRUE OR b=FALSE', { a: 'false', b: 'true' }), false);
  assert.equal(ev('1 = TRUE'), false, 'no conversion between numbers and booleans');
  // A property used as a condition is never true: its value is a string.
  assert.equal(ev('a', { a: 'true' }), false);
  assert.equal(ev('NOT a', { a: 'true' }), true);
  // NOT binds tighter than =: (NOT a) = 'x' compares a boolean with a string, which fails upstream.
  assert.equal(ev("NOT a = 'x'", { a: 'y' }), 'error');
});

test('unary minus: numbers are negated, a property is not a number', () => {
  assert.equal(ev('a = -5', { a: '-5' }), true);
  assert.equal(ev('a = - -5', { a: '5' }), true);
  assert.equal(ev('a > -2147483648', { a: '0' }), true);
  assert.equal(ev('-a = -5', { a: '5' }), null);
  assert.equal(ev('a = -1.5', { a: '-1.5' }), true);
});

test('BETWEEN is inclusive; NOT BETWEEN is its complement for values', () => {
  for (const [v, inside] of [['1', false], ['2', true], ['3', true], ['10', true], ['11', false]] as const) {
    assert.equal(ev('a between 2 and 10', { a: v }), inside, `between ${v}`);
    assert.equal(ev('a not between 2 and 10', { a: v }), !inside, `not between ${v}`);
  }
  assert.equal(ev('a BETWEEN b AND c', { a: '5', b: '1', c: '9' }), true);
  assert.equal(ev('a BETWEEN 0 AND 100', { a: 'abc' }), 'error');
});

test('IN / NOT IN compare the text exactly', () => {
  assert.equal(ev("a in ('3', '4', '5')", { a: '4' }), true);
  assert.equal(ev("a in ('3', '4', '5')", { a: '8' }), false);
  assert.equal(ev("a in ('3', '4', '5')", { a: '4.0' }), false);
  assert.equal(ev("a not in ('3', '4', '5')", { a: '8' }), true);
  assert.equal(ev("a not in ('3', '4', '5')", { a: '3' }), false);
  assert.equal(ev("a in ('it''s')", { a: "it's" }), true);
  const many = Array.from({ length: 100 }, (_, i) => `'v${i}'`).join(',');
  assert.equal(ev(`a IN (${many})`, { a: 'v99' }), true);
  assert.equal(ev(`a IN (${many})`, { a: 'v100' }), false);
});

test('CONTAINS / STARTSWITH / ENDSWITH', () => {
  const props = { value: 'axb' };
  assert.equal(ev("value contains 'x'", props), true);
  assert.equal(ev("value startswith 'ax'", props), true);
  assert.equal(ev("value endswith 'xb'", props), true);
  assert.equal(ev("value not contains 'x'", props), false);
  assert.equal(ev("value not startswith 'ax'", props), false);
  assert.equal(ev("value not endswith 'xb'", props), false);
  assert.equal(ev("value contains 'u'", props), false);
  assert.equal(ev("value not contains 'u'", props), true);
  assert.equal(ev("value not startswith 'x'", props), true);
  assert.equal(ev("value not endswith 'x'", props), true);
  // An empty search string never matches, NOT forms included.
  for (const e of ["value contains ''", "value startswith ''", "value endswith ''", "value not contains ''", "value not startswith ''", "value not endswith ''"]) {
    assert.equal(ev(e, props), false, e);
  }
  assert.equal(ev("' ' contains ' '"), true);
  assert.equal(ev("'axb' contains '.'"), false);
  assert.equal(ev("'s' contains '\\'"), false);
  assert.equal(ev("value CONTAINS 'X'", props), false, 'case-sensitive');
  assert.equal(ev("a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", { a: '3', b: '3', c: 'axbdc' }), true);
});

test('TAGS is an ordinary property', () => {
  assert.equal(ev("TAGS = 'TagA' AND price > 100", { TAGS: 'TagA', price: '150' }), true);
  assert.equal(ev("TAGS = 'TagA' AND price > 100", { TAGS: 'TagB', price: '150' }), false);
  assert.equal(ev("TAGS is not null and TAGS='''''tag'''''", { TAGS: "''tag''" }), true);
});

test('an evaluation error aborts the whole expression (upstream throws), unless short-circuited first', () => {
  assert.equal(ev("a = 5 OR b = 'x'", { a: 'abc', b: 'x' }), 'error');
  assert.equal(ev("b = 'x' OR a = 5", { a: 'abc', b: 'x' }), true);
  assert.equal(ev("b = 'y' AND a = 5", { a: 'abc', b: 'x' }), false);
});
