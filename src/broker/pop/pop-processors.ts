import { RequestCode, ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, optNumber, optString, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import { buildSubscription, buildTagSubscription, ExpressionType } from '../../common/subscription.js';
import type { BrokerController } from '../broker-controller.js';
import { chooseMessageFilter, TagMessageFilter } from '../filter.js';
import { decodeExtraInfo, encodeExtraInfo, popRetryTopic, type ExtraInfo } from './pop-checkpoint.js';
import type { PoppedMessage } from './pop-message-service.js';

/** Request codes of POP over Remoting (upstream `RequestCode`). */
export const PopRequestCode = {
  POP_MESSAGE: RequestCode.POP_MESSAGE,
  ACK_MESSAGE: RequestCode.ACK_MESSAGE,
  PEEK_MESSAGE: RequestCode.PEEK_MESSAGE,
  CHANGE_MESSAGE_INVISIBLETIME: RequestCode.CHANGE_MESSAGE_INVISIBLETIME,
} as const;

/** Response codes of POP (upstream `ResponseCode`). */
export const PopResponseCode = {
  POLLING_FULL: ResponseCode.POLLING_FULL,
  POLLING_TIMEOUT: ResponseCode.POLLING_TIMEOUT,
} as const;

/** POP_MESSAGE header (upstream `PopMessageRequestHeader`), plus `maxAttempts` (deliveries before the DLQ). */
export interface PopMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  maxMsgNums: number;
  invisibleTime: number;
  pollTime: number;
  bornTime: number;
  initMode: number;
  expType?: string;
  exp?: string;
  order: boolean;
  attemptId?: string;
  maxAttempts?: number;
}

export function decodePopMessageRequestHeader(ext: Ext): PopMessageRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: optNumber(ext, 'queueId') ?? -1,
    maxMsgNums: reqNumber(ext, 'maxMsgNums'),
    invisibleTime: reqNumber(ext, 'invisibleTime'),
    pollTime: optNumber(ext, 'pollTime') ?? 0,
    bornTime: optNumber(ext, 'bornTime') ?? Date.now(),
    initMode: optNumber(ext, 'initMode') ?? 1,
    expType: optString(ext, 'expType'),
    exp: optString(ext, 'exp'),
    order: optBoolean(ext, 'order') ?? false,
    attemptId: optString(ext, 'attemptId'),
    maxAttempts: optNumber(ext, 'maxAttempts'),
  };
}

/** ACK_MESSAGE / CHANGE_MESSAGE_INVISIBLETIME header (upstream `AckMessageRequestHeader`, `ChangeInvisibleTimeRequestHeader`). */
export interface AckMessageRequestHeader {
  consumerGroup: string;
  topic: string;
  queueId: number;
  extraInfo: string;
  offset: number;
  invisibleTime?: number;
}

export function decodeAckMessageRequestHeader(ext: Ext): AckMessageRequestHeader {
  return {
    consumerGroup: reqString(ext, 'consumerGroup'),
    topic: reqString(ext, 'topic'),
    queueId: reqNumber(ext, 'queueId'),
    extraInfo: reqString(ext, 'extraInfo'),
    offset: reqNumber(ext, 'offset'),
    invisibleTime: optNumber(ext, 'invisibleTime'),
  };
}

/** Messages one POP may ask for (upstream PopMessageProcessor refuses more). */
export const MAX_POP_MSG_NUMS = 32;

/** Separator of the per-message extra infos in a POP response (extra info itself is space-separated). */
const EXTRA_INFO_SEPARATOR = ';';

/**
 * POP_MESSAGE, ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME over Remoting (upstream
 * `PopMessageProcessor`, `AckMessageProcessor`, `ChangeInvisibleTimeProcessor`), for proxies in
 * cluster mode and POP-mode push consumers. The POP response carries the stored records as the
 * body and upstream's header: `popTime / invisibleTime / reviveQid / restNum` and, per queue, the
 * check point's start offset (`startOffsetInfo`), the messages' offsets (`msgOffsetInfo`) and for
 * FIFO pops how often each was delivered before (`orderCountInfo`), from which upstream clients
 * build each message's receipt. It also carries each receipt whole (`extraInfos`, `;`-separated)
 * and each delivery attempt (`deliveryAttempts`), which this project's clients read.
 */
export class PopRemotingProcessor {
  constructor(private readonly broker: BrokerController) {}

  async popMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodePopMessageRequestHeader(req.extFields);
    const b = this.broker;
    // As upstream PopMessageProcessor: more than 32 messages per POP is refused, not trimmed.
    if (h.maxMsgNums > MAX_POP_MSG_NUMS) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `the broker[${b.brokerConfig.brokerName}] pop message's num is greater than ${MAX_POP_MSG_NUMS}`);
    }
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(h.consumerGroup);
    let filter;
    let tags: ReadonlySet<string> | undefined;
    if (h.expType === ExpressionType.SQL92) {
      const choice = chooseMessageFilter(buildSubscription(h.topic, h.exp ?? '', ExpressionType.SQL92), {
        enablePropertyFilter: b.brokerConfig.enablePropertyFilter, filterSupportRetry: true, subscriptionOf: () => undefined,
      });
      if (!choice.filter) return createResponse(req, choice.code, choice.remark);
      filter = choice.filter;
    } else {
      const sub = buildTagSubscription(h.topic, h.exp ?? '*');
      filter = new TagMessageFilter(sub);
      if (sub.tagsSet.length > 0) tags = new Set(sub.tagsSet);
    }
    const r = await b.popMessageService.pop({
      group: h.consumerGroup, topic: h.topic, queueId: h.queueId, maxMsgNums: Math.max(1, h.maxMsgNums), invisibleTime: h.invisibleTime,
      filter, tags, order: h.order, pollTime: h.pollTime, maxAttempts: h.maxAttempts ?? (group ? group.retryMaxTimes + 1 : 17),
    });
    switch (r.status) {
      case 'ERROR': return createResponse(req, r.code, r.remark);
      case 'POLLING_FULL': return createResponse(req, PopResponseCode.POLLING_FULL, 'the broker has too many receives waiting');
      case 'NO_MESSAGE': return createResponse(req, PopResponseCode.POLLING_TIMEOUT, 'no new message');
      default: {
        const first = r.messages[0]!.extraInfo;
        return createResponse(req, ResponseCode.SUCCESS, undefined, {
          extFields: {
            popTime: first.popTime, invisibleTime: first.invisibleTime, reviveQid: first.reviveQid, restNum: 0,
            ...offsetInfos(r.messages, h.order),
            extraInfos: r.messages.map((m) => encodeExtraInfo(m.extraInfo)).join(EXTRA_INFO_SEPARATOR),
            deliveryAttempts: r.messages.map((m) => m.deliveryAttempt).join(','),
          },
          body: Buffer.concat(r.messages.map((m) => m.record)),
        });
      }
    }
  }

  async ackMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeAckMessageRequestHeader(req.extFields);
    h.topic = originalTopic(h.consumerGroup, h.topic);
    const info = decodeExtraInfo(h.extraInfo.split(' '));
    if (!info) return createResponse(req, ResponseCode.INVALID_PARAMETER, `extraInfo "${h.extraInfo}" is not a POP extra info`);
    const r = await this.broker.popMessageService.ack(h.consumerGroup, h.topic, { ...info, queueId: h.queueId, queueOffset: h.offset });
    if (r.status === 'OK' || r.status === 'NOT_FOUND') return createResponse(req, ResponseCode.SUCCESS);
    return createResponse(req, ResponseCode.NO_MESSAGE, 'remark' in r ? r.remark : undefined);
  }

  async changeInvisibleTime(req: RemotingCommand): Promise<RemotingCommand> {
    const h = decodeAckMessageRequestHeader(req.extFields);
    h.topic = originalTopic(h.consumerGroup, h.topic);
    const info = decodeExtraInfo(h.extraInfo.split(' '));
    if (!info || h.invisibleTime === undefined) return createResponse(req, ResponseCode.INVALID_PARAMETER, 'extraInfo and invisibleTime are required');
    const r = await this.broker.popMessageService.changeInvisibleTime(h.consumerGroup, h.topic, { ...info, queueId: h.queueId, queueOffset: h.offset }, h.invisibleTime);
    if (r.status !== 'OK' || !r.extraInfo) return createResponse(req, ResponseCode.NO_MESSAGE, 'remark' in r ? r.remark : undefined);
    return createResponse(req, ResponseCode.SUCCESS, undefined, {
      extFields: { popTime: r.extraInfo.popTime, invisibleTime: r.extraInfo.invisibleTime, reviveQid: r.extraInfo.reviveQid },
    });
  }
}

/**
 * The topic a receipt belongs to. Upstream clients ack a message of the group's POP retry topic
 * under that topic's name (`%RETRY%group_topic`, from the receipt's retry mark); check points here
 * are kept under the topic the consumer asked for.
 */
function originalTopic(group: string, topic: string): string {
  const retryPrefix = popRetryTopic(group, '');
  return topic.startsWith(retryPrefix) && topic.length > retryPrefix.length ? topic.slice(retryPrefix.length) : topic;
}

/**
 * Upstream's `startOffsetInfo`, `msgOffsetInfo` and (FIFO) `orderCountInfo` of a POP response
 * (`ExtraInfoUtil.build…`): per retry mark and queue, `mark queueId startOffset`,
 * `mark queueId o1,o2,…` and `mark qo<queueId>%<offset> count` plus `mark queueId minCount`,
 * each list `;`-separated, in the order of the messages in the body.
 */
function offsetInfos(messages: readonly PoppedMessage[], order: boolean): Record<string, string> {
  const queues = new Map<string, { start: number; offsets: number[]; counts: number[] }>();
  for (const m of messages) {
    const e = m.extraInfo;
    const key = `${e.topicType} ${e.queueId}`;
    let q = queues.get(key);
    if (!q) {
      q = { start: e.ckQueueOffset, offsets: [], counts: [] };
      queues.set(key, q);
    }
    q.offsets.push(e.queueOffset);
    q.counts.push(m.deliveryAttempt - 1);
  }
  const start: string[] = [];
  const msg: string[] = [];
  const counts: string[] = [];
  for (const [key, q] of queues) {
    start.push(`${key} ${q.start}`);
    msg.push(`${key} ${q.offsets.join(',')}`);
    if (!order) continue;
    const [mark, queueId] = key.split(' ');
    for (let i = 0; i < q.offsets.length; i++) if (q.counts[i]! > 0) counts.push(`${mark} qo${queueId}%${q.offsets[i]} ${q.counts[i]}`);
    counts.push(`${key} ${Math.min(...q.counts)}`);
  }
  const out: Record<string, string> = { startOffsetInfo: start.join(';'), msgOffsetInfo: msg.join(';') };
  if (order) out.orderCountInfo = counts.join(';');
  return out;
}

/** The per-message extra infos and delivery attempts of a POP response (see PopRemotingProcessor). */
export function decodePopResponseExtras(ext: Record<string, string> | undefined): { extraInfos: ExtraInfo[]; attempts: number[] } {
  const infos = (ext?.extraInfos ?? '').split(EXTRA_INFO_SEPARATOR).filter(Boolean).map((s) => decodeExtraInfo(s.split(' ')));
  if (infos.some((i) => i === undefined)) throw new Error('a POP response carries malformed extra info');
  const attempts = (ext?.deliveryAttempts ?? '').split(',').filter(Boolean).map(Number);
  return { extraInfos: infos as ExtraInfo[], attempts };
}
