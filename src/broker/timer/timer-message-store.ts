import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/logger.js';
import type { MessageStoreConfig } from '../../common/config.js';
import { readLong } from '../../common/bytes.js';
import { javaStringHashCode, parseJavaLong } from '../../common/java.js';
import { MessageConst } from '../../common/message-const.js';
import { bodyLengthPos, isMessageMagic, MESSAGE_MAGIC_CODE_V2, RecordPos } from '../../common/message-record.js';
import { getProperty } from '../../common/properties.js';
import { CQ_STORE_UNIT_SIZE } from '../../store/consume-queue.js';
import type { DefaultMessageStore, PutMessageInput } from '../../store/message-store.js';
import { editProperties, putInputFromRecord, tagsCodeOf } from '../message-util.js';
import {
  buildDeleteKey, effectivePrecisionMs, normalizeDeleteKey, roundDeliverMs, TIMER_BLANK_SLOTS,
  TIMER_LOG_FILE_SIZE, TIMER_ROLL_WINDOW_SLOTS, TIMER_TOPIC, TIMER_WHEEL_MAX_SLOTS, TimerMagic, TimerProp,
} from './timer-const.js';
import { formatTps, PerfCounter } from './perf-counter.js';
import { TimerCheckpoint } from './timer-checkpoint.js';
import { TimerMetrics } from './timer-metrics.js';
import { isDelete, isRoll, TimerLog, UnitPos } from './timer-log.js';
import { SLOT_SIZE, TimerWheel } from './timer-wheel.js';

/** ConsumeQueue entries of the timer topic filed per step. */
const ENQUEUE_BATCH = 4096;
/** A round stops filing new timers after this long to look at due slots. */
const ENQUEUE_SLICE_MS = 50;
/** A round stops delivering after this long to file new timers. */
const DEQUEUE_SLICE_MS = 200;
/** Records read and re-put together while delivering a slot. */
const DELIVER_CHUNK = 256;
/** Timer log segments no pending slot refers to are deleted this often. */
const CLEAN_INTERVAL_MS = 60_000;
const RETRY_PUT_MS = 500;
const WARN_EVERY_MS = 10_000;
/** How often a stopped enqueue or dequeue (timerStopEnqueue / timerStopDequeue) looks at its flag again. */
const STOPPED_POLL_MS = 100;

export interface TimerMessageStoreOptions {
  /** Slots ahead of the read pointer a timer may be filed before it is rolled (upstream timerRollWindowSlot). */
  rollWindowSlots?: number;
  /** TimerLog segment size (upstream mappedFileSizeTimerLog, 100 MiB). */
  timerLogFileSize?: number;
  /** How often the wheel, the log and the checkpoint are made durable (upstream timerFlushIntervalMs). */
  flushIntervalMs?: number;
  /** Window of the enqueue and dequeue rates in runtime info (upstream PerfCounter, 10 s). */
  tpsWindowMs?: number;
}

/** Outcome of a recall. */
export type RecallStatus =
  /** A delete marker is stored: the message will not be delivered. */
  | 'RECALLED'
  /** Its time has come: it was delivered (or is being delivered). */
  | 'DELIVERED'
  /** No pending timer message with that id in that topic at that time. */
  | 'NOT_FOUND'
  /** Already cancelled by an earlier recall or TIMER_DEL_UNIQKEY marker. */
  | 'ALREADY_RECALLED'
  /** The delete marker could not be stored. */
  | 'PUT_FAILED';

/** Units of one slot's chain, oldest first, in typed arrays (no object per timer). */
interface Chain {
  n: number;
  phy: Float64Array;
  size: Int32Array;
  magic: Int32Array;
  topicHash: Int32Array;
  writeTime: Float64Array;
}

export interface TimerStats {
  enqueued: number;
  delivered: number;
  recalled: number;
  rolled: number;
  lost: number;
}

/**
 * Timer messages (upstream `TimerMessageStore`). A send with TIMER_DELIVER_MS / TIMER_DELAY_SEC
 * / TIMER_DELAY_MS is stored on `rmq_sys_wheel_timer` queue 0 with TIMER_OUT_MS (see
 * `toTimerTopic`). This service files every entry of that queue into the TimerLog (52-byte units
 * on disk) under the wheel slot of its time, and once a slot's time has passed walks its chain,
 * reads the records and puts them to REAL_TOPIC / REAL_QID. Memory holds the wheel (32 bytes a
 * slot, fixed by timerMaxDelaySec) and whatever one step reads, never the pending timers themselves.
 *
 * All work runs one step at a time (filing, delivering, recall checks, persisting), so the wheel
 * is never read while it changes. Durability follows upstream: the TimerLog is the journal.
 * `persist()` fdatasyncs the log, then writes changed wheel slots, then `config/timercheck`
 * with the log position the wheel covers; recovery re-files every unit past that position into
 * the wheel, and takes the timer-queue offset to continue from the last unit's record, so a
 * crash neither loses a filed timer nor files one twice. The read time is checkpointed after
 * every delivered slot.
 */
export class TimerMessageStore {
  readonly precisionMs: number;
  /** Slots the wheel covers ahead of its read pointer (upstream slotsTotal). */
  readonly slotsTotal: number;
  /** Slots in the wheel (twice slotsTotal, as upstream). */
  readonly wheelSlots: number;
  readonly rollWindow: number;
  readonly enabled: boolean;
  readonly stats: TimerStats = { enqueued: 0, delivered: 0, recalled: 0, rolled: 0, lost: 0 };
  private wheel!: TimerWheel;
  private readonly log: TimerLog;
  private checkpoint?: TimerCheckpoint;
  /** Pending timers per real topic (GET_TIMER_METRICS); persisted with the checkpoint. */
  readonly metrics: TimerMetrics;
  /** Timers filed and messages put back (delivered or rolled): timerEnqueueTps / timerDequeueTps. */
  private readonly enqueuePerf: PerfCounter;
  private readonly dequeuePerf: PerfCounter;
  private readonly wheelPath: string;
  private readonly checkpointPath: string;
  private readonly flushIntervalMs: number;
  /** Next slot (time unit) to deliver. */
  private readSlot = 0;
  /** Next timer-queue offset to file. */
  private enqueueOffset = 0;
  private loaded = false;
  private running = false;
  private mutex: Promise<unknown> = Promise.resolve();
  private ticking = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastPersist = 0;
  private lastClean = 0;
  private lastWarn = 0;

  constructor(
    private readonly store: DefaultMessageStore,
    private readonly config: MessageStoreConfig,
    storeRoot: string,
    private readonly logger: Logger,
    opts: TimerMessageStoreOptions = {},
  ) {
    this.precisionMs = effectivePrecisionMs(config.timerPrecisionMs);
    this.slotsTotal = Math.min(Math.max(1, Math.ceil(config.timerMaxDelaySec)), TIMER_WHEEL_MAX_SLOTS) + TIMER_BLANK_SLOTS;
    this.wheelSlots = this.slotsTotal * 2;
    const roll = opts.rollWindowSlots ?? TIMER_ROLL_WINDOW_SLOTS;
    this.rollWindow = roll > this.slotsTotal - TIMER_BLANK_SLOTS || roll < 2 ? Math.max(2, this.slotsTotal - TIMER_BLANK_SLOTS) : roll;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.enqueuePerf = new PerfCounter(opts.tpsWindowMs);
    this.dequeuePerf = new PerfCounter(opts.tpsWindowMs);
    this.wheelPath = join(storeRoot, 'timerwheel');
    this.checkpointPath = join(storeRoot, 'config', 'timercheck');
    this.log = new TimerLog(join(storeRoot, 'timerlog'), opts.timerLogFileSize ?? TIMER_LOG_FILE_SIZE);
    this.metrics = new TimerMetrics(join(storeRoot, 'config', 'timermetrics'), logger);
    // A disabled wheel still delivers what an earlier run filed.
    this.enabled = config.timerWheelEnable || existsSync(this.wheelPath);
  }

  /**
   * Loads the log, the wheel and the checkpoint and recovers (after the message store loaded):
   * units past the checkpointed log position are re-filed, a torn tail is cut, and a wheel
   * written for another timerMaxDelaySec is rebuilt for this one.
   */
  async load(): Promise<void> {
    if (!this.enabled || this.loaded) return;
    const t0 = Date.now();
    this.log.load();
    const cp = new TimerCheckpoint(this.checkpointPath);
    this.checkpoint = cp;
    this.metrics.load();
    const old = TimerWheel.readFile(this.wheelPath);
    this.wheel = new TimerWheel(this.wheelPath, old ? old.length / SLOT_SIZE : this.wheelSlots, old);
    // Without a checkpointed read time (a first run that died within its first second), nothing
    // filed can be assumed delivered: the read pointer starts at the oldest unit re-filed.
    const knownRead = cp.existed && cp.lastReadTimeMs > 0;
    this.readSlot = Math.floor((knownRead ? cp.lastReadTimeMs : Date.now()) / this.precisionMs);
    let oldest = this.readSlot;

    // Re-file the units the persisted wheel may not cover.
    const from = cp.existed && old ? Math.max(this.log.minOffset, Math.min(cp.lastTimerLogFlushPos, this.log.maxOffset)) : this.log.minOffset;
    let lastUnit = -1;
    let refiled = 0;
    const end = this.log.scan(from, (u, pos) => {
      lastUnit = readLong(u, UnitPos.PHY_OFFSET);
      if (!knownRead) oldest = Math.min(oldest, this.slotOf(u));
      if (this.revise(u, pos, !knownRead)) {
        refiled++;
        // Filed after the metrics were last persisted (with the checkpoint): count it again.
        this.countRefiled(u);
      }
    });
    this.readSlot = oldest;
    if (end < this.log.maxOffset) this.logger.warn(`timer log: cut a torn or invalid tail at ${end} (was ${this.log.maxOffset})`);
    this.log.truncate(end);
    this.checkSlotsWithinLog(end);

    // Continue filing after the last filed entry of the timer queue.
    let offset = cp.existed ? cp.lastTimerQueueOffset : 0;
    if (lastUnit >= 0) offset = Math.max(offset, this.queueOffsetAfter(lastUnit));
    const cq = this.store.findConsumeQueue(TIMER_TOPIC, 0);
    this.enqueueOffset = cq ? Math.min(Math.max(offset, cq.minOffsetInQueue), cq.maxOffsetInQueue) : 0;
    this.loaded = true;

    if (this.wheel.slots !== this.wheelSlots) await this.migrate();
    else await this.persist();
    this.logger.info(`timer store loaded in ${Date.now() - t0} ms: read time ${new Date(this.readSlot * this.precisionMs).toISOString()}, ` +
      `timer queue offset ${this.enqueueOffset}, timer log ${this.log.minOffset}-${this.log.maxOffset}, ${refiled} units re-filed, ` +
      `wheel ${this.wheelSlots} slots of ${this.precisionMs} ms, roll window ${this.rollWindow} slots`);
  }

  /** The metric of a unit re-filed at recovery: its record names the real topic (the unit only its hash). */
  private countRefiled(u: Buffer): void {
    const rec = this.store.lookMessageByOffset(readLong(u, UnitPos.PHY_OFFSET));
    const info = rec ? recordInfo(rec) : undefined;
    const realTopic = info ? getProperty(info.properties, MessageConst.REAL_TOPIC) : undefined;
    if (realTopic) this.metrics.addAndGet(realTopic, isDelete(u.readInt32BE(UnitPos.MAGIC)) ? -1 : 1);
  }

  private slotOf(u: Buffer): number {
    return Math.floor((readLong(u, UnitPos.WRITE_TIME) + u.readInt32BE(UnitPos.DELAY)) / this.precisionMs);
  }

  /** Files a recovered unit into the wheel unless the wheel already has it; true when it did. */
  private revise(u: Buffer, pos: number, all = false): boolean {
    const t = this.slotOf(u);
    // A slot before the read pointer was delivered after this unit was filed (filing never goes behind it).
    if (t < this.readSlot && !all) return false;
    const s = this.wheel.get(t);
    const delta = isDelete(u.readInt32BE(UnitPos.MAGIC)) ? -1 : 1;
    if (!s) this.wheel.put(t, pos, pos, delta);
    else if (pos > s.lastPos) this.wheel.put(t, s.firstPos < 0 ? pos : s.firstPos, pos, s.num + delta);
    else return false;
    return true;
  }

  /** Slots whose chain ends past the log (a damaged log) are rebuilt from their first unit on. */
  private checkSlotsWithinLog(end: number): void {
    let minFirst = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.wheel.slots; i++) {
      const at = i * SLOT_SIZE;
      const t = readLong(this.wheel.buf, at);
      const last = readLong(this.wheel.buf, at + 16);
      if (t >= this.readSlot && last >= end) {
        minFirst = Math.min(minFirst, Math.max(0, readLong(this.wheel.buf, at + 8)));
        this.wheel.put(t, -1, -1, 0);
      }
    }
    if (minFirst === Number.POSITIVE_INFINITY) return;
    this.logger.warn(`timer wheel refers past the end of the timer log (${end}); rebuilding slots from the log at ${minFirst}`);
    this.log.scan(Math.max(minFirst, this.log.minOffset), (u, pos) => { this.revise(u, pos); });
  }

  /** Timer-queue offset after the entry whose record is at `phy` (upstream `reviseQueueOffset`). */
  private queueOffsetAfter(phy: number): number {
    const rec = this.store.lookMessageByOffset(phy);
    const info = rec ? recordInfo(rec) : undefined;
    if (!rec || !info || info.topic !== TIMER_TOPIC) return 0;
    const cq = this.store.findConsumeQueue(TIMER_TOPIC, 0);
    let q = readLong(rec, RecordPos.QUEUEOFFSET);
    if (cq && cq.getEntry(q)?.phyOffset !== phy) {
      // The record's own offset is not where the queue has it: search the queue by CommitLog offset.
      let lo = cq.minOffsetInQueue;
      let hi = cq.maxOffsetInQueue - 1;
      q = -1;
      while (lo <= hi) {
        const mid = Math.floor((lo + hi) / 2);
        const e = cq.getEntry(mid);
        if (!e) break;
        if (e.phyOffset === phy) { q = mid; break; }
        if (e.phyOffset < phy) lo = mid + 1;
        else hi = mid - 1;
      }
      if (q < 0) return 0;
    }
    return q + 1;
  }

  /** Moves every pending chain into a wheel of the configured size (timerMaxDelaySec changed). */
  private async migrate(): Promise<void> {
    const old = this.wheel;
    this.logger.warn(`timer wheel has ${old.slots} slots, timerMaxDelaySec asks for ${this.wheelSlots}: re-filing pending timers`);
    // Make the recovered timer-queue offset durable first: the copies below must not hide it.
    if (this.checkpoint) {
      this.checkpoint.lastTimerQueueOffset = this.enqueueOffset;
      await this.checkpoint.flush(true);
    }
    this.wheel = new TimerWheel(this.wheelPath, this.wheelSlots);
    const now = Date.now();
    let moved = 0;
    for (let i = 0; i < old.slots; i++) {
      const s = old.raw(i);
      if (s.lastPos < 0 || s.timeUnit < this.readSlot) continue;
      const c = this.collect(s.lastPos, s.timeUnit);
      for (let k = 0; k < c.n; k++) {
        this.file(s.timeUnit, c.magic[k]!, c.phy[k]!, c.size[k]!, c.topicHash[k]!, now);
        moved++;
      }
    }
    await this.log.flushWrites();
    await this.log.datasync();
    this.wheel.writeWhole();
    await this.persist();
    this.logger.info(`timer wheel rebuilt: ${moved} pending units re-filed`);
  }

  start(): void {
    if (!this.enabled || this.running) return;
    this.running = true;
    this.lastPersist = Date.now();
    this.lastClean = Date.now();
    this.wake(0);
  }

  /** A record landed on the timer topic: file it soon. */
  onArrival(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.wake(0);
  }

  private wake(ms: number): void {
    const at = Date.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      void this.tick();
    }, Math.max(0, ms));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    this.again = false;
    let next = 1000;
    try {
      next = await this.exclusive(() => this.round());
    } catch (err) {
      this.logger.error({ err }, 'timer store step failed; retrying in 1 s');
    } finally {
      this.ticking = false;
    }
    if (this.running) this.wake(this.again ? 0 : next);
  }

  /** Runs `fn` after every step already queued (one step at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.catch(() => undefined);
    return run;
  }

  /** One step: file what arrived, deliver what is due, persist now and then; returns ms until the next. */
  private async round(): Promise<number> {
    const t0 = performance.now();
    let more = false;
    // timerStopEnqueue / timerStopDequeue (read each step, so an UPDATE_BROKER_CONFIG acts at once):
    // arrivals wait on the timer topic, due timers wait in the wheel, as upstream's enqueue()/dequeue().
    const stopEnqueue = this.config.timerStopEnqueue;
    const stopDequeue = this.config.timerStopDequeue;
    while (this.running && !stopEnqueue && (await this.enqueueBatch())) {
      if (performance.now() - t0 > ENQUEUE_SLICE_MS) {
        more = true;
        break;
      }
    }
    if (!stopDequeue && (await this.dequeueDue(performance.now() + DEQUEUE_SLICE_MS))) more = true;
    const now = Date.now();
    if (now - this.lastPersist >= this.flushIntervalMs) await this.persist();
    if (now - this.lastClean >= CLEAN_INTERVAL_MS) this.cleanFiles();
    if (stopEnqueue || stopDequeue) return Math.min(this.flushIntervalMs, STOPPED_POLL_MS);
    if (more) return 0;
    return Math.min(this.flushIntervalMs, Math.max(0, this.slotDueAt(this.readSlot) - Date.now()));
  }

  /** Files the next entries of the timer queue; true when more are waiting. */
  private async enqueueBatch(): Promise<boolean> {
    const cq = this.store.findConsumeQueue(TIMER_TOPIC, 0);
    if (!cq) return false;
    if (this.enqueueOffset < cq.minOffsetInQueue) {
      this.logger.warn(`timer queue offset ${this.enqueueOffset} is below the queue's minimum ${cq.minOffsetInQueue}; timers in between were removed by retention`);
      this.enqueueOffset = cq.minOffsetInQueue;
    }
    if (this.enqueueOffset >= cq.maxOffsetInQueue) return false;
    const entries = cq.getEntries(this.enqueueOffset, ENQUEUE_BATCH);
    const n = entries.length / CQ_STORE_UNIT_SIZE;
    if (n === 0) return false;
    const wanted: Array<{ phy: number; size: number }> = [];
    for (let p = 0; p < entries.length; p += CQ_STORE_UNIT_SIZE) {
      const size = entries.readInt32BE(p + 8);
      if (size !== 0x7fffffff) wanted.push({ phy: readLong(entries, p), size });
    }
    const recs = await this.store.commitLog.readRecords(wanted);
    const now = Date.now();
    for (let k = 0; k < wanted.length; k++) {
      const rec = recs[k];
      const info = rec ? recordInfo(rec) : undefined;
      if (!info || info.topic !== TIMER_TOPIC) {
        this.lost(`timer message at CommitLog offset ${wanted[k]!.phy} cannot be read; it is skipped`);
        continue;
      }
      const out = parseJavaLong(getProperty(info.properties, TimerProp.OUT_MS) ?? '');
      if (out === undefined) {
        this.lost(`timer message at CommitLog offset ${wanted[k]!.phy} has no valid ${TimerProp.OUT_MS}; it is skipped`);
        continue;
      }
      const marker = getProperty(info.properties, TimerProp.DEL_UNIQKEY) !== undefined;
      const target = Math.floor(out / this.precisionMs);
      // A delete marker whose time has passed has nothing left to cancel.
      if (marker && target < this.readSlot) continue;
      const realTopic = getProperty(info.properties, MessageConst.REAL_TOPIC) ?? '';
      this.file(target, marker ? TimerMagic.DEFAULT | TimerMagic.DELETE : TimerMagic.DEFAULT, wanted[k]!.phy, wanted[k]!.size, javaStringHashCode(realTopic), now);
      this.stats.enqueued++;
      this.enqueuePerf.flow();
      // As upstream's doEnqueue: a timer counts for its real topic, a delete marker cancels one.
      if (realTopic) this.metrics.addAndGet(realTopic, marker ? -1 : 1, now);
    }
    this.enqueueOffset += n;
    await this.log.flushWrites();
    return this.enqueueOffset < cq.maxOffsetInQueue;
  }

  /**
   * Appends a unit under slot `target` (or the read slot when that has passed). A time further
   * than the roll window is filed at the window's edge with the ROLL bit: it is re-put to the
   * timer topic then and filed again, so the wheel never wraps onto unread slots and the record
   * stays younger than CommitLog retention (upstream `doEnqueue`).
   */
  private file(target: number, magicIn: number, phy: number, size: number, topicHash: number, now: number): void {
    let t = Math.max(target, this.readSlot);
    let magic = magicIn;
    if (t - this.readSlot >= this.rollWindow) {
      magic |= TimerMagic.ROLL;
      t = this.readSlot + (t - this.readSlot - this.rollWindow < Math.floor(this.rollWindow / 3) ? Math.floor(this.rollWindow / 2) : this.rollWindow);
    }
    const prev = this.wheel.get(t);
    const slotMs = t * this.precisionMs;
    let writeTimeMs = now;
    let delayMs = slotMs - now;
    if (delayMs > 0x7fffffff || delayMs < -0x80000000) {
      writeTimeMs = slotMs;
      delayMs = 0;
    }
    const pos = this.log.append({ prevPos: prev ? prev.lastPos : -1, magic, writeTimeMs, delayMs, commitLogOffset: phy, size, realTopicHash: topicHash, reserved: 0 });
    this.wheel.put(t, prev ? prev.firstPos : pos, pos, (prev ? prev.num : 0) + (isDelete(magic) ? -1 : 1));
  }

  /**
   * When slot `t` is due: once its whole time unit has passed, i.e. at the start of the next
   * one. Upstream reads a slot only while it is before the write time, the current time rounded
   * down to the precision (`TimerMessageStore.dequeue`, `maybeMoveWriteTime`). With TIMER_OUT_MS
   * rounded down, an exact multiple one step earlier (`HookUtils.transformTimerMessage`), so a
   * timer is never delivered before its requested time, and less than one step after it.
   */
  private slotDueAt(t: number): number {
    return (t + 1) * this.precisionMs;
  }

  /**
   * Delivers due slots until none is due or the time slice is spent; true when it stopped
   * with work left. A slot is delivered only once every timer-queue entry stored before it
   * became due is filed, so a delete marker sent before a message's time is in place.
   */
  private async dequeueDue(deadline: number): Promise<boolean> {
    while (this.running) {
      if (this.slotDueAt(this.readSlot) > Date.now()) return false;
      if (!this.enqueueCaughtUp(this.readSlot)) return true;
      const slot = this.wheel.get(this.readSlot);
      if (slot && !(await this.deliverSlot(this.readSlot, slot.lastPos))) return true;
      this.readSlot++;
      if (slot && this.checkpoint) {
        this.checkpoint.lastReadTimeMs = this.readSlot * this.precisionMs;
        await this.checkpoint.flush(false);
      }
      if (performance.now() > deadline) return true;
    }
    return false;
  }

  private enqueueCaughtUp(slot: number): boolean {
    const cq = this.store.findConsumeQueue(TIMER_TOPIC, 0);
    if (!cq || this.enqueueOffset >= cq.maxOffsetInQueue) return true;
    // An entry's TIMER_OUT_MS is at least the time it was converted at (at most its store time)
    // rounded down, so entries stored from the slot's due time on belong to later slots. One
    // converted just before and stored just after is filed under the read slot: a step late.
    return this.store.getMessageStoreTimeStamp(TIMER_TOPIC, 0, this.enqueueOffset) >= this.slotDueAt(slot);
  }

  /** Walks a slot's chain back from `lastPos`; returns its units oldest first. */
  private collect(lastPos: number, t: number): Chain {
    let cap = 64;
    let c: Chain = newChain(cap);
    let pos = lastPos;
    while (pos >= 0) {
      const u = this.log.unitAt(pos, true);
      if (!u) {
        this.logger.error(`timer log: the chain of slot ${t} breaks at ${pos} (log ${this.log.minOffset}-${this.log.maxOffset}); its older timers are lost`);
        break;
      }
      const w = readLong(u, UnitPos.WRITE_TIME);
      if (Math.floor((w + u.readInt32BE(UnitPos.DELAY)) / this.precisionMs) !== t) {
        this.logger.error(`timer log: unit at ${pos} does not belong to slot ${t}; the chain stops there`);
        break;
      }
      if (c.n === cap) {
        cap *= 2;
        c = growChain(c, cap);
      }
      const i = c.n++;
      c.phy[i] = readLong(u, UnitPos.PHY_OFFSET);
      c.size[i] = u.readInt32BE(UnitPos.PHY_SIZE);
      c.magic[i] = u.readInt32BE(UnitPos.MAGIC);
      c.topicHash[i] = u.readInt32BE(UnitPos.TOPIC_HASH);
      c.writeTime[i] = w;
      const prev = readLong(u, UnitPos.PREV_POS);
      if (prev >= pos) break;
      pos = prev;
    }
    // Oldest first.
    for (const a of [c.phy, c.size, c.magic, c.topicHash, c.writeTime]) a.subarray(0, c.n).reverse();
    return c;
  }

  /** Keys cancelled by the delete markers among `idx`. */
  private async deleteKeysOf(c: Chain, idx: number[]): Promise<Set<string>> {
    const keys = new Set<string>();
    for (let i = 0; i < idx.length; i += DELIVER_CHUNK) {
      const part = idx.slice(i, i + DELIVER_CHUNK);
      const recs = await this.store.commitLog.readRecords(part.map((k) => ({ phy: c.phy[k]!, size: c.size[k]! })));
      for (const rec of recs) {
        const info = rec ? recordInfo(rec) : undefined;
        const v = info ? getProperty(info.properties, TimerProp.DEL_UNIQKEY) : undefined;
        if (info && v) keys.add(normalizeDeleteKey(v, getProperty(info.properties, MessageConst.REAL_TOPIC) ?? ''));
      }
    }
    return keys;
  }

  /** Delivers one due slot: delete markers first, then the rest in filing order. False when interrupted. */
  private async deliverSlot(t: number, lastPos: number): Promise<boolean> {
    const c = this.collect(lastPos, t);
    const markers: number[] = [];
    const rest: number[] = [];
    for (let k = 0; k < c.n; k++) (isDelete(c.magic[k]!) && !isRoll(c.magic[k]!) ? markers : rest).push(k);
    const deleted = markers.length > 0 ? await this.deleteKeysOf(c, markers) : new Set<string>();
    for (let i = 0; i < rest.length; i += DELIVER_CHUNK) {
      const part = rest.slice(i, i + DELIVER_CHUNK);
      const recs = await this.store.commitLog.readRecords(part.map((k) => ({ phy: c.phy[k]!, size: c.size[k]! })));
      const now = Date.now();
      const puts: Array<Promise<boolean>> = [];
      for (let j = 0; j < part.length; j++) {
        const k = part[j]!;
        const out = this.toDeliver(recs[j], c, k, deleted, now);
        if (out) puts.push(this.putWithRetry(out, isRoll(c.magic[k]!)));
      }
      const ok = await Promise.all(puts);
      if (ok.some((x) => !x)) return false;
    }
    return true;
  }

  /** What a due unit becomes: the message for its real topic, a rolled copy, or nothing. */
  private toDeliver(rec: Buffer | undefined, c: Chain, k: number, deleted: Set<string>, now: number): PutMessageInput | undefined {
    const info = rec ? recordInfo(rec) : undefined;
    if (!rec || !info || info.topic !== TIMER_TOPIC || rec.length !== c.size[k]) {
      this.lost(`timer message at CommitLog offset ${c.phy[k]} is gone (removed by retention?); it cannot be delivered`);
      return undefined;
    }
    const { input } = putInputFromRecord(rec);
    const writeTime = String(c.writeTime[k]);
    if (isRoll(c.magic[k]!)) {
      this.stats.rolled++;
      this.dequeuePerf.flow();
      // As upstream: out of the wheel now, counted again when the rolled copy is filed.
      const rolledTopic = getProperty(info.properties, MessageConst.REAL_TOPIC);
      if (rolledTopic) this.metrics.addAndGet(rolledTopic, -1, now);
      const props = editProperties(input.properties, (p) => {
        p.set(TimerProp.ROLL_TIMES, String((parseJavaLong(p.get(TimerProp.ROLL_TIMES) ?? '') ?? 0) + 1));
        p.set(TimerProp.ENQUEUE_MS, writeTime);
        p.set(TimerProp.DEQUEUE_MS, String(now));
      });
      return { ...input, topic: TIMER_TOPIC, queueId: 0, properties: props, tagsCode: tagsCodeOf(props), waitStoreMsgOK: false };
    }
    const p = info.properties;
    // A delete marker is never delivered.
    if (getProperty(p, TimerProp.DEL_UNIQKEY) !== undefined) return undefined;
    const realTopic = getProperty(p, MessageConst.REAL_TOPIC);
    if (!realTopic) {
      this.lost(`timer message at CommitLog offset ${c.phy[k]} has no ${MessageConst.REAL_TOPIC}; it cannot be delivered`);
      return undefined;
    }
    const uniq = getProperty(p, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (uniq && deleted.has(buildDeleteKey(realTopic, uniq))) {
      this.stats.recalled++;
      return undefined;
    }
    const props = editProperties(input.properties, (m) => {
      m.delete(MessageConst.REAL_TOPIC);
      m.delete(MessageConst.REAL_QUEUE_ID);
      m.set(TimerProp.ENQUEUE_MS, writeTime);
      m.set(TimerProp.DEQUEUE_MS, String(now));
    });
    this.stats.delivered++;
    this.dequeuePerf.flow();
    this.metrics.addAndGet(realTopic, -1, now);
    return {
      ...input, topic: realTopic, queueId: Number(getProperty(p, MessageConst.REAL_QUEUE_ID) ?? 0) || 0,
      properties: props, tagsCode: tagsCodeOf(props), waitStoreMsgOK: false,
    };
  }

  /** Puts until stored; false when stopped before it was. Illegal messages are dropped with a warning. */
  private async putWithRetry(m: PutMessageInput, roll: boolean): Promise<boolean> {
    for (;;) {
      const r = await this.store.putMessage(m);
      if (r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT') return true;
      if (r.status === 'MESSAGE_ILLEGAL' || r.status === 'PROPERTIES_SIZE_EXCEEDED') {
        this.lost(`due timer message for ${m.topic} was refused by the store (${r.status}); it is dropped`);
        return true;
      }
      if (!this.running) return false;
      this.warn(`${roll ? 'rolling' : 'delivering'} a timer message to ${m.topic} failed (${r.status}); retrying`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_PUT_MS));
    }
  }

  /**
   * Recall (RECALL_MESSAGE, upstream `RecallMessageProcessor`): checks that `realTopic` has a
   * pending timer with unique key `uniqKey` filed under `timestampMs`'s slot, then stores the
   * delete marker with `putMarker` and files it, so that the slot skips the message. A timer
   * further away than a third of the roll window may sit in a roll slot, where it cannot be
   * looked up: then the marker is stored unchecked, as upstream always does.
   */
  recall(realTopic: string, uniqKey: string, timestampMs: number, putMarker: () => Promise<boolean>): Promise<RecallStatus> {
    if (!this.running) return Promise.resolve('PUT_FAILED');
    return this.exclusive(async () => {
      while (this.running && (await this.enqueueBatch())) { /* file everything stored so far */ }
      const t = Math.floor(roundDeliverMs(timestampMs, this.precisionMs) / this.precisionMs);
      if (t < this.readSlot) return 'DELIVERED';
      const found = await this.findInSlot(t, realTopic, uniqKey);
      if (found === 'DELETED') return 'ALREADY_RECALLED';
      if (found === 'ABSENT' && t - this.readSlot <= Math.floor(this.rollWindow / 3)) return 'NOT_FOUND';
      if (!(await putMarker())) return 'PUT_FAILED';
      while (this.running && (await this.enqueueBatch())) { /* file the marker before its slot can come up */ }
      return 'RECALLED';
    });
  }

  private async findInSlot(t: number, realTopic: string, uniqKey: string): Promise<'PENDING' | 'DELETED' | 'ABSENT'> {
    const slot = this.wheel.get(t);
    if (!slot) return 'ABSENT';
    const c = this.collect(slot.lastPos, t);
    const hash = javaStringHashCode(realTopic);
    const markers: number[] = [];
    const candidates: number[] = [];
    for (let k = 0; k < c.n; k++) {
      const m = c.magic[k]!;
      if (isRoll(m) || c.topicHash[k] !== hash) continue;
      (isDelete(m) ? markers : candidates).push(k);
    }
    const key = buildDeleteKey(realTopic, uniqKey);
    if (markers.length > 0 && (await this.deleteKeysOf(c, markers)).has(key)) return 'DELETED';
    for (let i = 0; i < candidates.length; i += DELIVER_CHUNK) {
      const part = candidates.slice(i, i + DELIVER_CHUNK);
      const recs = await this.store.commitLog.readRecords(part.map((k) => ({ phy: c.phy[k]!, size: c.size[k]! })));
      for (const rec of recs) {
        const info = rec ? recordInfo(rec) : undefined;
        if (info && getProperty(info.properties, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) === uniqKey
          && getProperty(info.properties, MessageConst.REAL_TOPIC) === realTopic) return 'PENDING';
      }
    }
    return 'ABSENT';
  }

  /** Makes the log, the wheel and the checkpoint durable, in that order. */
  private async persist(): Promise<void> {
    const cp = this.checkpoint;
    if (!cp) return;
    await this.log.flushWrites();
    const end = this.log.maxOffset;
    const changed = end !== cp.lastTimerLogFlushPos || this.wheel.hasDirty || cp.lastTimerQueueOffset !== this.enqueueOffset
      || cp.lastReadTimeMs !== this.readSlot * this.precisionMs || this.metrics.changed;
    this.lastPersist = Date.now();
    if (!changed) return;
    if (end !== cp.lastTimerLogFlushPos) await this.log.datasync();
    await this.wheel.persist();
    cp.lastTimerLogFlushPos = end;
    cp.lastTimerQueueOffset = this.enqueueOffset;
    cp.masterTimerQueueOffset = this.enqueueOffset;
    cp.lastReadTimeMs = this.readSlot * this.precisionMs;
    cp.timestamp = Date.now();
    cp.counter++;
    await cp.flush(true);
    try {
      this.metrics.persist();
    } catch (err) {
      this.logger.error({ err }, 'persisting the timer metrics failed; they are retried at the next flush');
    }
  }

  /** Deletes TimerLog segments below every pending chain and below the recovery point. */
  private cleanFiles(): void {
    this.lastClean = Date.now();
    let min = Math.min(this.log.maxOffset, this.checkpoint?.lastTimerLogFlushPos ?? 0);
    const buf = this.wheel.buf;
    for (let i = 0; i < this.wheel.slots; i++) {
      const at = i * SLOT_SIZE;
      if (readLong(buf, at + 16) >= 0 && readLong(buf, at) >= this.readSlot) min = Math.min(min, readLong(buf, at + 8));
    }
    const n = this.log.deleteFilesBelow(min);
    if (n > 0) this.logger.info(`timer log: deleted ${n} segment(s) below ${min} that no pending timer refers to`);
  }

  /** Timers filed and not yet due (delete markers subtract), from the wheel's counters. */
  pendingCount(): number {
    if (!this.loaded) return 0;
    let n = 0;
    const buf = this.wheel.buf;
    for (let i = 0; i < this.wheel.slots; i++) {
      const at = i * SLOT_SIZE;
      if (readLong(buf, at + 16) >= 0 && readLong(buf, at) >= this.readSlot) n += buf.readInt32BE(at + 24);
    }
    return n;
  }

  /**
   * The checkpoint's 56 bytes as GET_TIMER_CHECK_POINT sends them (upstream
   * `TimerCheckpoint.encode`): as last persisted, with the read time of the last delivered slot.
   * Undefined when the timer store does not run (upstream has no checkpoint then).
   */
  checkpointBytes(): Buffer | undefined {
    return this.loaded ? this.checkpoint?.encode() : undefined;
  }

  /**
   * Whether a send of a timer due at `timerOutMs` is refused for flow control (upstream
   * `TimerMessageStore#isReject`, answered WHEEL_TIMER_FLOW_CONTROL): never while its slot holds at
   * most timerCongestNumEachSlot timers, always from twice that, at random in between (upstream's
   * draw: a random 0..999 above 1000 × (num − limit) / (limit + 0.1)).
   */
  isReject(timerOutMs: number, random: () => number = Math.random): boolean {
    if (!this.loaded) return false;
    const limit = this.config.timerCongestNumEachSlot;
    const num = this.wheel.get(Math.floor(timerOutMs / this.precisionMs))?.num ?? 0;
    if (num <= limit) return false;
    if (num >= limit * 2) return true;
    return Math.floor(random() * 1000) > (1000 * (num - limit)) / (limit + 0.1);
  }

  /** Figures for runtime info and tests. */
  runtimeInfo(): Record<string, string> {
    if (!this.loaded) return { timerEnabled: String(this.enabled) };
    const cq = this.store.findConsumeQueue(TIMER_TOPIC, 0);
    return {
      // Seconds, whatever the precision, as upstream getDequeueBehind.
      timerReadBehind: String(Math.max(0, Math.floor((Date.now() - this.readSlot * this.precisionMs) / 1000))),
      timerOffsetBehind: String(Math.max(0, (cq?.maxOffsetInQueue ?? 0) - this.enqueueOffset)),
      timerCongestNum: String(this.pendingCount()),
      timerEnqueueTps: formatTps(this.enqueuePerf.getLastTps()),
      timerDequeueTps: formatTps(this.dequeuePerf.getLastTps()),
      timerLogMinOffset: String(this.log.minOffset),
      timerLogMaxOffset: String(this.log.maxOffset),
      timerEnqueued: String(this.stats.enqueued),
      timerDelivered: String(this.stats.delivered),
      timerRecalled: String(this.stats.recalled),
      timerRolled: String(this.stats.rolled),
    };
  }

  private lost(msg: string): void {
    this.stats.lost++;
    this.warn(msg);
  }

  private warn(msg: string): void {
    const now = Date.now();
    if (now - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = now;
    this.logger.warn(msg);
  }

  /** Stops after the step under way (a slot being delivered is finished) and persists everything. */
  async shutdown(): Promise<void> {
    if (!this.loaded) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.exclusive(() => this.persist());
    this.loaded = false;
    this.wheel.close();
    this.log.close();
    this.checkpoint?.close();
  }
}

function newChain(cap: number): Chain {
  return { n: 0, phy: new Float64Array(cap), size: new Int32Array(cap), magic: new Int32Array(cap), topicHash: new Int32Array(cap), writeTime: new Float64Array(cap) };
}

function growChain(c: Chain, cap: number): Chain {
  const g = newChain(cap);
  g.n = c.n;
  g.phy.set(c.phy);
  g.size.set(c.size);
  g.magic.set(c.magic);
  g.topicHash.set(c.topicHash);
  g.writeTime.set(c.writeTime);
  return g;
}

/** Topic and properties of a stored record, without decoding the rest; undefined when malformed. */
export function recordInfo(buf: Buffer): { topic: string; properties: string } | undefined {
  try {
    if (buf.length < 91) return undefined;
    const magic = buf.readInt32BE(RecordPos.MAGICCODE);
    if (!isMessageMagic(magic)) return undefined;
    let p = bodyLengthPos(buf.readInt32BE(RecordPos.SYSFLAG));
    p += 4 + buf.readInt32BE(p);
    const v2 = magic === MESSAGE_MAGIC_CODE_V2;
    const topicLen = v2 ? buf.readInt16BE(p) : buf.readInt8(p);
    p += v2 ? 2 : 1;
    const topic = buf.toString('utf8', p, p + topicLen);
    p += topicLen;
    const propLen = buf.readInt16BE(p);
    if (p + 2 + propLen > buf.length) return undefined;
    return { topic, properties: buf.toString('utf8', p + 2, p + 2 + propLen) };
  } catch {
    return undefined;
  }
}
