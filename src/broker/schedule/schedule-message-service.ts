import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { readJsonFile, writeFileAtomic } from '../../common/config-file.js';
import { MessageConst } from '../../common/message-const.js';
import { getProperty } from '../../common/properties.js';
import { SystemTopic } from '../../common/topic.js';
import { delayOfLevel } from '../../common/delay-level.js';
import { readLong } from '../../common/bytes.js';
import { CQ_STORE_UNIT_SIZE } from '../../store/consume-queue.js';
import type { DefaultMessageStore, PutMessageInput } from '../../store/message-store.js';
import { editProperties, putInputFromRecord, tagsCodeOf } from '../message-util.js';

/** Idle levels look for new messages this often; a due message is delivered by its own timer. */
const IDLE_CHECK_MS = 100;
/** Delivered per round of one level (written as one group commit). */
const DELIVER_BATCH = 256;

/**
 * Delivers delay-level messages when due (upstream `ScheduleMessageService`): one cursor per
 * level over SCHEDULE_TOPIC_XXXX queue level − 1, whose ConsumeQueue tag code is the delivery
 * time. A due message is copied to REAL_TOPIC / REAL_QID without its DELAY property. The cursors
 * are persisted in `config/delayOffset.json` at shutdown and, when they moved, every
 * flushDelayOffsetInterval: a crash delivers again what was delivered since the last write.
 */
export class ScheduleMessageService {
  private readonly offsets = new Map<number, number>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly busy = new Set<number>();
  private persistTimer?: NodeJS.Timeout;
  private running = false;
  private dirty = false;
  private readonly path: string;

  constructor(private readonly store: DefaultMessageStore, storeRoot: string, private readonly logger: Logger) {
    this.path = join(storeRoot, 'config', 'delayOffset.json');
  }

  get maxLevel(): number {
    return this.store.delayLevels.length;
  }

  load(): void {
    const data = readJsonFile<{ offsetTable?: Record<string, number> }>(this.path, (m) => this.logger.warn(m));
    for (const [level, off] of Object.entries(data?.offsetTable ?? {})) {
      // A cursor past the end of its queue (the queue lost its tail) is set back to the end (upstream correctDelayOffset).
      const cq = this.store.findConsumeQueue(SystemTopic.SCHEDULE_TOPIC, Number(level) - 1);
      this.offsets.set(Number(level), cq ? Math.min(Number(off), cq.maxOffsetInQueue) : Number(off));
    }
  }

  start(): void {
    this.running = true;
    for (let level = 1; level <= this.maxLevel; level++) this.schedule(level, 0);
    this.persistTimer = setInterval(() => {
      if (this.dirty) this.persist();
    }, this.store.config.flushDelayOffsetInterval);
    this.persistTimer.unref();
  }

  /** Called when a message lands on the schedule topic: its level is looked at right away if idle. */
  onArrival(queueId: number): void {
    const level = queueId + 1;
    if (!this.running || this.busy.has(level)) return;
    this.schedule(level, 0);
  }

  private schedule(level: number, delayMs: number): void {
    const old = this.timers.get(level);
    if (old) clearTimeout(old);
    const t = setTimeout(() => {
      this.timers.delete(level);
      void this.deliver(level);
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.set(level, t);
  }

  private async deliver(level: number): Promise<void> {
    if (!this.running || this.busy.has(level)) return;
    this.busy.add(level);
    let next = IDLE_CHECK_MS;
    try {
      next = await this.deliverDue(level);
    } catch (err) {
      this.logger.error({ err }, `delay level ${level} delivery failed; retrying in 10 s`);
      next = 10_000;
    } finally {
      this.busy.delete(level);
    }
    if (this.running) this.schedule(level, next);
  }

  /** Delivers what is due on one level; returns when to look again. */
  private async deliverDue(level: number): Promise<number> {
    const cq = this.store.findConsumeQueue(SystemTopic.SCHEDULE_TOPIC, level - 1);
    if (!cq) return IDLE_CHECK_MS;
    let offset = Math.max(this.offsets.get(level) ?? 0, cq.minOffsetInQueue);
    const entries = cq.getEntries(offset, DELIVER_BATCH);
    if (entries.length === 0) {
      this.offsets.set(level, offset);
      return IDLE_CHECK_MS;
    }
    const now = Date.now();
    const levelDelay = delayOfLevel(this.store.delayLevels, level);
    const puts: Array<Promise<{ ok: boolean }>> = [];
    let waitMs = 0;
    for (let p = 0; p < entries.length; p += CQ_STORE_UNIT_SIZE) {
      const phy = readLong(entries, p);
      let deliverAt = readLong(entries, p + 12);
      // A delivery time further away than the level's delay means the clock moved: deliver now.
      if (deliverAt > now + levelDelay) deliverAt = now;
      if (deliverAt > now) {
        waitMs = deliverAt - now;
        break;
      }
      puts.push(this.redeliver(phy));
    }
    const results = await Promise.all(puts);
    for (const r of results) {
      if (!r.ok) break; // retry from the first failure, keeping order
      offset++;
    }
    if (offset !== this.offsets.get(level)) this.dirty = true;
    this.offsets.set(level, offset);
    if (results.some((r) => !r.ok)) return IDLE_CHECK_MS;
    if (waitMs > 0) return waitMs;
    return results.length === entries.length / CQ_STORE_UNIT_SIZE && results.length > 0 ? 0 : IDLE_CHECK_MS;
  }

  private async redeliver(phy: number): Promise<{ ok: boolean }> {
    const rec = this.store.lookMessageByOffset(phy);
    if (!rec) return { ok: true }; // removed by retention: nothing left to deliver
    const { input } = putInputFromRecord(rec);
    const realTopic = getProperty(input.properties, MessageConst.REAL_TOPIC);
    const realQid = Number(getProperty(input.properties, MessageConst.REAL_QUEUE_ID) ?? 0);
    if (!realTopic || realTopic === SystemTopic.TRANS_HALF_TOPIC) return { ok: true };
    const out: PutMessageInput = {
      ...input,
      topic: realTopic,
      queueId: realQid,
      properties: editProperties(input.properties, (p) => {
        p.delete(MessageConst.DELAY_TIME_LEVEL);
        p.delete(MessageConst.TIMER_DELIVER_MS);
        p.delete(MessageConst.TIMER_DELAY_SEC);
        p.delete(MessageConst.TIMER_DELAY_MS);
        p.set(MessageConst.WAIT_STORE_MSG_OK, 'false');
      }),
      waitStoreMsgOK: false,
    };
    out.tagsCode = tagsCodeOf(out.properties);
    const r = await this.store.putMessage(out);
    if (r.status !== 'PUT_OK' && r.status !== 'FLUSH_DISK_TIMEOUT') {
      this.logger.warn(`delayed message at offset ${phy} could not be delivered to ${realTopic}: ${r.status}; retrying`);
      return { ok: false };
    }
    return { ok: true };
  }

  /** Cursor of each level, for runtime info and tests. */
  offsetTable(): Record<string, number> {
    return Object.fromEntries([...this.offsets].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
  }

  /**
   * A slave takes the master's cursors (upstream SlaveSynchronize.syncDelayOffset): they are
   * written as delayOffset.json, so a slave made master goes on from there.
   */
  replaceOffsets(table: Record<string, number>): void {
    this.offsets.clear();
    for (const [level, off] of Object.entries(table)) if (typeof off === 'number') this.offsets.set(Number(level), off);
    this.persist();
  }

  /** `scheduleMessageOffset_<level>` → `<cursor>,<max offset of the level's queue>` (upstream RunningStats.scheduleMessageOffset). */
  runningStats(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [level, offset] of [...this.offsets].sort((a, b) => a[0] - b[0])) {
      const max = this.store.findConsumeQueue(SystemTopic.SCHEDULE_TOPIC, level - 1)?.maxOffsetInQueue ?? 0;
      out[`scheduleMessageOffset_${level}`] = `${offset},${max}`;
    }
    return out;
  }

  persist(): void {
    this.dirty = false;
    writeFileAtomic(this.path, JSON.stringify({ offsetTable: this.offsetTable() }, null, 2));
  }

  /** Stops delivering; waits for deliveries under way so the persisted cursors match the store. */
  async shutdown(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.persistTimer) clearInterval(this.persistTimer);
    while (this.busy.size > 0) await new Promise((r) => setTimeout(r, 5));
    this.persist();
  }
}
