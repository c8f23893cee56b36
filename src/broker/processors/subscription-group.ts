import { ResponseCode } from '../../remoting/codes.js';
import { PermName } from '../../common/perm.js';
import { createResponse, type RemotingCommand } from '../../remoting/command.js';
import { optBoolean, reqString, type Ext } from '../../remoting/header.js';
import { encodeJson, parseLenientJson } from '../../common/json.js';
import { validateGroup } from '../../common/topic.js';
import { alterAttributes, AttributeError, SUBSCRIPTION_GROUP_ATTRIBUTES } from '../../common/attributes.js';
import { slaveRefusal } from './admin.js';
import type { BrokerController } from '../broker-controller.js';
import { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../subscription-group-manager.js';

type Obj = Record<string, unknown>;

function bool(v: unknown, dflt: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return dflt;
}

function int(v: unknown, dflt: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isInteger(n) ? n : dflt;
}

/** A SubscriptionGroupConfig body (§5.7) over upstream's defaults; unknown fields are ignored. */
export function toSubscriptionGroupConfig(o: Obj, groupName: string): SubscriptionGroupConfig {
  const d = newSubscriptionGroupConfig(groupName);
  const attributes: Record<string, string> = {};
  if (typeof o.attributes === 'object' && o.attributes !== null && !Array.isArray(o.attributes)) {
    for (const [k, v] of Object.entries(o.attributes as Obj)) if (v !== null && v !== undefined) attributes[k] = String(v);
  }
  return {
    groupName,
    consumeEnable: bool(o.consumeEnable, d.consumeEnable),
    consumeFromMinEnable: bool(o.consumeFromMinEnable, d.consumeFromMinEnable),
    consumeBroadcastEnable: bool(o.consumeBroadcastEnable, d.consumeBroadcastEnable),
    consumeMessageOrderly: bool(o.consumeMessageOrderly, d.consumeMessageOrderly),
    retryQueueNums: int(o.retryQueueNums, d.retryQueueNums),
    retryMaxTimes: int(o.retryMaxTimes, d.retryMaxTimes),
    brokerId: int(o.brokerId, d.brokerId),
    whichBrokerWhenConsumeSlowly: int(o.whichBrokerWhenConsumeSlowly, d.whichBrokerWhenConsumeSlowly),
    notifyConsumerIdsChangedEnable: bool(o.notifyConsumerIdsChangedEnable, d.notifyConsumerIdsChangedEnable),
    groupSysFlag: int(o.groupSysFlag, d.groupSysFlag),
    consumeTimeoutMinute: int(o.consumeTimeoutMinute, d.consumeTimeoutMinute),
    attributes,
  };
}

/** Why a request body was refused. */
class Refusal {
  constructor(readonly remark: string) {}
}

/** The request's JSON body (`what` names it in the refusal), or why there is none to read. */
function jsonBodyOf(req: RemotingCommand, what: string): unknown {
  if (!req.body || req.body.length === 0) return new Refusal(`the request has no ${what} body`);
  try {
    return parseLenientJson(req.body);
  } catch (err) {
    return new Refusal(`the ${what} body is not JSON: ${(err as Error).message}`);
  }
}

/** UPDATE_AND_GET_GROUP_FORBIDDEN (353) header (upstream `UpdateGroupForbiddenRequestHeader`). */
export interface UpdateGroupForbiddenRequestHeader {
  group: string;
  topic: string;
  /** Absent: only read whether the group may pull the topic. */
  readable?: boolean;
}

export function decodeUpdateGroupForbiddenRequestHeader(ext: Ext): UpdateGroupForbiddenRequestHeader {
  return { group: reqString(ext, 'group'), topic: reqString(ext, 'topic'), readable: optBoolean(ext, 'readable') };
}

/**
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201),
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST (225), DELETE_SUBSCRIPTIONGROUP (207), GET_SUBSCRIPTIONGROUP_CONFIG (352)
 * and UPDATE_AND_GET_GROUP_FORBIDDEN (353) (upstream `AdminBrokerProcessor`).
 */
export class SubscriptionGroupProcessor {
  constructor(private readonly broker: BrokerController) {}

  updateAndCreate(req: RemotingCommand): RemotingCommand {
    if (this.broker.isSlave) return slaveRefusal(req);
    const o = jsonBodyOf(req, 'SubscriptionGroupConfig');
    if (o instanceof Refusal) return createResponse(req, ResponseCode.INVALID_PARAMETER, o.remark);
    const checked = this.check(o, 'the SubscriptionGroupConfig body');
    if ('code' in checked) return createResponse(req, checked.code, checked.remark);
    this.apply(checked);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST (225, upstream `updateAndCreateSubscriptionGroupList`),
   * body `SubscriptionGroupList {groupConfigList}`. As upstream, every group is checked before any
   * is stored, so one bad entry leaves the broker unchanged; each gets the single request's checks.
   */
  updateAndCreateList(req: RemotingCommand): RemotingCommand {
    if (this.broker.isSlave) return slaveRefusal(req);
    const o = jsonBodyOf(req, 'SubscriptionGroupList');
    if (o instanceof Refusal) return createResponse(req, ResponseCode.INVALID_PARAMETER, o.remark);
    const list = typeof o === 'object' && o !== null ? (o as Obj).groupConfigList : undefined;
    if (!Array.isArray(list) || list.length === 0) return createResponse(req, ResponseCode.INVALID_PARAMETER, 'the SubscriptionGroupList body has no groupConfigList');
    const cfgs: SubscriptionGroupConfig[] = [];
    for (const [i, e] of list.entries()) {
      const checked = this.check(e, `groupConfigList[${i}]`);
      if ('code' in checked) return createResponse(req, checked.code, checked.remark);
      if (cfgs.some((c) => c.groupName === checked.groupName)) {
        return createResponse(req, ResponseCode.INVALID_PARAMETER, `group ${checked.groupName} is listed twice in groupConfigList`);
      }
      cfgs.push(checked);
    }
    for (const cfg of cfgs) this.apply(cfg);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /** The checks of a group creation or update (upstream `updateAndCreateSubscriptionGroup`): the config to store, or the refusal. */
  private check(o: unknown, what: string): SubscriptionGroupConfig | { code: number; remark: string } {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) return { code: ResponseCode.INVALID_PARAMETER, remark: `${what} is not a JSON object` };
    const groupName = (o as Obj).groupName;
    const invalid = validateGroup(typeof groupName === 'string' ? groupName : undefined);
    if (invalid) return { code: ResponseCode.INVALID_PARAMETER, remark: invalid };
    const cfg = toSubscriptionGroupConfig(o as Obj, groupName as string);
    if (cfg.retryQueueNums < 0 || cfg.retryMaxTimes < -1) {
      return { code: ResponseCode.INVALID_PARAMETER, remark: `retryQueueNums=${cfg.retryQueueNums} / retryMaxTimes=${cfg.retryMaxTimes} out of range` };
    }
    // The body's attributes are a modification (`+key` / `-key`), as upstream's; none are defined for groups.
    const current = this.broker.subscriptionGroupManager.table.get(cfg.groupName);
    try {
      cfg.attributes = alterAttributes(current === undefined, SUBSCRIPTION_GROUP_ATTRIBUTES, current?.attributes ?? {}, new Map(Object.entries(cfg.attributes ?? {})));
    } catch (e) {
      if (!(e instanceof AttributeError)) throw e;
      return { code: ResponseCode.SYSTEM_ERROR, remark: `subscription group ${cfg.groupName} not created/updated: ${e.message}` };
    }
    return cfg;
  }

  private apply(cfg: SubscriptionGroupConfig): void {
    this.broker.subscriptionGroupManager.update(cfg);
    this.broker.logger.info(`subscription group ${cfg.groupName} created/updated: consumeEnable ${cfg.consumeEnable} retryMaxTimes ${cfg.retryMaxTimes}`);
  }

  /** SubscriptionGroupWrapper `{subscriptionGroupTable, forbiddenTable, dataVersion}`. */
  getAll(req: RemotingCommand): RemotingCommand {
    const m = this.broker.subscriptionGroupManager;
    const body = { dataVersion: m.dataVersion, forbiddenTable: m.forbiddenTableJson(), subscriptionGroupTable: Object.fromEntries(m.table) };
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(body) });
  }

  /** GET_SUBSCRIPTIONGROUP_CONFIG (352): one group's config; SUBSCRIPTION_GROUP_NOT_EXIST when absent (upstream `getSubscriptionGroup`). */
  get(req: RemotingCommand): RemotingCommand {
    const group = reqString(req.extFields, 'group');
    const cfg = this.broker.subscriptionGroupManager.findSubscriptionGroupConfig(group);
    if (!cfg) return createResponse(req, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, 'No group in this broker');
    return createResponse(req, ResponseCode.SUCCESS, undefined, { body: encodeJson(cfg) });
  }

  /** Deletes the group (SUCCESS also when it did not exist, as upstream); `cleanOffset` drops its offsets. */
  delete(req: RemotingCommand): RemotingCommand {
    if (this.broker.isSlave) return slaveRefusal(req);
    const group = reqString(req.extFields, 'groupName');
    const cleanOffset = optBoolean(req.extFields, 'cleanOffset') ?? false;
    const b = this.broker;
    const had = b.subscriptionGroupManager.delete(group);
    if (cleanOffset) b.consumerOffsetManager.removeGroup(group);
    b.brokerStatsManager.onGroupDeleted(group);
    b.logger.info(`subscription group ${group} ${had ? 'deleted' : 'did not exist'}${cleanOffset ? ', offsets removed' : ''}`);
    return createResponse(req, ResponseCode.SUCCESS);
  }

  /**
   * UPDATE_AND_GET_GROUP_FORBIDDEN (353, upstream `updateAndGetGroupForbidden`): header `group`,
   * `topic` and optional `readable`. With `readable` the group is forbidden (false) or allowed
   * (true) to pull the topic; either way the answer is a `GroupForbidden {topic, group, readable}`
   * body saying whether it may now. The group need not exist, as upstream.
   */
  updateAndGetForbidden(req: RemotingCommand): RemotingCommand {
    const { group, topic, readable } = decodeUpdateGroupForbiddenRequestHeader(req.extFields);
    const m = this.broker.subscriptionGroupManager;
    if (readable !== undefined) m.updateForbidden(group, topic, PermName.INDEX_PERM_READ, !readable);
    const body = { group, readable: !m.isForbidden(group, topic, PermName.INDEX_PERM_READ), topic };
    return createResponse(req, ResponseCode.SUCCESS, '', { body: encodeJson(body) });
  }
}
