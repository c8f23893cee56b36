import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { commitLogDir, commitLogDirs, splitStorePaths, type MessageStoreConfig } from '../common/config.js';
import { int16At, int32At, int8At, readLong } from '../common/bytes.js';
import { bodyLengthPos, isMessageMagic, MESSAGE_MAGIC_CODE_V2, MIN_RECORD_SIZE, recordSize, storeTimestampPos, writeRecordInto, RecordPos } from '../common/message-record.js';
import { joinedOffsetMessageIds, OffsetMessageId } from '../common/message-id.js';
import { MessageSysFlag, transactionValue } from '../common/sysflag.js';
import { findPropertyValues } from '../common/properties.js';
import { MessageConst } from '../common/message-const.js';
import { continueJavaHashUtf8, humanReadableByteCount, javaDoubleString } from '../common/java.js';
import { isSystemTopic, SystemTopic } from '../common/topic.js';
import { delayOfLevel, parseDelayLevels } from '../common/delay-level.js';
import { CommitLog, type DispatchRequest, type PutMessageStatus, type ReadArena } from './commit-log.js';
import { walkSegment, WalkBuffer } from './record-walk.js';
import type { MappedFile } from './mapped-file.js';
import { ConsumeQueue, CQ_STORE_UNIT_SIZE } from './consume-queue.js';
import { StoreCheckpoint } from './store-checkpoint.js';
import { IndexService, indexKeyPrefixHash } from './index-service.js';
import { CleanService, diskUsageRatio } from './clean-service.js';
import { RunningFlags } from './running-flags.js';
import type { GetMessageResult, GetMessageStatus, MessageFilter } from './get-message-result.js';
import { StoreStatsService } from './stats/store-stats-service.js';
import type { BrokerStatsManager, TopicPutStats } from './stats/broker-stats-manager.js';

export interface PutMessageInput {
  topic: string;
  queueId: number;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  /** 8 or 20 bytes: IP + int32 port. */
  bornHost: Buffer;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  /** Encoded properties string. */
  properties: string;
  tagsCode: number;
  /** Wait for the flush under SYNC_FLUSH (property WAIT, default true). */
  waitStoreMsgOK: boolean;
}

export interface PutMessageResult {
  status: PutMessageStatus;
  /** Offset message id of the stored record (comma-joined for a batch). */
  msgId: string;
  /** A single stored record's id as its parts, for a writer that needs no string (the send answer). */
  offsetId?: OffsetMessageId;
  queueOffset: number;
  phyOffset: number;
  storeTimestamp: number;
  size: number;
}

/** Records found by key (upstream `QueryMessageResult`). */
export interface QueryMessageResult {
  /** Whole stored records, in CommitLog order. */
  buffers: Buffer[];
  bufferTotalSize: number;
  /** End time and CommitLog offset of the newest index file. */
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** Called for every record dispatched to a ConsumeQueue (upstream `MessageArrivingListener`). */
export type MessageArrivingListener = (topic: string, queueId: number, maxOffset: number, tagsCode: number, properties: string) => void;

/** ConsumeQueue fdatasyncs in flight at once (the size of libuv's thread pool). */
const CQ_SYNC_PARALLEL = 4;
/**
 * A queue outside its sync slot is written once this much is pending: busy queues then go out
 * in page-sized writes while a queue getting a few messages a second costs one write per
 * cycle, not one per round.
 */
const CQ_WRITE_LEAST_BYTES = 2048;

/**
 * The message store (upstream `DefaultMessageStore`): one CommitLog, a ConsumeQueue per topic
 * queue, the checkpoint, and the abort file that tells a crash from a clean stop.
 */
export class DefaultMessageStore {
  readonly commitLog: CommitLog;
  /** Per topic its name's bytes, next queue offsets and ConsumeQueues: one map lookup per message. */
  private readonly topics = new Map<string, StoreTopic>();
  private checkpoint!: StoreCheckpoint;
  /** Keys and unique keys of every message (upstream `IndexService`), under `index/`. */
  readonly indexService: IndexService;
  private readonly abortPath: string;
  private readonly cqRoot: string;
  /** Retention; runs every cleanResourceInterval once started. */
  readonly cleanService: CleanService;
  /** DISK_FULL while the disk is over diskSpaceWarningLevelRatio (set by the clean service): puts are refused. */
  readonly runningFlags = new RunningFlags();
  /** Puts refused since the store was last writable (their warning is logged once per 50000). */
  private refusedPuts = 0;
  private cqTimer?: NodeJS.Timeout;
  /**
   * Rounds of the ConsumeQueue flush in which every queue is made durable once
   * (flushConsumeQueueThoroughInterval / flushIntervalConsumeQueue): each round syncs the queues
   * of one slot, so thousands of queues cost a steady trickle of fdatasyncs, not a storm.
   */
  private readonly syncRounds: number;
  private cqRound = 0;
  private cqFlushing?: Promise<void>;
  /** Queues created so far: the next one's sync slot. */
  private cqCreated = 0;
  /** CommitLog offset just past the last record dispatched to ConsumeQueues. */
  private dispatchedOffset = 0;
  /** Queues holding an entry that is not yet durable (ConsumeQueue.unsyncedPhyOffset >= 0). */
  private readonly unsyncedQueues = new Set<ConsumeQueue>();
  private arrivingListener?: MessageArrivingListener;
  private running = false;
  private shuttingDown = false;
  /** Whether the previous run ended without a clean shutdown (set by load()). */
  lastExitAbnormal = false;
  readonly storeHost: Buffer;
  /** Puts, gets and their rates (runtime info). */
  readonly storeStats = new StoreStatsService();
  /** Puts per topic (set by the broker that owns this store; upstream hands it to the store too). */
  brokerStatsManager?: BrokerStatsManager;
  /** Delay of each level in ms (messageDelayLevel); SCHEDULE_TOPIC_XXXX queue n holds level n + 1. */
  readonly delayLevels: readonly number[];
  private storeHostHexCache?: string;
  private readonly physicalMemory: number;
  /** A slave's store: its CommitLog grows only by appendToCommitLog, with the master's bytes. */
  readonly replica: boolean;
  /**
   * Told once per written batch (not per message) that the log grew: the HA connections wake
   * to send the new bytes to the slaves.
   */
  onCommitLogGrew?: () => void;
  /** The dispatcher of replicated records (see appendToCommitLog), made at the first append. */
  private replicaDispatch?: (buf: Buffer, pos: number, phy: number) => void;
  private replicaWalk?: WalkBuffer;
  /** Where a slave's reput found bytes that are no record (said once per position: the reput stays there). */
  private replicaUnreadableAt = -1;

  constructor(readonly config: MessageStoreConfig, storeHost: Buffer, private readonly logger: Logger, physicalMemory = 8 * 1024 ** 3, opts: { replica?: boolean } = {}) {
    this.replica = opts.replica === true;
    this.storeHost = storeHost;
    this.physicalMemory = physicalMemory;
    this.delayLevels = parseDelayLevels(config.messageDelayLevel);
    this.syncRounds = Math.max(1, Math.round(config.flushConsumeQueueThoroughInterval / config.flushIntervalConsumeQueue) || 1);
    mkdirSync(config.storePathRootDir, { recursive: true });
    this.abortPath = join(config.storePathRootDir, 'abort');
    this.cqRoot = join(config.storePathRootDir, 'consumequeue');
    // As upstream's ensureDirOK: both exist from the start, so their disks can be measured.
    for (const d of commitLogDirs(config)) mkdirSync(d, { recursive: true });
    mkdirSync(this.cqRoot, { recursive: true });
    this.commitLog = new CommitLog({
      dir: commitLogDir(config),
      fileSize: config.mappedFileSizeCommitLog,
      syncFlush: config.flushDiskType === 'SYNC_FLUSH',
      syncFlushTimeoutMs: config.syncFlushTimeout,
      flushIntervalMs: config.flushIntervalCommitLog,
      hotTailCacheBytes: config.hotTailCacheBytes,
      logger,
      onDispatch: (reqs) => this.dispatch(reqs),
      putLatency: this.storeStats,
      onFlushed: (off) => { this.checkpoint.flushedPhyOffset = off; },
      replica: this.replica,
    });
    if (config.readOnlyCommitLogStorePaths.trim() !== '') this.commitLog.files.readOnlyDirs = splitStorePaths(config.readOnlyCommitLogStorePaths);
    this.indexService = new IndexService({
      dir: join(config.storePathRootDir, 'index'),
      hashSlotNum: config.maxHashSlotNum,
      indexNum: config.maxIndexNum,
      maxMsgsNumBatch: config.maxMsgsNumBatch,
      logger,
      // As upstream: the end time of a full index file, once durable, is the checkpoint's indexMsgTimestamp.
      onFullFileSynced: (ts) => {
        this.checkpoint.indexMsgTimestamp = ts;
        this.checkpoint.flush(true);
      },
    });
    this.cleanService = new CleanService(config, {
      deleteCommitLogFiles: (deletable, max) => this.commitLog.deleteExpiredFiles(deletable, max),
      cleanLogicFiles: () => this.cleanLogicFiles(),
      commitLogMinOffset: () => this.commitLog.minOffset,
      commitLogPaths: () => this.commitLogPaths(),
      consumeQueuePath: () => this.cqRoot,
      runningFlags: this.runningFlags,
      setFullStorePaths: (paths) => { this.commitLog.files.fullDirs = paths; },
    }, logger);
  }

  setMessageArrivingListener(l: MessageArrivingListener): void {
    this.arrivingListener = l;
  }

  /**
   * Loads files and recovers: after a clean stop the logs are trusted as they are; after a crash
   * (abort file present) the CommitLog is verified record by record from the last durable
   * point, a torn tail is cut, and ConsumeQueue entries are rebuilt past their last consistent point.
   */
  load(): { recoveredFrom: number; maxOffset: number; abnormal: boolean; ms: number } {
    const t0 = Date.now();
    this.checkStoreNotInUse();
    this.lastExitAbnormal = existsSync(this.abortPath);
    this.checkpoint = new StoreCheckpoint(join(this.config.storePathRootDir, 'checkpoint'));
    this.commitLog.load();
    // After a crash, records from the last point where both the log and every queue were
    // durable are dispatched again; queue entries pointing there or later are suspect.
    const redoFrom = Math.min(this.checkpoint.consumeQueuePhyOffset, this.checkpoint.flushedPhyOffset);
    this.loadConsumeQueues(this.lastExitAbnormal ? redoFrom : Number.POSITIVE_INFINITY);
    this.indexService.load(!this.lastExitAbnormal, this.checkpoint.indexMsgTimestamp);

    let cqMaxPhy = 0;
    for (const cq of this.allQueues()) cqMaxPhy = Math.max(cqMaxPhy, cq.maxPhysicOffset);
    const logEnd = this.commitLog.files.maxOffset;
    let from: number;
    let dispatchFrom: number;
    if (this.lastExitAbnormal) {
      dispatchFrom = redoFrom;
      from = Math.max(this.commitLog.files.minOffset, Math.min(dispatchFrom, logEnd));
    } else {
      // Clean stop: everything was flushed and dispatched; only re-check the tail past the checkpoint.
      dispatchFrom = Math.min(this.checkpoint.consumeQueuePhyOffset, cqMaxPhy, logEnd);
      from = Math.max(this.commitLog.files.minOffset, dispatchFrom);
    }
    // Index files past the durable index point were destroyed (abnormal exit): the scan starts
    // early enough to rebuild them; records before dispatchFrom feed the index only.
    let scanFrom = dispatchFrom;
    if (this.lastExitAbnormal && this.config.messageIndexEnable) {
      const indexFrom = Math.max(this.commitLog.files.minOffset, this.indexService.lastIndexedPhyOffset);
      if (indexFrom < dispatchFrom) {
        scanFrom = indexFrom;
        from = Math.min(from, indexFrom);
      }
    }
    const end = this.commitLog.recover(from, scanFrom, this.config.checkCRCOnRecover, this.recoveryDispatcher(dispatchFrom), !this.lastExitAbnormal && from === dispatchFrom);
    // Entries pointing past the verified end belong to records that did not survive. (Records
    // re-dispatched before this all lie below `end`; an entry they found already present is theirs.)
    for (const cq of this.allQueues()) if (cq.maxPhysicOffset > end) cq.truncateDirty(end);
    this.indexService.truncateDirty(end);
    const minPhy = this.commitLog.minOffset;
    for (const cq of this.allQueues()) {
      if (end === 0 && this.commitLog.files.files.length === 0) cq.destroy();
      else cq.correctMinOffset(minPhy);
    }
    this.rebuildTopicQueueTable();
    this.dispatchedOffset = end;
    this.checkpoint.flushedPhyOffset = end;
    return { recoveredFrom: from, maxOffset: end, abnormal: this.lastExitAbnormal, ms: Date.now() - t0 };
  }

  private checkStoreNotInUse(): void {
    if (!existsSync(this.abortPath)) return;
    const pid = Number(readFileSync(this.abortPath, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
      if (alive) {
        throw new Error(`the store at ${this.config.storePathRootDir} is in use by process ${pid}; stop that broker or use another storePathRootDir`);
      }
    }
  }

  /**
   * Re-dispatch during recovery: every record to the index, those from `cqFrom` on to
   * ConsumeQueues. This runs for every record of the scanned log, so it allocates nothing per
   * record: one request object is refilled each time (neither the index nor the queues keep it),
   * the topic string and its queues are reused while the topic repeats, and the properties are
   * not decoded (the request's `properties` stays empty): the tag and index keys are hashed
   * from their bytes.
   */
  private recoveryDispatcher(cqFrom: number, live = false): (buf: Buffer, pos: number, phy: number) => void {
    const index = this.config.messageIndexEnable;
    const d: DispatchRequest = { topic: '', queueId: 0, queueOffset: 0, phyOffset: 0, size: 0, tagsCode: 0, storeTimestamp: 0, sysFlag: 0, properties: '', queue: undefined, keyPrefixHash: undefined };
    const topics = new RecoveredTopic();
    const props = new RecoveredProperties();
    let st: StoreTopic | undefined;
    return (buf, pos, phy) => {
      parseDispatchInto(d, buf, pos, phy, topics, props, this.delayLevels);
      if (index) this.indexService.buildIndexFromBytes(d, buf, props.at[P_UNIQ]!, props.end[P_UNIQ]!, props.at[P_KEYS]!, props.end[P_KEYS]!);
      if (phy < cqFrom) return;
      const t = transactionValue(d.sysFlag);
      if (t === MessageSysFlag.TRANSACTION_PREPARED_TYPE || t === MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) return;
      if (st === undefined || st.name !== d.topic) st = this.topicOf(d.topic);
      const cq = st.queues[d.queueId] ?? this.createConsumeQueue(st, d.queueId);
      if (cq.putEntry(d.queueOffset, phy, d.size, d.tagsCode)) this.unsyncedQueues.add(cq);
      if (!live) return;
      // A slave dispatching what the master sent: long polls waiting on the queue wake as on a master.
      cq.putOffset = d.queueOffset + 1;
      const l = this.arrivingListener;
      if (l !== undefined) l(d.topic, d.queueId, d.queueOffset + 1, d.tagsCode, buf.toString('utf8', props.propsAt, props.propsEnd));
    };
  }

  /**
   * A slave's append of bytes the master sent (upstream `appendToCommitLog`), then its reput
   * (upstream `ReputMessageService`): the records now whole in the log are dispatched to their
   * ConsumeQueues and the index, exactly as recovery would rebuild them; a record the frame cut
   * waits for the rest. Returns why the bytes were refused, if they were.
   */
  appendToCommitLog(phyOffset: number, data: Buffer): string | undefined {
    if (!this.running || this.shuttingDown) return 'the store is not running';
    const err = this.commitLog.appendRaw(phyOffset, data);
    if (err !== undefined) return err;
    if (this.dispatchedOffset < this.commitLog.minOffset) this.dispatchedOffset = this.commitLog.minOffset;
    this.reputReplica();
    return undefined;
  }

  private reputReplica(): void {
    const dispatch = (this.replicaDispatch ??= this.recoveryDispatcher(0, true));
    const scratch = (this.replicaWalk ??= new WalkBuffer());
    const fileSize = this.config.mappedFileSizeCommitLog;
    const end = this.commitLog.writtenOffset;
    while (this.dispatchedOffset < end) {
      const from = this.dispatchedOffset;
      const f = this.commitLog.files.findFileByOffset(from);
      if (f === undefined) return;
      const base = f.fileFromOffset;
      let last = from;
      const r = walkSegment((buf, at, length) => f.readSyncInto(buf, 0, at, length), scratch, from - base, Math.min(end - base, fileSize), false, (buf, rel, filePos, size) => {
        dispatch(buf, rel, base + filePos);
        last = base + filePos + size;
        return true;
      });
      this.dispatchedOffset = r.stop === 'blank' ? base + fileSize : last;
      if (typeof r.stop === 'object' && !this.replicaRecordPending(f, last, end, fileSize)) this.onUnreadableReplica(last, r.stop.reason);
      // A record cut by the frame, or the end of what arrived: the next append continues.
      if (r.stop !== 'blank') return;
    }
  }

  /**
   * Whether the bytes at `at` may still become a whole record as more arrive: too few for a
   * header yet, or a message header whose record runs past what has arrived.
   */
  private replicaRecordPending(f: MappedFile, at: number, end: number, fileSize: number): boolean {
    if (end - at < 8) return true;
    const h = Buffer.allocUnsafe(8);
    if (f.readSyncInto(h, 0, at - f.fileFromOffset, 8) < 8) return true;
    const size = int32At(h, 0);
    return isMessageMagic(int32At(h, 4)) && size >= MIN_RECORD_SIZE && at + size > end && at - f.fileFromOffset + size <= fileSize;
  }

  /**
   * Bytes at the dispatch position that no further append can make a record: the slave's log
   * and its master's differ there (the slave once followed another master, or lost or kept a
   * tail the master has not), so the master's bytes landed mid-record. Upstream's reput logs it
   * as a [BUG] (a slave's ReputMessageService then stays at the offset, as here); nothing past it
   * reaches the ConsumeQueues, which dispatchBehindBytes shows growing. Said once per position.
   */
  private onUnreadableReplica(at: number, reason: string): void {
    if (this.replicaUnreadableAt === at) return;
    this.replicaUnreadableAt = at;
    this.logger.error(`[BUG] the slave's CommitLog diverged from its master's at offset ${at} (${reason}): the replicated bytes there are no message, `
      + 'so nothing from there on is dispatched to the ConsumeQueues. Stop this slave, clear its store directory, and start it again to copy the master\'s log afresh.');
  }

  /** Loads every queue found on disk; `unsyncedFrom` as for ConsumeQueue.load. */
  private loadConsumeQueues(unsyncedFrom: number): void {
    let topics: string[];
    try {
      topics = readdirSync(this.cqRoot);
    } catch {
      return;
    }
    for (const topic of topics) {
      let qids: string[];
      try {
        qids = readdirSync(join(this.cqRoot, topic));
      } catch {
        continue;
      }
      for (const q of qids) {
        if (!/^\d+$/.test(q)) continue;
        const cq = this.findOrCreateConsumeQueue(topic, Number(q));
        cq.load(unsyncedFrom);
      }
    }
  }

  /** Next queue offsets (upstream `topicQueueTable`) from what the queues hold after recovery. */
  private rebuildTopicQueueTable(): void {
    for (const cq of this.allQueues()) cq.putOffset = cq.maxOffsetInQueue;
  }

  private topicOf(topic: string): StoreTopic {
    let st = this.topics.get(topic);
    if (st === undefined) {
      st = new StoreTopic(topic);
      this.topics.set(topic, st);
    }
    return st;
  }

  private *allQueues(): Iterable<ConsumeQueue> {
    for (const st of this.topics.values()) for (const cq of st.queues) if (cq) yield cq;
  }

  start(): void {
    this.storeHostHexCache = undefined; // the port is known now
    writeFileSync(this.abortPath, String(process.pid));
    this.commitLog.start();
    this.cleanService.start();
    this.storeStats.start();
    this.cqTimer = setInterval(() => void this.flushConsumeQueues(false), this.config.flushIntervalConsumeQueue);
    this.cqTimer.unref();
    this.running = true;
  }

  findConsumeQueue(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.topics.get(topic)?.queues[queueId];
  }

  findOrCreateConsumeQueue(topic: string, queueId: number): ConsumeQueue {
    const st = this.topicOf(topic);
    return st.queues[queueId] ?? this.createConsumeQueue(st, queueId);
  }

  private createConsumeQueue(st: StoreTopic, queueId: number): ConsumeQueue {
    const cq = new ConsumeQueue(this.cqRoot, st.name, queueId, this.config.mappedFileSizeConsumeQueue);
    cq.syncSlot = this.cqCreated++ % this.syncRounds;
    st.queues[queueId] = cq;
    return cq;
  }

  /**
   * Creates the ConsumeQueues of a topic and their first segment files (UPDATE_AND_CREATE_TOPIC):
   * otherwise a thousand new topics create their thousands of files all in the first flush rounds
   * under load. Queues that exist are left alone.
   */
  createConsumeQueues(topic: string, queueNums: number): void {
    const st = this.topicOf(topic);
    try {
      for (let q = 0; q < queueNums; q++) {
        if (st.queues[q] !== undefined) continue;
        this.createConsumeQueue(st, q).createFirstSegment();
      }
    } catch (err) {
      // Not fatal: the first flush creates what is missing, and reports a disk that fails then.
      this.logger.warn(`ConsumeQueue files of topic ${topic} not created ahead: ${(err as Error).message}`);
    }
  }

  private checkInput(m: PutMessageInput, propsLen: number): PutMessageStatus | undefined {
    // As upstream's checkStoreStatus: a slave's log holds only what its master sent.
    if (this.shuttingDown || !this.running || this.replica) return 'SERVICE_NOT_AVAILABLE';
    if (!this.runningFlags.isWriteable()) {
      // As upstream: one line per 50000 refused puts, not one per put.
      if (this.refusedPuts++ % 50_000 === 0) this.logger.warn(`message store is not writeable, so putMessage is forbidden ${this.runningFlags.flagBits}`);
      return 'SERVICE_NOT_AVAILABLE';
    }
    if (this.refusedPuts !== 0) this.refusedPuts = 0;
    if (m.body.length > this.config.maxMessageSize) return 'MESSAGE_ILLEGAL';
    if (propsLen > 32767) return 'PROPERTIES_SIZE_EXCEEDED';
    return undefined;
  }

  /** Appends one message; resolves when it is stored as the flush mode requires. */
  async putMessage(m: PutMessageInput): Promise<PutMessageResult> {
    const st = this.topicOf(m.topic);
    const props = Buffer.from(m.properties, 'utf8');
    const bad = this.checkInput(m, props.length);
    if (bad) return this.failedPut(bad);
    const size = recordSize(m.bornHost.length, this.storeHost.length, m.body.length, st.byteLength, props.length);
    let d!: DispatchRequest;
    const r = await this.commitLog.append(size, (buf, pos, phy, now) => (d = this.encodeRecord(st, m, props, size, buf, pos, phy, now)), m.waitStoreMsgOK);
    // FLUSH_DISK_TIMEOUT means stored, durability not confirmed: the sender still gets the ids.
    const stored = r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT';
    if (!stored) return this.failedPut(r.status);
    this.countPut(st, 1, size);
    return new StoredPut(r.status, new OffsetMessageId(this.storeHostHex, d.phyOffset), d.queueOffset, d.storeTimestamp, size);
  }

  /**
   * Appends the messages of a batch as consecutive records of one segment, reserved and
   * written together (one ack for the batch, as upstream's batch put). The result carries the
   * first queue offset and the comma-joined offset message ids.
   */
  async putMessages(msgs: PutMessageInput[]): Promise<PutMessageResult> {
    if (msgs.length === 0) return this.failedPut('MESSAGE_ILLEGAL');
    const st = this.topicOf(msgs[0]!.topic);
    const props: Buffer[] = [];
    const sizes: number[] = [];
    let total = 0;
    for (const m of msgs) {
      if (m.topic !== st.name) return this.failedPut('MESSAGE_ILLEGAL');
      const p = Buffer.from(m.properties, 'utf8');
      const bad = this.checkInput(m, p.length);
      if (bad) return this.failedPut(bad);
      const size = recordSize(m.bornHost.length, this.storeHost.length, m.body.length, st.byteLength, p.length);
      props.push(p);
      sizes.push(size);
      total += size;
    }
    let first!: DispatchRequest;
    const offsets: number[] = [];
    const r = await this.commitLog.appendBatch(total, (buf, pos, phy, now, out) => {
      let at = 0;
      for (let i = 0; i < msgs.length; i++) {
        const d = this.encodeRecord(st, msgs[i]!, props[i]!, sizes[i]!, buf, pos + at, phy + at, now);
        if (i === 0) first = d;
        offsets.push(phy + at);
        out.push(d);
        at += sizes[i]!;
      }
    }, msgs.some((m) => m.waitStoreMsgOK));
    const stored = r.status === 'PUT_OK' || r.status === 'FLUSH_DISK_TIMEOUT';
    if (!stored) return this.failedPut(r.status);
    this.countPut(st, msgs.length, total);
    return {
      status: r.status, msgId: joinedOffsetMessageIds(this.storeHostHex, offsets),
      queueOffset: first.queueOffset, phyOffset: first.phyOffset, storeTimestamp: first.storeTimestamp, size: total,
    };
  }

  private countPut(st: StoreTopic, msgNum: number, bytes: number): void {
    const ss = this.storeStats;
    ss.putMessageTimesTotal += msgNum;
    ss.putMessageSizeTotal += bytes;
    const bsm = this.brokerStatsManager;
    if (bsm === undefined) return;
    let ps = st.putStats;
    if (ps === undefined || ps.removed) ps = st.putStats = bsm.topicPutStats(st.name);
    ps.add(msgNum, bytes);
  }

  private failedPut(status: PutMessageStatus): PutMessageResult {
    this.storeStats.putMessageFailedTimes++;
    return failedPut(status);
  }

  /** Encodes `m` as the record at `phy` (its queue offset taken now) and returns its dispatch request. */
  private encodeRecord(st: StoreTopic, m: PutMessageInput, props: Buffer, size: number, buf: Buffer, pos: number, phy: number, now: number): DispatchRequest {
    const txType = transactionValue(m.sysFlag);
    const indexed = txType !== MessageSysFlag.TRANSACTION_PREPARED_TYPE && txType !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE;
    const queue = indexed ? st.queues[m.queueId] ?? this.createConsumeQueue(st, m.queueId) : undefined;
    const queueOffset = queue !== undefined ? queue.putOffset : 0;
    writeRecordInto(buf, pos, size, {
      queueId: m.queueId, flag: m.flag, queueOffset, physicalOffset: phy, sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp, bornHost: m.bornHost, storeTimestamp: now, storeHost: this.storeHost,
      reconsumeTimes: m.reconsumeTimes, preparedTransactionOffset: m.preparedTransactionOffset,
      body: m.body, topic: st.recorded, properties: props,
    });
    if (queue !== undefined) queue.putOffset = queueOffset + 1;
    const tagsCode = m.topic === SystemTopic.SCHEDULE_TOPIC ? now + delayOfLevel(this.delayLevels, m.queueId + 1) : m.tagsCode;
    return { topic: m.topic, queueId: m.queueId, queueOffset, phyOffset: phy, size, tagsCode, storeTimestamp: now, sysFlag: m.sysFlag, properties: m.properties, queue, keyPrefixHash: st.keyPrefixHash };
  }

  /** Upper-case hex of the store host, the prefix of every offset message id. */
  private get storeHostHex(): string {
    if (this.storeHostHexCache === undefined) this.storeHostHexCache = this.storeHost.toString('hex').toUpperCase();
    return this.storeHostHexCache;
  }

  /** Dispatch of written records: ConsumeQueue entries, index keys, then wake-ups for long polling. */
  private dispatch(reqs: DispatchRequest[]): void {
    if (this.config.messageIndexEnable) this.indexService.buildIndexes(reqs);
    for (const d of reqs) {
      // The put gave every record but a transaction half its queue.
      if (d.queue !== undefined) {
        const cq = d.queue.deleted ? this.findOrCreateConsumeQueue(d.topic, d.queueId) : d.queue;
        if (cq.putEntry(d.queueOffset, d.phyOffset, d.size, d.tagsCode)) this.unsyncedQueues.add(cq);
        this.arrivingListener?.(d.topic, d.queueId, d.queueOffset + 1, d.tagsCode, d.properties);
      }
      this.dispatchedOffset = d.phyOffset + d.size;
      this.checkpoint.physicMsgTimestamp = d.storeTimestamp;
      this.checkpoint.logicsMsgTimestamp = d.storeTimestamp;
    }
    this.onCommitLogGrew?.();
  }

  /**
   * One round of the ConsumeQueue flush: the queues of this round's sync slot (all of them when
   * `full`) are written and fdatasync'ed, other queues are written once CQ_WRITE_LEAST_BYTES are
   * pending. The checkpoint then records the least CommitLog offset of an entry that is not yet
   * durable in any queue: recovery after a crash re-dispatches from there.
   */
  flushConsumeQueues(full: boolean): Promise<void> {
    if (this.cqFlushing) return full ? this.cqFlushing.then(() => this.flushConsumeQueues(true)) : this.cqFlushing;
    const run = async (): Promise<void> => {
      const indexFlushed = this.indexService.flush();
      const slot = this.cqRound++ % this.syncRounds;
      const due: ConsumeQueue[] = [];
      const writes: Array<Promise<void>> = [];
      // A queue that fails keeps its entries as not durable: the checkpoint stays below them.
      const report = (cq: ConsumeQueue, what: string, err: Error): void => {
        this.logger.error(`ConsumeQueue ${cq.topic}/${cq.queueId} ${what} failed: ${err.message}; check the disk`);
      };
      for (const cq of this.unsyncedQueues) {
        if (full || cq.syncSlot === slot) due.push(cq);
        else if (cq.unwrittenBytes >= CQ_WRITE_LEAST_BYTES) {
          writes.push(new Promise<void>((resolve) => cq.flush((err) => {
            if (err) report(cq, 'write', err);
            resolve();
          })));
        }
      }
      await Promise.all(writes);
      // In the thread pool, a few at a time: thousands of queues must not stall the event loop.
      for (let i = 0; i < due.length; i += CQ_SYNC_PARALLEL) {
        await Promise.all(due.slice(i, i + CQ_SYNC_PARALLEL).map((cq) => cq.makeDurable().then(() => {
          if (cq.unsyncedPhyOffset < 0) this.unsyncedQueues.delete(cq);
        }, (err: Error) => report(cq, 'write or fdatasync', err))));
      }
      await indexFlushed;
      let durable = this.dispatchedOffset;
      for (const cq of this.unsyncedQueues) {
        const p = cq.unsyncedPhyOffset;
        if (p >= 0 && p < durable) durable = p;
      }
      this.checkpoint.consumeQueuePhyOffset = durable;
      await this.checkpoint.flushAsync().catch((err: Error) => this.logger.error(`checkpoint write failed: ${err.message}; check the disk`));
    };
    this.cqFlushing = run().finally(() => { this.cqFlushing = undefined; });
    return this.cqFlushing;
  }

  /**
   * Reads up to `maxMsgNums` matching messages from `offset`, following upstream's status
   * rules and transfer limits (fewer messages per pull when they come from disk). With
   * `pooled`, records may be read into reused memory: the result's `release` must then be called
   * once its buffers are no longer needed (the pull path calls it once they are written to the
   * socket).
   */
  async getMessage(topic: string, queueId: number, offset: number, maxMsgNums: number, filter?: MessageFilter, maxTotalBytes = 128 * 1024 * 1024, pooled = false): Promise<GetMessageResult> {
    const begin = Date.now();
    const result: GetMessageResult = {
      status: 'NO_MESSAGE_IN_QUEUE', nextBeginOffset: offset, minOffset: 0, maxOffset: 0,
      buffers: [], messageCount: 0, bufferTotalSize: 0, queueOffsets: [], suggestPullingFromSlave: false, tookMs: 0,
    };
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq) {
      result.status = 'NO_MATCHED_LOGIC_QUEUE';
      result.nextBeginOffset = this.nextOffsetCorrection(offset, 0);
      return result;
    }
    const min = cq.minOffsetInQueue;
    const max = cq.maxOffsetInQueue;
    result.minOffset = min;
    result.maxOffset = max;
    let status: GetMessageStatus;
    if (max === 0) {
      // As upstream: a queue whose messages all expired (min === max > 0) still answers by its
      // bounds, so a consumer at its end is held for long polling (OFFSET_OVERFLOW_ONE).
      status = 'NO_MESSAGE_IN_QUEUE';
      result.nextBeginOffset = this.nextOffsetCorrection(offset, 0);
    } else if (offset < min) {
      status = 'OFFSET_TOO_SMALL';
      result.nextBeginOffset = this.nextOffsetCorrection(offset, min);
    } else if (offset === max) {
      status = 'OFFSET_OVERFLOW_ONE';
      result.nextBeginOffset = offset;
    } else if (offset > max) {
      status = 'OFFSET_OVERFLOW_BADLY';
      result.nextBeginOffset = this.nextOffsetCorrection(offset, min === 0 ? min : max);
    } else {
      const arena = pooled ? this.commitLog.takeReadArena() : undefined;
      status = await this.readQueue(cq, offset, maxMsgNums, filter, maxTotalBytes, result, arena);
      if (arena !== undefined) {
        if (arena.used === 0) this.commitLog.giveBackReadArena(arena);
        else result.release = once(() => this.commitLog.giveBackReadArena(arena));
      }
    }
    result.status = status;
    const ss = this.storeStats;
    if (status === 'FOUND') ss.getMessageTimesTotalFound++;
    else ss.getMessageTimesTotalMiss++;
    ss.getMessageTransferredMsgCount += result.messageCount;
    const took = (result.tookMs = Date.now() - begin);
    if (took > ss.getMessageEntireTimeMax) ss.getMessageEntireTimeMax = took;
    return result;
  }

  /**
   * Upstream `nextOffsetCorrection`: a slave's queue may lag its master's, or begin later (a
   * slave that started empty replicates from the master's last segment), so unless
   * offsetCheckInSlave it does not move a consumer's offset to its own bounds.
   */
  private nextOffsetCorrection(oldOffset: number, newOffset: number): number {
    return this.replica && !this.config.offsetCheckInSlave ? oldOffset : newOffset;
  }

  private async readQueue(cq: ConsumeQueue, offset: number, maxMsgNums: number, filter: MessageFilter | undefined, maxTotalBytes: number, result: GetMessageResult, arena: ReadArena | undefined): Promise<GetMessageStatus> {
    const maxScan = Math.max(maxMsgNums, 16000);
    const maxPhy = this.commitLog.maxOffset;
    const memoryWindow = this.physicalMemory * 0.4;
    let o = offset;
    let scanned = 0;
    let removed = false;
    let bytes = 0;
    let lastPhy = 0;
    let full = false;
    // Rounds: read candidates that pass the ConsumeQueue filter, then the record filter (SQL92);
    // only records that match count towards maxMsgNums and the transfer limits, as upstream.
    while (!full && scanned < maxScan && o < cq.maxOffsetInQueue) {
      const wanted: Array<{ phy: number; size: number; offset: number }> = [];
      let wantedBytes = 0;
      round: while (scanned < maxScan && o < cq.maxOffsetInQueue) {
        // The first read asks for what an unfiltered pull needs; later ones scan further ahead.
        const batch = cq.getEntries(o, Math.min(scanned === 0 ? Math.max(maxMsgNums, 32) : 256, maxScan - scanned));
        if (batch.length === 0) break;
        for (let p = 0; p < batch.length; p += CQ_STORE_UNIT_SIZE) {
          const phy = readLong(batch, p);
          const size = int32At(batch, p + 8);
          const tagsCode = readLong(batch, p + 12);
          if (size === 0x7fffffff) { scanned++; o++; continue; }
          const count = result.buffers.length + wanted.length;
          if (count > 0) {
            const inDisk = maxPhy - phy > memoryWindow;
            const maxCount = inDisk ? this.config.maxTransferCountOnMessageInDisk : this.config.maxTransferCountOnMessageInMemory;
            const maxBytes = inDisk ? this.config.maxTransferBytesOnMessageInDisk : this.config.maxTransferBytesOnMessageInMemory;
            const total = bytes + wantedBytes + size;
            if (count >= maxMsgNums || count >= maxCount || total > maxBytes || total > maxTotalBytes) { full = true; break round; }
          }
          scanned++;
          if (filter && !filter.isMatchedByConsumeQueue(tagsCode)) { o++; continue; }
          if (phy < this.commitLog.minOffset) { removed = true; o++; continue; }
          wanted.push({ phy, size, offset: o });
          wantedBytes += size;
          o++;
          // Stop at the count limit now rather than at the next entry, which may need another read.
          if (result.buffers.length + wanted.length >= maxMsgNums) { full = true; break round; }
        }
        if (filter?.isMatchedByCommitLog) break; // evaluate this round before scanning further
      }
      if (wanted.length === 0) break;
      const bufs = await this.commitLog.readRecords(wanted, maxPhy - memoryWindow, arena);
      for (let i = 0; i < bufs.length; i++) {
        const b = bufs[i];
        if (!b) { removed = true; continue; }
        if (filter?.isMatchedByCommitLog && !filter.isMatchedByCommitLog(b)) continue;
        result.buffers.push(b);
        result.queueOffsets.push(wanted[i]!.offset);
        result.bufferTotalSize += b.length;
        bytes += b.length;
        lastPhy = wanted[i]!.phy;
      }
      if (!filter?.isMatchedByCommitLog) break; // one round reads everything an unfiltered pull takes
    }
    result.messageCount = result.buffers.length;
    result.nextBeginOffset = o;
    result.suggestPullingFromSlave = lastPhy > 0 && maxPhy - lastPhy > memoryWindow;
    if (result.messageCount > 0) return 'FOUND';
    return removed ? 'MESSAGE_WAS_REMOVING' : 'NO_MATCHED_MESSAGE';
  }

  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.findConsumeQueue(topic, queueId)?.maxOffsetInQueue ?? 0;
  }

  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.findConsumeQueue(topic, queueId)?.minOffsetInQueue ?? 0;
  }

  /** Store timestamp of the message at queue offset `offset`, or -1. */
  getMessageStoreTimeStamp(topic: string, queueId: number, offset: number): number {
    const e = this.findConsumeQueue(topic, queueId)?.getEntry(offset);
    if (!e || e.size === 0x7fffffff) return -1;
    return this.readStoreTimestamp(e.phyOffset);
  }

  private readStoreTimestamp(phy: number): number {
    const head = this.commitLog.getDataSync(phy, RecordPos.BORNHOST + 28);
    if (!head) return -1;
    const sysFlag = head.readInt32BE(RecordPos.SYSFLAG);
    const pos = storeTimestampPos(sysFlag);
    if (pos + 8 > head.length) {
      const more = this.commitLog.getDataSync(phy, pos + 8);
      return more ? readLong(more, pos) : -1;
    }
    return readLong(head, pos);
  }

  /** True when the message at `offset` is no longer among the recent (memory-resident) ones. */
  checkInDiskByConsumeOffset(topic: string, queueId: number, offset: number): boolean {
    const e = this.findConsumeQueue(topic, queueId)?.getEntry(offset);
    if (!e) return false;
    return this.commitLog.maxOffset - e.phyOffset > this.physicalMemory * 0.4;
  }

  /** Store time of the oldest message in the CommitLog, or -1. */
  earliestMessageTime(): number {
    const min = this.commitLog.minOffset;
    return min < this.commitLog.writtenOffset ? this.readStoreTimestamp(min) : -1;
  }

  getEarliestMessageTime(topic: string, queueId: number): number {
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq) return -1;
    return this.getMessageStoreTimeStamp(topic, queueId, cq.minOffsetInQueue);
  }

  /**
   * Queue offset of the first message stored at or after `timestamp` (upstream
   * `getOffsetInQueueByTime`, LOWER boundary): binary search over store timestamps.
   */
  getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number, upper = false): number {
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq) return 0;
    let lo = cq.minOffsetInQueue;
    let hi = cq.maxOffsetInQueue;
    if (lo >= hi) return lo;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const ts = this.getMessageStoreTimeStamp(topic, queueId, mid);
      if (ts < 0) { lo = mid + 1; continue; }
      if (upper ? ts <= timestamp : ts < timestamp) lo = mid + 1;
      else hi = mid;
    }
    if (upper) return Math.max(cq.minOffsetInQueue, lo - 1);
    return Math.min(lo, cq.maxOffsetInQueue);
  }

  /**
   * The whole record at CommitLog offset `phy` (VIEW_MESSAGE_BY_ID), or undefined. An offset
   * that is not a record's start (a mistyped msgId, the filler at a file's end) has no message
   * magic there: it is not found, rather than some bytes a client would fail to decode.
   */
  lookMessageByOffset(phy: number): Buffer | undefined {
    if (!Number.isSafeInteger(phy) || phy < this.commitLog.minOffset || phy >= this.commitLog.writtenOffset) return undefined;
    const head = this.commitLog.getDataSync(phy, 8);
    if (!head || head.length < 8) return undefined;
    const size = head.readInt32BE(0);
    if (!isMessageMagic(head.readInt32BE(4)) || size <= 8 || size > this.config.mappedFileSizeCommitLog) return undefined;
    const rec = this.commitLog.getDataSync(phy, size);
    return rec ? Buffer.from(rec) : undefined;
  }

  get maxPhyOffset(): number {
    return this.commitLog.maxOffset;
  }

  get minPhyOffset(): number {
    return this.commitLog.minOffset;
  }

  /** Queues of a topic that exist in the store. */
  queueIdsOf(topic: string): number[] {
    const queues = this.topics.get(topic)?.queues ?? [];
    return queues.flatMap((cq) => (cq ? [cq.queueId] : []));
  }

  /** Removes a topic's ConsumeQueues (its CommitLog records stay until retention removes them). */
  deleteTopic(topic: string): void {
    const st = this.topics.get(topic);
    if (!st) return;
    for (const cq of st.queues) if (cq) this.destroyConsumeQueue(cq);
    this.topics.delete(topic);
    rmSync(join(this.cqRoot, topic), { recursive: true, force: true });
  }

  /**
   * CLEAN_EXPIRED_CONSUMEQUEUE (upstream `cleanExpiredConsumerQueue`): destroys every ConsumeQueue
   * of a non-system topic whose last entry lies below the CommitLog minimum (all its messages are
   * gone), and forgets a topic left with none. An empty queue is kept (it may be new). Returns
   * the number of queues destroyed.
   */
  cleanExpiredConsumerQueue(): number {
    const min = this.commitLog.minOffset;
    let destroyed = 0;
    for (const st of [...this.topics.values()]) {
      if (isSystemTopic(st.name)) continue;
      const before = destroyed;
      for (const cq of st.queues) {
        if (!cq || cq.maxPhysicOffset === 0 || cq.maxPhysicOffset > min) continue;
        this.logger.info(`cleanExpiredConsumerQueue: ${st.name} ${cq.queueId} consumer queue destroyed, minCommitLogOffset: ${min} maxCLOffsetInConsumeQueue: ${cq.maxPhysicOffset}`);
        this.destroyConsumeQueue(cq);
        st.queues[cq.queueId] = undefined;
        rmSync(join(this.cqRoot, st.name, String(cq.queueId)), { recursive: true, force: true });
        destroyed++;
      }
      if (destroyed > before && st.queues.every((q) => q === undefined)) {
        this.logger.info(`cleanExpiredConsumerQueue: ${st.name},topic destroyed`);
        this.topics.delete(st.name);
        rmSync(join(this.cqRoot, st.name), { recursive: true, force: true });
      }
    }
    return destroyed;
  }

  /**
   * CLEAN_UNUSED_TOPIC (upstream `cleanUnusedTopic`): removes the ConsumeQueues of every topic
   * the broker no longer has (not in `retainTopics`), except system and LMQ topics. Returns how
   * many topics were removed.
   */
  cleanUnusedTopic(retainTopics: ReadonlySet<string>): number {
    let removed = 0;
    for (const topic of [...this.topics.keys()]) {
      if (retainTopics.has(topic) || isSystemTopic(topic) || topic.startsWith(LMQ_PREFIX)) continue;
      this.deleteTopic(topic);
      this.logger.info(`DeleteTopic: Topic has been destroyed, topic=${topic}`);
      removed++;
    }
    return removed;
  }

  private destroyConsumeQueue(cq: ConsumeQueue): void {
    cq.destroy();
    cq.deleted = true;
    this.unsyncedQueues.delete(cq);
  }

  /**
   * The store's part of GET_BROKER_RUNTIME_INFO (upstream `DefaultMessageStore.getRuntimeInfo`
   * plus the store figures `AdminBrokerProcessor.prepareRuntimeInfo` adds): disk use of every
   * CommitLog path and the least of them, of the ConsumeQueue root, and how far dispatch and
   * flush are behind.
   */
  runtimeInfo(): Record<string, string> {
    const info: Record<string, string> = {
      ...this.storeStats.runtimeInfo(),
      commitLogMinOffset: String(this.commitLog.minOffset),
      commitLogMaxOffset: String(this.commitLog.maxOffset),
      commitLogDiskFlushedOffset: String(this.commitLog.flushedOffset),
      consumeQueueCount: String([...this.allQueues()].length),
    };
    const cl = this.commitLogDiskRatios();
    for (const [p, r] of cl.byPath) info[`commitLogDiskRatio_${p}`] = javaDoubleString(r);
    info.commitLogDiskRatio = javaDoubleString(cl.least);
    info.consumeQueueDiskRatio = javaDoubleString(diskUsageRatio(this.cqRoot));
    info.dispatchBehindBytes = String(this.dispatchBehindBytes());
    // No lock is held across a put here (appends are reserved in order on one thread).
    info.pageCacheLockTimeMills = '0';
    // No transient store pool: upstream reports Integer.MAX_VALUE then.
    info.remainTransientStoreBufferNumbs = '2147483647';
    info.remainHowManyDataToFlush = humanReadableByteCount(Math.max(0, this.commitLog.writtenOffset - this.commitLog.flushedOffset));
    try {
      const st = statfsSync(this.config.storePathRootDir);
      info.commitLogDirCapacity = `Total : ${humanReadableByteCount(st.blocks * st.bsize)}, Free : ${humanReadableByteCount(st.bfree * st.bsize)}.`;
    } catch {
      // As upstream: left out when the directory is not there.
    }
    return info;
  }

  /** CommitLog bytes written but not yet dispatched to ConsumeQueues and the index (upstream `dispatchBehindBytes`). */
  dispatchBehindBytes(): number {
    return Math.max(0, this.commitLog.writtenOffset - this.dispatchedOffset);
  }

  /** Disk use of each CommitLog directory, and the least of them, by which the CommitLog counts (upstream `minPhysicsDiskRatio`). */
  private commitLogDiskRatios(): { byPath: Array<[string, number]>; least: number } {
    const byPath = this.commitLogPaths().map((p): [string, number] => [p, diskUsageRatio(p)]);
    return { byPath, least: Math.min(...byPath.map(([, r]) => r)) };
  }

  /** The CommitLog's directories (upstream `getStorePathPhysic`, split on `,`). */
  commitLogPaths(): string[] {
    return commitLogDirs(this.config);
  }

  /**
   * Disk use for the refusal of a put (upstream SendMessageProcessor `diskUtil`):
   * `CL:  0.93 CQ:  0.93 INDEX:  0.93`, the CommitLog by its least used path.
   */
  diskUtil(): string {
    const f = (v: number): string => v.toFixed(2).padStart(5);
    return `CL: ${f(this.commitLogDiskRatios().least)} CQ: ${f(diskUsageRatio(this.cqRoot))} INDEX: ${f(diskUsageRatio(join(this.config.storePathRootDir, 'index')))}`;
  }

  /**
   * After CommitLog files were deleted: ConsumeQueue files wholly below the new minimum go,
   * and each queue's minimum offset moves to its first entry still in the log.
   */
  cleanLogicFiles(): void {
    const min = this.commitLog.minOffset;
    for (const cq of this.allQueues()) cq.deleteExpiredFiles(min);
    this.deleteExpiredIndexFiles();
  }

  /** Deletes index files whose entries all point below the CommitLog minimum (never the newest). */
  deleteExpiredIndexFiles(): number {
    return this.indexService.deleteExpiredFile(this.commitLog.minOffset);
  }

  /**
   * Messages stored within [begin, end] whose key or unique key is `key` (upstream
   * `queryMessage`): at most maxNum (capped by maxMsgsNumBatch), in CommitLog order. Keys
   * sharing a hash can bring other messages along; clients check the keys, as upstream's do.
   */
  async queryMessage(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<QueryMessageResult> {
    const r = await this.indexService.queryOffset(topic, key, maxNum, begin, end);
    const min = this.commitLog.minOffset;
    // A key listed twice in KEYS, or equal to the unique key, indexes a record twice: return it once.
    const offsets = [...new Set(r.phyOffsets)].filter((o) => o >= min).sort((a, b) => a - b);
    const heads = await this.commitLog.readRecords(offsets.map((phy) => ({ phy, size: 8 })));
    const wanted: Array<{ phy: number; size: number }> = [];
    for (let i = 0; i < offsets.length; i++) {
      const h = heads[i];
      if (!h || h.length < 8) continue;
      const size = h.readInt32BE(0);
      const magic = h.readInt32BE(4);
      if (!isMessageMagic(magic) || size <= 8 || size > this.config.mappedFileSizeCommitLog) continue;
      wanted.push({ phy: offsets[i]!, size });
    }
    const buffers: Buffer[] = [];
    let bufferTotalSize = 0;
    for (const b of await this.commitLog.readRecords(wanted)) {
      if (!b) continue;
      buffers.push(b);
      bufferTotalSize += b.length;
    }
    return { buffers, bufferTotalSize, indexLastUpdateTimestamp: r.indexLastUpdateTimestamp, indexLastUpdatePhyoffset: r.indexLastUpdatePhyoffset };
  }

  /** Flushes everything, writes the checkpoint, and removes the abort file (clean stop). */
  async shutdown(): Promise<void> {
    if (!this.running) return;
    this.shuttingDown = true;
    this.cleanService.shutdown();
    this.storeStats.shutdown();
    if (this.cqTimer) clearInterval(this.cqTimer);
    await this.commitLog.whenIdle();
    await this.flushConsumeQueues(true);
    await this.indexService.shutdown();
    await this.commitLog.shutdown();
    this.checkpoint.flushedPhyOffset = this.commitLog.flushedOffset;
    this.checkpoint.consumeQueuePhyOffset = this.dispatchedOffset;
    this.checkpoint.flush(true);
    this.checkpoint.close();
    for (const cq of this.allQueues()) cq.close();
    this.running = false;
    if (this.commitLog.isWritable) {
      try { unlinkSync(this.abortPath); } catch { /* not there */ }
    }
  }
}

/** Light message queue topics (upstream `MixAll.LMQ_PREFIX`): never cleaned as unused. */
const LMQ_PREFIX = '%LMQ%';

/** What the store keeps per topic, found with one map lookup per message. */
class StoreTopic {
  /**
   * The name as records carry it: the name itself when it is ASCII (topic names are), copied
   * from the string a send has just used; else its UTF-8 bytes. Bytes of its own would be one
   * more object to read per record, and with many topics one the CPU cache no longer holds.
   */
  readonly recorded: Buffer | string;
  readonly byteLength: number;
  /** ConsumeQueues by queue id; each also holds the next offset a put takes (upstream `topicQueueTable`). */
  readonly queues: Array<ConsumeQueue | undefined> = [];
  /** The Java hash of `topic#`, which starts every index key of the topic's records. */
  readonly keyPrefixHash: number;
  /** Its TOPIC_PUT_NUMS / TOPIC_PUT_SIZE items, fetched at the first put. */
  putStats?: TopicPutStats;

  constructor(readonly name: string) {
    this.byteLength = Buffer.byteLength(name, 'utf8');
    this.keyPrefixHash = indexKeyPrefixHash(name);
    this.recorded = this.byteLength === name.length ? name : Buffer.from(name, 'utf8');
  }
}

/**
 * The topic of the previous record, as bytes and string: a log holds long runs of few topics,
 * and comparing a few bytes costs less than decoding a new string for every record.
 */
class RecoveredTopic {
  private bytes = Buffer.alloc(0);
  private name = '';

  of(buf: Buffer, start: number, len: number): string {
    const b = this.bytes;
    if (b.length === len) {
      let i = 0;
      while (i < len && b[i] === buf[start + i]) i++;
      if (i === len) return this.name;
    }
    this.bytes = Buffer.from(buf.subarray(start, start + len));
    this.name = buf.toString('utf8', start, start + len);
    return this.name;
  }
}

/** The properties recovery reads, by index into `RecoveredProperties`. */
const RECOVERED_PROPERTIES = [MessageConst.TAGS, MessageConst.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, MessageConst.KEYS].map((n) => Buffer.from(n, 'latin1'));
const P_TAGS = 0;
const P_UNIQ = 1;
const P_KEYS = 2;

/** Byte spans of the values of RECOVERED_PROPERTIES in the record being recovered (-1: absent). */
class RecoveredProperties {
  readonly at = new Int32Array(RECOVERED_PROPERTIES.length);
  readonly end = new Int32Array(RECOVERED_PROPERTIES.length);
  /** The span of the whole properties string. */
  propsAt = 0;
  propsEnd = 0;
}

/** Fills `d` (all but its properties) and `props` with the dispatch request of a stored record found during recovery. */
function parseDispatchInto(d: DispatchRequest, buf: Buffer, pos: number, phy: number, topics: RecoveredTopic, props: RecoveredProperties, delayLevels: readonly number[]): void {
  // The record was checked whole (checkRecord, here or on the CRC thread): every field lies inside it.
  const queueId = int32At(buf, pos + RecordPos.QUEUEID);
  const sysFlag = int32At(buf, pos + RecordPos.SYSFLAG);
  const storeTimestamp = readLong(buf, pos + storeTimestampPos(sysFlag));
  let p = pos + bodyLengthPos(sysFlag);
  const bodyLen = int32At(buf, p);
  p += 4 + bodyLen;
  const v2 = int32At(buf, pos + 4) === MESSAGE_MAGIC_CODE_V2;
  const topicLen = v2 ? int16At(buf, p) : int8At(buf, p);
  p += v2 ? 2 : 1;
  const topic = topics.of(buf, p, topicLen);
  p += topicLen;
  const propLen = int16At(buf, p);
  props.propsAt = p + 2;
  props.propsEnd = p + 2 + propLen;
  findPropertyValues(buf, p + 2, p + 2 + propLen, RECOVERED_PROPERTIES, props.at, props.end);
  const tagsAt = props.at[P_TAGS]!;
  const tagsEnd = props.end[P_TAGS]!;
  d.topic = topic;
  d.queueId = queueId;
  d.queueOffset = readLong(buf, pos + RecordPos.QUEUEOFFSET);
  d.phyOffset = phy;
  d.size = int32At(buf, pos);
  // Delayed messages carry their delivery time as the tag code, as written at append.
  d.tagsCode = topic === SystemTopic.SCHEDULE_TOPIC ? storeTimestamp + delayOfLevel(delayLevels, queueId + 1) : tagsEnd > tagsAt ? continueJavaHashUtf8(0, buf, tagsAt, tagsEnd) : 0;
  d.storeTimestamp = storeTimestamp;
  d.sysFlag = sysFlag;
}

/** The result of a stored single put: its offset message id is made a string only when read. */
class StoredPut implements PutMessageResult {
  constructor(
    readonly status: PutMessageStatus,
    readonly offsetId: OffsetMessageId,
    readonly queueOffset: number,
    readonly storeTimestamp: number,
    readonly size: number,
  ) {}

  get phyOffset(): number {
    return this.offsetId.commitLogOffset;
  }

  get msgId(): string {
    return this.offsetId.toString();
  }
}

/** The result of a put that stored nothing. */
function failedPut(status: PutMessageStatus): PutMessageResult {
  return { status, msgId: '', queueOffset: 0, phyOffset: 0, storeTimestamp: 0, size: 0 };
}

/** `fn`, callable any number of times, run the first time only. */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
