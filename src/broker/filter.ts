import type { MessageFilter } from '../store/get-message-result.js';
import { SUB_ALL, type SubscriptionData } from '../common/subscription.js';

export { SUB_ALL, buildTagSubscription } from '../common/subscription.js';

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
