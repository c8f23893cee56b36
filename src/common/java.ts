/** Upstream `UtilAll.timeMillisToHumanString2`: `yyyy-MM-dd HH:mm:ss,SSS`, local time. */
export function timeMillisToHumanString2(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

/**
 * Java `String.hashCode()`: over UTF-16 code units, 32-bit signed wrap-around.
 * Upstream uses it for tag codes (ConsumeQueue tagsCode) and IndexFile key hashes.
 */
export function javaStringHashCode(s: string): number {
  return continueJavaHash(0, s, 0, s.length);
}

/** Java hashCode of a string continued over `s[from, to)` (the hash of their concatenation, without building it). */
export function continueJavaHash(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * `continueJavaHash` over the string that the UTF-8 bytes `buf[from, to)` decode to, hashing
 * ASCII straight from the bytes: what CommitLog recovery needs of property values (tags, keys)
 * without decoding them. Bytes from the first non-ASCII one on are decoded (rare).
 */
export function continueJavaHashUtf8(h: number, buf: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (b >= 0x80) {
      const rest = buf.toString('utf8', i, to);
      return continueJavaHash(h, rest, 0, rest.length);
    }
    h = (Math.imul(31, h) + b) | 0;
  }
  return h;
}

/** Java `String.compareTo` order (UTF-16 code units), which is also JS's default string order. */
export function javaCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * An optional sign and digits, the form Java's `Integer.parseInt` / `Long.parseLong` take (any
 * number of leading zeros). ASCII digits only: Java also takes other Unicode decimal digits.
 */
function isJavaInteger(s: string): boolean {
  return /^[+-]?[0-9]+$/.test(s);
}

/** Java `Integer.parseInt(s)`, or undefined where Java throws NumberFormatException. */
export function javaParseInt(s: string): number | undefined {
  if (!isJavaInteger(s)) return undefined;
  const n = Number(s);
  return n < INT_MIN || n > INT_MAX ? undefined : n;
}

/** Java `Long.parseLong(s)`, or undefined where Java throws NumberFormatException. */
export function javaParseLong(s: string): bigint | undefined {
  if (!isJavaInteger(s)) return undefined;
  const n = BigInt(s);
  return n < LONG_MIN || n > LONG_MAX ? undefined : n;
}

/** Java `long` arithmetic: the low 64 bits, as a signed value. */
export function javaLong(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}

/** A Java `Long.parseLong` as a number, or undefined when Java refuses it or it is not a safe integer. */
export function parseJavaLong(v: string): number | undefined {
  const l = javaParseLong(v);
  const n = l === undefined ? Number.NaN : Number(l);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Java `String.valueOf(double)` for the values runtime info carries (ratios, small counts):
 * a whole number keeps its `.0` ("1.0", "-1.0"). Not for magnitudes Java writes in E notation.
 */
export function javaDoubleString(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** Upstream `MixAll.humanReadableByteCount`: "512 B", "1.5 KiB" (binary) or "1.5 kB" (`si`). */
export function humanReadableByteCount(bytes: number, si = false): string {
  const unit = si ? 1000 : 1024;
  if (bytes < unit) return `${bytes} B`;
  const exp = Math.floor(Math.log(bytes) / Math.log(unit));
  const pre = (si ? 'kMGTPE' : 'KMGTPE').charAt(exp - 1) + (si ? '' : 'i');
  return `${(bytes / unit ** exp).toFixed(1)} ${pre}B`;
}
