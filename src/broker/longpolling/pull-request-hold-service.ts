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

/**
 * Long polling (upstream `PullRequestHoldService`): a PULL_NOT_FOUND with the suspend flag is
 * parked per topic queue and re-run the moment a matching message is dispatched, or when its
 * hold time runs out (then it answers PULL_NOT_FOUND). Re-runs never park again.
 */
export class PullRequestHoldService {
  private readonly table = new Map<string, PullRequest[]>();
  private timer?: NodeJS.Timeout;
  private count = 0;

  constructor(
    private readonly rerun: (req: PullRequest) => void,
    private readonly getMaxOffset: (topic: string, queueId: number) => number,
    private readonly logger: Logger,
    private readonly checkIntervalMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.checkHoldRequest(), this.checkIntervalMs);
    this.timer.unref();
  }

  suspendPullRequest(topic: string, queueId: number, req: PullRequest): void {
    const key = `${topic}@${queueId}`;
    let list = this.table.get(key);
    if (!list) {
      list = [];
      this.table.set(key, list);
    }
    list.push(req);
    this.count++;
  }

  get heldCount(): number {
    return this.count;
  }

  /** Called for every dispatched message: wakes the pulls it satisfies. */
  notifyMessageArriving(topic: string, queueId: number, maxOffset: number, tagsCode: number | undefined): void {
    const key = `${topic}@${queueId}`;
    const list = this.table.get(key);
    if (!list) return;
    const keep: PullRequest[] = [];
    const now = Date.now();
    for (const r of list) {
      if (r.conn.isClosed) { this.count--; continue; }
      const matched = maxOffset > r.pullFromThisOffset && (tagsCode === undefined || r.filter.isMatchedByConsumeQueue(tagsCode));
      if (matched || now >= r.suspendTimestamp + r.timeoutMillis) {
        this.count--;
        this.safeRerun(r);
      } else {
        keep.push(r);
      }
    }
    if (keep.length === 0) this.table.delete(key);
    else this.table.set(key, keep);
  }

  /** The periodic sweep: expired pulls are answered, pulls whose queue grew are re-run. */
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
    if (this.timer) clearInterval(this.timer);
    this.table.clear();
    this.count = 0;
  }
}
