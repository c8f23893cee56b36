/**
 * Message trace records (upstream `TraceDataEncoder`): fields separated by char 1, each record
 * ended by char 2, several records per trace message body. The trace message's KEYS are the
 * traced message ids (and their keys), so the index finds a message's trace by its id.
 */
export const TRACE_CONTENT_SPLITOR = '\u0001';
export const TRACE_FIELD_SPLITOR = '\u0002';
export const DEFAULT_TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';

/** Upstream `MessageType` ordinals. */
export const TraceMessageType = { NORMAL: 0, TRANS_HALF: 1, TRANS_COMMIT: 2, DELAY: 3, ORDER: 4 } as const;

export interface TracePub {
  type: 'Pub';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  bodyLength: number;
  costTime: number;
  msgType: number;
  offsetMsgId: string;
  success: boolean;
}

export interface TraceSubBefore {
  type: 'SubBefore';
  timestamp: number;
  regionId: string;
  group: string;
  requestId: string;
  msgId: string;
  retryTimes: number;
  keys: string;
}

export interface TraceSubAfter {
  type: 'SubAfter';
  requestId: string;
  msgId: string;
  costTime: number;
  success: boolean;
  keys: string;
  contextCode: number;
  timestamp: number;
  group: string;
}

export type TraceRecord = TracePub | TraceSubBefore | TraceSubAfter;

export function encodeTraceRecord(r: TraceRecord): string {
  const f: Array<string | number | boolean> = [r.type];
  switch (r.type) {
    case 'Pub':
      f.push(r.timestamp, r.regionId, r.group, r.topic, r.msgId, r.tags, r.keys, r.storeHost, r.bodyLength, r.costTime, r.msgType, r.offsetMsgId, r.success);
      break;
    case 'SubBefore':
      f.push(r.timestamp, r.regionId, r.group, r.requestId, r.msgId, r.retryTimes, r.keys);
      break;
    case 'SubAfter':
      f.push(r.requestId, r.msgId, r.costTime, r.success, r.keys, r.contextCode, r.timestamp, r.group);
      break;
  }
  return f.join(TRACE_CONTENT_SPLITOR) + TRACE_FIELD_SPLITOR;
}

/** Decodes a trace message body; unknown record types are skipped. */
export function decodeTraceRecords(body: string): TraceRecord[] {
  const out: TraceRecord[] = [];
  for (const rec of body.split(TRACE_FIELD_SPLITOR)) {
    if (!rec) continue;
    const f = rec.split(TRACE_CONTENT_SPLITOR);
    const n = (i: number): number => Number(f[i] ?? 0);
    const s = (i: number): string => f[i] ?? '';
    if (f[0] === 'Pub' && f.length >= 14) {
      out.push({
        type: 'Pub', timestamp: n(1), regionId: s(2), group: s(3), topic: s(4), msgId: s(5), tags: s(6), keys: s(7),
        storeHost: s(8), bodyLength: n(9), costTime: n(10), msgType: n(11), offsetMsgId: s(12), success: s(13) === 'true',
      });
    } else if (f[0] === 'SubBefore' && f.length >= 8) {
      out.push({ type: 'SubBefore', timestamp: n(1), regionId: s(2), group: s(3), requestId: s(4), msgId: s(5), retryTimes: n(6), keys: s(7) });
    } else if (f[0] === 'SubAfter' && f.length >= 7) {
      out.push({ type: 'SubAfter', requestId: s(1), msgId: s(2), costTime: n(3), success: s(4) === 'true', keys: s(5), contextCode: n(6), timestamp: n(7), group: s(8) });
    }
  }
  return out;
}
