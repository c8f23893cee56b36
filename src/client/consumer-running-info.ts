import { encodeJson, messageQueueJsonKey } from '../common/json.js';
import { CURRENT_VERSION, ResponseCode, versionDesc } from '../remoting/codes.js';
import { createResponse, type RemotingCommand } from '../remoting/command.js';
import type { SubscriptionData } from '../common/subscription.js';
import { decodeSubscriptionData, mqEntries } from './admin-bodies.js';
import type { ConsumeStatus } from './consumer-stats.js';
import { ClientErrorCode, MQClientError } from './errors.js';
import { ReadOffsetType, type OffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import { compareMessageQueue, type MessageQueue } from './route.js';

/**
 * A consumer's answer to GET_CONSUMER_RUNNING_INFO (upstream `ConsumerRunningInfo`, remoting
 * facts sheet §5.8): its settings, subscriptions, the state of every queue it holds and its
 * speed per topic. Brokers relay the request from admin tools (`mqadmin consumerStatus`,
 * `consumerProgress -s`, the dashboard) to the client.
 */

/** Property keys upstream tools read. */
export const RunningInfoProp = {
  NAMESERVER_ADDR: 'PROP_NAMESERVER_ADDR',
  THREADPOOL_CORE_SIZE: 'PROP_THREADPOOL_CORE_SIZE',
  CONSUME_ORDERLY: 'PROP_CONSUMEORDERLY',
  CONSUME_TYPE: 'PROP_CONSUME_TYPE',
  CLIENT_VERSION: 'PROP_CLIENT_VERSION',
  CONSUMER_START_TIMESTAMP: 'PROP_CONSUMER_START_TIMESTAMP',
} as const;

/** State of one held queue (upstream `ProcessQueueInfo`; `droped` is upstream's spelling). */
export interface ProcessQueueInfo {
  commitOffset: number;
  cachedMsgMinOffset: number;
  cachedMsgMaxOffset: number;
  cachedMsgCount: number;
  cachedMsgSizeInMiB: number;
  /** Orderly: the messages taken for consumption and not committed yet. */
  transactionMsgMinOffset: number;
  transactionMsgMaxOffset: number;
  transactionMsgCount: number;
  locked: boolean;
  tryUnlockTimes: number;
  lastLockTimestamp: number;
  droped: boolean;
  lastPullTimestamp: number;
  lastConsumeTimestamp: number;
}

/** A POP-mode queue's state (upstream `PopProcessQueueInfo`; `droped` is upstream's spelling). */
export interface PopProcessQueueInfo {
  waitAckCount: number;
  droped: boolean;
  lastPopTimestamp: number;
}

export interface ConsumerRunningInfo {
  /** Settings and the PROP_* keys, all as strings (a Java Properties). */
  properties: Record<string, string>;
  subscriptionSet: SubscriptionData[];
  mqTable: Array<{ mq: MessageQueue; info: ProcessQueueInfo }>;
  /** Queues consumed in POP mode (upstream `mqPopTable`); absent or empty for a pull-mode consumer. */
  mqPopTable?: Array<{ mq: MessageQueue; info: PopProcessQueueInfo }>;
  /** Per subscribed topic. */
  statusTable: Map<string, ConsumeStatus>;
  userConsumerInfo: Record<string, string>;
  jstack?: string;
}

/** The JSON body, as fastjson would write it: keys sorted, queues as keys of mqTable. */
export function encodeConsumerRunningInfo(info: ConsumerRunningInfo): Buffer {
  const mqTable: Record<string, ProcessQueueInfo> = {};
  for (const { mq, info: pq } of info.mqTable) mqTable[messageQueueJsonKey(mq.topic, mq.brokerName, mq.queueId)] = pq;
  const body: Record<string, unknown> = {
    properties: info.properties,
    subscriptionSet: [...info.subscriptionSet].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0)),
    mqTable,
    mqPopTable: Object.fromEntries((info.mqPopTable ?? []).map(({ mq, info: p }) => [messageQueueJsonKey(mq.topic, mq.brokerName, mq.queueId), p])),
    statusTable: Object.fromEntries(info.statusTable),
    userConsumerInfo: info.userConsumerInfo,
  };
  if (info.jstack !== undefined) body.jstack = info.jstack;
  return encodeJson(body);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true';
}

/** Reads a ConsumerRunningInfo body (ours or a Java client's, fastjson quirks included). */
export function decodeConsumerRunningInfo(o: unknown): ConsumerRunningInfo {
  if (!isObj(o)) throw new MQClientError('malformed ConsumerRunningInfo in a response body', ClientErrorCode.BAD_RESPONSE);
  const properties: Record<string, string> = {};
  if (isObj(o.properties)) for (const [k, v] of Object.entries(o.properties)) properties[k] = v === null || v === undefined ? '' : String(v);
  const subscriptionSet = Array.isArray(o.subscriptionSet)
    ? o.subscriptionSet.filter(isObj).map((sd) => decodeSubscriptionData(sd, ''))
    : [];
  const mqTable = mqEntries(o.mqTable, 'ConsumerRunningInfo.mqTable')
    .map(([mq, v]) => {
      const p = isObj(v) ? v : {};
      const info: ProcessQueueInfo = {
        commitOffset: num(p.commitOffset), cachedMsgMinOffset: num(p.cachedMsgMinOffset), cachedMsgMaxOffset: num(p.cachedMsgMaxOffset),
        cachedMsgCount: num(p.cachedMsgCount), cachedMsgSizeInMiB: num(p.cachedMsgSizeInMiB),
        transactionMsgMinOffset: num(p.transactionMsgMinOffset), transactionMsgMaxOffset: num(p.transactionMsgMaxOffset),
        transactionMsgCount: num(p.transactionMsgCount), locked: bool(p.locked), tryUnlockTimes: num(p.tryUnlockTimes),
        lastLockTimestamp: num(p.lastLockTimestamp), droped: bool(p.droped), lastPullTimestamp: num(p.lastPullTimestamp),
        lastConsumeTimestamp: num(p.lastConsumeTimestamp),
      };
      return { mq, info };
    })
    .sort((a, b) => compareMessageQueue(a.mq, b.mq));
  const mqPopTable = mqEntries(o.mqPopTable, 'ConsumerRunningInfo.mqPopTable')
    .map(([mq, v]) => {
      const p = isObj(v) ? v : {};
      return { mq, info: { waitAckCount: num(p.waitAckCount), droped: bool(p.droped), lastPopTimestamp: num(p.lastPopTimestamp) } };
    })
    .sort((a, b) => compareMessageQueue(a.mq, b.mq));
  const statusTable = new Map<string, ConsumeStatus>();
  if (isObj(o.statusTable)) {
    for (const topic of Object.keys(o.statusTable).sort()) {
      const s = o.statusTable[topic];
      const c = isObj(s) ? s : {};
      statusTable.set(topic, {
        pullRT: num(c.pullRT), pullTPS: num(c.pullTPS), consumeRT: num(c.consumeRT), consumeOKTPS: num(c.consumeOKTPS),
        consumeFailedTPS: num(c.consumeFailedTPS), consumeFailedMsgs: num(c.consumeFailedMsgs),
      });
    }
  }
  const userConsumerInfo: Record<string, string> = {};
  if (isObj(o.userConsumerInfo)) for (const [k, v] of Object.entries(o.userConsumerInfo)) userConsumerInfo[k] = String(v);
  const info: ConsumerRunningInfo = { properties, subscriptionSet, mqTable, statusTable, userConsumerInfo };
  if (mqPopTable.length > 0) info.mqPopTable = mqPopTable;
  if (typeof o.jstack === 'string') info.jstack = o.jstack;
  return info;
}

/**
 * The `mqTable` of a report: each held queue's state with its commit offset, the in-memory one
 * first (upstream MEMORY_FIRST_THEN_STORE); -1 when neither answers.
 */
export function queueInfoTable(held: Iterable<{ mq: MessageQueue; pq: ProcessQueue }>, offsetStore: OffsetStore): Promise<ConsumerRunningInfo['mqTable']> {
  return Promise.all([...held].map(async ({ mq, pq }) => {
    const commitOffset = await offsetStore.readOffset(mq, ReadOffsetType.MEMORY_FIRST_THEN_STORE).catch(() => -1);
    return { mq, info: { commitOffset, ...pq.info() } };
  }));
}

/** Java Properties of a consumer's settings: every plain value as a string (upstream `object2Properties`). */
export function settingsProperties(settings: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/**
 * Node's answer to upstream's `jstack` option: the process, its stack at the time of the request
 * and the resources keeping its event loop alive (a Node process has one JS thread to dump).
 */
function nodeStackReport(): string {
  const resources = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) resources.set(r, (resources.get(r) ?? 0) + 1);
  const stack = (new Error('stack at GET_CONSUMER_RUNNING_INFO').stack ?? '').split('\n').slice(1).map((l) => l.trim());
  return [
    `Node.js ${process.version} pid ${process.pid}, up ${Math.round(process.uptime())} s, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB`,
    'Thread: main (event loop)',
    ...stack.map((l) => `\t${l}`),
    `Active resources: ${[...resources].map(([k, n]) => `${k}×${n}`).join(', ') || 'none'}`,
  ].join('\n');
}

/**
 * Answers GET_CONSUMER_RUNNING_INFO for consumer `group` of a client: null when the request is
 * for another group (another consumer of the same client answers it). Adds what the client
 * instance knows (upstream `MQClientInstance.consumerRunningInfo`) and, when asked, the stack report.
 */
export async function answerRunningInfo(req: RemotingCommand, group: string, namesrvList: readonly string[], consumeType: string,
  build: () => Promise<ConsumerRunningInfo>): Promise<RemotingCommand | null> {
  if (req.extFields?.consumerGroup !== group) return null;
  const info = await build();
  info.properties[RunningInfoProp.NAMESERVER_ADDR] = namesrvList.map((a) => `${a};`).join('');
  info.properties[RunningInfoProp.CONSUME_TYPE] = consumeType;
  info.properties[RunningInfoProp.CLIENT_VERSION] = versionDesc(CURRENT_VERSION);
  if (req.extFields?.jstackEnable === 'true') info.jstack = nodeStackReport();
  return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeConsumerRunningInfo(info) });
}

/**
 * GET_CONSUMER_STATUS_FROM_CLIENT (upstream `ClientRemotingProcessor.getConsumeStatus`): this
 * consumer's in-memory offsets on the asked topic, GetConsumerStatusBody `{messageQueueTable}`;
 * null when the request is for another group of this client.
 */
export function answerConsumerStatus(req: RemotingCommand, group: string,
  offsets: () => Map<string, { mq: MessageQueue; offset: number }>): RemotingCommand | null {
  if (req.extFields?.group !== group) return null;
  const messageQueueTable: Record<string, number> = {};
  for (const { mq, offset } of offsets().values()) messageQueueTable[messageQueueJsonKey(mq.topic, mq.brokerName, mq.queueId)] = offset;
  return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson({ messageQueueTable }) });
}

/** Whether the client is a push consumer (PROP_CONSUME_TYPE CONSUME_PASSIVELY). */
export function isPushType(info: ConsumerRunningInfo): boolean {
  return info.properties[RunningInfoProp.CONSUME_TYPE] === 'CONSUME_PASSIVELY';
}

function sameSubscriptions(a: SubscriptionData[], b: SubscriptionData[]): boolean {
  const key = (s: SubscriptionData[]): string => s.map((d) => `${d.topic}\u0000${d.subString}\u0000${d.expressionType}`).sort().join('\u0001');
  return key(a) === key(b);
}

/**
 * Upstream `analyzeSubscription`: false when push consumers of the group that have run for more
 * than two minutes subscribe differently (a misconfiguration that breaks rebalancing).
 */
export function analyzeSubscription(byClient: ReadonlyMap<string, ConsumerRunningInfo>, now = Date.now()): boolean {
  const infos = [...byClient.values()];
  const first = infos[0];
  if (!first) return true;
  const started = Number(first.properties[RunningInfoProp.CONSUMER_START_TIMESTAMP] ?? now);
  if (!isPushType(first) || now - started <= 2 * 60_000) return true;
  return infos.every((i) => sameSubscriptions(i.subscriptionSet, first.subscriptionSet));
}

/** Upstream `analyzeProcessQueue`: lines about queues that look stuck. */
export function analyzeProcessQueue(clientId: string, info: ConsumerRunningInfo, now = Date.now()): string[] {
  if (!isPushType(info)) return [];
  const orderly = info.properties[RunningInfoProp.CONSUME_ORDERLY] === 'true';
  const out: string[] = [];
  for (const { mq, info: pq } of info.mqTable) {
    const q = `MessageQueue [topic=${mq.topic}, brokerName=${mq.brokerName}, queueId=${mq.queueId}]`;
    if (orderly) {
      if (!pq.locked) out.push(`${clientId} ${q} can't lock for a while, ${now - pq.lastLockTimestamp}ms`);
      else if (pq.droped && pq.tryUnlockTimes > 0) out.push(`${clientId} ${q} unlock ${pq.tryUnlockTimes} times, still failed`);
    } else {
      const idle = now - pq.lastConsumeTimestamp;
      if (idle > 60_000 && pq.cachedMsgCount > 0) out.push(`${clientId} ${q} can't consume for a while, maybe blocked, ${idle}ms`);
    }
  }
  return out;
}

/** Upstream `ProcessQueueInfo.toString()`. */
function processQueueInfoString(p: ProcessQueueInfo): string {
  const t = (ms: number): string => humanTime(ms);
  return `ProcessQueueInfo [commitOffset=${p.commitOffset}, cachedMsgMinOffset=${p.cachedMsgMinOffset}, cachedMsgMaxOffset=${p.cachedMsgMaxOffset}, `
    + `cachedMsgCount=${p.cachedMsgCount}, cachedMsgSizeInMiB=${p.cachedMsgSizeInMiB}, transactionMsgMinOffset=${p.transactionMsgMinOffset}, `
    + `transactionMsgMaxOffset=${p.transactionMsgMaxOffset}, transactionMsgCount=${p.transactionMsgCount}, locked=${p.locked}, `
    + `tryUnlockTimes=${p.tryUnlockTimes}, lastLockTimestamp=${t(p.lastLockTimestamp)}, droped=${p.droped}, `
    + `lastPullTimestamp=${t(p.lastPullTimestamp)}, lastConsumeTimestamp=${t(p.lastConsumeTimestamp)}]`;
}

function pad2(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Upstream `UtilAll.timeMillisToHumanString`: `yyyyMMddHHmmssSSS`, local time. */
function humanTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}${pad2(d.getMilliseconds(), 3)}`;
}

const padEnd = (s: string | number, w: number): string => String(s).padEnd(w);
const padStart = (s: string | number, w: number): string => String(s).padStart(w);

/** Upstream `ConsumerRunningInfo.formatString()`: the report `mqadmin consumerStatus` prints. */
export function formatConsumerRunningInfo(info: ConsumerRunningInfo): string {
  const lines: string[] = ['#Consumer Properties#'];
  for (const k of Object.keys(info.properties).sort()) lines.push(`${padEnd(k, 40)}: ${info.properties[k]}`);
  lines.push('', '', '#Consumer Subscription#');
  info.subscriptionSet.forEach((s, i) => {
    lines.push(`${String(i + 1).padStart(3, '0')} Topic: ${padEnd(s.topic, 40)} ClassFilter: ${padEnd(String(s.classFilterMode), 8)} SubExpression: ${s.subString}`);
  });
  lines.push('', '', '#Consumer Offset#', `${padEnd('#Topic', 64)}  ${padEnd('#Broker Name', 32)}  ${padEnd('#QID', 4)}  ${padEnd('#Consumer Offset', 20)}`);
  for (const { mq, info: pq } of info.mqTable) {
    lines.push(`${padEnd(mq.topic, 32)}  ${padEnd(mq.brokerName, 32)}  ${padEnd(mq.queueId, 4)}  ${padEnd(pq.commitOffset, 20)}`);
  }
  lines.push('', '', '#Consumer MQ Detail#', `${padEnd('#Topic', 64)}  ${padEnd('#Broker Name', 32)}  ${padEnd('#QID', 4)}  ${padEnd('#ProcessQueueInfo', 20)}`);
  for (const { mq, info: pq } of info.mqTable) {
    lines.push(`${padEnd(mq.topic, 64)}  ${padEnd(mq.brokerName, 32)}  ${padEnd(mq.queueId, 4)}  ${processQueueInfoString(pq)}`);
  }
  lines.push('', '', '#Consumer Pop Detail#', `${padEnd('#Topic', 32)}  ${padEnd('#Broker Name', 32)}  ${padEnd('#QID', 4)}  ${padEnd('#ProcessQueueInfo', 20)}`);
  for (const { mq, info: p } of info.mqPopTable ?? []) {
    lines.push(`${padEnd(mq.topic, 32)}  ${padEnd(mq.brokerName, 32)}  ${padEnd(mq.queueId, 4)}  PopProcessQueueInfo [waitAckCount:${p.waitAckCount}, droped:${p.droped}, lastPopTimestamp:${p.lastPopTimestamp}]`);
  }
  lines.push('', '', '#Consumer RT&TPS#', `${padEnd('#Topic', 64)}  ${padStart('#Pull RT', 14)} ${padStart('#Pull TPS', 14)} ${padStart('#Consume RT', 14)} `
    + `${padStart('#ConsumeOK TPS', 14)} ${padStart('#ConsumeFailed TPS', 18)} ${padStart('#ConsumeFailedMsgsInHour', 25)}`);
  for (const [topic, s] of info.statusTable) {
    lines.push(`${padEnd(topic, 32)}  ${padStart(s.pullRT.toFixed(2), 14)} ${padStart(s.pullTPS.toFixed(2), 14)} ${padStart(s.consumeRT.toFixed(2), 14)} `
      + `${padStart(s.consumeOKTPS.toFixed(2), 14)} ${padStart(s.consumeFailedTPS.toFixed(2), 18)} ${padStart(Math.trunc(s.consumeFailedMsgs), 25)}`);
  }
  lines.push('', '', '#User Consume Info#');
  for (const k of Object.keys(info.userConsumerInfo).sort()) lines.push(`${padEnd(k, 40)}: ${info.userConsumerInfo[k]}`);
  if (info.jstack !== undefined) lines.push('', '', '#Consumer jstack#', info.jstack);
  return `${lines.join('\n')}\n`;
}

/** Upstream `CMResult`: what a listener made of a message pushed to it directly. */
export const CMResult = {
  CR_SUCCESS: 'CR_SUCCESS',
  CR_LATER: 'CR_LATER',
  CR_ROLLBACK: 'CR_ROLLBACK',
  CR_COMMIT: 'CR_COMMIT',
  CR_THROW_EXCEPTION: 'CR_THROW_EXCEPTION',
  CR_RETURN_NULL: 'CR_RETURN_NULL',
} as const;
export type CMResultValue = (typeof CMResult)[keyof typeof CMResult];

/** The answer to CONSUME_MESSAGE_DIRECTLY (upstream `ConsumeMessageDirectlyResult`). */
export interface ConsumeMessageDirectlyResult {
  order: boolean;
  autoCommit: boolean;
  consumeResult?: CMResultValue;
  remark?: string;
  spentTimeMills: number;
}

export function decodeConsumeMessageDirectlyResult(o: unknown): ConsumeMessageDirectlyResult {
  if (!isObj(o)) throw new MQClientError('malformed ConsumeMessageDirectlyResult in a response body', ClientErrorCode.BAD_RESPONSE);
  const r: ConsumeMessageDirectlyResult = { order: bool(o.order), autoCommit: o.autoCommit === undefined ? true : bool(o.autoCommit), spentTimeMills: num(o.spentTimeMills) };
  if (typeof o.consumeResult === 'string' && o.consumeResult in CMResult) r.consumeResult = o.consumeResult as CMResultValue;
  if (typeof o.remark === 'string') r.remark = o.remark;
  return r;
}

/** Upstream `ConsumeMessageDirectlyResult.toString()`, which `mqadmin queryMsgById -g -d` prints. */
export function consumeMessageDirectlyResultString(r: ConsumeMessageDirectlyResult): string {
  return `ConsumeMessageDirectlyResult [order=${r.order}, autoCommit=${r.autoCommit}, consumeResult=${r.consumeResult ?? 'null'}, `
    + `remark=${r.remark ?? 'null'}, spentTimeMills=${r.spentTimeMills}]`;
}
