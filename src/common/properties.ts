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
 * value of `names[i]` as getProperty would return it (first occurrence), or undefined.
 */
export function getProperties(text: string, names: readonly string[], out: Array<string | undefined>): void {
  for (let i = 0; i < names.length; i++) out[i] = undefined;
  let left = names.length;
  let start = 0;
  const len = text.length;
  while (start < len && left > 0) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = len;
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (out[i] === undefined && text.charCodeAt(start + n.length) === 1 && text.startsWith(n, start) && start + n.length < end) {
        out[i] = text.slice(start + n.length + 1, end);
        left--;
        break;
      }
    }
    start = end + 1;
  }
}

/** `name + NAME_VALUE_SEPARATOR` of the few names the send path looks up, built once. */
const NEEDLES = new Map<string, string>();

/**
 * Reads one property straight from an encoded properties string, without building a map.
 * Used on the send path, where only a handful of keys matter.
 */
export function getProperty(text: string, name: string): string | undefined {
  if (!text || !name) return undefined;
  let from = 0;
  let needle = NEEDLES.get(name);
  if (needle === undefined) {
    needle = name + NAME_VALUE_SEPARATOR;
    if (NEEDLES.size < 256) NEEDLES.set(name, needle);
  }
  while (true) {
    const at = text.indexOf(needle, from);
    if (at < 0) return undefined;
    if (at === 0 || text.charCodeAt(at - 1) === 2) {
      const vs = at + needle.length;
      let ve = text.indexOf(PROPERTY_SEPARATOR, vs);
      if (ve < 0) ve = text.length;
      return text.slice(vs, ve);
    }
    from = at + 1;
  }
}

/**
 * Finds property values in encoded properties bytes `buf[from, to)`, as a CommitLog record holds
 * them, without decoding them: `at[i]` and `end[i]` get the byte span of the first value of
 * `names[i]` (ASCII name bytes), or -1 and -1. An entry counts as getProperty counts it: its name
 * runs from the entry's start to its first \u0001, its value from there to the next \u0002.
 */
export function findPropertyValues(buf: Buffer, from: number, to: number, names: readonly Buffer[], at: Int32Array, end: Int32Array): void {
  for (let i = 0; i < names.length; i++) {
    at[i] = -1;
    end[i] = -1;
  }
  let left = names.length;
  for (let s = from; s < to && left > 0;) {
    let sep = s;
    while (sep < to && buf[sep] !== 1 && buf[sep] !== 2) sep++;
    let e = sep;
    while (e < to && buf[e] !== 2) e++;
    if (sep < e) {
      const nameLen = sep - s;
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        if (n.length !== nameLen || at[i]! >= 0) continue;
        let k = 0;
        while (k < nameLen && buf[s + k] === n[k]) k++;
        if (k === nameLen) {
          at[i] = sep + 1;
          end[i] = e;
          left--;
          break;
        }
      }
    }
    s = e + 1;
  }
}
