/** A queue as clients name it in lock requests (upstream `MessageQueue`). */
export interface MessageQueueData {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdateTimestamp: number;
}

function mqKey(mq: MessageQueueData): string {
  return `${mq.topic}\u0001${mq.brokerName}\u0001${mq.queueId}`;
}

/**
 * Queue locks for orderly consumers (upstream `RebalanceLockManager`): a queue belongs to one
 * client of a group until it unlocks or stops renewing for `lockMaxLiveTime` (60 s).
 */
export class RebalanceLockManager {
  private readonly table = new Map<string, Map<string, LockEntry>>();

  constructor(private readonly lockMaxLiveTime = 60_000) {}

  private isExpired(e: LockEntry, now: number): boolean {
    return now - e.lastUpdateTimestamp > this.lockMaxLiveTime;
  }

  /** Locks what can be locked for `clientId`; returns the queues it now holds. */
  tryLockBatch(group: string, mqs: MessageQueueData[], clientId: string, now = Date.now()): MessageQueueData[] {
    let m = this.table.get(group);
    if (!m) {
      m = new Map();
      this.table.set(group, m);
    }
    const locked: MessageQueueData[] = [];
    for (const mq of mqs) {
      const k = mqKey(mq);
      const e = m.get(k);
      if (!e || e.clientId === clientId || this.isExpired(e, now)) {
        m.set(k, { clientId, lastUpdateTimestamp: now });
        locked.push(mq);
      }
    }
    return locked;
  }

  unlockBatch(group: string, mqs: MessageQueueData[], clientId: string): void {
    const m = this.table.get(group);
    if (!m) return;
    for (const mq of mqs) {
      const k = mqKey(mq);
      if (m.get(k)?.clientId === clientId) m.delete(k);
    }
  }

  /** Whether `group` holds no unexpired lock (upstream `isLockAllExpired`): false for an orderly consumer group at work. */
  isLockAllExpired(group: string, now = Date.now()): boolean {
    const m = this.table.get(group);
    if (!m) return true;
    for (const e of m.values()) if (!this.isExpired(e, now)) return false;
    return true;
  }

  isLockedBy(group: string, mq: MessageQueueData, clientId: string, now = Date.now()): boolean {
    const e = this.table.get(group)?.get(mqKey(mq));
    return !!e && e.clientId === clientId && !this.isExpired(e, now);
  }
}
