/**
 * JSON as Remoting bodies carry it. This side always writes standard JSON (`encodeJson`); what it
 * reads may come from Java's fastjson (remoting facts sheet §5), which writes object keys that
 * are not strings:
 *   - unquoted scalars, as for `Map<Long,String>`: `{0:"10.0.0.1:10911"}` → key `"0"`;
 *   - objects or arrays, as for `Map<MessageQueue,X>`: `{{"brokerName":"b",…}:1}` → the key is
 *     the compact standard-JSON text of that object, `'{"brokerName":"b",…}'`.
 * `parseLenientJson` accepts both. Everything else follows JSON: values are never unquoted, no
 * comments, no trailing commas. Standard input takes the `JSON.parse` fast path.
 */

/**
 * Standard JSON bytes of a body, object keys sorted as fastjson writes them (so bodies match
 * a Java server's byte for byte where the values do; integer-like keys sort numerically).
 */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, sortKeys), 'utf8');
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const src = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(src).sort().map((k) => [k, src[k]]));
}

/**
 * Key of a MessageQueue-keyed map in a JSON body. fastjson writes the queue object itself as the
 * key (not JSON); we write standard JSON with the queue's compact JSON text (fields sorted as
 * fastjson sorts them) as a string key, which both fastjson and the TS client read back.
 */
export function messageQueueJsonKey(topic: string, brokerName: string, queueId: number): string {
  return JSON.stringify({ brokerName, queueId, topic });
}

/** Text that is not JSON, even by fastjson's looser rules; `position` is the UTF-16 offset of the fault. */
export class LenientJsonError extends Error {
  readonly code = 'JSON_INVALID';
  constructor(readonly reason: string, readonly position: number) {
    super(`${reason} at position ${position}`);
    this.name = 'LenientJsonError';
  }
}

/** Deepest nesting of objects and arrays the tolerant reader accepts (map keys count too). */
export const MAX_JSON_DEPTH = 256;

/**
 * Parses JSON text or UTF-8 bytes as written by either this project (standard JSON) or Java's
 * fastjson. Bare keys become their text; object keys become their standard JSON text. A key
 * named `__proto__` stays an ordinary own property, as with `JSON.parse`.
 * @throws LenientJsonError
 */
export function parseLenientJson(input: string | Buffer): unknown {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not standard JSON: retry with the fastjson-tolerant reader below.
  }
  return new LenientJsonReader(text).document();
}

const WS = new Uint8Array(128);
for (const c of ' \t\n\r') WS[c.charCodeAt(0)] = 1;

// Characters that may appear in an unquoted key: letters, digits, and the sign/decimal
// characters of numbers (fastjson writes Long, Integer and enum-like keys bare).
function isBareKeyChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c === 45 || c === 43 || c === 46;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Recursive-descent JSON reader that also accepts fastjson's unquoted and object map keys. */
class LenientJsonReader {
  private pos = 0;
  private depth = 0;

  constructor(private readonly s: string) {}

  document(): unknown {
    const v = this.value();
    this.skipWs();
    if (this.pos < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(reason: string): never {
    throw new LenientJsonError(reason, this.pos);
  }

  private skipWs(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c < 128 && WS[c] === 1) this.pos++;
      else break;
    }
  }

  private value(): unknown {
    this.skipWs();
    if (this.pos >= this.s.length) this.fail('unexpected end of JSON');
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: return this.object();
      case 0x5b: return this.array();
      case 0x22: return this.string();
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      case 0x6e: return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 48 && c <= 57)) return this.number();
        return this.fail(`unexpected character '${this.s[this.pos]}'`);
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected '${word}'`);
    this.pos += word.length;
    return value;
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (!m) return this.fail('malformed number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    const s = this.s;
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    while (true) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += s.slice(start, this.pos);
        this.pos++;
        out += this.escape();
        start = this.pos;
        continue;
      }
      if (c < 0x20) this.fail('control character in string');
      this.pos++;
    }
  }

  private escape(): string {
    const e = this.s[this.pos++];
    switch (e) {
      case '"': return '"';
      case '\\': return '\\';
      case '/': return '/';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'u': {
        const hex = this.s.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        return this.fail(`bad escape '\\${e ?? ''}'`);
    }
  }

  /** Steps into an object or array, bounding the recursion a hostile body can cause. */
  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
    this.pos++;
  }

  private key(): string {
    this.skipWs();
    const c = this.s.charCodeAt(this.pos);
    if (c === 0x22) return this.string();
    // fastjson quirk: Map<MessageQueue, X> is written with the object itself as key.
    if (c === 0x7b || c === 0x5b) return JSON.stringify(c === 0x7b ? this.object() : this.array());
    const start = this.pos;
    while (this.pos < this.s.length && isBareKeyChar(this.s.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail('expected an object key');
    return this.s.slice(start, this.pos);
  }

  private object(): Record<string, unknown> {
    this.enter();
    const obj: Record<string, unknown> = {};
    this.skipWs();
    if (this.s.charCodeAt(this.pos) !== 0x7d) {
      for (;;) {
        const key = this.key();
        this.skipWs();
        if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':' after an object key");
        this.pos++;
        const value = this.value();
        // defineProperty keeps a key named "__proto__" an ordinary property, as JSON.parse does.
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        if (!this.more(0x7d, "expected ',' or '}' in an object")) break;
      }
    }
    this.pos++; // }
    this.depth--;
    return obj;
  }

  private array(): unknown[] {
    this.enter();
    const arr: unknown[] = [];
    this.skipWs();
    if (this.s.charCodeAt(this.pos) !== 0x5d) {
      for (;;) {
        arr.push(this.value());
        if (!this.more(0x5d, "expected ',' or ']' in an array")) break;
      }
    }
    this.pos++; // ]
    this.depth--;
    return arr;
  }

  /** After a member: true (and past the comma) if another follows, false (at `close`) if the container ends. */
  private more(close: number, what: string): boolean {
    this.skipWs();
    const c = this.s.charCodeAt(this.pos);
    if (c === 0x2c) {
      this.pos++;
      return true;
    }
    if (c !== close) this.fail(what);
    return false;
  }
}
