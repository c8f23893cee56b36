import { randomUUID } from 'node:crypto';
import type { MessageExt } from '../message.js';
import type { AsyncTraceDispatcher } from './trace-dispatcher.js';

/** Upstream `ConsumeReturnType` ordinals, the SubAfter context code. */
const ContextCode = { SUCCESS: 0, EXCEPTION: 2, RETURNNULL: 3, FAILED: 4 } as const;
const SUCCESS_STATUSES: ReadonlySet<unknown> = new Set(['CONSUME_SUCCESS', 'SUCCESS', 'COMMIT']);

/**
 * Wraps a consumer's listener so every call leaves SubBefore / SubAfter trace records (upstream
 * `ConsumeMessageTraceHookImpl`), keyed by the consumed message ids.
 */
export function traceListener<C, R>(
  listener: (msgs: MessageExt[], ctx: C) => Promise<R | undefined | void> | R | undefined | void,
  dispatcher: AsyncTraceDispatcher,
  group: string,
  regionId = 'DefaultRegion',
): (msgs: MessageExt[], ctx: C) => Promise<R | undefined | void> {
  return async (msgs, ctx) => {
    const requestId = randomUUID();
    const begin = Date.now();
    for (const m of msgs) {
      dispatcher.add({ type: 'SubBefore', timestamp: begin, regionId, group, requestId, msgId: m.msgId, retryTimes: m.reconsumeTimes, keys: m.keys.join(' ') }, [m.msgId, ...m.keys]);
    }
    let code: number = ContextCode.SUCCESS;
    try {
      const status = await listener(msgs, ctx);
      if (status === undefined || status === null) code = ContextCode.RETURNNULL;
      else if (!SUCCESS_STATUSES.has(status)) code = ContextCode.FAILED;
      return status;
    } catch (err) {
      code = ContextCode.EXCEPTION;
      throw err;
    } finally {
      const cost = Date.now() - begin;
      const success = code === ContextCode.SUCCESS || code === ContextCode.RETURNNULL;
      for (const m of msgs) {
        dispatcher.add({ type: 'SubAfter', requestId, msgId: m.msgId, costTime: cost, success, keys: m.keys.join(' '), contextCode: code, timestamp: Date.now(), group }, [m.msgId, ...m.keys]);
      }
    }
  };
}
