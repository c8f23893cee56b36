import { ResponseCode } from '../../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, optNumber, optString, reqLongSaturated, reqNumber, reqString, type Ext } from '../../remoting/header.js';
import { PermName } from '../../common/perm.js';
import { getReplyTopic, isSystemTopic, SystemTopic, validateTopic } from '../../common/topic.js';
import { popRetryTopic, popRetryTopicV2 } from '../pop/pop-checkpoint.js';
import { encodeJson, type TopicConfig, type TopicFilterType } from '../../common/route.js';
import { CURRENT_VERSION } from '../../remoting/codes.js';
import { alterAttributes, AttributeError, attributeModificationToString, MESSAGE_TYPE_ATTRIBUTE, parseAttributeModification, TOPIC_ATTRIBUTES } from '../../common/attributes.js';
import { parseLenientJson } from '../../common/json.js';
import { decodeOffsetMessageId } from '../../common/message-id.js';
import { getProperty } from '../../common/properties.js';
import { MessageConst } from '../../common/message-const.js';
import { editProperties, putInputFromRecord } from '../message-util.js';
import type { BrokerController } from '../broker-controller.js';
import { newTopicConfig } from '../topic-config-manager.js';

export interface CreateTopicRequestHeader {
  topic: string;
  defaultTopic: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  attributes?: string;
}

export function decodeCreateTopicRequestHeader(ext: Ext): CreateTopicRequestHeader {
  const filter = optString(ext, 'topicFilterType') ?? 'SINGLE_TAG';
  return {
    topic: reqString(ext, 'topic'),
    defaultTopic: optString(ext, 'defaultTopic') ?? SystemTopic.AUTO_CREATE_TOPIC_KEY,
    readQueueNums: reqNumber(ext, 'readQueueNums'),
    writeQueueNums: reqNumber(ext, 'writeQueueNums'),
    perm: optNumber(ext, 'perm') ?? (PermName.PERM_READ | PermName.PERM_WRITE),
    topicFilterType: filter === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicSysFlag: optNumber(ext, 'topicSysFlag') ?? 0,
    order: optBoolean(ext, 'order') ?? false,
    attributes: optString(ext, 'attributes'),
  };
}

/**
 * Body of UPDATE_AND_CREATE_TOPIC_LIST (upstream `CreateTopicListRequestBody {topicConfigList}`,
 * each a `TopicConfig` as upstream serializes it: topicName, readQueueNums, writeQueueNums, perm,
 * topicFilterType, topicSysFlag, order, attributes). Each becomes the single request's header, its
 * `attributes` map (`+key`/`-key` as upstream's file carries them) the modification string. A
 * message for the caller when the body is not such a list.
 */
export function decodeCreateTopicListBody(body: Buffer | undefined): CreateTopicRequestHeader[] | string {
  if (!body || body.length === 0) return 'the request has no CreateTopicListRequestBody';
  let o: unknown;
  try {
    o = parseLenientJson(body);
  } catch (err) {
    return `the CreateTopicListRequestBody is not JSON: ${(err as Error).message}`;
  }
  const list = typeof o === 'object' && o !== null ? (o as Record<string, unknown>).topicConfigList : undefined;
  if (!Array.isArray(list) || list.length === 0) return 'the CreateTopicListRequestBody has no topicConfigList';
  const out: CreateTopicRequestHeader[] = [];
  for (const [i, e] of list.entries()) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return `topicConfigList[${i}] is not a TopicConfig object`;
    const t = e as Record<string, unknown>;
    if (typeof t.topicName !== 'string') return `topicConfigList[${i}] has no topicName`;
    const ext: Record<string, string> = {};
    for (const k of ['topicName', 'readQueueNums', 'writeQueueNums', 'perm', 'topicFilterType', 'topicSysFlag', 'order'] as const) {
      const v = t[k];
      if (v !== undefined && v !== null) ext[k === 'topicName' ? 'topic' : k] = String(v);
    }
    // Upstream TopicConfig defaults for what the entry leaves out.
    ext.readQueueNums ??= '16';
    ext.writeQueueNums ??= '16';
    if (t.attributes !== undefined && t.attributes !== null) {
      if (typeof t.attributes !== 'object' || Array.isArray(t.attributes)) return `topicConfigList[${i}].attributes is not a JSON object`;
      const attrs = Object.fromEntries(Object.entries(t.attributes as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
      if (Object.keys(attrs).length > 0) ext.attributes = attributeModificationToString(attrs);
    }
    try {
      out.push(decodeCreateTopicRequestHeader(ext));
    } catch (err) {
      return `topicConfigList[${i}]: ${(err as Error).message}`;
    }
  }
  return out;
}

/** Header of CLONE_GROUP_OFFSET (314) (upstream `CloneGroupOffsetRequestHeader`). */
export interface CloneGroupOffsetRequestHeader {
  srcGroup: string;
  destGroup: string;
  /** Absent or blank: every topic the source group has offsets on. */
  topic?: string;
  /** The source group is offline: copy even topics its online consumers do not subscribe. */
  offline: boolean;
}

export function decodeCloneGroupOffsetHeader(ext: Ext): CloneGroupOffsetRequestHeader {
  const h: CloneGroupOffsetRequestHeader = {
    srcGroup: reqString(ext, 'srcGroup'),
    destGroup: reqString(ext, 'destGroup'),
    offline: optBoolean(ext, 'offline') ?? false,
  };
  const topic = optString(ext, 'topic')?.trim();
  if (topic) h.topic = topic;
  return h;
}

/** QUERY_CORRECTION_OFFSET (308) header (upstream `QueryCorrectionOffsetHeader`). */
export interface QueryCorrectionOffsetHeader {
  topic: string;
  compareGroup: string;
  /** Groups left out (upstream: one comma-separated field). */
  filterGroups: Set<string>;
}

export function decodeQueryCorrectionOffsetHeader(ext: Ext): QueryCorrectionOffsetHeader {
  return {
    topic: reqString(ext, 'topic'),
    compareGroup: reqString(ext, 'compareGroup'),
    filterGroups: new Set((optString(ext, 'filterGroups') ?? '').split(',').map((g) => g.trim()).filter(Boolean)),
  };
}

/** RESUME_CHECK_HALF_MESSAGE (323) header (upstream `ResumeCheckHalfMessageRequestHeader`): both fields may be absent there. */
export interface ResumeCheckHalfMessageRequestHeader {
  topic?: string;
  /** The half's offset message id. */
  msgId?: string;
}

export function decodeResumeCheckHalfMessageRequestHeader(ext: Ext): ResumeCheckHalfMessageRequestHeader {
  return { topic: optString(ext, 'topic'), msgId: optString(ext, 'msgId') };
}

/** Upstream `TopicConfig.equals`: every field, attributes included. */
function sameTopicConfig(a: TopicConfig, b: TopicConfig): boolean {
  const attrs = (t: TopicConfig) => Object.entries(t.attributes ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return a.readQueueNums === b.readQueueNums && a.writeQueueNums === b.writeQueueNums && a.perm === b.perm
    && a.topicFilterType === b.topicFilterType && (a.topicSysFlag ?? 0) === (b.topicSysFlag ?? 0) && (a.order ?? false) === (b.order ?? false)
    && JSON.stringify(attrs(a)) === JSON.stringify(attrs(b));
}

/** Highest queue count a topic may have; guards the broker against absurd requests. */
const MAX_QUEUE_NUMS = 1024;

/**
 * Administrative requests on the broker (upstream `AdminBrokerProcessor`): topics, offsets by
 * time, min/max offsets, message lookup by offset, runtime info.
 */
export class AdminBrokerProcessor {
  constructor(private readonly broker: BrokerController) {}

  async updateAndCreateTopic(req: RemotingCommand): Promise<RemotingCommand> {
    if (this.broker.isSlave) return slaveRefusal(req);
    const h = decodeCreateTopicRequestHeader(req.extFields);
    const checked = this.checkTopicConfig(h);
    if ('code' in checked) return createResponse(req, checked.code, checked.remark);
    // As upstream: the same configuration again changes nothing, so nothing is persisted or re-registered.
    if (!checked.changed) return createResponse(req, ResponseCode.SUCCESS);
    this.applyTopicConfig(checked.tc);
    await this.broker.scheduleRegister();
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * UPDATE_AND_CREATE_TOPIC_LIST (18, upstream `updateAndCreateTopicList`), body
   * `CreateTopicListRequestBody {topicConfigList}`. As upstream, every topic is checked before any
   * is applied, so one bad entry leaves the broker unchanged, and the NameServers hear of the
   * batch once. Each entry gets the single request's checks (attributes included). Upstream
   * answers SUCCESS without applying anything as soon as one entry is unchanged; here unchanged
   * entries are skipped and the others still apply, which is what the caller asked for.
   */
  async updateAndCreateTopicList(req: RemotingCommand): Promise<RemotingCommand> {
    if (this.broker.isSlave) return slaveRefusal(req);
    const list = decodeCreateTopicListBody(req.body);
    if (typeof list === 'string') return createResponse(req, ResponseCode.INVALID_PARAMETER, list);
    const seen = new Set<string>();
    const changed: TopicConfig[] = [];
    for (const h of list) {
      if (seen.has(h.topic)) return createResponse(req, ResponseCode.INVALID_PARAMETER, `topic ${h.topic} is listed twice in topicConfigList`);
      seen.add(h.topic);
      const checked = this.checkTopicConfig(h);
      if ('code' in checked) return createResponse(req, checked.code, checked.remark);
      if (checked.changed) changed.push(checked.tc);
    }
    if (changed.length === 0) return createResponse(req, ResponseCode.SUCCESS);
    for (const tc of changed) this.applyTopicConfig(tc);
    await this.broker.scheduleRegister();
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * The checks of a topic creation or update (upstream `updateAndCreateTopic`): name, system
   * topics, queue counts, MIXED only with enableMixedMessageType, and the attribute modification
   * applied to the current attributes. The config to store, or the refusal.
   */
  private checkTopicConfig(h: CreateTopicRequestHeader): { tc: TopicConfig; changed: boolean } | { code: number; remark: string } {
    const invalid = validateTopic(h.topic);
    if (invalid) return { code: ResponseCode.INVALID_PARAMETER, remark: invalid };
    // As upstream (validateSystemTopicWhenUpdateTopic, on by default): system topics are the broker's own.
    if (this.broker.brokerConfig.validateSystemTopicWhenUpdateTopic && this.isSystemTopicHere(h.topic)) {
      return { code: ResponseCode.INVALID_PARAMETER, remark: `The topic[${h.topic}] is conflict with system topic.` };
    }
    for (const [k, v] of [['readQueueNums', h.readQueueNums], ['writeQueueNums', h.writeQueueNums]] as const) {
      if (v < 0 || v > MAX_QUEUE_NUMS) return { code: ResponseCode.INVALID_PARAMETER, remark: `${k}=${v} is out of range 0..${MAX_QUEUE_NUMS}` };
    }
    const old = this.broker.topicConfigManager.get(h.topic);
    let attributes: Record<string, string>;
    try {
      const mod = parseAttributeModification(h.attributes);
      // As upstream: a MIXED topic only where the broker allows mixing (enableMixedMessageType).
      if (!this.broker.brokerConfig.enableMixedMessageType && mod.get(`+${MESSAGE_TYPE_ATTRIBUTE}`) === 'MIXED') {
        return { code: ResponseCode.INVALID_PARAMETER, remark: 'MIXED message type is not supported. Set enableMixedMessageType=true on the broker to allow it.' };
      }
      attributes = alterAttributes(old === undefined, TOPIC_ATTRIBUTES, old?.attributes ?? {}, mod);
    } catch (e) {
      if (!(e instanceof AttributeError)) throw e;
      // Upstream answers a refused attribute change with SYSTEM_ERROR and the reason.
      return { code: ResponseCode.SYSTEM_ERROR, remark: `topic ${h.topic} not created/updated: ${e.message}` };
    }
    const tc: TopicConfig = {
      ...newTopicConfig(h.topic, h.readQueueNums, h.writeQueueNums, h.perm),
      topicFilterType: h.topicFilterType, topicSysFlag: h.topicSysFlag, order: h.order, attributes,
    };
    return { tc, changed: old === undefined || !sameTopicConfig(old, tc) };
  }

  /** Stores a checked topic config and makes its queues; the caller registers with the NameServers. */
  private applyTopicConfig(tc: TopicConfig): void {
    this.broker.topicConfigManager.update(tc);
    this.broker.messageStore.createConsumeQueues(tc.topicName, Math.max(tc.readQueueNums, tc.writeQueueNums));
    this.broker.logger.info(`topic ${tc.topicName} created/updated: read ${tc.readQueueNums} write ${tc.writeQueueNums} perm ${tc.perm}`);
  }

  /**
   * DELETE_TOPIC_IN_BROKER (215, upstream `deleteTopic`): refuses a blank name and, as upstream
   * with validateSystemTopicWhenUpdateTopic (on by default), every system topic with
   * INVALID_PARAMETER. With the topic go, with clearRetryTopicWhenDeleteTopic (on by default) as
   * upstream, the POP retry topics (`%RETRY%<group>_<topic>`, and the V2 `+` spelling if
   * one was stored) of every group with offsets on it: revived messages of a deleted topic would
   * otherwise keep being delivered, and the retry topic would stay in the route.
   */
  deleteTopic(req: RemotingCommand): RemotingCommand {
    if (this.broker.isSlave) return slaveRefusal(req);
    const topic = reqString(req.extFields, 'topic');
    const b = this.broker;
    if (topic.trim() === '') return createResponse(req, ResponseCode.INVALID_PARAMETER, 'The specified topic is blank.');
    if (b.brokerConfig.validateSystemTopicWhenUpdateTopic && this.isSystemTopicHere(topic)) {
      return createResponse(req, ResponseCode.INVALID_PARAMETER, `The topic[${topic}] is conflict with system topic.`);
    }
    const toDelete = [topic];
    for (const group of b.brokerConfig.clearRetryTopicWhenDeleteTopic ? b.consumerOffsetManager.whichGroupByTopic(topic) : []) {
      for (const retry of [popRetryTopic(group, topic), popRetryTopicV2(group, topic)]) {
        if (b.topicConfigManager.get(retry)) toDelete.push(retry);
      }
    }
    for (const t of toDelete) this.deleteTopicInBroker(t);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /** What upstream's `deleteTopicInBroker` removes: the config, every group's offsets, the queues, the timer count, the stats. */
  private deleteTopicInBroker(topic: string): void {
    const b = this.broker;
    b.topicConfigManager.delete(topic);
    b.consumerOffsetManager.removeTopic(topic);
    b.messageStore.deleteTopic(topic);
    b.timerMessageStore.metrics.removeTimingCount(topic);
    b.brokerStatsManager.onTopicDeleted(topic);
    b.logger.info(`topic ${topic} deleted`);
  }

  /**
   * Upstream's system topic set as this broker has it: the fixed names and `rmq_sys_*`, plus the
   * topics named after its cluster and itself and its cluster's reply topic, which upstream's
   * TopicConfigManager adds at start.
   */
  private isSystemTopicHere(topic: string): boolean {
    const c = this.broker.brokerConfig;
    return isSystemTopic(topic) || topic === c.brokerClusterName || topic === c.brokerName || topic === getReplyTopic(c.brokerClusterName);
  }

  /**
   * GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305, upstream `getSystemTopicListFromBroker`): upstream's
   * system topic set as this broker has it (the fixed names, and those of its own it created).
   */
  getSystemTopicListFromBroker(req: RemotingCommand): RemotingCommand {
    const topics = new Set<string>(Object.values(SystemTopic));
    for (const topic of this.broker.topicConfigManager.table.keys()) if (this.isSystemTopicHere(topic)) topics.add(topic);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ topicList: [...topics].sort() }) });
  }

  getAllTopicConfig(req: RemotingCommand): RemotingCommand {
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(this.broker.topicConfigManager.wrapper()) });
  }

  /**
   * GET_TOPIC_CONFIG (351): one topic's config (upstream `getTopicConfig`, body
   * `TopicConfigAndQueueMapping`: the TopicConfig fields, no mapping detail since this broker has
   * no static topics); TOPIC_NOT_EXIST when the broker does not have it.
   */
  getTopicConfig(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const tc = this.broker.topicConfigManager.get(topic);
    if (!tc) return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, `No topic in this broker. topic: ${topic}`);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(tc) });
  }

  getMaxOffset(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const queueId = reqNumber(req.extFields, 'queueId');
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset: this.broker.messageStore.getMaxOffsetInQueue(topic, queueId) } });
  }

  getMinOffset(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const queueId = reqNumber(req.extFields, 'queueId');
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset: this.broker.messageStore.getMinOffsetInQueue(topic, queueId) } });
  }

  searchOffsetByTimestamp(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const queueId = reqNumber(req.extFields, 'queueId');
    const timestamp = reqLongSaturated(req.extFields, 'timestamp');
    const upper = (optString(req.extFields, 'boundaryType') ?? 'LOWER').toUpperCase() === 'UPPER';
    const offset = this.broker.messageStore.getOffsetInQueueByTime(topic, queueId, timestamp, upper);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { offset } });
  }

  getEarliestMsgStoretime(req: RemotingCommand): RemotingCommand {
    const topic = reqString(req.extFields, 'topic');
    const queueId = reqNumber(req.extFields, 'queueId');
    const timestamp = this.broker.messageStore.getEarliestMessageTime(topic, queueId);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { extFields: { timestamp } });
  }

  viewMessageById(req: RemotingCommand): RemotingCommand {
    const offset = reqNumber(req.extFields, 'offset');
    const rec = this.broker.messageStore.lookMessageByOffset(offset);
    if (!rec) return createResponse(req, ResponseCode.SYSTEM_ERROR, `can not find message by the offset, ${offset}: no message starts there in the stored CommitLog (removed, or not a message's offset)`);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: rec });
  }

  /**
   * CLONE_GROUP_OFFSET (314): the destination group gets the source group's committed offsets
   * (upstream `cloneGroupOffset`). Unless `offline`, a topic the online source consumers do not
   * subscribe is skipped, as upstream. Answers SUCCESS either way, as upstream.
   */
  cloneGroupOffset(req: RemotingCommand): RemotingCommand {
    const h = decodeCloneGroupOffsetHeader(req.extFields);
    const b = this.broker;
    const topics = h.topic !== undefined ? [h.topic] : b.consumerOffsetManager.whichTopicByGroup(h.srcGroup);
    const online = b.consumerManager.get(h.srcGroup);
    let queues = 0;
    for (const topic of topics) {
      if (!b.topicConfigManager.get(topic)) {
        b.logger.warn(`[cloneGroupOffset] topic ${topic} does not exist on this broker; skipped`);
        continue;
      }
      if (!h.offline && online && online.subscriptions.size > 0 && !online.subscriptions.has(topic)) {
        b.logger.warn(`[cloneGroupOffset] topic ${topic} is not in the subscriptions of online group ${h.srcGroup}; skipped (use offline to copy anyway)`);
        continue;
      }
      queues += b.consumerOffsetManager.cloneOffset(h.srcGroup, h.destGroup, topic);
    }
    b.logger.info(`[cloneGroupOffset] ${h.srcGroup} -> ${h.destGroup}${h.topic ? ` on ${h.topic}` : ''}: ${queues} queue offset(s) copied`);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * DELETE_EXPIRED_COMMITLOG (329, upstream `deleteExpiredCommitLog`): the next cleanup rounds
   * (upstream MAX_MANUAL_DELETE_FILE_TIMES) delete the files past fileReservedTime whatever the hour.
   */
  deleteExpiredCommitLog(req: RemotingCommand): RemotingCommand {
    this.broker.logger.warn('invoke deleteExpiredCommitLog start.');
    this.broker.messageStore.cleanService.executeDeleteFilesManually();
    this.broker.logger.warn('invoke deleteExpiredCommitLog end.');
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /** CLEAN_EXPIRED_CONSUMEQUEUE (306): drops the ConsumeQueues whose messages are all gone from the CommitLog (upstream `cleanExpiredConsumeQueue`). */
  cleanExpiredConsumeQueue(req: RemotingCommand): RemotingCommand {
    this.broker.logger.info('AdminBrokerProcessor#cleanExpiredConsumeQueue: start.');
    try {
      this.broker.messageStore.cleanExpiredConsumerQueue();
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, (err as Error).message);
    }
    this.broker.logger.info('AdminBrokerProcessor#cleanExpiredConsumeQueue: end.');
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /** CLEAN_UNUSED_TOPIC (316): drops the ConsumeQueues of topics the broker no longer has (upstream `cleanUnusedTopic`). */
  cleanUnusedTopic(req: RemotingCommand): RemotingCommand {
    this.broker.logger.warn('invoke cleanUnusedTopic start.');
    this.broker.messageStore.cleanUnusedTopic(new Set(this.broker.topicConfigManager.table.keys()));
    this.broker.logger.warn('invoke cleanUnusedTopic end.');
    return createResponse(req, ResponseCode.SUCCESS);
  }

  getBrokerRuntimeInfo(req: RemotingCommand): RemotingCommand {
    const b = this.broker;
    const store = b.messageStore.runtimeInfo();
    const timer = b.storeConfig.timerWheelEnable ? b.timerMessageStore.runtimeInfo() : {};
    const table: Record<string, string> = {
      ...store,
      // As upstream: the timer's backlog, zeros when the timer wheel is off.
      timerReadBehind: timer.timerReadBehind ?? '0',
      timerOffsetBehind: timer.timerOffsetBehind ?? '0',
      timerCongestNum: timer.timerCongestNum ?? '0',
      timerEnqueueTps: timer.timerEnqueueTps ?? '0.0',
      timerDequeueTps: timer.timerDequeueTps ?? '0.0',
      // As upstream ScheduleMessageService#buildRunningStats: "<delivered up to>,<queue max>" per level with a cursor.
      ...b.scheduleMessageService.runningStats(),
      brokerVersionDesc: 'V5_3_3',
      brokerVersion: String(CURRENT_VERSION),
      // As upstream (isSpecialServiceRunning): a slave runs none of the master's delivery services.
      brokerActive: String(!b.isSlave),
      msgPutTotalTodayNow: String(b.brokerStats.msgPutTotalTodayNow),
      msgGetTotalTodayNow: String(b.brokerStats.msgGetTotalTodayNow),
      msgPutTotalTodayMorning: String(b.brokerStats.msgPutTotalTodayMorning),
      msgGetTotalTodayMorning: String(b.brokerStats.msgGetTotalTodayMorning),
      msgPutTotalYesterdayMorning: String(b.brokerStats.msgPutTotalYesterdayMorning),
      msgGetTotalYesterdayMorning: String(b.brokerStats.msgGetTotalYesterdayMorning),
      earliestMessageTimeStamp: String(b.messageStore.earliestMessageTime()),
      startAcceptSendRequestTimeStamp: String(b.brokerConfig.startAcceptSendRequestTimeStamp),
      bootTimestamp: String(b.startTimestamp),
      runtime: `[ ${Math.floor((Date.now() - b.startTimestamp) / 1000)} seconds ]`,
      pullRequestHoldCount: String(b.pullRequestHoldService.heldCount),
      sendThreadPoolQueueSize: '0',
      pullThreadPoolQueueSize: '0',
      brokerName: b.brokerConfig.brokerName,
      brokerAddr: b.address,
      flushDiskType: b.storeConfig.flushDiskType,
      rss: String(process.memoryUsage().rss),
    };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ table }) });
  }

  /**
   * QUERY_CORRECTION_OFFSET (308, upstream `queryCorrectionOffset`): header `topic`,
   * `compareGroup` and optional `filterGroups` (comma-separated). Per queue, the lowest offset
   * of every group's but the filtered ones; where `compareGroup` is behind that, Long.MAX_VALUE.
   * Body `QueryCorrectionOffsetBody {correctionOffsets: {queueId: offset}}`, the long written
   * exactly (JSON numbers past 2^53 would lose it).
   */
  queryCorrectionOffset(req: RemotingCommand): RemotingCommand {
    const { topic, compareGroup, filterGroups } = decodeQueryCorrectionOffsetHeader(req.extFields);
    const b = this.broker;
    const offsets = b.consumerOffsetManager;
    const correction = offsets.queryMinOffsetInAllGroup(topic, filterGroups, (q) => b.messageStore.getMinOffsetInQueue(topic, q));
    const values = new Map<number, string>([...correction].map(([q, o]) => [q, String(o)]));
    for (const [queueId, offset] of offsets.queryOffsets(compareGroup, topic)) {
      const min = correction.get(queueId);
      if (min !== undefined && min > offset) values.set(queueId, JAVA_LONG_MAX);
    }
    const entries = [...values].sort((x, y) => x[0] - y[0]).map(([q, v]) => `"${q}":${v}`);
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: Buffer.from(`{"correctionOffsets":{${entries.join(',')}}}`) });
  }

  /**
   * GET_TIMER_CHECK_POINT (60, upstream `getTimerCheckPoint`): the timer store's checkpoint as
   * its 56 bytes (`TimerCheckpoint.encode`), which slaves and brokers coming online read from
   * their master. SYSTEM_ERROR "The checkpoint is null" when the timer store does not run
   * (timerWheelEnable=false), as upstream has no checkpoint then.
   */
  getTimerCheckPoint(req: RemotingCommand): RemotingCommand {
    const body = this.broker.timerMessageStore.checkpointBytes();
    if (!body) return createResponse(req, ResponseCode.SYSTEM_ERROR, 'The checkpoint is null');
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body });
  }

  /**
   * GET_TIMER_METRICS (61, upstream `getTimerMetrics`): the pending timers per topic as
   * upstream's `TimerMetricsSerializeWrapper` JSON. SYSTEM_ERROR "The timer message store is
   * null" when the timer store does not run.
   */
  getTimerMetrics(req: RemotingCommand): RemotingCommand {
    const timer = this.broker.timerMessageStore;
    if (!timer.checkpointBytes()) return createResponse(req, ResponseCode.SYSTEM_ERROR, 'The timer message store is null');
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: timer.metrics.encode() });
  }

  /**
   * RESUME_CHECK_HALF_MESSAGE (323, upstream `resumeCheckHalfMessage`): header `msgId`, the
   * offset message id of a half message (also one moved to the check-max topic after
   * transactionCheckMax checks); `topic` is only named, as upstream. A copy with its check count
   * (TRANSACTION_CHECK_TIMES) reset to 0 goes back into the half topic, queue 0, so the broker
   * checks its transaction again. Upstream's remarks, each followed here by the reason: every
   * refusal before the put is "Exception was thrown when putting message back to
   * RMQ_SYS_TRANS_HALF_TOPIC.", a failed put "Put message back to RMQ_SYS_TRANS_HALF_TOPIC
   * failed.". Upstream copies whatever the id names; this refuses a message that is not a half,
   * which the check would otherwise treat as one.
   */
  async resumeCheckHalfMessage(req: RemotingCommand): Promise<RemotingCommand> {
    const refuse = (why: string): RemotingCommand => createResponse(req, ResponseCode.SYSTEM_ERROR, `${RESUME_REFUSED} (${why})`);
    const { msgId } = decodeResumeCheckHalfMessageRequestHeader(req.extFields);
    if (msgId === undefined) return refuse('the request has no msgId: give the offset message id of the half message');
    let offset: number;
    try {
      offset = decodeOffsetMessageId(msgId).commitLogOffset;
    } catch (err) {
      return refuse(`${(err as Error).message}; give the offset message id of the half message`);
    }
    const b = this.broker;
    const rec = b.messageStore.lookMessageByOffset(offset);
    if (!rec) return refuse(`no message with id ${msgId} on this broker: it is outside the stored CommitLog or was removed`);
    const { ext, input } = putInputFromRecord(rec);
    // Halves are stored under the half topic with their transaction type cleared (upstream's
    // parseHalfMessageInner), and moved as they are to the check-max topic when given up.
    if (ext.topic !== SystemTopic.TRANS_HALF_TOPIC && ext.topic !== SystemTopic.TRANS_CHECK_MAX_TIME_TOPIC) {
      return refuse(`message ${msgId} (topic ${ext.topic}) is not a half message of a transaction: nothing to resume`);
    }
    const result = await b.messageStore.putMessage({
      ...input, topic: SystemTopic.TRANS_HALF_TOPIC, queueId: 0, waitStoreMsgOK: false,
      properties: editProperties(ext.properties, (p) => p.set(MessageConst.TRANSACTION_CHECK_TIMES, '0')),
    });
    if (result.status !== 'PUT_OK') {
      b.logger.error(`resumeCheckHalfMessage: putting ${msgId} back into ${SystemTopic.TRANS_HALF_TOPIC} failed: ${result.status}`);
      return createResponse(req, ResponseCode.SYSTEM_ERROR, `Put message back to ${SystemTopic.TRANS_HALF_TOPIC} failed. (${result.status})`);
    }
    b.logger.info(`half message ${msgId} put back into ${SystemTopic.TRANS_HALF_TOPIC} (real topic ${getProperty(ext.properties, MessageConst.REAL_TOPIC) ?? '?'}); its checks resume`);
    return createResponse(req, ResponseCode.SUCCESS);
  }
}

/** Upstream's remark for every RESUME_CHECK_HALF_MESSAGE that fails before its put. */
const RESUME_REFUSED = `Exception was thrown when putting message back to ${SystemTopic.TRANS_HALF_TOPIC}.`;

/** Java's Long.MAX_VALUE as JSON text. */
const JAVA_LONG_MAX = '9223372036854775807';

/**
 * A slave's topics and groups are the master's, copied every 10 s (SlaveSynchronize): a change
 * made on the slave would be undone. Upstream's `validateSlave` answer (SYSTEM_ERROR and this
 * remark; defined in AdminBrokerProcessor, which HEAD no longer calls).
 */
export function slaveRefusal(req: RemotingCommand): RemotingCommand {
  return createResponse(req, ResponseCode.SYSTEM_ERROR, "Can't modify topic or subscription group from slave broker, please execute it from master broker.");
}
