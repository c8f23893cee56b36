import type { Logger } from '../../common/logger.js';
import type { Connection } from '../../remoting/connection.js';
import type { RemotingCommand } from '../../remoting/command.js';
import type { MessageFilter } from '../../store/get-message-result.js';

/** A pull parked until a message arrives or its suspend time passes (upstream `PullRequest`). */
export interface PullRequest {
  conn: Connection;
  request: RemotingCommand;
  pullFromThisOffset: number;
  suspendTimestamp: number;
  timeoutMillis: number;
  filter: MessageFilter;
}

interface Held extends PullRequest {
  key: string;
  timer: NodeJS.Timeout;
}

/**
 * Long polling (upstream `PullRequestHoldService`): a PULL_NOT_FOUND with the suspend flag is
 * parked per topic queue and re-run the moment a matching message is dispatched, or exactly
 * when its hold time runs out (then it answers PULL_NOT_FOUND). Re-runs never park again.
 * A periodic sweep also re-checks every queue, as upstream does, in case a wake-up was missed.
 */
export class PullRequestHoldService {
  private readonly table = new Map<string, Held[]>();
  private sweepTimer?: NodeJS.Timeout;
  private count = 0;
  private stopped = false;

  constructor(
    private readonly rerun: (req: PullRequest) => void,
    private readonly getMaxOffset: (topic: string, queueId: number) => number,
    private readonly logger: Logger,
    private readonly sweepIntervalMs = 5000,
  ) {}

  start(): void {
    this.sweepTimer = setInterval(() => this.checkHoldRequest(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  suspendPullRequest(topic: string, queueId: number, req: PullRequest): void {
    if (this.stopped) return;
    const key = `${topic}@${queueId}`;
    const held = req as Held;
    held.key = key;
    held.timer = setTimeout(() => this.expire(held), Math.max(0, req.timeoutMillis));
    let list = this.table.get(key);
    if (!list) {
      list = [];
      this.table.set(key, list);
    }
    list.push(held);
    this.count++;
  }

  get heldCount(): number {
    return this.count;
  }

  private remove(h: Held): boolean {
    const list = this.table.get(h.key);
    const i = list ? list.indexOf(h) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.table.delete(h.key);
    clearTimeout(h.timer);
    this.count--;
    return true;
  }

  private expire(h: Held): void {
    if (this.remove(h) && !h.conn.isClosed) this.safeRerun(h);
  }

  /** Called for every dispatched message: wakes the pulls it satisfies. */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode: number | undefined): void {
    // Most messages arrive with no pull held anywhere: no key string to build then.
    if (this.count === 0) return;
    const list = this.table.get(`${topic}@${queueId}`);
    if (!list) return;
    for (const h of [...list]) {
      if (h.conn.isClosed) {
        this.remove(h);
        continue;
      }
      if (maxOffset > h.pullFromThisOffset && (tagsCode === undefined || h.filter.isMatchedByConsumeQueue(tagsCode))) {
        this.remove(h);
        this.safeRerun(h);
      }
    }
  }

  /** The periodic sweep: pulls whose queue grew are re-run. */
  checkHoldRequest(): void {
    for (const key of [...this.table.keys()]) {
      const at = key.lastIndexOf('@');
      const topic = key.slice(0, at);
      const queueId = Number(key.slice(at + 1));
      this.notifyMessageArriving(topic, queueId, this.getMaxOffset(topic, queueId), undefined);
    }
  }

  private safeRerun(r: PullRequest): void {
    try {
      this.rerun(r);
    } catch (err) {
      this.logger.error({ err }, 'long-polling pull re-run failed');
    }
  }

  shutdown(): void {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const list of this.table.values()) for (const h of list) clearTimeout(h.timer);
    this.table.clear();
    this.count = 0;
  }
}
