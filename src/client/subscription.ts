import { buildSubscription, ExpressionType, parseTagExpression, SUB_ALL, type ExpressionTypeValue, type SubscriptionData } from '../common/subscription.js';
import { ClientErrorCode, MQClientError } from './errors.js';

/**
 * Builds a subscription for a heartbeat (upstream `FilterAPI.buildSubscriptionData`, see
 * `buildSubscription`): for TAG, `""`/`"*"` means every tag, otherwise tags split on `||` and
 * trimmed, each with its Java hash code, and `subString` stays the expression as written. An
 * expression that names no tag is an ARGUMENT_ILLEGAL error, as upstream's client refuses it.
 */
export function buildSubscriptionData(topic: string, subString: string | undefined, expressionType: ExpressionTypeValue = ExpressionType.TAG, now = Date.now()): SubscriptionData {
  const sub = buildSubscription(topic, subString, expressionType, now);
  if (expressionType !== ExpressionType.TAG || sub.subString === SUB_ALL) return sub;
  if (sub.tagsSet.length === 0) {
    throw new MQClientError(`subscription expression "${subString}" names no tag: use "*" for all tags or "TagA || TagB"`, ClientErrorCode.ARGUMENT_ILLEGAL);
  }
  sub.subString = subString ?? SUB_ALL;
  return sub;
}

/**
 * Parses a TAG expression to the set of tags it accepts; undefined means every tag
 * (`""`, `"*"`, or no expression). Used to re-check pulled messages against hash collisions.
 */
export function tagFilterOf(subString: string | undefined): ReadonlySet<string> | undefined {
  const tags = parseTagExpression(subString);
  return tags !== undefined && tags.length > 0 ? new Set(tags) : undefined;
}

/** What a consumer subscribes with: a TAG expression (`"*"`, `"TagA || TagB"`) or an SQL92 filter. */
export type SubscriptionExpression = string | { sql: string };

/** The subscription for `expr`: SQL92 needs the broker's enablePropertyFilter. */
export function subscriptionOf(topic: string, expr: SubscriptionExpression | undefined): SubscriptionData {
  if (typeof expr === 'object' && expr !== null) {
    if (!expr.sql || !expr.sql.trim()) throw new MQClientError('an SQL92 subscription needs an expression, e.g. { sql: "a > 5" }', ClientErrorCode.ARGUMENT_ILLEGAL);
    return buildSubscriptionData(topic, expr.sql, ExpressionType.SQL92);
  }
  return buildSubscriptionData(topic, expr ?? SUB_ALL, ExpressionType.TAG);
}
