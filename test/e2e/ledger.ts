import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Message, PullConsumer, PullStatus, SendStatus, Producer, type MessageExt, type MessageQueue } from '../../src/client/index.js';
import { decodeOffsetMessageId } from '../../src/common/message-id.js';

/**
 * Bookkeeping for durability tests: every message a send was attempted for, every acknowledged
 * SendResult, and the checks that compare a broker's queues with them.
 */

export interface AckedMessage {
  id: string;
  queueId: number;
  queueOffset: number;
  /** Decoded from the offset msg id; unlike the id itself it does not depend on the broker's port. */
  commitLogOffset: number;
  body: Buffer;
}

/** Bodies start with their id and `#`, so a message read back names the send it came from. */
export function makeBody(id: string, size: number): Buffer {
  const head = Buffer.from(`${id}#`, 'utf8');
  const fill = randomBytes(Math.ceil(Math.max(0, size - head.length) * 0.75) + 3).toString('base64url');
  return Buffer.concat([head, Buffer.from(fill.slice(0, Math.max(0, size - head.length)), 'utf8')]);
}

export function idOf(body: Buffer): string {
  const hash = body.indexOf(0x23);
  return hash < 0 ? '' : body.toString('utf8', 0, hash);
}

export class SendLedger {
  /** id → body of every message a send was attempted for. */
  readonly sent = new Map<string, Buffer>();
  readonly acked: AckedMessage[] = [];
  private readonly ackWaiters: Array<{ n: number; resolve: () => void }> = [];

  record(id: string, body: Buffer): void {
    this.sent.set(id, body);
  }

  ack(id: string, r: { sendStatus: string; messageQueue: MessageQueue; queueOffset: number; offsetMsgId: string }): void {
    // Only SEND_OK is an acknowledgement that the message is stored as the flush mode requires.
    if (r.sendStatus !== SendStatus.SEND_OK) return;
    this.acked.push({
      id,
      queueId: r.messageQueue.queueId,
      queueOffset: r.queueOffset,
      commitLogOffset: decodeOffsetMessageId(r.offsetMsgId).commitLogOffset,
      body: this.sent.get(id)!,
    });
    for (const w of [...this.ackWaiters]) {
      if (this.acked.length >= w.n) {
        this.ackWaiters.splice(this.ackWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once `n` sends have been acknowledged. */
  waitForAcks(n: number, timeoutMs = 15_000): Promise<void> {
    if (this.acked.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.acked.length} of ${n} sends acknowledged within ${timeoutMs} ms`)), timeoutMs);
      this.ackWaiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

export interface LoadOptions {
  namesrvAddr: string;
  topic: string;
  /** Producers, each with its own connection to the broker. */
  producers: number;
  /** Sends each producer keeps in flight. */
  inFlightPerProducer: number;
  /** Body size of the n-th message of a producer. */
  bodySize: (n: number) => number;
  /** Stop after this many sends in all (default: until stop()). */
  total?: number;
  label: string;
}

/**
 * Concurrent senders: `producers` × `inFlightPerProducer` loops, each sending one message after
 * another and recording its ack. No retries: a failed send is simply not acknowledged, and a
 * message is stored at most once.
 */
export class Load {
  inFlight = 0;
  failures = 0;
  private stopped = false;
  private started = 0;
  private readonly producers: Producer[] = [];
  private workers: Array<Promise<void>> = [];

  private constructor(private readonly opts: LoadOptions, private readonly ledger: SendLedger) {}

  static async start(opts: LoadOptions, ledger: SendLedger): Promise<Load> {
    const load = new Load(opts, ledger);
    for (let i = 0; i < opts.producers; i++) {
      const p = new Producer({ namesrvAddr: opts.namesrvAddr, group: `${opts.label}_pg`, instanceName: `${opts.label}-${i}`, retryTimesWhenSendFailed: 0, sendMsgTimeout: 10_000 });
      load.producers.push(p);
      await p.start();
      await p.fetchPublishMessageQueues(opts.topic);
    }
    load.workers = load.producers.flatMap((p, i) =>
      Array.from({ length: opts.inFlightPerProducer }, (_, w) => load.worker(p, `${opts.label}-${i}-${w}`)));
    return load;
  }

  private async worker(producer: Producer, name: string): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      if (this.opts.total !== undefined && this.started >= this.opts.total) return;
      this.started++;
      const id = `${name}-${n}`;
      const body = makeBody(id, this.opts.bodySize(n));
      this.ledger.record(id, body);
      this.inFlight++;
      try {
        const r = await producer.send(new Message(this.opts.topic, body));
        this.ledger.ack(id, r);
      } catch {
        this.failures++;
      } finally {
        this.inFlight--;
      }
    }
  }

  /** Resolves when every sender has finished (all sends sent, or stop() called). */
  async done(): Promise<void> {
    await Promise.all(this.workers);
  }

  /** Stops issuing sends, waits for those in flight to settle, and shuts the producers down. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done();
    await Promise.all(this.producers.map((p) => p.shutdown()));
  }
}

/** Every message of every queue of `topic`, pulled from offset 0 to the queue's max offset. */
export async function readAll(namesrvAddr: string, topic: string): Promise<Map<number, MessageExt[]>> {
  const consumer = new PullConsumer({ namesrvAddr, group: 'durability_check_cg' });
  await consumer.start();
  try {
    const out = new Map<number, MessageExt[]>();
    const mqs = await consumer.fetchSubscribeMessageQueues(topic);
    await Promise.all(mqs.map(async (mq) => {
      const max = await consumer.maxOffset(mq);
      const msgs: MessageExt[] = [];
      let offset = 0;
      while (offset < max) {
        const r = await consumer.pull(mq, '*', offset, 32);
        assert.equal(r.pullStatus, PullStatus.FOUND, `queue ${mq.queueId}: pull at ${offset} of ${max} found nothing (${r.pullStatus})`);
        msgs.push(...r.msgFoundList);
        assert.ok(r.nextBeginOffset > offset, `queue ${mq.queueId}: pull at ${offset} did not advance`);
        offset = r.nextBeginOffset;
      }
      out.set(mq.queueId, msgs);
    }));
    return out;
  } finally {
    await consumer.shutdown();
  }
}

export interface QueueSummary {
  /** Messages per queue (= the next offset of each queue). */
  counts: Map<number, number>;
  total: number;
  /** CommitLog offset past the last message read. */
  maxCommitLogEnd: number;
}

/**
 * Checks what the broker returned against the ledger: each queue holds offsets 0..n-1 with no
 * hole, in CommitLog order; every message is one that was sent, stored once; every acknowledged
 * message sits at exactly its acknowledged queue offset and CommitLog offset with its body.
 * `lost` lists ids the caller knows may be missing (a record cut on purpose).
 */
export function verifyQueues(queues: Map<number, MessageExt[]>, ledger: SendLedger, queueCount: number, lost: ReadonlySet<string> = new Set()): QueueSummary {
  assert.deepEqual([...queues.keys()].sort((a, b) => a - b), Array.from({ length: queueCount }, (_, i) => i));
  const seen = new Set<string>();
  const counts = new Map<number, number>();
  let maxCommitLogEnd = 0;
  let total = 0;
  for (const [queueId, msgs] of queues) {
    let lastPhy = -1;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      assert.equal(m.queueId, queueId);
      assert.equal(m.queueOffset, i, `queue ${queueId}: message ${i} has queue offset ${m.queueOffset} (hole or repeat)`);
      assert.ok(m.commitLogOffset > lastPhy, `queue ${queueId}: CommitLog offsets out of order at ${i}`);
      lastPhy = m.commitLogOffset;
      maxCommitLogEnd = Math.max(maxCommitLogEnd, m.commitLogOffset + m.storeSize);
      const id = idOf(m.body);
      const sent = ledger.sent.get(id);
      assert.ok(sent, `queue ${queueId} offset ${i}: a message that was never sent (id "${id}")`);
      assert.ok(sent.equals(m.body), `queue ${queueId} offset ${i}: body of ${id} differs from what was sent`);
      assert.ok(!seen.has(id), `${id} is stored twice`);
      seen.add(id);
    }
    counts.set(queueId, msgs.length);
    total += msgs.length;
  }
  let missing = 0;
  for (const a of ledger.acked) {
    if (lost.has(a.id)) continue;
    const m = queues.get(a.queueId)?.[a.queueOffset];
    if (!m) {
      missing++;
      continue;
    }
    assert.equal(idOf(m.body), a.id, `queue ${a.queueId} offset ${a.queueOffset} holds ${idOf(m.body)}, but the ack of ${a.id} reported that offset`);
    assert.ok(m.body.equals(a.body));
    assert.equal(m.commitLogOffset, a.commitLogOffset, `${a.id}: CommitLog offset ${m.commitLogOffset}, the ack reported ${a.commitLogOffset}`);
  }
  assert.equal(missing, 0, `${missing} of ${ledger.acked.length} acknowledged messages are missing`);
  // Each sender waits for an ack before its next send, so its messages are in the log in the order it sent them.
  const lastBySender = new Map<string, number>();
  for (const a of [...ledger.acked].sort((x, y) => x.commitLogOffset - y.commitLogOffset)) {
    const cut = a.id.lastIndexOf('-');
    const sender = a.id.slice(0, cut);
    const n = Number(a.id.slice(cut + 1));
    const prev = lastBySender.get(sender);
    assert.ok(prev === undefined || prev < n, `${sender}: message ${n} is stored before message ${prev}`);
    lastBySender.set(sender, n);
  }
  return { counts, total, maxCommitLogEnd };
}
