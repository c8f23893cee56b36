import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterParseError, parseSql92, tokenize } from '../../src/filter/index.js';
import { show } from './show.js';

function p(text: string): string {
  return show(parseSql92(text));
}

/** 0-based offset of a 1-based line and column. */
function offsetOf(text: string, line: number, column: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const m = /\r\n|\r|\n/.exec(text.slice(at));
    assert.ok(m, 'line out of range');
    at += m.index + m[0].length;
  }
  return at + column - 1;
}

function parseError(text: string): FilterParseError {
  try {
    parseSql92(text);
  } catch (e) {
    assert.ok(e instanceof FilterParseError, `not a FilterParseError: ${String(e)}`);
    return e;
  }
  assert.fail(`${JSON.stringify(text)} parsed`);
}

test('comparison operators', () => {
  assert.equal(p('a = 1'), '(= a 1)');
  assert.equal(p('a <> 1'), '(NOT (= a 1))');
  assert.equal(p('a > 1'), '(> a 1)');
  assert.equal(p('a >= 1'), '(>= a 1)');
  assert.equal(p('a < 1'), '(< a 1)');
  assert.equal(p('a <= 1'), '(<= a 1)');
  assert.equal(p('a=b'), '(= a b)');
  assert.equal(p("'x' = a"), "(= 'x' a)");
  assert.equal(p('a>=-1'), '(>= a (- 1))');
  assert.equal(p('a > +1'), '(> a 1)');
  assert.equal(p('a = - - 1'), '(= a (- (- 1)))');
});

test('BETWEEN and NOT BETWEEN expand as upstream', () => {
  assert.equal(p('a BETWEEN 1 AND 10'), '(AND (>= a 1) (<= a 10))');
  assert.equal(p('a NOT BETWEEN 1 AND 10'), '(OR (< a 1) (> a 10))');
  assert.equal(p('a between -5 and b'), '(AND (>= a (- 5)) (<= a b))');
  assert.equal(p('a BETWEEN 1 AND 2 AND b = 3'), '(AND (>= a 1) (<= a 2) (= b 3))');
  assert.equal(p('a BETWEEN 1.5 AND 2'), '(AND (>= a 1.5D) (<= a 2))');
});

test('IN and NOT IN take string literals', () => {
  assert.equal(p("a IN ('x')"), "(IN a 'x')");
  assert.equal(p("a IN ('x', 'y','z')"), "(IN a 'x' 'y' 'z')");
  assert.equal(p("a NOT IN ('x', 'y')"), "(NOT IN a 'x' 'y')");
  assert.equal(p("a in ('x', 'x')"), "(IN a 'x')");
});

test('IS NULL and IS NOT NULL', () => {
  assert.equal(p('a IS NULL'), '(= a NULL)');
  assert.equal(p('a IS NOT NULL'), '(NOT (= a NULL))');
  assert.equal(p('a is not null and a = 1'), '(AND (NOT (= a NULL)) (= a 1))');
});

test('CONTAINS / STARTSWITH / ENDSWITH and their NOT forms', () => {
  assert.equal(p("a CONTAINS 'x'"), "(CONTAINS a 'x')");
  assert.equal(p("a NOT CONTAINS 'x'"), "(NOT CONTAINS a 'x')");
  assert.equal(p("a STARTSWITH 'x'"), "(STARTSWITH a 'x')");
  assert.equal(p("a NOT STARTSWITH 'x'"), "(NOT STARTSWITH a 'x')");
  assert.equal(p("a ENDSWITH 'x'"), "(ENDSWITH a 'x')");
  assert.equal(p("a not endswith 'x'"), "(NOT ENDSWITH a 'x')");
  assert.equal(p("'abc' contains ''"), "(CONTAINS 'abc' '')");
});

test('AND / OR / NOT and their precedence', () => {
  assert.equal(p('a = 1 OR b = 2 AND c = 3'), '(OR (= a 1) (AND (= b 2) (= c 3)))');
  assert.equal(p('a = 1 AND b = 2 OR c = 3'), '(OR (AND (= a 1) (= b 2)) (= c 3))');
  assert.equal(p('(a = 1 OR b = 2) AND c = 3'), '(AND (OR (= a 1) (= b 2)) (= c 3))');
  // Chains stay flat, nested groups of the same operator merge.
  assert.equal(p('a = 1 AND b = 2 AND c = 3 AND d = 4'), '(AND (= a 1) (= b 2) (= c 3) (= d 4))');
  assert.equal(p('a = 1 OR (b = 2 OR c = 3)'), '(OR (= a 1) (= b 2) (= c 3))');
  assert.equal(p('NOT (a = 1)'), '(NOT (= a 1))');
  assert.equal(p('NOT NOT (a = 1)'), '(NOT (NOT (= a 1)))');
  // Prefix NOT binds tighter than comparisons, as upstream's grammar has it.
  assert.equal(p("NOT a = 'x'"), "(= (NOT (bool a)) 'x')");
  // Comparisons bind tighter than equality.
  assert.equal(p('a > 1 = TRUE'), '(= (> a 1) TRUE)');
  // A property used as a condition is a boolean cast.
  assert.equal(p('a'), '(bool a)');
  assert.equal(p('a AND b OR NOT c'), '(OR (AND (bool a) (bool b)) (NOT (bool c)))');
  assert.equal(p('TRUE'), 'TRUE');
  assert.equal(p('NULL OR FALSE'), '(OR NULL FALSE)');
});

test('string literals: single quotes, doubled quote escape, any character inside', () => {
  assert.equal(p("a = 'it''s'"), "(= a 'it's')");
  assert.equal(p("a = ''''"), "(= a ''')");
  assert.equal(p("a = ''"), "(= a '')");
  assert.equal(p("a = 'x -- not a comment /* nor this */'"), "(= a 'x -- not a comment /* nor this */')");
  assert.equal(p("a = 'line1\nline2 \"dq\" \\n 中文'"), "(= a 'line1\nline2 \"dq\" \\n 中文')");
  assert.equal(p("TAGS='''''tag'''''"), "(= TAGS '''tag''')");
});

test('integer literals: int when they fit, else long; an L suffix is dropped', () => {
  assert.equal(p('a = 0'), '(= a 0)');
  assert.equal(p('a = 5L'), '(= a 5)');
  assert.equal(p('a = 5l'), '(= a 5)');
  assert.equal(p('a = 2147483647'), '(= a 2147483647)');
  assert.equal(p('a = 2147483648'), '(= a 2147483648L)');
  assert.equal(p('a = 9223372036854775807L'), '(= a 9223372036854775807L)');
  assert.equal(p('a = -2147483648'), '(= a (- 2147483648L))');
  const e = parseError('a > 9223372036854775808');
  assert.equal(e.column, 5);
  assert.match(e.message, /out of the range of a Java long/);
  parseError('a > 100000000000000000000000');
});

test('floating-point literals: 5. .5 5E10 and friends are doubles', () => {
  assert.equal(p('a = 5.'), '(= a 5D)');
  assert.equal(p('a = .5'), '(= a 0.5D)');
  assert.equal(p('a = 5E10'), '(= a 50000000000D)');
  assert.equal(p('a = 5e-3'), '(= a 0.005D)');
  assert.equal(p('a = 1.5E+2'), '(= a 150D)');
  assert.equal(p('a = 5.E2'), '(= a 500D)');
  assert.equal(p('a = .5e1'), '(= a 5D)');
  assert.equal(p('a = 3.14'), '(= a 3.14D)');
  assert.equal(p('a = 007.5'), '(= a 7.5D)');
  // Upstream refuses a double that overflows, and (its MIN_VALUE check) zero.
  assert.match(parseError('a > 1E400').message, /greater than 1\.7976931348623157E308/);
  assert.match(parseError('a > 0.0').message, /less than 4\.9E-324/);
});

test('TRUE, FALSE and NULL in any case', () => {
  assert.equal(p('a = TRUE'), '(= a TRUE)');
  assert.equal(p('a = true'), '(= a TRUE)');
  assert.equal(p('a = False'), '(= a FALSE)');
  assert.equal(p('a iS nUlL'), '(= a NULL)');
});

test('identifiers: letters, digits, _ and $; keywords are case-insensitive and win only on the whole word', () => {
  assert.equal(p('$a_1 = 1'), '(= $a_1 1)');
  assert.equal(p('_x = 1'), '(= _x 1)');
  assert.equal(p('a$b = 1'), '(= a$b 1)');
  assert.equal(p('ANDY = 1 and ORDER = 2 AnD notes = 3 Or INx = 4 or isnull = 5'),
    '(OR (AND (= ANDY 1) (= ORDER 2) (= notes 3)) (= INx 4) (= isnull 5))');
  assert.equal(p('a BeTwEeN 1 aNd 2'), '(AND (>= a 1) (<= a 2))');
  assert.equal(p("a not IN ('x')"), "(NOT IN a 'x')");
  assert.equal(p("a Contains 'x' or b StartsWith 'y' or c ENDSwith 'z'"), "(OR (CONTAINS a 'x') (STARTSWITH b 'y') (ENDSWITH c 'z'))");
  // Identifiers are case-sensitive property names.
  assert.notEqual(p('Abc = 1'), p('abc = 1'));
});

test('comments: -- to the end of the line or of the text, /* */ across lines', () => {
  assert.equal(p('a = 1 -- the rest is ignored'), '(= a 1)');
  assert.equal(p('a = 1 -- first\nAND b = 2'), '(AND (= a 1) (= b 2))');
  assert.equal(p('a = 1 -- first\r\nAND b = 2'), '(AND (= a 1) (= b 2))');
  assert.equal(p('a /* inline */ = /* multi\nline */ 1'), '(= a 1)');
  assert.equal(p('/**/a=1/***/'), '(= a 1)');
  assert.equal(p('a = 1 /* a * b / c **/'), '(= a 1)');
  assert.equal(p('\t a\f=\r\n1 '), '(= a 1)');
});

test('the tokenizer: longest match, and "0" takes no suffix', () => {
  const kinds = (t: string) => tokenize(t).map((x) => `${x.kind}:${x.image}`).join(' ');
  assert.equal(kinds('a<>b<=c>=d<e>f'), 'ID:a <>:<> ID:b <=:<= ID:c >=:>= ID:d <:< ID:e >:> ID:f EOF:');
  assert.equal(kinds('0L'), 'DECIMAL:0 ID:L EOF:');
  assert.equal(kinds('0123'), 'DECIMAL:0 DECIMAL:123 EOF:');
  assert.equal(kinds('12L5'), 'DECIMAL:12L DECIMAL:5 EOF:');
  assert.equal(kinds('5e'), 'DECIMAL:5 ID:e EOF:');
  assert.equal(kinds('5.e'), 'FLOAT:5. ID:e EOF:');
  assert.equal(kinds('1e5x'), 'FLOAT:1e5 ID:x EOF:');
  assert.equal(kinds("'a''b'"), "STRING:'a''b' EOF:");
  assert.equal(tokenize("'a''b'")[0]!.value, "a'b");
});

test('errors carry the line and column of the offending token', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['a = 1 xyz', 1, 7, /encountered "xyz"/],
    ['a = 1 AND', 1, 10, /encountered the end of the expression/],
    ['a ==1', 1, 4, /encountered "="/],
    ['a = 1 AND\n  b >> 2', 2, 6, /encountered ">"/],
    ['a = 1\r\nOR b = !', 2, 8, /unexpected character '!'/],
    ["a = 'open", 1, 5, /unterminated string/],
    ['a = 1 /* never closed', 1, 7, /unterminated comment/],
    ['a = "x"', 1, 5, /single quotes/],
    ['(a = 1', 1, 7, /expected "\)"/],
    ['a = 1)', 1, 6, /encountered "\)"/],
    ['a IS 1', 1, 6, /NULL or NOT NULL/],
    ['a IS NOT 1', 1, 10, /NULL after IS NOT/],
    ['a IN (1)', 1, 7, /string literal/],
    ["a IN ('x' 'y')", 1, 11, /"," or "\)"/],
    ["a IN 'x'", 1, 6, /"\("/],
    ['a CONTAINS x', 1, 12, /string literal/],
    ['a NOT = 1', 1, 3, /encountered "NOT"/],
    ['a BETWEEN 1 OR 2', 1, 13, /AND between the two bounds/],
    ['a = .', 1, 5, /unexpected character '\.'/],
    ['', 1, 1, /end of the expression/],
    ['a & b', 1, 3, /AND \/ OR/],
    ['a = 0L', 1, 6, /encountered "L"/],
    ['a = 1 b = 2', 1, 7, /encountered "b"/],
  ];
  for (const [text, line, column, re] of cases) {
    const e = parseError(text);
    assert.equal(`${e.line}:${e.column}`, `${line}:${column}`, `position for ${JSON.stringify(text)}: ${e.message}`);
    assert.match(e.message, re, text);
    assert.ok(e.message.includes(`line ${line}, column ${column}`), e.message);
    assert.equal(e.offset, offsetOf(text, line, column), text);
  }
});

test("upstream's build-time checks refuse ill-typed expressions", () => {
  const cases: Array<[string, RegExp, number]> = [
    ['a = NULL', /NULL cannot be compared with =/, 5],
    ['NULL <> a', /NULL cannot be compared with <>/, 1],
    ['TRUE = 1', /TRUE cannot be compared with 1/, 6],
    ["a > 'x'", /'x' cannot be compared with >/, 5],
    ['a < TRUE', /TRUE cannot be compared with </, 5],
    ['a >= NULL', /NULL cannot be compared with >=/, 6],
    ['(a = 1) > 2', /is a condition and cannot be compared/, 2],
    ['a BETWEEN 5 AND 1', /lower bound \(5\) must be less than or equal to the upper bound \(1\)/, 3],
    ["a BETWEEN 'a' AND 'b'", /'a' cannot be compared with BETWEEN/, 11],
    ['a BETWEEN NULL AND 1', /can not be NULL/, 3],
    ["a BETWEEN 1 AND 'x'", /illegal values of BETWEEN/, 3],
    ["NOT a IN ('x')", /expected a property before IN/, 1],
    ["'x' IN ('x')", /expected a property before IN/, 1],
    ['5', /will not result in a boolean value: 5/, 1],
    ["'x' OR a = 1", /will not result in a boolean value: 'x'/, 1],
    ['a = 1 AND -b', /will not result in a boolean value: -b/, 11],
    ['NOT 1', /will not result in a boolean value: 1/, 5],
  ];
  for (const [text, re, column] of cases) {
    const e = parseError(text);
    assert.equal(e.kind, 'semantic', text);
    assert.match(e.message, re, text);
    assert.equal(e.column, column, `${text}: ${e.message}`);
  }
  // ...but these are fine upstream and here.
  for (const ok of ['1 = TRUE', 'a = TRUE', 'a > -1', 'a BETWEEN -5 AND -10', 'a NOT BETWEEN 5 AND 1', 'a <= now', 'FALSE = FALSE', "'x' = 'y'", '-a = 1']) {
    parseSql92(ok);
  }
});

test("upstream's own parser test expressions", () => {
  for (const ok of [
    'a=3 and b<>4 And c>5 AND d<=4', 'a=3  and    b<>4 And c>5 AND d<=4', 'a=3 or b<>4 Or c>5 OR d<=4', "a in ('3', '4', '5')",
    "(a not in ('6', '4', '5')) or (b in ('3', '4', '5'))", '(a between 2 and 10) AND (b not between 6 and 9)', 'a is null', 'a is not null',
    "a=3 and b contains 'xxx' and c not contains 'xxx'", "TAGS is not null and TAGS='''''tag'''''",
  ]) parseSql92(ok);
  for (const bad of ['a and between 2 and 10', ' a between 10 and 0', "'axb' contains ", 'value contains 123', 'value not contains x']) parseError(bad);
});
