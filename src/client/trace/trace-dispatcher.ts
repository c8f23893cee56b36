import type { Logger } from '../../common/logger.js';
import { Message } from '../message.js';
import type { Producer } from '../producer.js';
import { encodeTraceRecord, type TraceRecord } from './trace-data.js';

/** Records per trace message and body size, as upstream's dispatcher batches them. */
const MAX_RECORDS_PER_MESSAGE = 20;
const MAX_BODY_BYTES = 128_000;
const FLUSH_INTERVAL_MS = 500;
/** Records kept while the trace topic is unreachable; older ones are dropped past this. */
const MAX_QUEUED = 20_000;

/**
 * Sends trace records asynchronously through an inner producer (upstream `AsyncTraceDispatcher`):
 * batched per flush, never on the traced call's path; a lost trace never fails a send.
 */
export class AsyncTraceDispatcher {
  private queue: Array<{ record: TraceRecord; keys: string[] }> = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private dropped = 0;

  constructor(private readonly producer: Producer, private readonly traceTopic: string, private readonly logger: Logger) {}

  async start(): Promise<void> {
    await this.producer.start();
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Queues a record; `keys` (message ids and business keys) make it findable by id. */
  add(record: TraceRecord, keys: string[]): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({ record, keys });
    if (this.queue.length >= MAX_RECORDS_PER_MESSAGE) void this.flush();
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return Promise.resolve();
    this.flushing = this.sendAll().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: string[] = [];
      const keys = new Set<string>();
      let bytes = 0;
      while (this.queue.length > 0 && batch.length < MAX_RECORDS_PER_MESSAGE && bytes < MAX_BODY_BYTES) {
        const { record, keys: k } = this.queue.shift()!;
        const text = encodeTraceRecord(record);
        batch.push(text);
        bytes += Buffer.byteLength(text);
        for (const key of k) if (key) keys.add(key);
      }
      try {
        await this.producer.send(new Message(this.traceTopic, batch.join(''), { keys: [...keys] }));
      } catch (err) {
        this.logger.warn(`trace records could not be sent to ${this.traceTopic}: ${(err as Error).message}; they are dropped`);
      }
    }
    if (this.dropped > 0) {
      this.logger.warn(`${this.dropped} trace records were dropped because the trace topic could not keep up`);
      this.dropped = 0;
    }
  }

  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.producer.shutdown();
  }
}
