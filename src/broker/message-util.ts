import { decodeProperties, encodeProperties, getProperty } from '../common/properties.js';
import { MessageConst } from '../common/message-const.js';
import { javaLong, javaParseInt, javaParseLong, javaStringHashCode } from '../common/java.js';
import { SystemTopic } from '../common/topic.js';
import { MessageSysFlag, transactionValue } from '../common/sysflag.js';
import { decodeRecord, type StoredRecord } from '../common/message-record.js';
import { encodeSocketAddress, splitAddress } from '../common/socket-address.js';
import type { PutMessageInput } from '../store/message-store.js';
import type { MessageStoreConfig } from '../common/config.js';
import { ResponseCode } from '../remoting/codes.js';
import { effectivePrecisionMs, roundDeliverMs, TIMER_TOPIC, TimerProp } from './timer/timer-const.js';

/** Tag code of a properties string: Java hashCode of TAGS, 0 without tags. */
export function tagsCodeOf(properties: string): number {
  const tags = getProperty(properties, MessageConst.TAGS);
  return tags ? javaStringHashCode(tags) : 0;
}

/** A stored record turned back into something to store again (retry, delay delivery, DLQ). */
export function putInputFromRecord(record: Buffer): { ext: StoredRecord; input: PutMessageInput } {
  const ext = decodeRecord(record);
  const { host, port } = splitAddress(ext.bornHost.startsWith('[') ? ext.bornHost.replace(/^\[(.*)\]/, '$1') : ext.bornHost);
  return {
    ext,
    input: {
      topic: ext.topic, queueId: ext.queueId, flag: ext.flag, sysFlag: ext.sysFlag, bornTimestamp: ext.bornTimestamp,
      bornHost: encodeSocketAddress(host, port), reconsumeTimes: ext.reconsumeTimes,
      preparedTransactionOffset: ext.preparedTransactionOffset, body: Buffer.from(ext.body), properties: ext.properties,
      tagsCode: tagsCodeOf(ext.properties), waitStoreMsgOK: true,
    },
  };
}

/** Applies `edit` to a properties string (decode, change, encode). */
export function editProperties(properties: string, edit: (p: Map<string, string>) => void): string {
  const map = decodeProperties(properties);
  edit(map);
  return encodeProperties(map);
}

/**
 * The delay level a DELAY property value asks for (upstream `Message.getDelayTimeLevel`, an
 * `Integer.parseInt`): 0 when absent or empty (upstream's property map drops empty values),
 * undefined when Java would throw NumberFormatException.
 */
export function parseDelayLevel(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? 0 : javaParseInt(value);
}

/**
 * Parks a message with a delay level on SCHEDULE_TOPIC_XXXX, queue level − 1, keeping its
 * destination in REAL_TOPIC / REAL_QID (upstream `HookUtils.handleScheduleMessage`). Only
 * normal and committed messages are delayed; levels above the highest are clamped.
 */
export function toScheduleTopic(input: PutMessageInput, level: number, maxLevel: number): void {
  const t = transactionValue(input.sysFlag);
  if (t !== MessageSysFlag.TRANSACTION_NOT_TYPE && t !== MessageSysFlag.TRANSACTION_COMMIT_TYPE) return;
  const lvl = Math.min(level, maxLevel);
  input.properties = editProperties(input.properties, (p) => {
    p.set(MessageConst.REAL_TOPIC, input.topic);
    p.set(MessageConst.REAL_QUEUE_ID, String(input.queueId));
    p.set(MessageConst.DELAY_TIME_LEVEL, String(lvl));
  });
  input.topic = SystemTopic.SCHEDULE_TOPIC;
  input.queueId = lvl - 1;
}

/** What `toTimerTopic` did with a message. */
export type TimerRoute =
  /** Not a timer message, or one whose time has come: stored as it is. */
  | { kind: 'NONE' }
  /** Parked on rmq_sys_wheel_timer queue 0 until `timerOutMs`. */
  | { kind: 'TIMER'; timerOutMs: number }
  /** timerWheelEnable=false (answered SYSTEM_ERROR). */
  | { kind: 'WHEEL_TIMER_NOT_ENABLE' }
  /** A delay Java's Long.parseLong refuses or beyond timerMaxDelaySec, or a delete marker for a past time (answered MESSAGE_ILLEGAL). */
  | { kind: 'WHEEL_TIMER_MSG_ILLEGAL' };

/**
 * Parks a timer message (upstream `HookUtils.handleScheduleMessage` / `transformTimerMessage`).
 * TIMER_DELAY_SEC wins over TIMER_DELAY_MS, which wins over TIMER_DELIVER_MS; with a DELAY level
 * set all three are dropped and the level applies. The delivery time is rounded down to the
 * timer precision and kept in TIMER_OUT_MS, the destination in REAL_TOPIC / REAL_QID, and the
 * message moves to rmq_sys_wheel_timer queue 0. A time not in the future is delivered at once.
 * Only normal and committed messages are timed; one already carrying TIMER_OUT_MS is not again.
 * The properties are read as upstream's map holds them: an empty value is no value, and of a
 * repeated name the last value counts. A DELAY that is no int counts as no level here: the
 * send path refuses it before (`parseDelayLevel`).
 */
export function toTimerTopic(
  input: PutMessageInput,
  cfg: Pick<MessageStoreConfig, 'timerWheelEnable' | 'timerMaxDelaySec' | 'timerPrecisionMs'>,
  now = Date.now(),
): TimerRoute {
  const t = transactionValue(input.sysFlag);
  if (t !== MessageSysFlag.TRANSACTION_NOT_TYPE && t !== MessageSysFlag.TRANSACTION_COMMIT_TYPE) return { kind: 'NONE' };
  if (input.topic === TIMER_TOPIC) return { kind: 'NONE' };
  const raw = input.properties;
  if (getProperty(raw, TimerProp.DELAY_SEC) === undefined && getProperty(raw, TimerProp.DELAY_MS) === undefined
    && getProperty(raw, TimerProp.DELIVER_MS) === undefined) return { kind: 'NONE' };
  const props = decodeProperties(raw);
  const sec = props.get(TimerProp.DELAY_SEC);
  const ms = props.get(TimerProp.DELAY_MS);
  const at = props.get(TimerProp.DELIVER_MS);
  if (sec === undefined && ms === undefined && at === undefined) return { kind: 'NONE' };
  if ((parseDelayLevel(props.get(MessageConst.DELAY_TIME_LEVEL)) ?? 0) > 0) {
    props.delete(TimerProp.DELIVER_MS);
    props.delete(TimerProp.DELAY_SEC);
    props.delete(TimerProp.DELAY_MS);
    input.properties = encodeProperties(props);
    return { kind: 'NONE' };
  }
  if (props.has(TimerProp.OUT_MS)) return { kind: 'NONE' };
  if (!cfg.timerWheelEnable) return { kind: 'WHEEL_TIMER_NOT_ENABLE' };
  // Java long arithmetic, as upstream: a sum that overflows wraps around, into the past.
  const nowL = BigInt(now);
  let deliver: bigint | undefined;
  if (sec !== undefined) {
    const v = javaParseLong(sec);
    deliver = v === undefined ? undefined : javaLong(nowL + javaLong(v * 1000n));
  } else if (ms !== undefined) {
    const v = javaParseLong(ms);
    deliver = v === undefined ? undefined : javaLong(nowL + v);
  } else {
    deliver = javaParseLong(at!);
  }
  if (deliver === undefined) return { kind: 'WHEEL_TIMER_MSG_ILLEGAL' };
  if (deliver <= nowL) {
    // Due already: delivered as a normal message, except a delete marker, which has nothing left to cancel.
    return props.has(TimerProp.DEL_UNIQKEY) ? { kind: 'WHEEL_TIMER_MSG_ILLEGAL' } : { kind: 'NONE' };
  }
  if (Number(deliver - nowL) > cfg.timerMaxDelaySec * 1000) return { kind: 'WHEEL_TIMER_MSG_ILLEGAL' };
  const timerOutMs = roundDeliverMs(Number(deliver), effectivePrecisionMs(cfg.timerPrecisionMs));
  props.set(TimerProp.OUT_MS, String(timerOutMs));
  props.set(MessageConst.REAL_TOPIC, input.topic);
  props.set(MessageConst.REAL_QUEUE_ID, String(input.queueId));
  input.properties = encodeProperties(props);
  input.topic = TIMER_TOPIC;
  input.queueId = 0;
  return { kind: 'TIMER', timerOutMs };
}

/** A put the broker refuses before storing it: the response code and remark to answer. */
export interface PutRefusal { code: number; remark: string }

/**
 * The answer to a DELAY that is no int: upstream's put hook reads the level with
 * Integer.parseInt, whose NumberFormatException reaches the remoting layer as SYSTEM_ERROR.
 */
export function delayLevelRefusal(value: string | undefined): PutRefusal {
  return {
    code: ResponseCode.SYSTEM_ERROR,
    remark: `For input string: "${value}": the ${MessageConst.DELAY_TIME_LEVEL} property (a delay level) must be an int`,
  };
}

/**
 * The answer to a timer message `toTimerTopic` could not park, or whose second of the wheel is
 * congested (`congested`: the timer store's isReject, upstream WHEEL_TIMER_FLOW_CONTROL), or
 * undefined (upstream `SendMessageProcessor` and `EndTransactionProcessor#sendFinalMessage` map
 * the put statuses alike).
 */
export function timerRefusal(
  route: TimerRoute, cfg: Pick<MessageStoreConfig, 'timerMaxDelaySec' | 'timerCongestNumEachSlot'>, congested: (timerOutMs: number) => boolean,
): PutRefusal | undefined {
  if (route.kind === 'WHEEL_TIMER_NOT_ENABLE') {
    return {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `accurate timer message is not enabled, timerWheelEnable is false; set timerWheelEnable=true in broker.conf to send ${TimerProp.DELIVER_MS}/${TimerProp.DELAY_SEC}/${TimerProp.DELAY_MS} messages`,
    };
  }
  if (route.kind === 'WHEEL_TIMER_MSG_ILLEGAL') {
    return {
      code: ResponseCode.MESSAGE_ILLEGAL,
      remark: `timer message illegal, the delay time should not be bigger than the max delay ${cfg.timerMaxDelaySec * 1000}ms; or if set del msg, the delay time should be bigger than the current time (the max is timerMaxDelaySec; ${TimerProp.DELIVER_MS}, ${TimerProp.DELAY_SEC} and ${TimerProp.DELAY_MS} must be integers)`,
    };
  }
  if (route.kind === 'TIMER' && congested(route.timerOutMs)) {
    const n = cfg.timerCongestNumEachSlot;
    return {
      code: ResponseCode.SYSTEM_ERROR,
      remark: `timer message is under flow control, max num limit is ${n * 2} or the current value is greater than ${n} and less than ${n * 2}, trigger random flow control`,
    };
  }
  return undefined;
}
