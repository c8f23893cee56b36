#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { Admin, messageTrackString, type AdminTarget } from '../admin/index.js';
import { DEFAULT_MONITOR_CONFIG, MonitorService, undoneMsgsString, type MonitorListener } from '../admin/monitor-service.js';
import { ClientErrorCode, MQClientError } from '../client/errors.js';
import { Message, type MessageExt } from '../client/message.js';
import { PullStatus, type BrokerStatsData, type SendResult } from '../client/mq-client-api.js';
import { Producer } from '../client/producer.js';
import { PullConsumer } from '../client/pull-consumer.js';
import { AllocateMessageQueueAveragely } from '../client/rebalance/index.js';
import { topicRouteData2TopicSubscribeInfo } from '../client/topic-publish-info.js';
import { compareMessageQueue, messageQueueToString, type MessageQueue } from '../client/route.js';
import { producerInfoString, type ConsumeStats, type OffsetWrapper, type SubscriptionGroupConfig } from '../client/admin-bodies.js';
import {
  analyzeProcessQueue, analyzeSubscription, consumeMessageDirectlyResultString, formatConsumerRunningInfo, type ConsumerRunningInfo,
} from '../client/consumer-running-info.js';
import { parseAttributeModification } from '../common/attributes.js';
import { isMessageRequestMode, type MessageRequestModeValue } from '../common/message-request-mode.js';
import { perm2String } from '../common/perm.js';
import { StatsName, statsKey } from '../common/stats.js';
import { masterAddrOf, NAMESPACE_ORDER_TOPIC_CONFIG, selectBrokerAddr, type TopicConfig, type TopicRouteData } from '../common/route.js';
import { DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX, SystemTopic } from '../common/topic.js';
import { timeMillisToHumanString2 } from '../common/java.js';
import { CURRENT_VERSION, MQBrokerError, RemotingError, RequestCode, ResponseCode, versionDesc } from '../remoting/index.js';
import type { TraceRecord } from '../client/trace/trace-data.js';
import { parseNonEmptyFlag } from './common.js';
import { credentialOptions, registerAuthCommands, toolsCredentials } from './mqadmin-auth.js';
import { registerHaCommands } from './mqadmin-ha.js';

/**
 * `mqadmin`: RocketMQ's admin tool, with upstream's subcommand names, flags and column output
 * (plus `--json` on every subcommand). Failures are one line on stderr and exit code 1.
 */

/** Where a run writes; the process's streams by default, a buffer in tests. */
export interface MqadminIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

const processIO: MqadminIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/** A mistake of the user's the tool explains in one line. */
export class CliError extends Error {}

// ---- output helpers ----

/**
 * Java-style `printf` for upstream's column formats: `%s`, `%d`, `%f`, each with an optional
 * width (`%-Ns`, `%Nd`) and, for `%f`, precision (`%11.2f`); `%n` (new line) and `%%`.
 */
export function format(fmt: string, ...args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%(-?)(\d*)(?:\.(\d+))?([sdfn%])/g, (_m, left: string, width: string, precision: string | undefined, conv: string) => {
    if (conv === 'n') return '\n';
    if (conv === '%') return '%';
    const v = args[i++];
    const text = v === undefined || v === null ? 'null'
      : conv === 'd' ? String(typeof v === 'number' ? Math.trunc(v) : v)
        : conv === 'f' ? Number(v).toFixed(precision === undefined ? 6 : Number(precision)) : String(v);
    const w = width ? Number(width) : 0;
    if (text.length >= w) return text;
    return left ? text.padEnd(w) : text.padStart(w);
  });
}

/** A line of statsAll: a topic with one consuming group (or none). */
interface StatsAllRow {
  topic: string;
  group?: string;
  accumulation: number;
  inTps: number;
  outTps: number;
  inMsg24Hour: number;
  outMsg24Hour: number;
}

/**
 * statsAll's lines for one topic (upstream `StatsAllSubCommand.printTopicDetail`): puts per second
 * and in the last day summed over the masters of its route, and for each consuming group its
 * gets and backlog. A broker without the item (nothing counted yet) adds nothing. With
 * `activeOnly`, lines without traffic in the last day are left out.
 */
async function statsAllRows(admin: Admin, topic: string, activeOnly: boolean): Promise<StatsAllRow[]> {
  const route = await admin.examineTopicRouteInfo(topic);
  const groups = await admin.queryTopicConsumeByWho(topic);
  const masters = route.brokerDatas.map(masterAddrOf).filter((a): a is string => !!a);
  const sumOver = async (statsName: string, statsKey: string): Promise<{ tps: number; day: number }> => {
    let tps = 0;
    let day = 0;
    for (const addr of masters) {
      try {
        const d = await admin.viewBrokerStatsData(addr, statsName, statsKey);
        tps += d.statsMinute.tps;
        day += d.statsDay.sum || d.statsHour.sum || d.statsMinute.sum;
      } catch {
        // Not counted on this broker.
      }
    }
    return { tps, day };
  };
  const put = await sumOver(StatsName.TOPIC_PUT_NUMS, topic);
  const rows: StatsAllRow[] = [];
  if (groups.length === 0) {
    if (!activeOnly || put.day > 0) rows.push({ topic, accumulation: 0, inTps: put.tps, outTps: 0, inMsg24Hour: put.day, outMsg24Hour: 0 });
    return rows;
  }
  for (const group of groups) {
    const get = await sumOver(StatsName.GROUP_GET_NUMS, statsKey(topic, group));
    let accumulation = 0;
    try {
      const cs = await admin.examineConsumeStats(group, topic);
      for (const { offset } of cs.offsetTable.values()) accumulation += offset.brokerOffset - offset.consumerOffset;
    } catch {
      // As upstream: no progress known, no backlog printed.
    }
    if (!activeOnly || put.day > 0 || get.day > 0) {
      rows.push({ topic, group, accumulation: Math.max(0, accumulation), inTps: put.tps, outTps: get.tps, inMsg24Hour: put.day, outMsg24Hour: get.day });
    }
  }
  return rows;
}

/** Upstream `UtilAll.frontStringAtLeast`: at most `size` characters. */
function front(s: string, size: number): string {
  return s.length > size ? s.slice(0, size) : s;
}

/** Upstream `UtilAll.timeMillisToHumanString2`. */
const humanTime = timeMillisToHumanString2;

/** `yyyy-MM-dd HH:mm:ss`, local time. */
function dateTime(ms: number): string {
  return humanTime(ms).slice(0, 19);
}

/** Upstream's timestamp flag: `now`, ms since the epoch, or `yyyy-MM-dd#HH:mm:ss:SSS` (local time). */
function parseTimestampFlag(v: string): number {
  const t = v.trim();
  if (t === 'now') return Date.now();
  if (/^\d+$/.test(t)) return Number(t);
  const m = /^(\d{4})-(\d{2})-(\d{2})#(\d{2}):(\d{2}):(\d{2}):(\d{3})$/.exec(t);
  if (!m) throw new InvalidArgumentError('expected now, milliseconds since the epoch, or yyyy-MM-dd#HH:mm:ss:SSS.');
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime();
}

function parseIntFlag(v: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError('expected an integer.');
  return Number(v.trim());
}

function parsePositiveIntFlag(v: string): number {
  const n = parseIntFlag(v);
  if (n <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

function parseNonNegativeIntFlag(v: string): number {
  const n = parseIntFlag(v);
  if (n < 0) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

/** Upstream `MessageRequestMode.valueOf`: exactly PULL or POP. */
function parseConsumeModeFlag(v: string): MessageRequestModeValue {
  const t = v.trim();
  if (!isMessageRequestMode(t)) throw new InvalidArgumentError('expected PULL or POP.');
  return t;
}

function parseBoolFlag(v: string): boolean {
  const t = v.trim().toLowerCase();
  if (t !== 'true' && t !== 'false') throw new InvalidArgumentError('expected true or false.');
  return t === 'true';
}

/** Upstream `AttributeParser.parseToMap`: `+a=b,+c=d,-e` (removals kept as empty values). */
/** `-a +a=b,+c=d,-e` as upstream's AttributeParser reads it: the signed keys a request carries. */
function parseAttributes(v: string): Record<string, string> {
  try {
    return Object.fromEntries(parseAttributeModification(v.trim()));
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message}; write attributes as +key=value to set and -key to remove, separated by commas`);
  }
}

function javaMap(m: Map<string, string> | Record<string, string>): string {
  const entries = m instanceof Map ? [...m] : Object.entries(m);
  return `{${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}`;
}

/** A JSON-friendly copy: Maps become objects (or entry lists when keyed by queues). */
function toJson(v: unknown): unknown {
  if (v instanceof Map) {
    const entries = [...v.entries()];
    if (entries.every(([, x]) => typeof x === 'object' && x !== null && 'mq' in (x as object))) return entries.map(([, x]) => toJson(x));
    return Object.fromEntries(entries.map(([k, x]) => [String(k), toJson(x)]));
  }
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

function messageJson(m: MessageExt): Record<string, unknown> {
  return {
    msgId: m.msgId, offsetMsgId: m.offsetMsgId, topic: m.topic, tags: m.tags, keys: m.keys, queueId: m.queueId, queueOffset: m.queueOffset,
    commitLogOffset: m.commitLogOffset, reconsumeTimes: m.reconsumeTimes, bornTimestamp: m.bornTimestamp, storeTimestamp: m.storeTimestamp,
    bornHost: m.bornHost, storeHost: m.storeHost, sysFlag: m.sysFlag, properties: Object.fromEntries(m.propertyMap), body: m.body.toString('utf8'),
  };
}

/** Upstream `MessageExt.toString`, shortened: the body is given by its length. */
function messageString(m: MessageExt): string {
  return `MessageExt [brokerName=${m.brokerName ?? ''}, queueId=${m.queueId}, storeSize=${m.storeSize}, queueOffset=${m.queueOffset}, sysFlag=${m.sysFlag}, `
    + `bornTimestamp=${m.bornTimestamp}, bornHost=${m.bornHost}, storeTimestamp=${m.storeTimestamp}, storeHost=${m.storeHost}, msgId=${m.msgId}, `
    + `commitLogOffset=${m.commitLogOffset}, bodyCRC=${m.bodyCRC}, reconsumeTimes=${m.reconsumeTimes}, preparedTransactionOffset=${m.preparedTransactionOffset}, `
    + `toString()=Message{topic='${m.topic}', flag=${m.flag}, properties=${javaMap(m.propertyMap)}, body=[${m.body.length} bytes]}]`;
}

// ---- running a command ----

export interface Ctx {
  io: MqadminIO;
  admin: Admin;
  json: boolean;
  namesrvAddr?: string;
  logger: pino.Logger;
  p(fmt: string, ...args: unknown[]): void;
  /** Prints `value` as JSON when --json was given; returns whether it did. */
  asJson(value: unknown): boolean;
  needNamesrv(): void;
}

export interface CommonFlags {
  namesrvAddr?: string;
  json?: boolean;
  accessKey?: string;
  secretKey?: string;
}

type Action<F> = (ctx: Ctx, flags: F) => Promise<void>;

/** Names of request codes, to say which one a broker lacks. */
const REQUEST_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RequestCode).map(([k, v]) => [v, k]));

/** One line explaining a failure; undefined for a bug (then the stack is worth showing). */
function explain(err: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (err instanceof CliError || err instanceof InvalidArgumentError) return err.message;
  if (err instanceof MQClientError) {
    if (err.code === ClientErrorCode.NO_NAMESRV) {
      return 'no NameServer address: pass -n host:9876 (several: -n "host1:9876;host2:9876") or set the NAMESRV_ADDR environment variable';
    }
    return err.message;
  }
  if (err instanceof MQBrokerError) {
    if (err.responseCode === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) {
      const code = Number(/request type (\d+)/.exec(err.remark ?? '')?.[1]);
      const name = REQUEST_NAMES[code];
      return `the server at ${err.addr} does not support ${name ?? 'this request'}${Number.isFinite(code) ? ` (request code ${code})` : ''} yet`;
    }
    return err.message;
  }
  if (err instanceof RemotingError) return err.message;
  if (env.MQADMIN_DEBUG) return undefined;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `mqadmin <argv…>`; resolves with the exit code (0 ok, 1 failure). Everything is written
 * through `io`, so tests can run it in-process.
 */
export async function runMqadmin(argv: readonly string[], io: MqadminIO = processIO): Promise<number> {
  const logger = pino({ level: io.env.ROCKETMQ_LOG_LEVEL ?? 'silent' }, pino.destination({ dest: 2, sync: true }));
  let exitCode = 0;
  let running: string | undefined;
  const program = new Command('mqadmin')
    .description('RocketMQ admin tool: topics, clusters, consumer groups, offsets and messages. "mqadmin <command> -h" for a command\'s flags.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError(false)
    .allowExcessArguments(false);

  const sub = <F extends CommonFlags>(name: string, desc: string, build: (c: Command) => Command, action: Action<F>): void => {
    const c = credentialOptions(program.command(name).description(desc)
      .option('-n, --namesrvAddr <addrs>', "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'"))
      .option('--json', 'print the result as JSON instead of columns')
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
      .allowExcessArguments(false);
    build(c).action(async (flags: F) => {
      running = name;
      const namesrvAddr = flags.namesrvAddr ?? io.env.NAMESRV_ADDR;
      const admin = new Admin({ namesrvAddr, logger, sessionCredentials: toolsCredentials(flags, io.env) });
      await admin.start();
      const ctx: Ctx = {
        io, admin, json: flags.json === true, namesrvAddr, logger,
        p: (fmt, ...args) => io.out(format(fmt, ...args)),
        asJson: (value) => {
          if (!flags.json) return false;
          io.out(`${JSON.stringify(toJson(value), null, 2)}\n`);
          return true;
        },
        needNamesrv: () => {
          if (!namesrvAddr) throw new MQClientError('no NameServer', ClientErrorCode.NO_NAMESRV);
        },
      };
      try {
        await action(ctx, flags);
      } finally {
        await admin.shutdown();
      }
    });
  };

  registerTopicCommands(sub);
  registerClusterAndBrokerCommands(sub);
  registerConfigCommands(sub);
  registerGroupCommands(sub);
  registerMessageCommands(sub);
  registerExportCommands(sub);
  registerAuthCommands(sub);
  registerHaCommands(sub);

  program.command('help [command]').description('show the help of a command').action((cmd?: string) => {
    const c = cmd ? program.commands.find((x) => x.name() === cmd) : undefined;
    if (cmd && !c) {
      io.err(`The sub command ${cmd} not exist.\n`);
      exitCode = 1;
      return;
    }
    (c ?? program).outputHelp();
  });

  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    const line = explain(err, io.env);
    const prefix = running ? `mqadmin ${running}` : 'mqadmin';
    if (line !== undefined) io.err(`${prefix}: ${line}\n`);
    else io.err(`${prefix}: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  return exitCode;
}

export type Sub = <F extends CommonFlags>(name: string, desc: string, build: (c: Command) => Command, action: Action<F>) => void;

/**
 * The JSON array of configs a batch command reads from `-f` (upstream parses it with
 * `JSON.parseArray`); the broker checks each entry. Upstream prints "the file path … does not
 * exists" and exits 0, and silently does nothing for an empty list; here both are failures, so a
 * script notices.
 */
function readConfigListFile(file: string, what: string): Array<Record<string, unknown>> {
  const path = file.trim();
  if (!existsSync(path)) throw new CliError(`the file path ${path} does not exists`);
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`${path} is not a JSON list of ${what}: ${(err as Error).message}`);
  }
  if (!Array.isArray(list)) throw new CliError(`${path} is not a JSON list of ${what}`);
  if (list.length === 0) throw new CliError(`${path} holds no ${what}`);
  for (const [i, e] of list.entries()) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new CliError(`${path}: entry ${i} is not a ${what.replace(/s$/, '')} object`);
  }
  return list as Array<Record<string, unknown>>;
}

function targetOf(flags: { brokerAddr?: string; clusterName?: string }, ctx: Ctx, what: string): AdminTarget {
  if (flags.brokerAddr && flags.clusterName) throw new CliError(`give either -b or -c for ${what}, not both`);
  if (flags.brokerAddr) return { brokerAddr: flags.brokerAddr };
  if (flags.clusterName) {
    ctx.needNamesrv();
    return { clusterName: flags.clusterName };
  }
  throw new CliError(`say where to ${what}: -b <brokerAddr> or -c <clusterName>`);
}

// ---- topics ----

function registerTopicCommands(sub: Sub): void {
  interface UpdateTopicFlags extends CommonFlags {
    brokerAddr?: string; clusterName?: string; topic: string; readQueueNums?: number; writeQueueNums?: number; perm?: number;
    order?: boolean; attributes?: Record<string, string>; unit?: boolean; hasUnitSub?: boolean;
  }
  sub<UpdateTopicFlags>('updateTopic', 'Update or create topic.', (c) => c
    .option('-b, --brokerAddr <addr>', 'create topic to which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'create topic to which cluster', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-r, --readQueueNums <n>', 'set read queue nums', parseIntFlag)
    .option('-w, --writeQueueNums <n>', 'set write queue nums', parseIntFlag)
    .option('-p, --perm <perm>', "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]", parseIntFlag)
    .option('-o, --order <bool>', "set topic's order(true|false)", parseBoolFlag)
    .option('-a, --attributes <attrs>', 'attribute(+a=b,+c=d,-e)', parseAttributes)
    .option('-u, --unit <bool>', 'is unit topic (true|false)', parseBoolFlag)
    .option('-s, --hasUnitSub <bool>', 'has unit sub (true|false)', parseBoolFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'create the topic');
    const topicSysFlag = (f.unit ? 1 : 0) | (f.hasUnitSub ? 2 : 0);
    const { config, brokerAddrs } = await ctx.admin.createOrUpdateTopic({
      topicName: f.topic, readQueueNums: f.readQueueNums, writeQueueNums: f.writeQueueNums, perm: f.perm, order: f.order ?? false,
      attributes: f.attributes, topicSysFlag,
    }, target);
    let orderConf: string | undefined;
    if (f.order) {
      if ('brokerAddr' in target) {
        const brokerName = await ctx.admin.brokerNameOf(target.brokerAddr);
        orderConf = `${brokerName ?? target.brokerAddr}:${config.writeQueueNums}`;
      } else {
        const ci = await ctx.admin.examineBrokerClusterInfo();
        orderConf = (ci.clusterAddrTable[target.clusterName] ?? []).map((b) => `${b}:${config.writeQueueNums}`).join(';');
      }
      await ctx.admin.createOrUpdateOrderConf(f.topic, orderConf);
    }
    if (ctx.asJson({ brokerAddrs, topicConfig: config, orderConf })) return;
    if ('brokerAddr' in target && orderConf) ctx.p('%s%n', `set broker orderConf. isOrder=true, orderConf=[${orderConf}]`);
    for (const addr of brokerAddrs) ctx.p('create topic to %s success.%n', addr);
    if (!('brokerAddr' in target) && orderConf) ctx.p('set cluster orderConf. isOrder=true, orderConf=[%s]%n', orderConf);
    ctx.p('%s%n', topicConfigString(config));
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; filename: string }>('updateTopicList', 'create or update topic in batch', (c) => c
    .option('-b, --brokerAddr <addr>', 'create topic to which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'create topic to which cluster', parseNonEmptyFlag)
    .requiredOption('-f, --filename <file>', 'Path to a file with list of org.apache.rocketmq.common.TopicConfig in json format', parseNonEmptyFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'create the topics');
    const configs = readConfigListFile(f.filename, 'TopicConfigs') as unknown as TopicConfig[];
    const brokerAddrs = await ctx.admin.createOrUpdateTopicList(configs, target);
    if (ctx.asJson({ brokerAddrs, topics: configs.map((t) => t.topicName) })) return;
    for (const addr of brokerAddrs) ctx.p('submit batch of topic config to %s success, please check the result later.%n', addr);
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; topic: string; perm: number }>('updateTopicPerm', 'Update topic perm.', (c) => c
    .option('-b, --brokerAddr <addr>', 'create topic to which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'create topic to which cluster', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-p, --perm <perm>', "set topic's permission(2|4|6), intro[2:W; 4:R; 6:RW]", parseIntFlag),
  async (ctx, f) => {
    // Upstream PermName.isValid: the three low bits (inherit, write, read).
    if (f.perm < 0 || f.perm > 7) throw new CliError(`-p ${f.perm} is not a topic permission: use 2 (write only), 4 (read only) or 6 (read and write)`);
    const target = targetOf(f, ctx, 'update the topic perm');
    ctx.needNamesrv();
    // As upstream: the queue counts and flags are kept from the route, only the permission changes.
    const route = await ctx.admin.examineTopicRouteInfo(f.topic);
    const first = route.queueDatas[0];
    if (!first) throw new CliError(`topic ${f.topic} has no queues in its route; create it with updateTopic`);
    const spec = { topicName: f.topic, readQueueNums: first.readQueueNums, writeQueueNums: first.writeQueueNums, topicSysFlag: first.topicSysFlag, perm: f.perm };
    if ('brokerAddr' in target) {
      const bd = route.brokerDatas.find((b) => b.brokerAddrs['0'] === target.brokerAddr);
      if (!bd) {
        const masters = route.brokerDatas.map(masterAddrOf).filter(Boolean).join(', ');
        throw new CliError(`updateTopicPerm error broker not exit or broker is not master!: ${target.brokerAddr} is not the master of a broker serving ${f.topic} (its masters: ${masters || 'none'})`);
      }
      const oldPerm = route.queueDatas.find((q) => q.brokerName === bd.brokerName)?.perm ?? 0;
      if (oldPerm === f.perm) {
        if (ctx.asJson({ topic: f.topic, brokerAddrs: [], oldPerm, perm: f.perm, unchanged: true })) return;
        ctx.p('new perm equals to the old one!%n');
        return;
      }
      const { config } = await ctx.admin.createOrUpdateTopic(spec, target);
      if (ctx.asJson({ topic: f.topic, brokerAddrs: [target.brokerAddr], oldPerm, perm: f.perm, topicConfig: config })) return;
      ctx.p('update topic perm from %s to %s in %s success.%n', oldPerm, f.perm, target.brokerAddr);
      ctx.p('%s.%n', topicConfigString(config));
      return;
    }
    const { config, brokerAddrs } = await ctx.admin.createOrUpdateTopic(spec, target);
    if (ctx.asJson({ topic: f.topic, brokerAddrs, oldPerm: first.perm, perm: f.perm, topicConfig: config })) return;
    for (const addr of brokerAddrs) ctx.p('update topic perm from %s to %s in %s success.%n', first.perm, f.perm, addr);
  });

  sub<CommonFlags & { topic: string; clusterName: string }>('deleteTopic', 'Delete topic from broker and NameServer.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-c, --clusterName <name>', 'delete topic from which cluster', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const brokers = await ctx.admin.deleteTopic(f.topic, f.clusterName);
    if (ctx.asJson({ topic: f.topic, clusterName: f.clusterName, brokerAddrs: brokers })) return;
    ctx.p('delete topic [%s] from cluster [%s] success.%n', f.topic, f.clusterName);
    ctx.p('delete topic [%s] from NameServer success.%n', f.topic);
  });

  sub<CommonFlags & { clusterModel?: boolean }>('topicList', 'Fetch all topic list from name server.', (c) => c
    .option('-c, --clusterModel', 'clusterModel'),
  async (ctx, f) => {
    ctx.needNamesrv();
    const topics = await ctx.admin.fetchAllTopicList();
    if (!f.clusterModel) {
      if (ctx.asJson({ topicList: topics })) return;
      for (const t of topics) ctx.p('%s%n', t);
      return;
    }
    const ci = await ctx.admin.examineBrokerClusterInfo();
    const rows: Array<{ cluster: string; topic: string; group: string }> = [];
    for (const topic of topics) {
      if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) continue;
      let cluster = '';
      let groups: string[] = [];
      try {
        const route = await ctx.admin.examineTopicRouteInfo(topic);
        const brokerName = route.brokerDatas[0]?.brokerName;
        cluster = Object.entries(ci.clusterAddrTable).find(([, names]) => brokerName !== undefined && names.includes(brokerName))?.[0] ?? '';
        const addr = route.brokerDatas.map(masterAddrOf).find((a) => !!a);
        if (addr) groups = await ctx.admin.api.queryTopicConsumeByWho(addr, topic);
      } catch {
        // As upstream: a topic whose cluster or groups cannot be told is listed without them.
      }
      for (const group of groups.length > 0 ? groups : ['']) rows.push({ cluster, topic, group });
    }
    if (ctx.asJson(rows)) return;
    ctx.p('%-20s  %-48s  %-48s%n', '#Cluster Name', '#Topic', '#Consumer Group');
    for (const r of rows) ctx.p('%-20s  %-64s  %-64s%n', front(r.cluster, 20), front(r.topic, 64), front(r.group, 64));
  });

  sub<CommonFlags & { topic: string; list?: boolean }>('topicRoute', 'Examine topic route info.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-l, --list', 'Use list format to print data'),
  async (ctx, f) => {
    ctx.needNamesrv();
    const route = await ctx.admin.examineTopicRouteInfo(f.topic);
    if (ctx.asJson(route)) return;
    if (!f.list) {
      ctx.p('%s%n', JSON.stringify(routeForPrint(route), null, '\t'));
      return;
    }
    const FORMAT = '%-45s %-32s %-50s %-10s %-11s %-5s%n';
    ctx.p(FORMAT, '#ClusterName', '#BrokerName', '#BrokerAddrs', '#ReadQueue', '#WriteQueue', '#Perm');
    let totalRead = 0;
    let totalWrite = 0;
    const qds = new Map(route.queueDatas.map((q) => [q.brokerName, q]));
    for (const bd of [...route.brokerDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1))) {
      const qd = qds.get(bd.brokerName);
      if (!qd) continue;
      totalRead += qd.readQueueNums;
      totalWrite += qd.writeQueueNums;
      ctx.p(FORMAT, bd.cluster, bd.brokerName, javaMap(bd.brokerAddrs), qd.readQueueNums, qd.writeQueueNums, qd.perm);
    }
    ctx.p('%s%n', '-'.repeat(158));
    ctx.p(FORMAT, 'Total:', qds.size, '', totalRead, totalWrite, '');
  });

  sub<CommonFlags & { topic: string; cluster?: string }>('topicStatus', 'Examine topic Status info.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-c, --cluster <name>', 'cluster name (the route of this name selects the brokers)', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const stats = await ctx.admin.examineTopicStats(f.topic);
    const rows = [...stats.offsetTable.values()].sort((a, b) => compareMessageQueue(a.mq, b.mq));
    if (ctx.asJson({ topic: f.topic, offsetTable: rows, topicPutTps: stats.topicPutTps ?? 0 })) return;
    ctx.p('%-32s  %-4s  %-20s  %-20s    %s%n', '#Broker Name', '#QID', '#Min Offset', '#Max Offset', '#Last Updated');
    for (const { mq, offset } of rows) {
      ctx.p('%-32s  %-4d  %-20d  %-20d    %s%n', front(mq.brokerName, 32), mq.queueId, offset.minOffset, offset.maxOffset,
        offset.lastUpdateTimestamp > 0 ? humanTime(offset.lastUpdateTimestamp) : '');
    }
    ctx.p('%n');
    ctx.p('Topic Put TPS: %s%n', (stats.topicPutTps ?? 0).toFixed(1));
  });

  sub<CommonFlags & { topic: string }>('topicClusterList', 'Get cluster info for topic.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const clusters = await ctx.admin.getTopicClusterList(f.topic);
    if (ctx.asJson({ topic: f.topic, clusters })) return;
    for (const c of clusters) ctx.p('%s%n', c);
  });

  sub<CommonFlags & { topic: string; orderConf?: string; method: string }>('updateOrderConf', 'Create or update or delete order conf.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-v, --orderConf <conf>', 'set order conf [eg. brokerName1:num;brokerName2:num]')
    .requiredOption('-m, --method <method>', 'option type [eg. put|get|delete', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const topic = f.topic.trim();
    // The order conf is the NameServers' KV entry ORDER_TOPIC_CONFIG/<topic>, which routes carry as orderTopicConf.
    switch (f.method.trim()) {
      case 'get': {
        const orderConf = await ctx.admin.getKvConfig(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
        if (orderConf === undefined) throw new CliError(`topic ${topic} has no orderConf; set one with -m put -v brokerName:num`);
        if (ctx.asJson({ topic, orderConf })) return;
        ctx.p('get orderConf success. topic=[%s], orderConf=[%s] ', topic, orderConf);
        return;
      }
      case 'put': {
        const orderConf = f.orderConf?.trim() ?? '';
        if (!orderConf) throw new CliError('please set orderConf with option -v.');
        // brokerName:queueNums pairs, as the route's orderTopicConf is read.
        for (const part of orderConf.split(';')) {
          if (!/^[^:;]+:\d+$/.test(part.trim())) throw new CliError(`orderConf part "${part}" must look like brokerName:queueNums (several: brokerName1:num;brokerName2:num)`);
        }
        await ctx.admin.createOrUpdateOrderConf(topic, orderConf);
        if (ctx.asJson({ topic, orderConf })) return;
        ctx.p('update orderConf success. topic=[%s], orderConf=[%s]', topic, orderConf);
        return;
      }
      case 'delete':
        await ctx.admin.deleteKvConfig(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
        if (ctx.asJson({ topic, deleted: true })) return;
        ctx.p('delete orderConf success. topic=[%s]', topic);
        return;
      default:
        throw new CliError(`-m ${f.method} is not a method: use put, get or delete`);
    }
  });

  sub<CommonFlags & { topic: string; ipList: string }>('allocateMQ', 'Allocate MQ.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-i, --ipList <ips>', 'ipList', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const ips = f.ipList.trim().split(',');
    const route = await ctx.admin.examineTopicRouteInfo(f.topic);
    const mqs = topicRouteData2TopicSubscribeInfo(f.topic, route).sort(compareMessageQueue);
    // As upstream: each ip's share under AllocateMessageQueueAveragely, as if they were the group's clients.
    const averagely = new AllocateMessageQueueAveragely();
    const result: Record<string, Array<{ brokerName: string; queueId: number; topic: string }>> = {};
    for (const ip of ips) result[ip] = averagely.allocate('aa', ip, mqs, ips).map((mq) => ({ brokerName: mq.brokerName, queueId: mq.queueId, topic: mq.topic }));
    if (ctx.asJson({ result })) return;
    ctx.p('%s%n', JSON.stringify({ result }));
  });

}

/** Upstream `TopicConfig.toString`. */
function topicConfigString(config: TopicConfig): string {
  return `TopicConfig [topicName=${config.topicName}, readQueueNums=${config.readQueueNums}, writeQueueNums=${config.writeQueueNums}, `
    + `perm=${perm2String(config.perm)}, topicFilterType=${config.topicFilterType}, topicSysFlag=${config.topicSysFlag}, order=${config.order}, `
    + `attributes=${javaMap(config.attributes ?? {})}]`;
}

/** A route as upstream's `toJson(true)` shows it: keys sorted. */
function routeForPrint(route: TopicRouteData): unknown {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    return v;
  };
  return sortKeys(route);
}

// ---- clusters and brokers ----

function registerClusterAndBrokerCommands(sub: Sub): void {
  sub<CommonFlags & { moreStats?: boolean; interval?: number; clusterName?: string }>('clusterList', 'List cluster infos.', (c) => c
    .option('-m, --moreStats', 'Print more stats')
    .option('-i, --interval <seconds>', 'specify intervals numbers, it is in seconds', parseIntFlag)
    .option('-c, --clusterName <name>', 'which cluster', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    for (let round = 0; ; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, (f.interval ?? 1) * 1000));
      await printClusterList(ctx, f.clusterName, f.moreStats === true);
      if (f.interval === undefined) break;
    }
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string }>('brokerStatus', 'Fetch broker runtime status data.', (c) => c
    .option('-b, --brokerAddr <addr>', 'Broker address', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'which cluster', parseNonEmptyFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'read the status');
    const addrs = 'brokerAddr' in target ? [target.brokerAddr] : await ctx.admin.brokerAddrsOfCluster(target.clusterName);
    const all: Record<string, Record<string, string>> = {};
    for (const addr of addrs) all[addr] = await ctx.admin.fetchBrokerRuntimeStats(addr);
    if (ctx.asJson(all)) return;
    for (const addr of addrs) {
      const kv = all[addr]!;
      for (const k of Object.keys(kv).sort()) {
        if ('brokerAddr' in target) ctx.p('%-32s: %s%n', k, kv[k]);
        else ctx.p('%-24s %-32s: %s%n', addr, k, kv[k]);
      }
    }
  });

  sub<CommonFlags & { activeTopic?: boolean; topic?: string }>('statsAll', 'Topic and Consumer tps stats.', (c) => c
    .option('-a, --activeTopic', 'print active topic only')
    .option('-t, --topic <topic>', 'print select topic only', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const rows: StatsAllRow[] = [];
    for (const topic of await ctx.admin.fetchAllTopicList()) {
      if (topic.startsWith(RETRY_GROUP_TOPIC_PREFIX) || topic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) continue;
      if (f.topic !== undefined && topic !== f.topic) continue;
      try {
        rows.push(...await statsAllRows(ctx.admin, topic, f.activeTopic ?? false));
      } catch {
        // As upstream: a topic whose route or groups cannot be read is left out.
      }
    }
    if (ctx.asJson(rows)) return;
    ctx.p('%-64s  %-64s %12s %11s %11s %14s %14s%n', '#Topic', '#Consumer Group', '#Accumulation', '#InTPS', '#OutTPS', '#InMsg24Hour', '#OutMsg24Hour');
    for (const r of rows) {
      if (r.group === undefined) {
        ctx.p('%-64s  %-64s %12d %11.2f %11s %14d %14s%n', front(r.topic, 64), '', 0, r.inTps, '', r.inMsg24Hour, 'NO_CONSUMER');
      } else {
        ctx.p('%-64s  %-64s %12d %11.2f %11.2f %14d %14d%n', front(r.topic, 64), front(r.group, 64), r.accumulation, r.inTps, r.outTps, r.inMsg24Hour, r.outMsg24Hour);
      }
    }
  });

  sub<CommonFlags & { brokerAddr: string; timeoutMillis?: number; level?: number; order?: boolean }>('brokerConsumeStats', 'Fetch broker consume stats data.', (c) => c
    .requiredOption('-b, --brokerAddr <addr>', 'Broker address', parseNonEmptyFlag)
    .option('-t, --timeoutMillis <ms>', 'request timeout Millis', parseIntFlag)
    .option('-l, --level <diff>', 'threshold of print diff', parseIntFlag)
    .option('-o, --order <bool>', 'order topic', parseBoolFlag),
  async (ctx, f) => {
    const stats = await ctx.admin.fetchConsumeStatsInBroker(f.brokerAddr.trim(), f.order ?? false, f.timeoutMillis ?? 50_000);
    const level = f.level ?? 0;
    const rows: Array<{ topic: string; group: string; brokerName: string; queueId: number; brokerOffset: number; consumerOffset: number; diff: number; lastTimestamp: number }> = [];
    for (const groups of stats.consumeStatsList) {
      for (const [group, perTopic] of groups) {
        for (const cs of perTopic) {
          const entries = [...cs.offsetTable.values()].sort((a, b) => compareMessageQueue(a.mq, b.mq));
          for (const { mq, offset } of entries) {
            const diff = offset.brokerOffset - offset.consumerOffset;
            // As upstream: rows under the -l threshold and queues never consumed are not printed.
            if (diff < level || offset.lastTimestamp <= 0) continue;
            rows.push({ topic: mq.topic, group, brokerName: mq.brokerName, queueId: mq.queueId, brokerOffset: offset.brokerOffset, consumerOffset: offset.consumerOffset, diff, lastTimestamp: offset.lastTimestamp });
          }
        }
      }
    }
    if (ctx.asJson({ brokerAddr: stats.brokerAddr, rows, totalDiff: stats.totalDiff })) return;
    ctx.p('%-64s  %-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s%n', '#Topic', '#Group', '#Broker Name', '#QID', '#Broker Offset', '#Consumer Offset', '#Diff', '#LastTime');
    for (const r of rows) {
      ctx.p('%-64s  %-64s  %-32s  %-4d  %-20d  %-20d  %-20d  %s%n', front(r.topic, 64), r.group, front(r.brokerName, 32), r.queueId, r.brokerOffset, r.consumerOffset, r.diff, dateTime(r.lastTimestamp));
    }
    ctx.p('%nDiff Total: %d%n', stats.totalDiff);
  });

  sub<CommonFlags & { topic: string; queue: number; index: number; count?: number; broker?: string; consumer?: string }>('queryCq', 'Query cq command.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-q, --queue <queueId>', 'queue num, ie. 1', parseIntFlag)
    .requiredOption('-i, --index <index>', 'start queue index.', parseIntFlag)
    .option('-c, --count <n>', 'how many.', parseIntFlag)
    .option('-b, --broker <addr>', 'broker addr.', parseNonEmptyFlag)
    .option('-g, --consumer <group>', 'consumer group.', parseNonEmptyFlag),
  async (ctx, f) => {
    const topic = f.topic.trim();
    let addr = f.broker?.trim();
    if (!addr) {
      // As upstream: without -b, the first broker of the route (its master).
      ctx.needNamesrv();
      const route = await ctx.admin.examineTopicRouteInfo(topic);
      addr = route.brokerDatas.map(masterAddrOf).find((a): a is string => !!a);
      if (!addr) throw new CliError(`topic ${topic} has no master broker online; give one with -b`);
    }
    const r = await ctx.admin.api.queryConsumeQueue(addr, { topic, queueId: f.queue, index: f.index, count: f.count ?? 10, consumerGroup: f.consumer?.trim() });
    if (ctx.asJson(r)) return;
    const line = '======================================\n';
    if (r.subscriptionData) ctx.p('Subscription data: \n%s\n%s', JSON.stringify(r.subscriptionData, null, '\t'), line);
    if (r.filterData !== undefined) ctx.p('Filter data: \n%s\n%s', r.filterData, line);
    ctx.p('Queue data: \nmax: %d, min: %d\n%s', r.maxQueueIndex, r.minQueueIndex, line);
    if (r.queueData.length === 0 && r.remark) ctx.p('%s%n', r.remark);
    r.queueData.forEach((e, i) => {
      ctx.p('idx: %d\nConsumeQueueData{physicOffset=%d, physicSize=%d, tagsCode=%d, extendDataJson=\'%s\', bitMap=\'%s\', eval=%s, msg=\'%s\'}\n%s',
        f.index + i, e.physicOffset, e.physicSize, e.tagsCode, e.extendDataJson ?? 'null', e.bitMap ?? 'null', String(e.eval), e.msg ?? 'null', line);
    });
  });

  sub<CommonFlags & { brokerName: string; messageSize?: number; count?: number }>('sendMsgStatus', 'Send msg to broker.', (c) => c
    .requiredOption('-b, --brokerName <name>', 'Broker Name e.g. clusterName_brokerName as DefaultCluster_broker-a', parseNonEmptyFlag)
    .option('-s, --messageSize <n>', 'Message Size, Default: 128', parseIntFlag)
    .option('-c, --count <n>', 'send message count, Default: 50', parseIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const size = f.messageSize ?? 128;
    const count = f.count ?? 50;
    if (size < 0 || count < 0) throw new CliError('-s and -c must not be negative');
    // As upstream: the messages go to the topic named after the broker, which every broker has.
    const topic = f.brokerName.trim();
    const producer = new Producer({ group: 'PID_SMSC', instanceName: `PID_SMSC_${Date.now()}`, namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await producer.start();
    const results = [];
    try {
      await producer.send(helloJodie(topic, 16));
      for (let i = 0; i < count; i++) {
        const begin = Date.now();
        const r = await producer.send(helloJodie(topic, size));
        const rt = Date.now() - begin;
        results.push({ rt, sendResult: r });
        if (!ctx.json) ctx.p('rt=%sms, SendResult=%s%n', rt, sendResultString(r));
      }
    } finally {
      await producer.shutdown();
    }
    ctx.asJson(results);
  });

  sub<CommonFlags & { amount?: number; size?: number; cluster?: string; printLog?: boolean; machineRoom?: string; interval?: number; rounds?: number }>('clusterRT', 'List All clusters Message Send RT.', (c) => c
    .option('-a, --amount <n>', 'message amount | default 100', parseIntFlag)
    .option('-s, --size <n>', 'message size | default 128 Byte', parseIntFlag)
    .option('-c, --cluster <name>', 'cluster name | default display all cluster', parseNonEmptyFlag)
    .option('-p, --printLog <bool>', 'print as tlog | default false', parseBoolFlag)
    .option('-m, --machineRoom <name>', 'machine room name | default noname', parseNonEmptyFlag)
    .option('-i, --interval <seconds>', 'print interval | default 10 seconds', parseIntFlag)
    .option('-r, --rounds <n>', 'stop after this many rounds (not upstream) | default: run until interrupted', parseIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const amount = f.amount ?? 100;
    const size = f.size ?? 128;
    if (amount <= 0 || size < 0) throw new CliError('-a must be positive and -s not negative');
    if (f.rounds !== undefined && f.rounds <= 0) throw new CliError('-r must be positive');
    const ci = await ctx.admin.examineBrokerClusterInfo();
    const clusters = f.cluster ? [f.cluster.trim()] : Object.keys(ci.clusterAddrTable);
    for (const c of clusters) if (!ci.clusterAddrTable[c]) throw new CliError(`cluster [${c}] not exist`);
    const producer = new Producer({ group: String(Date.now()), namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await producer.start();
    try {
      if (!f.printLog && !ctx.json) ctx.p('%-24s  %-24s  %-4s  %-8s  %-8s%n', '#Cluster Name', '#Broker Name', '#RT', '#successCount', '#failCount');
      for (let round = 0; f.rounds === undefined || round < f.rounds; round++) {
        if (round > 0) await new Promise((r) => setTimeout(r, (f.interval ?? 10) * 1000));
        const rows = [];
        for (const clusterName of clusters) {
          for (const brokerName of ci.clusterAddrTable[clusterName] ?? []) {
            // As upstream: to the topic named after the broker; the first send's time is not counted.
            const body = Buffer.alloc(size, 'a');
            let elapsed = 0;
            let successCount = 0;
            let failCount = 0;
            for (let i = 0; i < amount; i++) {
              const start = Date.now();
              try {
                await producer.send(new Message(brokerName, body));
                successCount++;
              } catch {
                failCount++;
              }
              if (i !== 0) elapsed += Date.now() - start;
            }
            const rt = elapsed / (amount - 1);
            rows.push({ clusterName, brokerName, rt, successCount, failCount });
            if (ctx.json) continue;
            if (f.printLog) ctx.p('%s|%s|%s|%s|%s%n', chinaTime(Date.now()), f.machineRoom ?? 'noname', clusterName, brokerName, Math.round(rt));
            else ctx.p('%-24s  %-24s  %-8s  %-16s  %-16s%n', clusterName, brokerName, rt.toFixed(2), successCount, failCount);
          }
        }
        // One JSON document per round, since the rounds go on until interrupted.
        ctx.asJson(rows);
      }
    } finally {
      await producer.shutdown();
    }
  });

  // Store maintenance (upstream CleanExpiredCQSubCommand, DeleteExpiredCommitLogSubCommand,
  // CleanUnusedTopicCommand): -b one broker, else every broker of -c, else of every cluster;
  // "success" (no new line) as upstream prints it.
  const maintenance = (name: string, desc: string, kind: 'cleanExpiredConsumeQueue' | 'deleteExpiredCommitLog' | 'cleanUnusedTopic', clusterDesc: string): void => {
    sub<CommonFlags & { brokerAddr?: string; cluster?: string }>(name, desc, (c) => c
      .option('-b, --brokerAddr <addr>', 'Broker address', parseNonEmptyFlag)
      .option('-c, --cluster <name>', clusterDesc, parseNonEmptyFlag),
    async (ctx, f) => {
      // As upstream: -b wins over -c.
      const target: AdminTarget | undefined = f.brokerAddr ? { brokerAddr: f.brokerAddr.trim() } : f.cluster ? { clusterName: f.cluster.trim() } : undefined;
      if (!target || 'clusterName' in target) ctx.needNamesrv();
      const brokerAddrs = await ctx.admin.storeMaintenance(kind, target);
      if (ctx.asJson({ brokerAddrs, result: brokerAddrs.length > 0 })) return;
      ctx.p('%s', brokerAddrs.length > 0 ? 'success' : 'false');
    });
  };
  maintenance('cleanExpiredCQ', 'Clean expired ConsumeQueue on broker.', 'cleanExpiredConsumeQueue', 'clustername');
  maintenance('deleteExpiredCommitLog', 'Delete expired CommitLog files.', 'deleteExpiredCommitLog', 'clustername');
  maintenance('cleanUnusedTopic', 'Clean unused topic on broker.', 'cleanUnusedTopic', 'cluster name');
}

async function printClusterList(ctx: Ctx, clusterName: string | undefined, more: boolean): Promise<void> {
  const ci = await ctx.admin.examineBrokerClusterInfo();
  const clusters = clusterName ? [clusterName] : Object.keys(ci.clusterAddrTable).sort();
  const rows: Array<{ cluster: string; brokerName: string; brokerId: string; addr: string; kv?: Record<string, string> }> = [];
  for (const cluster of clusters) {
    for (const brokerName of [...(ci.clusterAddrTable[cluster] ?? [])].sort()) {
      const bd = ci.brokerAddrTable[brokerName];
      if (!bd) continue;
      for (const [brokerId, addr] of Object.entries(bd.brokerAddrs)) {
        const kv = await ctx.admin.fetchBrokerRuntimeStats(addr).catch(() => undefined);
        rows.push({ cluster, brokerName, brokerId, addr, kv });
      }
    }
  }
  if (ctx.asJson(rows)) return;
  const num = (kv: Record<string, string> | undefined, k: string): number => Number(kv?.[k] ?? 0) || 0;
  if (more) {
    ctx.p('%-16s  %-32s %14s %14s %14s %14s%n', '#Cluster Name', '#Broker Name', '#InTotalYest', '#OutTotalYest', '#InTotalToday', '#OutTotalToday');
    for (const r of rows) {
      ctx.p('%-16s  %-32s %14d %14d %14d %14d%n', r.cluster, r.brokerName,
        num(r.kv, 'msgPutTotalTodayMorning') - num(r.kv, 'msgPutTotalYesterdayMorning'),
        num(r.kv, 'msgGetTotalTodayMorning') - num(r.kv, 'msgGetTotalYesterdayMorning'),
        num(r.kv, 'msgPutTotalTodayNow') - num(r.kv, 'msgPutTotalTodayMorning'),
        num(r.kv, 'msgGetTotalTodayNow') - num(r.kv, 'msgGetTotalTodayMorning'));
    }
    return;
  }
  ctx.p('%-22s  %-22s  %-4s  %-22s %-16s  %16s  %30s  %-22s  %-11s  %-12s  %-8s  %-10s%n',
    '#Cluster Name', '#Broker Name', '#BID', '#Addr', '#Version', '#InTPS(LOAD)', '#OutTPS(LOAD)', '#Timer(Progress)', '#PCWait(ms)', '#Hour', '#SPACE', '#ACTIVATED');
  for (const r of rows) {
    const kv = r.kv ?? {};
    const tps = (k: string): number => Number((kv[k] ?? '0').split(' ')[0]) || 0;
    const earliest = Number(kv.earliestMessageTimeStamp ?? 0);
    const hour = earliest > 0 ? (Date.now() - earliest) / 3_600_000 : 0;
    ctx.p('%-22s  %-22s  %-4s  %-22s %-16s  %16s  %30s  %-22s  %11s  %-12s  %-8s  %10s%n',
      r.cluster, r.brokerName, r.brokerId, r.addr, kv.brokerVersionDesc ?? '',
      `${tps('putTps').toFixed(2).padStart(9)}(${kv.sendThreadPoolQueueSize ?? ''},${kv.sendThreadPoolQueueHeadWaitTimeMills ?? ''}ms)`,
      `${tps('getTransferredTps').toFixed(2).padStart(9)}(${kv.pullThreadPoolQueueSize ?? ''},${kv.pullThreadPoolQueueHeadWaitTimeMills ?? ''}ms|${kv.ackThreadPoolQueueSize ?? 'N'},${kv.ackThreadPoolQueueHeadWaitTimeMills ?? 'N'}ms)`,
      `${kv.timerReadBehind ?? 0}-${kv.timerOffsetBehind ?? 0}(${(num(kv, 'timerCongestNum') / 10000).toFixed(1)}w, ${num(kv, 'timerEnqueueTps').toFixed(1)}, ${num(kv, 'timerDequeueTps').toFixed(1)})`,
      kv.pageCacheLockTimeMills ?? '', hour.toFixed(2), num(kv, 'commitLogDiskRatio').toFixed(4), kv.brokerActive === 'true');
  }
}

// ---- broker and NameServer configuration, KV config, write permission ----

/** `-n` as upstream's config commands read it: the NameServers named on the command line, or undefined when none were. */
function namedServers(flags: CommonFlags): string[] | undefined {
  const list = flags.namesrvAddr?.trim().split(';').map((s) => s.trim()).filter(Boolean);
  return list && list.length > 0 ? list : undefined;
}

/** Upstream `CommandUtil.fetchMasterAndSlaveDistinguish`: each master of the cluster with its slaves. */
async function mastersAndSlaves(ctx: Ctx, clusterName: string): Promise<Array<{ master: string; slaves: string[] }>> {
  await ctx.admin.masterAddrsOfCluster(clusterName); // says which clusters exist when this one does not
  const ci = await ctx.admin.examineBrokerClusterInfo();
  const out: Array<{ master: string; slaves: string[] }> = [];
  for (const name of [...(ci.clusterAddrTable[clusterName] ?? [])].sort()) {
    const bd = ci.brokerAddrTable[name];
    if (!bd) continue;
    const master = masterAddrOf(bd);
    const slaves = Object.entries(bd.brokerAddrs).filter(([id]) => id !== '0').sort(([a], [b]) => Number(a) - Number(b)).map(([, addr]) => addr);
    // As upstream: slaves without a master are listed under a placeholder.
    out.push({ master: master ?? 'NO_MASTER', slaves });
  }
  return out;
}

function printConfigTable(ctx: Ctx, props: Map<string, string>): void {
  for (const [k, v] of props) ctx.p('%-50s=  %s\n', k, v);
}

function registerConfigCommands(sub: Sub): void {
  sub<CommonFlags & { brokerAddr?: string; clusterName?: string }>('getBrokerConfig', 'Get broker config by cluster or special broker.', (c) => c
    .option('-b, --brokerAddr <addr>', 'get which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'get which cluster', parseNonEmptyFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'read the config from');
    const groups = 'brokerAddr' in target ? [{ master: target.brokerAddr, slaves: [] as string[], single: true }]
      : (await mastersAndSlaves(ctx, target.clusterName)).map((g) => ({ ...g, single: false }));
    const all: Record<string, Record<string, string>> = {};
    const lines: string[] = [];
    const show = async (header: string, addr: string): Promise<void> => {
      lines.push(header);
      if (addr === 'NO_MASTER') return;
      const props = await ctx.admin.getBrokerConfig(addr);
      all[addr] = Object.fromEntries(props);
      if (props.size === 0) lines.push(format('Broker[%s] has no config property!\n', addr));
      for (const [k, v] of props) lines.push(format('%-50s=  %s\n', k, v));
      lines.push('\n');
    };
    for (const g of groups) {
      await show(g.single ? format('============%s============\n', g.master) : format('============Master: %s============\n', g.master), g.master);
      for (const slave of g.slaves) await show(format('============My Master: %s=====Slave: %s============\n', g.master, slave), slave);
    }
    if (ctx.asJson(all)) return;
    ctx.io.out(lines.join(''));
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; updateAllBroker?: boolean; key: string; value: string }>('updateBrokerConfig', "Update broker's config.", (c) => c
    .option('-b, --brokerAddr <addr>', 'update which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'update which cluster', parseNonEmptyFlag)
    .option('-a, --updateAllBroker [bool]', 'update all brokers include slave', parseBoolFlag)
    .requiredOption('-k, --key <key>', 'config key', parseNonEmptyFlag)
    .requiredOption('-v, --value <value>', 'config value'),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'update the config');
    const key = f.key.trim();
    const value = f.value.trim();
    // As upstream's Validators.checkBrokerConfig, before anything is sent.
    if (key === 'brokerPermission' && !(/^\d+$/.test(value) && Number(value) < 8)) {
      throw new CliError(`brokerPermission value: ${value} is invalid; use 2 (write only), 4 (read only) or 6 (read and write)`);
    }
    const props = new Map([[key, value]]);
    let addrs: string[];
    if ('brokerAddr' in target) addrs = [target.brokerAddr];
    else if (f.updateAllBroker) addrs = await ctx.admin.brokerAddrsOfCluster(target.clusterName);
    else addrs = await ctx.admin.masterAddrsOfCluster(target.clusterName);
    if ('brokerAddr' in target) {
      await ctx.admin.updateBrokerConfig(target.brokerAddr, props);
      if (ctx.asJson({ key, value, updated: addrs, failed: {} })) return;
      ctx.p('update broker config success, %s\n', target.brokerAddr);
      return;
    }
    // As upstream: each broker of the cluster is tried, a failure does not stop the others.
    const updated: string[] = [];
    const failed: Record<string, string> = {};
    for (const addr of addrs) {
      try {
        await ctx.admin.updateBrokerConfig(addr, props);
        updated.push(addr);
        if (!ctx.json) ctx.p('update broker config success, %s\n', addr);
      } catch (err) {
        failed[addr] = explain(err, ctx.io.env) ?? String(err);
        ctx.io.err(`mqadmin updateBrokerConfig: ${addr}: ${failed[addr]}\n`);
      }
    }
    ctx.asJson({ key, value, updated, failed });
    if (Object.keys(failed).length > 0) throw new CliError(`${Object.keys(failed).length} of ${addrs.length} broker(s) did not take the update`);
  });

  sub<CommonFlags>('getNamesrvConfig', 'Get configs of name server.', (c) => c,
    async (ctx, f) => {
      ctx.needNamesrv();
      const configs = await ctx.admin.getNameServerConfig(namedServers(f));
      if (ctx.asJson(configs)) return;
      for (const [addr, props] of configs) {
        ctx.p('============%s============\n', addr);
        printConfigTable(ctx, props);
      }
    });

  sub<CommonFlags & { key: string; value: string }>('updateNamesrvConfig', 'Update configs of name server.', (c) => c
    .requiredOption('-k, --key <key>', 'config key', parseNonEmptyFlag)
    .requiredOption('-v, --value <value>', 'config value'),
  async (ctx, f) => {
    ctx.needNamesrv();
    const key = f.key.trim();
    const value = f.value.trim();
    const servers = namedServers(f);
    const updated = await ctx.admin.updateNameServerConfig(new Map([[key, value]]), servers);
    if (ctx.asJson({ key, value, updated })) return;
    ctx.p('update name server config success!%s\n%s : %s\n', servers ? `[${servers.join(', ')}]` : '', key, value);
  });

  sub<CommonFlags & { namespace: string; key: string; value: string }>('updateKvConfig', 'Create or update KV config.', (c) => c
    .requiredOption('-s, --namespace <namespace>', 'set the namespace', parseNonEmptyFlag)
    .requiredOption('-k, --key <key>', 'set the key name', parseNonEmptyFlag)
    .requiredOption('-v, --value <value>', 'set the key value'),
  async (ctx, f) => {
    ctx.needNamesrv();
    await ctx.admin.createAndUpdateKvConfig(f.namespace.trim(), f.key.trim(), f.value.trim());
    if (ctx.asJson({ namespace: f.namespace.trim(), key: f.key.trim(), value: f.value.trim() })) return;
    ctx.p('create or update kv config to namespace success.%n');
  });

  sub<CommonFlags & { namespace: string; key: string }>('deleteKvConfig', 'Delete KV config.', (c) => c
    .requiredOption('-s, --namespace <namespace>', 'set the namespace', parseNonEmptyFlag)
    .requiredOption('-k, --key <key>', 'set the key name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    await ctx.admin.deleteKvConfig(f.namespace.trim(), f.key.trim());
    if (ctx.asJson({ namespace: f.namespace.trim(), key: f.key.trim(), deleted: true })) return;
    ctx.p('delete kv config from namespace success.%n');
  });

  for (const [name, verb, desc] of [['wipeWritePerm', 'wipe', 'Wipe write perm of broker in all name server you defined in the -n param.'],
    ['addWritePerm', 'add', 'Add write perm of broker in all name server you defined in the -n param.']] as const) {
    sub<CommonFlags & { brokerName: string }>(name, desc, (c) => c
      .requiredOption('-b, --brokerName <name>', 'broker name', parseNonEmptyFlag),
    async (ctx, f) => {
      ctx.needNamesrv();
      const brokerName = f.brokerName.trim();
      await ctx.admin.requireBrokerName(brokerName);
      const results: Record<string, number | string> = {};
      let failures = 0;
      for (const ns of ctx.admin.namesrv.list) {
        try {
          const n = verb === 'wipe' ? await ctx.admin.api.wipeWritePermOfBroker(ns, brokerName) : await ctx.admin.api.addWritePermOfBroker(ns, brokerName);
          results[ns] = n;
          if (!ctx.json) ctx.p('%s write perm of broker[%s] in name server[%s] OK, %d%n', verb, brokerName, ns, n);
        } catch (err) {
          failures++;
          results[ns] = explain(err, ctx.io.env) ?? String(err);
          if (!ctx.json) ctx.p('%s write perm of broker[%s] in name server[%s] Failed%n', verb, brokerName, ns);
          ctx.io.err(`mqadmin ${name}: ${ns}: ${results[ns]}\n`);
        }
      }
      ctx.asJson({ brokerName, topicCounts: results });
      if (failures > 0) throw new CliError(`${failures} NameServer(s) failed`);
    });
  }
}

// ---- consumer groups and offsets ----

function registerGroupCommands(sub: Sub): void {
  sub<CommonFlags & { groupName?: string; topicName?: string; showClientIP?: boolean; cluster?: string }>('consumerProgress', "Query consumer's progress, speed.", (c) => c
    .option('-g, --groupName <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-t, --topicName <topic>', 'topic name', parseNonEmptyFlag)
    .option('-s, --showClientIP <bool>', 'Show Client IP per Queue', parseBoolFlag)
    .option('-c, --cluster <name>', 'cluster name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    if (!f.groupName) {
      const infos = await ctx.admin.examineGroupConsumeInfos();
      if (ctx.asJson(infos)) return;
      ctx.p('%-64s  %-6s  %-24s %-5s  %-14s  %-7s  %s%n', '#Group', '#Count', '#Version', '#Type', '#Model', '#TPS', '#Diff Total');
      for (const i of infos) {
        const type = i.count > 0 ? (i.consumeType === 'CONSUME_ACTIVELY' ? 'PULL' : i.consumeType ? 'PUSH' : '') : '';
        const model = i.count > 0 && i.consumeType === 'CONSUME_PASSIVELY' ? (i.messageModel ?? '') : '';
        ctx.p('%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %d%n', front(i.group, 64), i.count, i.count > 0 ? versionDesc(i.version) : 'OFFLINE',
          type, model, Math.trunc(i.consumeTps), i.diffTotal);
      }
      return;
    }
    const stats = await ctx.admin.examineConsumeStats(f.groupName, f.topicName);
    const rows = [...stats.offsetTable.values()].sort((a, b) => compareMessageQueue(a.mq, b.mq));
    // Which client holds which queue only the clients know: each is asked (GET_CONSUMER_RUNNING_INFO).
    const clientOf = f.showClientIP ? await queueOwners(ctx, f.groupName) : undefined;
    if (ctx.asJson({ group: f.groupName, consumeTps: stats.consumeTps, offsetTable: rows.map((r) => ({ ...r, diff: r.offset.brokerOffset - r.offset.consumerOffset })) })) return;
    printProgress(ctx, stats, rows, clientOf);
  });

  sub<CommonFlags & { consumerGroup: string; brokerAddr?: string }>('consumerConnection', "Query consumer's socket connection, client version and subscription.", (c) => c
    .requiredOption('-g, --consumerGroup <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-b, --brokerAddr <addr>', 'broker address', parseNonEmptyFlag),
  async (ctx, f) => {
    if (!f.brokerAddr) ctx.needNamesrv();
    const cc = await ctx.admin.examineConsumerConnectionInfo(f.consumerGroup, f.brokerAddr);
    if (ctx.asJson(cc)) return;
    const na = (s: string): string => (cc.idsOnly ? 'N/A' : s);
    ctx.p('%-36s %-22s %-10s %s%n', '#ClientId', '#ClientAddr', '#Language', '#Version');
    for (const conn of cc.connectionSet) ctx.p('%-36s %-22s %-10s %s%n', conn.clientId, na(conn.clientAddr), na(conn.language), na(versionDesc(conn.version)));
    ctx.p('%nBelow is subscription:\n');
    ctx.p('%-20s %s%n', '#Topic', '#SubExpression');
    for (const sd of cc.subscriptionTable.values()) ctx.p('%-20s %s%n', sd.topic, sd.subString);
    ctx.p('\n');
    ctx.p('ConsumeType: %s%n', cc.consumeType ?? 'N/A');
    ctx.p('MessageModel: %s%n', cc.messageModel ?? 'N/A');
    ctx.p('ConsumeFromWhere: %s%n', cc.consumeFromWhere ?? 'N/A');
    if (cc.idsOnly) ctx.p('%n(the broker lacks GET_CONSUMER_CONNECTION_LIST: only client ids are known)%n');
  });

  sub<CommonFlags & { consumerGroup: string; clientId?: string; brokerAddr?: string; jstack?: boolean }>('consumerStatus', "Query consumer's internal data structure.", (c) => c
    .requiredOption('-g, --consumerGroup <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-i, --clientId <id>', "The consumer's client id", parseNonEmptyFlag)
    .option('-b, --brokerAddr <addr>', 'broker address', parseNonEmptyFlag)
    .option('-s, --jstack', 'Run jstack command in the consumer progress (a Node client sends its stack report)'),
  async (ctx, f) => {
    ctx.needNamesrv();
    const jstack = f.jstack === true;
    if (f.clientId) {
      const info = await ctx.admin.getConsumerRunningInfo(f.consumerGroup, f.clientId, jstack);
      if (ctx.asJson(info)) return;
      ctx.p('%s', formatConsumerRunningInfo(info));
      return;
    }
    const cc = await ctx.admin.examineConsumerConnectionInfo(f.consumerGroup, f.brokerAddr);
    const byClient = new Map<string, ConsumerRunningInfo>();
    const files: Array<{ clientId: string; version: number; file: string }> = [];
    const now = Date.now();
    for (const conn of [...cc.connectionSet].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))) {
      try {
        byClient.set(conn.clientId, await ctx.admin.getConsumerRunningInfo(f.consumerGroup, conn.clientId, jstack));
        files.push({ clientId: conn.clientId, version: conn.version, file: `${now}/${conn.clientId}` });
      } catch (err) {
        ctx.logger.warn(`consumer ${conn.clientId} did not report: ${(err as Error).message}`);
      }
    }
    const subSame = byClient.size === 0 || analyzeSubscription(byClient);
    const stuck = subSame ? [...byClient].flatMap(([id, info]) => analyzeProcessQueue(id, info)) : [];
    if (ctx.asJson({ consumerRunningInfo: Object.fromEntries(byClient), sameSubscription: subSame, rebalanceOK: subSame, warnings: stuck })) return;
    // As upstream: each client's report goes to the file <now>/<clientId>, the table lists them.
    ctx.p('%-10s %-40s %-20s %s%n', '#Index', '#ClientId', '#Version', '#ConsumerRunningInfoFile');
    if (files.length > 0) mkdirSync(String(now), { recursive: true });
    files.forEach((e, i) => {
      writeFileSync(e.file, formatConsumerRunningInfo(byClient.get(e.clientId)!));
      ctx.p('%-10d %-40s %-20s %s%n', i + 1, e.clientId, versionDesc(e.version), e.file);
    });
    if (byClient.size === 0) return;
    if (subSame) {
      ctx.p('%n%nSame subscription in the same group of consumer');
      ctx.p('%n%nRebalance %s%n', 'OK');
      for (const line of stuck) ctx.p('%s%n', line);
    } else {
      ctx.p('%n%nWARN: Different subscription in the same group of consumer!!!');
    }
  });

  sub<CommonFlags & { producerGroup: string; topic: string }>('producerConnection', "Query producer's socket connection and client version.", (c) => c
    .requiredOption('-g, --producerGroup <group>', 'producer group name', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const pc = await ctx.admin.examineProducerConnectionInfo(f.producerGroup, f.topic);
    if (ctx.asJson(pc)) return;
    pc.connectionSet.forEach((conn, i) => ctx.p('%04d  %-32s %-22s %-8s %s%n', String(i + 1).padStart(4, '0'), conn.clientId, conn.clientAddr, conn.language, versionDesc(conn.version)));
  });

  sub<CommonFlags & { broker: string }>('producer', "Query producer's instances, connection, status, etc.", (c) => c
    .requiredOption('-b, --broker <addr>', 'broker address', parseNonEmptyFlag),
  async (ctx, f) => {
    const table = await ctx.admin.getAllProducerInfo(f.broker.trim());
    if (ctx.asJson(table)) return;
    for (const [group, list] of table) {
      if (list.length === 0) ctx.p('producer group (%s) instances are empty\n', group);
      for (const p of list) ctx.p('producer group (%s) instance : %s\n', group, producerInfoString(p));
    }
  });

  sub<CommonFlags & { groupName: string }>('getConsumerConfig', 'Get consumer config by subscription group name.', (c) => c
    .requiredOption('-g, --groupName <group>', 'subscription group name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const group = f.groupName.trim();
    const ci = await ctx.admin.examineBrokerClusterInfo();
    const found: Array<{ clusterName: string; brokerName: string; config: SubscriptionGroupConfig }> = [];
    for (const [brokerName, bd] of Object.entries(ci.brokerAddrTable)) {
      const addr = selectBrokerAddr(bd);
      if (!addr) continue;
      try {
        const config = await ctx.admin.examineSubscriptionGroupConfig(addr, group);
        const clusterName = Object.entries(ci.clusterAddrTable).find(([, names]) => names.includes(brokerName))?.[0] ?? 'null';
        found.push({ clusterName, brokerName, config });
      } catch (err) {
        if (err instanceof MQBrokerError && err.responseCode === ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST) continue;
        throw err;
      }
    }
    if (found.length === 0) throw new CliError(`no broker has subscription group ${group}; create it with updateSubGroup`);
    if (ctx.asJson(found)) return;
    for (const info of found) {
      ctx.p('=============================%s:%s=============================\n', info.clusterName, info.brokerName);
      for (const [k, v] of subscriptionGroupFields(info.config)) ctx.p('%s%-40s=  %s\n', '', k, v);
    }
  });

  interface ResetFlags extends CommonFlags {
    group: string; topic: string; timestamp: number; force?: boolean; broker?: string; queue?: number; offset?: number; cluster?: string;
  }
  sub<ResetFlags>('resetOffsetByTime', 'Reset consumer offset by timestamp(without client restart).', (c) => c
    .requiredOption('-g, --group <group>', 'set the consumer group', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'set the topic', parseNonEmptyFlag)
    .requiredOption('-s, --timestamp <ts>', 'set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-f, --force <bool>', 'set the force rollback by timestamp switch[true|false]. Deprecated.', parseBoolFlag)
    .option('-b, --broker <addr>', 'broker addr', parseNonEmptyFlag)
    .option('-q, --queue <id>', 'queue id', parseIntFlag)
    .option('-o, --offset <offset>', 'Expect queue offset, not support old version broker', parseIntFlag)
    .option('-c, --cluster <name>', 'cluster name', parseNonEmptyFlag),
  async (ctx, f) => {
    const force = f.force ?? true;
    const tsText = ctx.io.env.MQADMIN_TS_TEXT ?? String(f.timestamp);
    if (f.broker && f.queue !== undefined && f.queue >= 0) {
      ctx.p('start reset consumer offset by specified, group[%s], topic[%s], queueId[%s], broker[%s], timestamp(string)[%s], timestamp(long)[%s]%n',
        f.group, f.topic, f.queue, f.broker, tsText, f.timestamp);
      const offset = f.offset ?? await ctx.admin.api.searchOffset(f.broker, f.topic, f.queue, f.timestamp);
      ctx.p('reset consumer offset to %d%n', offset);
      if (offset > 0) await ctx.admin.api.updateConsumerOffset(f.broker, { consumerGroup: f.group, topic: f.topic, queueId: f.queue, commitOffset: offset });
      return;
    }
    ctx.needNamesrv();
    const res = await ctx.admin.resetOffsetByTimestamp(f.topic, f.group, f.timestamp, force);
    if (ctx.asJson(res)) return;
    if (res.mode === 'broker') {
      ctx.p('start reset consumer offset by specified, group[%s], topic[%s], force[%s], timestamp(string)[%s], timestamp(long)[%s]%n', f.group, f.topic, force, tsText, f.timestamp);
      ctx.p('%-40s  %-40s  %-40s%n', '#brokerName', '#queueId', '#offset');
      for (const { mq, offset } of res.offsets) ctx.p('%-40s  %-40d  %-40d%n', front(mq.brokerName, 32), mq.queueId, offset);
      return;
    }
    ctx.p('reset consumer offset by specified consumerGroup[%s], topic[%s], force[%s], timestamp(string)[%s], timestamp(long)[%s]%n', f.group, f.topic, force, tsText, f.timestamp);
    ctx.p('%-20s  %-20s  %-20s  %-20s  %-20s  %-20s%n', '#brokerName', '#queueId', '#brokerOffset', '#consumerOffset', '#timestampOffset', '#resetOffset');
    for (const r of res.rollbackStats) {
      ctx.p('%-20s  %-20d  %-20d  %-20d  %-20d  %-20d%n', front(r.brokerName, 32), r.queueId, r.brokerOffset, r.consumerOffset, r.timestampOffset, r.rollbackOffset);
    }
  });

  interface SubGroupFlags extends CommonFlags {
    brokerAddr?: string; clusterName?: string; groupName: string; consumeEnable?: boolean; consumeFromMinEnable?: boolean; consumeBroadcastEnable?: boolean;
    consumeMessageOrderly?: boolean; retryQueueNums?: number; retryMaxTimes?: number; groupRetryPolicy?: string; brokerId?: number;
    whichBrokerWhenConsumeSlowly?: number; notifyConsumerIdsChanged?: boolean; attributes?: Record<string, string>;
  }
  sub<SubGroupFlags>('updateSubGroup', 'Update or create subscription group.', (c) => c
    .option('-b, --brokerAddr <addr>', 'create subscription group to which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'create subscription group to which cluster', parseNonEmptyFlag)
    .requiredOption('-g, --groupName <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-s, --consumeEnable <bool>', 'consume enable', parseBoolFlag)
    .option('-m, --consumeFromMinEnable <bool>', 'from min offset', parseBoolFlag)
    .option('-d, --consumeBroadcastEnable <bool>', 'broadcast', parseBoolFlag)
    .option('-o, --consumeMessageOrderly <bool>', 'consume message orderly', parseBoolFlag)
    .option('-q, --retryQueueNums <n>', 'retry queue nums', parseIntFlag)
    .option('-r, --retryMaxTimes <n>', 'retry max times', parseIntFlag)
    .option('-p, --groupRetryPolicy <json>', 'the json string of retry policy', parseNonEmptyFlag)
    .option('-i, --brokerId <id>', 'consumer from which broker id', parseIntFlag)
    .option('-w, --whichBrokerWhenConsumeSlowly <id>', 'which broker id when consume slowly', parseIntFlag)
    .option('-a, --notifyConsumerIdsChanged <bool>', 'notify consumerId changed', parseBoolFlag)
    .addOption(new Option('--attributes <attrs>', 'attribute(+a=b,+c=d,-e)').argParser(parseAttributes)),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'create the subscription group');
    let groupRetryPolicy: unknown;
    if (f.groupRetryPolicy !== undefined) {
      try {
        groupRetryPolicy = JSON.parse(f.groupRetryPolicy);
      } catch (err) {
        throw new CliError(`-p is not valid JSON: ${(err as Error).message}`);
      }
    }
    // As upstream's command: broadcast and from-min default to false unless given.
    const cfg: Partial<SubscriptionGroupConfig> & { groupName: string } = {
      groupName: f.groupName, consumeBroadcastEnable: f.consumeBroadcastEnable ?? false, consumeFromMinEnable: f.consumeFromMinEnable ?? false,
    };
    if (f.consumeEnable !== undefined) cfg.consumeEnable = f.consumeEnable;
    if (f.consumeMessageOrderly !== undefined) cfg.consumeMessageOrderly = f.consumeMessageOrderly;
    if (f.retryQueueNums !== undefined) cfg.retryQueueNums = f.retryQueueNums;
    if (f.retryMaxTimes !== undefined) cfg.retryMaxTimes = f.retryMaxTimes;
    if (groupRetryPolicy !== undefined) cfg.groupRetryPolicy = groupRetryPolicy;
    if (f.brokerId !== undefined) cfg.brokerId = f.brokerId;
    if (f.whichBrokerWhenConsumeSlowly !== undefined) cfg.whichBrokerWhenConsumeSlowly = f.whichBrokerWhenConsumeSlowly;
    if (f.notifyConsumerIdsChanged !== undefined) cfg.notifyConsumerIdsChangedEnable = f.notifyConsumerIdsChanged;
    if (f.attributes !== undefined) cfg.attributes = f.attributes;
    const { config, brokerAddrs } = await ctx.admin.createOrUpdateSubscriptionGroup(cfg, target);
    if (ctx.asJson({ brokerAddrs, subscriptionGroupConfig: config })) return;
    for (const addr of brokerAddrs) ctx.p('create subscription group to %s success.%n', addr);
    ctx.p('%s', `SubscriptionGroupConfig [${Object.entries(config).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}]`);
    ctx.p('%n');
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; filename: string }>('updateSubGroupList', 'Update or create subscription group in batch', (c) => c
    .option('-b, --brokerAddr <addr>', 'create groups to which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'create groups to which cluster', parseNonEmptyFlag)
    .requiredOption('-f, --filename <file>',
      'Path to a file with a list of org.apache.rocketmq.remoting.protocol.subscription.SubscriptionGroupConfig in json format', parseNonEmptyFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'create the subscription groups');
    const configs = readConfigListFile(f.filename, 'SubscriptionGroupConfigs') as unknown as SubscriptionGroupConfig[];
    const brokerAddrs = await ctx.admin.createOrUpdateSubscriptionGroupList(configs, target);
    if (ctx.asJson({ brokerAddrs, groups: configs.map((g) => g.groupName) })) return;
    // Upstream's two lines differ in wording (-b: "group config", -c: "subscription group config").
    const what = 'brokerAddr' in target ? 'group config' : 'subscription group config';
    for (const addr of brokerAddrs) ctx.p('submit batch of %s to %s success, please check the result later.%n', what, addr);
  });

  // Upstream StartMonitoringSubCommand has no flags and runs until the process ends; --rounds,
  // --roundInterval and --firstDelay are ours, so a script (or a test) can bound it.
  sub<CommonFlags & { rounds?: number; roundInterval?: number; firstDelay?: number }>('startMonitoring', 'Start Monitoring.', (c) => c
    .option('--rounds <n>', 'stop after n rounds (not upstream; default: until interrupted)', parsePositiveIntFlag)
    .option('--roundInterval <ms>', `ms between rounds (not upstream; default ${DEFAULT_MONITOR_CONFIG.roundInterval})`, parsePositiveIntFlag)
    .option('--firstDelay <ms>', `ms before the first round (not upstream; default ${DEFAULT_MONITOR_CONFIG.firstDelay})`, parseNonNegativeIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    // Upstream DefaultMonitorListener's lines, here on stdout rather than in a log file.
    const PREFIX = '[MONITOR] ';
    const NOTIFY = `${PREFIX} [NOTIFY] `;
    const listener: MonitorListener = {
      beginRound: () => ctx.p('%s%n', `${PREFIX}=========================================beginRound`),
      reportUndoneMsgs: (u) => ctx.p('%s%n', `${PREFIX}reportUndoneMsgs: ${undoneMsgsString(u)}`),
      reportConsumerRunningInfo: (group, byClient) => {
        if (!analyzeSubscription(byClient)) ctx.p('%s%n', `${NOTIFY}reportConsumerRunningInfo: ConsumerGroup: ${group}, Subscription different`);
        for (const [clientId, info] of byClient) {
          const result = analyzeProcessQueue(clientId, info);
          if (result.length > 0) ctx.p('%s%n', `${NOTIFY}reportConsumerRunningInfo: ConsumerGroup: ${group}, ClientId: ${clientId}, ${result.join(' ')}`);
        }
      },
      endRound: () => ctx.p('%s%n', `${PREFIX}=========================================endRound`),
    };
    const consumer = new PullConsumer({ group: 'TOOLS_CONSUMER', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await consumer.start();
    const service = new MonitorService(ctx.admin, consumer, listener, {
      roundInterval: f.roundInterval ?? DEFAULT_MONITOR_CONFIG.roundInterval, firstDelay: f.firstDelay ?? DEFAULT_MONITOR_CONFIG.firstDelay, rounds: f.rounds,
    });
    const stop = (): void => { void service.shutdown(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      service.start();
      await service.done;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await service.shutdown();
      await consumer.shutdown();
    }
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; groupName: string; removeOffset?: boolean }>('deleteSubGroup', 'Delete subscription group from broker.', (c) => c
    .option('-b, --brokerAddr <addr>', 'delete subscription group from which broker', parseNonEmptyFlag)
    .option('-c, --clusterName <name>', 'delete subscription group from which cluster', parseNonEmptyFlag)
    .requiredOption('-g, --groupName <group>', 'subscription group name', parseNonEmptyFlag)
    .option('-r, --removeOffset <bool>', 'remove offset', parseBoolFlag),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'delete the subscription group');
    const addrs = await ctx.admin.deleteSubscriptionGroup(f.groupName, target, f.removeOffset ?? false);
    const removedTopics: string[] = [];
    if (!('brokerAddr' in target)) {
      // As upstream: the group's retry and DLQ topics go too (failures only reported).
      for (const t of [RETRY_GROUP_TOPIC_PREFIX + f.groupName, DLQ_GROUP_TOPIC_PREFIX + f.groupName]) {
        try {
          await ctx.admin.deleteTopic(t, target.clusterName);
          removedTopics.push(t);
        } catch (err) {
          ctx.io.err(`mqadmin deleteSubGroup: deleting topic ${t} failed: ${(err as Error).message}\n`);
        }
      }
    }
    if (ctx.asJson({ groupName: f.groupName, brokerAddrs: addrs, removedTopics })) return;
    for (const addr of addrs) {
      if ('brokerAddr' in target) ctx.p('delete subscription group [%s] from broker [%s] success.%n', f.groupName, addr);
      else ctx.p('delete subscription group [%s] from broker [%s] in cluster [%s] success.%n', f.groupName, addr, target.clusterName);
    }
  });

  sub<CommonFlags & { brokerAddr?: string; clusterName?: string; topicName: string; groupName: string; mode: MessageRequestModeValue; popShareQueueNum?: number }>(
    'setConsumeMode', 'Set consume message mode. pull/pop etc.', (c) => c
      .option('-b, --brokerAddr <addr>', 'create subscription group to which broker', parseNonEmptyFlag)
      .option('-c, --clusterName <name>', 'create subscription group to which cluster', parseNonEmptyFlag)
      .requiredOption('-t, --topicName <topic>', 'topic name', parseNonEmptyFlag)
      .requiredOption('-g, --groupName <group>', 'consumer group name', parseNonEmptyFlag)
      .requiredOption('-m, --mode <mode>', 'consume mode. PULL/POP', parseConsumeModeFlag)
      .option('-q, --popShareQueueNum <n>', 'num of queue which share in pop mode', parseIntFlag),
    async (ctx, f) => {
      const target = targetOf(f, ctx, 'set the consume mode');
      // As upstream SetConsumeModeSubCommand: popShareQueueNum 0 unless given.
      const share = f.popShareQueueNum ?? 0;
      const results = await ctx.admin.setMessageRequestMode(f.topicName, f.groupName, f.mode, share, target);
      if (ctx.asJson({ topic: f.topicName, group: f.groupName, mode: f.mode, popShareQueueNum: share, brokers: results.map((r) => ({ brokerAddr: r.brokerAddr, error: r.error?.message })) })) return;
      for (const r of results) {
        // Over a cluster a broker that refuses is reported and the others still set (upstream).
        if (r.error) ctx.io.err(`mqadmin setConsumeMode: set consume mode to ${r.brokerAddr} failed: ${explain(r.error, ctx.io.env) ?? r.error.message}\n`);
        else ctx.p('set consume mode to %s success.%n', r.brokerAddr);
      }
      ctx.p('topic[%s] group[%s] consume mode[%s] popShareQueueNum[%d]%n', f.topicName, f.groupName, f.mode, share);
      if (results.length > 0 && results.every((r) => r.error)) throw new CliError(`no broker of cluster ${'clusterName' in target ? target.clusterName : ''} took the consume mode`);
    });

  sub<CommonFlags & { group: string; topic: string; force?: boolean; cluster?: string }>('skipAccumulatedMessage', 'Skip all messages that are accumulated (not consumed) currently.', (c) => c
    .requiredOption('-g, --group <group>', 'set the consumer group', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'set the topic', parseNonEmptyFlag)
    .option('-f, --force <bool>', 'set the force rollback by timestamp switch[true|false]', parseBoolFlag)
    .option('-c, --cluster <name>', 'Cluster name or lmq parent topic, lmq is used to find the route.', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    // As upstream: a reset to timestamp −1, which the broker reads as "the max offset".
    const res = await ctx.admin.resetOffsetByTimestamp(f.topic, f.group, -1, f.force ?? true);
    if (ctx.asJson(res)) return;
    if (res.mode === 'broker') {
      ctx.p('%-40s  %-40s  %-40s%n', '#brokerName', '#queueId', '#offset');
      for (const { mq, offset } of res.offsets) ctx.p('%-40s  %-40d  %-40d%n', front(mq.brokerName, 32), mq.queueId, offset);
      return;
    }
    ctx.p('%-20s  %-20s  %-20s  %-20s  %-20s  %-20s%n', '#brokerName', '#queueId', '#brokerOffset', '#consumerOffset', '#timestampOffset', '#rollbackOffset');
    for (const r of res.rollbackStats) {
      ctx.p('%-20s  %-20d  %-20d  %-20d  %-20d  %-20d%n', front(r.brokerName, 32), r.queueId, r.brokerOffset, r.consumerOffset, r.timestampOffset, r.rollbackOffset);
    }
  });


  sub<CommonFlags & { srcGroup: string; destGroup: string; topic: string; offline?: boolean }>('cloneGroupOffset', 'Clone offset from other group.', (c) => c
    .requiredOption('-s, --srcGroup <group>', 'set source consumer group', parseNonEmptyFlag)
    .requiredOption('-d, --destGroup <group>', 'set destination consumer group', parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'set the topic', parseNonEmptyFlag)
    .option('-o, --offline <bool>', 'the group or the topic is offline', parseBoolFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const [srcGroup, destGroup, topic] = [f.srcGroup.trim(), f.destGroup.trim(), f.topic.trim()];
    if (srcGroup === destGroup) throw new CliError('-s and -d name the same group; give the group to copy the offsets to with -d');
    // Each master serving the topic copies its own queues' offsets (CLONE_GROUP_OFFSET).
    const route = await ctx.admin.examineTopicRouteInfo(topic);
    const addrs = route.brokerDatas.map(masterAddrOf).filter((a): a is string => !!a);
    if (addrs.length === 0) throw new CliError(`topic ${topic} has no master broker online`);
    for (const addr of addrs) await ctx.admin.api.cloneGroupOffset(addr, srcGroup, destGroup, topic, f.offline ?? false);
    if (ctx.asJson({ srcGroup, destGroup, topic, brokerAddrs: addrs })) return;
    ctx.p('clone group offset success. srcGroup[%s], destGroup=[%s], topic[%s]%n', srcGroup, destGroup, topic);
  });

}

/** Queue → IP of the client holding it (upstream `getMessageQueueAllocationResult`); clients that do not answer are left out. */
async function queueOwners(ctx: Ctx, group: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  let cc;
  try {
    cc = await ctx.admin.examineConsumerConnectionInfo(group);
  } catch (err) {
    ctx.logger.debug(`connections of ${group}: ${(err as Error).message}`);
    return owners;
  }
  for (const conn of cc.connectionSet) {
    try {
      const info = await ctx.admin.getConsumerRunningInfo(group, conn.clientId);
      for (const { mq } of info.mqTable) owners.set(messageQueueToString(mq), conn.clientId.split('@')[0]!);
    } catch (err) {
      ctx.logger.debug(`running info of ${conn.clientId}: ${(err as Error).message}`);
    }
  }
  return owners;
}

function printProgress(ctx: Ctx, stats: ConsumeStats, rows: Array<{ mq: MessageQueue; offset: OffsetWrapper }>,
  clientOf: Map<string, string> | undefined): void {
  if (clientOf) {
    ctx.p('%-64s  %-32s  %-4s  %-20s  %-20s  %-20s %-20s %-20s%s%n', '#Topic', '#Broker Name', '#QID', '#Broker Offset', '#Consumer Offset', '#Client IP', '#Diff', '#Inflight', '#LastTime');
  } else {
    ctx.p('%-64s  %-32s  %-4s  %-20s  %-20s  %-20s %-20s%s%n', '#Topic', '#Broker Name', '#QID', '#Broker Offset', '#Consumer Offset', '#Diff', '#Inflight', '#LastTime');
  }
  let diffTotal = 0;
  let inflightTotal = 0;
  for (const { mq, offset } of rows) {
    const diff = offset.brokerOffset - offset.consumerOffset;
    const inflight = offset.pullOffset - offset.consumerOffset;
    diffTotal += diff;
    inflightTotal += inflight;
    const lastTime = offset.lastTimestamp === 0 ? 'N/A' : dateTime(offset.lastTimestamp);
    if (clientOf) {
      ctx.p('%-64s  %-32s  %-4d  %-20d  %-20d  %-20s %-20d %-20d %s%n', front(mq.topic, 64), front(mq.brokerName, 32), mq.queueId,
        offset.brokerOffset, offset.consumerOffset, clientOf.get(messageQueueToString(mq)) ?? 'N/A', diff, inflight, lastTime);
    } else {
      ctx.p('%-64s  %-32s  %-4d  %-20d  %-20d  %-20d %-20d %s%n', front(mq.topic, 64), front(mq.brokerName, 32), mq.queueId,
        offset.brokerOffset, offset.consumerOffset, diff, inflight, lastTime);
    }
  }
  ctx.p('%n');
  ctx.p('Consume TPS: %s%n', stats.consumeTps.toFixed(2));
  ctx.p('Consume Diff Total: %d%n', diffTotal);
  ctx.p('Consume Inflight Total: %d%n', inflightTotal);
}

// ---- messages ----

function registerMessageCommands(sub: Sub): void {
  interface QueryByIdFlags extends CommonFlags {
    topic: string; msgId: string; consumerGroup?: string; clientId?: string; sendMessage?: boolean; unitName?: string; bodyFormat?: string; cluster?: string;
  }
  sub<QueryByIdFlags>('queryMsgById', 'Query Message by Id.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-i, --msgId <ids>', 'Message Id (several: comma-separated)', parseNonEmptyFlag)
    .option('-g, --consumerGroup <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-d, --clientId <id>', "The consumer's client id", parseNonEmptyFlag)
    .option('-s, --sendMessage <bool>', 'resend message', parseBoolFlag)
    .option('-u, --unitName <name>', 'unit name', parseNonEmptyFlag)
    .option('-f, --bodyFormat <charset>', 'print message body by the specified format', parseNonEmptyFlag)
    .option('-c, --cluster <name>', 'cluster name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const ids = f.msgId.split(',').map((s) => s.trim()).filter(Boolean);
    if (f.consumerGroup && f.clientId) {
      // Upstream `pushMsg`: each message goes to that client's listener, and its answer is printed.
      const results = [];
      for (const id of ids) {
        const r = await ctx.admin.consumeMessageDirectly(f.consumerGroup, f.clientId, f.topic, id);
        results.push({ msgId: id, result: r });
        if (!ctx.json) ctx.p('%s', consumeMessageDirectlyResultString(r));
      }
      ctx.asJson(results);
      return;
    }
    if (f.sendMessage) {
      const producer = new Producer({ group: 'ReSendMsgById', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
      await producer.start();
      try {
        const results = [];
        for (const id of ids) {
          const r = await ctx.admin.resendMessageById(f.topic, id, producer);
          results.push({ originalMsgId: id, sendResult: r });
          if (!ctx.json) ctx.p('prepare resend msg. originalMsgId=%s%s', id, JSON.stringify(r));
        }
        ctx.asJson(results);
      } finally {
        await producer.shutdown();
      }
      return;
    }
    const msgs: MessageExt[] = [];
    for (const id of ids) msgs.push(await ctx.admin.queryMessageById(f.topic, id));
    if (ctx.asJson(msgs.map(messageJson))) return;
    for (const m of msgs) {
      printMessage(ctx, m, f.bodyFormat);
      await printMessageTrack(ctx, m);
    }
  });

  sub<CommonFlags & { topic: string; msgKey: string; beginTimestamp?: number; endTimestamp?: number; maxNum?: number; cluster?: string }>('queryMsgByKey', 'Query Message by Key.', (c) => c
    .requiredOption('-t, --topic <topic>', 'Topic name', parseNonEmptyFlag)
    .requiredOption('-k, --msgKey <key>', 'Message Key', parseNonEmptyFlag)
    .option('-b, --beginTimestamp <ms>', 'Begin timestamp(ms). default:0, eg:1676730526212', parseIntFlag)
    .option('-e, --endTimestamp <ms>', 'End timestamp(ms). default:Long.MAX_VALUE, eg:1676730526212', parseIntFlag)
    .option('-m, --maxNum <n>', 'The maximum number of messages returned by the query, default:64', parseIntFlag)
    .option('-c, --cluster <name>', 'cluster name', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const msgs = await ctx.admin.queryMessageByKey(f.topic, f.msgKey, f.maxNum ?? 64, f.beginTimestamp ?? 0, f.endTimestamp ?? Number.MAX_SAFE_INTEGER);
    if (ctx.asJson(msgs.map(messageJson))) return;
    ctx.p('%-50s %4s %40s%n', '#Message ID', '#QID', '#Offset');
    for (const m of msgs) ctx.p('%-50s %4d %40d%n', m.msgId, m.queueId, m.queueOffset);
  });

  sub<CommonFlags & { topic: string; body: string; key?: string; tags?: string; broker?: string; qid?: number; msgTraceEnable?: boolean }>('sendMessage', 'Send a message.', (c) => c
    .requiredOption('-t, --topic <topic>', 'Topic name', parseNonEmptyFlag)
    .requiredOption('-p, --body <body>', 'UTF-8 string format of the message body')
    .option('-k, --key <keys>', 'Message keys', parseNonEmptyFlag)
    .option('-c, --tags <tags>', 'Message tags', parseNonEmptyFlag)
    .option('-b, --broker <brokerName>', 'Send message to target broker', parseNonEmptyFlag)
    .option('-i, --qid <id>', 'Send message to target queue', parseIntFlag)
    .option('-m, --msgTraceEnable <bool>', 'Message Trace Enable, Default: false', parseBoolFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    if (f.qid !== undefined && !f.broker) throw new CliError('Broker name must be set if the queue is chosen!');
    const producer = new Producer({ group: String(Date.now()), namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await producer.start();
    try {
      const msg = new Message(f.topic, Buffer.from(f.body.trim(), 'utf8'), { tags: f.tags, keys: f.key ? f.key.split(' ') : undefined });
      const queue = f.broker && f.qid !== undefined && f.qid > -1 ? { topic: f.topic, brokerName: f.broker, queueId: f.qid } : undefined;
      const r = await producer.send(msg, queue ? { queue } : {});
      if (ctx.asJson(r)) return;
      ctx.p('%-32s  %-4s  %-20s    %s%n', '#Broker Name', '#QID', '#Send Result', '#MsgId');
      ctx.p('%-32s  %-4s  %-20s    %s%n', r.messageQueue.brokerName, r.messageQueue.queueId, r.sendStatus, r.msgId);
    } finally {
      await producer.shutdown();
    }
  });

  interface ConsumeFlags extends CommonFlags {
    topic: string; brokerName?: string; queueId?: number; offset?: number; consumerGroup?: string; beginTimestamp?: number; endTimestamp?: number; MessageNumber?: number;
  }
  sub<ConsumeFlags>('consumeMessage', 'Consume message.', (c) => c
    .requiredOption('-t, --topic <topic>', 'Topic name', parseNonEmptyFlag)
    .option('-b, --brokerName <name>', 'Broker name', parseNonEmptyFlag)
    .option('-i, --queueId <id>', 'Queue Id', parseIntFlag)
    .option('-o, --offset <offset>', 'Queue offset', parseIntFlag)
    .option('-g, --consumerGroup <group>', 'Consumer group name', parseNonEmptyFlag)
    .option('-s, --beginTimestamp <ts>', 'Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-e, --endTimestamp <ts>', 'End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-c, --MessageNumber <n>', 'Number of message to be consumed', parseIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const count = f.MessageNumber ?? 128;
    if (count <= 0) throw new CliError('Please input a positive messageNumber!');
    if (f.queueId !== undefined && !f.brokerName) throw new CliError('Please set the brokerName before queueId!');
    if (f.offset !== undefined && f.queueId === undefined) throw new CliError('Please set queueId before offset!');
    const now = Date.now();
    if (f.beginTimestamp !== undefined && f.beginTimestamp > now) throw new CliError('Please set the beginTimestamp before now!');
    if (f.endTimestamp !== undefined && f.endTimestamp > now) throw new CliError('Please set the endTimestamp before now!');
    if (f.beginTimestamp !== undefined && f.endTimestamp !== undefined && f.beginTimestamp > f.endTimestamp) {
      throw new CliError('Please make sure that the beginTimestamp is less than or equal to the endTimestamp');
    }
    const consumer = new PullConsumer({ group: f.consumerGroup ?? 'TOOLS_CONSUMER', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await consumer.start();
    const printed: MessageExt[] = [];
    const lines: string[] = [];
    const say = (fmt: string, ...args: unknown[]): void => { if (!ctx.json) ctx.p(fmt, ...args); else lines.push(format(fmt, ...args)); };
    try {
      const pullRange = async (mq: MessageQueue, from: number, to: number): Promise<void> => {
        for (let offset = from; offset <= to;) {
          const r = await consumer.pull(mq, '*', offset, Math.max(1, Math.min(32, to - offset + 1)));
          offset = r.nextBeginOffset;
          if (r.pullStatus === PullStatus.FOUND) {
            say('Consume ok\n');
            for (const m of r.msgFoundList) {
              m.brokerName = mq.brokerName;
              printed.push(m);
              say('MSGID: %s %s BODY: %s%n', m.msgId, messageString(m), m.body.toString('utf8'));
            }
          } else if (r.pullStatus === PullStatus.NO_MATCHED_MSG) {
            say('%s no matched msg. status=%s, offset=%s\n', messageQueueToString(mq), r.pullStatus, offset);
          } else {
            say('%s print msg finished. status=%s, offset=%s\n', messageQueueToString(mq), r.pullStatus, offset);
            break;
          }
        }
      };
      const range = (mq: MessageQueue): Promise<[number, number]> => offsetRange(consumer, mq, f.beginTimestamp, f.endTimestamp);
      if (f.queueId === undefined) {
        let left = count;
        const mqs = (await consumer.fetchSubscribeMessageQueues(f.topic)).sort(compareMessageQueue);
        for (const mq of mqs) {
          if (left <= 0) break;
          const [min, rangeMax] = await range(mq);
          let max = rangeMax;
          if (max - min > left) {
            say('The older %d message of the %d queue will be provided\n', left, mq.queueId);
            max = min + left - 1;
            left = 0;
          } else {
            left = left - (max - min) - 1;
          }
          await pullRange(mq, min, max);
        }
      } else {
        const mq = { topic: f.topic, brokerName: f.brokerName!, queueId: f.queueId };
        let [min, max] = await range(mq);
        const offset = f.offset ?? 0;
        if (offset > max) {
          say('%s no matched msg, offset=%s\n', messageQueueToString(mq), offset);
        } else {
          min = Math.max(min, offset);
          if (max - min > count) {
            say('The oldler %d message will be provided\n', count);
            max = min + count - 1;
          }
          await pullRange(mq, min, max);
        }
      }
    } finally {
      await consumer.shutdown();
    }
    ctx.asJson(printed.map(messageJson));
  });

  sub<CommonFlags & { topic: string; brokerName: string; queueId: number; offset: number; bodyFormat?: string }>('queryMsgByOffset', 'Query Message by offset.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-b, --brokerName <name>', 'Broker Name', parseNonEmptyFlag)
    .requiredOption('-i, --queueId <id>', 'Queue Id', parseIntFlag)
    .requiredOption('-o, --offset <offset>', 'Queue Offset', parseIntFlag)
    .option('-f, --bodyFormat <charset>', 'print message body by the specified format', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const mq: MessageQueue = { topic: f.topic, brokerName: f.brokerName, queueId: f.queueId };
    const route = await ctx.admin.examineTopicRouteInfo(f.topic);
    const qd = route.queueDatas.find((q) => q.brokerName === f.brokerName);
    if (!qd) throw new CliError(`broker ${f.brokerName} does not serve topic ${f.topic}; its brokers: ${route.queueDatas.map((q) => q.brokerName).join(', ')}`);
    if (f.queueId < 0 || f.queueId >= qd.readQueueNums) throw new CliError(`queue ${f.queueId} does not exist: topic ${f.topic} has queues 0..${qd.readQueueNums - 1} on ${f.brokerName}`);
    const consumer = new PullConsumer({ group: 'TOOLS_CONSUMER', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await consumer.start();
    try {
      const r = await consumer.pull(mq, '*', f.offset, 1);
      const m = r.pullStatus === PullStatus.FOUND ? r.msgFoundList[0] : undefined;
      // Upstream prints nothing here; saying what the queue holds is more use.
      if (!m) throw new CliError(`no message at offset ${f.offset} of ${messageQueueToString(mq)} (${r.pullStatus}); the queue holds offsets ${r.minOffset} to ${r.maxOffset - 1}`);
      m.brokerName = f.brokerName;
      if (ctx.asJson(messageJson(m))) return;
      printMessage(ctx, m, f.bodyFormat);
    } finally {
      await consumer.shutdown();
    }
  });

  sub<CommonFlags & { msgId: string; topic: string; consumerGroup?: string; clientId?: string; showAll?: boolean; cluster?: string }>('queryMsgByUniqueKey', 'Query Message by Unique key.', (c) => c
    .requiredOption('-i, --msgId <id>', 'Message Id', parseNonEmptyFlag)
    .option('-g, --consumerGroup <group>', 'consumer group name', parseNonEmptyFlag)
    .option('-d, --clientId <id>', "The consumer's client id", parseNonEmptyFlag)
    .requiredOption('-t, --topic <topic>', 'The topic of msg', parseNonEmptyFlag)
    .option('-a, --showAll', 'Print all message, the limit is 32')
    .option('-c, --cluster <name>', 'Cluster name or lmq parent topic, lmq is used to find the route.', parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const msgId = f.msgId.trim();
    if (f.consumerGroup && f.clientId) {
      const r = await ctx.admin.consumeMessageDirectly(f.consumerGroup, f.clientId, f.topic, msgId);
      if (ctx.asJson(r)) return;
      ctx.p('%s', consumeMessageDirectlyResultString(r));
      return;
    }
    const msgs = await ctx.admin.queryMessageByUniqKey(f.topic, msgId);
    if (msgs.length === 0) throw new CliError(`no message with unique key ${msgId} in topic ${f.topic}; check the id (the msgId of the send result) and the topic`);
    const shown = f.showAll ? msgs : msgs.slice(0, 1);
    if (ctx.asJson(shown.map(messageJson))) return;
    for (const [i, m] of shown.entries()) {
      printUniqueKeyMessage(ctx, m, i);
      await printMessageTrack(ctx, m);
    }
  });

  interface PrintMsgFlags extends CommonFlags {
    topic: string; charsetName?: string; subExpression?: string; beginTimestamp?: number; endTimestamp?: number; printBody?: boolean;
  }
  sub<PrintMsgFlags>('printMsg', 'Print Message Detail.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-c, --charsetName <charset>', 'CharsetName(eg: UTF-8,GBK)', parseNonEmptyFlag)
    .option('-s, --subExpression <expression>', 'Subscribe Expression(eg: TagA || TagB)', parseNonEmptyFlag)
    .option('-b, --beginTimestamp <ts>', 'Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-e, --endTimestamp <ts>', 'End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-d, --printBody <bool>', 'print body', parseBoolFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const enc = bodyEncoding(f.charsetName ?? 'UTF-8');
    const printBody = f.printBody ?? true;
    const consumer = new PullConsumer({ group: 'TOOLS_CONSUMER', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await consumer.start();
    const printed: Array<Record<string, unknown>> = [];
    const say = (fmt: string, ...args: unknown[]): void => { if (!ctx.json) ctx.p(fmt, ...args); };
    try {
      const mqs = (await consumer.fetchSubscribeMessageQueues(f.topic)).sort(compareMessageQueue);
      for (const mq of mqs) {
        const [minOffset, maxOffset] = await offsetRange(consumer, mq, f.beginTimestamp, f.endTimestamp);
        say('minOffset=%s, maxOffset=%s, %s%n', minOffset, maxOffset, messageQueueToString(mq));
        for (let offset = minOffset; offset < maxOffset;) {
          const r = await consumer.pull(mq, f.subExpression ?? '*', offset, 32);
          offset = r.nextBeginOffset;
          if (r.pullStatus === PullStatus.FOUND) {
            for (const m of r.msgFoundList) {
              m.brokerName = mq.brokerName;
              printed.push(messageJson(m));
              say('MSGID: %s %s BODY: %s%n', m.msgId, messageString(m), printBody ? m.body.toString(enc) : 'NOT PRINT BODY');
            }
          } else if (r.pullStatus === PullStatus.NO_MATCHED_MSG) {
            say('%s no matched msg. status=%s, offset=%s%n', messageQueueToString(mq), r.pullStatus, offset);
          } else {
            say('%s print msg finished. status=%s, offset=%s%n', messageQueueToString(mq), r.pullStatus, offset);
            break;
          }
        }
        say('--------------------------------------------------------\n');
      }
    } finally {
      await consumer.shutdown();
    }
    ctx.asJson(printed);
  });

  interface PrintByQueueFlags extends CommonFlags {
    topic: string; brokerName: string; queueId: number; charsetName?: string; subExpression?: string; beginTimestamp?: number; endTimestamp?: number;
    printMsg?: boolean; printBody?: boolean; calculate?: boolean;
  }
  sub<PrintByQueueFlags>('printMsgByQueue', 'Print Message Detail by queueId.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .requiredOption('-a, --brokerName <name>', 'broker name', parseNonEmptyFlag)
    .requiredOption('-i, --queueId <id>', 'queue id', parseIntFlag)
    .option('-c, --charsetName <charset>', 'CharsetName(eg: UTF-8,GBK)', parseNonEmptyFlag)
    .option('-s, --subExpression <expression>', 'Subscribe Expression(eg: TagA || TagB)', parseNonEmptyFlag)
    .option('-b, --beginTimestamp <ts>', 'Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-e, --endTimestamp <ts>', 'End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]', parseTimestampFlag)
    .option('-p, --printMsg <bool>', 'print msg. eg: true | false(default)', parseBoolFlag)
    .option('-d, --printBody <bool>', 'print body. eg: true | false(default)', parseBoolFlag)
    .option('-f, --calculate <bool>', 'calculate by tag. eg: true | false(default)', parseBoolFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const enc = bodyEncoding(f.charsetName ?? 'UTF-8');
    const topic = f.topic.trim();
    const mq: MessageQueue = { topic, brokerName: f.brokerName.trim(), queueId: f.queueId };
    const route = await ctx.admin.examineTopicRouteInfo(topic);
    const qd = route.queueDatas.find((q) => q.brokerName === mq.brokerName);
    if (!qd) throw new CliError(`broker ${mq.brokerName} does not serve topic ${topic}; its brokers: ${route.queueDatas.map((q) => q.brokerName).join(', ')}`);
    if (f.queueId < 0 || f.queueId >= qd.readQueueNums) throw new CliError(`queue ${f.queueId} does not exist: topic ${topic} has queues 0..${qd.readQueueNums - 1} on ${mq.brokerName}`);
    const consumer = new PullConsumer({ group: 'TOOLS_CONSUMER', namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await consumer.start();
    const printed: Array<Record<string, unknown>> = [];
    const tagCounts = new Map<string, number>();
    try {
      const [minOffset, maxOffset] = await offsetRange(consumer, mq, f.beginTimestamp, f.endTimestamp);
      for (let offset = minOffset; offset < maxOffset;) {
        const r = await consumer.pull(mq, f.subExpression ?? '*', offset, 32);
        offset = r.nextBeginOffset;
        // As upstream: anything but FOUND ends the walk.
        if (r.pullStatus !== PullStatus.FOUND) break;
        for (const m of r.msgFoundList) {
          m.brokerName = mq.brokerName;
          if (f.calculate && m.tags && m.tags.trim()) tagCounts.set(m.tags, (tagCounts.get(m.tags) ?? 0) + 1);
          if (!f.printMsg) continue;
          printed.push(messageJson(m));
          if (!ctx.json) ctx.p('MSGID: %s %s BODY: %s%n', m.msgId, messageString(m), f.printBody ? m.body.toString(enc) : 'NOT PRINT BODY');
        }
      }
    } finally {
      await consumer.shutdown();
    }
    // Most frequent tag first, as upstream's TagCountBean order.
    const tags = [...tagCounts].sort((a, b) => b[1] - a[1]);
    if (ctx.asJson({ messages: printed, tagCounts: f.calculate ? Object.fromEntries(tags) : undefined })) return;
    if (f.calculate) for (const [tag, count] of tags) ctx.p('Tag: %-30s Count: %s%n', tag, count);
  });

  sub<CommonFlags & { topic: string; amount?: number; size?: number }>('checkMsgSendRT', 'Check message send response time.', (c) => c
    .requiredOption('-t, --topic <topic>', 'topic name', parseNonEmptyFlag)
    .option('-a, --amount <n>', 'message amount | default 100', parseIntFlag)
    .option('-s, --size <n>', 'message size | default 128 Byte', parseIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const amount = f.amount ?? 100;
    const size = f.size ?? 128;
    if (amount <= 0 || size < 0) throw new CliError('-a must be positive and -s not negative');
    const topic = f.topic.trim();
    const producer = new Producer({ group: String(Date.now()), namesrvAddr: ctx.namesrvAddr, logger: ctx.logger });
    await producer.start();
    const rows = [];
    let timeElapsed = 0;
    try {
      const msg = new Message(topic, Buffer.alloc(size, 'a'));
      if (!ctx.json) ctx.p('%-32s  %-4s  %-20s    %s%n', '#Broker Name', '#QID', '#Send Result', '#RT');
      let brokerName = 'null';
      let queueId: number | string = 'null';
      for (let i = 0; i < amount; i++) {
        const start = Date.now();
        let sendSuccess = false;
        try {
          // As upstream: message i goes to queue i modulo the topic's queues, round robin.
          await producer.send(msg, {
            selector: (mqs, _m, arg) => {
              const q = mqs[(arg as number) % mqs.length]!;
              brokerName = q.brokerName;
              queueId = q.queueId;
              return q;
            },
            arg: i,
          });
          sendSuccess = true;
        } catch (err) {
          // Upstream shows a failed send as false; a topic that does not exist is no use to time.
          if (i === 0 && err instanceof MQClientError && err.code === ClientErrorCode.NO_ROUTE) throw err;
        }
        const rt = Date.now() - start;
        if (i !== 0) timeElapsed += rt;
        rows.push({ brokerName, queueId, sendSuccess, rt });
        if (!ctx.json) ctx.p('%-32s  %-4s  %-20s    %s%n', brokerName, queueId, sendSuccess, rt);
      }
    } finally {
      await producer.shutdown();
    }
    const avg = (timeElapsed / (amount - 1)).toFixed(2);
    if (ctx.asJson({ sends: rows, avgRT: avg })) return;
    ctx.p('Avg RT: %s%n', avg);
  });

  sub<CommonFlags & { msgId: string; traceTopic?: string; beginTimestamp?: number; endTimestamp?: number; maxNum?: number }>('queryMsgTraceById', 'query a message trace', (c) => c
    .requiredOption('-i, --msgId <id>', 'Message Id', parseNonEmptyFlag)
    .option('-t, --traceTopic <topic>', 'The name value of message trace topic', parseNonEmptyFlag)
    .option('-b, --beginTimestamp <ms>', 'Begin timestamp(ms). default:0, eg:1676730526212', parseIntFlag)
    .option('-e, --endTimestamp <ms>', 'End timestamp(ms). default:Long.MAX_VALUE, eg:1676730526212', parseIntFlag)
    .option('-c, --maxNum <n>', 'The maximum number of messages returned by the query, default:64', parseIntFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const msgId = f.msgId.trim();
    const views = await ctx.admin.queryTraceViews(msgId, f.traceTopic?.trim(), f.maxNum ?? 64, f.beginTimestamp ?? 0, f.endTimestamp ?? Number.MAX_SAFE_INTEGER);
    if (ctx.asJson(views)) return;
    const head = '%-10s %-20s %-20s %-20s %-10s %-10s%n';
    const consumers = new Map<string, typeof views>();
    for (const v of views) {
      if (v.record.type === 'Pub') {
        ctx.p(head, '#Type', '#ProducerGroup', '#ClientHost', '#SendTime', '#CostTimes', '#Status');
        ctx.p(head, 'Pub', v.record.group, v.clientHost, dateTime(v.record.timestamp), `${v.record.costTime}ms`, v.record.success ? 'success' : 'failed');
        ctx.p('\n');
      } else if (v.record.type === 'SubAfter') {
        const list = consumers.get(v.record.group) ?? [];
        list.push(v);
        consumers.set(v.record.group, list);
      }
    }
    for (const list of consumers.values()) {
      ctx.p(head, '#Type', '#ConsumerGroup', '#ClientHost', '#ConsumerTime', '#CostTimes', '#Status');
      for (const v of list) {
        const r = v.record as Extract<TraceRecord, { type: 'SubAfter' }>;
        ctx.p(head, 'Sub', r.group, v.clientHost, dateTime(r.timestamp), `${r.costTime}ms`, r.success ? 'success' : 'failed');
      }
      ctx.p('\n');
    }
  });

}

/** A queue's min and max offsets, or the offsets of the begin / end times where given (consumeMessage, printMsg). */
async function offsetRange(consumer: PullConsumer, mq: MessageQueue, begin: number | undefined, end: number | undefined): Promise<[number, number]> {
  const min = begin !== undefined ? await consumer.searchOffset(mq, begin) : await consumer.minOffset(mq);
  const max = end !== undefined ? await consumer.searchOffset(mq, end) : await consumer.maxOffset(mq);
  return [min, max];
}

/** Upstream `QueryMsgByIdSubCommand.printMsg`; the body is also written to a file, as upstream. */
function printMessage(ctx: Ctx, m: MessageExt, charset: string | undefined): void {
  printMessageDetail(ctx, m, m.msgId, true);
  if (charset !== undefined) {
    const enc = charset.toLowerCase().replace('-', '') as BufferEncoding;
    ctx.p('%-20s %s%n', 'Message Body:', m.body.toString(Buffer.isEncoding(enc) ? enc : 'utf8'));
  }
}

/**
 * The section upstream's queryMsgById / queryMsgByUniqueKey print after a message: each group
 * consuming its topic and how far it is with it (Admin.messageTrackDetail). As upstream, a
 * failure here does not fail the command; it is one line on stderr.
 */
async function printMessageTrack(ctx: Ctx, m: MessageExt): Promise<void> {
  try {
    const tracks = await ctx.admin.messageTrackDetail(m);
    if (tracks.length === 0) ctx.p('%n%nWARN: No Consumer');
    else {
      ctx.p('%n%n');
      for (const t of tracks) ctx.p('%s%n', messageTrackString(t));
    }
  } catch (err) {
    ctx.io.err(`mqadmin: the consumers of message ${m.msgId} could not be told: ${(err as Error).message}\n`);
  }
}

/** Upstream `QueryMsgByUniqueKeySubCommand.showMessage`; the body goes to a file (`_<index>` for the later copies). */
function printUniqueKeyMessage(ctx: Ctx, m: MessageExt, index: number): void {
  printMessageDetail(ctx, m, index > 0 ? `${m.msgId}_${index}` : m.msgId, false);
}

/** The lines both commands print for a message (OffsetID first for queryMsgById), its body written to `bodyFile`. */
function printMessageDetail(ctx: Ctx, m: MessageExt, bodyFile: string, withOffsetId: boolean): void {
  const dir = join(tmpdir(), 'rocketmq', 'msgbodys');
  let bodyPath = '';
  try {
    mkdirSync(dir, { recursive: true });
    bodyPath = join(dir, bodyFile);
    writeFileSync(bodyPath, m.body);
  } catch {
    bodyPath = '(could not be written)';
  }
  if (withOffsetId) ctx.p('%-20s %s%n', 'OffsetID:', m.offsetMsgId);
  ctx.p('%-20s %s%n', 'Topic:', m.topic);
  ctx.p('%-20s %s%n', 'Tags:', `[${m.tags ?? 'null'}]`);
  ctx.p('%-20s %s%n', 'Keys:', `[${m.keys.length > 0 ? m.keys.join(' ') : 'null'}]`);
  ctx.p('%-20s %d%n', 'Queue ID:', m.queueId);
  ctx.p('%-20s %d%n', 'Queue Offset:', m.queueOffset);
  ctx.p('%-20s %d%n', 'CommitLog Offset:', m.commitLogOffset);
  ctx.p('%-20s %d%n', 'Reconsume Times:', m.reconsumeTimes);
  ctx.p('%-20s %s%n', 'Born Timestamp:', humanTime(m.bornTimestamp));
  ctx.p('%-20s %s%n', 'Store Timestamp:', humanTime(m.storeTimestamp));
  ctx.p('%-20s %s%n', 'Born Host:', m.bornHost);
  ctx.p('%-20s %s%n', 'Store Host:', m.storeHost);
  ctx.p('%-20s %d%n', 'System Flag:', m.sysFlag);
  ctx.p('%-20s %s%n', 'Properties:', javaMap(m.propertyMap));
  ctx.p('%-20s %s%n', 'Message Body Path:', bodyPath);
}

/** Upstream SendMsgStatusCommand's body: "hello jodie" repeated to at least `size` bytes. */
function helloJodie(topic: string, size: number): Message {
  return new Message(topic, Buffer.from('hello jodie'.repeat(Math.ceil(size / 11)), 'utf8'));
}

/** Upstream `SendResult.toString`. */
function sendResultString(r: SendResult): string {
  return `SendResult [sendStatus=${r.sendStatus}, msgId=${r.msgId}, offsetMsgId=${r.offsetMsgId}, messageQueue=${messageQueueToString(r.messageQueue)}, `
    + `queueOffset=${r.queueOffset}, recallHandle=null]`;
}

/** `yyyy-MM-dd HH:mm:ss` in GMT+8, as upstream's clusterRT tlog lines. */
function chinaTime(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A subscription group's fields in upstream's declaration order, valued as Java prints them
 * (getConsumerConfig reads them by reflection).
 */
function subscriptionGroupFields(c: SubscriptionGroupConfig): Array<[string, string]> {
  const policy = c.groupRetryPolicy === undefined ? 'GroupRetryPolicy{type=CUSTOMIZED, exponentialRetryPolicy=null, customizedRetryPolicy=null}' : JSON.stringify(c.groupRetryPolicy);
  return [
    ['groupName', c.groupName], ['consumeEnable', String(c.consumeEnable)], ['consumeFromMinEnable', String(c.consumeFromMinEnable)],
    ['consumeBroadcastEnable', String(c.consumeBroadcastEnable)], ['consumeMessageOrderly', String(c.consumeMessageOrderly)],
    ['retryQueueNums', String(c.retryQueueNums)], ['retryMaxTimes', String(c.retryMaxTimes)], ['groupRetryPolicy', policy],
    ['brokerId', String(c.brokerId)], ['whichBrokerWhenConsumeSlowly', String(c.whichBrokerWhenConsumeSlowly)],
    ['notifyConsumerIdsChangedEnable', String(c.notifyConsumerIdsChangedEnable)], ['groupSysFlag', String(c.groupSysFlag ?? 0)],
    ['consumeTimeoutMinute', String(c.consumeTimeoutMinute ?? 15)], ['subscriptionDataSet', ''], ['attributes', javaMap(c.attributes ?? {})],
  ];
}

// ---- export ----

/** Where upstream's export commands write when -f is not given. */
const DEFAULT_EXPORT_PATH = '/tmp/rocketmq/export';

/**
 * Writes an export file as upstream's `MixAll.string2FileNotSafe(JSON.toJSONString(x, true))`:
 * the folder made if missing, the JSON pretty-printed with tabs; undefined entries left out, as
 * fastjson leaves out nulls.
 */
function writeExport(dirPath: string, name: string, value: unknown): string {
  const path = join(dirPath, name);
  mkdirSync(dirPath, { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, '\t'));
  return path;
}

/** Upstream `StatsAllSubCommand.compute24HourSum`: the day's sum, else the hour's, else the minute's. */
function sum24Hour(d: BrokerStatsData): number {
  return d.statsDay.sum || d.statsHour.sum || d.statsMinute.sum;
}

/** The first of the three rates a runtime-info `…Tps` value holds ("<10 s> <1 min> <10 min>"); 0 when absent. */
function firstRate(v: string | undefined): number {
  const n = Number.parseFloat((v ?? '').trim().split(' ')[0] ?? '');
  return Number.isFinite(n) ? n : 0;
}

function registerExportCommands(sub: Sub): void {
  interface ExportMetadataFlags extends CommonFlags {
    brokerAddr?: string; clusterName?: string; filePath?: string; topic?: boolean; subscriptionGroup?: boolean; specialTopic?: boolean;
  }
  sub<ExportMetadataFlags>('exportMetadata', 'Export metadata.', (c) => c
    .option('-c, --clusterName <name>', 'choose a cluster to export', parseNonEmptyFlag)
    .option('-b, --brokerAddr <addr>', 'choose a broker to export', parseNonEmptyFlag)
    .option('-f, --filePath <path>', `export metadata.json path | default ${DEFAULT_EXPORT_PATH}`, parseNonEmptyFlag)
    .option('-t, --topic', 'only export topic metadata')
    .option('-g, --subscriptionGroup', 'only export subscriptionGroup metadata')
    .option('-s, --specialTopic', 'need retryTopic and dlqTopic'),
  async (ctx, f) => {
    const target = targetOf(f, ctx, 'export metadata from');
    const dirPath = f.filePath?.trim() ?? DEFAULT_EXPORT_PATH;
    const special = f.specialTopic ?? false;
    let path: string;
    if ('brokerAddr' in target) {
      // As upstream: one broker's wrappers as the broker sends them. Upstream writes nothing for -b
      // without -t or -g; here that writes both, as -c does.
      const addr = target.brokerAddr;
      if (f.topic) path = writeExport(dirPath, 'topic.json', await ctx.admin.getUserTopicConfig(addr, special));
      else if (f.subscriptionGroup) path = writeExport(dirPath, 'subscriptionGroup.json', await ctx.admin.getUserSubscriptionGroup(addr));
      else {
        path = writeExport(dirPath, 'metadata.json', {
          topicConfigTable: (await ctx.admin.getUserTopicConfig(addr, special)).topicConfigTable,
          subscriptionGroupTable: (await ctx.admin.getUserSubscriptionGroup(addr)).subscriptionGroupTable,
          exportTime: Date.now(),
        });
      }
    } else {
      // As upstream: over the cluster's masters, a topic's queues and a group's retry queues add up.
      const topics: Record<string, TopicConfig> = {};
      const groups: Record<string, SubscriptionGroupConfig> = {};
      for (const addr of await ctx.admin.masterAddrsOfCluster(target.clusterName)) {
        for (const [name, tc] of Object.entries((await ctx.admin.getUserTopicConfig(addr, special)).topicConfigTable)) {
          const had = topics[name];
          topics[name] = had ? { ...tc, readQueueNums: had.readQueueNums + tc.readQueueNums, writeQueueNums: had.writeQueueNums + tc.writeQueueNums } : tc;
        }
        for (const [name, g] of Object.entries((await ctx.admin.getUserSubscriptionGroup(addr)).subscriptionGroupTable)) {
          const had = groups[name];
          groups[name] = had ? { ...g, retryQueueNums: had.retryQueueNums + g.retryQueueNums } : g;
        }
      }
      const result: Record<string, unknown> = {};
      let name = 'metadata.json';
      if (f.topic) {
        result.topicConfigTable = topics;
        name = 'topic.json';
      } else if (f.subscriptionGroup) {
        result.subscriptionGroupTable = groups;
        name = 'subscriptionGroup.json';
      } else {
        result.topicConfigTable = topics;
        result.subscriptionGroupTable = groups;
      }
      result.exportTime = Date.now();
      path = writeExport(dirPath, name, result);
    }
    if (ctx.asJson({ path })) return;
    ctx.p('export %s success%n', path);
  });

  /** The broker settings upstream's exportConfigs keeps (`needBrokerProprties`). */
  const EXPORTED_BROKER_CONFIG = [
    'brokerClusterName', 'brokerId', 'brokerName', 'brokerRole', 'fileReservedTime', 'filterServerNums', 'flushDiskType', 'maxMessageSize',
    'messageDelayLevel', 'msgTraceTopicName', 'slaveReadEnable', 'traceOn', 'traceTopicEnable', 'useTLS', 'autoCreateTopicEnable',
    'autoCreateSubscriptionGroup',
  ] as const;
  sub<CommonFlags & { clusterName: string; filePath?: string }>('exportConfigs', 'Export configs.', (c) => c
    .requiredOption('-c, --clusterName <name>', 'choose a cluster to export', parseNonEmptyFlag)
    .option('-f, --filePath <path>', `export configs.json path | default ${DEFAULT_EXPORT_PATH}`, parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const brokerConfigs: Record<string, Record<string, string>> = {};
    let masterBrokerSize = 0;
    let slaveBrokerSize = 0;
    for (const { master, slaves } of await mastersAndSlaves(ctx, f.clusterName.trim())) {
      if (master === 'NO_MASTER') continue;
      const props = await ctx.admin.getBrokerConfig(master);
      masterBrokerSize++;
      slaveBrokerSize += slaves.length;
      const kept: Record<string, string> = {};
      for (const k of EXPORTED_BROKER_CONFIG) {
        const v = props.get(k);
        if (v !== undefined) kept[k] = v;
      }
      brokerConfigs[props.get('brokerName') ?? master] = kept;
    }
    const namesrvSize = (ctx.namesrvAddr ?? '').split(';').map((a) => a.trim()).filter(Boolean).length;
    const path = writeExport(f.filePath?.trim() ?? DEFAULT_EXPORT_PATH, 'configs.json', {
      brokerConfigs, clusterScale: { namesrvSize, masterBrokerSize, slaveBrokerSize },
    });
    if (ctx.asJson({ path })) return;
    ctx.p('export %s success%n', path);
  });

  sub<CommonFlags & { clusterName: string; filePath?: string }>('exportMetrics', 'Export metrics.', (c) => c
    .requiredOption('-c, --clusterName <name>', 'choose a cluster to export', parseNonEmptyFlag)
    .option('-f, --filePath <path>', `export metrics.json path | default ${DEFAULT_EXPORT_PATH}`, parseNonEmptyFlag),
  async (ctx, f) => {
    ctx.needNamesrv();
    const clusterName = f.clusterName.trim();
    await ctx.admin.masterAddrsOfCluster(clusterName); // says which clusters exist when this one does not
    const ci = await ctx.admin.examineBrokerClusterInfo();
    const totalTps = { totalNormalInTps: 0, totalNormalOutTps: 0, totalTransInTps: 0, totalScheduleInTps: 0 };
    const totalOneDayNum = { normalOneDayInNum: 0, normalOneDayOutNum: 0, transOneDayInNum: 0, scheduleOneDayInNum: 0 };
    const evaluateReport: Record<string, unknown> = {};
    const statsOf = async (addr: string, topic: string): Promise<BrokerStatsData | undefined> => {
      try {
        return await ctx.admin.viewBrokerStatsData(addr, StatsName.TOPIC_PUT_NUMS, topic);
      } catch {
        return undefined; // as upstream: no statistics for the topic counts as none
      }
    };
    for (const brokerName of [...(ci.clusterAddrTable[clusterName] ?? [])].sort()) {
      const addr = ci.brokerAddrTable[brokerName]?.brokerAddrs['0'];
      if (!addr) continue;
      const kv = await ctx.admin.fetchBrokerRuntimeStats(addr);
      const props = await ctx.admin.getBrokerConfig(addr);
      const groups = await ctx.admin.getUserSubscriptionGroup(addr);
      const topics = await ctx.admin.getUserTopicConfig(addr, false);
      const trans = await statsOf(addr, SystemTopic.TRANS_HALF_TOPIC);
      const schedule = await statsOf(addr, SystemTopic.SCHEDULE_TOPIC);
      const tps = {
        normalInTps: firstRate(kv.putTps), normalOutTps: firstRate(kv.getTransferredTps),
        transInTps: trans?.statsMinute.tps ?? 0, scheduleInTps: schedule?.statsMinute.tps ?? 0,
      };
      const n = (k: string): number => Number(kv[k] ?? 0) || 0;
      const oneDayNum = {
        normalOneDayInNum: n('msgPutTotalTodayMorning') - n('msgPutTotalYesterdayMorning'),
        normalOneDayOutNum: n('msgGetTotalTodayMorning') - n('msgGetTotalYesterdayMorning'),
        transOneDayInNum: trans ? sum24Hour(trans) : 0, scheduleOneDayInNum: schedule ? sum24Hour(schedule) : 0,
      };
      totalTps.totalNormalInTps += tps.normalInTps;
      totalTps.totalNormalOutTps += tps.normalOutTps;
      totalTps.totalTransInTps += tps.transInTps;
      totalTps.totalScheduleInTps += tps.scheduleInTps;
      for (const k of Object.keys(totalOneDayNum) as Array<keyof typeof totalOneDayNum>) totalOneDayNum[k] += oneDayNum[k];
      // As upstream: the language and version of every client of the broker's groups.
      const clientInfo = new Set<string>();
      for (const group of Object.keys(groups.subscriptionGroupTable)) {
        try {
          const cc = await ctx.admin.examineConsumerConnectionInfo(group);
          for (const conn of cc.connectionSet) clientInfo.add(`${conn.language}%${versionDesc(conn.version)}`);
        } catch {
          // A group without online consumers.
        }
      }
      evaluateReport[brokerName] = {
        runtimeEnv: { cpuNum: props.get('clientCallbackExecutorThreads'), totalMemKBytes: kv.totalMemKBytes },
        runtimeQuota: {
          diskRatio: { commitLogDiskRatio: kv.commitLogDiskRatio, consumeQueueDiskRatio: kv.consumeQueueDiskRatio },
          tps, oneDayNum, messageAverageSize: kv.putMessageAverageSize,
          topicSize: Object.keys(topics.topicConfigTable).length, groupSize: Object.keys(groups.subscriptionGroupTable).length,
        },
        runtimeVersion: { rocketmqVersion: versionDesc(CURRENT_VERSION), clientInfo: [...clientInfo].sort() },
      };
    }
    const path = writeExport(f.filePath?.trim() ?? DEFAULT_EXPORT_PATH, 'metrics.json', { evaluateReport, totalData: { totalTps, totalOneDayNum } });
    if (ctx.asJson({ path })) return;
    ctx.p('export %s success%n', path);
  });
}

/** A charset name as Java takes it (UTF-8, ISO-8859-1, UTF-16LE…) → a Buffer encoding; unknown ones are an error. */
function bodyEncoding(charset: string): BufferEncoding {
  const enc = charset.toLowerCase().replace(/-/g, '');
  const known: Record<string, BufferEncoding> = { utf8: 'utf8', iso88591: 'latin1', latin1: 'latin1', usascii: 'ascii', ascii: 'ascii', utf16le: 'utf16le', ucs2: 'ucs2' };
  const e = known[enc];
  if (!e) throw new CliError(`charset ${charset} is not supported here; use UTF-8, ISO-8859-1, US-ASCII or UTF-16LE`);
  return e;
}

/** True when this module is the process's entry point (also through npm's bin symlink). */
function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // `mqadmin topicList | head`: a closed pipe ends the output, not the process with a stack.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.exitCode = await runMqadmin(process.argv.slice(2));
}
