import { FilterEvalError } from './errors.js';

/**
 * The Java value model the upstream evaluator works on. Property values are always strings;
 * literals are Integer (int range), Long, Double, String, Boolean or null. Numbers are boxed
 * here so that `5` (int), `5L` beyond int range (long) and `5.0` (double) stay distinct, as they
 * do upstream, where the type decides how a property string is converted.
 */
export class JInt {
  constructor(readonly v: number) {}
  toString(): string { return String(this.v); }
}
export class JLong {
  constructor(readonly v: bigint) {}
  toString(): string { return String(this.v); }
}
export class JDouble {
  constructor(readonly v: number) {}
  toString(): string { return javaDoubleToString(this.v); }
}
export type JNumber = JInt | JLong | JDouble;
export type JValue = null | boolean | string | JNumber;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Java's Double.MIN_VALUE and MAX_VALUE. */
export const DOUBLE_MIN_VALUE = 4.9e-324;
export const DOUBLE_MAX_VALUE = 1.7976931348623157e308;

/** Java's Double.toString for the values it is used on in messages (close enough for finite numbers). */
export function javaDoubleToString(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e7) return Number.isInteger(v) ? `${v}.0` : String(v);
  const [m, e] = v.toExponential().split('e') as [string, string];
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

function numberFormat(s: string, what: string): FilterEvalError {
  return new FilterEvalError(`For input string: "${s}" (not ${what})`);
}

/** ASCII digits after an optional sign, as Java's Integer/Long.parseLong accept. */
function integerDigits(s: string): boolean {
  const len = s.length;
  let i = 0;
  const c0 = s.charCodeAt(0);
  if (c0 === 43 || c0 === 45) i = 1;
  if (i >= len) return false;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Java `Integer.valueOf(String)`; throws FilterEvalError (upstream's NumberFormatException). */
export function parseJavaInt(s: string): number {
  if (!integerDigits(s)) throw numberFormat(s, 'an int');
  const n = Number(s);
  if (n < INT_MIN || n > INT_MAX) throw numberFormat(s, 'an int: out of range');
  return n;
}

/** Java `Long.valueOf(String)`. */
export function parseJavaLong(s: string): bigint {
  if (!integerDigits(s)) throw numberFormat(s, 'a long');
  const n = BigInt(s);
  if (n < LONG_MIN || n > LONG_MAX) throw numberFormat(s, 'a long: out of range');
  return n;
}

const DECIMAL_DOUBLE = /^[+-]?(?:NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)$/;
const HEX_DOUBLE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)[fFdD]?$/;

/** Java `Double.valueOf(String)`: surrounding whitespace (chars ≤ U+0020) ignored, f/F/d/D suffix allowed, hex floats too. */
export function parseJavaDouble(s: string): number {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  const t = s.slice(a, b);
  if (DECIMAL_DOUBLE.test(t)) {
    const last = t.charCodeAt(t.length - 1);
    const body = (last | 32) === 102 || (last | 32) === 100 ? t.slice(0, -1) : t;
    return Number(body);
  }
  const h = HEX_DOUBLE.exec(t);
  if (h && (h[2] !== '' || (h[3] ?? '') !== '')) {
    const intPart = h[2] ?? '';
    const frac = h[3] ?? '';
    let mant = 0;
    for (const ch of intPart + frac) mant = mant * 16 + parseInt(ch, 16);
    const v = mant * 2 ** (Number(h[4]) - 4 * frac.length);
    return h[1] === '-' ? -v : v;
  }
  throw numberFormat(s, 'a double');
}

/** Java `Boolean.valueOf(String)`: "true" in any case, anything else false. */
export function parseJavaBoolean(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === 'true';
}

/** Java `Double.compare`: NaN above everything and equal to itself, -0.0 below 0.0. */
export function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;
  if (a === 0 && b === 0) {
    const az = Object.is(a, -0);
    const bz = Object.is(b, -0);
    return az === bz ? 0 : az ? -1 : 1;
  }
  return 0;
}

type JType = 'null' | 'boolean' | 'string' | 'int' | 'long' | 'double';

export function typeOf(v: JValue): JType {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'string') return 'string';
  if (v instanceof JInt) return 'int';
  if (v instanceof JLong) return 'long';
  return 'double';
}

/** Java `equals` between two non-null values: same type and same value. */
export function javaEquals(l: JValue, r: JValue): boolean {
  if (typeof l !== 'object' || l === null) return l === r;
  if (l instanceof JInt) return r instanceof JInt && r.v === l.v;
  if (l instanceof JLong) return r instanceof JLong && r.v === l.v;
  return r instanceof JDouble && compareDoubles(l.v, r.v) === 0;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/**
 * Upstream `ComparisonExpression.__compare` with string conversion on: values of different types
 * are converted towards the left one's (int→long→double widening; a string side is parsed as
 * the number or boolean type of the other side, failing with FilterEvalError); a pair no rule
 * covers compares as -1 ("less"). A boolean on the left and a string on the right fails, as it
 * does upstream (a ClassCastException there).
 */
export function compareValues(lv: JValue, rv: JValue): number {
  let l = lv;
  let r = rv;
  const lt = typeOf(l);
  const rt = typeOf(r);
  if (lt !== rt) {
    switch (lt) {
      case 'boolean':
        if (rt === 'string') throw new FilterEvalError(`a boolean cannot be compared with the string '${r as string}'`);
        return -1;
      case 'int':
        if (rt === 'long') l = new JLong(BigInt((l as JInt).v));
        else if (rt === 'double') l = new JDouble((l as JInt).v);
        else if (rt === 'string') r = new JInt(parseJavaInt(r as string));
        else return -1;
        break;
      case 'long':
        if (rt === 'int') r = new JLong(BigInt((r as JInt).v));
        else if (rt === 'double') l = new JDouble(Number((l as JLong).v));
        else if (rt === 'string') r = new JLong(parseJavaLong(r as string));
        else return -1;
        break;
      case 'double':
        if (rt === 'int') r = new JDouble((r as JInt).v);
        else if (rt === 'long') r = new JDouble(Number((r as JLong).v));
        else if (rt === 'string') r = new JDouble(parseJavaDouble(r as string));
        else return -1;
        break;
      case 'string':
        if (rt === 'boolean') l = parseJavaBoolean(l as string);
        else if (rt === 'int') l = new JInt(parseJavaInt(l as string));
        else if (rt === 'long') l = new JLong(parseJavaLong(l as string));
        else if (rt === 'double') l = new JDouble(parseJavaDouble(l as string));
        else return -1;
        break;
      default:
        return -1;
    }
  }
  if (typeof l === 'string') {
    const rs = r as string;
    return l < rs ? -1 : l > rs ? 1 : 0;
  }
  if (typeof l === 'boolean') return l === r ? 0 : l ? 1 : -1;
  if (l instanceof JInt) return sign(l.v - (r as JInt).v);
  if (l instanceof JLong) {
    const rb = (r as JLong).v;
    return l.v < rb ? -1 : l.v > rb ? 1 : 0;
  }
  return compareDoubles((l as JDouble).v, (r as JDouble).v);
}

/** Upstream `UnaryExpression.negate`: numbers keep their type (int/long wrap around); anything else is null. */
export function negate(v: JValue): JValue {
  if (v instanceof JInt) return new JInt(-v.v | 0);
  if (v instanceof JLong) return new JLong(BigInt.asIntN(64, -v.v));
  if (v instanceof JDouble) return new JDouble(-v.v);
  return null;
}

/** Source-like text of a value, as upstream's `ConstantExpression.toString`. */
export function formatValue(v: JValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  return v.toString();
}
