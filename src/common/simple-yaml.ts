/**
 * The subset of YAML that RocketMQ's own YAML files use (upstream `plain_acl.yml`, `tools.yml`):
 * block mappings and block sequences by indentation (a sequence may sit at its key's
 * indentation), `- key: value` items, plain, 'single' and "double" quoted scalars, `[a, b]` flow
 * sequences of scalars, `#` comments and empty values (null). Scalars stay strings; the reader
 * decides what a value means. Anything else (anchors, tags, `|` and `>` blocks, flow mappings)
 * is refused with its line number, rather than read wrongly. The project has no YAML library
 * among its dependencies, and these files need no more.
 */

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlSubsetError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseSimpleYaml(text: string): YamlValue {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^ *\t/.test(raw)) throw new YamlSubsetError('tabs may not indent YAML', i + 1);
    const body = stripComment(raw, i + 1).trimEnd();
    if (body.trim() === '' || body.trim() === '---' || body.trim() === '...') return;
    lines.push({ indent: body.length - body.trimStart().length, text: body.trimStart(), no: i + 1 });
  });
  if (lines.length === 0) return null;
  const p = new Parser(lines);
  const v = p.block(lines[0]!.indent);
  if (p.i < lines.length) throw new YamlSubsetError('unexpected indentation', lines[p.i]!.no);
  return v;
}

const isItem = (t: string): boolean => t === '-' || t.startsWith('- ');

class Parser {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  block(indent: number): YamlValue {
    const l = this.lines[this.i]!;
    return isItem(l.text) ? this.sequence(indent) : this.mapping(indent);
  }

  private sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent !== indent || !isItem(l.text)) break;
      const rest = l.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        const next = this.lines[this.i];
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
      } else if (keyOf(rest, l.no) !== undefined) {
        // `- key: value` opens a mapping whose keys are aligned with `key`.
        const col = indent + (l.text.length - rest.length);
        this.lines[this.i] = { indent: col, text: rest, no: l.no };
        out.push(this.mapping(col));
      } else {
        this.i++;
        out.push(scalar(rest, l.no));
      }
    }
    return out;
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    while (this.i < this.lines.length) {
      const l = this.lines[this.i]!;
      if (l.indent !== indent || isItem(l.text)) break;
      const kv = keyOf(l.text, l.no);
      if (kv === undefined) throw new YamlSubsetError(`expected "key: value", found ${JSON.stringify(l.text)}`, l.no);
      this.i++;
      let value: YamlValue;
      if (kv.value !== '') {
        value = scalar(kv.value, l.no);
      } else {
        const next = this.lines[this.i];
        if (next && (next.indent > indent || (next.indent === indent && isItem(next.text)))) value = this.block(next.indent);
        else value = null;
      }
      out[kv.key] = value;
    }
    if (this.i < this.lines.length && this.lines[this.i]!.indent > indent) throw new YamlSubsetError('unexpected indentation', this.lines[this.i]!.no);
    return out;
  }
}

/** `key: value` (or `key:`), with a plain or quoted key; undefined when the text is no mapping entry. */
function keyOf(text: string, no: number): { key: string; value: string } | undefined {
  let key: string;
  let rest: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const end = closingQuote(text, no);
    key = scalar(text.slice(0, end + 1), no) as string;
    rest = text.slice(end + 1);
    if (!rest.startsWith(':')) return undefined;
    rest = rest.slice(1);
  } else {
    const m = /^([^:#[\]{},]+?):(?:\s+(.*)|)$/.exec(text);
    if (!m) return undefined;
    key = m[1]!.trim();
    rest = m[2] ?? '';
  }
  return { key, value: rest.trim() };
}

function closingQuote(text: string, no: number): number {
  const q = text[0]!;
  for (let i = 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\') i++;
    else if (text[i] === q) {
      if (q === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  throw new YamlSubsetError('unterminated quoted string', no);
}

function scalar(text: string, no: number): YamlValue {
  const t = text.trim();
  if (t === '' || t === '~' || t === 'null' || t === 'Null' || t === 'NULL') return null;
  if (t.startsWith('"') || t.startsWith("'")) {
    const end = closingQuote(t, no);
    if (end !== t.length - 1) throw new YamlSubsetError(`text after a quoted string: ${JSON.stringify(t)}`, no);
    const inner = t.slice(1, -1);
    if (t[0] === "'") return inner.replace(/''/g, "'");
    return inner.replace(/\\(["\\/nt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  }
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new YamlSubsetError('a flow sequence must end on its line with ]', no);
    const inner = t.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((s) => scalar(s, no));
  }
  if (/^[&*!|>{%@`]/.test(t)) throw new YamlSubsetError(`unsupported YAML (anchors, tags, block scalars, flow mappings): ${JSON.stringify(t)}`, no);
  return t;
}

/** The line without its comment: `#` at the start or after a space, outside quotes. */
function stripComment(line: string, no: number): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && line[i + 1] === "'") i++;
        else quote = undefined;
      }
    } else if (c === '"' || c === "'") {
      // A quote opens a string only at the start of a scalar.
      const before = line.slice(0, i).trimEnd();
      if (before === '' || before.endsWith(':') || before.endsWith('-') || before.endsWith('[') || before.endsWith(',')) quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  if (quote) throw new YamlSubsetError('unterminated quoted string', no);
  return line;
}
