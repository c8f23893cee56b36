import { javaStringHashCode } from './java.js';

/**
 * Subscriptions (upstream `SubscriptionData` and `FilterAPI`), shared by the client, which
 * builds them for heartbeats, and the broker, which reads them from heartbeats and builds them
 * from the expression of a pull.
 */

/** The expression that accepts every tag. */
export const SUB_ALL = '*';

export const ExpressionType = { TAG: 'TAG', SQL92: 'SQL92' } as const;
export type ExpressionTypeValue = (typeof ExpressionType)[keyof typeof ExpressionType];

/** A consumer's subscription to one topic, as heartbeats carry it (upstream `SubscriptionData`). */
export interface SubscriptionData {
  topic: string;
  subString: string;
  tagsSet: string[];
  codeSet: number[];
  subVersion: number;
  classFilterMode: boolean;
  /** `TAG` or `SQL92` (see ExpressionType); any text a heartbeat carries is kept as is. */
  expressionType: string;
}

/**
 * The tags a TAG expression names: split on `||`, trimmed, empty and repeated ones dropped, in
 * order. undefined when the expression accepts every tag (`""`, `"*"`, or none); an empty list
 * when it names no tag although it is not `*` (e.g. `"||"`).
 */
export function parseTagExpression(subString: string | undefined): string[] | undefined {
  const expr = (subString ?? '').trim();
  if (expr === '' || expr === SUB_ALL) return undefined;
  const tags: string[] = [];
  for (const t of expr.split('||')) {
    const tag = t.trim();
    if (tag.length > 0 && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/**
 * Builds a subscription from an expression (upstream `FilterAPI.buildSubscriptionData`). For TAG,
 * an expression accepting every tag becomes `*` with no tags; otherwise `subString` keeps the
 * trimmed expression, with its tags and their Java hash codes. An expression naming no tag gets
 * empty sets (which match every message): callers that must reject it check `tagsSet`. Other
 * expression types are carried as given (`*` when absent), without tags.
 */
export function buildSubscription(topic: string, subString: string | undefined, expressionType: string = ExpressionType.TAG, subVersion = Date.now()): SubscriptionData {
  const sub: SubscriptionData = { topic, subString: subString ?? SUB_ALL, tagsSet: [], codeSet: [], subVersion, classFilterMode: false, expressionType };
  if (expressionType !== ExpressionType.TAG) return sub;
  const tags = parseTagExpression(subString);
  if (tags === undefined) {
    sub.subString = SUB_ALL;
    return sub;
  }
  sub.subString = (subString ?? '').trim();
  sub.tagsSet = tags;
  sub.codeSet = tags.map(javaStringHashCode);
  return sub;
}

/** A TAG subscription (see buildSubscription). */
export function buildTagSubscription(topic: string, subString: string | undefined, subVersion = Date.now()): SubscriptionData {
  return buildSubscription(topic, subString, ExpressionType.TAG, subVersion);
}
