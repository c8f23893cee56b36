/**
 * Java `.properties` text format, as read by `java.util.Properties.load` (which is how upstream
 * RocketMQ reads broker.conf and namesrv.conf), so that a file written for the Java broker
 * means the same thing here. One deliberate difference: text is decoded as UTF-8 by the caller,
 * not ISO-8859-1, because that is how files are written today; ASCII files read identically.
 */

export class PropertiesParseError extends Error {
  readonly code = 'PROPERTIES_PARSE';
  constructor(
    message: string,
    /** 1-based line number where the offending logical line starts. */
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PropertiesParseError';
  }
}

export interface PropertyEntry {
  key: string;
  value: string;
  /** 1-based line number where the entry starts (continuations may span more lines). */
  line: number;
}

/** Whitespace as `Properties.load` sees it: space, tab and form feed (not newlines). */
function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\f';
}

function skipLeadingBlanks(s: string): string {
  let i = 0;
  while (i < s.length && isBlank(s[i])) i++;
  return s.slice(i);
}

/** A natural line continues when it ends in an odd number of backslashes (an even run is escaped backslashes). */
function continues(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;

function unescape(raw: string, line: number): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    i++;
    if (i >= raw.length) break; // a lone trailing backslash escapes nothing
    const e = raw[i] as string;
    switch (e) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        const hex = raw.slice(i + 1, i + 5);
        if (!HEX4.test(hex)) {
          throw new PropertiesParseError(
            `malformed \\uHHHH escape "\\u${hex}": write exactly four hex digits after \\u`,
            line,
          );
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        // As Java: a backslash before any other character stands for that character.
        out += e;
    }
  }
  return out;
}

function splitKeyValue(logical: string, line: number): PropertyEntry {
  const len = logical.length;
  let keyLen = 0;
  let valueStart = len;
  let hasSep = false;
  let precedingBackslash = false;
  while (keyLen < len) {
    const c = logical[keyLen];
    if ((c === '=' || c === ':') && !precedingBackslash) {
      valueStart = keyLen + 1;
      hasSep = true;
      break;
    }
    if (isBlank(c) && !precedingBackslash) {
      valueStart = keyLen + 1;
      break;
    }
    precedingBackslash = c === '\\' ? !precedingBackslash : false;
    keyLen++;
  }
  // After the key: blanks, then at most one '=' or ':' if the key ended on a blank, then blanks.
  while (valueStart < len) {
    const c = logical[valueStart];
    if (!isBlank(c)) {
      if (!hasSep && (c === '=' || c === ':')) hasSep = true;
      else break;
    }
    valueStart++;
  }
  return {
    key: unescape(logical.slice(0, keyLen), line),
    value: unescape(logical.slice(valueStart), line),
    line,
  };
}

/** Every entry in file order, duplicates included (the loader may want to point them out). */
export function parsePropertiesEntries(text: string): PropertyEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: PropertyEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    let natural = skipLeadingBlanks(lines[i] as string);
    // Comment markers count only at the start of a logical line, never on a continuation.
    if (natural === '' || natural[0] === '#' || natural[0] === '!') continue;
    const startLine = i + 1;
    let logical = '';
    while (continues(natural)) {
      logical += natural.slice(0, -1);
      i++;
      if (i >= lines.length) {
        natural = '';
        break;
      }
      natural = skipLeadingBlanks(lines[i] as string);
    }
    logical += natural;
    out.push(splitKeyValue(logical, startLine));
  }
  return out;
}

/** Key → value in order of first appearance; a later duplicate overrides the value, as in Java. */
export function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of parsePropertiesEntries(text)) map.set(e.key, e.value);
  return map;
}

function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    switch (c) {
      case '\\':
        out += '\\\\';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\f':
        out += '\\f';
        break;
      case ' ':
        // Inside a value only a leading space would be lost (leading blanks are skipped).
        out += isKey || i === 0 ? '\\ ' : ' ';
        break;
      case '=':
      case ':':
        out += isKey ? `\\${c}` : c;
        break;
      case '#':
      case '!':
        out += isKey && i === 0 ? `\\${c}` : c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** Renders `key=value` lines that `parseProperties` (and Java) read back to the same map. */
export function stringifyProperties(entries: Iterable<readonly [string, string]>): string {
  let out = '';
  for (const [k, v] of entries) out += `${escape(k, true)}=${escape(v, false)}\n`;
  return out;
}
