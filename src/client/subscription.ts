import { javaStringHashCode } from '../common/java.js';
import { ClientErrorCode, MQClientError } from './errors.js';

export const SUB_ALL = '*';

export const ExpressionType = { TAG: 'TAG', SQL92: 'SQL92' } as const;
export type ExpressionTypeValue = (typeof ExpressionType)[keyof typeof ExpressionType];

/** A subscription as heartbeats carry it (upstream `SubscriptionData`). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  classFilterMode: boolean;
  expressionType: ExpressionTypeValue;
}

/**
 * Builds a subscription from an expression (upstream `FilterAPI.buildSubscriptionData`): for TAG,
 * `""`/`"*"` means every tag, otherwise tags split on `||` and trimmed, each with its Java hash code.
 */
export function buildSubscriptionData(topic: string, subString: string | undefined, expressionType: ExpressionTypeValue = ExpressionType.TAG, now = Date.now()): SubscriptionData {
  const sub: SubscriptionData = {
    topic,
    subString: subString ?? SUB_ALL,
    tagsSet: [],
    codeSet: [],
    subVersion: now,
    classFilterMode: false,
    expressionType,
  };
  if (expressionType !== ExpressionType.TAG) return sub;
  const expr = (subString ?? '').trim();
  if (expr === '' || expr === SUB_ALL) {
    sub.subString = SUB_ALL;
    return sub;
  }
  for (const t of expr.split('||')) {
    const tag = t.trim();
    if (tag.length === 0 || sub.tagsSet.includes(tag)) continue;
    sub.tagsSet.push(tag);
    sub.codeSet.push(javaStringHashCode(tag));
  }
  if (sub.tagsSet.length === 0) {
    throw new MQClientError(`subscription expression "${subString}" names no tag: use "*" for all tags or "TagA || TagB"`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  return sub;
}

/**
 * Parses a TAG expression to the set of tags it accepts; undefined means every tag
 * (`""`, `"*"`, or no expression). Used to re-check pulled messages against hash collisions.
 */
export function tagFilterOf(subString: string | undefined): ReadonlySet<string> | undefined {
  const expr = (subString ?? '').trim();
  if (expr === '' || expr === SUB_ALL) return undefined;
  const set = new Set<string>();
  for (const t of expr.split('||')) {
    const tag = t.trim();
    if (tag.length > 0) set.add(tag);
  }
  return set.size > 0 ? set : undefined;
}
