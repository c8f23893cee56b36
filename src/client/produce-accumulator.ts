import type { Message } from './message.js';
import type { MessageQueue } from './route.js';
import type { SendResult } from './mq-client-api.js';

/** How sends are held to be batched (upstream `ProduceAccumulator`'s holdMs, holdSize, totalHoldSize). */
export interface AccumulatorLimits {
  /**
   * The longest a message waits for others before its batch leaves (ms). 0 means: at the end
   * of the current turn of the event loop, so only sends made together are batched.
   */
  maxDelayMs: number;
  /** A batch leaves as soon as its bodies hold more than this many bytes. */
  maxBytes: number;
  /** Bodies held in all open batches at most; past it, sends go alone. */
  totalMaxBytes: number;
}

interface Waiter {
  resolve: (r: SendResult) => void;
  reject: (err: unknown) => void;
}

/** One open batch: messages of one topic, tag, waitStoreMsgOK and (when asked for) queue. */
interface Accumulation {
  key: string;
  queue: MessageQueue | undefined;
  msgs: Message[];
  waiters: Waiter[];
  bytes: number;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
}

/**
 * Auto-batching of single sends (upstream 5.x `autoBatch`): sends of the same kind made close
 * together leave as one batch request, and each sender gets its own message's result (its id,
 * offset id and queue offset within the batch). A batch of one is sent as a plain message.
 */
export class ProduceAccumulator {
  private readonly open = new Map<string, Accumulation>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private held = 0;

  constructor(
    private readonly limits: AccumulatorLimits,
    /** Sends the messages (one: a plain send; more: a batch) and resolves with the broker's result. */
    private readonly sendDirect: (msgs: Message[], queue: MessageQueue | undefined) => Promise<SendResult>,
  ) {}

  /** Holds `msg` for the open batch of its kind; undefined when totalMaxBytes is reached (send it alone). */
  add(msg: Message, queue: MessageQueue | undefined): Promise<SendResult> | undefined {
    const size = msg.body.length;
    if (this.held >= this.limits.totalMaxBytes) return undefined;
    const tags = msg.tags ?? '';
    const key = queue === undefined
      ? `${msg.topic}\u0000${tags}\u0000${msg.waitStoreMsgOK ? 1 : 0}`
      : `${msg.topic}\u0000${tags}\u0000${msg.waitStoreMsgOK ? 1 : 0}\u0000${queue.brokerName}\u0000${queue.queueId}`;
    let acc = this.open.get(key);
    if (acc === undefined) {
      const created: Accumulation = { key, queue, msgs: [], waiters: [], bytes: 0, timer: undefined };
      created.timer = this.limits.maxDelayMs === 0
        ? setImmediate(() => this.flush(created))
        : setTimeout(() => this.flush(created), this.limits.maxDelayMs);
      this.open.set(key, created);
      acc = created;
    }
    this.held += size;
    acc.bytes += size;
    acc.msgs.push(msg);
    const p = new Promise<SendResult>((resolve, reject) => acc.waiters.push({ resolve, reject }));
    if (acc.bytes > this.limits.maxBytes) this.flush(acc);
    return p;
  }

  /** Sends every open batch now and waits until all batches sent so far are answered (shutdown). */
  async drain(): Promise<void> {
    for (const acc of [...this.open.values()]) this.flush(acc);
    await Promise.allSettled([...this.inFlight]);
  }

  private flush(acc: Accumulation): void {
    if (this.open.get(acc.key) !== acc) return; // already sent
    this.open.delete(acc.key);
    if (this.limits.maxDelayMs === 0) clearImmediate(acc.timer as NodeJS.Immediate);
    else clearTimeout(acc.timer as NodeJS.Timeout);
    const { msgs, waiters } = acc;
    let sent: Promise<SendResult>;
    try {
      sent = this.sendDirect(msgs, acc.queue);
    } catch (err) {
      sent = Promise.reject(err);
    }
    const done = sent.then((r) => {
      if (msgs.length === 1) return waiters[0]!.resolve(r);
      const offsetIds = r.offsetMsgId.split(',');
      for (let i = 0; i < waiters.length; i++) {
        waiters[i]!.resolve({ ...r, msgId: msgs[i]!.uniqKey ?? '', offsetMsgId: offsetIds[i] ?? '', queueOffset: r.queueOffset + i });
      }
    }, (err: unknown) => {
      for (const w of waiters) w.reject(err);
    }).finally(() => {
      this.held -= acc.bytes;
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
  }
}
