import { parseErrorAt } from './errors.js';

/**
 * Tokenizer for upstream's selector grammar (`SelectorParser.jj`): keywords and literals are
 * case-insensitive, the longest match wins and a keyword beats an identifier of the same text.
 * Whitespace is space, tab, CR, LF and FF; `--` comments run to the end of the line (or of the
 * text) and `/* ... *\/` comments may span lines.
 */

export const KEYWORDS = ['NOT', 'AND', 'OR', 'BETWEEN', 'IN', 'TRUE', 'FALSE', 'NULL', 'IS', 'CONTAINS', 'STARTSWITH', 'ENDSWITH'] as const;
export type Keyword = (typeof KEYWORDS)[number];
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export type Punct = '=' | '<>' | '>' | '>=' | '<' | '<=' | '(' | ')' | ',' | '+' | '-';

export type TokenKind = Keyword | Punct | 'ID' | 'STRING' | 'DECIMAL' | 'FLOAT' | 'EOF';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (empty for EOF). */
  image: string;
  /** For STRING: the decoded value (`''` → `'`). */
  value?: string;
  /** 0-based offsets into the expression: [start, end). */
  start: number;
  end: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

function isIdPart(c: number): boolean {
  return isIdStart(c) || isDigit(c);
}

/** Length of a valid exponent (`E`, optional sign, at least one digit) at `i`, or 0. */
function exponentLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c !== 69 && c !== 101) return 0;
  let j = i + 1;
  const s = text.charCodeAt(j);
  if (s === 43 || s === 45) j++;
  if (!isDigit(text.charCodeAt(j))) return 0;
  while (isDigit(text.charCodeAt(j))) j++;
  return j - i;
}

function describeChar(ch: string): string {
  const c = ch.codePointAt(0) ?? 0;
  return c < 0x20 || c > 0x7e ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `'${ch}'`;
}

/** Splits the whole text into tokens, the last one EOF. Throws FilterParseError (kind `lexical`). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const len = text.length;
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    // Whitespace
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) { i++; continue; }
    // Comments
    if (c === 45 && text.charCodeAt(i + 1) === 45) {
      i += 2;
      while (i < len && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      continue;
    }
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw parseErrorAt(text, i, 'lexical', 'unterminated comment: "/*" without a closing "*/"');
      i = close + 2;
      continue;
    }
    const start = i;
    // String literal: '...' with '' standing for one quote.
    if (c === 39) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = text.indexOf("'", j);
        if (q < 0) throw parseErrorAt(text, start, 'lexical', 'unterminated string literal: a quote inside a string is written twice (\'\')');
        value += text.slice(j, q);
        if (text.charCodeAt(q + 1) === 39) {
          value += "'";
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push({ kind: 'STRING', image: text.slice(start, i), value, start, end: i });
      continue;
    }
    // Numbers
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      let j = i;
      while (isDigit(text.charCodeAt(j))) j++;
      const digitsEnd = j;
      let isFloat = false;
      if (text.charCodeAt(j) === 46) {
        isFloat = true;
        j++;
        while (isDigit(text.charCodeAt(j))) j++;
        j += exponentLength(text, j);
      } else {
        const e = exponentLength(text, j);
        if (e > 0) { isFloat = true; j += e; }
      }
      if (isFloat) {
        i = j;
        out.push({ kind: 'FLOAT', image: text.slice(start, i), start, end: i });
      } else {
        // "0" stands alone (no suffix); otherwise the digits and an optional L.
        if (c === 48) i = start + 1;
        else {
          i = digitsEnd;
          const l = text.charCodeAt(i);
          if (l === 76 || l === 108) i++;
        }
        out.push({ kind: 'DECIMAL', image: text.slice(start, i), start, end: i });
      }
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < len && isIdPart(text.charCodeAt(j))) j++;
      const image = text.slice(i, j);
      const upper = image.toUpperCase();
      i = j;
      out.push({ kind: KEYWORD_SET.has(upper) ? (upper as Keyword) : 'ID', image, start, end: i });
      continue;
    }
    let kind: Punct | undefined;
    const n = text.charCodeAt(i + 1);
    switch (c) {
      case 61: kind = '='; break;
      case 60: kind = n === 62 ? '<>' : n === 61 ? '<=' : '<'; break;
      case 62: kind = n === 61 ? '>=' : '>'; break;
      case 40: kind = '('; break;
      case 41: kind = ')'; break;
      case 44: kind = ','; break;
      case 43: kind = '+'; break;
      case 45: kind = '-'; break;
      default: break;
    }
    if (kind === undefined) {
      const ch = String.fromCodePoint(text.codePointAt(i) ?? c);
      let hint = '';
      if (ch === '"') hint = ': string literals use single quotes';
      else if (ch === '!') hint = ': use <> or NOT';
      else if (ch === '&' || ch === '|') hint = ': use AND / OR';
      throw parseErrorAt(text, i, 'lexical', `unexpected character ${describeChar(ch)}${hint}`);
    }
    i += kind.length;
    out.push({ kind, image: kind, start, end: i });
  }
  out.push({ kind: 'EOF', image: '', start: len, end: len });
  return out;
}
