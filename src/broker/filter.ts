import type { MessageFilter } from '../store/get-message-result.js';
import { bodyLengthPos, MESSAGE_MAGIC_CODE_V2, RecordPos } from '../common/message-record.js';
import { MessageConst } from '../common/message-const.js';
import { decodeProperties } from '../common/properties.js';
import { ExpressionType, SUB_ALL, type SubscriptionData } from '../common/subscription.js';
import { isRetryTopic } from '../common/topic.js';
import { ResponseCode } from '../remoting/codes.js';
import { tryCompileSql92, type FilterParseError, type Sql92Expression } from '../filter/index.js';

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

/** Upstream `ExpressionType.isTagType`: absent, empty or `TAG`. */
export function isTagExpressionType(type: string | undefined): boolean {
  return type === undefined || type === '' || type === ExpressionType.TAG;
}

/** The properties string of a stored record (layout in message-record.ts), without decoding its other fields. */
export function recordPropertiesText(record: Buffer): string {
  let p = bodyLengthPos(record.readInt32BE(RecordPos.SYSFLAG));
  p += 4 + record.readInt32BE(p);
  if (record.readInt32BE(RecordPos.MAGICCODE) === MESSAGE_MAGIC_CODE_V2) p += 2 + record.readInt16BE(p);
  else p += 1 + record.readInt8(p);
  const len = record.readInt16BE(p);
  return record.toString('utf8', p + 2, p + 2 + len);
}

/**
 * SQL92 property filter (upstream `ExpressionMessageFilter`, SQL92 type, without the bloom-filter
 * bitmap): every ConsumeQueue entry passes, then the stored record's properties (TAGS included)
 * are evaluated; unknown or an evaluation error is no match.
 */
export class Sql92MessageFilter implements MessageFilter {
  constructor(readonly expression: Sql92Expression) {}

  isMatchedByConsumeQueue(): boolean {
    return true;
  }

  isMatchedByCommitLog(record: Buffer): boolean {
    return this.expression.matches(decodeProperties(recordPropertiesText(record)));
  }
}

/**
 * SQL92 filter of a retry topic when `filterSupportRetry` is on (upstream
 * `ExpressionForRetryMessageFilter`): each message is evaluated with the group's filter for its
 * original topic (property RETRY_TOPIC); it matches when that topic has no SQL92 subscription.
 */
export class RetrySql92MessageFilter implements MessageFilter {
  constructor(private readonly filterOf: (realTopic: string) => Sql92Expression | undefined) {}

  isMatchedByConsumeQueue(): boolean {
    return true;
  }

  isMatchedByCommitLog(record: Buffer): boolean {
    const props = decodeProperties(recordPropertiesText(record));
    const realTopic = props.get(MessageConst.RETRY_TOPIC);
    const expression = realTopic === undefined ? undefined : this.filterOf(realTopic);
    return expression ? expression.matches(props) : true;
  }
}

/** What the broker needs besides the subscription to pick a filter. */
export interface FilterSettings {
  enablePropertyFilter: boolean;
  filterSupportRetry: boolean;
  /** The pulling group's subscription to a topic, as its heartbeats registered it. */
  subscriptionOf(topic: string): SubscriptionData | undefined;
}

/** The filter for a pull, or the error response upstream gives instead. */
export type MessageFilterChoice = { filter: MessageFilter; code?: undefined; remark?: undefined } | { filter?: undefined; code: number; remark: string };

/** The parse error of an SQL92 subscription, or undefined when it is not SQL92 or parses. */
export function sql92SubscriptionError(sub: SubscriptionData): FilterParseError | undefined {
  return sub.expressionType === ExpressionType.SQL92 ? tryCompileSql92(sub.subString).error : undefined;
}

/**
 * Picks a pull's filter as upstream's PullMessageProcessor does: TAG → tag codes; SQL92 → the
 * compiled expression (a malformed one is SUBSCRIPTION_PARSE_FAILED with its position), refused
 * with SYSTEM_ERROR when the broker's `enablePropertyFilter` is off; an SQL92 pull of a retry
 * topic uses the original topics' filters when `filterSupportRetry` is on. Other expression types
 * are SUBSCRIPTION_PARSE_FAILED.
 */
export function chooseMessageFilter(sub: SubscriptionData, settings: FilterSettings): MessageFilterChoice {
  if (isTagExpressionType(sub.expressionType)) return { filter: new TagMessageFilter(sub) };
  if (sub.expressionType !== ExpressionType.SQL92) {
    return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: `parse the consumer's subscription failed: expression type ${sub.expressionType} is not supported; use TAG or SQL92` };
  }
  const { expr, error } = tryCompileSql92(sub.subString);
  if (error) return { code: ResponseCode.SUBSCRIPTION_PARSE_FAILED, remark: `parse the consumer's subscription failed: ${error.message}` };
  if (!settings.enablePropertyFilter) {
    return { code: ResponseCode.SYSTEM_ERROR, remark: `The broker does not support consumer to filter message by ${ExpressionType.SQL92}` };
  }
  if (settings.filterSupportRetry && isRetryTopic(sub.topic)) {
    return {
      filter: new RetrySql92MessageFilter((realTopic) => {
        const real = settings.subscriptionOf(realTopic);
        return real && real.expressionType === ExpressionType.SQL92 ? tryCompileSql92(real.subString).expr : undefined;
      }),
    };
  }
  return { filter: new Sql92MessageFilter(expr) };
}
