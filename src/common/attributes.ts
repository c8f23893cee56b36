import { javaParseLong } from './java.js';

/**
 * Topic and subscription-group attributes (upstream `AttributeParser`, `AttributeUtil`,
 * `TopicAttributes`): a request carries a modification such as `+message.type=FIFO,-reserve.time`
 * (`+` adds or changes, `-` removes); the broker checks it against the attributes it knows and
 * stores the result under the plain names (`message.type`).
 */

/** What an attribute accepts, and whether it may change once the topic exists. */
export type AttributeSpec =
  | { kind: 'enum'; changeable: boolean; values: readonly string[]; defaultValue: string }
  | { kind: 'long'; changeable: boolean; min: bigint; max: bigint; defaultValue: bigint };

/** Upstream `TopicMessageType` values. */
export const TopicMessageTypes = ['UNSPECIFIED', 'NORMAL', 'FIFO', 'DELAY', 'TRANSACTION', 'MIXED'] as const;

/** Upstream `TopicAttributes.ALL`. */
export const TOPIC_ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {
  'queue.type': { kind: 'enum', changeable: false, values: ['BatchCQ', 'SimpleCQ'], defaultValue: 'SimpleCQ' },
  'cleanup.policy': { kind: 'enum', changeable: false, values: ['DELETE', 'COMPACTION'], defaultValue: 'DELETE' },
  'message.type': { kind: 'enum', changeable: true, values: TopicMessageTypes, defaultValue: 'NORMAL' },
  'reserve.time': { kind: 'long', changeable: true, min: -1n, max: 2n ** 63n - 1n, defaultValue: -1n },
};

/** Upstream `SubscriptionGroupAttributes.ALL`: none are defined. */
export const SUBSCRIPTION_GROUP_ATTRIBUTES: Readonly<Record<string, AttributeSpec>> = {};

export const MESSAGE_TYPE_ATTRIBUTE = 'message.type';

/** An attribute modification the broker refuses; the message says which key and why. */
export class AttributeError extends Error {}

/**
 * Parses `+k=v,+k2=v2,-k3` into its signed keys (upstream `AttributeParser.parseToMap`): an
 * addition needs `=`, a removal has none, and no key may come twice.
 */
export function parseAttributeModification(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === undefined || text === '') return out;
  for (const kv of text.split(',')) {
    let key: string;
    let value: string;
    const eq = kv.indexOf('=');
    if (eq >= 0) {
      key = kv.slice(0, eq);
      value = kv.slice(eq + 1);
      if (!key.includes('+')) throw new AttributeError(`add/alter attribute format is wrong: ${key} (write +${key}=${value})`);
    } else {
      key = kv;
      value = '';
      if (!key.includes('-')) throw new AttributeError(`delete attribute format is wrong: ${key} (write -${key} to remove it, +${key}=<value> to set it)`);
    }
    if (out.has(key)) throw new AttributeError(`key duplication: ${key}`);
    out.set(key, value);
  }
  return out;
}

/**
 * A modification as requests carry it (upstream `AttributeParser.parseToString`): `+k=v` and
 * `-k`. A key given without its sign is an addition.
 */
export function attributeModificationToString(mod: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  const entries = mod instanceof Map ? [...mod] : Object.entries(mod);
  return entries.map(([k, v]) => {
    const key = k.startsWith('+') || k.startsWith('-') ? k : `+${k}`;
    return v === '' && key.startsWith('-') ? key : `${key}=${v}`;
  }).join(',');
}

/**
 * The attributes after `mod` (signed keys) applies to `current` (upstream
 * `AttributeUtil.alterCurrentAttributes`). Creating a topic may only add; unknown keys, values
 * outside an attribute's range, changes of an unchangeable attribute and removals of a key that
 * is not set are refused.
 */
export function alterAttributes(create: boolean, specs: Readonly<Record<string, AttributeSpec>>,
  current: Readonly<Record<string, string>>, mod: ReadonlyMap<string, string>): Record<string, string> {
  const set = new Map<string, string>();
  const removed = new Set<string>();
  for (const [signed, value] of mod) {
    const key = signed.slice(1);
    if (key === '' || key.includes('+') || key.includes('-')) throw new AttributeError(`kv string format wrong: ${signed}`);
    if (set.has(key) || removed.has(key)) throw new AttributeError(`alter duplication key. key: ${key}`);
    const spec = specs[key];
    if (create) {
      if (!signed.startsWith('+')) throw new AttributeError(`only add attribute is supported while creating topic. key: ${key}`);
    } else if (signed.startsWith('-')) {
      if (!(key in current)) throw new AttributeError(`attempt to delete a nonexistent key: ${key}`);
    } else if (!signed.startsWith('+')) {
      throw new AttributeError(`wrong format key: ${key}`);
    }
    if (spec === undefined) throw new AttributeError(`unsupported key: ${key} (known: ${Object.keys(specs).join(', ') || 'none'})`);
    if (!create && !spec.changeable) throw new AttributeError(`attempt to update an unchangeable attribute. key: ${key}`);
    if (signed.startsWith('-')) {
      removed.add(key);
      continue;
    }
    verify(key, spec, value);
    set.set(key, value);
  }
  const out: Record<string, string> = { ...current };
  for (const [k, v] of set) out[k] = v;
  for (const k of removed) delete out[k];
  return out;
}

function verify(key: string, spec: AttributeSpec, value: string): void {
  if (spec.kind === 'enum') {
    if (!spec.values.includes(value)) throw new AttributeError(`value is not in set: [${spec.values.join(', ')}] (attribute ${key}=${value})`);
    return;
  }
  const n = javaParseLong(value);
  if (n === undefined) throw new AttributeError(`For input string: "${value}" (attribute ${key} takes an integer)`);
  if (n < spec.min || n > spec.max) throw new AttributeError(`value is not in range(${spec.min}, ${spec.max}) (attribute ${key}=${value})`);
}
