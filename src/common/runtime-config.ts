import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './config-file.js';
import { ConfigError, describeKeySpec, parseConfigValue, type KeySpec } from './config-loader.js';
import { parsePropertiesEntries, parseProperties, PropertiesParseError, stringifyProperties } from './properties-file.js';
import { newDataVersion, nextDataVersion, type DataVersion } from './route.js';

/**
 * A role's configuration as the admin requests see it (upstream `Configuration`): all of it as
 * `key=value` text (GET_BROKER_CONFIG / GET_NAMESRV_CONFIG), and changes to the keys the running
 * role honours at once (UPDATE_BROKER_CONFIG / UPDATE_NAMESRV_CONFIG), written back to its
 * config file. Upstream silently ignores keys it does not know and applies every other one,
 * even those only read at start-up; here such a request is refused as a whole, saying why,
 * so that an operator never believes a change took effect when it did not.
 */

/** Why an update was refused; `reason` picks the response code (black list → NO_PERMISSION, as upstream). */
/**
 * The keys UPDATE_*_CONFIG refuses: the role's fixed ones plus the `;`-separated keys of its
 * `configBlackList` setting, fixed at start-up (upstream `initConfigBlackList` of the broker's
 * AdminBrokerProcessor and the NameServer's DefaultRequestProcessor).
 */
export function configBlackList(fixed: ReadonlySet<string>, listed: string): ReadonlySet<string> {
  return new Set([...fixed, ...listed.split(';').map((k) => k.trim()).filter((k) => k !== '')]);
}

export class ConfigUpdateError extends Error {
  constructor(message: string, readonly reason: 'blackList' | 'invalid') {
    super(message);
    this.name = 'ConfigUpdateError';
  }
}

/** One configuration object and the key table that types its fields. */
export interface ConfigSection {
  readonly spec: Readonly<Record<string, KeySpec>>;
  readonly target: object;
}

export interface RuntimeConfigOptions {
  /** "broker" or "NameServer", in messages. */
  role: string;
  sections: readonly ConfigSection[];
  /** Keys the running role reads on every use, so a change takes effect without a restart. */
  runtimeKeys: ReadonlySet<string>;
  /** Keys never changed remotely (upstream `configBlackList`). */
  blackList: ReadonlySet<string>;
  /** Upstream keys this implementation accepts in files but does not act on. */
  knownUnused?: ReadonlySet<string>;
  /** Where changes are written: the file the role was started with, else upstream's default. */
  filePath: string;
  /** The start-up file, named in "set it there and restart" hints. */
  fileHint: string;
}

export interface ConfigChange {
  key: string;
  /** The typed value now in force. */
  value: string | number | boolean;
  previous: unknown;
}

export class RuntimeConfig {
  dataVersion: DataVersion = newDataVersion();

  constructor(private readonly opts: RuntimeConfigOptions) {}

  get filePath(): string {
    return this.opts.filePath;
  }

  /** Every key and its current value, sorted by key (upstream `getAllConfigsFormatString`). */
  entries(): Array<[string, string]> {
    const all = new Map<string, string>();
    for (const s of this.opts.sections) {
      for (const key of Object.keys(s.spec)) all.set(key, String((s.target as Record<string, unknown>)[key]));
    }
    return [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The configuration as properties text. */
  toText(): string {
    return stringifyProperties(this.entries());
  }

  /**
   * Applies `text` (properties) to the running configuration and its file. Every key is checked
   * before any is applied: one bad key refuses the whole request. Returns what changed.
   */
  update(text: string): ConfigChange[] {
    let props: Map<string, string>;
    try {
      props = parseProperties(text);
    } catch (err) {
      if (err instanceof PropertiesParseError) throw new ConfigUpdateError(`the request body is not properties text: ${err.message}`, 'invalid');
      throw err;
    }
    const { role, blackList, runtimeKeys, knownUnused, fileHint } = this.opts;
    const planned: Array<{ key: string; value: string | number | boolean; section: ConfigSection }> = [];
    for (const [key, raw] of props) {
      if (blackList.has(key)) {
        throw new ConfigUpdateError(`Can not update config in black list: ${key} can only be set in ${fileHint} before the ${role} starts.`, 'blackList');
      }
      const section = this.opts.sections.find((s) => Object.hasOwn(s.spec, key));
      if (!section) {
        if (knownUnused?.has(key)) throw new ConfigUpdateError(`${key} is a RocketMQ setting this ${role} does not use; nothing to update`, 'invalid');
        throw new ConfigUpdateError(`unknown ${role} config key "${key}"; "mqadmin get${role === 'broker' ? 'Broker' : 'Namesrv'}Config" lists the keys`, 'invalid');
      }
      if (!runtimeKeys.has(key)) {
        throw new ConfigUpdateError(`${key} cannot be changed while the ${role} runs: set it in ${fileHint} and restart the ${role}. `
          + `Keys changeable at runtime: ${[...runtimeKeys].sort().join(', ')}`, 'invalid');
      }
      const spec = section.spec[key]!;
      let value: string | number | boolean;
      try {
        value = parseConfigValue(key, raw, spec);
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigUpdateError(`invalid value for ${key}: ${JSON.stringify(raw)} is not allowed; expected ${describeKeySpec(spec)}`, 'invalid');
        throw err;
      }
      planned.push({ key, value, section });
    }
    const changes: ConfigChange[] = [];
    for (const { key, value, section } of planned) {
      const target = section.target as Record<string, unknown>;
      changes.push({ key, value, previous: target[key] });
      target[key] = value;
    }
    if (changes.length > 0) {
      this.dataVersion = nextDataVersion(this.dataVersion);
      persistProperties(this.opts.filePath, changes.map((c) => [c.key, String(c.value)]));
    }
    return changes;
  }
}

/**
 * Writes `changes` into the properties file at `path` (created when missing): an entry's line
 * is replaced where it stands, later duplicates dropped, new keys appended; comments and other
 * entries stay as the operator wrote them. Upstream rewrites the whole file with every key; the
 * values read back are the same either way. Written atomically (temp file, fsync, rename).
 */
export function persistProperties(path: string, changes: ReadonlyArray<readonly [string, string]>): void {
  const wanted = new Map(changes);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const out: string[] = [];
  const written = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    const trimmed = first.trimStart();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) {
      out.push(first);
      continue;
    }
    // A logical line continues while a natural line ends in an odd run of backslashes.
    let end = i;
    while (end + 1 < lines.length && /(^|[^\\])(\\\\)*\\$/.test(lines[end]!)) end++;
    const block = lines.slice(i, end + 1);
    const key = parsePropertiesEntries(block.join('\n'))[0]?.key;
    i = end;
    if (key === undefined || !wanted.has(key)) {
      out.push(...block);
      continue;
    }
    if (!written.has(key)) out.push(stringifyProperties([[key, wanted.get(key)!]]).trimEnd());
    written.add(key);
  }
  for (const [k, v] of wanted) if (!written.has(k)) out.push(stringifyProperties([[k, v]]).trimEnd());
  writeFileAtomic(path, `${out.join('\n')}\n`);
}
