import { SystemTopic } from '../../common/topic.js';

/**
 * Names and constants of timer messages (upstream `MessageConst`, `TimerMessageStore`,
 * `TimerLog`, `RecallMessageHandle`).
 */

/** The system topic (queue 0) where timer messages wait until they are due. */
export const TIMER_TOPIC = SystemTopic.TIMER_TOPIC;

/** Properties of timer messages, as stored. */
export const TimerProp = {
  /** Absolute delivery time (ms epoch) chosen by the producer. */
  DELIVER_MS: 'TIMER_DELIVER_MS',
  /** Relative delay in seconds. */
  DELAY_SEC: 'TIMER_DELAY_SEC',
  /** Relative delay in milliseconds. */
  DELAY_MS: 'TIMER_DELAY_MS',
  /** Broker-set: the delivery time rounded down to the precision; its presence marks a converted message. */
  OUT_MS: 'TIMER_OUT_MS',
  /** Broker-set on delivery: when the message entered the timer log. */
  ENQUEUE_MS: 'TIMER_ENQUEUE_MS',
  /** Broker-set on delivery: when it left the timer log. */
  DEQUEUE_MS: 'TIMER_DEQUEUE_MS',
  /** Broker-set: how often a long timer was re-put to stay inside the wheel's window. */
  ROLL_TIMES: 'TIMER_ROLL_TIMES',
  /** `realTopic+uniqKey` (or a bare uniqKey) of the pending timer message this one cancels. */
  DEL_UNIQKEY: 'TIMER_DEL_UNIQKEY',
} as const;

/** TimerLog unit magic bits. */
export const TimerMagic = {
  DEFAULT: 1,
  ROLL: 1 << 1,
  DELETE: 1 << 2,
} as const;

/** One TimerLog unit: `int 52, long prevPos, int magic, long writeTimeMs, int delayMs, long commitLogOffset, int size, int realTopicHash, long reserved`. */
export const TIMER_LOG_UNIT_SIZE = 52;
/** Upstream's TimerLog segment size (mappedFileSizeTimerLog, 100 MiB). */
export const TIMER_LOG_FILE_SIZE = 100 * 1024 * 1024;
/** Slots kept free between the newest slot in use and the oldest unread one (upstream TIMER_BLANK_SLOTS). */
export const TIMER_BLANK_SLOTS = 60;
/** The wheel covers at most this many slots ahead (upstream's fixed 7 days); longer delays are rolled. */
export const TIMER_WHEEL_MAX_SLOTS = 7 * 24 * 3600;
/** Upstream timerRollWindowSlot: timers further away than this are parked and re-put ("rolled"). */
export const TIMER_ROLL_WINDOW_SLOTS = 2 * 24 * 3600;

/** Upstream's setter snaps the precision down to one of these (ms). */
const PRECISIONS = [100, 200, 500, 1000];

/** The precision actually used for a configured timerPrecisionMs (upstream `setTimerPrecisionMs`). */
export function effectivePrecisionMs(configured: number): number {
  for (let i = 1; i < PRECISIONS.length; i++) if (configured < PRECISIONS[i]!) return PRECISIONS[i - 1]!;
  return PRECISIONS[PRECISIONS.length - 1]!;
}

/**
 * The delivery time a timer is filed under: rounded down to the precision, an exact multiple
 * one step earlier (upstream `HookUtils.transformTimerMessage`).
 */
export function roundDeliverMs(deliverMs: number, precisionMs: number): number {
  return deliverMs % precisionMs === 0 ? deliverMs - precisionMs : Math.floor(deliverMs / precisionMs) * precisionMs;
}


/** Key a delete marker cancels (upstream `TimerMessageStore.buildDeleteKey`). */
export function buildDeleteKey(realTopic: string, uniqKey: string): string {
  return `${realTopic}+${uniqKey}`;
}

/**
 * The key a TIMER_DEL_UNIQKEY value names: upstream's `topic+uniqKey`; a bare unique key (no
 * `+`, which topic names cannot contain) is taken to mean the marker's own real topic.
 */
export function normalizeDeleteKey(value: string, markerRealTopic: string): string {
  return value.includes('+') ? value : buildDeleteKey(markerRealTopic, value);
}
