import { javaStringHashCode } from '../common/java.js';
import type { MessageFilter } from '../store/get-message-result.js';
import type { SubscriptionData } from './client/heartbeat.js';

export const SUB_ALL = '*';

/**
 * Builds a TAG subscription from its expression (upstream `FilterAPI.buildSubscriptionData`):
 * `""`/`"*"` means all; otherwise tags split on `||`, trimmed, hashed with Java hashCode.
 */
export function buildTagSubscription(topic: string, subString: string | undefined, subVersion = Date.now()): SubscriptionData {
  const sub: SubscriptionData = { topic, subString: SUB_ALL, tagsSet: [], codeSet: [], subVersion, expressionType: 'TAG', classFilterMode: false };
  const expr = (subString ?? '').trim();
  if (expr === '' || expr === SUB_ALL) return sub;
  sub.subString = expr;
  for (const t of expr.split('||')) {
    const tag = t.trim();
    if (tag.length > 0 && !sub.tagsSet.includes(tag)) {
      sub.tagsSet.push(tag);
      sub.codeSet.push(javaStringHashCode(tag));
    }
  }
  return sub;
}

/** Tag filter on ConsumeQueue tag codes (upstream `ExpressionMessageFilter`, TAG type). */
export class TagMessageFilter implements MessageFilter {
  private readonly all: boolean;
  private readonly codes: Set<number>;

  constructor(sub: SubscriptionData | undefined) {
    this.all = !sub || sub.subString === SUB_ALL || sub.subString === '' || sub.codeSet.length === 0 && sub.tagsSet.length === 0;
    this.codes = new Set(sub?.codeSet ?? []);
  }

  isMatchedByConsumeQueue(tagsCode: number): boolean {
    return this.all || this.codes.has(tagsCode | 0);
  }
}
