import { RETRY_GROUP_TOPIC_PREFIX } from '../../common/topic.js';

/**
 * POP check points and their identities (upstream `PopCheckPoint`, `AckMsg`, `ExtraInfoUtil`,
 * `KeyBuilder`). A check point (CK) records one pop of one queue: which offsets were handed
 * out, when, and for how long they stay invisible. Acks tick offsets off; a CK with offsets left
 * when its invisible time runs out is revived.
 */

/** Names and tags of the POP machinery (upstream `PopAckConstants`). */
export const PopConstants = {
  /** Internal group whose offset on the revive log is how far check points were replayed. */
  REVIVE_GROUP: 'CID_RMQ_SYS_REVIVE_GROUP',
  CK_TAG: 'ck',
  ACK_TAG: 'ack',
  /** Revive queue id that marks an orderly (FIFO) pop in its extra info (upstream). */
  ORDER_REVIVE_QUEUE: 999,
  /** Revive queue id of ordinary pops: this broker keeps a single revive queue. */
  REVIVE_QUEUE: 0,
  /** Extra-info topic types: the message was read from the topic itself / from the group's POP retry topic. */
  TOPIC_TYPE_NORMAL: 0,
  TOPIC_TYPE_RETRY_V1: 1,
} as const;

/** The revive log of a cluster (upstream `rmq_sys_REVIVE_LOG_<cluster>`): check points and acks, in order. */
export function reviveTopicOf(cluster: string): string {
  return `rmq_sys_REVIVE_LOG_${cluster}`;
}

/**
 * The POP retry topic of a group on a topic (upstream `KeyBuilder.buildPopRetryTopicV1`,
 * `%RETRY%<group>_<topic>`): messages revived after their invisible time are stored here.
 * (Upstream's V2 spelling `%RETRY%<group>+<topic>` is not a legal topic name for this broker.)
 */
export function popRetryTopic(group: string, topic: string): string {
  return `${RETRY_GROUP_TOPIC_PREFIX}${group}_${topic}`;
}

/** Upstream's V2 spelling of the POP retry topic (`KeyBuilder.buildPopRetryTopicV2`), only ever found in a stored config. */
export function popRetryTopicV2(group: string, topic: string): string {
  return `${RETRY_GROUP_TOPIC_PREFIX}${group}+${topic}`;
}

/**
 * What a consumer holds for one popped message (upstream "extra info", the broker part of
 * a receipt handle): `ckQueueOffset popTime invisibleTime reviveQid topicType brokerName queueId queueOffset`.
 */
export interface ExtraInfo {
  /** First offset of the check point the message belongs to. */
  ckQueueOffset: number;
  popTime: number;
  invisibleTime: number;
  /** 999 for an orderly pop (upstream), else the revive queue. */
  reviveQid: number;
  /** 0: read from the topic; 1: read from the group's POP retry topic. */
  topicType: number;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

export function encodeExtraInfo(e: ExtraInfo): string {
  return `${e.ckQueueOffset} ${e.popTime} ${e.invisibleTime} ${e.reviveQid} ${e.topicType} ${e.brokerName} ${e.queueId} ${e.queueOffset}`;
}

/** Parses extra info; undefined when it is malformed. */
export function decodeExtraInfo(fields: string[]): ExtraInfo | undefined {
  if (fields.length !== 8) return undefined;
  const [ck, pt, it, rq, tt, bn, q, o] = fields as [string, string, string, string, string, string, string, string];
  const nums = [ck, pt, it, rq, tt, q, o].map((s) => (/^-?\d{1,16}$/.test(s) ? Number(s) : NaN));
  if (nums.some((n) => !Number.isSafeInteger(n)) || bn.length === 0) return undefined;
  const [ckQueueOffset, popTime, invisibleTime, reviveQid, topicType, queueId, queueOffset] = nums as [number, number, number, number, number, number, number];
  if (topicType !== PopConstants.TOPIC_TYPE_NORMAL && topicType !== PopConstants.TOPIC_TYPE_RETRY_V1) return undefined;
  if (queueId < 0 || queueOffset < 0 || ckQueueOffset < 0 || invisibleTime < 0 || popTime <= 0) return undefined;
  return { ckQueueOffset, popTime, invisibleTime, reviveQid, topicType, brokerName: bn, queueId, queueOffset };
}

/** One pop of one queue, as held in memory while its messages are in flight. */
export interface PopCheckPoint {
  group: string;
  /** The topic the consumer asked for. */
  topic: string;
  /** True when the messages were read from the group's POP retry topic of `topic`. */
  retry: boolean;
  queueId: number;
  startOffset: number;
  popTime: number;
  invisibleTime: number;
  /** Queue offsets handed out, ascending. */
  offsets: number[];
  /** Offsets acked so far (by index into `offsets`). */
  acked: boolean[];
  ackedCount: number;
  /** Orderly (FIFO) pop: the queue stays blocked while the check point lives. */
  order: boolean;
  /** FIFO: earlier deliveries of each offset (parallel to `offsets`). */
  attempts?: number[];
  /**
   * FIFO: the receive attempt that popped it (upstream `OrderInfo.attemptId`). A pop of the same
   * attempt, a client's retry of a receive whose answer it never got, is given the block again.
   */
  attemptId?: string;
  /** When the unacked offsets come back (popTime + invisibleTime, later when renewed). */
  reviveAt: number;
  /** Client whose receipt handles the server renews itself (gRPC auto_renew), while it lives. */
  renewFor?: string;
}

/** Identity of a check point (upstream `KeyBuilder.buildPollingKey` + pop time). */
export function ckKey(group: string, topic: string, retry: boolean, queueId: number, startOffset: number, popTime: number): string {
  return `${group}\u0001${topic}\u0001${retry ? 1 : 0}\u0001${queueId}\u0001${startOffset}\u0001${popTime}`;
}

export function keyOf(ck: Pick<PopCheckPoint, 'group' | 'topic' | 'retry' | 'queueId' | 'startOffset' | 'popTime'>): string {
  return ckKey(ck.group, ck.topic, ck.retry, ck.queueId, ck.startOffset, ck.popTime);
}

/** The queue a check point reads, as a key: `group, topic, retry, queueId`. */
export function queueKeyOf(ck: Pick<PopCheckPoint, 'group' | 'topic' | 'retry' | 'queueId'>): string {
  return `${ck.group}\u0001${ck.topic}\u0001${ck.retry ? 1 : 0}\u0001${ck.queueId}`;
}

/**
 * A check point as written to the revive log and the snapshot (upstream CK JSON keeps
 * `so, pt, it, n, q, t, c, d`): offsets are stored as differences from the start offset.
 */
/** Fields every revive-log record carries: group, topic, retry flag, queue, start offset, pop time. */
interface ReviveRecordBase {
  c: string;
  t: string;
  r: 0 | 1;
  q: number;
  so: number;
  pt: number;
}

export interface CheckPointRecord extends ReviveRecordBase {
  it: number;
  d: number[];
  /** Orderly pop. */
  o?: 1;
  /** FIFO attempts before this pop, parallel to `d`. */
  a?: number[];
  /** FIFO: the receive attempt id of the pop. */
  ai?: string;
  /** Offsets already acked (snapshot only), as differences. */
  k?: number[];
}

/** An ack written to the revive log: offsets of one check point ticked off. */
export interface AckRecord extends ReviveRecordBase {
  /** Acked offsets, as differences from `so`. */
  d: number[];
  /** Not a consumer's ack: the offsets were moved on (changed invisible time, revived, sent to the DLQ). */
  x?: 1;
}

export function toRecord(ck: PopCheckPoint, withAcks: boolean): CheckPointRecord {
  const rec: CheckPointRecord = {
    c: ck.group, t: ck.topic, r: ck.retry ? 1 : 0, q: ck.queueId, so: ck.startOffset, pt: ck.popTime, it: ck.invisibleTime,
    d: ck.offsets.map((o) => o - ck.startOffset),
  };
  if (ck.order) rec.o = 1;
  if (ck.attempts && ck.attempts.some((a) => a > 0)) rec.a = ck.attempts;
  if (ck.attemptId !== undefined) rec.ai = ck.attemptId;
  if (withAcks && ck.ackedCount > 0) rec.k = ck.offsets.filter((_, i) => ck.acked[i]).map((o) => o - ck.startOffset);
  return rec;
}

/** A check point from its record; undefined when the record is malformed. */
export function fromRecord(rec: CheckPointRecord): PopCheckPoint | undefined {
  if (typeof rec?.c !== 'string' || typeof rec.t !== 'string' || !Array.isArray(rec.d) || rec.d.length === 0) return undefined;
  const nums = [rec.q, rec.so, rec.pt, rec.it, ...rec.d];
  if (nums.some((n) => typeof n !== 'number' || !Number.isSafeInteger(n))) return undefined;
  const offsets = rec.d.map((d) => rec.so + d);
  const ck: PopCheckPoint = {
    group: rec.c, topic: rec.t, retry: rec.r === 1, queueId: rec.q, startOffset: rec.so, popTime: rec.pt, invisibleTime: rec.it,
    offsets, acked: offsets.map(() => false), ackedCount: 0, order: rec.o === 1, reviveAt: rec.pt + rec.it,
  };
  if (Array.isArray(rec.a) && rec.a.length === offsets.length) ck.attempts = rec.a.map((a) => Number(a) || 0);
  else if (ck.order) ck.attempts = offsets.map(() => 0);
  if (ck.order && typeof rec.ai === 'string') ck.attemptId = rec.ai;
  for (const d of rec.k ?? []) {
    const i = ck.offsets.indexOf(rec.so + d);
    if (i >= 0 && !ck.acked[i]) {
      ck.acked[i] = true;
      ck.ackedCount++;
    }
  }
  return ck;
}
