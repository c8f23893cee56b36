import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './message-const.js';

/**
 * Message properties string codec: `name \u0001 value \u0002` for every pair, the last included.
 * As upstream, a segment without a name or a value is ignored on decode.
 */
export function decodeProperties(text: string | undefined | null): Map<string, string> {
  const map = new Map<string, string>();
  if (!text) return map;
  let start = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    const sep = text.indexOf(NAME_VALUE_SEPARATOR, start);
    if (sep > start && sep < end - 1) {
      map.set(text.slice(start, sep), text.slice(sep + 1, end));
    }
    start = end + 1;
  }
  return map;
}

export function encodeProperties(props: Map<string, string> | Record<string, string>): string {
  let out = '';
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [k, v] of entries) {
    if (v === undefined || v === null) continue;
    out += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  }
  return out;
}

/**
 * Reads several properties in one pass over an encoded properties string: `out[i]` gets the
 * value of `names[i]` as decodeProperties would hold it, or undefined. As upstream, which decodes
 * properties into a HashMap, of a repeated name the last value counts and an empty value is none.
 * Every entry is looked at, as before: a send rarely carries all the names, so the scan never
 * stopped early in the common case.
 */
export function getProperties(text: string, names: readonly string[], out: Array<string | undefined>): void {
  for (let i = 0; i < names.length; i++) out[i] = undefined;
  let start = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (text.charCodeAt(start + n.length) === 1 && start + n.length + 1 < end && text.startsWith(n, start)) {
        out[i] = text.slice(start + n.length + 1, end);
        break;
      }
    }
    start = end + 1;
  }
}

/** `name + NAME_VALUE_SEPARATOR` of the few names the send path looks up, built once. */
const NEEDLES = new Map<string, string>();

/**
 * Reads one property straight from an encoded properties string, without building a map: the
 * value decodeProperties would hold (the last non-empty value of the name, as upstream's map).
 * Searches from the end, so the common single occurrence costs one lastIndexOf.
 */
export function getProperty(text: string, name: string): string | undefined {
  if (!text || !name) return undefined;
  let needle = NEEDLES.get(name);
  if (needle === undefined) {
    needle = name + NAME_VALUE_SEPARATOR;
    if (NEEDLES.size < 256) NEEDLES.set(name, needle);
  }
  let from = text.length;
  while (from >= 0) {
    const at = text.lastIndexOf(needle, from);
    if (at < 0) return undefined;
    if (at === 0 || text.charCodeAt(at - 1) === 2) {
      const vs = at + needle.length;
      let ve = text.indexOf(PROPERTY_SEPARATOR, vs);
      if (ve < 0) ve = text.length;
      if (ve > vs) return text.slice(vs, ve);
    }
    from = at - 1;
  }
  return undefined;
}

/**
 * Finds property values in encoded properties bytes `buf[from, to)`, as a CommitLog record holds
 * them, without decoding them: `at[i]` and `end[i]` get the byte span of the value of `names[i]`
 * (ASCII name bytes) as getProperty reads it (the last non-empty one), or -1 and -1. An entry's
 * name runs from the entry's start to its first \u0001, its value from there to the next \u0002.
 */
export function findPropertyValues(buf: Buffer, from: number, to: number, names: readonly Buffer[], at: Int32Array, end: Int32Array): void {
  for (let i = 0; i < names.length; i++) {
    at[i] = -1;
    end[i] = -1;
  }
  for (let s = from; s < to;) {
    let sep = s;
    while (sep < to && buf[sep] !== 1 && buf[sep] !== 2) sep++;
    let e = sep;
    while (e < to && buf[e] !== 2) e++;
    if (sep + 1 < e) {
      const nameLen = sep - s;
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        if (n.length !== nameLen) continue;
        let k = 0;
        while (k < nameLen && buf[s + k] === n[k]) k++;
        if (k === nameLen) {
          at[i] = sep + 1;
          end[i] = e;
          break;
        }
      }
    }
    s = e + 1;
  }
}
