import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseProperties,
  parsePropertiesEntries,
  PropertiesParseError,
  stringifyProperties,
} from '../../src/common/properties-file.js';

function obj(text: string): Record<string, string> {
  return Object.fromEntries(parseProperties(text));
}

test('the three separators, with and without blanks around them', () => {
  assert.deepEqual(obj('a=1\nb:2\nc 3\nd = 4\ne : 5\nf    6\ng\t=\t7\nh \f: 8'), {
    a: '1', b: '2', c: '3', d: '4', e: '5', f: '6', g: '7', h: '8',
  });
});

test('only the first separator splits; later ones belong to the value', () => {
  assert.deepEqual(obj('url=a=b:c d\nk : =v\nj  ==x'), { url: 'a=b:c d', k: '=v', j: '=x' });
});

test('comments start with # or ! at the start of a line, after optional blanks', () => {
  assert.deepEqual(obj('# c1\n! c2\n   # c3\n\t! c4\na=1 # not a comment\n'), { a: '1 # not a comment' });
});

test('blank and whitespace-only lines are skipped; leading blanks are trimmed, trailing kept', () => {
  assert.deepEqual(obj('\n   \n\t\n   key = value  \n'), { key: 'value  ' });
});

test('a key alone has an empty value; so does a key followed by a separator only', () => {
  assert.deepEqual(obj('alone\nsep=\nsep2 :   '), { alone: '', sep: '', sep2: '' });
});

test('escapes: \\t \\n \\r \\f \\uHHHH, and a backslash before anything else', () => {
  assert.deepEqual(obj('a=x\\ty\\nz\\r\\f\nb=\\u0041\\u00e9\\u4e2d\nc=\\q\\#\\\\'), {
    a: 'x\ty\nz\r\f',
    b: 'Aé中',
    c: 'q#\\',
  });
});

test('escaped separators and blanks stay inside the key', () => {
  assert.deepEqual(obj('a\\=b=c\nx\\:y:z\nk\\ ey v\n\\#notcomment=1'), {
    'a=b': 'c', 'x:y': 'z', 'k ey': 'v', '#notcomment': '1',
  });
});

test('line continuations: odd trailing backslashes join lines, next line leading blanks dropped', () => {
  assert.deepEqual(obj('list = a, \\\n        b, \\\n   c\nnext=1'), { list: 'a, b, c', next: '1' });
  // Two backslashes are one escaped backslash: no continuation.
  assert.deepEqual(obj('p=C:\\\\\nq=2'), { p: 'C:\\', q: '2' });
  // Three: an escaped backslash, then a continuation.
  assert.deepEqual(obj('p=x\\\\\\\n  y'), { p: 'x\\y' });
  // A continued line that starts with # is value text, not a comment.
  assert.deepEqual(obj('a=1\\\n#2'), { a: '1#2' });
  // The key itself may be continued.
  assert.deepEqual(obj('ke\\\n  y=v'), { key: 'v' });
  // A continuation into an empty line ends the entry; a continuation at end of file too.
  assert.deepEqual(obj('a=1\\\n\nb=2\nc=3\\'), { a: '1', b: '2', c: '3' });
});

test('comment lines do not continue even when they end in a backslash', () => {
  assert.deepEqual(obj('# comment \\\na=1'), { a: '1' });
});

test('CRLF, CR and LF line ends, and a UTF-8 byte order mark', () => {
  assert.deepEqual(obj('\uFEFFa=1\r\nb=2\rc=3\nd=\\\r\n  4'), { a: '1', b: '2', c: '3', d: '4' });
});

test('duplicate keys: the last value wins, the first position is kept; entries keep both', () => {
  const text = 'a=1\nb=2\na=3';
  assert.deepEqual([...parseProperties(text)], [['a', '3'], ['b', '2']]);
  assert.deepEqual(parsePropertiesEntries(text).map((e) => [e.key, e.value, e.line]), [
    ['a', '1', 1], ['b', '2', 2], ['a', '3', 3],
  ]);
});

test('entry line numbers point at the first line of a continued entry', () => {
  const entries = parsePropertiesEntries('# head\n\nx=1\\\n 2\ny=3');
  assert.deepEqual(entries.map((e) => e.line), [3, 5]);
});

test('a malformed \\u escape is an error naming the line', () => {
  assert.throws(() => parseProperties('ok=1\nbad=\\u12G4'), (err: unknown) => {
    assert.ok(err instanceof PropertiesParseError);
    assert.equal(err.line, 2);
    assert.match(err.message, /line 2/);
    assert.match(err.message, /\\uHHHH/);
    return true;
  });
  assert.throws(() => parseProperties('bad=\\u12'), PropertiesParseError);
});

test('stringifyProperties round-trips awkward keys and values', () => {
  const map = new Map<string, string>([
    ['plain', 'value'],
    ['with space', ' leading and trailing '],
    ['a=b:c', 'x=y:z'],
    ['#hash', '!bang'],
    ['ctl', 'tab\tnl\ncr\rff\f'],
    ['back\\slash', 'C:\\dir\\'],
    ['unicode', 'é中'],
    ['empty', ''],
  ]);
  const text = stringifyProperties(map);
  assert.deepEqual([...parseProperties(text)], [...map]);
  assert.equal(stringifyProperties([['listenPort', '10911']]), 'listenPort=10911\n');
});
