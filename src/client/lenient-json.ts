/**
 * A tolerant JSON reader for what fastjson writes (remoting facts sheet §5): standard JSON,
 * plus object keys that are not strings —
 *   - unquoted scalars, as for `Map<Long,String>`: `{0:"10.0.0.1:10911"}` → key `"0"`;
 *   - objects or arrays, as for `Map<MessageQueue,X>`: `{{"brokerName":"b",…}:1}` → the key is
 *     the compact standard-JSON text of that object, `'{"brokerName":"b",…}'`.
 * Everything else follows JSON: values are never unquoted, no comments, no trailing commas.
 * Standard input takes the `JSON.parse` fast path.
 */

export class LenientJsonError extends Error {
  readonly code = 'JSON_INVALID';
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = 'LenientJsonError';
  }
}

export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new LenientJsonParser(text).parseDocument();
  }
}

/** Parses a JSON Buffer (UTF-8). */
export function parseLenientJsonBuffer(buf: Buffer): unknown {
  return parseLenientJson(buf.toString('utf8'));
}

const WS = new Uint8Array(128);
for (const c of ' \t\n\r') WS[c.charCodeAt(0)] = 1;

// Characters that may appear in an unquoted key: letters, digits, and the sign/decimal
// characters of numbers (fastjson writes Long, Integer and enum-like keys bare).
function isBareKeyChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c === 45 || c === 43 || c === 46;
}

class LenientJsonParser {
  private pos = 0;

  constructor(private readonly s: string) {}

  parseDocument(): unknown {
    const v = this.parseValue();
    this.skipWs();
    if (this.pos < this.s.length) this.fail('unexpected text after the JSON value');
    return v;
  }

  private fail(msg: string): never {
    throw new LenientJsonError(msg, this.pos);
  }

  private skipWs(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c < 128 && WS[c] === 1) this.pos++;
      else break;
    }
  }

  private parseValue(): unknown {
    this.skipWs();
    if (this.pos >= this.s.length) this.fail('unexpected end of JSON');
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: return this.parseObject();
      case 0x5b: return this.parseArray();
      case 0x22: return this.parseString();
      case 0x74: return this.parseLiteral('true', true);
      case 0x66: return this.parseLiteral('false', false);
      case 0x6e: return this.parseLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 48 && c <= 57)) return this.parseNumber();
        return this.fail(`unexpected character '${this.s[this.pos]}'`);
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail(`expected '${word}'`);
    this.pos += word.length;
    return value;
  }

  private parseNumber(): number {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const r = m.exec(this.s);
    if (!r) return this.fail('malformed number');
    this.pos += r[0].length;
    return Number(r[0]);
  }

  private parseString(): string {
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
        out += this.parseEscape();
        start = this.pos;
        continue;
      }
      if (c < 0x20) this.fail('control character in string');
      this.pos++;
    }
  }

  private parseEscape(): string {
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

  private parseKey(): string {
    this.skipWs();
    const c = this.s.charCodeAt(this.pos);
    if (c === 0x22) return this.parseString();
    if (c === 0x7b || c === 0x5b) return JSON.stringify(c === 0x7b ? this.parseObject() : this.parseArray());
    const start = this.pos;
    while (this.pos < this.s.length && isBareKeyChar(this.s.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) this.fail('expected an object key');
    return this.s.slice(start, this.pos);
  }

  private parseObject(): Record<string, unknown> {
    this.pos++; // {
    const obj: Record<string, unknown> = {};
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return obj;
    }
    while (true) {
      const key = this.parseKey();
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':' after an object key");
      this.pos++;
      const value = this.parseValue();
      // defineProperty keeps a key named "__proto__" an ordinary property, as JSON.parse does.
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) { this.pos++; continue; }
      if (c === 0x7d) { this.pos++; return obj; }
      this.fail("expected ',' or '}' in an object");
    }
  }

  private parseArray(): unknown[] {
    this.pos++; // [
    const arr: unknown[] = [];
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return arr;
    }
    while (true) {
      arr.push(this.parseValue());
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) { this.pos++; continue; }
      if (c === 0x5d) { this.pos++; return arr; }
      this.fail("expected ',' or ']' in an array");
    }
  }
}
